//! The relay as a POP3 client: the I/O driver around the `pop3` crate's state machine, and the
//! collection that moves mail from the server into the relay's store without ever losing or
//! duplicating a message.
//!
//! The order is what makes it safe: RETR, store durably (file fsynced, row and UIDL committed),
//! only then DELE; QUIT commits the deletes. A cut anywhere leaves either the message on the
//! server (collected again later: its UIDL is known, so it is not stored twice, only deleted) or
//! in the store (never downloaded twice).

use std::{collections::HashMap, io, net::IpAddr, sync::Arc, time::Duration};

use pop3::{Capabilities, Client, Command, Event, Reply, RespCode, ScanListing};
use protocol::{ErrorCode, TooBig};
use secret::Secret;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;

use crate::{
    config::{MailServer, TlsMode},
    link::{self, LinkError},
    store::{Incoming, Store, StoreError},
    tls,
};

/// RETRs in flight at once where the server allows pipelining.
const WINDOW: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum Pop3Error {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the mail server does not offer STLS; refusing to continue without encryption")]
    StlsMissing,
    #[error("wrong e-mail or password")]
    AuthFailed,
    #[error("the mailbox is in use by another program; trying again later")]
    InUse,
    #[error("the mail server allows no new login yet; trying again later")]
    LoginDelay,
    #[error("the mail server has a temporary problem: {0}")]
    Temporary(String),
    #[error("the mail server refused: {0}")]
    Refused(String),
    #[error("the mail server sent something unreadable: {0}")]
    Protocol(String),
    #[error("your mailbox on this webmail is full ({quota} bytes): delete some mail; new mail waits on the mail server")]
    OverQuota { quota: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Pop3Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Link(link) => link.code(),
            Self::StlsMissing | Self::Protocol(_) => ErrorCode::ServerProtocol,
            Self::AuthFailed => ErrorCode::AuthFailed,
            Self::InUse | Self::LoginDelay | Self::Temporary(_) => ErrorCode::TryLater,
            Self::Refused(_) => ErrorCode::ServerRefused,
            Self::OverQuota { .. } => ErrorCode::OverQuota,
            Self::Store(_) => ErrorCode::Internal,
        }
    }
}

impl From<pop3::Error> for Pop3Error {
    fn from(error: pop3::Error) -> Self {
        match error {
            pop3::Error::Rejected(text) => Self::Temporary(text),
            other => Self::Protocol(other.to_string()),
        }
    }
}

/// What logging in to the POP3 server takes; the password is wiped when the session ends.
pub struct Pop3Login {
    pub server: MailServer,
    pub tls: TlsConnector,
    pub user: String,
    pub password: Secret,
    /// The browser's address at login, told to the mail server on every login (XCLIENT).
    pub client: Option<IpAddr>,
}

/// What a collection takes and what it leaves on the server.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub keep: Keep,
    /// Messages larger than this (by the server's LIST) stay on the server, and the user is
    /// told which.
    pub max_message: u64,
    /// Bytes of mail the user may have in the store; new mail past it stays on the server.
    pub quota: Option<u64>,
}

/// Whether collected mail leaves the server.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// Delete each message once it is stored.
    Nothing,
    /// Leave messages on the server this many days after collecting them.
    Days(u32),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A POP3 connection: bytes between a stream and the state machine. Plain TCP (`Wire<TcpStream>`)
/// until STLS, then whatever it became (`Connection`).
struct Wire<S> {
    io: S,
    /// How long the server may stay silent while a reply is due.
    timeout: Duration,
    client: Client,
    buffer: Vec<u8>,
}

type Connection = Wire<Box<dyn Io>>;

impl Connection {
    async fn open(login: &Pop3Login) -> Result<(Self, Capabilities), Pop3Error> {
        let server = &login.server;
        let tcp = link::connect(server).await?;
        let mut connection = match server.tls {
            TlsMode::Implicit => Wire::new(
                Box::new(
                    tls::handshake(&login.tls, &server.host, tcp)
                        .await
                        .map_err(LinkError::from)?,
                ) as Box<dyn Io>,
                server.timeout(),
            ),
            TlsMode::Plain => Wire::new(Box::new(tcp) as Box<dyn Io>, server.timeout()),
            TlsMode::Starttls => {
                let mut plain = Wire::new(tcp, server.timeout());
                plain.event().await?; // the greeting
                if !plain.capabilities().await?.stls {
                    return Err(Pop3Error::StlsMissing);
                }
                if let Reply::Err { text, .. } = plain.call(Command::Stls).await? {
                    return Err(Pop3Error::Refused(text));
                }
                let Wire {
                    io,
                    timeout,
                    mut client,
                    buffer,
                } = plain;
                let tls = tls::handshake(&login.tls, &server.host, io)
                    .await
                    .map_err(LinkError::from)?;
                client.tls_started();
                let connection = Wire {
                    io: Box::new(tls) as Box<dyn Io>,
                    timeout,
                    client,
                    buffer,
                };
                return connection.with_capabilities().await;
            }
        };
        connection.event().await?; // the greeting
        connection.with_capabilities().await
    }

    async fn with_capabilities(mut self) -> Result<(Self, Capabilities), Pop3Error> {
        let capabilities = self.capabilities().await?;
        Ok((self, capabilities))
    }

    async fn login(
        &mut self,
        login: &Pop3Login,
        capabilities: &Capabilities,
    ) -> Result<(), Pop3Error> {
        // Where the server trusts the relay to say whose connection this is, it is told, so
        // that its own limits and logs count the person and not the relay. A refusal changes
        // nothing: the login goes on as the relay's.
        if let Some(addr) = login.client.filter(|_| self.client.offers_xclient()) {
            if let Reply::Err { text, .. } = self.call(Command::Xclient { addr }).await? {
                tracing::info!(%text, "POP3 server refused XCLIENT");
            }
        }
        let replies = if capabilities.user || !capabilities.sasl.iter().any(|m| m == "PLAIN") {
            vec![
                self.call(Command::User(login.user.clone())).await?,
                self.call(Command::Pass(login.password.clone())).await?,
            ]
        } else {
            use base64::Engine;
            let token = Secret::concat(&["\0", &login.user, "\0", login.password.expose()]);
            let initial_response = Secret::new(
                base64::engine::general_purpose::STANDARD.encode(token.expose().as_bytes()),
            );
            vec![self.call(Command::AuthPlain { initial_response }).await?]
        };
        for reply in replies {
            if let Reply::Err { code, text } = reply {
                return Err(match code {
                    Some(RespCode::InUse) => Pop3Error::InUse,
                    Some(RespCode::LoginDelay) => Pop3Error::LoginDelay,
                    Some(RespCode::SysTemp) => Pop3Error::Temporary(text),
                    _ => Pop3Error::AuthFailed,
                });
            }
        }
        Ok(())
    }

    async fn quit(mut self) -> Result<(), Pop3Error> {
        match self.call(Command::Quit).await? {
            Reply::Ok { .. } => Ok(()),
            Reply::Err { text, .. } => Err(Pop3Error::Refused(text)),
        }
    }
}

impl<S: Io> Wire<S> {
    fn new(io: S, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            client: Client::new(),
            buffer: vec![0; 64 * 1024],
        }
    }

    /// CAPA; a server without it (RFC 1939 only) just has no capabilities.
    async fn capabilities(&mut self) -> Result<Capabilities, Pop3Error> {
        Ok(self.call(Command::Capa).await?.capabilities())
    }

    /// Sends one command and waits for its reply.
    async fn call(&mut self, command: Command) -> Result<Reply, Pop3Error> {
        self.send(command)?;
        self.flush().await?;
        self.reply().await
    }

    fn send(&mut self, command: Command) -> Result<(), Pop3Error> {
        self.client.send(command).map_err(Pop3Error::from)
    }

    async fn flush(&mut self) -> Result<(), Pop3Error> {
        let bytes = self.client.take_output();
        if !bytes.is_empty() {
            self.io.write_all(&bytes).await.map_err(unreachable)?;
            self.io.flush().await.map_err(unreachable)?;
        }
        Ok(())
    }

    /// TOP n 0: the header block of `message`, piece by piece into `sink`; then its reply.
    async fn top(&mut self, message: u32, mut sink: impl FnMut(&[u8])) -> Result<Reply, Pop3Error> {
        self.send(Command::Top { message, lines: 0 })?;
        self.flush().await?;
        loop {
            match self.event().await? {
                Event::MessageData { data, .. } => sink(&data),
                Event::Reply { reply, .. } => return Ok(reply),
                Event::Greeting { .. } => {
                    return Err(Pop3Error::Protocol("a second greeting".into()))
                }
            }
        }
    }

    /// The next reply; only for commands that carry no message.
    async fn reply(&mut self) -> Result<Reply, Pop3Error> {
        match self.event().await? {
            Event::Reply { reply, .. } => Ok(reply),
            Event::MessageData { .. } => Err(Pop3Error::Protocol("an unasked message".into())),
            Event::Greeting { .. } => Err(Pop3Error::Protocol("a second greeting".into())),
        }
    }

    async fn event(&mut self) -> Result<Event, Pop3Error> {
        loop {
            if let Some(event) = self.client.next_event()? {
                return Ok(event);
            }
            let n = tokio::time::timeout(self.timeout, self.io.read(&mut self.buffer))
                .await
                .map_err(|_| Pop3Error::Link(LinkError::Timeout))?
                .map_err(unreachable)?;
            if n == 0 {
                return Err(Pop3Error::Link(LinkError::Closed));
            }
            self.client.feed(&self.buffer[..n]);
        }
    }
}

/// Logs in and out: checks the credentials (and the server) before a session starts.
pub async fn check_login(login: &Pop3Login) -> Result<(), Pop3Error> {
    let (mut connection, capabilities) = Connection::open(login).await?;
    connection.login(login, &capabilities).await?;
    connection.quit().await
}

/// How far a collection got (also when it broke off).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collected {
    pub stored: u32,
    pub deleted: u32,
    /// Left on the server for their size.
    pub too_big: Vec<TooBig>,
}

/// Moves new mail from the server into `store`, reporting `(done, total)` as it goes. Returns
/// how far it got, and why it stopped if it did not finish.
pub async fn collect(
    login: &Pop3Login,
    store: Arc<Store>,
    policy: Policy,
    progress: impl Fn(u32, u32),
) -> (Collected, Option<Pop3Error>) {
    let mut result = Collected::default();
    let error = collect_into(login, store, policy, progress, &mut result)
        .await
        .err();
    (result, error)
}

async fn collect_into(
    login: &Pop3Login,
    store: Arc<Store>,
    policy: Policy,
    progress: impl Fn(u32, u32),
    result: &mut Collected,
) -> Result<(), Pop3Error> {
    let (mut connection, capabilities) = Connection::open(login).await?;
    connection.login(login, &capabilities).await?;
    let listing = connection.call(Command::List(None)).await?.scan_listings();
    let on_server = unique_ids(&mut connection, &capabilities, &listing).await?;
    let sizes: HashMap<u32, u64> = listing.iter().map(|l| (l.message, l.size)).collect();
    let user = login.user.clone();
    let known: HashMap<String, i64> = blocking(&store, move |s| s.collected(&user))
        .await?
        .into_iter()
        .collect();
    let now = now();
    let mut to_fetch = Vec::new();
    let mut to_delete = Vec::new();
    let mut too_big = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (message, uid) in &on_server {
        // Two messages with one id (a server breaking UIDL's promise, or identical headers
        // without UIDL) cannot both be told apart from the store: the later ones stay on the
        // server untouched rather than be deleted as "already stored".
        if !seen.insert(uid) {
            tracing::info!(user = %login.user, %uid, "two messages share a unique id; leaving the later one");
            continue;
        }
        match known.get(uid) {
            None if sizes
                .get(message)
                .is_some_and(|size| *size > policy.max_message) =>
            {
                too_big.push(*message)
            }
            None => to_fetch.push((*message, uid.clone())),
            // Stored before (maybe a cut stopped the DELE): only the deletion is left to do.
            Some(collected_at) if deletable(policy.keep, *collected_at, now) => {
                to_delete.push(*message)
            }
            Some(_) => {}
        }
    }
    for message in too_big {
        let size = sizes.get(&message).copied().unwrap_or_default();
        result
            .too_big
            .push(describe(&mut connection, message, size).await?);
    }
    let over_quota = match policy.quota {
        Some(quota) => {
            let user = login.user.clone();
            let used = blocking(&store, move |s| s.bytes_used(&user)).await?;
            within_quota(&mut to_fetch, &sizes, quota.saturating_sub(used))
        }
        None => false,
    };
    let total = to_fetch.len() as u32;
    progress(0, total);

    let window = if capabilities.pipelining { WINDOW } else { 1 };
    let mut waiting = 0usize;
    let mut retrieving = 0usize;
    let mut next = to_fetch.iter();
    let mut uid_of: HashMap<u32, String> = to_fetch.iter().cloned().collect();
    // The message arriving now, written to its file piece by piece.
    let mut arriving: Option<(u32, Incoming)> = None;
    // Retrieved, not yet stored: stored together (one commit), then deleted together.
    let mut batch: Vec<(u32, String, Incoming)> = Vec::new();
    for message in to_delete {
        connection.send(Command::Dele(message))?;
        waiting += 1;
    }
    loop {
        while retrieving < window {
            let Some((message, _)) = next.next() else {
                break;
            };
            connection.send(Command::Retr(*message))?;
            retrieving += 1;
            waiting += 1;
        }
        if waiting == 0 && batch.is_empty() {
            break;
        }
        if waiting > 0 {
            connection.flush().await?;
            match connection.event().await? {
                Event::MessageData {
                    command: Command::Retr(message),
                    data,
                } => {
                    let file = match &mut arriving {
                        Some((number, file)) if *number == message => file,
                        _ => &mut arriving.insert((message, store.incoming(&login.user)?)).1,
                    };
                    file.write(&data).map_err(StoreError::from)?;
                    // LIST said it was small enough; a server that sends far more is not
                    // believed to the end of the disk. Nothing of it is kept or deleted.
                    if file.size() > policy.max_message.saturating_add(policy.max_message / 10) {
                        return Err(Pop3Error::Protocol(format!(
                            "message {message} is larger than the server announced"
                        )));
                    }
                }
                Event::Reply { command, reply } => {
                    waiting -= 1;
                    match (command, reply) {
                        (Command::Retr(message), Reply::Ok { .. }) => {
                            retrieving -= 1;
                            let file = match arriving.take() {
                                Some((number, file)) if number == message => file,
                                // An empty message sends no data.
                                _ => store.incoming(&login.user)?,
                            };
                            let uid = uid_of.remove(&message).unwrap_or_default();
                            batch.push((message, uid, file));
                        }
                        (Command::Dele(_), Reply::Ok { .. }) => result.deleted += 1,
                        // A message that vanished meanwhile (another client) is simply not
                        // there any more.
                        (command, Reply::Err { text, .. }) => {
                            if let Command::Retr(_) = command {
                                retrieving -= 1;
                                arriving = None;
                            }
                            tracing::info!(user = %login.user, %text, "POP3 command refused");
                        }
                        _ => {}
                    }
                }
                Event::MessageData { .. } | Event::Greeting { .. } => {
                    return Err(Pop3Error::Protocol("an unexpected answer".into()))
                }
            }
        }
        if !batch.is_empty() && (batch.len() >= window || retrieving == 0) {
            let numbers: Vec<u32> = batch.iter().map(|(n, _, _)| *n).collect();
            let messages: Vec<(String, Incoming)> =
                batch.drain(..).map(|(_, uid, file)| (uid, file)).collect();
            let user = login.user.clone();
            // Durable before anything else happens to them on the server.
            result.stored +=
                blocking(&store, move |s| s.store_collected(&user, messages, now)).await?;
            progress(result.stored, total);
            if matches!(policy.keep, Keep::Nothing) {
                for message in numbers {
                    connection.send(Command::Dele(message))?;
                    waiting += 1;
                }
            }
        }
    }
    // The deletions take effect now, with QUIT.
    connection.quit().await?;
    match policy.quota {
        Some(quota) if over_quota => Err(Pop3Error::OverQuota { quota }),
        _ => Ok(()),
    }
}

/// Keeps the messages to fetch, oldest first, while their sizes (as LIST says) fit in `room`;
/// true if any had to wait. Those stay on the server untouched until there is room.
fn within_quota(to_fetch: &mut Vec<(u32, String)>, sizes: &HashMap<u32, u64>, room: u64) -> bool {
    let mut left = room;
    let fitting = to_fetch
        .iter()
        .take_while(|(message, _)| {
            let size = sizes.get(message).copied().unwrap_or_default();
            left.checked_sub(size).map(|rest| left = rest).is_some()
        })
        .count();
    let over = fitting < to_fetch.len();
    to_fetch.truncate(fitting);
    over
}

/// Who sent a message that stays on the server, and what about, from its header (TOP n 0).
async fn describe(
    connection: &mut Connection,
    message: u32,
    size: u64,
) -> Result<TooBig, Pop3Error> {
    let mut scan = mime::MessageScan::new();
    // A refused TOP leaves the description empty; the size still says why.
    connection.top(message, |data| scan.feed(data)).await?;
    let summary = scan.finish().headers.summary;
    Ok(TooBig {
        from: summary.from,
        subject: summary.subject,
        size,
    })
}

/// `(message number, unique id)` of every message on the server: by UIDL, or where the server
/// has none, by a hash of each message's header block (TOP n 0).
async fn unique_ids(
    connection: &mut Connection,
    capabilities: &Capabilities,
    listing: &[ScanListing],
) -> Result<Vec<(u32, String)>, Pop3Error> {
    let uidl = connection.call(Command::Uidl(None)).await?;
    if uidl.is_ok() {
        return Ok(uidl
            .unique_ids()
            .into_iter()
            .map(|u| (u.message, u.uid))
            .collect());
    }
    tracing::info!(
        top = capabilities.top,
        "no UIDL: identifying messages by their headers"
    );
    let mut ids = Vec::with_capacity(listing.len());
    for entry in listing {
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        // The size too: headers alone may repeat.
        digest.update(&entry.size.to_be_bytes());
        if let Reply::Err { text, .. } = connection
            .top(entry.message, |data| digest.update(data))
            .await?
        {
            return Err(Pop3Error::Refused(format!("TOP: {text}")));
        }
        let hex: String = digest
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        ids.push((entry.message, format!("sha256:{hex}")));
    }
    Ok(ids)
}

/// An I/O failure on the way to the server.
fn unreachable(error: io::Error) -> Pop3Error {
    LinkError::Unreachable(error).into()
}

fn deletable(keep: Keep, collected_at: i64, now: i64) -> bool {
    match keep {
        Keep::Nothing => true,
        Keep::Days(days) => now - collected_at >= i64::from(days) * 86_400,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Runs a store operation (SQLite, fsync) off the async threads.
pub async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| StoreError::Io(io::Error::other(e.to_string())))?
}
