//! The I/O driver: TCP, TLS, STARTTLS, timeouts; commands in, untagged data and completion out.
//! What the commands mean lives in `folders` and `messages`.

use std::{future::Future, io, time::Duration};

use imap_codec::imap_types::{
    command::{Command, CommandBody},
    core::Tag,
    response::{
        Capability, Code, Data, Greeting, GreetingKind, Status, StatusBody, StatusKind, Tagged,
    },
};
use imap_next::{
    client::{Client, Event, Options},
    stream::{self, Stream},
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::ImapError;
use crate::{
    config::{MailServer, TlsMode},
    link::{self, LinkError},
    tls,
};

/// How long one command may take before the server counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// RFC 2177: servers may drop an IDLE after 30 minutes, so it is renewed before that.
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// A connection to the IMAP server. Commands run one after another; [`Self::run_pipelined`]
/// sends several at once where their answers cannot be confused.
pub struct ImapConnection {
    stream: Stream,
    client: Client,
    tag_counter: u32,
    capabilities: Vec<Capability<'static>>,
    /// The selected folder (IMAP name) and how many messages it holds, kept current from every
    /// untagged EXISTS and EXPUNGE.
    pub(super) selected: Option<Selected>,
    /// The selected folder's UIDs in SORT order, newest first, until the folder changes.
    pub(super) sorted: Option<Vec<std::num::NonZeroU32>>,
    /// The selected folder's conversation sizes by UID (THREAD), until the folder changes.
    pub(super) threads: Option<std::collections::HashMap<u32, u32>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selected {
    pub name: String,
    pub exists: u32,
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
                Self::new(Stream::tls(tls.into()), false)
            }
            TlsMode::Plain | TlsMode::Starttls => Self::new(Stream::insecure(tcp), false),
        };
        let greeting = connection.greeting().await?;
        if let Some(Code::Capability(caps)) = &greeting.code {
            connection.capabilities = caps.as_ref().to_vec();
        }
        if server.tls == TlsMode::Starttls {
            connection = connection.starttls(server, tls).await?;
        }
        Ok(connection)
    }

    fn new(stream: Stream, greeting_already_read: bool) -> Self {
        let mut options = Options::default();
        options.discard_greeting = greeting_already_read;
        // Real servers (and proxies in front of them) sometimes end lines with a bare LF.
        options.crlf_relaxed = true;
        Self {
            stream,
            client: Client::new(options),
            tag_counter: 0,
            capabilities: Vec::new(),
            selected: None,
            sorted: None,
            threads: None,
        }
    }

    async fn greeting(&mut self) -> Result<Greeting<'static>, ImapError> {
        loop {
            if let Event::GreetingReceived { greeting } = self.next_event().await? {
                return match greeting.kind {
                    GreetingKind::Ok | GreetingKind::PreAuth => Ok(greeting),
                    GreetingKind::Bye => Err(ImapError::Refused(greeting.text.to_string())),
                };
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
        self.run(CommandBody::StartTLS).await?;
        // Whatever the server sent after its OK is dropped with the plain-text stream: bytes that
        // arrive before the handshake cannot be trusted (CVE-2011-0411 style injection).
        let tcp = TcpStream::from(self.stream);
        let tls = tls::handshake(tls, &server.host, tcp)
            .await
            .map_err(LinkError::from)?;
        // Capabilities learnt in clear are forgotten too; they are asked again after login.
        Ok(Self::new(Stream::tls(tls.into()), true))
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

    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), ImapError> {
        let body = CommandBody::login(user.to_owned(), password.to_owned())
            .map_err(|_| ImapError::AuthFailed)?;
        let (_, status) = self.execute(body).await?;
        match status.kind {
            StatusKind::Ok => {}
            StatusKind::No | StatusKind::Bad => return Err(ImapError::AuthFailed),
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

    /// Runs a command that must succeed; a NO or BAD becomes an error named by its response code.
    pub(super) async fn run(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Vec<Data<'static>>, ImapError> {
        let (data, status) = self.execute(body).await?;
        match status.kind {
            StatusKind::Ok => Ok(data),
            StatusKind::No | StatusKind::Bad => Err(ImapError::from_status(&status)),
        }
    }

    /// Sends several commands at once and waits for all of them: one round trip instead of
    /// many. Only for commands whose untagged answers say what they belong to (e.g. STATUS).
    pub(super) async fn run_pipelined(
        &mut self,
        bodies: Vec<CommandBody<'static>>,
    ) -> Result<(Vec<Data<'static>>, Vec<StatusBody<'static>>), ImapError> {
        let tags: Vec<Tag<'static>> = bodies.into_iter().map(|body| self.enqueue(body)).collect();
        let mut data = Vec::new();
        let mut statuses: Vec<Option<StatusBody<'static>>> = vec![None; tags.len()];
        while statuses.iter().any(Option::is_none) {
            match self.next_event().await? {
                Event::DataReceived { data: d } => self.collect(d, &mut data),
                Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag, body }),
                } => {
                    if let Some(i) = tags.iter().position(|t| *t == tag) {
                        statuses[i] = Some(body);
                    }
                }
                Event::StatusReceived {
                    status: Status::Bye(_),
                } => return Err(ImapError::Link(LinkError::Closed)),
                Event::CommandRejected { status, .. } => return Err(rejected(status)),
                _ => {}
            }
        }
        Ok((data, statuses.into_iter().flatten().collect()))
    }

    /// Sends one command and collects the untagged data until its tagged completion.
    pub(super) async fn execute(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<(Vec<Data<'static>>, StatusBody<'static>), ImapError> {
        let tag = self.enqueue(body);
        let mut data = Vec::new();
        loop {
            match self.next_event().await? {
                Event::DataReceived { data: d } => self.collect(d, &mut data),
                Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag: got, body }),
                } if got == tag => return Ok((data, body)),
                Event::StatusReceived {
                    status: Status::Bye(_),
                } => return Err(ImapError::Link(LinkError::Closed)),
                Event::CommandRejected { status, .. } => return Err(rejected(status)),
                _ => {}
            }
        }
    }

    /// Waits in IDLE until the server reports a change (returned), `stop` completes (returns what
    /// arrived so far, usually nothing), or it is time to renew the IDLE.
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
        loop {
            if accepted && done_wanted && !done_sent {
                done_sent = self.client.set_idle_done().is_some();
            }
            let step = tokio::select! {
                event = self.stream.next(&mut self.client) => Some(event?),
                () = &mut stop, if !done_wanted => None,
                () = &mut renew, if !done_wanted => None,
                // After DONE the server must answer promptly; a silent one counts as gone.
                () = tokio::time::sleep(COMMAND_TIMEOUT), if done_sent => return Err(ImapError::Link(LinkError::Timeout)),
            };
            match step {
                None => done_wanted = true,
                Some(Event::IdleAccepted { .. }) => accepted = true,
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

    /// Keeps the selected folder's count (and sort order) current, then hands the data on.
    fn collect(&mut self, data: Data<'static>, into: &mut Vec<Data<'static>>) {
        if let Some(selected) = &mut self.selected {
            match &data {
                Data::Exists(n) => {
                    selected.exists = *n;
                    self.forget_order();
                }
                Data::Expunge(_) => {
                    selected.exists = selected.exists.saturating_sub(1);
                    self.forget_order();
                }
                _ => {}
            }
        }
        into.push(data);
    }

    /// The folder changed: its sort order and conversations are asked again when needed.
    pub(super) fn forget_order(&mut self) {
        self.sorted = None;
        self.threads = None;
    }

    async fn next_event(&mut self) -> Result<Event, ImapError> {
        tokio::time::timeout(COMMAND_TIMEOUT, self.stream.next(&mut self.client))
            .await
            .map_err(|_| ImapError::Link(LinkError::Timeout))?
            .map_err(ImapError::from)
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
