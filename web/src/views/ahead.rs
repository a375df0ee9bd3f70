//! The message below the open one, fetched while the user reads it: opening the next row (a
//! click, `j`, or the next one after a delete) then shows at once instead of after a round trip
//! to the relay and the mail server. Opening does not mark mail read on the relay (the app sets
//! `\Seen` itself when a message is shown), so fetching ahead changes nothing the user sees.
//! Opening one whose fetch is still under way waits for that fetch rather than asking again.

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;
use protocol::{MessageView, Request, Response};

use crate::{
    i18n::Strings,
    state::{texts, Mail},
};

/// How many messages fetched ahead are kept: the next one, and a couple the user skipped past.
const KEPT: usize = 3;

/// Bigger messages are not fetched ahead (on a phone on mobile data that would be a cost the
/// user did not choose).
const MAX_SIZE: u32 = 256 * 1024;

/// A message fetched ahead, or being fetched: `None` if that failed.
type Fetched = Shared<LocalBoxFuture<'static, Option<MessageView>>>;

/// A message taken from those fetched ahead.
pub enum Taken {
    /// Here already: shown at once.
    Here(Box<MessageView>),
    /// On its way: `None` if its fetch fails (or its row went meanwhile).
    Coming(LocalBoxFuture<'static, Option<MessageView>>),
}

struct Kept {
    folder: String,
    uid: u32,
    message: Fetched,
}

/// Messages fetched ahead, the newest last.
#[derive(Clone, Copy)]
pub struct Ahead {
    kept: StoredValue<Vec<Kept>, LocalStorage>,
    t: &'static Strings,
}

impl Ahead {
    /// Made in the view that opens messages (it reads the app's texts from there).
    pub fn new() -> Self {
        Self {
            kept: StoredValue::new_local(Vec::new()),
            t: texts(),
        }
    }

    /// The message, if it was fetched (or is being fetched) ahead and its row is still in the
    /// list.
    pub fn take(self, mail: Mail, folder: &str, uid: u32) -> Option<Taken> {
        listed(mail, folder, uid)?;
        let kept = self.kept.try_update_value(|kept| {
            let at = kept
                .iter()
                .position(|m| m.folder == folder && m.uid == uid)?;
            Some(kept.remove(at))
        })??;
        match kept.message.peek() {
            Some(fetched) => fetched
                .clone()
                .and_then(|message| with_row_flags(mail, message))
                .map(|m| Taken::Here(Box::new(m))),
            None => Some(Taken::Coming(
                kept.message
                    .map(move |fetched| fetched.and_then(|message| with_row_flags(mail, message)))
                    .boxed_local(),
            )),
        }
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
            .kept
            .with_value(|kept| kept.iter().any(|m| m.folder == folder && m.uid == next.uid));
        if kept || next.size > MAX_SIZE {
            return;
        }
        let t = self.t;
        let message = {
            let folder = folder.to_owned();
            async move { open_message(mail, t, &folder, next.uid).await.ok() }
        }
        .boxed_local()
        .shared();
        // Started now, not when first awaited.
        leptos::task::spawn_local(message.clone().map(drop));
        self.kept.update_value(|kept| {
            kept.push(Kept {
                folder: folder.to_owned(),
                uid: next.uid,
                message,
            });
            if kept.len() > KEPT {
                kept.remove(0);
            }
        });
    }
}

/// The message `uid` of `folder`, from the relay; the error as the user reads it.
pub async fn open_message(
    mail: Mail,
    t: &'static Strings,
    folder: &str,
    uid: u32,
) -> Result<MessageView, String> {
    let request = Request::OpenMessage {
        folder: folder.to_owned(),
        uid,
    };
    match mail.request(request).await {
        Ok(Response::Message(message)) => Ok(*message),
        Ok(_) => Err("unexpected answer".into()),
        Err(e) => Err(t.error(e.code, &e.message).to_owned()),
    }
}

/// `message` with the flags its row shows now (they may have changed since it was fetched), if
/// the row is still listed.
fn with_row_flags(mail: Mail, mut message: MessageView) -> Option<MessageView> {
    let (_, row) = listed(mail, &message.folder, message.uid)?;
    message.unread = row.unread;
    message.flagged = row.flagged;
    message.answered = row.answered;
    Some(message)
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
