//! The hostile corpus (`webmail_tests::hostile`) in a real Dovecot next to normal mail, through
//! the relay's protocol: the folder always lists, every normal message opens, every hostile one
//! opens or fails alone with a clear error, and the connection to the mail server is never
//! given up for it.

use serde_json::{json, Value};
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    dovecot::Dovecot,
    hostile::{self, SUBJECT_PREFIX},
    mail,
    relay::RunningRelay,
};

const VICTIM: (&str, &str) = ("victim@example.org", "pw");
const NORMAL: [&str; 3] = ["Normal one", "Normal two", "Normal three"];

async fn inbox_with_the_corpus() -> (Dovecot, RunningRelay, usize) {
    let dovecot = Dovecot::start(&[VICTIM]).await;
    let corpus = hostile::corpus();
    assert!(
        corpus.len() >= 40,
        "the corpus has {} messages",
        corpus.len()
    );
    for (i, subject) in NORMAL.iter().enumerate() {
        let date = format!("Wed, {} Nov 2023 09:00:00 +0000", 22 + i);
        let raw = mail::message("Anna <anna@example.org>", VICTIM.0, subject, &date, "hello");
        dovecot.deliver(VICTIM.0, &raw, false);
    }
    for message in &corpus {
        dovecot.deliver(VICTIM.0, &message.raw, false);
    }
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Implicit)).await;
    (dovecot, relay, NORMAL.len() + corpus.len())
}

/// Every row of INBOX, page by page as the app scrolls.
async fn all_rows(client: &mut Client, total: usize) -> Vec<Value> {
    let mut rows = Vec::new();
    for offset in (0..total).step_by(20) {
        let page = client
            .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": offset, "limit": 20}))
            .await;
        assert_eq!(page["total"], total, "{page}");
        rows.extend(page["messages"].as_array().unwrap().iter().cloned());
    }
    rows
}

fn row<'a>(rows: &'a [Value], subject: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["subject"] == subject)
        .unwrap_or_else(|| panic!("no row {subject:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_mail_never_takes_the_folder_down() {
    let (_dovecot, relay, total) = inbox_with_the_corpus().await;
    let mut client = Client::login(&relay, VICTIM.0, VICTIM.1).await;

    let rows = all_rows(&mut client, total).await;
    assert_eq!(rows.len(), total, "every message has a row");
    let mut uids: Vec<u64> = rows.iter().map(|r| r["uid"].as_u64().unwrap()).collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), total, "no row twice");

    // Structures nested deeper than the IMAP parser reads are rows too, marked as damaged,
    // with what their headers say.
    for name in ["deep multipart 12", "deep rfc822 12", "deep multipart 2000"] {
        let damaged = row(&rows, &format!("{SUBJECT_PREFIX} {name}"));
        assert_eq!(damaged["damaged"], true, "{damaged}");
        assert_eq!(damaged["from"]["email"], "mallory@example.net");
        assert!(damaged["size"].as_u64().unwrap() > 0);
    }
    for subject in NORMAL {
        assert_eq!(row(&rows, subject)["damaged"], false);
    }
    // The thread nested deeper than the parser's limit: THREAD falls back, rows stay.
    assert!(rows
        .iter()
        .any(|r| r["subject"] == format!("{SUBJECT_PREFIX} deep thread 12")));

    // Every message opens, or fails alone with a clear error; nothing ends the connection.
    let mut failures = Vec::new();
    for r in &rows {
        let answer = client
            .call(json!({"op": "open_message", "folder": "INBOX", "uid": r["uid"]}))
            .await;
        if answer["type"] != "response" {
            failures.push(format!("{}: {}", r["subject"], answer["error"]));
        }
    }
    assert!(failures.is_empty(), "could not open: {failures:#?}");
    assert!(
        client
            .take_events()
            .iter()
            .all(|e| e["kind"] != "reconnecting"),
        "the relay gave up its connection over a message"
    );

    // A damaged message opens from its raw text and says so.
    let deep = row(
        &rows,
        &format!("{SUBJECT_PREFIX} deep multipart with html at the bottom"),
    );
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": deep["uid"]}))
        .await;
    assert_eq!(view["damaged"], true, "{view}");
    let shown = view["body"].to_string();
    assert!(shown.contains("html at the bottom"), "{shown}");
    assert!(
        !shown.contains("<script"),
        "sanitized like any body: {shown}"
    );

    // ... downloads whole as .eml, byte for byte ...
    let raw = hostile::corpus()
        .into_iter()
        .find(|h| h.name == "deep multipart with html at the bottom")
        .unwrap()
        .raw;
    let download = relay
        .get(
            &format!("/api/download?folder=INBOX&uid={}", deep["uid"]),
            Some(&client.cookie),
        )
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, raw);

    // ... and can be deleted like any other.
    client
        .ok(json!({"op": "delete_messages", "folder": "INBOX", "uids": [deep["uid"]]}))
        .await;
    let trash = client
        .ok(json!({"op": "list_messages", "folder": "Trash", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(trash["messages"][0]["damaged"], true, "{trash}");
    assert_eq!(all_rows(&mut client, total - 1).await.len(), total - 1);

    // Search reads rows the same way.
    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"subject": "deep rfc822"}}))
        .await;
    let hits = hits["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|h| h["message"]["damaged"] == true));
}
