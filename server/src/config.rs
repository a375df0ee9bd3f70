//! The relay's configuration file (TOML). README.md documents every key.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the relay listens for browsers, e.g. `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The built browser app (Trunk's `dist/`).
    pub web_root: PathBuf,
    /// Origins besides the relay's own that may open the WebSocket, e.g. `https://mail.example.org`
    /// when a reverse proxy serves the relay under another name.
    #[serde(default)]
    pub extra_origins: Vec<String>,
    /// How long a session (and its IMAP connection) outlives its user's last open browser tab.
    /// Given in minutes in the file.
    #[serde(
        rename = "session_idle_minutes",
        default = "default_idle",
        deserialize_with = "minutes"
    )]
    pub session_idle: Duration,
    /// The one IMAP server this relay may connect to. It connects to no other host.
    pub imap: ImapServer,
}

impl Config {
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }
}

fn default_idle() -> Duration {
    Duration::from_secs(10 * 60)
}

fn minutes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let minutes = u64::deserialize(deserializer)?;
    Ok(Duration::from_secs(minutes.saturating_mul(60)))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapServer {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// A PEM file with CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// The SHA-256 fingerprint of the server's own certificate (hex, colons optional), for a
    /// self-signed family server: then exactly that certificate is accepted, and no other.
    #[serde(default)]
    pub pinned_sha256: Option<String>,
}

/// How the connection to a mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte (IMAP 993).
    Implicit,
    /// Plain first, then STARTTLS; refused if the server does not offer it (IMAP 143).
    Starttls,
    /// No TLS at all. Only for a server on the same machine; must be chosen explicitly.
    Plain,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file is not valid: {0}")]
    Parse(#[from] toml::de::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        listen = "127.0.0.1:8080"
        web_root = "dist"
        [imap]
        host = "mail.example.org"
        port = 993
        tls = "implicit"
    "#;

    #[test]
    fn reads_a_minimal_config_with_defaults() {
        let config = Config::from_toml(EXAMPLE).unwrap();
        assert_eq!(config.imap.tls, TlsMode::Implicit);
        assert_eq!(config.session_idle, Duration::from_secs(600));
        let config = Config::from_toml(&format!("session_idle_minutes = 2\n{EXAMPLE}")).unwrap();
        assert_eq!(config.session_idle, Duration::from_secs(120));
        assert!(config.extra_origins.is_empty());
    }

    #[test]
    fn reads_a_pinned_certificate() {
        let config = Config::from_toml(&format!("{EXAMPLE}pinned_sha256 = \"AB:cd\"\n")).unwrap();
        assert_eq!(config.imap.pinned_sha256.as_deref(), Some("AB:cd"));
    }

    #[test]
    fn rejects_unknown_tls_mode_and_unknown_keys() {
        assert!(Config::from_toml(&EXAMPLE.replace("implicit", "maybe")).is_err());
        assert!(Config::from_toml(&format!("{EXAMPLE}\nverify = false")).is_err());
    }
}
