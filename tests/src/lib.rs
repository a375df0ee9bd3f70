//! The harness for the end-to-end tests: real servers and a real browser, each started by the
//! test that needs it and stopped when it is dropped. Nothing here fakes a server.

pub mod browser;
pub mod certs;
pub mod client;
pub mod dovecot;
pub mod family;
pub mod fetchmail;
pub mod hostile;
pub mod latency;
pub mod mail;
pub mod msmtp;
pub mod postfix;
pub mod proxy;
pub mod pymap;
pub mod raw_imap;
pub mod relay;
pub mod relay_process;
pub mod roundcube;
pub mod scenarios;
pub mod webmails;

use std::{collections::BTreeSet, net::TcpListener, path::PathBuf, sync::Mutex, time::Duration};

/// A port that was free a moment ago on loopback, and not handed out before by this process:
/// the kernel may offer a port again as soon as its probe socket closes, and two servers of one
/// test (or of tests running side by side) must not be told to listen on the same one.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("loopback has free ports")
            .port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Waits until something accepts connections on `port`.
pub async fn wait_for_port(port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not start listening on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The workspace root (where `dist/` and `target/` live).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_owned()
}

/// Where tests leave screenshots for people to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("target/ is writable");
    dir
}

/// Stops a process started in its own process group, with everything it started.
pub(crate) fn kill_group(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
}
