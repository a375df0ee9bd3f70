//! The relay as a process of its own: for what an in-process relay cannot show (its memory, a
//! kill and a restart). Started from the `relay` binary of this package with a config file of
//! its own; stopped when dropped.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
};

use webmail_server::config::{MailServer, Pop3Config, TlsMode};

use crate::{free_port, relay::RunningRelay, wait_for_port, workspace_root};

pub struct RelayProcess {
    binary: PathBuf,
    config: PathBuf,
    child: Child,
    pub port: u16,
    /// `RUST_LOG` for it, and where its output goes (`None`: the test's own).
    log: (String, Option<PathBuf>),
}

impl RelayProcess {
    /// Starts `binary` (a test's `env!("CARGO_BIN_EXE_relay")`) with a config of `sections`
    /// (TOML for `[imap]`, `[pop3]`, ...) after the keys every relay needs; its data in `dir`.
    pub async fn start(binary: &Path, dir: &Path, sections: &str) -> Self {
        Self::start_logging(binary, dir, sections, "warn", None).await
    }

    /// [`Self::start`] with `RUST_LOG=level`, its output (stdout and stderr) appended to `log`.
    pub async fn start_logging(
        binary: &Path,
        dir: &Path,
        sections: &str,
        level: &str,
        log: Option<PathBuf>,
    ) -> Self {
        let port = free_port();
        let config = dir.join("relay.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\nweb_root = {web_root:?}\ndata_dir = {data_dir:?}\n{sections}",
                web_root = workspace_root().join("dist"),
                data_dir = dir.join("store"),
            ),
        )
        .expect("config written");
        let log = (level.to_owned(), log);
        let child = spawn(binary, &config, &log);
        wait_for_port(port, "relay").await;
        Self {
            binary: binary.to_owned(),
            config,
            child,
            port,
            log,
        }
    }

    /// Talks to it as the tests talk to an in-process relay.
    pub fn relay(&self) -> RunningRelay {
        RunningRelay::at(([127, 0, 0, 1], self.port).into())
    }

    /// Resident memory now (`VmRSS`), in KiB.
    pub fn resident_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most resident memory it has had (`VmHWM`), in KiB.
    pub fn peak_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the relay runs");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("Linux reports memory in /proc/<pid>/status")
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again with the same config (after [`Self::kill`]).
    pub async fn restart(&mut self) {
        self.kill();
        self.child = spawn(&self.binary, &self.config, &self.log);
        wait_for_port(self.port, "relay").await;
    }
}

/// The release `relay` binary beside the running benchmark binary (built with it by
/// `cargo build --release -p webmail-tests --bins`).
pub fn release_relay() -> PathBuf {
    let relay = std::env::current_exe()
        .expect("own path")
        .with_file_name("relay");
    assert!(
        relay.exists(),
        "build the relay first: cargo build --release -p webmail-tests --bins"
    );
    relay
}

/// The `[pop3]` section for `pop3`.
pub fn pop3_section(pop3: &Pop3Config) -> String {
    format!(
        "[pop3]\n{}max_message_mb = {}\n",
        server_keys(&pop3.server()),
        pop3.max_message_mb
    )
}

/// The `[smtp]` section for `smtp`.
pub fn smtp_section(smtp: &webmail_server::config::SmtpConfig) -> String {
    format!("[smtp]\n{}", server_keys(&smtp.server()))
}

/// The `[imap]` section for `imap`.
pub fn imap_section(imap: &MailServer) -> String {
    format!("[imap]\n{}", server_keys(imap))
}

fn server_keys(server: &MailServer) -> String {
    format!(
        "host = {:?}\nport = {}\ntls = \"{}\"\nca_file = {:?}\ntimeout_seconds = {}\n",
        server.host,
        server.port,
        match server.tls {
            TlsMode::Implicit => "implicit",
            TlsMode::Starttls => "starttls",
            TlsMode::Plain => "plain",
        },
        server.ca_file.as_deref().expect("the test CA"),
        server.timeout_seconds,
    )
}

fn spawn(binary: &Path, config: &Path, (level, log): &(String, Option<PathBuf>)) -> Child {
    let mut command = Command::new(binary);
    command.arg(config).env("RUST_LOG", level);
    if let Some(log) = log {
        let file = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file")
        };
        command.stdout(file()).stderr(file());
    }
    command.spawn().expect("the relay starts")
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
