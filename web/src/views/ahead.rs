//! The message below the open one, fetched while the user reads it: opening the next row (a
//! click, `j`, or the next one after a delete) then shows at once instead of after a round trip
//! to the relay and the mail server. Opening does not mark mail read on the relay (the app sets
//! `\Seen` itself when a message is shown), so fetching ahead changes nothing the user sees.

use leptos::{prelude::*, task::spawn_local};
use protocol::{MessageView, Request, Response};

use crate::state::Mail;

/// How many messages fetched ahead are kept: the next one, and a couple the user skipped past.
const KEPT: usize = 3;

/// Bigger messages are not fetched ahead (on a phone on mobile data that would be a cost the
/// user did not choose).
const MAX_SIZE: u32 = 256 * 1024;

/// Messages fetched ahead, the newest last.
#[derive(Clone, Copy)]
pub struct Ahead(StoredValue<Vec<MessageView>>);

impl Ahead {
    pub fn new() -> Self {
        Self(StoredValue::new(Vec::new()))
    }

    /// The message, if it was fetched ahead and its row is still in the list, with the flags
    /// the row shows now (they may have changed since it was fetched).
    pub fn take(self, mail: Mail, folder: &str, uid: u32) -> Option<MessageView> {
        let (_, row) = listed(mail, folder, uid)?;
        let mut taken = self.0.try_update_value(|kept| {
            let at = kept
                .iter()
                .position(|m| m.folder == folder && m.uid == uid)?;
            Some(kept.remove(at))
        })??;
        taken.unread = row.unread;
        taken.flagged = row.flagged;
        taken.answered = row.answered;
        Some(taken)
    }

    /// Fetches the row after the message `uid` of the list, if that row is loaded, small and
    /// not fetched already.
    pub fn fetch_after(self, mail: Mail, folder: &str, uid: u32) {
        let Some((index, _)) = listed(mail, folder, uid) else {
            return;
        };
        let Some(next) = mail
            .list
            .rows
            .with_untracked(|rows| rows.get(&(index + 1)).cloned())
        else {
            return;
        };
        let kept = self
            .0
            .with_value(|kept| kept.iter().any(|m| m.folder == folder && m.uid == next.uid));
        if kept || next.size > MAX_SIZE {
            return;
        }
        let folder = folder.to_owned();
        spawn_local(async move {
            let request = Request::OpenMessage {
                folder,
                uid: next.uid,
            };
            if let Ok(Response::Message(message)) = mail.request(request).await {
                self.0.update_value(|kept| {
                    kept.push(*message);
                    if kept.len() > KEPT {
                        kept.remove(0);
                    }
                });
            }
        });
    }
}

/// The message's position and row in the list on screen, if the list shows `folder` (not a
/// search) and has it loaded.
fn listed(mail: Mail, folder: &str, uid: u32) -> Option<(u32, protocol::MessageSummary)> {
    if mail.search.with_untracked(Option::is_some) || mail.folder.with_untracked(|f| f != folder) {
        return None;
    }
    mail.list.rows.with_untracked(|rows| {
        rows.iter()
            .find(|(_, row)| row.uid == uid)
            .map(|(index, row)| (*index, row.clone()))
    })
}
