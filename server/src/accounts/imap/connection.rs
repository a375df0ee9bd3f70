//! The I/O driver: TCP, TLS, STARTTLS, timeouts; commands in, untagged data and completion out.
//! What the commands mean lives in `folders` and `messages`.

use std::{future::Future, io, net::IpAddr, time::Duration};

use imap_codec::imap_types::{
    command::{Command, CommandBody},
    core::{IString, NString, Tag},
    response::{
        Capability, Code, Data, Greeting, GreetingKind, Status, StatusBody, StatusKind, Tagged,
    },
};
use imap_next::{
    client::{Client, Event, Options},
    stream::{self, Stream},
};
use secret::Secret;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{
    mirror::{Mirror, Validity},
    unreadable::Unreadable,
    ImapError,
};
use crate::{
    config::{MailServer, TlsMode},
    link::{self, LinkError},
    tls,
};

/// RFC 2177: servers may drop an IDLE after 30 minutes, so it is renewed before that.
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// The largest single response the relay reads. Every literal it asks for is smaller: bodies
/// are fetched in at most 4 MiB, downloads in 256 KiB chunks, headers cut at 1 MiB. A bigger
/// response is skipped (it counts as unreadable) without being held in memory.
const MAX_RESPONSE: u32 = 16 * 1024 * 1024;

/// A connection to the IMAP server. Commands run one after another; [`Self::run_pipelined`]
/// sends several at once where their answers cannot be confused.
pub struct ImapConnection {
    stream: Stream,
    client: Client,
    tag_counter: u32,
    /// How long the server may stay silent while an answer is due.
    timeout: Duration,
    capabilities: Vec<Capability<'static>>,
    /// The server takes ID (RFC 2971) before login: as its first capabilities said, kept over
    /// STARTTLS (a forged word either way only adds or drops an ID, never a secret).
    offers_id: bool,
    /// The selected folder (IMAP name) and how many messages it holds, kept current from every
    /// untagged EXISTS and EXPUNGE.
    pub(super) selected: Option<Selected>,
    /// What is known of the folders opened; it outlives a connection (see [`Self::adopt`]).
    pub(super) mirror: Mirror,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selected {
    pub name: String,
    pub exists: u32,
    /// As SELECT reported it.
    pub validity: Validity,
}

impl ImapConnection {
    /// Connects and secures the connection as `server.tls` says; after this, LOGIN is safe.
    pub async fn connect(server: &MailServer, tls: &TlsConnector) -> Result<Self, ImapError> {
        let tcp = link::connect(server).await?;

        let mut connection = match server.tls {
            TlsMode::Implicit => {
                let tls = tls::handshake(tls, &server.host, tcp)
                    .await
                    .map_err(LinkError::from)?;
                Self::new(tls_stream(tls), false, server.timeout())
            }
            TlsMode::Plain | TlsMode::Starttls => {
                Self::new(Stream::insecure(tcp), false, server.timeout())
            }
        };
        let greeting = connection.greeting().await?;
        if let Some(Code::Capability(caps)) = &greeting.code {
            connection.capabilities = caps.as_ref().to_vec();
        }
        if server.tls == TlsMode::Starttls {
            connection = connection.starttls(server, tls).await?;
        }
        connection.offers_id |= connection.has(&Capability::Id);
        Ok(connection)
    }

    fn new(stream: Stream, greeting_already_read: bool, timeout: Duration) -> Self {
        let mut options = Options::default();
        options.discard_greeting = greeting_already_read;
        // Real servers (and proxies in front of them) sometimes end lines with a bare LF.
        options.crlf_relaxed = true;
        options.max_response_size = MAX_RESPONSE;
        Self {
            stream,
            client: Client::new(options),
            tag_counter: 0,
            timeout,
            capabilities: Vec::new(),
            offers_id: false,
            selected: None,
            mirror: Mirror::default(),
        }
    }

    async fn greeting(&mut self) -> Result<Greeting<'static>, ImapError> {
        loop {
            match self.next_event().await? {
                Incoming::Event(Event::GreetingReceived { greeting }) => {
                    return match greeting.kind {
                        GreetingKind::Ok | GreetingKind::PreAuth => Ok(greeting),
                        GreetingKind::Bye => Err(ImapError::Refused(greeting.text.to_string())),
                    };
                }
                Incoming::Unreadable(response) => {
                    return Err(ImapError::Protocol(format!(
                        "not an IMAP greeting: {}",
                        response.describe()
                    )))
                }
                Incoming::Event(_) => {}
            }
        }
    }

    async fn starttls(
        mut self,
        server: &MailServer,
        tls: &TlsConnector,
    ) -> Result<Self, ImapError> {
        if self.capabilities.is_empty() {
            self.refresh_capabilities().await?;
        }
        if !self.has(&Capability::StartTls) {
            return Err(ImapError::StartTlsMissing);
        }
        let offers_id = self.has(&Capability::Id);
        self.run(CommandBody::StartTLS).await?;
        // Whatever the server sent after its OK is dropped with the plain-text stream: bytes that
        // arrive before the handshake cannot be trusted (CVE-2011-0411 style injection).
        let tcp = TcpStream::from(self.stream);
        let tls = tls::handshake(tls, &server.host, tcp)
            .await
            .map_err(LinkError::from)?;
        // Capabilities learnt in clear are forgotten too; they are asked again after login.
        let mut secured = Self::new(tls_stream(tls), true, self.timeout);
        secured.offers_id = offers_id;
        Ok(secured)
    }

    async fn refresh_capabilities(&mut self) -> Result<(), ImapError> {
        let data = self.run(CommandBody::Capability).await?;
        self.capabilities = data
            .into_iter()
            .filter_map(|d| match d {
                Data::Capability(caps) => Some(caps.into_inner()),
                _ => None,
            })
            .flatten()
            .collect();
        Ok(())
    }

    pub(super) fn has(&self, capability: &Capability<'_>) -> bool {
        self.capabilities_match(|c| c == capability)
    }

    pub(super) fn capabilities_match(&self, test: impl Fn(&Capability<'_>) -> bool) -> bool {
        self.capabilities.iter().any(test)
    }

    pub fn supports_idle(&self) -> bool {
        self.has(&Capability::Idle)
    }

    /// LOGIN; where the server takes ID, the browser's address goes ahead of it in the same
    /// round trip (`x-originating-ip`, which Dovecot honours from its `login_trusted_networks`),
    /// so that the server's own limits and logs count the person, not the relay.
    pub async fn login(
        &mut self,
        user: &str,
        password: &Secret,
        client: Option<IpAddr>,
    ) -> Result<(), ImapError> {
        // imap-codec takes a String of its own; it and imap-next's send buffer are dropped
        // unwiped once LOGIN is out (docs/security.md).
        let body = CommandBody::login(user.to_owned(), password.expose().to_owned())
            .map_err(|_| ImapError::AuthFailed)?;
        let mut bodies: Vec<CommandBody<'static>> = client
            .filter(|_| self.offers_id)
            .and_then(id_command)
            .into_iter()
            .collect();
        bodies.push(body);
        let status = match self.run_pipelined(bodies).await {
            Ok(mut answer) => answer.statuses.pop().ok_or(ImapError::AuthFailed)?,
            Err(ImapError::Unreadable(response)) => {
                return Err(ImapError::Protocol(format!(
                    "unreadable answer to LOGIN: {response}"
                )))
            }
            Err(e) => return Err(e),
        };
        match (status.kind, &status.code) {
            (StatusKind::Ok, _) => {}
            // RFC 5530: the server cannot check passwords right now (e.g. it is starting up).
            (_, Some(Code::Other(code))) if code.inner().eq_ignore_ascii_case(b"UNAVAILABLE") => {
                return Err(ImapError::Refused(status.text.to_string()))
            }
            (StatusKind::No | StatusKind::Bad, _) => return Err(ImapError::AuthFailed),
        }
        // Servers announce more after login (MOVE, SORT, IDLE, ...); the OK usually carries them.
        match status.code {
            Some(Code::Capability(caps)) => self.capabilities = caps.into_inner(),
            _ => self.refresh_capabilities().await?,
        }
        Ok(())
    }

    pub async fn logout(mut self) {
        // The server may close before it answers; either way the connection is done.
        let _ = self.run(CommandBody::Logout).await;
    }

    /// Runs a query whose answer matters (SEARCH, SORT, LIST, ...): a NO or BAD becomes an
    /// error named by its response code, and so does an answer the parser could not read, so
    /// that a gap never passes for an empty result.
    pub(super) async fn run(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Vec<Data<'static>>, ImapError> {
        let answer = self.execute(body).await?;
        if let Some(first) = answer.unreadable.first() {
            return Err(ImapError::Unreadable(first.describe()));
        }
        answer.into_data()
    }

    /// Runs a command that changes something (STORE, MOVE, SELECT, ...): what it says on the
    /// side is news about other messages, so an unreadable piece of that is logged, not fatal.
    pub(super) async fn act(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Vec<Data<'static>>, ImapError> {
        self.execute(body).await?.into_data()
    }

    /// Sends several commands at once and waits for all of them: one round trip instead of
    /// many. Only for commands whose untagged answers say what they belong to (e.g. STATUS).
    pub(super) async fn run_pipelined(
        &mut self,
        bodies: Vec<CommandBody<'static>>,
    ) -> Result<Pipelined, ImapError> {
        match self.pipelined(bodies).await? {
            (_, Some(response)) => Err(ImapError::Unreadable(response.describe())),
            (answer, None) => Ok(answer),
        }
    }

    /// [`Self::run_pipelined`] for commands that change something: as for [`Self::act`], an
    /// unreadable response on the side is logged, not fatal (an unreadable completion counts
    /// as a NO of its command).
    pub(super) async fn act_pipelined(
        &mut self,
        bodies: Vec<CommandBody<'static>>,
    ) -> Result<Pipelined, ImapError> {
        let (answer, unreadable) = self.pipelined(bodies).await?;
        if let Some(response) = unreadable {
            tracing::info!(response = %response.describe(), "unreadable IMAP response skipped");
        }
        Ok(answer)
    }

    /// The answers to `bodies`, sent at once, and the first response that could not be read.
    async fn pipelined(
        &mut self,
        bodies: Vec<CommandBody<'static>>,
    ) -> Result<(Pipelined, Option<Unreadable>), ImapError> {
        let tags: Vec<Tag<'static>> = bodies.into_iter().map(|body| self.enqueue(body)).collect();
        let mut data = Vec::new();
        let mut codes = Vec::new();
        let mut statuses: Vec<Option<StatusBody<'static>>> = vec![None; tags.len()];
        let mut unreadable = None;
        while statuses.iter().any(Option::is_none) {
            match self.next_event().await? {
                Incoming::Event(Event::DataReceived { data: d }) => self.collect(d, &mut data),
                Incoming::Event(Event::StatusReceived {
                    status:
                        Status::Untagged(StatusBody {
                            code: Some(code), ..
                        }),
                }) => codes.push(code),
                Incoming::Event(Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag, body }),
                }) => {
                    if let Some(i) = tags.iter().position(|t| *t == tag) {
                        statuses[i] = Some(body);
                    }
                }
                Incoming::Event(Event::StatusReceived {
                    status: Status::Bye(_),
                }) => return Err(ImapError::Link(LinkError::Closed)),
                Incoming::Event(Event::CommandRejected { status, .. }) => {
                    return Err(rejected(status))
                }
                // Read on to the last completion, so that the connection stays in step.
                Incoming::Unreadable(response) => {
                    if let Some(i) = tags.iter().position(|t| response.completes(t.inner())) {
                        statuses[i] = Some(unreadable_status());
                    }
                    unreadable.get_or_insert(response);
                }
                Incoming::Event(_) => {}
            }
        }
        let answer = Pipelined {
            data,
            codes,
            statuses: statuses.into_iter().flatten().collect(),
        };
        Ok((answer, unreadable))
    }

    /// Sends one command and collects the untagged data until its tagged completion, and the
    /// responses that could not be read on the way.
    pub(super) async fn execute(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Answer, ImapError> {
        let tag = self.enqueue(body);
        let mut data = Vec::new();
        let mut codes = Vec::new();
        let mut unreadable = Vec::new();
        loop {
            match self.next_event().await? {
                Incoming::Event(Event::DataReceived { data: d }) => self.collect(d, &mut data),
                Incoming::Event(Event::StatusReceived {
                    status:
                        Status::Untagged(StatusBody {
                            code: Some(code), ..
                        }),
                }) => codes.push(code),
                Incoming::Event(Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag: got, body }),
                }) if got == tag => {
                    return Ok(Answer {
                        data,
                        codes,
                        status: body,
                        unreadable,
                    })
                }
                Incoming::Event(Event::StatusReceived {
                    status: Status::Bye(_),
                }) => return Err(ImapError::Link(LinkError::Closed)),
                Incoming::Event(Event::CommandRejected { status, .. }) => {
                    return Err(rejected(status))
                }
                // The command's own completion: whether it worked is unknown, and the client
                // state machine may still wait for it (a literal not yet sent): start afresh.
                Incoming::Unreadable(response) if response.completes(tag.inner()) => {
                    return Err(ImapError::Protocol(format!(
                        "unreadable completion: {}",
                        response.describe()
                    )))
                }
                Incoming::Unreadable(response) => {
                    tracing::info!(response = %response.describe(), "unreadable IMAP response skipped");
                    unreadable.push(response);
                }
                Incoming::Event(_) => {}
            }
        }
    }

    /// Waits in IDLE until the server reports a change (returned), `stop` completes (returns what
    /// arrived so far, usually nothing), or it is time to renew the IDLE.
    ///
    /// After `stop` it returns as soon as DONE is written, without waiting for IDLE's
    /// completion: the next command goes out right behind DONE, one round trip sooner, and the
    /// completion arrives among that command's answers (a tag it does not wait for).
    pub async fn idle(
        &mut self,
        stop: impl Future<Output = ()>,
    ) -> Result<Vec<Data<'static>>, ImapError> {
        let tag = self.enqueue(CommandBody::Idle);
        tokio::pin!(stop);
        let renew = tokio::time::sleep(IDLE_RENEW);
        tokio::pin!(renew);
        let mut data = Vec::new();
        let mut accepted = false;
        let mut done_wanted = false;
        let mut done_sent = false;
        let mut leave_at_done = false;
        loop {
            if accepted && done_wanted && !done_sent {
                done_sent = self.client.set_idle_done().is_some();
            }
            let step = tokio::select! {
                event = self.stream.next(&mut self.client) => match received(event)? {
                    Incoming::Event(event) => Some(event),
                    // IDLE's own completion, unreadable: IDLE is over all the same.
                    Incoming::Unreadable(response) if response.completes(tag.inner()) => {
                        return Ok(data);
                    }
                    // Something happened that cannot be read: worth a look, like any news.
                    Incoming::Unreadable(response) => {
                        tracing::info!(response = %response.describe(), "unreadable IMAP response during IDLE");
                        done_wanted = true;
                        continue;
                    }
                },
                () = &mut stop, if !done_wanted => {
                    leave_at_done = true;
                    None
                }
                () = &mut renew, if !done_wanted => None,
                // Once the relay wants out of IDLE (before DONE, while waiting for the server
                // to accept the IDLE; after it, for the completion) the server must answer
                // promptly: a silent one counts as gone.
                () = tokio::time::sleep(self.timeout), if done_wanted => return Err(ImapError::Link(LinkError::Timeout)),
            };
            match step {
                None => done_wanted = true,
                Some(Event::IdleAccepted { .. }) => accepted = true,
                Some(Event::IdleDoneSent { .. }) if leave_at_done => return Ok(data),
                Some(Event::IdleRejected { status, .. }) => {
                    return Err(ImapError::from_status(&status_body(status)))
                }
                Some(Event::DataReceived { data: d }) => {
                    self.collect(d, &mut data);
                    done_wanted = true;
                }
                Some(Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag: got, body }),
                }) if got == tag => {
                    return match body.kind {
                        StatusKind::Ok => Ok(data),
                        _ => Err(ImapError::from_status(&body)),
                    };
                }
                Some(Event::StatusReceived {
                    status: Status::Bye(_),
                }) => return Err(ImapError::Link(LinkError::Closed)),
                Some(_) => {}
            }
        }
    }

    fn enqueue(&mut self, body: CommandBody<'static>) -> Tag<'static> {
        self.tag_counter += 1;
        let tag = Tag::try_from(format!("W{}", self.tag_counter)).expect("tags are atoms");
        self.client.enqueue_command(Command {
            tag: tag.clone(),
            body,
        });
        tag
    }

    /// Keeps the selected folder's count current, and marks its mirror entry for a sync when
    /// the server reports news (messages that came or went; flags changed by someone else,
    /// which arrive as a FETCH without the UID every FETCH of the relay's asks for).
    fn collect(&mut self, data: Data<'static>, into: &mut Vec<Data<'static>>) {
        if let Some(selected) = &mut self.selected {
            let news = match &data {
                Data::Exists(n) => {
                    let news = *n != selected.exists;
                    selected.exists = *n;
                    news
                }
                Data::Expunge(_) => {
                    selected.exists = selected.exists.saturating_sub(1);
                    true
                }
                Data::Fetch { items, .. } => !items
                    .as_ref()
                    .iter()
                    .any(|i| matches!(i, imap_codec::imap_types::fetch::MessageDataItem::Uid(_))),
                _ => false,
            };
            if news {
                self.mirror.mark_stale(&selected.name);
            }
        }
        into.push(data);
    }

    async fn next_event(&mut self) -> Result<Incoming, ImapError> {
        let event = tokio::time::timeout(self.timeout, self.stream.next(&mut self.client))
            .await
            .map_err(|_| ImapError::Link(LinkError::Timeout))?;
        received(event)
    }
}

/// imap-next hands a whole command (an APPEND's literal too) to rustls at once, with
/// `write_all`: past rustls's default 64 KiB of unsent plaintext that fails ("failed to write
/// whole buffer"). What is queued is bounded by the relay's own limits (an APPEND carries at
/// most one message), so the buffer may grow to hold it.
fn tls_stream(mut tls: tokio_rustls::client::TlsStream<TcpStream>) -> Stream {
    tls.get_mut().1.set_buffer_limit(None);
    Stream::tls(tls.into())
}

/// `ID ("x-originating-ip" "<client>")`.
fn id_command(client: IpAddr) -> Option<CommandBody<'static>> {
    let text = |s: String| IString::try_from(s).ok();
    Some(CommandBody::Id {
        parameters: Some(vec![(
            text("x-originating-ip".to_owned())?,
            NString(Some(text(client.to_string())?)),
        )]),
    })
}

/// What one command brought back.
pub(super) struct Answer {
    pub data: Vec<Data<'static>>,
    /// Response codes of untagged OKs on the way (SELECT's UIDNEXT, HIGHESTMODSEQ, ...).
    pub codes: Vec<Code<'static>>,
    pub status: StatusBody<'static>,
    /// Responses that arrived while it ran and could not be read.
    pub unreadable: Vec<Unreadable>,
}

impl Answer {
    /// The data, if the command succeeded; a NO or BAD becomes an error named by its code.
    pub fn into_data(self) -> Result<Vec<Data<'static>>, ImapError> {
        match self.status.kind {
            StatusKind::Ok => Ok(self.data),
            StatusKind::No | StatusKind::Bad => Err(ImapError::from_status(&self.status)),
        }
    }
}

/// What several commands sent at once brought back.
pub(super) struct Pipelined {
    pub data: Vec<Data<'static>>,
    pub codes: Vec<Code<'static>>,
    /// The completions, in the order the commands were given.
    pub statuses: Vec<StatusBody<'static>>,
}

/// One step from the server: an event, or a complete response that could not be parsed. The
/// parser has skipped such a response whole, so the connection can go on.
// Events pass straight through, one per response; boxing them would allocate for each.
#[allow(clippy::large_enum_variant)]
enum Incoming {
    Event(Event),
    Unreadable(Unreadable),
}

fn received(
    event: Result<Event, stream::Error<imap_next::client::Error>>,
) -> Result<Incoming, ImapError> {
    use imap_next::client::Error as ClientError;
    match event {
        Ok(event) => Ok(Incoming::Event(event)),
        Err(stream::Error::State(
            ClientError::MalformedMessage { discarded_bytes }
            | ClientError::ResponseTooLong { discarded_bytes },
        )) => Ok(Incoming::Unreadable(Unreadable::new(
            discarded_bytes.declassify(),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Stands in for a completion that was there but could not be read.
fn unreadable_status() -> StatusBody<'static> {
    StatusBody {
        kind: StatusKind::No,
        code: None,
        text: imap_codec::imap_types::core::Text::try_from("unreadable").expect("valid text"),
    }
}

fn status_body(status: Status<'static>) -> StatusBody<'static> {
    match status {
        Status::Tagged(Tagged { body, .. }) | Status::Untagged(body) => body,
        Status::Bye(bye) => StatusBody {
            kind: StatusKind::No,
            code: bye.code,
            text: bye.text,
        },
    }
}

fn rejected(status: Status<'static>) -> ImapError {
    ImapError::from_status(&status_body(status))
}

impl From<stream::Error<imap_next::client::Error>> for ImapError {
    fn from(error: stream::Error<imap_next::client::Error>) -> Self {
        match error {
            stream::Error::Closed => LinkError::Closed.into(),
            stream::Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                LinkError::Closed.into()
            }
            stream::Error::Io(e) => LinkError::Unreachable(e).into(),
            stream::Error::Tls(e) => Self::Protocol(format!("TLS: {e}")),
            stream::Error::State(e) => Self::Protocol(e.to_string()),
        }
    }
}
