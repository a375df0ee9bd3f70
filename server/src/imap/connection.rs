use std::{io, time::Duration};

use imap_codec::imap_types::{
    command::{Command, CommandBody},
    core::{Tag, Vec1},
    fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section},
    response::{
        Capability, Code, Data, Greeting, GreetingKind, Status, StatusBody, StatusKind, Tagged,
    },
};
use imap_next::{
    client::{Client, Event, Options},
    stream::{self, Stream},
};
use protocol::{ErrorCode, MessageList};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::fetch;
use crate::{
    config::{ImapServer, TlsMode},
    tls::{self, HandshakeError},
};

/// How long a connection attempt, or one command, may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot reach the mail server: {0}")]
    Unreachable(io::Error),
    #[error(transparent)]
    Tls(#[from] HandshakeError),
    #[error("the mail server does not offer STARTTLS; refusing to continue without encryption")]
    StartTlsMissing,
    #[error("wrong e-mail or password")]
    AuthFailed,
    #[error("the mail server refused: {0}")]
    Refused(String),
    #[error("no such folder: {0}")]
    NoSuchFolder(String),
    #[error("the mail server sent something unreadable: {0}")]
    Protocol(String),
    #[error("the mail server closed the connection")]
    Closed,
    #[error("the mail server did not answer in time")]
    Timeout,
}

impl ImapError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unreachable(_) | Self::Closed | Self::Timeout => ErrorCode::ServerUnreachable,
            Self::Tls(HandshakeError::Untrusted(_)) => ErrorCode::CertificateNotTrusted,
            Self::Tls(HandshakeError::Failed(_)) => ErrorCode::ServerUnreachable,
            Self::StartTlsMissing | Self::Protocol(_) => ErrorCode::ServerProtocol,
            Self::AuthFailed => ErrorCode::AuthFailed,
            Self::Refused(_) => ErrorCode::ServerRefused,
            Self::NoSuchFolder(_) => ErrorCode::NoSuchFolder,
        }
    }
}

impl From<stream::Error<imap_next::client::Error>> for ImapError {
    fn from(error: stream::Error<imap_next::client::Error>) -> Self {
        match error {
            stream::Error::Closed => Self::Closed,
            stream::Error::Io(e) => Self::Unreachable(e),
            stream::Error::Tls(e) => Self::Protocol(format!("TLS: {e}")),
            stream::Error::State(e) => Self::Protocol(e.to_string()),
        }
    }
}

/// A logged-in (or about to log in) IMAP connection. Commands run one at a time.
pub struct ImapConnection {
    stream: Stream,
    client: Client,
    tag_counter: u32,
}

impl ImapConnection {
    /// Connects and secures the connection as `server.tls` says; after this, LOGIN is safe.
    pub async fn connect(server: &ImapServer, tls: &TlsConnector) -> Result<Self, ImapError> {
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await
        .map_err(|_| ImapError::Timeout)?
        .map_err(ImapError::Unreachable)?;
        let _ = tcp.set_nodelay(true);

        let mut connection = match server.tls {
            TlsMode::Implicit => {
                let tls = tls::handshake(tls, &server.host, tcp).await?;
                Self::new(Stream::tls(tls.into()), false)
            }
            TlsMode::Plain | TlsMode::Starttls => Self::new(Stream::insecure(tcp), false),
        };
        let greeting = connection.greeting().await?;
        if server.tls == TlsMode::Starttls {
            connection = connection.starttls(&greeting, server, tls).await?;
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
        greeting: &Greeting<'static>,
        server: &ImapServer,
        tls: &TlsConnector,
    ) -> Result<Self, ImapError> {
        let capabilities = match &greeting.code {
            Some(Code::Capability(caps)) => caps.as_ref().to_vec(),
            _ => self.capabilities().await?,
        };
        if !capabilities.contains(&Capability::StartTls) {
            return Err(ImapError::StartTlsMissing);
        }
        self.run(CommandBody::StartTLS).await?;
        // Whatever the server sent after its OK is dropped with the plain-text stream: bytes that
        // arrive before the handshake cannot be trusted (CVE-2011-0411 style injection).
        let tcp = TcpStream::from(self.stream);
        let tls = tls::handshake(tls, &server.host, tcp).await?;
        Ok(Self::new(Stream::tls(tls.into()), true))
    }

    async fn capabilities(&mut self) -> Result<Vec<Capability<'static>>, ImapError> {
        let data = self.run(CommandBody::Capability).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                Data::Capability(caps) => Some(caps.into_inner()),
                _ => None,
            })
            .flatten()
            .collect())
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), ImapError> {
        let body = CommandBody::login(user.to_owned(), password.to_owned())
            .map_err(|_| ImapError::AuthFailed)?;
        match self.execute(body).await?.1.kind {
            StatusKind::Ok => Ok(()),
            StatusKind::No | StatusKind::Bad => Err(ImapError::AuthFailed),
        }
    }

    /// One page of `folder`, newest first by arrival (`offset` 0 is the newest message).
    pub async fn list_messages(
        &mut self,
        folder: &str,
        offset: u32,
        limit: u32,
    ) -> Result<MessageList, ImapError> {
        // EXAMINE, not SELECT: listing must never change \Recent or other state on the server.
        let examine = CommandBody::examine(folder.to_owned())
            .map_err(|_| ImapError::NoSuchFolder(folder.to_owned()))?;
        let (data, status) = self.execute(examine).await?;
        match status.kind {
            StatusKind::Ok => {}
            StatusKind::No => return Err(ImapError::NoSuchFolder(folder.to_owned())),
            StatusKind::Bad => return Err(ImapError::Refused(status.text.to_string())),
        }
        let total = data
            .iter()
            .find_map(|d| match d {
                Data::Exists(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(0);
        let mut list = MessageList {
            folder: folder.to_owned(),
            total,
            offset,
            messages: Vec::new(),
        };
        let Some(range) = fetch::newest_first_range(total, offset, limit) else {
            return Ok(list);
        };
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::Flags,
            MessageDataItemName::InternalDate,
            MessageDataItemName::Rfc822Size,
            MessageDataItemName::BodyExt {
                section: Some(Section::HeaderFields(
                    None,
                    Vec1::try_from(
                        fetch::SUMMARY_HEADERS
                            .iter()
                            .map(|h| (*h).try_into().expect("header names are atoms"))
                            .collect::<Vec<_>>(),
                    )
                    .expect("at least one header"),
                )),
                partial: None,
                peek: true,
            },
        ]);
        let body = CommandBody::fetch(range, items, false)
            .map_err(|e| ImapError::Protocol(format!("sequence set: {e:?}")))?;
        let data = self.run(body).await?;
        list.messages = fetch::summaries(data);
        Ok(list)
    }

    pub async fn logout(mut self) {
        // The server may close before it answers; either way the connection is done.
        let _ = self.run(CommandBody::Logout).await;
    }

    /// Runs a command that must succeed; a NO or BAD becomes `Refused`.
    async fn run(&mut self, body: CommandBody<'static>) -> Result<Vec<Data<'static>>, ImapError> {
        let (data, status) = self.execute(body).await?;
        match status.kind {
            StatusKind::Ok => Ok(data),
            StatusKind::No | StatusKind::Bad => Err(ImapError::Refused(status.text.to_string())),
        }
    }

    /// Sends one command and collects the untagged data until its tagged completion.
    async fn execute(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<(Vec<Data<'static>>, StatusBody<'static>), ImapError> {
        self.tag_counter += 1;
        let tag = Tag::try_from(format!("W{}", self.tag_counter)).expect("tags are atoms");
        self.client.enqueue_command(Command {
            tag: tag.clone(),
            body,
        });
        let mut data = Vec::new();
        loop {
            match self.next_event().await? {
                Event::DataReceived { data: d } => data.push(d),
                Event::StatusReceived {
                    status: Status::Tagged(Tagged { tag: got, body }),
                } if got == tag => return Ok((data, body)),
                Event::StatusReceived {
                    status: Status::Bye(_),
                } => return Err(ImapError::Closed),
                Event::CommandRejected { status, .. } => {
                    let text = match status {
                        Status::Tagged(Tagged { body, .. }) | Status::Untagged(body) => {
                            body.text.to_string()
                        }
                        Status::Bye(bye) => bye.text.to_string(),
                    };
                    return Err(ImapError::Refused(text));
                }
                _ => {}
            }
        }
    }

    async fn next_event(&mut self) -> Result<Event, ImapError> {
        tokio::time::timeout(COMMAND_TIMEOUT, self.stream.next(&mut self.client))
            .await
            .map_err(|_| ImapError::Timeout)?
            .map_err(ImapError::from)
    }
}
