//! A real Dovecot on loopback, with its own config, state and log in a temp dir: IMAP (STARTTLS
//! and implicit TLS) and POP3 (STLS and implicit TLS), passwd-file users, Maildir; LMTP and the
//! SASL service on TCP, for the Postfix in front of it (`postfix`).

use std::{
    fs,
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
};

use webmail_server::config::{MailServer, Pop3Config, TlsMode};

use crate::{certs::TestPki, free_port, kill_group, wait_for_port};

/// Dovecot refuses to deliver to root-owned mail; any non-root uid works without a passwd entry.
const MAIL_UID: u32 = 5000;

pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub pop3_port: u16,
    pub pop3s_port: u16,
    /// Delivery by LMTP, for an MTA in front of this server.
    pub lmtp_port: u16,
    /// Dovecot's SASL service, for an MTA's submission port to check passwords against.
    pub auth_port: u16,
    pub pki: TestPki,
}

impl Dovecot {
    /// Starts Dovecot with these `(email, password)` accounts and waits until it listens.
    pub async fn start(users: &[(&str, &str)]) -> Self {
        Self::start_with(users, Options::default()).await
    }

    /// A Dovecot without any TLS: it offers no STARTTLS, and its TLS ports speak plain text.
    pub async fn start_without_tls(users: &[(&str, &str)]) -> Self {
        let options = Options {
            tls: false,
            ..Options::default()
        };
        Self::start_with(users, options).await
    }

    /// A Dovecot that allows one POP3 session per mailbox at a time, as many servers do: a
    /// second login gets `-ERR [IN-USE]` (after a 10 s wait for the lock).
    pub async fn start_locking_pop3(users: &[(&str, &str)]) -> Self {
        let options = Options {
            pop3_lock: true,
            ..Options::default()
        };
        Self::start_with(users, options).await
    }

    /// A Dovecot that trusts the relay's loopback address to say who is logging in (ID's
    /// `x-originating-ip`), as a mail server set up for a relay in front of it does.
    pub async fn start_trusting_loopback(users: &[(&str, &str)]) -> Self {
        let options = Options {
            trusted: Some("127.0.0.1/32"),
            ..Options::default()
        };
        Self::start_with(users, options).await
    }

    async fn start_with(users: &[(&str, &str)], options: Options) -> Self {
        // In /tmp whatever TMPDIR says: mail processes run as MAIL_UID and must be able to
        // traverse every parent directory of the homes inside.
        let dir = tempfile::Builder::new()
            .prefix("webmail-dovecot-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let pki = TestPki::create(dir.path());
        let (imap_port, imaps_port, pop3_port, pop3s_port) =
            (free_port(), free_port(), free_port(), free_port());
        let (lmtp_port, auth_port) = (free_port(), free_port());

        let root = dir.path();
        let mut passwd = String::new();
        for (email, password) in users {
            let home = root.join("home").join(email);
            fs::create_dir_all(&home).expect("home");
            chown_tree(&root.join("home"));
            passwd.push_str(&format!(
                "{email}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_UID}::{}::\n",
                home.display()
            ));
        }
        fs::write(root.join("passwd"), passwd).expect("passwd");
        for sub in ["run", "state"] {
            fs::create_dir_all(root.join(sub)).expect("dirs");
        }
        let ports = [
            imap_port, imaps_port, pop3_port, pop3s_port, lmtp_port, auth_port,
        ];
        let config = config(root, &pki, ports, options);
        fs::write(root.join("dovecot.conf"), config).expect("config");

        let child = spawn(root);
        let mut dovecot = Self {
            dir,
            child,
            imap_port,
            imaps_port,
            pop3_port,
            pop3s_port,
            lmtp_port,
            auth_port,
            pki,
        };
        dovecot.wait_until_listening().await;
        dovecot
    }

    async fn wait_until_listening(&mut self) {
        for port in [
            self.imap_port,
            self.imaps_port,
            self.pop3_port,
            self.pop3s_port,
            self.lmtp_port,
            self.auth_port,
        ] {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dovecot exited ({status}):\n{}", self.log());
            }
            wait_for_port(port, "dovecot").await;
        }
    }

    /// Stops the server, as an administrator restarting it would; mail and config stay.
    pub fn stop(&mut self) {
        kill_group(&mut self.child);
    }

    /// Starts it again after [`Self::stop`], on the same ports, and waits until it listens.
    pub async fn start_again(&mut self) {
        self.child = spawn(self.dir.path());
        self.wait_until_listening().await;
    }

    /// The relay's view of this server, over `tls`, trusting the test CA.
    pub fn imap_server(&self, tls: TlsMode) -> MailServer {
        MailServer {
            host: "localhost".into(),
            port: match tls {
                TlsMode::Implicit => self.imaps_port,
                TlsMode::Starttls | TlsMode::Plain => self.imap_port,
            },
            tls,
            ca_file: Some(self.pki.ca_pem.clone()),
            pinned_sha256: None,
            timeout_seconds: 60,
        }
    }

    /// The relay's view of this server's POP3, over `tls`, trusting the test CA.
    pub fn pop3_server(&self, tls: TlsMode) -> Pop3Config {
        Pop3Config {
            host: "localhost".into(),
            port: match tls {
                TlsMode::Implicit => self.pop3s_port,
                TlsMode::Starttls | TlsMode::Plain => self.pop3_port,
            },
            tls,
            ca_file: Some(self.pki.ca_pem.clone()),
            pinned_sha256: None,
            timeout_seconds: 60,
            delete_after_download: true,
            keep_days: 0,
            collect_every_minutes: 5,
            max_message_mb: 50,
            quota_mb: 0,
        }
    }

    /// How many messages `email` has on the server (new and seen), straight from the Maildir.
    pub fn messages_on_server(&self, email: &str) -> usize {
        let maildir = self.dir.path().join("home").join(email).join("Maildir");
        ["new", "cur"]
            .iter()
            .map(|sub| fs::read_dir(maildir.join(sub)).map_or(0, |d| d.count()))
            .sum()
    }

    /// Puts a raw message into `email`'s INBOX, as a delivery agent would.
    pub fn deliver(&self, email: &str, raw: &[u8], seen: bool) {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let home = self.dir.path().join("home").join(email);
        let maildir = home.join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(maildir.join(sub)).expect("maildir");
        }
        let unique = format!(
            "{}.M{}P{}.webmail-test",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::process::id()
        );
        let path = if seen {
            maildir.join("cur").join(format!("{unique}:2,S"))
        } else {
            maildir.join("new").join(unique)
        };
        fs::write(&path, raw).expect("write mail");
        chown_tree(&home);
    }

    /// Delivers `count` messages made by `make(i)` (already read), quickly: for big folders.
    pub fn deliver_many(&self, email: &str, count: u32, make: impl Fn(u32) -> Vec<u8>) {
        self.deliver_many_to(email, "INBOX", count, make);
    }

    /// [`Self::deliver_many`] into `folder` (a top-level folder, made if missing).
    pub fn deliver_many_to(
        &self,
        email: &str,
        folder: &str,
        count: u32,
        make: impl Fn(u32) -> Vec<u8>,
    ) {
        let maildir = self.dir.path().join("home").join(email).join("Maildir");
        let cur = match folder {
            "INBOX" => maildir.join("cur"),
            // Maildir++: a folder is a dot-directory beside the INBOX's own.
            name => maildir.join(format!(".{name}")).join("cur"),
        };
        fs::create_dir_all(&cur).expect("maildir");
        for sub in ["new", "tmp"] {
            fs::create_dir_all(cur.with_file_name(sub)).expect("maildir");
        }
        static BATCH: AtomicU32 = AtomicU32::new(0);
        let batch = BATCH.fetch_add(1, Ordering::Relaxed);
        for i in 0..count {
            // Names sort in delivery order, so sequence numbers follow `i`; every batch has its
            // own names (Dovecot remembers the names it has seen). What differs comes last:
            // Dovecot keys its uidlist by a hash that mostly sees a name's last characters, and
            // 10,000 names ending alike (`.M{i}P0.bulk`) made every SELECT of the folder cost it
            // 0.5 to 1.6 s of CPU (perf: `maildir_filename_base_cmp`), a cost both webmails in
            // the benchmark paid, Roundcube on every request.
            let name = format!("{:010}.bulk{batch}_{i}:2,S", 1_700_000_000 + i);
            fs::write(cur.join(name), make(i)).expect("write mail");
        }
        chown_tree(&self.dir.path().join("home").join(email));
    }

    /// Dovecot's log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

fn spawn(root: &Path) -> Child {
    Command::new("dovecot")
        .arg("-F")
        .arg("-c")
        .arg(root.join("dovecot.conf"))
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("dovecot is installed (scripts/setup installs it)")
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

#[derive(Clone, Copy)]
struct Options {
    tls: bool,
    pop3_lock: bool,
    /// `login_trusted_networks`.
    trusted: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tls: true,
            pop3_lock: false,
            trusted: None,
        }
    }
}

fn config(
    root: &Path,
    pki: &TestPki,
    [imap, imaps, pop3, pop3s, lmtp, auth]: [u16; 6],
    options: Options,
) -> String {
    let root = root.display();
    let ssl = if options.tls { "yes" } else { "no" };
    let pop3_lock = if options.pop3_lock { "yes" } else { "no" };
    let trusted = options.trusted.unwrap_or("");
    // Dovecot rejects one-line blocks: every block below spans lines.
    let mut config = format!(
        r#"
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = {ssl}
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = {MAIL_UID}
default_login_user = dovenull
default_internal_user = dovecot
pop3_uidl_format = %g
pop3_lock_session = {pop3_lock}
login_trusted_networks = {trusted}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  # One login process per connection, holding its TLS: 2,000 sessions need as many.
  process_limit = 4096
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = {ssl}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = {ssl}
  }}
}}
# No auth penalty: every login comes from the relay's one address, so after one wrong password
# Dovecot would slow every later login of every test; the relay throttles guessers itself.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# Every session of the relay is an IMAP connection from its one address: more than Dovecot's
# default of 10 per user and address (the benchmark logs in again and again), and for the
# session-scale benchmark 2,000 connections (an imap process each) in all.
protocol imap {{
  mail_max_userip_connections = 200
}}
service imap {{
  process_limit = 4096
}}
default_client_limit = 8192
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  inet_listener sasl {{
    address = 127.0.0.1
    port = {auth}
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \Archive
    auto = subscribe
  }}
}}
"#,
        cert = pki.cert_pem.display(),
        key = pki.key_pem.display(),
    );
    let dh = PathBuf::from("/usr/share/dovecot/dh.pem");
    if options.tls && dh.exists() {
        config.push_str(&format!("ssl_dh = <{}\n", dh.display()));
    }
    config
}

fn chown_tree(path: &Path) {
    let _ = std::os::unix::fs::chown(path, Some(MAIL_UID), Some(MAIL_UID));
    if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            chown_tree(&entry.path());
        }
    }
}

/// The proportional set size of Dovecot's `imap` and `imap-login` processes (one of each per
/// connection: the login process keeps its TLS), in KiB.
pub fn imap_processes_kib() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .is_ok_and(|c| matches!(c.trim(), "imap" | "imap-login"))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("smaps_rollup")).ok())
        .filter_map(|rollup| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}
