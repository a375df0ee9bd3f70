//! The demo: a local Dovecot with a demo account and sample mail, and the relay in front of it,
//! all on loopback. Run by `scripts/demo`.

use webmail_server::config::TlsMode;
use webmail_tests::{dovecot::Dovecot, mail, relay::RunningRelay};

const DEMO: (&str, &str) = ("demo@example.org", "demo");
/// A second account to try POP3 with: collecting moves its mail into the relay's store.
const FAMILY: (&str, &str) = ("family@example.org", "demo");

#[tokio::main]
async fn main() {
    let dovecot = Dovecot::start(&[DEMO, FAMILY]).await;
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
    println!(
        "  (Dovecot IMAP STARTTLS on 127.0.0.1:{}; Ctrl-C stops everything)",
        dovecot.imap_port
    );
    println!();
    tokio::signal::ctrl_c().await.expect("signal handler");
    drop(relay);
    drop(dovecot);
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
