//! Benchmark: collecting 10,000 messages over POP3S from a local Dovecot, the relay next to
//! fetchmail on the same server in the same run. Run with
//! `cargo run --release -p webmail-tests --bin pop3-throughput [messages]`.
//!
//! The relay stores every message durably (file fsynced, row committed) before it deletes it on
//! the server; fetchmail hands each message to an MDA that appends it to a file, without fsync.

use std::time::Instant;

use webmail_server::config::TlsMode;
use webmail_tests::{client::Client, dovecot::Dovecot, fetchmail, mail, relay::RunningRelay};

const USER: (&str, &str) = ("bench@example.org", "bench");

#[tokio::main]
async fn main() {
    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dovecot = Dovecot::start(&[USER]).await;
    let fill = |dovecot: &Dovecot| {
        dovecot.deliver_many(USER.0, count, |i| {
            mail::message(
                "Sender <sender@example.org>",
                USER.0,
                &format!("Message {i}"),
                "Mon, 13 Nov 2023 12:00:00 +0000",
                &"A line of text in the body of a typical short message.\r\n".repeat(10),
            )
        })
    };

    fill(&dovecot);
    let data = tempfile::tempdir().expect("temp dir");
    let relay =
        RunningRelay::start_pop3(dovecot.pop3_server(TlsMode::Implicit), None, data.path()).await;
    let started = Instant::now();
    let mut client = Client::login_as(&relay, USER.0, USER.1, "pop3").await;
    let done = client
        .event(std::time::Duration::from_secs(600), |e| {
            e["kind"] == "collected"
        })
        .await;
    let relay_time = started.elapsed();
    assert_eq!(done["stored"].as_u64(), Some(u64::from(count)), "{done}");
    assert_eq!(dovecot.messages_on_server(USER.0), 0);

    fill(&dovecot);
    let fetchmail_time = fetchmail::collect(&dovecot, USER.0, USER.1).took;
    assert_eq!(
        dovecot.messages_on_server(USER.0),
        0,
        "fetchmail collected everything"
    );

    println!("POP3S collection of {count} messages from Dovecot (delete after download):");
    for (who, took) in [("relay", relay_time), ("fetchmail", fetchmail_time)] {
        println!(
            "  {who:<10} {:>7.2} s  {:>8.0} messages/s",
            took.as_secs_f64(),
            f64::from(count) / took.as_secs_f64()
        );
    }
}
