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
    /// Where browsers reach the relay (behind a TLS-terminating proxy), e.g.
    /// `https://mail.example.org`: the only origin and host it serves, see `web::public`.
    #[serde(default)]
    pub public_url: Option<crate::web::public::PublicUrl>,
    /// Reverse proxies whose `X-Forwarded-For` names the browser's address (for throttling,
    /// the log and the mail server's own limits); from any other peer the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
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
    /// How long a session lasts at most, however busy: then its browser logs in again (a lost
    /// phone's session does not last for ever). Given in hours in the file.
    #[serde(
        rename = "session_lifetime_hours",
        default = "default_lifetime",
        deserialize_with = "hours"
    )]
    pub session_lifetime: Duration,
    /// Sessions one user may have at once (each holds a connection to the mail server); a login
    /// past it ends that user's oldest.
    #[serde(default = "default_sessions_per_user")]
    pub sessions_per_user: usize,
    /// A browser's socket that answers nothing (not even the relay's pings) for this long is
    /// closed: a half-open connection must not keep a session, and its password, alive.
    #[serde(default = "default_socket_timeout")]
    pub socket_timeout_seconds: u64,
    /// The IMAP server users log in to. The relay connects to no host but this and `pop3`.
    pub imap: Option<MailServer>,
    /// The POP3 server users may collect mail from instead.
    pub pop3: Option<Pop3Config>,
    /// Where the relay keeps what must survive a restart: POP3 mail (a SQLite file and the
    /// message files), the outbox, uploads. A relative path is relative to the config file;
    /// by default `data` beside it.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The SMTP submission server mail is sent through. Without it, the app only reads.
    pub smtp: Option<SmtpConfig>,
    /// Inline images (`cid:`) put into a message's body when it is opened: at most this many
    /// per message ...
    #[serde(default = "default_inline_images")]
    pub inline_images: usize,
    /// ... and at most this many megabytes of them in all. The rest stay blank.
    #[serde(default = "default_inline_images_mb")]
    pub inline_images_mb: usize,
}

impl Config {
    pub fn inline_limits(&self) -> mime::InlineLimits {
        mime::InlineLimits {
            count: self.inline_images,
            bytes: self.inline_images_mb.saturating_mul(1_000_000),
        }
    }

    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::from_toml(&text)?;
        if config.data_dir.is_relative() {
            let beside = path.parent().unwrap_or(std::path::Path::new("."));
            config.data_dir = beside.join(&config.data_dir);
        }
        Ok(config)
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        if config.imap.is_none() && config.pop3.is_none() {
            return Err(ConfigError::Invalid(
                "configure [imap], [pop3] or both".into(),
            ));
        }
        Ok(config)
    }
}

fn default_inline_images() -> usize {
    mime::InlineLimits::default().count
}

fn default_inline_images_mb() -> usize {
    mime::InlineLimits::default().bytes / 1_000_000
}

fn default_socket_timeout() -> u64 {
    60
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_idle() -> Duration {
    Duration::from_secs(10 * 60)
}

fn default_lifetime() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

fn default_sessions_per_user() -> usize {
    5
}

fn hours<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let hours = u64::deserialize(deserializer)?;
    Ok(Duration::from_secs(hours.saturating_mul(3600)))
}

fn minutes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let minutes = u64::deserialize(deserializer)?;
    Ok(Duration::from_secs(minutes.saturating_mul(60)))
}

/// A POP3 server and how collecting from it goes. The server keys are those of [`MailServer`]
/// (`#[serde(flatten)]` cannot be combined with rejecting unknown keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pop3Config {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub pinned_sha256: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Delete each message on the server once it is stored here (the classic POP3 way). With
    /// `false`, messages stay on the server for `keep_days` days after collection.
    #[serde(default = "yes")]
    pub delete_after_download: bool,
    #[serde(default)]
    pub keep_days: u32,
    /// How often mail is collected while the user has a browser open.
    #[serde(default = "default_collect_minutes")]
    pub collect_every_minutes: u64,
    /// Messages larger than this many megabytes (10^6 bytes) stay on the server, and the user is
    /// told which: collecting streams to disk whatever the size, but reading one in the browser
    /// does not.
    #[serde(default = "default_max_message_mb")]
    pub max_message_mb: u64,
    /// At most this many megabytes of mail per user in the relay's store (0: no limit). Past
    /// it, new mail stays on the server, untouched, and the user is told the mailbox is full.
    #[serde(default)]
    pub quota_mb: u64,
}

impl Pop3Config {
    pub fn server(&self) -> MailServer {
        MailServer {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            ca_file: self.ca_file.clone(),
            pinned_sha256: self.pinned_sha256.clone(),
            timeout_seconds: self.timeout_seconds,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_collect_minutes() -> u64 {
    5
}

fn default_max_message_mb() -> u64 {
    50
}

/// The SMTP submission server, and what users may send through it. The server keys are those of
/// [`MailServer`]; 587 is `starttls`, 465 `implicit`. Users authenticate with their own login.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub pinned_sha256: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attachments per message, in megabytes (10^6 bytes); checked before an upload starts.
    #[serde(default = "default_max_attachments_mb")]
    pub max_attachments_mb: u64,
    /// Recipients (To, Cc and Bcc together) per message.
    #[serde(default = "default_max_recipients")]
    pub max_recipients: u32,
    /// Addresses a user may send as besides their login address, by login address:
    /// `"anna@example.org" = ["family@example.org"]`.
    #[serde(default)]
    pub identities: std::collections::BTreeMap<String, Vec<String>>,
    /// For logins that are plain user names (`anna`, as many family servers have them): the
    /// domain of their own address (`anna@example.org`). Without it such a user sends only as
    /// the addresses `identities` gives them.
    #[serde(default)]
    pub address_domain: Option<String>,
}

impl SmtpConfig {
    pub fn server(&self) -> MailServer {
        MailServer {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            ca_file: self.ca_file.clone(),
            pinned_sha256: self.pinned_sha256.clone(),
            timeout_seconds: self.timeout_seconds,
        }
    }

    /// The addresses `user` may send as: the login's own address first.
    pub fn identities(&self, user: &str) -> Vec<String> {
        let own = match (user.contains('@'), &self.address_domain) {
            (true, _) => Some(user.to_owned()),
            (false, Some(domain)) => Some(format!("{user}@{domain}")),
            (false, None) => None,
        };
        let mut all: Vec<String> = own.into_iter().collect();
        for extra in self.identities.get(user).into_iter().flatten() {
            if !all.iter().any(|a| a.eq_ignore_ascii_case(extra)) {
                all.push(extra.clone());
            }
        }
        all
    }

    pub fn max_attachments(&self) -> u64 {
        self.max_attachments_mb.saturating_mul(1_000_000)
    }
}

fn default_max_attachments_mb() -> u64 {
    25
}

fn default_max_recipients() -> u32 {
    100
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// A PEM file with CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// The SHA-256 fingerprint of the server's own certificate (hex, colons optional), for a
    /// self-signed family server: then exactly that certificate is accepted, and no other.
    #[serde(default)]
    pub pinned_sha256: Option<String>,
    /// How long the server may stay silent while the relay waits for an answer before the
    /// connection counts as dead (it is then dropped and made again).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

impl MailServer {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }
}

fn default_timeout() -> u64 {
    60
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
    #[error("config file is not valid: {0}")]
    Invalid(String),
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
        assert_eq!(config.imap.unwrap().tls, TlsMode::Implicit);
        assert_eq!(config.session_idle, Duration::from_secs(600));
        let config = Config::from_toml(&format!("session_idle_minutes = 2\n{EXAMPLE}")).unwrap();
        assert_eq!(config.session_idle, Duration::from_secs(120));
        assert!(config.extra_origins.is_empty());
    }

    #[test]
    fn reads_a_pinned_certificate() {
        let config = Config::from_toml(&format!("{EXAMPLE}pinned_sha256 = \"AB:cd\"\n")).unwrap();
        assert_eq!(config.imap.unwrap().pinned_sha256.as_deref(), Some("AB:cd"));
    }

    #[test]
    fn data_dir_defaults_to_beside_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        assert_eq!(
            Config::from_file(&path).unwrap().data_dir,
            dir.path().join("data")
        );
        std::fs::write(&path, format!("data_dir = \"/var/lib/webmail\"\n{EXAMPLE}")).unwrap();
        assert_eq!(
            Config::from_file(&path).unwrap().data_dir,
            PathBuf::from("/var/lib/webmail")
        );
    }

    #[test]
    fn a_plain_user_name_sends_as_itself_at_the_configured_domain() {
        let smtp = |extra: &str| {
            Config::from_toml(&format!(
                "{EXAMPLE}[smtp]\nhost = \"h\"\nport = 587\ntls = \"starttls\"\n{extra}"
            ))
            .unwrap()
            .smtp
            .unwrap()
        };
        assert_eq!(
            smtp("address_domain = \"x.org\"\n").identities("anna"),
            ["anna@x.org"]
        );
        assert!(smtp("").identities("anna").is_empty());
        assert_eq!(
            smtp("[smtp.identities]\nanna = [\"family@x.org\"]\n").identities("anna"),
            ["family@x.org"]
        );
    }

    #[test]
    fn smtp_identities_start_with_the_login() {
        let config = Config::from_toml(&format!(
            "{EXAMPLE}[smtp]\nhost = \"h\"\nport = 587\ntls = \"starttls\"\n[smtp.identities]\n\"a@x.org\" = [\"f@x.org\", \"A@x.org\"]\n"
        ))
        .unwrap();
        let smtp = config.smtp.unwrap();
        assert_eq!(smtp.identities("a@x.org"), ["a@x.org", "f@x.org"]);
        assert_eq!(smtp.identities("b@x.org"), ["b@x.org"]);
        assert_eq!(
            (smtp.max_attachments(), smtp.max_recipients),
            (25_000_000, 100)
        );
    }

    #[test]
    fn reads_pop3_with_defaults() {
        let pop3 = "listen = \"127.0.0.1:8080\"\nweb_root = \"dist\"\n[pop3]\nhost = \"h\"\nport = 995\ntls = \"implicit\"\n";
        let config = Config::from_toml(pop3).unwrap();
        let pop3 = config.pop3.unwrap();
        assert!(pop3.delete_after_download);
        assert_eq!(
            (
                pop3.keep_days,
                pop3.collect_every_minutes,
                pop3.server().port
            ),
            (0, 5, 995)
        );
        assert!(Config::from_toml("listen = \"127.0.0.1:1\"\nweb_root = \"d\"\n").is_err());
    }

    #[test]
    fn rejects_unknown_tls_mode_and_unknown_keys() {
        assert!(Config::from_toml(&EXAMPLE.replace("implicit", "maybe")).is_err());
        assert!(Config::from_toml(&format!("{EXAMPLE}\nverify = false")).is_err());
    }
}
