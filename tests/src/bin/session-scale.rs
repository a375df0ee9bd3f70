//! Benchmark: what sessions cost. The relay (its own release process) holds 10, 500 and 2,000
//! logged-in sessions, each an IMAP connection in IDLE with its INBOX's first page mirrored;
//! its resident memory per session is printed next to Dovecot's own cost per connection for
//! the same sessions (the proportional set size of its `imap` and `imap-login` processes),
//! measured in the same run. Then what a browser socket costs (50 of them), what a row a
//! session keeps costs (each of the 50 lists its whole INBOX), so what an idle session costs
//! without its rows, and the latency of opening messages while all 50 do it at once.
//! Run with `scripts/bench`, or
//! `cargo build --release -p webmail-tests --bins && target/release/session-scale`.

use std::time::{Duration, Instant};

use serde_json::json;
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    dovecot::{imap_processes_kib, Dovecot},
    mail,
    relay_process::{imap_section, release_relay, RelayProcess},
};

const USERS: usize = 20;
/// Messages in each user's INBOX.
const MESSAGES: u32 = 200;
const LEVELS: [usize; 3] = [10, 500, 2_000];
/// Logins sent at once (the relay lets 16 talk to the mail server at a time).
const LOGINS_AT_ONCE: usize = 16;
const ACTIVE: usize = 50;
const OPENS_EACH: usize = 20;

#[tokio::main]
async fn main() {
    let relay_binary = release_relay();
    let users: Vec<(&'static str, &'static str)> = (0..USERS)
        .map(|i| {
            let email: &'static str = format!("user{i}@example.org").leak();
            (email, "scale-pw")
        })
        .collect();
    let dovecot = Dovecot::start(&users).await;
    for (email, _) in &users {
        dovecot.deliver_many(email, MESSAGES, |i| {
            mail::message(
                "Sender <sender@example.org>",
                email,
                &format!("Message {i}"),
                "Mon, 13 Nov 2023 12:00:00 +0000",
                "A line of text, as most mail is.",
            )
        });
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Many sessions of each of the few users stand for as many people.
    let imap = format!(
        "sessions_per_user = {}\n{}",
        LEVELS[2],
        imap_section(&dovecot.imap_server(TlsMode::Starttls))
    );
    let relay = RelayProcess::start(&relay_binary, dir.path(), &imap).await;
    let http = relay.relay();
    let empty = relay.resident_kib();
    let dovecot_empty = imap_processes_kib();

    println!("Sessions: each an IMAP connection in IDLE, its INBOX ({MESSAGES} messages) opened");
    println!("and the first 50 rows mirrored. Relay: resident memory; Dovecot: PSS of its imap");
    println!("and imap-login processes, for the same connections.\n");
    println!(
        "{:>9} {:>12} {:>16} {:>14} {:>18}",
        "sessions", "relay MiB", "relay KiB/sess.", "Dovecot MiB", "Dovecot KiB/conn."
    );
    let mut cookies: Vec<String> = Vec::new();
    let mut per_session_kib = 0.0;
    for level in LEVELS {
        while cookies.len() < level {
            let batch = (level - cookies.len()).min(LOGINS_AT_ONCE);
            let logins = (0..batch).map(|i| {
                let (email, password) = users[(cookies.len() + i) % USERS];
                let http = &http;
                async move { http.login(email, password).await }
            });
            for (status, cookie, body) in futures_util::future::join_all(logins).await {
                assert_eq!(status, 200, "login: {body}");
                cookies.push(cookie.expect("a session cookie"));
            }
        }
        // The INBOX warm-up and the conversation sizes of the last logins done.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let relay_kib = relay.resident_kib() - empty;
        let dovecot_kib = imap_processes_kib().saturating_sub(dovecot_empty);
        per_session_kib = relay_kib as f64 / level as f64;
        println!(
            "{level:>9} {:>12.1} {:>16.1} {:>14.1} {:>18.1}",
            relay_kib as f64 / 1024.0,
            relay_kib as f64 / level as f64,
            dovecot_kib as f64 / 1024.0,
            dovecot_kib as f64 / level as f64,
        );
    }

    // Browser sockets for 50 of them (what a socket costs), then each lists its whole INBOX:
    // 150 rows more kept, which is what a row costs.
    let before = relay.resident_kib();
    let mut clients = Vec::new();
    for cookie in cookies.iter().take(ACTIVE) {
        clients.push(Client::resume(&http, cookie).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with_sockets = relay.resident_kib();
    for client in &mut clients {
        for offset in (0..MESSAGES).step_by(50) {
            client
                .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": offset, "limit": 50}))
                .await;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows_kib = relay.resident_kib().saturating_sub(with_sockets);
    let per_row = rows_kib as f64 * 1024.0 / (ACTIVE as f64 * f64::from(MESSAGES - 50));
    println!(
        "\n{ACTIVE} sessions opening a browser socket: {:.1} KiB per socket; each then listing \
         all {MESSAGES} rows: {per_row:.0} bytes per row kept",
        with_sockets.saturating_sub(before) as f64 / ACTIVE as f64,
    );
    println!(
        "so an idle session at {} sessions: {per_session_kib:.1} KiB with the 50 rows it keeps, \
         {:.1} KiB without them, plus {per_row:.0} bytes per row",
        LEVELS[2],
        per_session_kib - 50.0 * per_row / 1024.0,
    );

    // All 50 open messages at once, one after another each.
    let opens = clients.iter_mut().map(|client| async move {
        let mut took = Vec::new();
        for i in 0..OPENS_EACH {
            let uid = MESSAGES as usize - i;
            let started = Instant::now();
            client
                .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
                .await;
            took.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        took
    });
    let mut took: Vec<f64> = futures_util::future::join_all(opens)
        .await
        .into_iter()
        .flatten()
        .collect();
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "open a message, {ACTIVE} sessions at once ({} opens, relay to socket): \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        took.len(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
}
