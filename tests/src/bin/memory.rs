//! Benchmark: the relay's memory. Collecting one 50 MB message by POP3 (the relay next to
//! fetchmail, on the same Dovecot, in the same run), and listing and opening every message of a
//! folder that holds the hostile corpus. The relay runs as its own release process so its
//! resident memory can be read. Run with `scripts/bench` (it builds the relay first), or
//! `cargo build --release -p webmail-tests --bins && target/release/memory`.

use std::time::{Duration, Instant};

use serde_json::json;
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    dovecot::Dovecot,
    fetchmail, hostile, mail,
    relay_process::{imap_section, pop3_section, release_relay, RelayProcess},
};

const USER: (&str, &str) = ("bench@example.org", "bench");
const BIG: usize = 50_000_000;

#[tokio::main]
async fn main() {
    let relay_binary = release_relay();
    let dovecot = Dovecot::start(&[USER]).await;

    // One 50 MB message of short lines, collected by the relay ...
    dovecot.deliver(USER.0, &hostile::big("Fifty megabytes", BIG), false);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pop3 = dovecot.pop3_server(TlsMode::Implicit);
    pop3.max_message_mb = 60;
    let relay = RelayProcess::start(&relay_binary, dir.path(), &pop3_section(&pop3)).await;
    let idle = relay.resident_kib();
    let started = Instant::now();
    let mut client = Client::login_as(&relay.relay(), USER.0, USER.1, "pop3").await;
    let done = client
        .event(Duration::from_secs(300), |e| e["kind"] == "collected")
        .await;
    let took = started.elapsed();
    assert_eq!(done["stored"], 1, "{done}");
    let relay_peak = relay.peak_kib();
    drop(relay);

    // ... and by fetchmail.
    dovecot.deliver(USER.0, &hostile::big("Fifty megabytes", BIG), false);
    let peer = fetchmail::collect(&dovecot, USER.0, USER.1);
    assert_eq!(
        dovecot.messages_on_server(USER.0),
        0,
        "fetchmail collected it"
    );

    println!(
        "POP3S collection of one {} MB message (short lines):",
        BIG / 1_000_000
    );
    println!(
        "  relay      peak {:>7} KiB resident, {:>7} KiB above idle ({idle} KiB)   {:>5.2} s",
        relay_peak,
        relay_peak.saturating_sub(idle),
        took.as_secs_f64()
    );
    println!(
        "  fetchmail  peak {:>7} KiB resident (whole process)                     {:>5.2} s",
        peer.peak_kib,
        peer.took.as_secs_f64()
    );

    // A folder holding the hostile corpus and a few normal messages, listed and every message
    // opened over IMAP.
    let corpus = hostile::corpus();
    for i in 0..3 {
        let raw = mail::message(
            "Anna <anna@example.org>",
            USER.0,
            &format!("Normal {i}"),
            "Wed, 22 Nov 2023 09:00:00 +0000",
            "hello",
        );
        dovecot.deliver(USER.0, &raw, false);
    }
    for message in &corpus {
        dovecot.deliver(USER.0, &message.raw, false);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = RelayProcess::start(
        &relay_binary,
        dir.path(),
        &imap_section(&dovecot.imap_server(TlsMode::Implicit)),
    )
    .await;
    let idle = relay.resident_kib();
    let mut client = Client::login(&relay.relay(), USER.0, USER.1).await;
    let started = Instant::now();
    let mut uids = Vec::new();
    let mut offset = 0;
    loop {
        let page = client
            .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": offset, "limit": 50}))
            .await;
        let rows = page["messages"].as_array().expect("rows").clone();
        if rows.is_empty() {
            break;
        }
        offset += rows.len();
        uids.extend(rows.iter().map(|r| r["uid"].clone()));
    }
    let listed = started.elapsed();
    for uid in &uids {
        let answer = client
            .call(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
            .await;
        assert_eq!(answer["type"], "response", "{answer}");
    }
    let opened = started.elapsed() - listed;
    println!(
        "\nIMAP folder of {} messages ({} hostile), every page listed and every message opened:",
        uids.len(),
        corpus.len()
    );
    println!(
        "  relay      listed in {:>6.0} ms, opened all in {:>6.0} ms, peak {:>7} KiB above idle",
        listed.as_secs_f64() * 1000.0,
        opened.as_secs_f64() * 1000.0,
        relay.peak_kib().saturating_sub(idle)
    );
}
