//! What users do, as steps that run against more than one IMAP server (Dovecot with CONDSTORE,
//! pymap without), so that what the relay skips on one server is still right on the other.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{is_folder_news, Client};

/// The user looks at `folder`, goes to a new folder `elsewhere` (with one of `folder`'s
/// messages moved in), and meanwhile `other` (another device: its own session and IMAP
/// connection) flips one message's read state, moves the moved one back in and another one
/// out. Back in `folder`, the list shows all of that, though the relay only re-checked
/// what it knew: first as it was, then with news of what changed. `folder` needs at least three messages.
pub async fn changes_while_away_show_on_return(
    client: &mut Client,
    other: &mut Client,
    folder: &str,
    elsewhere: &str,
) {
    let rows = list(client, folder).await["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert!(rows.len() >= 3, "{rows:?}");
    let moved = rows.last().unwrap().clone();
    client
        .ok(json!({"op": "create_folder", "name": elsewhere}))
        .await;
    client.ok(json!({"op": "move_messages", "folder": folder, "uids": [moved["uid"]], "to": elsewhere})).await;
    let before = list(client, folder).await;
    let (flipped, gone) = (rows[0].clone(), rows[1]["uid"].clone());
    let away = list(client, elsewhere).await;
    assert_eq!(away["total"], 1, "{away}");

    let was_unread = flipped["unread"].as_bool().unwrap();
    other.ok(json!({"op": "set_flags", "folder": folder, "uids": [flipped["uid"]], "flags": [{"flag": "seen"}], "set": was_unread})).await;
    other.ok(json!({"op": "move_messages", "folder": elsewhere, "uids": [away["messages"][0]["uid"]], "to": folder})).await;
    other
        .ok(json!({"op": "move_messages", "folder": folder, "uids": [gone], "to": elsewhere}))
        .await;

    // Back in `folder`: at once the list as the relay knew it; what changed follows as news
    // about that very list (a delta from its version), and the folder lists as it is now.
    client.take_events();
    let shown = list(client, folder).await;
    let news = client
        .event(Duration::from_secs(5), |e| {
            is_folder_news(e) && e["folder"] == folder
        })
        .await;
    if news["kind"] == "folder_delta" {
        assert_eq!(news["from_version"], shown["version"], "{news}");
        assert_eq!(news["total"], before["total"], "{news}");
    }
    let after = list(client, folder).await;
    let rows = after["messages"].as_array().unwrap();
    assert_eq!(
        after["total"], before["total"],
        "one went, one came: {after}"
    );
    assert!(
        rows.iter().all(|r| r["uid"] != gone),
        "the one moved out is gone: {after}"
    );
    let row = rows
        .iter()
        .find(|r| r["uid"] == flipped["uid"])
        .expect("still there");
    assert_eq!(
        row["unread"], !was_unread,
        "read state flipped elsewhere: {after}"
    );
    assert!(
        rows.iter()
            .any(|r| r["subject"] == moved["subject"] && r["uid"] != moved["uid"]),
        "the message moved back shows, under its new UID: {after}"
    );
    assert_eq!(rows.len() as u64, after["total"].as_u64().unwrap().min(100));
}

async fn list(client: &mut Client, folder: &str) -> Value {
    client
        .ok(json!({"op": "list_messages", "folder": folder, "offset": 0, "limit": 100}))
        .await
}
