//! "Deleted · Undo": messages that left a folder (deleted into Trash, archived, moved) can be
//! put back for a few seconds, by moving them back by the UIDs the relay says they have now.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use protocol::{Request, Response};

use crate::{
    i18n::Strings,
    state::{texts, Mail},
};

/// How long the bar offers to undo.
const OFFERED_FOR: Duration = Duration::from_secs(8);

/// What the bar offers to put back.
#[derive(Clone, Debug, PartialEq)]
pub struct Undoable {
    /// Tells one removal from the next, so that an old one's timer does not close a new bar.
    id: u32,
    /// "Deleted", "Archived", "Moved to Work".
    said: String,
    from: String,
    to: String,
    uids: Vec<u32>,
}

/// A way of taking messages out of a folder.
#[derive(Clone, Debug)]
pub enum Removal {
    /// Into Trash (for good from Trash itself: nothing to undo then).
    Delete,
    Archive,
    /// Into the Junk folder (named here): the mail server's filter learns from that.
    Spam(String),
    MoveTo(String),
}

impl Removal {
    fn request(self, folder: String, uids: Vec<u32>) -> Request {
        match self {
            Removal::Delete => Request::DeleteMessages { folder, uids },
            Removal::Archive => Request::ArchiveMessages { folder, uids },
            Removal::Spam(to) | Removal::MoveTo(to) => Request::MoveMessages { folder, uids, to },
        }
    }

    /// What the bar says happened, the messages being in `to` now.
    fn said(&self, mail: Mail, t: &'static Strings, to: &str) -> String {
        match self {
            Removal::Delete => t.deleted.to_owned(),
            Removal::Archive => t.archived.to_owned(),
            Removal::Spam(_) => t.marked_spam.to_owned(),
            Removal::MoveTo(_) => {
                let name = mail
                    .folder_named(to)
                    .map(|f| t.folder_name(f.role, &f.name).to_owned())
                    .unwrap_or_else(|| to.to_owned());
                format!("{} {name}", t.moved_to)
            }
        }
    }
}

/// Takes `uids` out of `folder` as `removal` says, then offers to undo it. A failure is shown
/// as any failed action is, and the list shows again what is really there.
pub fn remove(mail: Mail, t: &'static Strings, removal: Removal, folder: String, uids: Vec<u32>) {
    spawn_local(async move {
        let request = removal.clone().request(folder.clone(), uids);
        match mail.request(request).await {
            Ok(Response::Moved { to, uids }) => {
                mail.action_error.set(None);
                let said = removal.said(mail, t, &to);
                offer(
                    mail,
                    Undoable {
                        id: 0,
                        said,
                        from: folder,
                        to,
                        uids,
                    },
                );
            }
            Ok(_) => mail.action_error.set(None),
            Err(e) => mail.failed(e),
        }
    });
}

fn offer(mail: Mail, mut undoable: Undoable) {
    undoable.id = mail
        .undo
        .with_untracked(|u| u.as_ref().map_or(1, |u| u.id + 1));
    let id = undoable.id;
    mail.undo.set(Some(undoable));
    set_timeout(
        move || {
            if mail.undo.with_untracked(|u| u.as_ref().map(|u| u.id)) == Some(id) {
                mail.undo.set(None);
            }
        },
        OFFERED_FOR,
    );
}

/// The bar at the bottom of every screen while a removal can be undone.
#[component]
pub fn UndoBar() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let undo = move |_| {
        let Some(undoable) = mail.undo.get_untracked() else {
            return;
        };
        mail.undo.set(None);
        mail.act(Request::MoveMessages {
            folder: undoable.to,
            uids: undoable.uids,
            to: undoable.from,
        });
    };
    move || {
        mail.undo.get().map(|undoable| {
            // Without the messages' new UIDs (a server without UIDPLUS) there is nothing to
            // move back by: the bar only says what happened.
            let can_undo = !undoable.uids.is_empty();
            view! {
                <div class="undo-bar" role="status">
                    <span>{undoable.said}</span>
                    {can_undo.then(|| view! {
                        <button id="undo" class="secondary" on:click=undo>{t.undo}</button>
                    })}
                </div>
            }
        })
    }
}
