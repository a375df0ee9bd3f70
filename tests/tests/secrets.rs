//! Secrets never linger: a whole session with the relay logging at `trace` (login, a failed
//! login, reading, a download, sending with an attachment) leaves the password, the session token
//! and the mail's text in no log line, and the password in no file under the data directory.

use std::{path::Path, time::Duration};

use serde_json::json;
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    family::Family,
    mail,
    relay_process::{imap_section, smtp_section, RelayProcess},
};

const PASSWORD: &str = "Tr0ub4dor-geheim-7731";
const READ_TEXT: &str = "Vertraulicher-Inhalt-4471";
const SENT_TEXT: &str = "Gesendeter-Inhalt-9182";
const ATTACHED: &[u8] = b"Angehaengt-Geheimnis-5520";

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut walk = vec![dir.to_owned()];
    while let Some(dir) = walk.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn a_traced_session_logs_no_password_token_or_mail() {
    let family = Family::start(&[
        ("alice@example.org", PASSWORD),
        ("bob@example.org", "bob-pw"),
    ])
    .await;
    family.dovecot.deliver(
        "alice@example.org",
        &mail::message(
            "Bob <bob@example.org>",
            "alice@example.org",
            "Privat",
            "Tue, 01 Dec 2026 10:00:00 +0000",
            READ_TEXT,
        ),
        false,
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let sections = format!(
        "{}{}",
        imap_section(&family.dovecot.imap_server(TlsMode::Starttls)),
        smtp_section(&family.postfix.smtp_server(TlsMode::Starttls))
    );
    let process = RelayProcess::start_logging(
        Path::new(env!("CARGO_BIN_EXE_relay")),
        dir.path(),
        &sections,
        "trace",
        Some(log.clone()),
    )
    .await;
    let relay = process.relay();

    let (status, _, _) = relay.login("alice@example.org", "not-the-password").await;
    assert_eq!(status, 401);
    let mut alice = Client::login(&relay, "alice@example.org", PASSWORD).await;
    let list = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    let uid = list["messages"][0]["uid"].clone();
    let opened = alice
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
        .await;
    assert!(opened.to_string().contains(READ_TEXT));
    let eml = relay
        .get(
            &format!("{}?folder=INBOX&uid={uid}", protocol::DOWNLOAD_PATH),
            Some(&alice.cookie),
        )
        .await;
    assert!(String::from_utf8_lossy(&eml.body).contains(READ_TEXT));
    let upload = relay
        .upload(&alice.cookie, "geheim.txt", "text/plain", ATTACHED)
        .await
        .json();
    let draft = json!({
        "id": "0123456789abcdef0123456789abcdef", "from": "alice@example.org",
        "to": [{"name": null, "email": "bob@example.org"}], "cc": [], "bcc": [],
        "subject": "Antwort", "text": SENT_TEXT,
        "attachments": [{"name": "geheim.txt", "mime_type": "text/plain", "size": ATTACHED.len(),
            "source": {"from": "upload", "id": upload["id"]}}],
        "in_reply_to": null, "references": [], "origin": null
    });
    // As the app does: a save first, then Send with what the save left.
    let saved = alice.ok(json!({"op": "save_draft", "draft": draft})).await;
    alice
        .ok(json!({"op": "send", "draft": saved["draft"], "delay_seconds": 0}))
        .await;
    alice
        .event(Duration::from_secs(30), |e| {
            e["kind"] == "outbox" && e["state"]["state"] == "sent"
        })
        .await;
    family.wait_for("bob@example.org", "INBOX", 1).await;
    drop(process);

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().count() > 20,
        "the relay did log at trace level:\n{logged}"
    );
    let token = alice
        .cookie
        .split_once('=')
        .map(|(_, v)| v)
        .unwrap()
        .to_owned();
    for (what, secret) in [
        ("the password", PASSWORD),
        ("the session token", token.as_str()),
        ("the text of a message read", READ_TEXT),
        ("the text of a message sent", SENT_TEXT),
        ("an attachment", std::str::from_utf8(ATTACHED).unwrap()),
    ] {
        let lines: Vec<&str> = logged
            .lines()
            .filter(|l| l.contains(secret))
            .take(3)
            .collect();
        assert!(lines.is_empty(), "{what} is in the log: {lines:#?}");
    }
    let data = dir.path().join("store");
    assert!(
        files_containing(&data, PASSWORD.as_bytes()).is_empty(),
        "the password is on disk"
    );
    assert!(
        files_containing(&data, token.as_bytes()).is_empty(),
        "the token is on disk"
    );
}
