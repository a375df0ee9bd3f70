//! Writing mail as a person does it, in headless Chromium: the Write button, address chips,
//! attachments by the file picker, Send with Ctrl+Enter, Undo, a reply from the message view,
//! and the editor on a phone. The mail goes through a real Postfix into a real Dovecot.

use std::time::Duration;

use webmail_tests::{browser::Browser, family::Family, mail, relay::RunningRelay};

const ALICE: (&str, &str) = ("alice@example.org", "alice-pw");
const BOB: (&str, &str) = ("bob@example.org", "bob-pw");

async fn setup() -> (Family, RunningRelay) {
    let family = Family::start(&[ALICE, BOB]).await;
    family.dovecot.deliver(
        ALICE.0,
        &mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            "Grillfest",
            "Tue, 01 Dec 2026 10:00:00 +0000",
            "Kommst du am Samstag?",
        ),
        false,
    );
    let relay = RunningRelay::start_config(0, family.relay_config()).await;
    (family, relay)
}

/// Types `text` into the element `css`.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    browser
        .find(css)
        .await
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
}

const CTRL_ENTER: &str = "\u{E009}\u{E007}\u{E000}";

#[tokio::test(flavor = "multi_thread")]
async fn alice_writes_to_bob_with_two_attachments_undoes_once_and_replies() {
    let (family, relay) = setup().await;
    let files = tempfile::tempdir().unwrap();
    let photo: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let list = "Brot\nKäse\nTrauben\n".as_bytes().to_vec();
    let photo_path = files.path().join("fest.jpg");
    let list_path = files.path().join("einkauf.txt");
    std::fs::write(&photo_path, &photo).unwrap();
    std::fs::write(&list_path, &list).unwrap();

    let browser = Browser::desktop().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    browser.click("#write").await;
    type_into(&browser, "#compose-to", "Bob <bob@example.org>\n").await;
    browser
        .text_of(".composer .chip", |t| t.contains("Bob"))
        .await;
    type_into(&browser, "#compose-subject", "Fotos vom Fest").await;
    type_into(&browser, "#compose-text", "Hallo Bob,\nhier die Fotos.").await;
    for path in [&photo_path, &list_path] {
        type_into(
            &browser,
            ".composer input[type=file]",
            &path.display().to_string(),
        )
        .await;
    }
    browser
        .wait_for(
            "document.querySelectorAll('.compose-attachments li:not(.uploading)').length == 2",
        )
        .await;
    browser.screenshot("compose-desktop.png").await;

    // Sent with Ctrl+Enter, taken back with Undo: the text is in the editor again.
    type_into(&browser, "#compose-text", CTRL_ENTER).await;
    browser.click("#undo-send").await;
    browser
        .wait_for("document.querySelector('#compose-text')?.value.includes('hier die Fotos')")
        .await;
    browser
        .wait_for("document.querySelectorAll('.compose-attachments li').length == 2")
        .await;
    assert!(family.mailbox(BOB.0, "INBOX").await.is_empty());

    // Now for real, after the undo delay.
    type_into(&browser, "#compose-text", CTRL_ENTER).await;
    browser
        .text_of(".banner.outbox", |t| t.contains("Fotos vom Fest"))
        .await;
    let inbox = family
        .wait_for_long(BOB.0, "INBOX", 1, Duration::from_secs(30))
        .await;
    let received = &inbox[0].1;
    assert_eq!(mime::headers(received).summary.subject, "Fotos vom Fest");
    assert_eq!(mime::attachment(received, "1").unwrap().1, photo);
    assert_eq!(mime::attachment(received, "2").unwrap().1, list);
    let sent = family.wait_for(ALICE.0, "Sent", 1).await;
    assert!(String::from_utf8_lossy(&sent[0].1).contains("Fotos vom Fest"));

    // A reply from the message view: quoted, threaded, and the original marked answered.
    browser
        .eval("localStorage.setItem('undo-seconds', '0'); return true")
        .await;
    let row = browser
        .eval("return [...document.querySelectorAll('.rows .row')].find(r => r.textContent.includes('Grillfest'))?.dataset.uid")
        .await;
    browser
        .click(&format!(
            ".row[data-uid='{}'] .open",
            row.as_str().expect("the Grillfest row")
        ))
        .await;
    browser.click("#reply").await;
    browser
        .wait_for(
            "document.querySelector('#compose-text')?.value.includes('> Kommst du am Samstag?')",
        )
        .await;
    browser
        .text_of(".composer .chip", |t| t.contains("Bob"))
        .await;
    // With formatting: bold from the toolbar, around what is typed next.
    browser.click("#compose-formatted").await;
    browser.eval("document.querySelector('#compose-text').focus(); document.querySelector('#compose-text').setSelectionRange(0, 0); return true").await;
    browser.click(".format-bar button[aria-label=Bold]").await;
    type_into(&browser, "#compose-text", "Ja, gern!").await;
    browser.click("#compose-send").await;
    let inbox = family.wait_for(BOB.0, "INBOX", 2).await;
    let reply = String::from_utf8_lossy(&inbox[1].1).into_owned();
    assert!(reply.contains("Subject: Re: Grillfest"), "{reply}");
    assert!(reply.contains("In-Reply-To: <"), "{reply}");
    assert!(
        reply.contains("**Ja, gern!**"),
        "the text part as written: {reply}"
    );
    assert!(
        reply.contains("<strong>Ja, gern!</strong>"),
        "the HTML part: {reply}"
    );
    browser
        .wait_for("[...document.querySelectorAll('.rows .row')].some(r => r.textContent.includes('Grillfest') && !r.classList.contains('unread'))")
        .await;
    // The flag comes with the filing of the copy, a moment after delivery.
    let mut flags = String::new();
    for _ in 0..100 {
        flags = family.mailbox(ALICE.0, "INBOX").await[0].0.clone();
        if flags.contains("\\Answered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(flags.contains("\\Answered"), "{flags}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_editor_takes_the_phone_screen_with_send_in_thumb_reach() {
    let (_family, relay) = setup().await;
    let browser = Browser::phone().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    let fab = browser
        .eval("const r = document.querySelector('#write').getBoundingClientRect(); return [r.right, r.bottom, innerWidth, innerHeight]")
        .await;
    let [right, bottom, width, height] = [0, 1, 2, 3].map(|i| fab[i].as_f64().unwrap());
    assert!(
        width - right < 40.0 && height - bottom < 40.0,
        "Write floats bottom right: {fab}"
    );
    browser.click("#write").await;
    browser.find("#compose-send").await;
    let layout = browser
        .eval("const c = document.querySelector('.composer').getBoundingClientRect(); const s = document.querySelector('#compose-send').getBoundingClientRect(); return [c.width, c.height, s.top, s.height, innerWidth, innerHeight]")
        .await;
    let [cw, ch, send_top, send_height, width, height] =
        [0, 1, 2, 3, 4, 5].map(|i| layout[i].as_f64().unwrap());
    assert!(
        (cw - width).abs() < 1.0 && (ch - height).abs() < 1.0,
        "full screen: {layout}"
    );
    assert!(
        send_top > height * 0.75 && send_height >= 44.0,
        "Send at the bottom: {layout}"
    );
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.screenshot("compose-phone.png").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_survives_a_closed_tab_and_goes_on_from_drafts() {
    let (family, relay) = setup().await;
    let browser = Browser::desktop().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    browser.keys("c").await;
    // Bob is suggested: his message is in the list the relay showed Alice.
    type_into(&browser, "#compose-to", "bo").await;
    browser
        .text_of(".suggestions li", |t| t.contains("bob@example.org"))
        .await;
    type_into(&browser, "#compose-to", "\u{E015}\u{E007}").await;
    browser
        .text_of(".composer .chip", |t| t.contains("Bob"))
        .await;
    type_into(&browser, "#compose-subject", "Halbfertig").await;
    type_into(
        &browser,
        "#compose-text",
        "Das schreibe ich morgen zu Ende.",
    )
    .await;
    browser
        .text_of(".save-status", |t| t.contains("Saved"))
        .await;
    // The tab goes away without any goodbye.
    browser.close().await;
    let drafts = family.wait_for(ALICE.0, "Drafts", 1).await;
    assert!(String::from_utf8_lossy(&drafts[0].1).contains("Das schreibe ich morgen"));

    let browser = Browser::desktop().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    browser.go_to_folder("Drafts").await;
    browser
        .wait_for("[...document.querySelectorAll('.rows .row')].some(r => r.textContent.includes('Halbfertig'))")
        .await;
    browser.eval("[...document.querySelectorAll('.rows .row')].find(r => r.textContent.includes('Halbfertig')).querySelector('.open').click(); return true").await;
    browser.click("#continue-draft").await;
    browser
        .wait_for(
            "document.querySelector('#compose-text')?.value == 'Das schreibe ich morgen zu Ende.'",
        )
        .await;
    browser
        .text_of(".composer .chip", |t| t.contains("Bob"))
        .await;
    browser
        .eval("localStorage.setItem('undo-seconds', '0'); return true")
        .await;
    browser.click("#compose-send").await;
    family.wait_for(BOB.0, "INBOX", 1).await;
    family.wait_for(ALICE.0, "Sent", 1).await;
    for _ in 0..100 {
        if family.mailbox(ALICE.0, "Drafts").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        family.mailbox(ALICE.0, "Drafts").await.is_empty(),
        "the sent draft is gone from Drafts"
    );
    browser.close().await;
}

/// The editor is a place too: its address names the draft, a reload opens it as it was typed,
/// and the phone's back gesture closes it, the draft kept in Drafts.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_keeps_what_is_being_written_and_back_closes_it_into_drafts() {
    let (family, relay) = setup().await;
    let browser = Browser::phone().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    let url = || async { browser.client.current_url().await.unwrap().to_string() };
    browser.click("#write").await;
    type_into(&browser, "#compose-subject", "Einkaufsliste").await;
    type_into(&browser, "#compose-text", "Milch, Eier, Brot").await;
    assert!(url().await.contains("compose="), "{}", url().await);

    browser.client.refresh().await.unwrap();
    browser
        .wait_for("document.querySelector('#compose-subject')?.value == 'Einkaufsliste' && document.querySelector('#compose-text').value.includes('Milch, Eier, Brot')")
        .await;

    browser.client.back().await.unwrap();
    browser
        .wait_for("!document.querySelector('#compose-subject')")
        .await;
    assert!(!url().await.contains("compose="), "{}", url().await);
    let drafts = family.wait_for(ALICE.0, "Drafts", 1).await;
    assert!(String::from_utf8_lossy(&drafts[0].1).contains("Milch, Eier, Brot"));
    // Forward opens the editor again on the same draft.
    browser.client.forward().await.unwrap();
    browser
        .wait_for("document.querySelector('#compose-text')?.value.includes('Milch, Eier, Brot')")
        .await;
    browser.close().await;
}

/// The editor is a part of the app of its own (scripts/split-app): a visit that only reads never
/// fetches it, and the service worker keeps it, so that writing starts offline too.
#[tokio::test(flavor = "multi_thread")]
async fn the_editor_is_fetched_apart_and_kept_for_writing_offline() {
    let (_family, relay) = setup().await;
    let browser = Browser::phone().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    let editor = "/\\/editor-[0-9a-f]+\\.wasm$/";
    let fetched_editor =
        format!("return performance.getEntriesByType('resource').some(e => {editor}.test(e.name))");
    assert_eq!(browser.eval(&fetched_editor).await, false, "read only");

    // The worker has kept it, and controls the page.
    browser
        .wait_for_promise(&format!(
            "caches.keys()
                .then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
                .then((lists) => navigator.serviceWorker.controller !== null
                    && lists.flat().some((r) => {editor}.test(r.url)))"
        ))
        .await;

    // Only the worker has it now.
    browser.clear_http_cache().await;
    browser.set_offline(true).await;
    browser.click("#write").await;
    type_into(&browser, "#compose-subject", "Offline geschrieben").await;
    browser.set_offline(false).await;
    browser.close().await;
}

/// Taps Write where the editor's part cannot be fetched: the dialog says `why`, and its button
/// `focused` has the focus.
async fn write_and_see_missing(browser: &Browser, why: &str, focused: &str) {
    browser.click("#write").await;
    browser.text_of(".part-missing", |t| t.contains(why)).await;
    browser
        .wait_for(&format!(
            "document.activeElement?.textContent === '{focused}'"
        ))
        .await;
}

/// Where the editor's part cannot be fetched, Write says why and what helps (offline: try
/// again later; online, where the relay no longer has it after an update: reload), can be
/// closed or left with Back, and a later Write fetches it.
#[tokio::test(flavor = "multi_thread")]
async fn an_editor_that_cannot_be_fetched_is_told_and_tried_again() {
    let (_family, relay) = setup().await;
    let browser = Browser::desktop().await;
    // No worker either: it would fetch the part on its own.
    browser.block_urls(&["*/editor-*", "*/sw.js"]).await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;

    browser.set_offline(true).await;
    write_and_see_missing(&browser, "cannot be loaded without a connection", "Close").await;
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.screenshot("editor-missing-desktop.png").await;
    browser.click("[role=alertdialog] button").await;
    browser
        .wait_for("!document.querySelector('.part-missing')")
        .await;
    browser.set_offline(false).await;

    write_and_see_missing(&browser, "a newer version is on the server", "Reload").await;
    // Back closes it, as it closes the editor.
    browser.client.back().await.unwrap();
    browser
        .wait_for("!document.querySelector('.part-missing')")
        .await;
    assert!(!browser
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("compose="));

    browser.block_urls(&[]).await;
    browser.click("#write").await;
    type_into(&browser, "#compose-subject", "Doch noch").await;
    browser.close().await;
}
