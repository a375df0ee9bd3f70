//! Where the user is, in the address bar: the folder, the open message, the search and the
//! message being written, as `/?folder=INBOX&uid=42&compose=<draft id>`. Every move to another
//! place is a history entry, so the browser's back button and a phone's back gesture close the
//! editor or the message and walk back through folders; a reload or a shared link (once logged
//! in) opens the same place.

use std::collections::HashMap;

use leptos::{ev, prelude::*};
use protocol::SearchQuery;
use wasm_bindgen::JsValue;
use web_sys::UrlSearchParams;

use crate::state::{Mail, Pane, Search};

/// A place in the app, as its address says it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Place {
    folder: String,
    search: Option<Search>,
    /// The open message: its folder (a search over all folders finds it elsewhere) and UID.
    open: Option<(String, u32)>,
    /// The message being written, by its draft id.
    compose: Option<String>,
}

impl Place {
    /// Where `mail` is (tracked: a change of place runs the caller again).
    fn of(mail: Mail) -> Self {
        Self {
            folder: mail.folder.get(),
            search: mail.search.get(),
            open: mail.open.get(),
            compose: mail.compose.with(|d| d.as_ref().map(|d| d.id.clone())),
        }
    }

    fn to_url(&self) -> String {
        let params = UrlSearchParams::new().expect("an empty query");
        params.append("folder", &self.folder);
        if let Some(search) = &self.search {
            params.append("q", search.query.text.as_deref().unwrap_or_default());
            if search.all_folders {
                params.append("all", "1");
            }
        }
        if let Some((folder, uid)) = &self.open {
            params.append("uid", &uid.to_string());
            if *folder != self.folder {
                params.append("in", folder);
            }
        }
        if let Some(id) = &self.compose {
            params.append("compose", id);
        }
        format!("/?{}", String::from(params.to_string()))
    }

    /// The place the address names; `None` for one that names none (the bare `/`).
    fn from_query(query: &str) -> Option<Self> {
        let params = UrlSearchParams::new_with_str(query).ok()?;
        let folder = params.get("folder").filter(|f| !f.is_empty())?;
        let search = params
            .get("q")
            .filter(|q| !q.trim().is_empty())
            .map(|q| Search {
                query: SearchQuery {
                    text: Some(q),
                    ..SearchQuery::default()
                },
                all_folders: params.get("all").as_deref() == Some("1"),
            });
        let open = params
            .get("uid")
            .and_then(|uid| uid.parse().ok())
            .map(|uid| (params.get("in").unwrap_or_else(|| folder.clone()), uid));
        let compose = params.get("compose").filter(|id| !id.is_empty());
        Some(Self {
            folder,
            search,
            open,
            compose,
        })
    }

    /// Takes `mail` there.
    fn enter(self, mail: Mail) {
        let writing = mail
            .compose
            .with_untracked(|d| d.as_ref().map(|d| d.id.clone()));
        match (&self.compose, writing) {
            (Some(id), Some(open)) if *id == open => {}
            (Some(id), _) => crate::views::resume_writing(mail, id),
            (None, Some(_)) => mail.leave_compose.update(|n| *n += 1),
            (None, None) => {}
        }
        if mail.folder.get_untracked() != self.folder {
            mail.go_to(self.folder);
        }
        if mail.search.get_untracked() != self.search {
            mail.search.set(self.search);
        }
        match self.open {
            Some((folder, uid)) => {
                if mail.open.get_untracked() != Some((folder.clone(), uid)) {
                    mail.open_message(folder, uid);
                }
            }
            None => {
                if mail.open.get_untracked().is_some() || mail.pane.get_untracked() == Pane::Message
                {
                    mail.close_message();
                }
            }
        }
    }
}

/// This page's history entries, by the index each carries as its state: a move back to the
/// place just before the current one goes back (so a message closed with the app's own button
/// is not reopened by the back gesture) instead of adding an entry.
#[derive(Default)]
struct Entries {
    urls: HashMap<u32, String>,
    at: u32,
}

/// Restores the place the address names, then keeps the two in step.
pub fn install(mail: Mail) {
    let Ok(history) = window_history() else {
        return;
    };
    if let Some(place) = addressed() {
        place.enter(mail);
    }
    let at = history.state().map_or(0, entry_index);
    let entries = StoredValue::new(Entries {
        urls: HashMap::new(),
        at,
    });

    Effect::new(move |first: Option<()>| {
        let url = Place::of(mail).to_url();
        let Ok(history) = window_history() else {
            return;
        };
        let shown = entries.with_value(|e| e.urls.get(&e.at).cloned());
        if shown.as_deref() == Some(url.as_str()) {
            return;
        }
        let (at, before) = entries.with_value(|e| {
            (
                e.at,
                e.at.checked_sub(1).and_then(|i| e.urls.get(&i).cloned()),
            )
        });
        if first.is_none() {
            // The address the page opened with, written the way this app writes it.
            let _ = history.replace_state_with_url(&JsValue::from(at), "", Some(&url));
            entries.update_value(|e| {
                e.urls.insert(at, url);
            });
        } else if before.as_deref() == Some(url.as_str()) {
            let _ = history.back();
        } else {
            let next = at + 1;
            let _ = history.push_state_with_url(&JsValue::from(next), "", Some(&url));
            entries.update_value(|e| {
                e.urls.retain(|&i, _| i <= at);
                e.urls.insert(next, url);
                e.at = next;
            });
        }
    });

    let _ = window_event_listener(ev::popstate, move |event| {
        let at = entry_index(event.state());
        let place = addressed();
        entries.update_value(|e| {
            e.at = at;
            // Remembered, so that coming back here is not taken for a move.
            if let Some(place) = &place {
                e.urls.insert(at, place.to_url());
            }
        });
        if let Some(place) = place {
            place.enter(mail);
        }
    });
}

/// The place the address bar names now.
fn addressed() -> Option<Place> {
    let query = web_sys::window()?.location().search().ok()?;
    Place::from_query(&query)
}

/// The index a history entry of this app carries as its state (0 for one it did not write).
fn entry_index(state: JsValue) -> u32 {
    state.as_f64().map_or(0, |i| i as u32)
}

fn window_history() -> Result<web_sys::History, JsValue> {
    web_sys::window().ok_or(JsValue::NULL)?.history()
}

/// After signing out the address names no place: the next person starts at the INBOX.
pub fn forget() {
    if let Ok(history) = window_history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
    }
}
