//! Figures: what a first visit costs on a phone, this webmail next to Roundcube (served
//! compressed, roundcube.rs) in the same run, on the same Dovecot mailbox. Each visit is a fresh
//! Chromium as a mid-range phone on a slow mobile link, as Lighthouse's mobile profile has it:
//! its throughput and CPU (`Browser::be_a_slow_phone`), and its 150 ms round trip between the
//! browser and each webmail (a `LatencyProxy`, which delays every byte, a socket's frames and
//! a service worker's fetches included):
//! - the login page: bytes on the wire, and when its form can be used;
//! - signing in, right away (a password manager filled the form) or 3 s after the first key
//!   (the user types; our page fetches the app meanwhile): from the click to the first frame
//!   showing the newest inbox row, and the bytes of the whole visit;
//! - a repeat visit (a reload, signed in): bytes, and when the newest row shows;
//! - after a visit signed in at once, another on a link that hangs (a `FaultProxy` in front
//!   passes nothing for `LINK_DOWN`, as on a phone between cells): whether, and when, the newest
//!   row shows before the link passes again.
//!
//! Bytes are `transferSize` (headers and body as they came, compressed) of the files that make
//! the app; mail is not counted (our relay's `/api/` and socket, Roundcube's `_remote=1`
//! requests). Times are medians of a few visits.
//! Run by `scripts/bundle-size`, or `cargo run --release -p webmail-tests --bin first-load`.

use std::time::Duration;

use webmail_server::config::TlsMode;
use webmail_tests::{
    browser::Browser, dovecot::Dovecot, latency::LatencyProxy, mail, proxy::FaultProxy,
    relay::RunningRelay, roundcube::Roundcube, webmails::Webmail,
};

const USER: (&str, &str) = ("load@example.org", "load-pw");
const MESSAGES: u32 = 30;
const VISITS: usize = 5;
const NEWEST: &str = "Message 29";
/// Lighthouse's mobile round trip ("mobileSlow4G": 150 ms).
const ROUND_TRIP: Duration = Duration::from_millis(150);
/// How long the link hangs in a visit on a link that hangs.
const LINK_DOWN: Duration = Duration::from_secs(15);

/// What one first visit, and the reload after it, cost and took.
struct Visit {
    login_page: Vec<(String, u64)>,
    signed_in: Vec<(String, u64)>,
    repeat: Vec<(String, u64)>,
    /// ms from the start of navigation.
    form_usable: f64,
    /// ms from the click.
    submit_to_rows: f64,
    /// ms from the start of navigation.
    repeat_rows: f64,
    /// On a link that hangs, ms from the start of navigation, where the row showed before the
    /// link passed again. Only after signing in at once (`None` there: it did not show).
    hanging_rows: Option<Option<f64>>,
}

/// The start of navigation, and each file of the app the page has received with its bytes.
async fn app_files(browser: &Browser, webmail: Webmail) -> (f64, Vec<(String, u64)>) {
    let is_app_file = webmail.is_app_file();
    let answer = browser
        .eval(&format!(
            "return [performance.timeOrigin,
               [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .filter(e => {{ const u = new URL(e.name); return {is_app_file}; }})
                 .map(e => {{ const u = new URL(e.name); return [u.pathname + u.search, e.transferSize]; }})];"
        ))
        .await;
    let files = answer[1]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_u64().unwrap_or(0),
            )
        })
        .collect();
    (answer[0].as_f64().expect("a time origin"), files)
}

/// A script for every page the browser opens: notes in `window.marks` the first frame (ms from
/// the start of navigation) in which the login form can be used, and the newest row shows.
fn marks_script(webmail: Webmail) -> String {
    let form = webmail.login_form_shows();
    let rows = webmail.rows_show(NEWEST);
    format!(
        "window.marks = {{}};
         const watch = () => {{
           if (window.marks.form === undefined && ({form})) window.marks.form = performance.now();
           if (window.marks.rows === undefined && ({rows})) window.marks.rows = performance.now();
           if (window.marks.rows === undefined) requestAnimationFrame(watch);
         }};
         requestAnimationFrame(watch);"
    )
}

async fn mark(browser: &Browser, name: &str) -> f64 {
    browser
        .wait_for(&format!("window.marks?.{name} !== undefined"))
        .await;
    browser
        .eval(&format!("return window.marks.{name}"))
        .await
        .as_f64()
        .expect("a time")
}

async fn first_visit(webmail: Webmail, url: &str, link: &FaultProxy, typing: Duration) -> Visit {
    let browser = Browser::phone().await;
    browser.be_a_slow_phone().await;
    browser.on_every_page(&marks_script(webmail)).await;
    let loaded = "document.readyState === 'complete'";

    browser.client.goto(url).await.expect("the page loads");
    let form_usable = mark(&browser, "form").await;
    browser.wait_for(loaded).await;
    let (login_origin, login_page) = app_files(&browser, webmail).await;

    let [user, password, submit] = webmail.login_fields();
    browser
        .find(user)
        .await
        .send_keys(USER.0)
        .await
        .expect("typing");
    tokio::time::sleep(typing).await;
    browser
        .find(password)
        .await
        .send_keys(USER.1)
        .await
        .expect("typing");
    let clicked = browser
        .act(&format!("document.querySelector('{submit}').click()"))
        .await;
    let shown = browser
        .frame_when(&webmail.rows_show(NEWEST))
        .await
        .expect("the inbox shows");
    browser.wait_for(loaded).await;
    let (origin, mut signed_in) = app_files(&browser, webmail).await;
    // Roundcube's login leads to another page; ours stays on the one it started on.
    if origin != login_origin {
        signed_in.splice(0..0, login_page.iter().cloned());
    }

    if webmail == Webmail::Ours {
        browser
            .wait_for("navigator.serviceWorker.controller !== null")
            .await;
    }
    browser.client.refresh().await.expect("reload");
    let repeat_rows = mark(&browser, "rows").await;
    browser.wait_for(loaded).await;
    let (_, repeat) = app_files(&browser, webmail).await;
    let hanging_rows = if typing.is_zero() {
        Some(visit_on_a_hanging_link(&browser, url, link).await)
    } else {
        None
    };
    browser.close().await;
    Visit {
        login_page,
        signed_in,
        repeat,
        form_usable,
        submit_to_rows: shown - clicked,
        repeat_rows,
        hanging_rows,
    }
}

/// A visit while `link` passes nothing, for `LINK_DOWN`: ms from the start of navigation until
/// the newest row showed, if it did before the link passed again.
async fn visit_on_a_hanging_link(browser: &Browser, url: &str, link: &FaultProxy) -> Option<f64> {
    browser
        .client
        .goto("about:blank")
        .await
        .expect("a blank page");
    link.hang(true);
    // WebDriver answers once the page has come, which may be only after the link passes
    // again: the link is let go meanwhile.
    let navigate = browser.client.goto(url);
    let let_go = async {
        tokio::time::sleep(LINK_DOWN).await;
        link.hang(false);
    };
    let (page, ()) = tokio::join!(navigate, let_go);
    page.expect("the page loads");
    let rows = mark(browser, "rows").await;
    (rows < LINK_DOWN.as_secs_f64() * 1000.0).then_some(rows)
}

/// All visits to one webmail, whatever the typing.
fn every_visit(by_typing: &[Vec<Visit>]) -> Vec<&Visit> {
    by_typing.iter().flatten().collect()
}

fn total(files: &[(String, u64)]) -> u64 {
    files.iter().map(|(_, bytes)| bytes).sum()
}

/// The median, and for times the lowest and the highest.
fn summary(mut values: Vec<f64>, unit: &str) -> String {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    if unit == "ms" {
        let (low, high) = (values[0], values[values.len() - 1]);
        format!("{median:>6.0} ({low:.0}–{high:.0}) ms")
    } else {
        format!("{median:>9.0} {unit}")
    }
}

fn print_files(title: &str, files: &[(String, u64)]) {
    println!("{title}");
    for (name, bytes) in files {
        println!("  {name:<60} {bytes:>9}");
    }
    println!("  {:<60} {:>9}\n", "total", total(files));
}

#[tokio::main]
async fn main() {
    let dovecot = Dovecot::start(&[USER]).await;
    dovecot.deliver_many(USER.0, MESSAGES, |i| {
        mail::message(
            "A <a@example.org>",
            USER.0,
            &format!("Message {i}"),
            &format!("Mon, 13 Nov 2023 12:{i:02}:00 +0000"),
            "Hi",
        )
    });
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let roundcube = Roundcube::start(dovecot.imap_port, &dovecot.pki.ca_pem).await;
    let to_relay = LatencyProxy::start(relay.addr.port(), ROUND_TRIP).await;
    let to_roundcube = LatencyProxy::start(roundcube.port, ROUND_TRIP).await;
    // In front of each, the link a visit can make hang.
    let links = [
        FaultProxy::start(to_relay.port).await,
        FaultProxy::start(to_roundcube.port).await,
    ];

    let typings = [
        ("at once (filled in by the browser)", Duration::ZERO),
        ("3 s after the first key", Duration::from_secs(3)),
    ];
    // [webmail][typing] → visits
    let mut visits: Vec<Vec<Vec<Visit>>> = Vec::new();
    for (webmail, link) in [Webmail::Ours, Webmail::Roundcube].into_iter().zip(&links) {
        let url = format!("http://127.0.0.1:{}/", link.port);
        let mut by_typing = Vec::new();
        for (_, typing) in typings {
            let mut runs = Vec::new();
            for _ in 0..VISITS {
                runs.push(first_visit(webmail, &url, link, typing).await);
            }
            by_typing.push(runs);
        }
        visits.push(by_typing);
    }

    let ours = &visits[0][0][0];
    print_files(
        "Ours, first visit, the login page (bytes on the wire):",
        &ours.login_page,
    );
    print_files(
        "Ours, the same visit once signed in, the inbox showing (the page and the app):",
        &ours.signed_in,
    );
    print_files(
        "Ours, repeat visit, signed in (0: from the service worker or the HTTP cache):",
        &ours.repeat,
    );
    let peer = &visits[1][0][0];
    println!(
        "Roundcube: {} files on the login page, {} once signed in, {} on a repeat visit.\n",
        peer.login_page.len(),
        peer.signed_in.len(),
        peer.repeat.len()
    );

    println!(
        "A phone on a slow mobile link (Lighthouse's mobile profile: 150 ms round trip, \
         1.47 Mbit/s down, CPU 4x slower), a fresh browser each visit; times are medians of {VISITS} (lowest–highest):\n"
    );
    println!("{:<56} {:>22} {:>22}", "", "ours", "Roundcube");
    // A row: what `figure` gives for the visits `of` each webmail picks.
    let print_row = |label: &str,
                     of: &dyn Fn(&[Vec<Visit>]) -> Vec<&Visit>,
                     figure: &dyn Fn(&Visit) -> f64,
                     unit: &str| {
        let cell = |w: usize| summary(of(&visits[w]).into_iter().map(figure).collect(), unit);
        println!("{label:<56} {:>22} {:>22}", cell(0), cell(1));
    };
    let row = |label: &str, figure: &dyn Fn(&Visit) -> f64, unit: &str| {
        print_row(label, &every_visit, figure, unit)
    };
    row(
        "the login page, bytes",
        &|v| total(&v.login_page) as f64,
        "B",
    );
    row("the login form can be used", &|v| v.form_usable, "ms");
    for (t, (typing, _)) in typings.iter().enumerate() {
        print_row(
            &format!("signing in {typing} → newest row"),
            &|by_typing| by_typing[t].iter().collect(),
            &|v| v.submit_to_rows,
            "ms",
        );
    }
    row(
        "the whole first visit, bytes",
        &|v| total(&v.signed_in) as f64,
        "B",
    );
    row("repeat visit, bytes", &|v| total(&v.repeat) as f64, "B");
    row(
        "repeat visit, the newest row shows",
        &|v| v.repeat_rows,
        "ms",
    );
    // Visits where the row did not show before the link passed again count as such.
    let hanging = |w: usize| {
        let visits: Vec<Option<f64>> = every_visit(&visits[w])
            .into_iter()
            .filter_map(|v| v.hanging_rows)
            .collect();
        let shown: Vec<f64> = visits.iter().flatten().copied().collect();
        match shown.len() {
            0 => format!("not in {} s", LINK_DOWN.as_secs()),
            n if n == visits.len() => summary(shown, "ms"),
            n => format!("{n} of {}: {}", visits.len(), summary(shown, "ms")),
        }
    };
    println!(
        "{:<56} {:>22} {:>22}",
        format!(
            "link hanging {} s, the newest row shows",
            LINK_DOWN.as_secs()
        ),
        hanging(0),
        hanging(1)
    );
}
