//! Keyboard use, as in desktop mail clients: j/k to move, Enter to open, u to go back, # to
//! delete, e to archive, s to flag, / to search, ? for the list of shortcuts.

use leptos::prelude::*;
use protocol::{Flag, FolderRole, ReplyKind};
use wasm_bindgen::JsCast;

use super::{
    list::flag_messages,
    undo::{remove, Removal},
};
use crate::{
    i18n::Lang,
    state::{Mail, Pane},
};

pub fn install(mail: Mail) {
    let lang = expect_context::<RwSignal<Lang>>();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        // While writing, keys belong to the editor.
        let writing = mail.compose.with_untracked(Option::is_some);
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing(&ev) || writing {
            if ev.key() == "Escape" {
                blur_focus();
            }
            return;
        }
        let handled = match ev.key().as_str() {
            "j" | "ArrowDown" => move_cursor(mail, 1),
            "k" | "ArrowUp" => move_cursor(mail, -1),
            "Enter" | "o" => open_cursor(mail),
            "u" | "Escape" => {
                mail.help_open.set(false);
                mail.settings_open.set(false);
                mail.close_message();
                true
            }
            "#" | "Delete" => {
                let t = lang.get_untracked().strings();
                act_on_current(mail, |folder, uid| {
                    remove(mail, t, Removal::Delete, folder, vec![uid])
                })
            }
            "e" => {
                let t = lang.get_untracked().strings();
                act_on_current(mail, |folder, uid| {
                    remove(mail, t, Removal::Archive, folder, vec![uid])
                })
            }
            "!" => {
                let t = lang.get_untracked().strings();
                let here = mail.folder.get_untracked();
                let junk = mail.folders.with_untracked(|folders| {
                    folders
                        .iter()
                        .find(|f| f.role == Some(FolderRole::Junk) && f.name != here)
                        .map(|f| f.name.clone())
                });
                junk.is_some_and(|junk| {
                    act_on_current(mail, |folder, uid| {
                        remove(mail, t, Removal::Spam(junk), folder, vec![uid])
                    })
                })
            }
            "s" => toggle_flag(mail),
            "c" if mail.sending.with_value(Option::is_some) => {
                super::compose::write_new(mail);
                true
            }
            "r" | "a" | "f" if mail.sending.with_value(Option::is_some) => {
                let kind = match ev.key().as_str() {
                    "r" => ReplyKind::Reply,
                    "a" => ReplyKind::ReplyAll,
                    _ => ReplyKind::Forward,
                };
                match mail.open.get_untracked() {
                    Some((folder, uid)) => {
                        super::compose::answer(mail, folder, uid, kind);
                        true
                    }
                    None => false,
                }
            }
            "/" => focus_search(mail),
            "?" => {
                mail.help_open.update(|open| *open = !*open);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

/// Keys typed into a field are text, not commands.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

fn move_cursor(mail: Mail, step: i64) -> bool {
    if mail.search.with_untracked(Option::is_some) {
        return false;
    }
    let total = i64::from(mail.list.total.get_untracked().unwrap_or(0));
    if total == 0 {
        return false;
    }
    let next = match mail.list.cursor.get_untracked() {
        Some(at) => (i64::from(at) + step).clamp(0, total - 1),
        None => 0,
    };
    mail.list.cursor.set(Some(next as u32));
    // With a message open, moving opens the next one, as in mail clients.
    if mail.open.with_untracked(Option::is_some) {
        open_cursor(mail);
    }
    true
}

fn open_cursor(mail: Mail) -> bool {
    let Some(at) = mail.list.cursor.get_untracked() else {
        return false;
    };
    let Some(uid) = mail
        .list
        .rows
        .with_untracked(|rows| rows.get(&at).map(|m| m.uid))
    else {
        return false;
    };
    mail.open_message(mail.folder.get_untracked(), uid);
    true
}

/// The open message, else the one under the cursor.
fn current(mail: Mail) -> Option<(String, u32)> {
    mail.open.get_untracked().or_else(|| {
        let at = mail.list.cursor.get_untracked()?;
        let uid = mail
            .list
            .rows
            .with_untracked(|rows| rows.get(&at).map(|m| m.uid))?;
        Some((mail.folder.get_untracked(), uid))
    })
}

fn act_on_current(mail: Mail, act: impl FnOnce(String, u32)) -> bool {
    let Some((folder, uid)) = current(mail) else {
        return false;
    };
    act(folder, uid);
    if mail.open.get_untracked().is_some() {
        mail.close_message();
    }
    true
}

fn toggle_flag(mail: Mail) -> bool {
    let Some((folder, uid)) = current(mail) else {
        return false;
    };
    let flagged = mail.list.rows.with_untracked(|rows| {
        rows.values()
            .find(|m| m.uid == uid)
            .is_some_and(|m| m.flagged)
    });
    flag_messages(mail, folder, vec![uid], Flag::Flagged, !flagged);
    true
}

fn focus_search(mail: Mail) -> bool {
    let Some(el) = document()
        .get_element_by_id("search")
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    // On a phone the search box belongs to the list pane.
    mail.pane.set(Pane::List);
    let _ = el.focus();
    true
}

fn blur_focus() {
    if let Some(el) = document()
        .active_element()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.blur();
    }
}
