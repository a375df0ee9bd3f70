//! Benchmark: sending, the relay next to a mail program that does it itself (msmtp submitting
//! to the same Postfix, then APPENDing its copy to Sent, as Thunderbird does). Twenty short
//! messages, undo delay 0: from Send until the message is in Bob's INBOX and in Alice's Sent.
//! Then one message with a 20 MB attachment: the upload, and the whole way to Bob's INBOX.
//! Run with `cargo run --release -p webmail-tests --bin send-latency`.

use std::time::{Duration, Instant};

use serde_json::json;
use webmail_tests::{
    client::Client, family::Family, mail, msmtp, raw_imap::RawImap, relay::RunningRelay,
};

const ALICE: (&str, &str) = ("alice@example.org", "alice-pw");
const BOB: (&str, &str) = ("bob@example.org", "bob-pw");
const SENDS: usize = 20;

/// Messages in `folder`, by STATUS.
async fn count(imap: &mut RawImap, folder: &str) -> usize {
    let answer = imap.ok(&format!("STATUS \"{folder}\" (MESSAGES)")).await;
    answer
        .split("MESSAGES ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("a STATUS answer")
}

/// Waits until `folder` holds `n` messages; returns when that was seen.
async fn until(imap: &mut RawImap, folder: &str, n: usize) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if count(imap, folder).await >= n {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{folder} never reached {n}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn draft(i: usize, attachments: serde_json::Value) -> serde_json::Value {
    json!({
        "id": format!("{i:032x}"), "from": ALICE.0,
        "to": [{"name": "Bob", "email": BOB.0}], "cc": [], "bcc": [],
        "subject": format!("Bench {i}"), "text": "A short note, as most mail is.\n".repeat(5),
        "attachments": attachments, "in_reply_to": null, "references": [], "origin": null
    })
}

fn stats(label: &str, mut millis: Vec<f64>) {
    millis.sort_by(f64::total_cmp);
    let median = millis[millis.len() / 2];
    let p95 = millis[(millis.len() * 95).div_ceil(100) - 1];
    println!("  {label:<34} median {median:>7.1} ms   p95 {p95:>7.1} ms");
}

#[tokio::main]
async fn main() {
    let family = Family::start(&[ALICE, BOB]).await;
    let relay = RunningRelay::start_config(0, family.relay_config()).await;
    let mut alice = Client::login(&relay, ALICE.0, ALICE.1).await;
    let port = family.dovecot.imap_port;
    let mut bob_imap = RawImap::login(port, BOB.0, BOB.1).await;
    let mut alice_imap = RawImap::login(port, ALICE.0, ALICE.1).await;
    let ca = family.dovecot.pki.ca_pem.clone();

    let (mut relay_inbox, mut relay_sent) = (Vec::new(), Vec::new());
    for i in 0..SENDS {
        let started = Instant::now();
        let answer = alice
            .ok(json!({"op": "send", "draft": draft(i, json!([])), "delay_seconds": 0}))
            .await;
        assert_eq!(answer["kind"], "queued");
        let inbox = until(&mut bob_imap, "INBOX", i + 1).await;
        let sent = until(&mut alice_imap, "Sent", i + 1).await;
        relay_inbox.push((inbox - started).as_secs_f64() * 1000.0);
        relay_sent.push((sent - started).as_secs_f64() * 1000.0);
    }
    let (mut peer_inbox, mut peer_sent) = (Vec::new(), Vec::new());
    for i in 0..SENDS {
        let message = mail::message(
            ALICE.0,
            BOB.0,
            &format!("Peer {i}"),
            "Wed, 02 Dec 2026 10:00:00 +0000",
            &"A short note, as most mail is.\r\n".repeat(5),
        );
        let started = Instant::now();
        msmtp::submit(&family.postfix, &ca, ALICE.0, ALICE.1, &message);
        alice_imap.append("Sent", &message, "\\Seen").await;
        let sent = Instant::now();
        let inbox = until(&mut bob_imap, "INBOX", SENDS + i + 1).await;
        peer_inbox.push((inbox - started).as_secs_f64() * 1000.0);
        peer_sent.push((sent - started).as_secs_f64() * 1000.0);
    }
    println!("Sending {SENDS} short messages through Postfix into Dovecot (undo delay 0):");
    stats("relay: Send to Bob's INBOX", relay_inbox);
    stats("relay: Send to the copy in Sent", relay_sent);
    stats("msmtp + APPEND: to Bob's INBOX", peer_inbox);
    stats("msmtp + APPEND: to the copy in Sent", peer_sent);

    let big: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let started = Instant::now();
    let upload = relay
        .upload(&alice.cookie, "big.bin", "application/octet-stream", &big)
        .await;
    let uploaded = started.elapsed();
    assert_eq!(
        upload.status,
        200,
        "{}",
        String::from_utf8_lossy(&upload.body)
    );
    let id = upload.json()["id"].clone();
    let attachments = json!([{"name": "big.bin", "mime_type": "application/octet-stream",
        "size": big.len(), "source": {"from": "upload", "id": id}}]);
    let sending = Instant::now();
    alice
        .ok(json!({"op": "send", "draft": draft(99, attachments), "delay_seconds": 0}))
        .await;
    let relay_big = until(&mut bob_imap, "INBOX", 2 * SENDS + 1).await - sending;
    let message = mail::with_attachment(
        ALICE.0,
        BOB.0,
        "Peer big",
        "big.bin",
        "application/octet-stream",
        &big,
    );
    let started = Instant::now();
    msmtp::submit(&family.postfix, &ca, ALICE.0, ALICE.1, &message);
    let peer_big = until(&mut bob_imap, "INBOX", 2 * SENDS + 2).await - started;
    println!("A 20 MB attachment:");
    println!(
        "  relay: upload                      {:>7.0} ms   {:>6.1} MB/s",
        uploaded.as_secs_f64() * 1000.0,
        20.0 / uploaded.as_secs_f64()
    );
    println!(
        "  relay: Send to Bob's INBOX         {:>7.0} ms",
        relay_big.as_secs_f64() * 1000.0
    );
    println!(
        "  msmtp: submit to Bob's INBOX       {:>7.0} ms",
        peer_big.as_secs_f64() * 1000.0
    );
}
