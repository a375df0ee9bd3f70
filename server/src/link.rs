//! Reaching a mail server, whatever the protocol: TCP with a timeout, and what can go wrong on
//! the way (TLS itself is in `tls`).

use std::{io, time::Duration};

use protocol::ErrorCode;
use tokio::net::TcpStream;

use crate::{config::MailServer, tls::HandshakeError};

/// How long a connection attempt may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot reach the mail server: {0}")]
    Unreachable(io::Error),
    #[error(transparent)]
    Tls(#[from] HandshakeError),
    #[error("the mail server closed the connection")]
    Closed,
    #[error("the mail server did not answer in time")]
    Timeout,
}

impl LinkError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Tls(HandshakeError::Untrusted(_)) => ErrorCode::CertificateNotTrusted,
            Self::Unreachable(_)
            | Self::Closed
            | Self::Timeout
            | Self::Tls(HandshakeError::Failed(_)) => ErrorCode::ServerUnreachable,
        }
    }
}

/// Opens the TCP connection to `server`.
pub async fn connect(server: &MailServer) -> Result<TcpStream, LinkError> {
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((server.host.as_str(), server.port)),
    )
    .await
    .map_err(|_| LinkError::Timeout)?
    .map_err(LinkError::Unreachable)?;
    // Commands are small and answered one by one: send them at once.
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}
