//! TLS towards the mail servers: always verified, against the system's roots plus an optional CA
//! of the operator's (for a family server with its own CA).

use std::{io, path::Path, sync::Arc};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::{client::TlsStream, TlsConnector};

use crate::config::MailServer;

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {source}")]
    CaFile { path: String, source: io::Error },
    #[error("CA file {path} holds no usable certificate")]
    NoCertificate { path: String },
    #[error("no trusted root certificates: neither system roots nor a configured CA")]
    NoRoots,
    #[error("pinned_sha256 must be 64 hex digits (colons allowed), not {0:?}")]
    BadPin(String),
}

/// Builds the connector for one mail server: its pinned certificate if it has one, else the
/// system roots plus its extra CA.
pub fn connector(server: &MailServer) -> Result<TlsConnector, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let config = match &server.pinned_sha256 {
        Some(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned {
                sha256: parse_pin(pin)?,
                provider,
            }))
            .with_no_client_auth(),
        None => builder
            .with_root_certificates(roots(server.ca_file.as_deref())?)
            .with_no_client_auth(),
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

fn roots(extra_ca: Option<&Path>) -> Result<rustls::RootCertStore, TlsSetupError> {
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
    Ok(roots)
}

fn parse_pin(pin: &str) -> Result<[u8; 32], TlsSetupError> {
    let hex: String = pin.chars().filter(|c| *c != ':').collect();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| TlsSetupError::BadPin(pin.to_owned()))
}

/// Accepts exactly one certificate, by fingerprint, whoever issued it. The handshake signatures
/// are still verified, so only the holder of that certificate's key gets through.
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if digest.as_ref() == self.sha256 {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_with_or_without_colons() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_pin(&hex).unwrap(), [0xab; 32]);
        let colons: Vec<&str> = std::iter::repeat_n("AB", 32).collect();
        assert_eq!(parse_pin(&colons.join(":")).unwrap(), [0xab; 32]);
        assert!(parse_pin("abc").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
        assert!(parse_pin(&"ab".repeat(33)).is_err());
    }
}
