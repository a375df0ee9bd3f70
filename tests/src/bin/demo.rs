//! The demo: a local Dovecot with two accounts and sample mail, a Postfix in front of it for
//! sending, and the relay, all on loopback. Run by `scripts/demo`.

use webmail_server::config::TlsMode;
use webmail_tests::{family::Family, mail, relay::RunningRelay};

const DEMO: (&str, &str) = ("demo@example.org", "demo");
/// A second account to try POP3 with: collecting moves its mail into the relay's store.
const FAMILY: (&str, &str) = ("family@example.org", "demo");

#[tokio::main]
async fn main() {
    let family = Family::start(&[DEMO, FAMILY]).await;
    let dovecot = &family.dovecot;
    for account in [DEMO.0, FAMILY.0] {
        for (i, (from, subject, body, seen)) in SAMPLES.iter().enumerate() {
            let date = format!(
                "{:02} Nov 2026 {:02}:{:02}:00 +0100",
                1 + i,
                8 + i % 10,
                (i * 7) % 60
            );
            dovecot.deliver(
                account,
                &mail::message(from, account, subject, &date, body),
                *seen,
            );
        }
        let newsletter = mail::html_with_attachment(
            "Newsletter <news@example.org>",
            account,
            "November newsletter",
        );
        dovecot.deliver(account, &newsletter, false);
    }
    let data = tempfile::tempdir().expect("temp dir");
    let port = std::env::var("DEMO_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let relay = RunningRelay::start_demo(
        port,
        dovecot.imap_server(TlsMode::Starttls),
        dovecot.pop3_server(TlsMode::Implicit),
        family.postfix.smtp_server(TlsMode::Starttls),
        data.path(),
    )
    .await;
    println!();
    println!("  Webmail demo is running: {}", relay.url());
    println!("  IMAP: log in as {} with password {:?}", DEMO.0, DEMO.1);
    println!(
        "  POP3: choose POP3 and log in as {} with password {:?}",
        FAMILY.0, FAMILY.1
    );
    println!("  The two can write to each other: mail goes out through a local Postfix.");
    println!(
        "  (Dovecot IMAP STARTTLS on 127.0.0.1:{}; Ctrl-C stops everything)",
        dovecot.imap_port
    );
    println!();
    // Ctrl-C or a plain kill: either way the servers are stopped (Postfix's master runs in a
    // session of its own and would outlive the demo otherwise).
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    drop(relay);
    drop(family);
}

/// (From, Subject as written in the header, body, already read?)
const SAMPLES: &[(&str, &str, &str, bool)] = &[
    (
        "Oma Hilde <hilde@example.de>",
        "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_dem_Schwarzwald?=",
        "Liebe Grüße, eure Oma",
        true,
    ),
    (
        "School Office <office@school.example>",
        "Parents' evening on Thursday",
        "Dear parents, ...",
        true,
    ),
    (
        "=?ISO-8859-1?Q?J=FCrgen_Wei=DF?= <jw@example.de>",
        "Fahrrad-Reparatur",
        "Das Rad ist fertig.",
        true,
    ),
    (
        "Bank <noreply@bank.example>",
        "Your statement is ready",
        "Log in to see it.",
        true,
    ),
    (
        "Lena <lena@example.org>",
        "=?UTF-8?B?8J+OiSBCaXJ0aGRheSBwYXJ0eSBwaG90b3M=?=",
        "Here they are!",
        true,
    ),
    (
        "Football Club <club@example.org>",
        "Training moved to 18:00",
        "See you there.",
        true,
    ),
    (
        "Max <max@example.de>",
        "=?UTF-8?Q?K=C3=B6nnen_wir_am_Samstag_tauschen=3F?=",
        "Ich hätte Dienst.",
        false,
    ),
    (
        "Library <library@example.org>",
        "Reminder: books due on Monday",
        "Two books are due.",
        false,
    ),
    (
        "Anna <anna@example.org>",
        "Recipe for the apple cake",
        "200 g flour, ...",
        false,
    ),
    (
        "Dad <dad@example.org>",
        "Holiday plans",
        "What about the sea?",
        false,
    ),
];
