//! Writing mail end to end: the relay submits to a real Postfix, which delivers into a real
//! Dovecot by LMTP; the tests read the recipients' mailboxes over IMAP, as their own mail
//! programs would.

use std::time::Duration;

use serde_json::{json, Value};
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::Client,
    family::Family,
    mail,
    relay::{self, RunningRelay},
    relay_process::{imap_section, smtp_section, RelayProcess},
};

const USERS: [(&str, &str); 3] = [
    ("alice@example.org", "alice-pw"),
    ("bob@example.org", "bob-pw"),
    ("carol@example.org", "carol-pw"),
];

struct World {
    family: Family,
    relay: RunningRelay,
}

async fn world() -> World {
    let family = Family::start(&USERS).await;
    let relay = RunningRelay::start_config(0, family.relay_config()).await;
    World { family, relay }
}

impl std::ops::Deref for World {
    type Target = Family;
    fn deref(&self) -> &Family {
        &self.family
    }
}

fn draft(id: &str, to: &[&str], subject: &str, text: &str) -> Value {
    json!({
        "id": id, "from": "alice@example.org",
        "to": to.iter().map(|e| json!({"name": null, "email": e})).collect::<Vec<_>>(),
        "cc": [], "bcc": [], "subject": subject, "text": text,
        "attachments": [], "in_reply_to": null, "references": [], "origin": null
    })
}

/// Sends and waits until the outbox says how it ended: `sent` or `failed`.
async fn send(alice: &mut Client, draft: Value) -> Value {
    let id = draft["id"].clone();
    let answer = alice
        .ok(json!({"op": "send", "draft": draft, "delay_seconds": 0}))
        .await;
    assert_eq!(answer["kind"], "queued", "{answer}");
    let event = alice
        .event(Duration::from_secs(30), |e| {
            e["kind"] == "outbox"
                && e["draft_id"] == id
                && ["sent", "failed"].contains(&e["state"]["state"].as_str().unwrap_or(""))
        })
        .await;
    event["state"].clone()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn alice_sends_bob_two_attachments_and_sent_keeps_the_submitted_bytes() {
    let world = world().await;
    let mut alice = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let notes = "Einkaufsliste: Äpfel, Brot\n".repeat(50).into_bytes();
    let mut attachments = Vec::new();
    for (name, mime_type, bytes) in [
        ("Foto vom Fest.jpg", "image/jpeg", &photo),
        ("notizen.txt", "text/plain", &notes),
    ] {
        let response = world
            .relay
            .upload(&alice.cookie, name, mime_type, bytes)
            .await;
        assert_eq!(response.status, 200, "{}", text(&response.body));
        let upload = response.json();
        assert_eq!(upload["size"], bytes.len());
        attachments.push(json!({
            "name": name, "mime_type": mime_type, "size": bytes.len(),
            "source": {"from": "upload", "id": upload["id"]}
        }));
    }
    let mut message = draft(
        "aaaaaaaaaaaaaaaa0001000000000000",
        &["bob@example.org"],
        "Zwei Anhänge",
        "Hallo Bob,\nanbei die Fotos.\n",
    );
    message["bcc"] = json!([{"name": "Carol", "email": "carol@example.org"}]);
    message["attachments"] = json!(attachments);
    let state = send(&mut alice, message).await;
    assert_eq!(state["state"], "sent", "{state}");

    let inbox = world.wait_for("bob@example.org", "INBOX", 1).await;
    let received = &inbox[0].1;
    let headers = mime::headers(received);
    assert_eq!(headers.summary.subject, "Zwei Anhänge");
    assert_eq!(headers.summary.from.unwrap().email, "alice@example.org");
    assert!(!text(received).contains("carol@"), "Bcc must not reach Bob");
    let parsed = mime::parse_message(received, mime::InlineLimits::NONE);
    let names: Vec<&str> = parsed.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Foto vom Fest.jpg", "notizen.txt"]);
    assert_eq!(mime::attachment(received, "1").unwrap().1, photo);
    assert_eq!(mime::attachment(received, "2").unwrap().1, notes);
    world.wait_for("carol@example.org", "INBOX", 1).await;

    let sent = world.wait_for("alice@example.org", "Sent", 1).await;
    let (flags, copy) = &sent[0];
    assert!(flags.contains("\\Seen"), "{flags}");
    assert!(
        text(copy).contains("Bcc: Carol <carol@example.org>"),
        "{}",
        text(copy)
    );
    // What Bob got is what Alice's Sent holds, minus Bcc, behind the trace headers the
    // servers put in front.
    let without_bcc: String = text(copy)
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("Bcc:"))
        .collect();
    let received_text = text(received);
    let common = received_text
        .bytes()
        .rev()
        .zip(without_bcc.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert_eq!(
        common,
        without_bcc.len(),
        "the copy differs from what arrived {} bytes before its end: {:?}",
        common,
        &without_bcc[without_bcc.len().saturating_sub(common + 80)..without_bcc.len() - common]
    );
    // The uploads are gone with the sent message.
    let again = alice
        .call(json!({"op": "send", "draft": {
            "id": "aaaaaaaaaaaaaaaa0002000000000000", "from": "alice@example.org",
            "to": [{"name": null, "email": "bob@example.org"}], "cc": [], "bcc": [],
            "subject": "again", "text": "", "attachments": attachments,
            "in_reply_to": null, "references": [], "origin": null
        }, "delay_seconds": 0}))
        .await;
    assert_eq!(again["type"], "error", "{again}");
}

#[tokio::test]
async fn replies_thread_and_flag_the_original() {
    let world = world().await;
    let original =
        b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nCc: carol@example.org\r\n\
Subject: AW: Grillfest\r\nMessage-ID: <m2@example.org>\r\nReferences: <m1@example.org>\r\n\
Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nKommst du am Samstag?\r\n";
    world.dovecot.deliver("alice@example.org", original, false);
    let mut alice = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let list = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    let uid = list["messages"][0]["uid"].clone();

    let reply = alice
        .ok(json!({"op": "start_reply", "folder": "INBOX", "uid": uid, "kind": "reply_all", "lang": "de"}))
        .await;
    let mut draft = reply;
    assert_eq!(draft["subject"], "Re: Grillfest");
    assert_eq!(draft["to"][0]["email"], "bob@example.org");
    assert_eq!(draft["cc"][0]["email"], "carol@example.org");
    assert_eq!(
        draft["cc"].as_array().unwrap().len(),
        1,
        "not to Alice herself"
    );
    assert!(draft["text"]
        .as_str()
        .unwrap()
        .contains("schrieb Bob:\n> Kommst du am Samstag?"));
    draft["id"] = json!("bbbbbbbbbbbbbbbb0001000000000000");
    draft["text"] = json!(format!("Ja, gern!{}", draft["text"].as_str().unwrap()));
    assert_eq!(send(&mut alice, draft).await["state"], "sent");

    let inbox = world.wait_for("bob@example.org", "INBOX", 1).await;
    let headers = text(&inbox[0].1);
    assert!(
        headers.contains("In-Reply-To: <m2@example.org>"),
        "{headers}"
    );
    assert!(
        headers.contains("References: <m1@example.org> <m2@example.org>"),
        "{headers}"
    );
    assert!(headers.contains("Ja, gern!"));
    world.wait_for("carol@example.org", "INBOX", 1).await;
    // The outbox flags the original over a connection of its own; the session hears of it as
    // any other client's change, and the list shows it from then on.
    let delta = alice
        .event(Duration::from_secs(3), |e| {
            e["kind"] == "folder_delta" && e["changed"][0]["answered"] == true
        })
        .await;
    assert_eq!(delta["folder"], "INBOX");
    let list = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(list["messages"][0]["answered"], true, "{list}");
}

#[tokio::test]
async fn forwards_inline_and_as_attachment() {
    let world = world().await;
    let original = mail::with_attachment(
        "dave@example.net",
        "alice@example.org",
        "Rechnung",
        "rechnung.pdf",
        "application/pdf",
        b"%PDF-1.4 the invoice",
    );
    world.dovecot.deliver("alice@example.org", &original, true);
    let mut alice = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let list = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    let uid = list["messages"][0]["uid"].clone();
    for (n, kind) in ["forward", "forward_as_attachment"].iter().enumerate() {
        let started = alice
            .ok(json!({"op": "start_reply", "folder": "INBOX", "uid": uid, "kind": kind, "lang": "en"}))
            .await;
        let mut draft = started;
        assert_eq!(draft["subject"], "Fwd: Rechnung");
        draft["id"] = json!(format!("cccccccccccccccc000{n}000000000000"));
        draft["to"] = json!([{"name": null, "email": "bob@example.org"}]);
        assert_eq!(send(&mut alice, draft).await["state"], "sent");
    }
    let inbox = world.wait_for("bob@example.org", "INBOX", 2).await;
    // Postfix may deliver them in either order.
    let (inline, attached) = match text(&inbox[0].1).contains("Forwarded message") {
        true => (&inbox[0].1, &inbox[1].1),
        false => (&inbox[1].1, &inbox[0].1),
    };
    assert!(text(inline).contains("Forwarded message"));
    let (info, bytes) = mime::attachment(inline, "1").unwrap();
    assert_eq!(
        (info.name.as_str(), bytes.as_slice()),
        ("rechnung.pdf", &b"%PDF-1.4 the invoice"[..])
    );
    let (info, bytes) = mime::attachment(attached, "1").unwrap();
    assert_eq!(info.mime_type, "message/rfc822");
    assert!(
        text(&bytes).contains("Subject: Rechnung"),
        "{}",
        text(&bytes)
    );
    let list = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    let flags = alice
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
        .await;
    assert!(
        flags["keywords"].to_string().contains("$Forwarded"),
        "{flags} {list}"
    );
}

#[tokio::test]
async fn undo_within_the_delay_sends_nothing_and_gives_the_draft_back() {
    let world = world().await;
    let mut alice = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let message = draft(
        "dddddddddddddddd0001000000000000",
        &["bob@example.org"],
        "Oops",
        "Not meant to go.\n",
    );
    let queued = alice
        .ok(json!({"op": "send", "draft": message, "delay_seconds": 3}))
        .await;
    assert_eq!(queued["kind"], "queued");
    let back = alice
        .ok(json!({"op": "undo_send", "draft_id": "dddddddddddddddd0001000000000000"}))
        .await;
    assert_eq!(back["kind"], "draft");
    assert_eq!(back["text"], "Not meant to go.\n");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(world.mailbox("bob@example.org", "INBOX").await.is_empty());
    // Undo of what already went is refused, and says so.
    let message = draft(
        "dddddddddddddddd0002000000000000",
        &["bob@example.org"],
        "Meant",
        "Yes.\n",
    );
    let queued = alice
        .ok(json!({"op": "send", "draft": message, "delay_seconds": 0}))
        .await;
    world.wait_for("bob@example.org", "INBOX", 1).await;
    assert_eq!(queued["kind"], "queued");
    let late = alice
        .ok(json!({"op": "undo_send", "draft_id": "dddddddddddddddd0002000000000000"}))
        .await;
    assert_eq!(late["kind"], "too_late");
}

#[tokio::test]
async fn refusals_are_named_and_keep_the_draft_and_an_outage_is_waited_out() {
    let mut world = world().await;
    let mut alice = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let note = b"Zettel".to_vec();
    let upload = world
        .relay
        .upload(&alice.cookie, "zettel.txt", "text/plain", &note)
        .await
        .json();
    let mut to_nobody = draft(
        "eeeeeeeeeeeeeeee0001000000000000",
        &["nobody@example.org"],
        "To nobody",
        "Hello?\n",
    );
    to_nobody["attachments"] = json!([{"name": "zettel.txt", "mime_type": "text/plain",
        "size": note.len(), "source": {"from": "upload", "id": upload["id"]}}]);
    let state = send(&mut alice, to_nobody).await;
    assert_eq!(state["state"], "failed");
    assert_eq!(state["error"]["code"], "recipient_rejected", "{state}");
    assert!(state["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nobody@example.org"));
    assert_eq!(state["draft"]["subject"], "To nobody");
    let drafts = world.wait_for("alice@example.org", "Drafts", 1).await;
    assert!(text(&drafts[0].1).contains("X-Webmail-Draft: eeeeeeeeeeeeeeee0001"));
    // Edited from the error and sent again: the attachment comes along from the Drafts copy.
    let mut fixed = state["draft"].clone();
    assert_eq!(
        fixed["attachments"][0]["source"]["folder"], "Drafts",
        "{fixed}"
    );
    fixed["to"] = json!([{"name": null, "email": "bob@example.org"}]);
    assert_eq!(send(&mut alice, fixed).await["state"], "sent");
    let inbox = world.wait_for("bob@example.org", "INBOX", 1).await;
    assert_eq!(mime::attachment(&inbox[0].1, "1").unwrap().1, note);
    assert!(world
        .mailbox("alice@example.org", "Drafts")
        .await
        .is_empty());

    // CR/LF in a header is refused before anything goes anywhere.
    let hostile = draft(
        "eeeeeeeeeeeeeeee0002000000000000",
        &["bob@example.org"],
        "Hi\r\nBcc: everyone@example.org",
        "x",
    );
    let refused = alice
        .error_code(json!({"op": "send", "draft": hostile, "delay_seconds": 0}))
        .await;
    assert_eq!(refused, "invalid_message");

    // Postfix down: the outbox says why and tries again; back up, the message goes.
    world.family.postfix.stop();
    let queued = alice
        .ok(json!({"op": "send", "draft": draft("eeeeeeeeeeeeeeee0003000000000000", &["bob@example.org"], "Later", "x\n"), "delay_seconds": 0}))
        .await;
    assert_eq!(queued["kind"], "queued");
    let retrying = alice
        .event(Duration::from_secs(30), |e| {
            e["kind"] == "outbox" && e["state"]["state"] == "retrying"
        })
        .await;
    assert_eq!(
        retrying["state"]["error"]["code"], "server_unreachable",
        "{retrying}"
    );
    world.family.postfix.start_again().await;
    let done = alice
        .event(Duration::from_secs(40), |e| {
            e["kind"] == "outbox"
                && e["draft_id"] == "eeeeeeeeeeeeeeee0003000000000000"
                && e["state"]["state"] == "sent"
        })
        .await;
    assert_eq!(done["subject"], "Later");
    let inbox = world.wait_for("bob@example.org", "INBOX", 2).await;
    assert_eq!(mime::headers(&inbox[1].1).summary.subject, "Later");
    assert!(!text(&inbox[1].1).contains("everyone@"));
}

#[tokio::test]
async fn a_relay_killed_during_the_delay_leaves_the_message_in_drafts() {
    let world = world().await;
    let dir = tempfile::tempdir().unwrap();
    let sections = format!(
        "{}{}",
        imap_section(&world.dovecot.imap_server(TlsMode::Starttls)),
        smtp_section(&world.postfix.smtp_server(TlsMode::Starttls))
    );
    let mut process = RelayProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_relay")),
        dir.path(),
        &sections,
    )
    .await;
    let relay = process.relay();
    let mut alice = Client::login(&relay, "alice@example.org", "alice-pw").await;
    let queued = alice
        .ok(json!({"op": "send", "draft": draft("ffffffffffffffff0001000000000000", &["bob@example.org"], "Unterbrochen", "x\n"), "delay_seconds": 30}))
        .await;
    assert_eq!(queued["kind"], "queued");
    process.kill();
    process.restart().await;
    let relay = process.relay();
    let (status, _, info) = relay.login("alice@example.org", "alice-pw").await;
    assert_eq!(status, 200);
    assert_eq!(
        info["returned_to_drafts"][0]["subject"], "Unterbrochen",
        "{info}"
    );
    assert_eq!(info["returned_to_drafts"][0]["maybe_sent"], false);
    let drafts = world.wait_for("alice@example.org", "Drafts", 1).await;
    assert_eq!(mime::headers(&drafts[0].1).summary.subject, "Unterbrochen");
    // Never sent, not even late; and a second login finds nothing more to return.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(world.mailbox("bob@example.org", "INBOX").await.is_empty());
    let (_, _, info) = relay.login("alice@example.org", "alice-pw").await;
    assert_eq!(info["returned_to_drafts"], json!([]));
}

#[tokio::test]
async fn a_pop3_account_sends_with_sent_in_the_store() {
    let family = Family::start(&USERS).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = relay::config(None);
    config.pop3 = Some(family.dovecot.pop3_server(TlsMode::Implicit));
    config.data_dir = data.path().to_owned();
    config.smtp = Some(family.postfix.smtp_server(TlsMode::Implicit));
    let relay = RunningRelay::start_config(0, config).await;
    let original = mail::with_attachment(
        "dave@example.net",
        "alice@example.org",
        "Rechnung",
        "rechnung.pdf",
        "application/pdf",
        b"%PDF-1.4 the invoice",
    );
    family
        .dovecot
        .deliver("alice@example.org", &original, false);
    let mut alice = Client::login_as(&relay, "alice@example.org", "alice-pw", "pop3").await;
    alice
        .event(Duration::from_secs(20), |e| e["kind"] == "collected")
        .await;
    let world = World { family, relay };
    let state = send(
        &mut alice,
        draft(
            "9999999999999999aaaa000000000000",
            &["bob@example.org"],
            "Per POP3",
            "Hallo\n",
        ),
    )
    .await;
    assert_eq!(state["state"], "sent", "{state}");
    world.wait_for("bob@example.org", "INBOX", 1).await;
    let sent = alice
        .ok(json!({"op": "list_messages", "folder": "Sent", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(sent["messages"][0]["subject"], "Per POP3", "{sent}");
    assert_eq!(sent["messages"][0]["unread"], false);

    // A forward from the store: the attachment goes along, the original is marked.
    let inbox = alice
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    let uid = inbox["messages"][0]["uid"].clone();
    let mut forward = alice
        .ok(json!({"op": "start_reply", "folder": "INBOX", "uid": uid, "kind": "forward", "lang": "en"}))
        .await;
    forward["id"] = json!("9999999999999999bbbb000000000000");
    forward["to"] = json!([{"name": null, "email": "bob@example.org"}]);
    assert_eq!(send(&mut alice, forward).await["state"], "sent");
    let bobs = world.wait_for("bob@example.org", "INBOX", 2).await;
    assert_eq!(
        mime::attachment(&bobs[1].1, "1").unwrap().1,
        b"%PDF-1.4 the invoice"
    );
    let opened = alice
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
        .await;
    assert_eq!(opened["keywords"], json!(["$Forwarded"]), "{opened}");

    // Mail, the outbox, uploads, names and addresses: for the relay's own user only.
    world
        .relay
        .upload(&alice.cookie, "left.txt", "text/plain", b"left behind")
        .await;
    alice
        .ok(json!({"op": "save_identity", "identity": {"address": "alice@example.org", "name": "A", "signature": ""}}))
        .await;
    let mut shared = Vec::new();
    let mut walk = vec![data.path().to_owned()];
    while let Some(dir) = walk.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let mode =
                std::os::unix::fs::PermissionsExt::mode(&entry.metadata().unwrap().permissions());
            if mode & 0o077 != 0 {
                shared.push(format!("{} {mode:o}", path.display()));
            }
            if path.is_dir() {
                walk.push(path);
            }
        }
    }
    assert!(shared.is_empty(), "readable by others: {shared:#?}");
}

#[tokio::test]
async fn drafts_replace_their_versions_across_tabs_and_continue_with_attachments() {
    let world = world().await;
    let mut tab = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let mut other_tab = Client::resume(&world.relay, &tab.cookie.clone()).await;
    let plan = b"%PDF-1.4 Plan fuer Samstag".to_vec();
    let upload = world
        .relay
        .upload(&tab.cookie, "plan.pdf", "application/pdf", &plan)
        .await
        .json();
    let mut draft = draft(
        "7777777777777777aaaa000000000000",
        &["bob@example.org"],
        "Samstag",
        "Erste Fassung",
    );
    draft["bcc"] = json!([{"name": null, "email": "carol@example.org"}]);
    draft["origin"] = json!({"folder": "Familie/Grüße", "uid": 7, "kind": "reply_all"});
    draft["attachments"] = json!([{
        "name": "plan.pdf", "mime_type": "application/pdf", "size": plan.len(),
        "source": {"from": "upload", "id": upload["id"]}
    }]);
    let saved = tab.ok(json!({"op": "save_draft", "draft": draft})).await;
    assert_eq!(saved["kind"], "draft_saved");
    let source = &saved["draft"]["attachments"][0]["source"];
    assert_eq!(source["from"], "part", "{saved}");
    assert_eq!(source["folder"], "Drafts");
    // The other tab saves its own, later version of the same draft: one version remains.
    let mut later = saved["draft"].clone();
    later["text"] = json!("Zweite Fassung");
    other_tab
        .ok(json!({"op": "save_draft", "draft": later}))
        .await;
    let drafts = world.mailbox("alice@example.org", "Drafts").await;
    assert_eq!(drafts.len(), 1, "one version of the draft");
    assert!(text(&drafts[0].1).contains("Zweite Fassung"));
    assert!(drafts[0].0.contains("\\Draft"), "{}", drafts[0].0);

    // Reopened, it goes on with everything, and sending it empties Drafts.
    let list = tab
        .ok(json!({"op": "list_messages", "folder": "Drafts", "offset": 0, "limit": 10}))
        .await;
    let uid = list["messages"][0]["uid"].clone();
    let mut reopened = tab
        .ok(json!({"op": "open_draft", "folder": "Drafts", "uid": uid}))
        .await;
    assert_eq!(reopened["id"], "7777777777777777aaaa000000000000");
    assert_eq!(reopened["text"], "Zweite Fassung");
    assert_eq!(reopened["bcc"][0]["email"], "carol@example.org");
    assert_eq!(reopened["attachments"][0]["name"], "plan.pdf");
    assert_eq!(
        reopened["origin"]["folder"], "Familie/Grüße",
        "the reply still knows its original"
    );
    assert_eq!(reopened["origin"]["kind"], "reply_all");
    reopened.as_object_mut().unwrap().remove("kind");
    assert_eq!(send(&mut tab, reopened).await["state"], "sent");
    let inbox = world.wait_for("bob@example.org", "INBOX", 1).await;
    assert_eq!(mime::attachment(&inbox[0].1, "1").unwrap().1, plan);
    assert!(world
        .mailbox("alice@example.org", "Drafts")
        .await
        .is_empty());
    world.wait_for("carol@example.org", "INBOX", 1).await;

    // Discarding removes a draft for good.
    let discard = draft_value("7777777777777777bbbb000000000000");
    tab.ok(json!({"op": "save_draft", "draft": discard})).await;
    assert_eq!(world.mailbox("alice@example.org", "Drafts").await.len(), 1);
    tab.ok(
        json!({"op": "discard_draft", "draft": draft_value("7777777777777777bbbb000000000000")}),
    )
    .await;
    assert!(world
        .mailbox("alice@example.org", "Drafts")
        .await
        .is_empty());
}

fn draft_value(id: &str) -> Value {
    draft(id, &[], "Nur ein Gedanke", "…")
}

#[tokio::test]
async fn an_address_has_the_name_and_signature_its_user_gave_it_on_every_device() {
    let world = world().await;
    let mut phone = Client::login(&world.relay, "alice@example.org", "alice-pw").await;
    let identity = json!({"address": "alice@example.org", "name": "Alice Weiß", "signature": "Alice\nvom Hof"});
    phone
        .ok(json!({"op": "save_identity", "identity": identity}))
        .await;
    for refused in [
        json!({"address": "mallory@example.org", "name": "M", "signature": ""}),
        json!({"address": "alice@example.org", "name": "Alice\r\nBcc: x@y.z", "signature": ""}),
    ] {
        let code = phone
            .error_code(json!({"op": "save_identity", "identity": refused}))
            .await;
        assert_eq!(code, "bad_request");
    }
    // Another device sees it at login.
    let (_, _, info) = world.relay.login("alice@example.org", "alice-pw").await;
    assert_eq!(info["sending"]["identities"][0], identity, "{info}");
    let state = send(
        &mut phone,
        draft(
            "5555555555555555aaaa000000000000",
            &["bob@example.org"],
            "Mit Namen",
            "Hallo\n",
        ),
    )
    .await;
    assert_eq!(state["state"], "sent");
    let inbox = world.wait_for("bob@example.org", "INBOX", 1).await;
    let from = mime::headers(&inbox[0].1).summary.from.unwrap();
    assert_eq!(from.name.as_deref(), Some("Alice Weiß"));
}

#[tokio::test]
async fn uploads_need_the_session_and_the_page_and_stay_within_the_limits() {
    let family = Family::start(&USERS).await;
    let mut config = family.relay_config();
    if let Some(smtp) = config.smtp.as_mut() {
        smtp.max_attachments_mb = 1;
    }
    let relay = RunningRelay::start_config(0, config).await;
    let alice = Client::login(&relay, "alice@example.org", "alice-pw").await;
    let path = format!(
        "{}?name=a.bin&type=application/octet-stream",
        protocol::UPLOAD_PATH
    );
    let small = vec![7u8; 1000];
    let cookie = format!("Cookie: {}\r\n", alice.cookie);
    let own = format!("Origin: {}\r\n", relay.url());
    for (headers, status, code) in [
        (cookie.clone(), 400, "bad_request"),
        (
            format!("{cookie}Origin: https://evil.example\r\n"),
            400,
            "bad_request",
        ),
        (own.clone(), 401, "not_logged_in"),
    ] {
        let response = relay.exchange("POST", &path, &small, &headers).await;
        assert_eq!(response.status, status, "{headers}");
        assert_eq!(response.json()["code"], code);
    }
    // Over the limit by Content-Length: refused before the body is read.
    let big = vec![0u8; 1_000_001];
    let response = relay
        .upload(&alice.cookie, "big.bin", "application/octet-stream", &big)
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["code"], "too_big");
    // Within it, but the user's uploads together may not exceed twice the limit.
    let part = vec![1u8; 900_000];
    for _ in 0..2 {
        let ok = relay
            .upload(&alice.cookie, "p.bin", "application/octet-stream", &part)
            .await;
        assert_eq!(ok.status, 200);
    }
    let over = relay
        .upload(&alice.cookie, "p.bin", "application/octet-stream", &part)
        .await;
    assert_eq!(over.status, 413, "{}", text(&over.body));
}
