//! The core IMAP operations against a second, independent server: pymap (Python), with its
//! demo user and sample mail. What works on Dovecot must not depend on Dovecot.

use std::time::Duration;

use serde_json::json;
use webmail_tests::{
    client::{is_folder_news, Client},
    pymap::{Pymap, USER},
    relay::RunningRelay,
    scenarios,
};

/// pymap has no CONDSTORE: going back to a folder reads its flags again instead of only
/// what changed, with the same result.
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_opened_before_shows_what_changed_while_away_on_pymap() {
    let pymap = Pymap::start().await;
    let relay = RunningRelay::start(pymap.imap_server()).await;
    let mut client = Client::login(&relay, USER.0, USER.1).await;
    let mut other = Client::login(&relay, USER.0, USER.1).await;
    scenarios::changes_while_away_show_on_return(&mut client, &mut other, "INBOX", "Away").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn core_operations_on_pymap() {
    let pymap = Pymap::start().await;
    let relay = RunningRelay::start(pymap.imap_server()).await;
    let mut client = Client::login(&relay, USER.0, USER.1).await;

    let folders = client.ok(json!({"op": "list_folders"})).await;
    let folders = folders["folders"].as_array().unwrap();
    assert_eq!(folders[0]["name"], "INBOX", "{folders:?}");
    let inbox_total = folders[0]["total"].as_u64().unwrap();
    assert!(inbox_total > 0, "pymap's demo INBOX has mail: {folders:?}");

    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
        .await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len() as u64, inbox_total);
    assert!(
        messages
            .iter()
            .all(|m| m["uid"].as_u64().unwrap() > 0 && m["from"].is_object()),
        "{page}"
    );
    assert!(
        messages
            .iter()
            .all(|m| m["preview"].as_str().is_some_and(|p| !p.is_empty())),
        "every demo message has text to preview: {page}"
    );
    let uid = messages[0]["uid"].clone();
    let subject = messages[0]["subject"].as_str().unwrap().to_owned();

    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
        .await;
    assert_eq!(view["subject"], subject.as_str());
    assert_ne!(view["body"]["kind"], "empty", "{view}");

    client.ok(json!({"op": "set_flags", "folder": "INBOX", "uids": [uid], "flags": [{"flag": "flagged"}], "set": true})).await;
    let view = client
        .ok(json!({"op": "open_message", "folder": "INBOX", "uid": uid}))
        .await;
    assert_eq!(view["flagged"], true);

    let hits = client
        .ok(json!({"op": "search", "folder": "INBOX", "query": {"subject": subject}}))
        .await;
    assert!(
        hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["message"]["uid"] == uid),
        "{hits}"
    );

    client
        .ok(json!({"op": "create_folder", "name": "Kept"}))
        .await;
    client
        .ok(json!({"op": "move_messages", "folder": "INBOX", "uids": [uid], "to": "Kept"}))
        .await;
    let kept = client
        .ok(json!({"op": "list_messages", "folder": "Kept", "offset": 0, "limit": 50}))
        .await;
    assert_eq!(kept["total"], 1);
    assert_eq!(kept["messages"][0]["subject"], subject.as_str());

    // Push works here too: another session (its own IMAP connection) moves the message back into
    // the folder this one watches.
    client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50}))
        .await;
    let mut other = Client::login(&relay, USER.0, USER.1).await;
    let kept_uid = kept["messages"][0]["uid"].clone();
    other
        .ok(json!({"op": "move_messages", "folder": "Kept", "uids": [kept_uid], "to": "INBOX"}))
        .await;
    let event = client
        .event(Duration::from_secs(2), |e| {
            is_folder_news(e) && e["folder"] == "INBOX" && e["total"].as_u64() == Some(inbox_total)
        })
        .await;
    assert_eq!(event["folder"], "INBOX");
}
