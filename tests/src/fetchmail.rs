//! fetchmail, the classic POP3 collector, as the peer in benchmarks: it collects everything
//! from a test Dovecot into an MDA that appends to a file (no fsync), under GNU time.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use crate::dovecot::Dovecot;

/// What one fetchmail run took.
pub struct Run {
    pub took: Duration,
    /// Peak resident memory of the fetchmail process, in KiB.
    pub peak_kib: u64,
}

/// Collects (and deletes) everything of `user` over POP3S.
pub fn collect(dovecot: &Dovecot, user: &str, password: &str) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let rc = dir.path().join("fetchmailrc");
    let sink = dir.path().join("mbox");
    std::fs::write(
        &rc,
        format!(
            "poll localhost protocol pop3 port {port} user \"{user}\" password \"{password}\" \
ssl sslcertck sslcertfile \"{ca}\" mda \"/bin/sh -c 'cat >> {sink}'\" fetchall nokeep\n",
            port = dovecot.pop3s_port,
            ca = dovecot.pki.ca_pem.display(),
            sink = sink.display(),
        ),
    )
    .expect("write rc");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let report = dir.path().join("time");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .args(["fetchmail", "--nodetach", "--silent", "-f"])
        .arg(&rc)
        .arg("--idfile")
        .arg(dir.path().join("ids"))
        .env("HOME", dir.path())
        .status()
        .expect("GNU time and fetchmail are installed (scripts/bench installs them)");
    let took = started.elapsed();
    assert!(status.success(), "fetchmail failed: {status}");
    let peak_kib = std::fs::read_to_string(&report)
        .expect("time wrote its report")
        .trim()
        .parse()
        .expect("a number of KiB");
    Run { took, peak_kib }
}
