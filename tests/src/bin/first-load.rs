//! Figures: what the app costs on the wire, as Chromium (a phone screen) received it from the
//! relay: the first visit to the login page, the same visit once signed in (the app fetched as
//! the user typed), and a visit after logging in once (the service
//! worker and the HTTP cache in place). Bytes are `transferSize` (headers and body as they came,
//! compressed), per file of the app; the mail itself (`/api`, the WebSocket) is not counted.
//! Run by `scripts/bundle-size`, or `cargo run --release -p webmail-tests --bin first-load`.

use webmail_server::config::TlsMode;
use webmail_tests::{browser::Browser, dovecot::Dovecot, mail, relay::RunningRelay};

const USER: (&str, &str) = ("load@example.org", "load");

/// Name and bytes of every file of the app the page received, the page first.
async fn app_bytes(browser: &Browser) -> Vec<(String, u64)> {
    let entries = browser
        .eval(
            "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
               .filter(e => { const p = new URL(e.name).pathname; return !p.startsWith('/api/') && p !== '/ws'; })
               .map(e => [new URL(e.name).pathname, e.transferSize]);",
        )
        .await;
    entries
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn print(title: &str, files: &[(String, u64)]) {
    println!("{title}");
    for (name, bytes) in files {
        println!("  {name:<48} {bytes:>9}");
    }
    let total: u64 = files.iter().map(|(_, b)| b).sum();
    println!("  {:<48} {total:>9}\n", "total");
}

#[tokio::main]
async fn main() {
    let dovecot = Dovecot::start(&[USER]).await;
    dovecot.deliver(
        USER.0,
        &mail::message(
            "A <a@example.org>",
            USER.0,
            "Hello",
            "Mon, 13 Nov 2023 12:00:00 +0000",
            "Hi",
        ),
        false,
    );
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let browser = Browser::phone().await;

    browser
        .client
        .goto(&relay.url())
        .await
        .expect("the page loads");
    browser.login_form_shown().await;
    // Everything the login page pulls in, icons and manifest included, has arrived.
    browser.wait_for("document.readyState === 'complete'").await;
    print(
        "First visit, the login page (bytes on the wire):",
        &app_bytes(&browser).await,
    );

    // Signing in on that page: the app comes as the user types, and starts once signed in.
    for (field, value) in [("email", USER.0), ("password", USER.1)] {
        browser
            .find(&format!("input[name={field}]"))
            .await
            .send_keys(value)
            .await
            .expect("typing");
    }
    browser.click("button[type=submit]").await;
    browser
        .wait_for("document.querySelectorAll('.rows .row:not(.placeholder)').length > 0")
        .await;
    print(
        "The same first visit once signed in, the inbox showing (the page and the app):",
        &app_bytes(&browser).await,
    );

    browser
        .wait_for("navigator.serviceWorker.controller !== null")
        .await;
    browser.client.refresh().await.expect("reload");
    browser.find(".rows .row").await;
    browser.wait_for("document.readyState === 'complete'").await;
    print(
        "Repeat visit, logged in (0: from the service worker or the HTTP cache):",
        &app_bytes(&browser).await,
    );
    browser.close().await;
}
