//! A real Postfix on loopback in front of a test Dovecot, as a family's mail server would have:
//! a submission port (STARTTLS) and a submissions port (implicit TLS), both with SASL through
//! Dovecot's auth service, and delivery into Dovecot by LMTP. So a message the relay submits for
//! Alice arrives in Bob's INBOX as any real mail would. Its own config, queue and log in a temp
//! dir (`postfix -c`); the system's Postfix service is never touched.

use std::{
    fs,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
};

use webmail_server::config::{SmtpConfig, TlsMode};

use crate::{dovecot::Dovecot, free_port, kill_group, wait_for_port};

/// The domain the test users' addresses are in; any other domain is not delivered.
pub const DOMAIN: &str = "example.org";

pub struct Postfix {
    dir: tempfile::TempDir,
    child: Child,
    /// Submission with STARTTLS (587 in real life).
    pub submission_port: u16,
    /// Submission over implicit TLS (465).
    pub submissions_port: u16,
    ca_pem: std::path::PathBuf,
}

impl Postfix {
    /// Starts Postfix delivering to `dovecot` for these `mailboxes` (full addresses in
    /// [`DOMAIN`]; a recipient not among them is refused at RCPT with 550).
    pub async fn start(dovecot: &Dovecot, mailboxes: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("webmail-postfix-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let root = dir.path();
        for sub in ["conf", "queue", "data"] {
            fs::create_dir_all(root.join(sub)).expect("dirs");
        }
        // Postfix's master insists on its own user owning the data directory.
        let status = Command::new("chown")
            .args(["postfix", &root.join("data").display().to_string()])
            .status()
            .expect("chown");
        assert!(
            status.success(),
            "the postfix user exists (scripts/setup installs Postfix)"
        );
        let list: String = mailboxes.iter().map(|m| format!("{m} ok\n")).collect();
        fs::write(root.join("mailboxes"), list).expect("mailboxes");
        let (submission_port, submissions_port) = (free_port(), free_port());
        fs::write(root.join("conf/main.cf"), main_cf(root, dovecot)).expect("main.cf");
        fs::write(
            root.join("conf/master.cf"),
            master_cf(submission_port, submissions_port),
        )
        .expect("master.cf");
        let child = spawn(root);
        let mut postfix = Self {
            dir,
            child,
            submission_port,
            submissions_port,
            ca_pem: dovecot.pki.ca_pem.clone(),
        };
        postfix.wait_until_listening().await;
        postfix
    }

    async fn wait_until_listening(&mut self) {
        for port in [self.submission_port, self.submissions_port] {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("postfix exited ({status}):\n{}", self.log());
            }
            wait_for_port(port, "postfix").await;
        }
    }

    /// The relay's view of this server, over `tls`, trusting the test CA.
    pub fn smtp_server(&self, tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: "localhost".into(),
            port: match tls {
                TlsMode::Implicit => self.submissions_port,
                TlsMode::Starttls | TlsMode::Plain => self.submission_port,
            },
            tls,
            ca_file: Some(self.ca_pem.clone()),
            pinned_sha256: None,
            timeout_seconds: 30,
            max_attachments_mb: 25,
            max_recipients: 100,
            identities: Default::default(),
            address_domain: None,
        }
    }

    /// Stops the server, as an outage would; config and queue stay. Postfix's master leaves the
    /// process group it was started in, so it is told to stop and then waited for.
    pub fn stop(&mut self) {
        let conf = self.dir.path().join("conf");
        let master = fs::read_to_string(self.dir.path().join("queue/pid/master.pid"))
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok());
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&conf)
            .arg("abort")
            .stderr(Stdio::null())
            .status();
        if let Some(pid) = master {
            for _ in 0..250 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        kill_group(&mut self.child);
    }

    /// Starts it again after [`Self::stop`], on the same ports.
    pub async fn start_again(&mut self) {
        self.child = spawn(self.dir.path());
        self.wait_until_listening().await;
    }

    /// Postfix's log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("postfix.log")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(root: &Path) -> Child {
    // `start-fg` keeps the master in the foreground, as a child of this process group.
    Command::new("postfix")
        .arg("-c")
        .arg(root.join("conf"))
        .arg("start-fg")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Its own log is `postfix.log`; the shell around the master only says "Terminated".
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("postfix is installed (scripts/setup installs it)")
}

fn main_cf(root: &Path, dovecot: &Dovecot) -> String {
    let root_shown = root.display();
    format!(
        "compatibility_level = 3.6
queue_directory = {root_shown}/queue
data_directory = {root_shown}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = /tmp
maillog_file = {root_shown}/postfix.log
myhostname = mail.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
local_recipient_maps =
local_transport = error:no local delivery here
alias_maps =
alias_database =
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{root_shown}/mailboxes
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
smtp_dns_support_level = disabled
message_size_limit = 60000000
biff = no
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
",
        lmtp = dovecot.lmtp_port,
        auth = dovecot.auth_port,
        cert = dovecot.pki.cert_pem.display(),
        key = dovecot.pki.key_pem.display(),
    )
}

/// Every service chrooted nowhere; the two submission ports require authentication.
fn master_cf(submission: u16, submissions: u16) -> String {
    let authenticated = "  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject";
    format!(
        "127.0.0.1:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
{authenticated}
127.0.0.1:{submissions} inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
{authenticated}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"
    )
}
