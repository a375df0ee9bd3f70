//! The hostile corpus (`webmail_tests::hostile`) in a real Dovecot next to normal mail, through
//! the relay's protocol: the folder always lists, every normal message opens, every hostile one
//! opens or fails alone with a clear error, and the connection to the mail server is never
//! given up for it.

use std::time::Duration;

use serde_json::{json, Value};
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    dovecot::Dovecot,
    hostile::{self, SUBJECT_PREFIX},
    mail,
    relay::RunningRelay,
    relay_process::{pop3_section, RelayProcess},
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

/// The message view of one row.
async fn open(client: &mut Client, row: &Value) -> Value {
    client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": row["uid"]}))
        .await
}

/// Opens every row's message; what failed, with why.
async fn open_each(client: &mut Client, rows: &[Value]) -> Vec<String> {
    let mut failures = Vec::new();
    for r in rows {
        let answer = client
            .call(json!({"op": "open_message", "folder": "INBOX", "uid": r["uid"]}))
            .await;
        if answer["type"] != "response" {
            failures.push(format!("{}: {}", r["subject"], answer["error"]));
        }
    }
    failures
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
    // The thread nests deeper than the IMAP parser reads (limit 8): the THREAD answer is
    // skipped and the list goes without conversation sizes, rather than failing.
    let deepest = row(&rows, &format!("{SUBJECT_PREFIX} deep thread 12"));
    assert_eq!(deepest["thread_size"], 1, "{deepest}");

    // Every message opens, or fails alone with a clear error; nothing ends the connection.
    let failures = open_each(&mut client, &rows).await;
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
    let view = open(&mut client, deep).await;
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

/// The same corpus through a POP3 account, with the relay as a process of its own so that its
/// memory can be read: collecting streams every message to disk, so a 20 MB message costs no
/// more memory than a small one; one above the size limit stays on the server, named.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_mail_collected_by_pop3_in_bounded_memory() {
    const BIG: usize = 20_000_000;
    let (dovecot, _, total) = inbox_with_the_corpus().await;
    dovecot.deliver(VICTIM.0, &hostile::big("Twenty megabytes", BIG), false);
    dovecot.deliver(
        VICTIM.0,
        &hostile::big("Thirty megabytes", 30_000_000),
        false,
    );
    let mut pop3 = dovecot.pop3_server(TlsMode::Implicit);
    pop3.max_message_mb = 25;
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_relay")),
        dir.path(),
        &pop3_section(&pop3),
    )
    .await;
    let idle = relay.resident_kib();
    let mut client = Client::login_as(&relay.relay(), VICTIM.0, VICTIM.1, "pop3").await;
    let done = client
        .event(Duration::from_secs(120), |e| e["kind"] == "collected")
        .await;
    let grew = relay.peak_kib().saturating_sub(idle);
    assert_eq!(done["error"], Value::Null, "{done}");
    assert_eq!(done["stored"], total + 1, "{done}");
    assert_eq!(done["too_big"][0]["subject"], "Thirty megabytes", "{done}");
    assert!(done["too_big"][0]["size"].as_u64().unwrap() > 30_000_000);
    assert_eq!(
        dovecot.messages_on_server(VICTIM.0),
        1,
        "only the big one stays"
    );
    assert!(
        grew < MEMORY_BOUND_KIB,
        "collecting grew the relay by {grew} KiB (idle {idle} KiB)"
    );
    eprintln!("POP3 collection of the corpus and {BIG} bytes: relay peak {grew} KiB above idle");

    let rows = all_rows(&mut client, total + 1).await;
    let failures = open_each(&mut client, &rows).await;
    assert!(failures.is_empty(), "could not open: {failures:#?}");
    let images = row(
        &rows,
        &format!("{SUBJECT_PREFIX} three hundred inline images"),
    );
    let view = open(&mut client, images).await;
    let html = view["body"]["html"].as_str().unwrap();
    assert_eq!(
        html.matches("src=\"data:image/png").count(),
        50,
        "the default limit"
    );
}

/// What collecting may add to the relay's resident memory, whatever the messages' sizes (a debug
/// build; `scripts/bench` measures the release build).
const MEMORY_BOUND_KIB: u64 = 32 * 1024;
