//! TLS towards the mail servers: always verified, against the system's roots plus an optional CA
//! of the operator's (for a family server with its own CA).

use std::{io, path::Path, sync::Arc};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::{client::TlsStream, TlsConnector};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {source}")]
    CaFile { path: String, source: io::Error },
    #[error("CA file {path} holds no usable certificate")]
    NoCertificate { path: String },
    #[error("no trusted root certificates: neither system roots nor a configured CA")]
    NoRoots,
}

/// Builds the connector for one mail server: system roots, plus `extra_ca` if configured.
pub fn connector(extra_ca: Option<&Path>) -> Result<TlsConnector, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: one broken file must not disable TLS entirely.
    let system = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(system.certs);
    if let Some(path) = extra_ca {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| TlsSetupError::CaFile {
            path: shown.clone(),
            source,
        })?;
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|source| TlsSetupError::CaFile {
                path: shown.clone(),
                source,
            })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(TlsSetupError::NoCertificate { path: shown });
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Why a TLS handshake failed, as far as the user needs to know.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("the mail server's certificate is not trusted: {0}")]
    Untrusted(rustls::Error),
    #[error("TLS handshake failed: {0}")]
    Failed(io::Error),
}

pub async fn handshake(
    connector: &TlsConnector,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| {
        HandshakeError::Failed(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    })?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|error| match untrusted(&error) {
            Some(reason) => HandshakeError::Untrusted(reason),
            None => HandshakeError::Failed(error),
        })
}

/// rustls reports certificate problems as an `io::Error` wrapping a `rustls::Error`.
fn untrusted(error: &io::Error) -> Option<rustls::Error> {
    let inner = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    matches!(
        inner,
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
    )
    .then(|| inner.clone())
}
