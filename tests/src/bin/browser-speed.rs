//! Benchmark: what a user waits for, measured in headless Chromium driving the real UI, this
//! webmail next to Roundcube (Debian's, `php -S` with OPcache) in the same run, on the same
//! Dovecot: a 10,000-message INBOX and a 301-message folder. A latency proxy between each
//! webmail's server side and Dovecot adds 0 or 25 ms of round-trip time (a relay at home, the
//! mailbox at a provider). Each step is timed from the click to the first animation frame
//! whose page shows the text (so to about one frame, 16 ms); a warm-up round is not counted.
//! Run with `cargo run --release -p webmail-tests --bin browser-speed` (scripts/bench does).

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use webmail_server::config::TlsMode;
use webmail_tests::{
    browser::Browser, dovecot::Dovecot, latency::LatencyProxy, mail, raw_imap::RawImap,
    relay::RunningRelay, roundcube::Roundcube, webmails::Webmail,
};

const ALICE: (&str, &str) = ("alice@example.org", "alice-pw");
const INBOX_SIZE: u32 = 10_000;
const LISTS_SIZE: u32 = 301;
const RUNS: usize = 7;

const STEPS: [&str; 6] = [
    "login → newest INBOX rows",
    "open a message",
    "open the one below after reading 1 s",
    "switch to the 301-message folder",
    "switch back to the 10,000-message INBOX",
    "new mail (APPEND elsewhere) → row",
];

/// `i` seconds into 13 Nov 2023: message dates that sort as they were delivered.
fn date(i: u32) -> String {
    format!(
        "Mon, 13 Nov 2023 {:02}:{:02}:{:02} +0000",
        i / 3600,
        i / 60 % 60,
        i % 60
    )
}

fn inbox_subject(i: u32) -> String {
    format!("Inbox message {i:05}")
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
        * 1000.0
}

/// One round of the steps; the times in ms, `None` where a step is not measured.
async fn round(
    webmail: Webmail,
    browser: &Browser,
    url: &str,
    phone: &mut RawImap,
    n: usize,
) -> Vec<Option<f64>> {
    let newest = inbox_subject(INBOX_SIZE - 1);
    let _ = browser.client.delete_all_cookies().await;
    browser.client.goto(url).await.expect("the page loads");
    let [user, password, submit] = webmail.login_fields();
    if webmail == Webmail::Ours {
        // The form shows once the relay said what it offers.
        browser.login_form_shown().await;
    }
    for (field, value) in [(user, ALICE.0), (password, ALICE.1)] {
        browser
            .find(field)
            .await
            .send_keys(value)
            .await
            .expect("typing");
    }
    // Among the rows in view (the list is virtualized), a different one each round.
    let opened_index = INBOX_SIZE - 2 - (n % 6) as u32;
    let opened = inbox_subject(opened_index);
    let below = inbox_subject(opened_index - 1);
    let list_newest = format!("List message {:03}", LISTS_SIZE - 1);
    // Each step: the pause before it (the user looking at what the last one showed), the
    // click, and what then shows.
    let (glance, read) = (Duration::from_millis(300), Duration::from_secs(1));
    let clicks = [
        (
            Duration::ZERO,
            format!("document.querySelector('{submit}').click()"),
            webmail.rows_show(&newest),
        ),
        (
            glance,
            webmail.click_row(&opened),
            webmail.message_shows(&opened),
        ),
        (
            read,
            webmail.click_row(&below),
            webmail.message_shows(&below),
        ),
        (
            glance,
            webmail.click_folder("Lists"),
            webmail.rows_show(&list_newest),
        ),
        (
            glance,
            webmail.click_folder("INBOX"),
            webmail.rows_show(&newest),
        ),
    ];
    let mut times = Vec::new();
    for (pause, action, shown) in clicks {
        tokio::time::sleep(pause).await;
        let t = browser.act(&action).await;
        let time = browser.frame_when(&shown).await.map(|f| f - t);
        times.push(time);
        // A step that never showed leaves the page somewhere the next cannot start from.
        if time.is_none() {
            times.resize(STEPS.len(), None);
            return times;
        }
    }
    tokio::time::sleep(glance).await;

    // New mail: Roundcube asks every 60 s (its refresh_interval); not waited for here.
    if webmail == Webmail::Ours {
        tokio::time::sleep(Duration::from_millis(500)).await;
        static FRESH: AtomicU32 = AtomicU32::new(0);
        let subject = format!("Fresh mail {}", FRESH.fetch_add(1, Ordering::Relaxed));
        let raw = mail::message(
            "Carol <carol@example.org>",
            ALICE.0,
            &subject,
            "Tue, 14 Nov 2023 12:00:00 +0000",
            "Hi",
        );
        let t = now_ms();
        phone.append("INBOX", &raw, "").await;
        times.push(
            browser
                .frame_when(&webmail.rows_show(&subject))
                .await
                .map(|f| f - t),
        );
        // Gone again (it is the last to arrive), so that every round sees the same INBOX.
        phone.ok("SELECT INBOX").await;
        phone.ok("STORE * +FLAGS.SILENT (\\Deleted)").await;
        phone.ok("EXPUNGE").await;
        // Signed out, as one person on one device: the next round's session is the only one
        // (a session otherwise stays, with its IMAP connection, for its idle time).
        browser
            .eval("return fetch('/api/logout', {method: 'POST'}).then(r => r.status)")
            .await;
    } else {
        times.push(None);
    }
    times
}

/// Median and 95th percentile.
fn summary(mut millis: Vec<f64>) -> Option<(f64, f64)> {
    if millis.is_empty() {
        return None;
    }
    millis.sort_by(f64::total_cmp);
    let median = millis[millis.len() / 2];
    let p95 = millis[(millis.len() * 95).div_ceil(100) - 1];
    Some((median, p95))
}

/// The figures per step, and the login of the warm-up round (the first of the run: nothing
/// kept from an earlier session).
async fn measure(
    webmail: Webmail,
    url: &str,
    phone: &mut RawImap,
) -> (Vec<Option<(f64, f64)>>, Option<f64>) {
    let browser = Browser::desktop().await;
    let first_login = round(webmail, &browser, url, phone, 100).await[0];
    let mut by_step: Vec<Vec<f64>> = vec![Vec::new(); STEPS.len()];
    for n in 0..RUNS {
        for (step, time) in round(webmail, &browser, url, phone, n)
            .await
            .into_iter()
            .enumerate()
        {
            by_step[step].extend(time);
        }
    }
    browser.close().await;
    (by_step.into_iter().map(summary).collect(), first_login)
}

fn cell(figure: Option<(f64, f64)>) -> String {
    match figure {
        Some((median, p95)) => format!("{median:>6.0} / {p95:>6.0}"),
        None => format!("{:>15}", "not measured"),
    }
}

fn ratio(ours: Option<(f64, f64)>, peer: Option<(f64, f64)>) -> String {
    match (ours, peer) {
        (Some(o), Some(p)) => format!("{:>5.2}", o.0 / p.0),
        _ => format!("{:>5}", "–"),
    }
}

#[tokio::main]
async fn main() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    dovecot.deliver_many(ALICE.0, INBOX_SIZE, |i| {
        let from = format!("Sender {} <sender{}@example.org>", i % 50, i % 50);
        mail::message(
            &from,
            ALICE.0,
            &inbox_subject(i),
            &date(i),
            "A line of text, as most mail is.",
        )
    });
    dovecot.deliver_many_to(ALICE.0, "Lists", LISTS_SIZE, |i| {
        let subject = format!("List message {i:03}");
        mail::message(
            "List <list@example.org>",
            ALICE.0,
            &subject,
            &date(INBOX_SIZE + i),
            "On the list.",
        )
    });
    // Dovecot builds its indexes on first sight: done here, not inside either webmail's time.
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    for folder in ["Lists", "INBOX"] {
        phone.ok(&format!("SELECT {folder}")).await;
        phone.ok("UID SORT (REVERSE DATE) UTF-8 ALL").await;
        phone.ok("UID THREAD REFERENCES UTF-8 ALL").await;
        phone.ok("FETCH 1:* (FLAGS BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES)])").await;
    }
    // Roundcube lists subscribed folders only.
    phone.ok("SUBSCRIBE Lists").await;
    phone.ok("SELECT Lists").await;

    println!("Browser timings, ms (median / p95 of {RUNS}; click to first frame showing it),");
    println!("{INBOX_SIZE}-message INBOX, {LISTS_SIZE}-message folder, same Dovecot, latency proxy to it:\n");
    let mut table = Vec::new();
    let mut firsts = Vec::new();
    for rtt in [0u64, 25] {
        let proxy = LatencyProxy::start(dovecot.imap_port, Duration::from_millis(rtt)).await;
        let mut server = dovecot.imap_server(TlsMode::Starttls);
        server.port = proxy.port;
        let relay = RunningRelay::start(server).await;
        let (ours, ours_first) = measure(Webmail::Ours, &relay.url(), &mut phone).await;
        drop(relay);
        let roundcube = Roundcube::start(proxy.port, &dovecot.pki.ca_pem).await;
        let (peer, peer_first) = measure(Webmail::Roundcube, &roundcube.url(), &mut phone).await;
        table.push((rtt, ours, peer));
        firsts.push((rtt, ours_first, peer_first));
    }
    println!(
        "{:<42} {:>15} {:>15} {:>5}   {:>15} {:>15} {:>5}",
        "step", "ours +0 ms", "Roundcube +0", "ratio", "ours +25 ms", "Roundcube +25", "ratio"
    );
    for (i, step) in STEPS.iter().enumerate() {
        let (_, ours0, peer0) = &table[0];
        let (_, ours25, peer25) = &table[1];
        println!(
            "{step:<42} {} {} {}   {} {} {}",
            cell(ours0[i]),
            cell(peer0[i]),
            ratio(ours0[i], peer0[i]),
            cell(ours25[i]),
            cell(peer25[i]),
            ratio(ours25[i], peer25[i]),
        );
    }
    let ms = |t: Option<f64>| t.map_or("not measured".to_owned(), |t| format!("{t:.0} ms"));
    for (rtt, ours, peer) in firsts {
        println!(
            "\nFirst login of the run at +{rtt} ms (no earlier session of the user to start from): \
             ours {}, Roundcube {}",
            ms(ours),
            ms(peer)
        );
    }
    println!("\nRounds after the first start from what the user's previous session (signed out at");
    println!("the end of its round) kept of the INBOX. Roundcube's new mail is not measured: it");
    println!("asks every 60 s (refresh_interval).");
}
