//! SMTP submission with lettre's client, over a connection the relay makes itself: TCP by `link`,
//! TLS by `tls` (the same verification as IMAP and POP3, pinned certificates included), then
//! lettre for EHLO, AUTH, MAIL, RCPT and DATA.

use std::{fmt, io, net::SocketAddr, pin::Pin, task};

use lettre::transport::smtp::{
    authentication::{Credentials, Mechanism},
    client::{AsyncSmtpConnection, AsyncTokioStream},
    commands::{Data, Mail, Rcpt},
    extension::{ClientId, Extension, MailBodyParameter, MailParameter},
};
use protocol::ErrorCode;
use secret::Secret;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{client::TlsStream, TlsConnector};

use crate::{
    config::{MailServer, TlsMode},
    link::{self, LinkError},
    tls,
};

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the mail server does not offer STARTTLS; nothing was sent in the clear")]
    NoStarttls,
    #[error("the mail server did not accept the login: {0}")]
    AuthFailed(String),
    #[error("the mail server refused a recipient: {0}")]
    RecipientRejected(String),
    /// A 4xx: worth trying again later.
    #[error("the mail server asks to try again later: {0}")]
    Temporary(String),
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    #[error("the mail server said something unexpected: {0}")]
    Protocol(String),
    /// The connection failed after the whole message was handed over: the server may have
    /// taken it. Never tried again, so that it cannot go out twice.
    #[error(
        "the connection broke off after the message was handed over; it may have been sent: {0}"
    )]
    Uncertain(String),
}

impl SmtpError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Link(e) => e.code(),
            Self::NoStarttls | Self::Protocol(_) => ErrorCode::ServerProtocol,
            Self::Uncertain(_) => ErrorCode::ServerUnreachable,
            Self::AuthFailed(_) => ErrorCode::AuthFailed,
            Self::RecipientRejected(_) => ErrorCode::RecipientRejected,
            Self::Temporary(_) => ErrorCode::TryLater,
            Self::Refused(_) => ErrorCode::ServerRefused,
        }
    }

    /// Whether trying again later may succeed (an outage, a 4xx), as against a refusal that
    /// will stay one.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Self::Temporary(_) | Self::Link(_))
    }
}

/// Who submits: the user's own login.
pub struct Submitter<'a> {
    pub user: &'a str,
    pub password: &'a Secret,
}

/// One message to submit.
pub struct Envelope<'a> {
    pub sender: &'a str,
    pub recipients: &'a [String],
    pub bytes: &'a [u8],
}

/// Connects, authenticates, submits, quits. Every step waits at most the server's timeout.
pub async fn submit(
    server: &MailServer,
    connector: &TlsConnector,
    who: Submitter<'_>,
    message: Envelope<'_>,
) -> Result<(), SmtpError> {
    let deadline = server.timeout() * 4;
    let handed_over = std::sync::atomic::AtomicBool::new(false);
    let outcome = tokio::time::timeout(
        deadline,
        submit_now(server, connector, who, message, &handed_over),
    )
    .await
    .map_err(|_| SmtpError::Link(LinkError::Timeout))
    .and_then(|result| result);
    match outcome {
        Err(SmtpError::Link(e)) if handed_over.load(std::sync::atomic::Ordering::SeqCst) => {
            Err(SmtpError::Uncertain(e.to_string()))
        }
        other => other,
    }
}

async fn submit_now(
    server: &MailServer,
    connector: &TlsConnector,
    who: Submitter<'_>,
    message: Envelope<'_>,
    handed_over: &std::sync::atomic::AtomicBool,
) -> Result<(), SmtpError> {
    let hello = ClientId::Domain(
        message
            .sender
            .rsplit_once('@')
            .map_or("localhost", |(_, domain)| domain)
            .to_owned(),
    );
    let tcp = link::connect(server).await?;
    let stream = match server.tls {
        TlsMode::Plain => Wire::Plain(tcp),
        TlsMode::Implicit => Wire::Tls(Box::new(
            tls::handshake(connector, &server.host, tcp)
                .await
                .map_err(LinkError::from)?,
        )),
        TlsMode::Starttls => starttls(server, connector, tcp, &hello).await?,
    };
    let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
        .await
        .map_err(classify)?;
    let sent = transaction(&mut connection, who, message, handed_over).await;
    match &sent {
        Ok(()) => drop(connection.quit().await),
        Err(_) => connection.abort().await,
    }
    sent
}

/// AUTH, then MAIL, RCPT and DATA one by one, so that a refusal names the step (and the
/// recipient) it was about.
async fn transaction(
    connection: &mut AsyncSmtpConnection,
    who: Submitter<'_>,
    message: Envelope<'_>,
    handed_over: &std::sync::atomic::AtomicBool,
) -> Result<(), SmtpError> {
    let credentials = Credentials::new(who.user.to_owned(), who.password.expose().to_owned());
    connection
        .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
        .await
        .map_err(|e| match classify(e) {
            SmtpError::Refused(text) => SmtpError::AuthFailed(text),
            other => other,
        })?;
    let sender = message
        .sender
        .parse()
        .map_err(|_| SmtpError::Protocol(format!("bad sender {:?}", message.sender)))?;
    let mut options = Vec::new();
    if !message.bytes.is_ascii()
        && connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
    {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(Some(sender), options))
        .await
        .map_err(classify)?;
    for recipient in message.recipients {
        let address = recipient
            .parse()
            .map_err(|_| SmtpError::RecipientRejected(recipient.clone()))?;
        connection
            .command(Rcpt::new(address, Vec::new()))
            .await
            .map_err(|e| match classify(e) {
                SmtpError::Refused(text) => {
                    SmtpError::RecipientRejected(format!("{recipient}: {text}"))
                }
                other => other,
            })?;
    }
    connection.command(Data).await.map_err(classify)?;
    // lettre ends DATA with CRLF.CRLF after the bytes it is given; that first CRLF ends the
    // message's last line, so it must not be in the bytes too (or the message gains a line).
    let bytes = message.bytes.strip_suffix(b"\r\n").unwrap_or(message.bytes);
    handed_over.store(true, std::sync::atomic::Ordering::SeqCst);
    connection.message(bytes).await.map_err(classify)?;
    Ok(())
}

/// STARTTLS (RFC 3207) up to the TLS handshake. lettre then reads a greeting before its own
/// EHLO, which a server does not send again after STARTTLS: the one read here is replayed.
async fn starttls(
    server: &MailServer,
    connector: &TlsConnector,
    tcp: TcpStream,
    hello: &ClientId,
) -> Result<Wire, SmtpError> {
    let mut tcp = BufReader::new(tcp);
    let greeting = reply(&mut tcp).await?;
    if !greeting.starts_with("220") {
        return Err(SmtpError::Refused(greeting));
    }
    tcp.write_all(format!("EHLO {hello}\r\n").as_bytes())
        .await
        .map_err(io_lost)?;
    let ehlo = reply(&mut tcp).await?;
    let offers = ehlo.lines().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("STARTTLS"))
    });
    if !ehlo.starts_with("250") || !offers {
        return Err(SmtpError::NoStarttls);
    }
    tcp.write_all(b"STARTTLS\r\n").await.map_err(io_lost)?;
    let ready = reply(&mut tcp).await?;
    if !ready.starts_with("220") {
        return Err(SmtpError::NoStarttls);
    }
    // Nothing may follow the 220 before the handshake (that would be injected plain text).
    if !tcp.buffer().is_empty() {
        return Err(SmtpError::Protocol("data after STARTTLS's answer".into()));
    }
    let tls = tls::handshake(connector, &server.host, tcp.into_inner())
        .await
        .map_err(LinkError::from)?;
    Ok(Wire::Replayed {
        greeting: format!("{}\r\n", greeting.lines().collect::<Vec<_>>().join("\r\n")).into_bytes(),
        at: 0,
        tls: Box::new(tls),
    })
}

/// One reply, multi-line included (`250-...` up to `250 ...`), at most 64 KiB.
async fn reply(tcp: &mut BufReader<TcpStream>) -> Result<String, SmtpError> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let read = tcp.read_line(&mut line).await.map_err(io_lost)?;
        if read == 0 {
            return Err(LinkError::Closed.into());
        }
        text.push_str(&line);
        if text.len() > 64 * 1024 {
            return Err(SmtpError::Protocol("reply too long".into()));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(text.trim_end().to_owned());
        }
    }
}

fn io_lost(_: io::Error) -> SmtpError {
    LinkError::Closed.into()
}

/// lettre's error, sorted by what the user and the outbox do about it.
fn classify(error: lettre::transport::smtp::Error) -> SmtpError {
    if error.is_transient() {
        SmtpError::Temporary(error.to_string())
    } else if error.is_permanent() {
        SmtpError::Refused(error.to_string())
    } else if error.is_timeout() {
        SmtpError::Link(LinkError::Timeout)
    } else if error.is_response() {
        SmtpError::Protocol(error.to_string())
    } else {
        SmtpError::Link(LinkError::Closed)
    }
}

/// The connection lettre talks over.
enum Wire {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// After STARTTLS: the greeting again, then the TLS stream.
    Replayed {
        greeting: Vec<u8>,
        at: usize,
        tls: Box<TlsStream<TcpStream>>,
    },
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wire::Plain(_) => "plain",
            Wire::Tls(_) | Wire::Replayed { .. } => "tls",
        })
    }
}

impl AsyncTokioStream for Wire {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Wire::Plain(tcp) => tcp.peer_addr(),
            Wire::Tls(tls) | Wire::Replayed { tls, .. } => tls.get_ref().0.peer_addr(),
        }
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> task::Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Wire::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Wire::Replayed { greeting, at, tls } => {
                if *at < greeting.len() {
                    let n = buf.remaining().min(greeting.len() - *at);
                    buf.put_slice(&greeting[*at..*at + n]);
                    *at += n;
                    return task::Poll::Ready(Ok(()));
                }
                Pin::new(tls.as_mut()).poll_read(cx, buf)
            }
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
        buf: &[u8],
    ) -> task::Poll<io::Result<usize>> {
        match self.get_mut() {
            Wire::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Wire::Tls(tls) | Wire::Replayed { tls, .. } => {
                Pin::new(tls.as_mut()).poll_write(cx, buf)
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> task::Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Wire::Tls(tls) | Wire::Replayed { tls, .. } => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
    ) -> task::Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Wire::Tls(tls) | Wire::Replayed { tls, .. } => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
