//! Figures: Lighthouse 12.2.3 (npm, in tools/lighthouse; run with Debian's Chromium) on its
//! mobile profile, for the login page on a first visit and for the inbox once signed in (a phone
//! that has used the app before: its cookie, service worker and caches kept). Prints the
//! performance, accessibility and best-practices scores with the main timings, and names every
//! audit that did not pass. Run by `scripts/bundle-size`, or
//! `cargo run --release -p webmail-tests --bin lighthouse` after `scripts/build-app`.

use std::process::Command;

use webmail_server::config::TlsMode;
use webmail_tests::{dovecot::Dovecot, mail, relay::RunningRelay, workspace_root};

const USER: (&str, &str) = ("phone@example.org", "phone");

#[tokio::main]
async fn main() {
    let dovecot = Dovecot::start(&[USER]).await;
    for i in 0..30 {
        dovecot.deliver(
            USER.0,
            &mail::message(
                &format!("Sender {i} <s{i}@example.org>"),
                USER.0,
                &format!("Message number {i} about the family weekend"),
                &format!("Mon, {:02} Nov 2023 12:00:00 +0000", 1 + i % 28),
                "A few lines of text, as a family writes them.",
            ),
            i % 3 == 0,
        );
    }
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let script = workspace_root().join("tools/lighthouse/run.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args([relay.url().as_str(), USER.0, USER.1])
            .output()
            .expect("node runs (scripts/bundle-size installs Lighthouse)")
    })
    .await
    .expect("lighthouse ran");
    if !output.status.success() {
        panic!(
            "Lighthouse failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let result: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("run.mjs prints JSON");
    println!("Lighthouse 12.2.3, mobile profile (simulated slow 4G, a mid-range phone)");
    println!(
        "{:<8} {:>11} {:>13} {:>14} {:>8} {:>8} {:>8} {:>6}",
        "page",
        "performance",
        "accessibility",
        "best-practices",
        "FCP ms",
        "LCP ms",
        "TBT ms",
        "CLS"
    );
    for page in ["login", "inbox"] {
        let p = &result[page];
        let n = |key: &str| p[key].as_i64().unwrap_or(-1);
        println!(
            "{page:<8} {:>11} {:>13} {:>14} {:>8} {:>8} {:>8} {:>6.3}",
            n("performance"),
            n("accessibility"),
            n("best-practices"),
            n("fcp_ms"),
            n("lcp_ms"),
            n("tbt_ms"),
            p["cls"].as_f64().unwrap_or(-1.0)
        );
    }
    for page in ["login", "inbox"] {
        for failed in result[page]["failed"].as_array().into_iter().flatten() {
            println!(
                "  {page}: not passed: {}",
                failed.as_str().unwrap_or_default()
            );
        }
    }
    let throttled = &result["throttled"];
    println!(
        "Chromium itself, throttled as that profile simulates (150 ms, 1.6 Mbit/s, CPU 4x slower), \
         first visit of the login page: largest contentful paint at {} ms ({}), the form ready at {} ms",
        throttled["lcp_ms"],
        throttled["lcp_element"].as_str().unwrap_or_default(),
        throttled["form_ms"],
    );
}
