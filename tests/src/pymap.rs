//! pymap: a second, independent IMAP server (Python, from PyPI), to show the relay works with
//! more than Dovecot. Its in-memory backend comes with a demo user and sample mail.

use std::{
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
};

use webmail_server::config::{MailServer, TlsMode};

use crate::{certs::TestPki, free_port, kill_group, wait_for_port, workspace_root};

pub const USER: (&str, &str) = ("demouser", "demopass");

pub struct Pymap {
    child: Child,
    pub port: u16,
    pki: TestPki,
    _dir: tempfile::TempDir,
}

impl Pymap {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = TestPki::create(dir.path());
        let port = free_port();
        let binary = workspace_root().join("tools/venv/bin/pymap");
        let child = Command::new(&binary)
            .arg("--port")
            .arg(port.to_string())
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--cert")
            .arg(&pki.cert_pem)
            .arg("--key")
            .arg(&pki.key_pem)
            .args(["dict", "--demo-data"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} (scripts/setup installs it): {e}",
                    binary.display()
                )
            });
        wait_for_port(port, "pymap").await;
        Self {
            child,
            port,
            pki,
            _dir: dir,
        }
    }

    /// STARTTLS on pymap's port, trusting the test CA.
    pub fn imap_server(&self) -> MailServer {
        MailServer {
            host: "localhost".into(),
            port: self.port,
            tls: TlsMode::Starttls,
            ca_file: Some(self.pki.ca_pem.clone()),
            pinned_sha256: None,
            timeout_seconds: 60,
        }
    }
}

impl Drop for Pymap {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}
