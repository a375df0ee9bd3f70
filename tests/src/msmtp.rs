//! msmtp, a plain SMTP submission client, as the peer in the sending benchmark: what a mail
//! program does when it submits a message itself (it then files its own copy in Sent).

use std::{io::Write, process::Command, process::Stdio, time::Duration};

use crate::postfix::Postfix;

/// Submits `message` (envelope from its From and To headers) as `user` over STARTTLS.
pub fn submit(
    postfix: &Postfix,
    ca_pem: &std::path::Path,
    user: &str,
    password: &str,
    message: &[u8],
) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("msmtprc");
    std::fs::write(
        &config,
        format!(
            "account bench\nhost localhost\nport {}\ntls on\ntls_starttls on\ntls_trust_file {}\n\
domain example.org\nauth plain\nuser {user}\npassword {password}\nfrom {user}\naccount default : bench\n",
            postfix.submission_port,
            ca_pem.display()
        ),
    )
    .expect("config");
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let started = std::time::Instant::now();
    let mut child = Command::new("msmtp")
        .arg("-C")
        .arg(&config)
        .arg("-t")
        .stdin(Stdio::piped())
        .spawn()
        .expect("msmtp is installed (scripts/bench installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("message to msmtp");
    let status = child.wait().expect("msmtp ran");
    assert!(status.success(), "msmtp failed: {status}");
    started.elapsed()
}
