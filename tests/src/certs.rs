//! A throw-away CA and a certificate for `localhost` / 127.0.0.1 signed by it, made per test run.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

pub struct TestPki {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    /// SHA-256 of the server certificate, hex with colons (as `openssl x509 -fingerprint` shows).
    pub server_sha256: String,
}

impl TestPki {
    /// Writes `ca.pem`, `server.pem` and `server.key` into `dir`.
    pub fn create(dir: &Path) -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "webmail test CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

        let server_key = KeyPair::generate().expect("key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("params");
        let server = server_params
            .signed_by(&server_key, &ca, &ca_key)
            .expect("server certificate");

        let digest = ring::digest::digest(&ring::digest::SHA256, server.der());
        let pki = Self {
            ca_pem: dir.join("ca.pem"),
            cert_pem: dir.join("server.pem"),
            key_pem: dir.join("server.key"),
            server_sha256: digest
                .as_ref()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        };
        std::fs::write(&pki.ca_pem, ca.pem()).expect("write");
        std::fs::write(&pki.cert_pem, server.pem()).expect("write");
        std::fs::write(&pki.key_pem, server_key.serialize_pem()).expect("write");
        pki
    }
}
