//! IMAP through the relay's protocol, against a real Dovecot: folders, reading, flags, moves,
//! search, live push from other clients, and recovery from a dropped connection.

use std::time::Duration;

use serde_json::{json, Value};
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::{folder_changed, is_folder_news, subjects, Client},
    dovecot::Dovecot,
    mail,
    proxy::FaultProxy,
    raw_imap::RawImap,
    relay::RunningRelay,
    scenarios,
};

const ALICE: (&str, &str) = ("alice@example.org", "correct horse");
/// Live changes must reach the browser this fast.
const PUSH: Duration = Duration::from_secs(1);

async fn setup() -> (Dovecot, RunningRelay) {
    let dovecot = Dovecot::start(&[ALICE]).await;
    for (i, subject) in ["Erste Nachricht", "Zweite Nachricht", "Grüße aus Köln"]
        .iter()
        .enumerate()
    {
        let date = format!("Mon, {} Nov 2023 12:00:00 +0000", 13 + i);
        let raw = mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            subject,
            &date,
            "Hallo Alice",
        );
        dovecot.deliver(ALICE.0, &raw, i == 0);
    }
    dovecot.deliver(
        ALICE.0,
        &mail::html_with_attachment("News <news@example.org>", ALICE.0, "Newsletter"),
        false,
    );
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    (dovecot, relay)
}

fn folder<'a>(folders: &'a Value, name: &str) -> Option<&'a Value> {
    folders["folders"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
}

async fn uids(client: &mut Client, folder: &str) -> Vec<u64> {
    let page = client
        .ok(json!({"op": "list_messages", "folder": folder, "offset": 0, "limit": 100}))
        .await;
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uid"].as_u64().unwrap())
        .collect()
}

async fn message(client: &mut Client, folder: &str, subject: &str) -> Value {
    let page = client
        .ok(json!({"op": "list_messages", "folder": folder, "offset": 0, "limit": 100}))
        .await;
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == subject)
        .unwrap_or_else(|| panic!("{subject} not in {folder}: {page}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn folders_have_roles_counts_and_can_be_managed() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;

    let folders = client.ok(json!({"op": "list_folders"})).await;
    let names: Vec<_> = folders["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "INBOX", "{names:?}");
    for (name, role) in [
        ("INBOX", "inbox"),
        ("Sent", "sent"),
        ("Drafts", "drafts"),
        ("Trash", "trash"),
        ("Junk", "junk"),
        ("Archive", "archive"),
    ] {
        assert_eq!(folder(&folders, name).unwrap()["role"], role, "{name}");
    }
    let inbox = folder(&folders, "INBOX").unwrap();
    assert_eq!(
        (inbox["total"].as_u64(), inbox["unread"].as_u64()),
        (Some(4), Some(3))
    );

    // A nested folder with a non-ASCII name (modified UTF-7 on the wire).
    client
        .ok(json!({"op": "create_folder", "name": "Familie"}))
        .await;
    client
        .ok(json!({"op": "create_folder", "name": "Familie/Grüße 🎻"}))
        .await;
    client.event(PUSH, |e| e["kind"] == "folders_changed").await;
    let folders = client.ok(json!({"op": "list_folders"})).await;
    let nested = folder(&folders, "Familie/Grüße 🎻").expect("created");
    assert_eq!(
        (nested["delimiter"].as_str(), nested["subscribed"].as_bool()),
        (Some("/"), Some(true))
    );

    assert_eq!(
        client
            .error_code(json!({"op": "create_folder", "name": "Familie"}))
            .await,
        "folder_exists"
    );
    client
        .ok(json!({"op": "rename_folder", "from": "Familie/Grüße 🎻", "to": "Familie/Urlaub"}))
        .await;
    let folders = client.ok(json!({"op": "list_folders"})).await;
    assert!(folder(&folders, "Familie/Grüße 🎻").is_none());
    assert!(folder(&folders, "Familie/Urlaub").is_some());

    client
        .ok(json!({"op": "subscribe_folder", "name": "Familie/Urlaub", "subscribed": false}))
        .await;
    let folders = client.ok(json!({"op": "list_folders"})).await;
    assert_eq!(
        folder(&folders, "Familie/Urlaub").unwrap()["subscribed"],
        false
    );

    client
        .ok(json!({"op": "delete_folder", "name": "Familie/Urlaub"}))
        .await;
    let folders = client.ok(json!({"op": "list_folders"})).await;
    assert!(folder(&folders, "Familie/Urlaub").is_none());
    assert_eq!(
        client
            .error_code(json!({"op": "delete_folder", "name": "Gibt es nicht"}))
            .await,
        "no_such_folder"
    );
    assert_eq!(
        client
            .error_code(json!({"op": "delete_folder", "name": "INBOX"}))
            .await,
        "bad_request"
    );
    assert_eq!(
        client
            .error_code(json!({"op": "create_folder", "name": "a\r\nT1 DELETE INBOX"}))
            .await,
        "bad_request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn opening_shows_sanitized_html_and_lists_attachments_without_marking_read() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let row = message(&mut client, "INBOX", "Newsletter").await;
    assert_eq!(row["has_attachments"], true);
    assert_eq!(row["unread"], true);

    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": row["uid"]}))
        .await;
    assert_eq!(view["kind"], "message");
    let body = &view["body"];
    assert_eq!(body["kind"], "html", "{view}");
    let html = body["html"].as_str().unwrap();
    assert!(
        html.contains("Grüße"),
        "ISO-8859-1 quoted-printable decoded: {html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("onclick"),
        "{html}"
    );
    assert!(
        html.contains("data-remote-src=\"https://tracker.example/pixel.gif\""),
        "{html}"
    );
    assert!(!html.contains(" src=\"https://tracker"), "{html}");
    assert_eq!(body["remote_content"], true);
    let attachments = view["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["name"], "Bericht März.pdf");
    assert_eq!(attachments[0]["mime_type"], "application/pdf");
    assert_eq!(attachments[0]["part"], "2");
    assert_eq!(view["from"]["email"], "news@example.org");

    // Opening is not reading: the app decides when to mark it read.
    assert_eq!(
        message(&mut client, "INBOX", "Newsletter").await["unread"],
        true
    );

    // A plain-text message comes as text.
    let plain = message(&mut client, "INBOX", "Grüße aus Köln").await;
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": plain["uid"]}))
        .await;
    assert_eq!(
        view["body"],
        json!({"kind": "text", "text": "Hallo Alice\r\n"})
    );

    assert_eq!(
        client
            .error_code(json!({"op": "open_message", "folder": "INBOX", "uid": 999}))
            .await,
        "no_such_message"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_moves_deletion_and_archive() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let all = uids(&mut client, "INBOX").await;
    assert_eq!(all.len(), 4);
    let newest = all[0];

    client.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [newest], "flags": [{"flag": "seen"}, {"flag": "flagged"}, {"flag": "keyword", "name": "$Label1"}], "set": true})).await;
    let event = client.event(PUSH, folder_changed("INBOX")).await;
    assert_eq!(event["unread"], 2);
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": newest}))
        .await;
    assert_eq!(
        (view["unread"].as_bool(), view["flagged"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(view["keywords"], json!(["$Label1"]));
    client.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [newest], "flags": [{"flag": "seen"}], "set": false})).await;
    assert_eq!(
        client.event(PUSH, folder_changed("INBOX")).await["unread"],
        3
    );
    assert_eq!(client.error_code(json!({"op": "set_flags", "folder": "INBOX", "uids": [newest], "flags": [{"flag": "keyword", "name": "\\Deleted"}], "set": true})).await, "bad_request");

    // Move two, copy one, delete (to Trash, then for good), archive.
    client
        .ok(json!({"op": "create_folder", "name": "Work"}))
        .await;
    let moved = client.ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [all[2], all[3]], "to": "Work"})).await;
    assert_eq!(uids(&mut client, "INBOX").await, vec![all[0], all[1]]);
    // The answer names the messages' UIDs in Work (Dovecot's COPYUID): what an undo moves back.
    let mut in_work = uids(&mut client, "Work").await;
    in_work.sort();
    assert_eq!(
        (moved["kind"].as_str(), moved["to"].as_str()),
        (Some("moved"), Some("Work"))
    );
    assert_eq!(moved["uids"], json!(in_work));
    let back = client
        .ok(json!({"op": "move_messages", "folder": "Work", "uids": moved["uids"], "to": "INBOX"}))
        .await;
    assert_eq!(back["uids"].as_array().map(Vec::len), Some(2));
    assert_eq!(uids(&mut client, "INBOX").await.len(), 4);
    assert!(uids(&mut client, "Work").await.is_empty());
    let all = uids(&mut client, "INBOX").await;
    client.ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [all[2], all[3]], "to": "Work"})).await;
    assert_eq!(uids(&mut client, "Work").await.len(), 2);
    client
        .ok(json!({"op": "copy_messages", "folder": "INBOX", "uids": [all[1]], "to": "Work"}))
        .await;
    assert_eq!(uids(&mut client, "Work").await.len(), 3);
    assert_eq!(uids(&mut client, "INBOX").await.len(), 2);

    let deleted = client
        .ok(json!({"op": "delete_messages", "folder": "INBOX", "uids": [all[1]]}))
        .await;
    assert_eq!(uids(&mut client, "INBOX").await, vec![all[0]]);
    let trash = uids(&mut client, "Trash").await;
    assert_eq!(trash.len(), 1);
    assert_eq!(deleted["to"], "Trash");
    assert_eq!(deleted["uids"], json!(trash));
    let purged = client
        .ok(json!({"op": "delete_messages", "folder": "Trash", "uids": trash}))
        .await;
    assert_eq!(purged["kind"], "done", "removed for good: nothing to undo");
    assert!(
        uids(&mut client, "Trash").await.is_empty(),
        "deleting in Trash removes for good"
    );

    client
        .ok(json!({"op": "archive_messages", "folder": "INBOX", "uids": [all[0]]}))
        .await;
    assert!(uids(&mut client, "INBOX").await.is_empty());
    assert_eq!(
        message(&mut client, "Archive", "Newsletter").await["has_attachments"],
        true
    );

    let work = uids(&mut client, "Work").await;
    assert_eq!(
        client
            .error_code(
                json!({"op": "move_messages", "folder": "Work", "uids": [work[0]], "to": "Nirgendwo"})
            )
            .await,
        "no_such_folder"
    );
    assert_eq!(client.error_code(json!({"op": "set_flags", "folder": "INBOX", "uids": [], "flags": [{"flag": "seen"}], "set": true})).await, "bad_request");

    // Messages gone meanwhile (another client, or this user while offline): the server's
    // state wins, and the answer says so rather than "done".
    let gone = all[0];
    for request in [
        json!({"op": "set_flags", "folder": "INBOX", "uids": [gone], "flags": [{"flag": "flagged"}], "set": true}),
        json!({"op": "move_messages", "folder": "INBOX", "uids": [gone], "to": "Work"}),
        json!({"op": "archive_messages", "folder": "INBOX", "uids": [gone]}),
        json!({"op": "delete_messages", "folder": "INBOX", "uids": [gone]}),
        json!({"op": "delete_messages", "folder": "Trash", "uids": trash}),
    ] {
        assert_eq!(
            client.error_code(request.clone()).await,
            "no_such_message",
            "{request}"
        );
    }
    assert_eq!(uids(&mut client, "Work").await, work);
    // Of several, those still there are acted on (UIDs only grow: this one never was).
    let moved = client
        .ok(json!({"op": "move_messages", "folder": "Work", "uids": [work[0], 999_999], "to": "INBOX"}))
        .await;
    assert_eq!(moved["uids"].as_array().map(Vec::len), Some(1));
    assert_eq!(uids(&mut client, "INBOX").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_in_one_folder_and_in_all() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    client
        .ok(json!({"op": "create_folder", "name": "Work"}))
        .await;
    let koeln = message(&mut client, "INBOX", "Grüße aus Köln").await;
    client
        .ok(json!({"op": "copy_messages", "folder": "INBOX", "uids": [koeln["uid"]], "to": "Work"}))
        .await;

    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"subject": "grüße"}}))
        .await;
    let hits = hits["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["message"]["subject"], "Grüße aus Köln");

    let hits = client
        .ok(json!({"op": "search", "folder": null, "query": {"subject": "Köln"}}))
        .await;
    let mut folders: Vec<_> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["folder"].as_str().unwrap().to_owned())
        .collect();
    folders.sort();
    assert_eq!(folders, ["INBOX", "Work"]);

    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"from": "news@example.org"}}))
        .await;
    assert_eq!(hits["hits"][0]["message"]["subject"], "Newsletter");
    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"body": "Hallo Alice"}}))
        .await;
    assert_eq!(hits["hits"].as_array().unwrap().len(), 3);
    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"text": "nothing like this"}}))
        .await;
    assert!(hits["hits"].as_array().unwrap().is_empty());
    assert_eq!(
        client
            .error_code(json!({"op": "search", "folder": "INBOX", "query": {}}))
            .await,
        "bad_request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_opened_before_shows_what_changed_while_away() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let mut other = Client::login(&relay, ALICE.0, ALICE.1).await;
    scenarios::changes_while_away_show_on_return(&mut client, &mut other, "INBOX", "Away").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_by_other_clients_arrive_within_a_second() {
    let (dovecot, relay) = setup().await;
    let mut browser = Client::login(&relay, ALICE.0, ALICE.1).await;
    // A second browser (its own session and IMAP connection).
    let mut other_browser = Client::login(&relay, ALICE.0, ALICE.1).await;
    for client in [&mut browser, &mut other_browser] {
        client
            .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
            .await;
    }
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    phone.ok("SELECT INBOX").await;

    // New mail.
    let raw = mail::message(
        "Carol <carol@example.org>",
        ALICE.0,
        "Pushed",
        "Fri, 17 Nov 2023 08:00:00 +0000",
        "Hi",
    );
    phone.append("INBOX", &raw, "").await;
    let event = browser.event(PUSH, folder_changed("INBOX")).await;
    assert_eq!(
        (event["total"].as_u64(), event["unread"].as_u64()),
        (Some(5), Some(4))
    );
    // The folder in view gets the new row itself, at its place by date (the newest), so the
    // list adds it without loading again.
    assert_eq!(event["kind"], "folder_delta", "{event}");
    assert_eq!(event["added"][0]["position"], 0, "{event}");
    assert_eq!(event["added"][0]["message"]["subject"], "Pushed");
    assert_eq!(event["removed"], json!([]));
    let version = event["version"].clone();
    assert_ne!(event["from_version"], version);
    let page = browser
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
        .await;
    assert_eq!(
        page["version"], version,
        "the list counts in the delta's version"
    );
    assert_eq!(page["messages"][0]["subject"], "Pushed");
    assert_eq!(page["messages"][0]["unread"], true);

    // A flag set elsewhere: the row comes back changed, the positions stay.
    phone.ok("STORE 5 +FLAGS (\\Seen)").await;
    let event = browser.event(PUSH, folder_changed("INBOX")).await;
    assert_eq!(event["unread"], 3);
    assert_eq!(event["changed"][0]["subject"], "Pushed", "{event}");
    assert_eq!(event["changed"][0]["unread"], false);
    assert_eq!(event["version"], version, "flags move no row");

    // An expunge elsewhere: the position it had goes.
    phone.ok("STORE 5 +FLAGS (\\Deleted)").await;
    phone.ok("EXPUNGE").await;
    let event = browser
        .event(PUSH, |e| is_folder_news(e) && e["total"] == 4)
        .await;
    assert_eq!(event["folder"], "INBOX");
    assert_eq!(event["removed"], json!([0]), "{event}");
    assert_eq!(event["from_version"], version);

    // A change in one browser reaches the other one.
    let first = uids(&mut browser, "INBOX").await[0];
    browser.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [first], "flags": [{"flag": "seen"}], "set": true})).await;
    let event = other_browser
        .event(PUSH, |e| is_folder_news(e) && e["unread"] == 2)
        .await;
    assert_eq!(event["folder"], "INBOX");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_is_restored_without_logging_in_again() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    let raw = mail::message(
        "Bob <bob@example.org>",
        ALICE.0,
        "Before the cut",
        "Mon, 13 Nov 2023 12:00:00 +0000",
        "x",
    );
    dovecot.deliver(ALICE.0, &raw, false);
    let proxy = FaultProxy::start(dovecot.imap_port).await;
    let mut server = dovecot.imap_server(TlsMode::Starttls);
    server.port = proxy.port;
    let relay = RunningRelay::start(server).await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    assert_eq!(uids(&mut client, "INBOX").await.len(), 1);

    // Cut while idle: the relay notices, says so, and comes back by itself.
    assert_eq!(proxy.cut_all(), 1);
    client.lost_and_back().await;
    // Mail that arrived meanwhile shows, and the pushes work on the new connection.
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    let raw = mail::message(
        "Bob <bob@example.org>",
        ALICE.0,
        "After the cut",
        "Mon, 13 Nov 2023 13:00:00 +0000",
        "y",
    );
    phone.append("INBOX", &raw, "").await;
    client
        .event(Duration::from_secs(2), |e| {
            is_folder_news(e) && e["total"] == 2
        })
        .await;

    // Cut again, and ask at once: the request is answered over a new connection.
    assert_eq!(proxy.cut_all(), 1);
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(page["total"], 2);
    assert_eq!(subjects(&page), ["After the cut", "Before the cut"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn attachments_and_whole_messages_download_exactly() {
    let (dovecot, relay) = setup().await;
    // 1.5 MB that is not text: crosses many fetch chunks and base64 line ends.
    let content: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let raw = mail::with_attachment(
        "Bob <bob@example.org>",
        ALICE.0,
        "Big file",
        "Fotos März.zip",
        "application/zip",
        &content,
    );
    dovecot.deliver(ALICE.0, &raw, true);
    let svg = mail::with_attachment(
        "Eve <eve@example.org>",
        ALICE.0,
        "Picture",
        "x.svg",
        "image/svg+xml",
        b"<svg onload=alert(1)></svg>",
    );
    dovecot.deliver(ALICE.0, &svg, true);
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let big = message(&mut client, "INBOX", "Big file").await;
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": big["uid"]}))
        .await;
    assert_eq!(view["attachments"][0]["part"], "2");
    let cookie = client.cookie.clone();
    let cookie = Some(cookie.as_str());
    let uid = big["uid"].as_u64().unwrap();

    let download = relay
        .get(
            &format!("/api/download?folder=INBOX&uid={uid}&part=2"),
            cookie,
        )
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body.len(), content.len());
    assert!(
        download.body == content,
        "the download differs from the attachment"
    );
    assert_eq!(
        download.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"Fotos M_rz.zip\"; filename*=UTF-8''Fotos%20M%C3%A4rz.zip")
    );

    // The whole message, byte for byte as the server holds it.
    let eml = relay
        .get(&format!("/api/download?folder=INBOX&uid={uid}"), cookie)
        .await;
    assert_eq!(eml.status, 200);
    assert!(
        eml.body == raw,
        "the .eml differs from the delivered message"
    );
    assert_eq!(eml.header("content-type"), Some("message/rfc822"));

    // An SVG is never shown inline, even when asked.
    let picture = message(&mut client, "INBOX", "Picture").await;
    let path = format!(
        "/api/download?folder=INBOX&uid={}&part=2&inline=true",
        picture["uid"]
    );
    let svg = relay.get(&path, cookie).await;
    assert_eq!(svg.header("content-type"), Some("application/octet-stream"));
    assert!(svg
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));
    assert!(svg
        .header("content-security-policy")
        .unwrap()
        .contains("sandbox"));

    // Downloading does not mark the message read.
    assert_eq!(
        message(&mut client, "INBOX", "Newsletter").await["unread"],
        true
    );

    let missing = relay
        .get(
            &format!("/api/download?folder=INBOX&uid={uid}&part=9"),
            cookie,
        )
        .await;
    assert_eq!(
        (missing.status, missing.json()["code"].as_str()),
        (400, Some("bad_request"))
    );
    let gone = relay
        .get("/api/download?folder=INBOX&uid=999", cookie)
        .await;
    assert_eq!(gone.status, 404);
    let anonymous = relay
        .get(
            &format!("/api/download?folder=INBOX&uid={uid}&part=2"),
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_are_newest_first_by_date_and_page_independently() {
    let (dovecot, relay) = setup().await;
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    // Written long ago, moved in now: it belongs at the end, not the top.
    let old = mail::message(
        "Old <old@example.org>",
        ALICE.0,
        "From the archive",
        "Wed, 1 Jan 2020 00:00:00 +0000",
        "x",
    );
    phone
        .append_received("INBOX", &old, "\\Seen", Some("01-Jan-2020 00:00:00 +0000"))
        .await;
    let new = mail::message(
        "New <new@example.org>",
        ALICE.0,
        "Just now",
        "Sat, 18 Nov 2023 12:00:00 +0000",
        "y",
    );
    phone.append("INBOX", &new, "").await;

    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 100}))
        .await;
    let all = subjects(&page);
    assert_eq!(all.first().map(String::as_str), Some("Just now"), "{all:?}");
    assert_eq!(
        all.last().map(String::as_str),
        Some("From the archive"),
        "{all:?}"
    );

    // Pages are independent slices of the same order.
    let mut paged = Vec::new();
    for offset in (0..6).step_by(2) {
        let page = client
            .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": offset, "limit": 2}))
            .await;
        assert_eq!(page["total"], 6);
        paged.extend(subjects(&page));
    }
    assert_eq!(paged, all);
    let beyond = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 10, "limit": 2}))
        .await;
    assert!(beyond["messages"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_tab_can_come_back_and_the_session_ends_after_the_idle_time() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    let relay = RunningRelay::start_with(
        0,
        dovecot.imap_server(TlsMode::Starttls),
        Duration::from_secs(2),
    )
    .await;
    let client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let cookie = client.cookie.clone();
    drop(client);

    // The tab reloads within the idle time: same session, same IMAP connection.
    let mut again = Client::resume(&relay, &cookie).await;
    again.ok(json!({"op": "list_folders"})).await;
    assert!(!dovecot.log().contains("Logged out"), "{}", dovecot.log());
    drop(again);

    // Then nobody comes back: the session and its IMAP connection end.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let session = relay.get(protocol::SESSION_PATH, Some(&cookie)).await;
    assert_eq!(session.status, 401);
    for _ in 0..100 {
        if dovecot.log().contains("Logged out") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the IMAP connection stayed open:\n{}", dovecot.log());
}

/// A relay reaching Dovecot through `proxy` over `tls`, logged in, then garbage from "the
/// server".
async fn garbage_through(
    dovecot: &Dovecot,
    proxy: &FaultProxy,
    tls: TlsMode,
) -> (RunningRelay, Client) {
    let mut server = dovecot.imap_server(tls);
    server.port = proxy.port;
    let relay = RunningRelay::start(server).await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    assert_eq!(uids(&mut client, "INBOX").await.len(), 1);
    proxy.inject_to_clients(b"* 1 FETCH (((\x00\xff garbage\r\n");
    (relay, client)
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_from_the_server_is_an_error_not_a_crash() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    let raw = mail::message(
        "Bob <bob@example.org>",
        ALICE.0,
        "Still here",
        "Mon, 13 Nov 2023 12:00:00 +0000",
        "x",
    );
    dovecot.deliver(ALICE.0, &raw, false);
    let proxy = FaultProxy::start(dovecot.imap_port).await;
    // Plain IMAP (allowed on loopback) so the garbage reaches the IMAP parser: one unreadable
    // response is skipped, and the connection goes on.
    let (_relay, mut client) = garbage_through(&dovecot, &proxy, TlsMode::Plain).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(subjects(&page), ["Still here"]);
    assert!(
        client
            .take_events()
            .iter()
            .all(|e| e["kind"] != "reconnecting"),
        "an unreadable response is no reason to drop the connection"
    );
    proxy.cut_all();

    // Under STARTTLS the same bytes break the TLS layer: that connection is gone, and a new
    // one is made without the user logging in again.
    let (_relay, mut client) = garbage_through(&dovecot, &proxy, TlsMode::Starttls).await;
    client.lost_and_back().await;
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(subjects(&page), ["Still here"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_connection_is_dropped_and_made_again() {
    let (dovecot, _) = setup().await;
    let proxy = FaultProxy::start(dovecot.imaps_port).await;
    let mut server = dovecot.imap_server(TlsMode::Implicit);
    server.port = proxy.port;
    server.timeout_seconds = 2;
    let relay = RunningRelay::start(server).await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    assert_eq!(uids(&mut client, "INBOX").await.len(), 4);

    // The connection stays open but nothing comes back, as behind a dead router. (A list of
    // the folder in view is answered from what the relay holds; opening a message needs the
    // server.)
    proxy.stall_all();
    let asked = tokio::time::Instant::now();
    let newest = uids(&mut client, "INBOX").await[0];
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": newest}))
        .await;
    assert_eq!(view["uid"], newest, "answered over a new connection");
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "the timeout (2 s) decides, then one reconnect: {took:?}"
    );
    let events = client.take_events();
    assert!(
        events.iter().any(|e| e["kind"] == "reconnecting"),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e["kind"] == "reconnected"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mail_server_restart_is_ridden_out_and_actions_meanwhile_fail_visibly() {
    let (mut dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let uid = uids(&mut client, "INBOX").await[0];

    dovecot.stop();
    client
        .event(Duration::from_secs(5), |e| e["kind"] == "reconnecting")
        .await;
    // What the user does while the server is away is refused, never silently dropped.
    let code = client
        .error_code(json!({"op": "set_flags", "folder": "INBOX", "uids": [uid], "flags": [{"flag": "flagged"}], "set": true}))
        .await;
    assert_eq!(code, "server_unreachable");

    dovecot.start_again().await;
    let back = tokio::time::Instant::now();
    client
        .event(Duration::from_secs(3), |e| e["kind"] == "reconnected")
        .await;
    eprintln!("live again {:?} after Dovecot listened", back.elapsed());
    let row = message(&mut client, "INBOX", "Newsletter").await;
    assert_eq!(
        row["flagged"], false,
        "the refused flag did not happen later behind the user's back"
    );
    client
        .ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [uid], "flags": [{"flag": "flagged"}], "set": true}))
        .await;
    let mut raw = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    raw.ok("SELECT INBOX").await;
    let flags = raw.ok(&format!("UID FETCH {uid} FLAGS")).await;
    assert!(flags.contains("\\Flagged"), "{flags}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_includes_the_users_own_replies_from_sent() {
    let (dovecot, relay) = setup().await;
    let root = "<plan-1@example.org>";
    dovecot.deliver(
        ALICE.0,
        &mail::in_thread(
            "Bob <bob@example.org>",
            ALICE.0,
            "Trip plans",
            "Mon, 20 Nov 2023 09:00:00 +0000",
            root,
            &[],
        ),
        true,
    );
    dovecot.deliver(
        ALICE.0,
        &mail::in_thread(
            "Bob <bob@example.org>",
            ALICE.0,
            "Re: Trip plans",
            "Mon, 20 Nov 2023 11:00:00 +0000",
            "<plan-3@example.org>",
            &[root, "<plan-2@example.org>"],
        ),
        false,
    );
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    let own = mail::in_thread(
        "Alice <alice@example.org>",
        "bob@example.org",
        "Re: Trip plans",
        "Mon, 20 Nov 2023 10:00:00 +0000",
        "<plan-2@example.org>",
        &[root],
    );
    phone.append("Sent", &own, "\\Seen").await;

    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let first = message(&mut client, "INBOX", "Trip plans").await;
    assert_eq!(first["thread_id"], root);
    // Two of the conversation's messages are in INBOX (THREAD=REFERENCES on Dovecot), worked
    // out after the rows went out and sent as news about them; the list has them from then.
    // Once the user pauses (THREAD holds the connection): within a few seconds.
    let sizes = client
        .event(Duration::from_secs(5), |e| {
            e["kind"] == "conversations" && e["folder"] == "INBOX"
        })
        .await;
    let sizes = sizes["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes.contains(&json!([first["uid"], 2])), "{sizes:?}");
    let first = message(&mut client, "INBOX", "Trip plans").await;
    assert_eq!(first["thread_size"], 2);
    assert_eq!(
        message(&mut client, "INBOX", "Newsletter").await["thread_size"],
        1
    );
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": first["uid"]}))
        .await;
    let thread = client
        .ok(json!({"op": "conversation", "folder": "INBOX", "thread_id": view["thread_id"]}))
        .await;
    let hits: Vec<(String, String)> = thread["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["folder"].as_str().unwrap().to_owned(),
                h["message"]["from"]["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        hits,
        [
            ("INBOX".into(), "bob@example.org".into()),
            ("Sent".into(), "alice@example.org".into()),
            ("INBOX".into(), "bob@example.org".into())
        ],
        "oldest first, with the reply from Sent"
    );
    let other = client
        .ok(json!({"op": "conversation", "folder": "INBOX", "thread_id": "<nothing@example.org>"}))
        .await;
    assert!(other["hits"].as_array().unwrap().is_empty());
    assert_eq!(
        client
            .error_code(
                json!({"op": "conversation", "folder": "INBOX", "thread_id": "x\r\nT1 LOGOUT"})
            )
            .await,
        "bad_request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_requests_on_one_socket_is_bounded_and_every_one_answered() {
    let (_dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    const BURST: u64 = 300;
    for id in 1..=BURST {
        client
            .send_raw(
                &json!({"id": id, "op": "search", "folder": null, "query": {"text": "x"}})
                    .to_string(),
            )
            .await;
    }
    let (mut answered, mut busy) = (std::collections::BTreeSet::new(), 0);
    while (answered.len() as u64) < BURST {
        let frame = client.next_frame().await;
        if frame["type"] == "event" {
            continue;
        }
        if frame["type"] == "error" && frame["error"]["code"] == "try_later" {
            busy += 1;
        }
        answered.insert(frame["id"].as_u64().expect("an answer names its request"));
    }
    assert_eq!(answered.len() as u64, BURST, "every request answered once");
    assert!(busy > 0 && busy < BURST, "{busy} of {BURST} held back");
    // The socket goes on as before.
    let folders = client.ok(json!({"op": "list_folders"})).await;
    assert_eq!(folders["kind"], "folders");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_login_shows_the_inbox_as_last_seen_then_what_came_since() {
    let (dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let before = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
        .await;
    let logout = relay
        .post(protocol::LOGOUT_PATH, "", Some(&client.cookie))
        .await;
    assert_eq!(logout.status, 204);
    drop(client);
    // Mail arrives while nobody is logged in; the session's end has been dealt with.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut phone = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    let raw = mail::message(
        "Carol <carol@example.org>",
        ALICE.0,
        "While logged out",
        "Fri, 17 Nov 2023 08:00:00 +0000",
        "Hi",
    );
    phone.append("INBOX", &raw, "").await;

    // The next login lists the INBOX as the last session left it, or as it is; either way
    // the new message is there once the relay has looked.
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let shown = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
        .await;
    if shown["messages"][0]["subject"] == "While logged out" {
        assert_eq!(shown["total"], before["total"].as_u64().unwrap() + 1);
        return;
    }
    assert_eq!(shown["messages"], before["messages"], "as last seen");
    let news = client
        .event(Duration::from_secs(5), folder_changed("INBOX"))
        .await;
    assert_eq!(news["kind"], "folder_delta", "{news}");
    assert_eq!(news["from_version"], shown["version"], "{news}");
    assert_eq!(news["added"][0]["position"], 0, "{news}");
    assert_eq!(news["added"][0]["message"]["subject"], "While logged out");
    assert_eq!(news["total"], before["total"].as_u64().unwrap() + 1);
}

/// Another client expunges a message just before the user acts on it and others: what is left
/// is acted on (Dovecot refuses a MOVE naming a message it expunged for another session until
/// this one's view catches up, and STOREs on it as if it were there).
#[tokio::test(flavor = "multi_thread")]
async fn acting_on_mail_partly_expunged_elsewhere_acts_on_what_is_left() {
    let (dovecot, relay) = setup().await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let all = uids(&mut client, "INBOX").await;
    client
        .ok(json!({"op": "create_folder", "name": "Work"}))
        .await;
    let mut imap = RawImap::login(dovecot.imap_port, ALICE.0, ALICE.1).await;
    imap.ok("SELECT INBOX").await;
    for gone in [all[0], all[1]] {
        imap.ok(&format!("UID STORE {gone} +FLAGS.SILENT (\\Deleted)"))
            .await;
        imap.ok(&format!("UID EXPUNGE {gone}")).await;
        if gone == all[0] {
            let moved = client
                .ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [all[0], all[2]], "to": "Work"}))
                .await;
            assert_eq!(moved["uids"].as_array().map(Vec::len), Some(1), "{moved}");
        } else {
            assert_eq!(
                client
                    .error_code(json!({"op": "set_flags", "folder": "INBOX", "uids": [all[1]], "flags": [{"flag": "flagged"}], "set": true}))
                    .await,
                "no_such_message"
            );
        }
    }
    assert_eq!(uids(&mut client, "INBOX").await, vec![all[3]]);
    assert_eq!(uids(&mut client, "Work").await.len(), 1);
}
