//! POP3 accounts against a real Dovecot: the relay collects into its own store, deletes on the
//! server only what it has stored, survives cuts at any byte, and serves the mail through the
//! same protocol as IMAP.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::{folder_changed, subjects, Client},
    dovecot::Dovecot,
    mail,
    proxy::FaultProxy,
    relay::RunningRelay,
    relay_process::{pop3_section, RelayProcess},
};

const ALICE: (&str, &str) = ("alice@example.org", "correct horse");

async fn collected(client: &mut Client, within: Duration) -> Value {
    client.event(within, |e| e["kind"] == "collected").await
}

fn deliver(dovecot: &Dovecot, count: u32) {
    for i in 0..count {
        let raw = mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            &format!("Nachricht {i:04}"),
            &format!(
                "Mon, 13 Nov 2023 {:02}:{:02}:00 +0000",
                (i / 60) % 24,
                i % 60
            ),
            &format!("Text {i}"),
        );
        dovecot.deliver(ALICE.0, &raw, false);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn collects_over_pop3s_and_stls_and_reads_like_imap() {
    for tls in [TlsMode::Implicit, TlsMode::Starttls] {
        let dovecot = Dovecot::start(&[ALICE]).await;
        deliver(&dovecot, 3);
        dovecot.deliver(
            ALICE.0,
            &mail::html_with_attachment("News <news@example.org>", ALICE.0, "Newsletter"),
            false,
        );
        let data = tempfile::tempdir().unwrap();
        let relay = RunningRelay::start_pop3(dovecot.pop3_server(tls), None, data.path()).await;
        let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
        let done = collected(&mut client, Duration::from_secs(10)).await;
        assert_eq!(
            (done["stored"].as_u64(), &done["error"]),
            (Some(4), &Value::Null),
            "{tls:?}"
        );
        assert_eq!(
            dovecot.messages_on_server(ALICE.0),
            0,
            "collected mail leaves the server"
        );

        // The same requests as for IMAP.
        let folders = client.ok(json!({"op": "list_folders"})).await;
        let inbox = &folders["folders"][0];
        assert_eq!(
            (
                inbox["name"].as_str(),
                inbox["total"].as_u64(),
                inbox["unread"].as_u64()
            ),
            (Some("INBOX"), Some(4), Some(4))
        );
        let page = client
            .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
            .await;
        assert_eq!(
            subjects(&page),
            [
                "Newsletter",
                "Nachricht 0002",
                "Nachricht 0001",
                "Nachricht 0000"
            ]
        );
        let news = page["messages"][0]["uid"].clone();
        assert_eq!(page["messages"][0]["has_attachments"], true);
        let view = client
            .ok(json!({"op": "open_message", "folder": "INBOX", "uid": news}))
            .await;
        let html = view["body"]["html"].as_str().unwrap();
        assert!(
            html.contains("Grüße") && !html.contains("<script") && html.contains("data-remote-src"),
            "{html}"
        );
        assert_eq!(view["attachments"][0]["name"], "Bericht März.pdf");

        client.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [news], "flags": [{"flag": "seen"}], "set": true})).await;
        assert_eq!(
            client
                .event(Duration::from_secs(2), folder_changed("INBOX"))
                .await["unread"],
            3
        );
        client
            .ok(json!({"op": "create_folder", "name": "Familie"}))
            .await;
        client
            .ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [news], "to": "Familie"}))
            .await;
        let hits = client
            .ok(json!({"op": "search", "folder": null, "query": {"text": "newsletter"}}))
            .await;
        assert_eq!(hits["hits"][0]["folder"], "Familie");
        let pdf = relay
            .get(
                &format!("/api/download?folder=Familie&uid={news}&part=1"),
                Some(&client.cookie),
            )
            .await;
        assert_eq!(
            (pdf.status, pdf.header("content-type")),
            (200, Some("application/pdf"))
        );
        assert!(pdf.body.starts_with(b"%PDF-1.4"));
        client
            .ok(json!({"op": "delete_messages", "folder": "Familie", "uids": [news]}))
            .await;
        let trash = client
            .ok(json!({"op": "list_messages", "folder": "Trash", "offset": 0, "limit": 10}))
            .await;
        assert_eq!(subjects(&trash), ["Newsletter"]);
        // Another device (or this one, offline) acting on it where it no longer is: the
        // store's state wins, and the answer says so rather than "done".
        for gone in [
            json!({"op": "set_flags", "folder": "Familie", "uids": [news], "flags": [{"flag": "flagged"}], "set": true}),
            json!({"op": "move_messages", "folder": "Familie", "uids": [news], "to": "INBOX"}),
            json!({"op": "delete_messages", "folder": "Familie", "uids": [news]}),
        ] {
            assert_eq!(
                client.error_code(gone.clone()).await,
                "no_such_message",
                "{gone}"
            );
        }
        let trash = client
            .ok(json!({"op": "list_messages", "folder": "Trash", "offset": 0, "limit": 10}))
            .await;
        assert_eq!(trash["messages"][0]["flagged"], false);

        // New mail arrives on the server; "check mail" collects it.
        deliver(&dovecot, 1);
        client.ok(json!({"op": "check_mail"})).await;
        let done = collected(&mut client, Duration::from_secs(10)).await;
        assert_eq!(done["stored"], 1);
    }
}

/// What changes in the store reaches the tabs as a delta of the list they hold (as IMAP's
/// changes do), so that the open message, the scroll position and the selection stay.
#[tokio::test(flavor = "multi_thread")]
async fn changes_in_the_store_reach_the_tabs_as_deltas_of_their_list() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    deliver(&dovecot, 2);
    let data = tempfile::tempdir().unwrap();
    let relay =
        RunningRelay::start_pop3(dovecot.pop3_server(TlsMode::Implicit), None, data.path()).await;
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    collected(&mut client, Duration::from_secs(10)).await;
    let list = json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10});
    let page = client.ok(list.clone()).await;
    let version = page["version"].as_u64().unwrap();
    assert_ne!(version, 0);
    let newest = page["messages"][0]["uid"].clone();
    let delta = |e: &Value| e["kind"] == "folder_delta" && e["folder"] == "INBOX";

    // Flags: the row changes in place, and the version stays (no position moved).
    client.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [newest], "flags": [{"flag": "seen"}], "set": true})).await;
    let flagged = client.event(Duration::from_secs(2), delta).await;
    assert_eq!(
        (
            flagged["from_version"].as_u64(),
            flagged["version"].as_u64()
        ),
        (Some(version), Some(version))
    );
    assert_eq!(flagged["changed"][0]["uid"], newest);
    assert_eq!(flagged["changed"][0]["unread"], false);
    assert_eq!(flagged["unread"], 1);

    // New mail, one newer and one older than what is there: rows placed where they go.
    for (subject, date) in [
        ("Neuer", "Tue, 14 Nov 2023 08:00:00 +0000"),
        ("Älter", "Sun, 12 Nov 2023 08:00:00 +0000"),
    ] {
        let raw = mail::message("Bob <bob@example.org>", ALICE.0, subject, date, "Text");
        dovecot.deliver(ALICE.0, &raw, false);
    }
    client.ok(json!({"op": "check_mail"})).await;
    let arrived = client.event(Duration::from_secs(10), delta).await;
    assert_eq!(arrived["from_version"].as_u64(), Some(version));
    let after = arrived["version"].as_u64().unwrap();
    assert!(after > version);
    let placed: Vec<(u64, &str)> = arrived["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["position"].as_u64().unwrap(),
                a["message"]["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(placed, [(0, "Neuer"), (3, "Älter")]);
    assert_eq!(
        (arrived["total"].as_u64(), arrived["unread"].as_u64()),
        (Some(4), Some(3))
    );

    // Moved away: its position in the list before goes.
    client
        .ok(json!({"op": "create_folder", "name": "Familie"}))
        .await;
    client
        .ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [newest], "to": "Familie"}))
        .await;
    let moved = client.event(Duration::from_secs(2), delta).await;
    assert_eq!(moved["from_version"].as_u64(), Some(after));
    assert_eq!(moved["removed"], json!([1]));
    // A list read now carries the version the deltas reached.
    let page = client.ok(list).await;
    assert_eq!(page["version"], moved["version"]);
    assert_eq!(subjects(&page), ["Neuer", "Nachricht 0000", "Älter"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_store_leaves_new_mail_on_the_server_and_says_so() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    // Three messages of about 400 kB; the user may keep 1 MB on the relay.
    for i in 0..3 {
        let body = format!("Teil {i}\r\n{}", "Zeile voller Text.\r\n".repeat(20_000));
        let raw = mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            &format!("Grosse Nachricht {i}"),
            &format!("Mon, 13 Nov 2023 10:0{i}:00 +0000"),
            &body,
        );
        dovecot.deliver(ALICE.0, &raw, false);
    }
    let data = tempfile::tempdir().unwrap();
    let mut pop3 = dovecot.pop3_server(TlsMode::Implicit);
    pop3.quota_mb = 1;
    let relay = RunningRelay::start_pop3(pop3, None, data.path()).await;
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    let done = collected(&mut client, Duration::from_secs(20)).await;
    assert_eq!(done["stored"], 2, "{done}");
    assert_eq!(done["error"]["code"], "over_quota", "{done}");
    // What did not fit is still on the server, whole, for the next collection.
    assert_eq!(dovecot.messages_on_server(ALICE.0), 1);
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(page["total"], 2);
    // A tab that opens after the collection (which starts at login) still hears how it ended.
    let mut late = Client::resume(&relay, &client.cookie).await;
    let told = collected(&mut late, Duration::from_secs(5)).await;
    assert_eq!(told["error"]["code"], "over_quota", "{told}");
}

#[tokio::test(flavor = "multi_thread")]
async fn leave_on_server_collects_each_message_once() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    deliver(&dovecot, 5);
    let data = tempfile::tempdir().unwrap();
    let mut pop3 = dovecot.pop3_server(TlsMode::Implicit);
    pop3.delete_after_download = false;
    pop3.keep_days = 7;
    let relay = RunningRelay::start_pop3(pop3, None, data.path()).await;
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(
        collected(&mut client, Duration::from_secs(10)).await["stored"],
        5
    );
    assert_eq!(dovecot.messages_on_server(ALICE.0), 5);
    client.ok(json!({"op": "check_mail"})).await;
    assert_eq!(
        collected(&mut client, Duration::from_secs(10)).await["stored"],
        0
    );
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert_eq!(page["total"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_in_use_is_a_clear_try_later() {
    let dovecot = Dovecot::start_locking_pop3(&[ALICE]).await;
    deliver(&dovecot, 1);
    // Another program holds the mailbox (Dovecot locks a POP3 session's mailbox here).
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.pop3_port))
        .await
        .unwrap();
    let mut other = BufReader::new(stream);
    let mut line = String::new();
    other.read_line(&mut line).await.unwrap();
    other
        .get_mut()
        .write_all(format!("USER {}\r\nPASS {}\r\n", ALICE.0, ALICE.1).as_bytes())
        .await
        .unwrap();
    for _ in 0..2 {
        line.clear();
        other.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("+OK"), "{line}");
    }
    let data = tempfile::tempdir().unwrap();
    let relay =
        RunningRelay::start_pop3(dovecot.pop3_server(TlsMode::Implicit), None, data.path()).await;
    let (status, cookie, body) = relay.login_as(ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("try_later")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("in use"),
        "{body}"
    );
    assert!(cookie.is_none());
    // Nothing was taken from the server meanwhile.
    assert_eq!(dovecot.messages_on_server(ALICE.0), 1);
    drop(other);
}

#[tokio::test(flavor = "multi_thread")]
async fn pop3_is_refused_where_not_offered() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Implicit)).await;
    let (status, _, body) = relay.login_as(ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_offered")),
        "{body}"
    );
    let info = relay.get(protocol::SERVER_INFO_PATH, None).await.json();
    assert_eq!(info["account_kinds"], json!(["imap"]));
}

/// A connection cut at any point of a collection loses nothing and duplicates nothing: 120 cuts
/// at bytes spread over the whole transfer of 300 messages, then one clean run.
#[tokio::test(flavor = "multi_thread")]
async fn cuts_at_any_byte_lose_and_duplicate_nothing() {
    const MESSAGES: u32 = 300;
    const CUTS: usize = 120;
    let dovecot = Dovecot::start(&[ALICE]).await;
    let proxy = FaultProxy::start(dovecot.pop3s_port).await;
    let mut pop3 = dovecot.pop3_server(TlsMode::Implicit);
    pop3.port = proxy.port;
    let data = tempfile::tempdir().unwrap();
    let relay = RunningRelay::start_pop3(pop3, None, data.path()).await;
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(
        collected(&mut client, Duration::from_secs(10)).await["stored"],
        0
    );

    deliver(&dovecot, MESSAGES);
    // Cut points from a few bytes into the TLS handshake to past the end, in a scrambled order.
    let mut stored = 0;
    for i in 0..CUTS {
        let cut = 40 + (i * 7919) % 160_000;
        proxy.cut_after(Some(cut));
        client.ok(json!({"op": "check_mail"})).await;
        let done = collected(&mut client, Duration::from_secs(30)).await;
        stored += done["stored"].as_u64().unwrap();
        // What the store holds and what the server still has always add up.
        let on_server = dovecot.messages_on_server(ALICE.0) as u64;
        assert!(
            stored + on_server >= u64::from(MESSAGES),
            "lost mail after cut {i} at {cut}: {stored} stored, {on_server} on the server"
        );
    }
    proxy.cut_after(None);
    client.ok(json!({"op": "check_mail"})).await;
    let done = collected(&mut client, Duration::from_secs(30)).await;
    assert_eq!(done["error"], Value::Null, "{done}");
    stored += done["stored"].as_u64().unwrap();

    assert_eq!(
        stored,
        u64::from(MESSAGES),
        "each message stored exactly once"
    );
    assert_eq!(dovecot.messages_on_server(ALICE.0), 0);
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 500}))
        .await;
    let mut all = subjects(&page);
    assert_eq!(all.len() as u32, MESSAGES);
    all.sort();
    all.dedup();
    assert_eq!(all.len() as u32, MESSAGES, "no duplicates");
}

/// The relay killed (SIGKILL) in the middle of a collection restarts with a consistent store,
/// and the next collection completes with no loss and no duplicate.
#[tokio::test(flavor = "multi_thread")]
async fn a_relay_killed_mid_collection_loses_and_duplicates_nothing() {
    const MESSAGES: u32 = 3_000;
    let dovecot = Dovecot::start(&[ALICE]).await;
    dovecot.deliver_many(ALICE.0, MESSAGES, |i| {
        mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            &format!("Brief {i:05}"),
            "Mon, 13 Nov 2023 12:00:00 +0000",
            &"Zeile\r\n".repeat(50),
        )
    });
    let data = tempfile::tempdir().unwrap();
    let mut process = RelayProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_relay")),
        data.path(),
        &pop3_section(&dovecot.pop3_server(TlsMode::Implicit)),
    )
    .await;
    let relay = process.relay();
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    client
        .event(Duration::from_secs(30), |e| {
            e["kind"] == "collecting" && e["done"].as_u64().unwrap_or(0) >= 300
        })
        .await;
    process.kill(); // SIGKILL, mid-collection
                    // No QUIT, so the server deleted nothing: what the relay stored is also still there.
    assert_eq!(dovecot.messages_on_server(ALICE.0), MESSAGES as usize);

    process.restart().await;
    let mut client = Client::login_as(&relay, ALICE.0, ALICE.1, "pop3").await;
    let done = collected(&mut client, Duration::from_secs(60)).await;
    assert_eq!(done["error"], Value::Null, "{done}");
    assert_eq!(dovecot.messages_on_server(ALICE.0), 0);
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 500}))
        .await;
    assert_eq!(page["total"], MESSAGES, "every message stored exactly once");
    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"subject": "Brief"}}))
        .await;
    let mut all: Vec<_> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["subject"].as_str().unwrap().to_owned())
        .collect();
    let found = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), found, "no duplicates");
}

#[tokio::test(flavor = "multi_thread")]
async fn pop3_login_errors_name_their_cause() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    let data = tempfile::tempdir().unwrap();
    let relay =
        RunningRelay::start_pop3(dovecot.pop3_server(TlsMode::Starttls), None, data.path()).await;
    let (status, _, body) = relay.login_as(ALICE.0, "wrong", "pop3").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth_failed")),
        "{body}"
    );
    let (status, _, body) = relay
        .login_as("alice@example.org\r\nDELE 1", ALICE.1, "pop3")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth_failed")),
        "{body}"
    );

    let mut untrusted = dovecot.pop3_server(TlsMode::Implicit);
    untrusted.ca_file = None;
    let relay = RunningRelay::start_pop3(untrusted, None, data.path()).await;
    let (_, _, body) = relay.login_as(ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(body["code"], "certificate_not_trusted", "{body}");

    // A server that does not offer STLS on a port configured for it is refused, not used in clear.
    let plain = Dovecot::start_without_tls(&[ALICE]).await;
    let relay =
        RunningRelay::start_pop3(plain.pop3_server(TlsMode::Starttls), None, data.path()).await;
    let (status, _, body) = relay.login_as(ALICE.0, ALICE.1, "pop3").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("server_protocol")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("STLS"), "{body}");
    assert!(
        !plain.log().contains(ALICE.0),
        "the password never went out: {}",
        plain.log()
    );
}
