//! Reading offline. Per account the device keeps (in IndexedDB, see device.js) the folder list,
//! the first page of the folders opened lately, the messages opened and, if the user chose so,
//! the newest messages of the Inbox. While the relay cannot be reached the app reads those
//! instead, and flag, move and delete actions wait in a queue that goes out, in order, once the
//! connection is back: the server has the last word (a message deleted there meanwhile stays
//! deleted). Signing out deletes the account's database whole (families share tablets).

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;
use protocol::{
    ErrorCode, ErrorInfo, Flag, MessageList, MessageView, Request, Response, SessionInfo,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::state::Mail;

#[wasm_bindgen(js_namespace = webmailDevice)]
extern "C" {
    #[wasm_bindgen(catch, js_name = get)]
    async fn js_get(db: &str, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = put)]
    async fn js_put(db: &str, key: &str, value: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = remove)]
    async fn js_remove(db: &str, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = wipe)]
    async fn js_wipe(db: &str) -> Result<JsValue, JsValue>;
}

/// Folders whose first page is kept, and messages kept; the least recently used go first.
const MAX_LISTS: usize = 12;
const MAX_MESSAGES: usize = 300;
/// With [`Keeping::Newest`]: how many of the Inbox's newest messages are kept ahead.
pub const NEWEST: usize = 25;
/// Bigger messages are not fetched ahead for keeping (mobile data).
const MAX_AHEAD_SIZE: u32 = 1024 * 1024;
/// localStorage: the database of the account last signed in here, to start with offline.
const LAST_ACCOUNT: &str = "offline-account";
const SESSION: &str = "session";
const INDEX: &str = "index";

/// What the device keeps (a setting, per device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keeping {
    Off,
    /// The folder lists and every message opened.
    Opened,
    /// That, and the newest [`NEWEST`] of the Inbox.
    Newest,
}

impl Keeping {
    pub fn saved() -> Self {
        Self::from_key(&crate::prefs::get("offline").unwrap_or_default())
    }

    pub fn key(self) -> &'static str {
        match self {
            Keeping::Off => "off",
            Keeping::Opened => "opened",
            Keeping::Newest => "newest",
        }
    }

    pub fn from_key(key: &str) -> Self {
        match key {
            "off" => Keeping::Off,
            "newest" => Keeping::Newest,
            _ => Keeping::Opened,
        }
    }
}

/// What is kept, and what waits to go out; stored whole under [`INDEX`] at every change, so
/// the stored one is always the latest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Index {
    /// Folders whose first page is kept, the most recently used last.
    lists: Vec<String>,
    /// Messages kept, as (folder, UID), the most recently used last.
    messages: Vec<(String, u32)>,
    /// Actions taken while offline, oldest first, as JSON: the app only sends them, so it
    /// never needs the (large) code that reads a `Request` back.
    queued: Vec<String>,
}

/// The account's store on this device.
#[derive(Clone, Copy)]
pub struct Device {
    name: StoredValue<String>,
    keeping: RwSignal<Keeping>,
    index: RwSignal<Index>,
    /// The queue is being sent.
    replaying: StoredValue<bool>,
    /// Fetching the Inbox's newest messages ahead is under way.
    fetching_ahead: StoredValue<bool>,
    /// Done once the stored index is read (and merged with what changed meanwhile): the app
    /// does not wait for it to start, but the queue does before it goes out.
    loaded: StoredValue<Shared<LocalBoxFuture<'static, ()>>, LocalStorage>,
    /// The stored index has been read and merged with what changed meanwhile.
    index_read: StoredValue<bool>,
}

impl PartialEq for Device {
    fn eq(&self, other: &Self) -> bool {
        self.name.with_value(|a| other.name.with_value(|b| a == b))
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Device")
    }
}

impl Device {
    /// The store of the account `info` signed in to; remembered as the one to start with
    /// when the relay cannot be reached.
    pub fn open(info: &SessionInfo) -> Self {
        let name = format!("webmail {:?} {}", info.kind, info.email);
        let device = Self::named(name.clone());
        if device.keeping() != Keeping::Off {
            // In the background: the app starts meanwhile.
            let info = info.clone();
            leptos::task::spawn_local(async move { write(&name, SESSION, &info).await });
            crate::prefs::set(LAST_ACCOUNT, &device.name.get_value());
        }
        device
    }

    /// The store named `name`; its index is read in the background.
    fn named(name: String) -> Self {
        let index = RwSignal::new(Index::default());
        let index_read = StoredValue::new(false);
        let loading = {
            let name = name.clone();
            async move {
                let stored: Index = read(&name, INDEX).await.unwrap_or_default();
                let merged = index.try_update(|now| {
                    let changed = *now != Index::default();
                    let (merged, evicted) = stored.merged(std::mem::take(now));
                    *now = merged;
                    changed.then_some(evicted)
                });
                // From here on every change is saved as it comes (save_index), also while
                // what changed before is written below.
                let _ = index_read.try_set_value(true);
                let Some(Some(evicted)) = merged else {
                    return;
                };
                // What changed before the stored index was read is written now.
                if let Some(merged) = index.try_with_untracked(Clone::clone) {
                    write(&name, INDEX, &merged).await;
                }
                for key in evicted {
                    let _ = js_remove(&name, &key).await;
                }
            }
        }
        .boxed_local()
        .shared();
        leptos::task::spawn_local(loading.clone());
        Self {
            name: StoredValue::new(name),
            keeping: RwSignal::new(Keeping::saved()),
            index,
            replaying: StoredValue::new(false),
            fetching_ahead: StoredValue::new(false),
            loaded: StoredValue::new_local(loading),
            index_read,
        }
    }

    async fn loaded(self) {
        self.loaded.get_value().await;
    }

    /// The store of the account last signed in on this device.
    pub fn last() -> Option<Self> {
        Some(Self::named(crate::prefs::get(LAST_ACCOUNT)?))
    }

    /// The session last signed in on this device, if its mail is kept here.
    pub async fn last_session() -> Option<(SessionInfo, Self)> {
        let device = Self::last()?;
        let info = read(&device.name.get_value(), SESSION).await?;
        Some((info, device))
    }

    /// The relay no longer knows the session last signed in here (it ended while the device
    /// was away, or the relay restarted): its mail goes from the device. Actions queued offline
    /// stay, without any mail, and go out after the same account signs in again.
    pub async fn session_gone(self) {
        self.loaded().await;
        let queued = self.index.with_untracked(|index| index.queued.clone());
        self.wipe().await;
        if !queued.is_empty() {
            let index = Index {
                queued,
                ..Index::default()
            };
            write(&self.name.get_value(), INDEX, &index).await;
        }
    }

    /// Deletes everything the device keeps of this account.
    pub async fn wipe(self) {
        // Not before the stored index is read: it would come back with it.
        self.loaded().await;
        let name = self.name.get_value();
        self.index.set(Index::default());
        if crate::prefs::get(LAST_ACCOUNT).as_deref() == Some(name.as_str()) {
            crate::prefs::remove(LAST_ACCOUNT);
        }
        if let Err(e) = js_wipe(&name).await {
            web_sys::console::warn_2(&"could not delete the mail kept offline".into(), &e);
        }
    }

    pub fn keeping(self) -> Keeping {
        self.keeping.get_untracked()
    }

    /// A new choice of what to keep; `Off` deletes the mail kept (not the actions waiting).
    pub fn set_keeping(self, keeping: Keeping) {
        crate::prefs::set("offline", keeping.key());
        self.keeping.set(keeping);
        if keeping == Keeping::Off {
            let kept = self.index.with_untracked(|index| {
                let lists = index.lists.iter().map(|f| list_key(f));
                let messages = index.messages.iter().map(|(f, uid)| message_key(f, *uid));
                lists.chain(messages).collect::<Vec<_>>()
            });
            self.index.update(|index| {
                index.lists.clear();
                index.messages.clear();
            });
            let name = self.name.get_value();
            leptos::task::spawn_local(async move {
                for key in kept.iter().map(String::as_str).chain([SESSION]) {
                    let _ = js_remove(&name, key).await;
                }
                crate::prefs::remove(LAST_ACCOUNT);
            });
            self.save_index();
        }
    }

    /// How many actions wait to go out (tracked).
    pub fn waiting(self) -> usize {
        self.index.with(|index| index.queued.len())
    }

    /// Whether the message is kept here (tracked).
    pub fn has_message(self, folder: &str, uid: u32) -> bool {
        self.index
            .with(|index| index.messages.iter().any(|(f, u)| *u == uid && f == folder))
    }

    /// Requests the device answers while offline: `true` for reads it keeps the answer of and
    /// for actions it queues.
    pub fn concerns(self, request: &Request) -> bool {
        self.keeping() != Keeping::Off && (read_key(request).is_some() || queues(request))
    }

    /// Keeps the relay's answer to `request` (in the background: the caller shows it now).
    pub fn keep(self, request: &Request, response: &Response) {
        let Some(key) = read_key(request) else {
            return;
        };
        let Ok(json) = serde_json::to_string(response) else {
            return;
        };
        let mut evicted = Vec::new();
        self.index.update(|index| match request {
            Request::ListMessages { folder, .. } => {
                evicted = touch(&mut index.lists, folder.clone(), MAX_LISTS)
                    .into_iter()
                    .map(|f| list_key(&f))
                    .collect();
            }
            Request::OpenMessage { folder, uid } => {
                evicted = touch(&mut index.messages, (folder.clone(), *uid), MAX_MESSAGES)
                    .into_iter()
                    .map(|(f, uid)| message_key(&f, uid))
                    .collect();
            }
            _ => {}
        });
        let name = self.name.get_value();
        leptos::task::spawn_local(async move {
            put(&name, &key, &json).await;
            for key in evicted {
                let _ = js_remove(&name, &key).await;
            }
        });
        self.save_index();
    }

    /// The answer to `request` while the relay cannot be reached: what the device keeps, or
    /// the action queued; `None` for requests only the relay can answer.
    pub async fn answer(
        self,
        mail: Mail,
        request: &Request,
    ) -> Option<Result<Response, ErrorInfo>> {
        if self.keeping() == Keeping::Off {
            return None;
        }
        if let Some(key) = read_key(request) {
            let kept: Option<Response> = read(&self.name.get_value(), &key).await;
            return Some(kept.ok_or_else(not_kept));
        }
        if !queues(request) {
            return None;
        }
        let json = serde_json::to_string(request).expect("serializes");
        self.index.update(|index| index.queued.push(json));
        self.save_index();
        self.apply_kept(request).await;
        // The list shows the change, read back from the copies just changed.
        mail.version.update(|v| *v += 1);
        Some(Ok(Response::Done))
    }

    /// Sends the actions queued offline, oldest first, each once it is answered; stops at the
    /// first that cannot reach the relay (the rest stay for the next time). An action the
    /// relay refuses is dropped and the user told: one on messages deleted or moved meanwhile
    /// counts in [`Mail::overtaken`] (the server's state wins), another (its folder is gone,
    /// say) shows as a failed action.
    pub async fn replay(self, mail: Mail) {
        if self.replaying.get_value() {
            return;
        }
        self.replaying.set_value(true);
        self.loaded().await;
        let mut refused = None;
        while let Some(next) = self.index.with_untracked(|i| i.queued.first().cloned()) {
            match mail.send_json(&next).await {
                Err(e) if e.code == ErrorCode::ServerUnreachable => break,
                Err(e) if e.code == ErrorCode::NoSuchMessage => mail.overtaken.update(|n| *n += 1),
                Err(e) => refused = Some(e),
                Ok(_) => {}
            }
            self.index.update(|index| {
                index.queued.remove(0);
            });
            self.save_index();
        }
        self.replaying.set_value(false);
        if let Some(error) = refused {
            mail.failed(error);
        }
    }

    /// With [`Keeping::Newest`]: keeps the Inbox's newest messages that are not kept yet,
    /// one after another (so that what the user opens meanwhile waits for one at most).
    pub fn fetch_ahead(self, mail: Mail, list: &MessageList) {
        if self.keeping() != Keeping::Newest || self.fetching_ahead.get_value() {
            return;
        }
        let wanted: Vec<u32> = list
            .messages
            .iter()
            .take(NEWEST)
            .filter(|m| m.size <= MAX_AHEAD_SIZE)
            .map(|m| m.uid)
            .filter(|uid| {
                !self.index.with_untracked(|i| {
                    i.messages
                        .iter()
                        .any(|(f, u)| u == uid && *f == list.folder)
                })
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        self.fetching_ahead.set_value(true);
        let folder = list.folder.clone();
        leptos::task::spawn_local(async move {
            for uid in wanted {
                let request = Request::OpenMessage {
                    folder: folder.clone(),
                    uid,
                };
                if mail.request(request).await.is_err() {
                    break;
                }
            }
            self.fetching_ahead.set_value(false);
        });
    }

    /// Changes the kept copies as the queued `request` will change the server's: the list and
    /// the messages show it offline, and after a reload.
    async fn apply_kept(self, request: &Request) {
        let name = self.name.get_value();
        let (folder, uids) = match request {
            Request::SetFlags { folder, uids, .. }
            | Request::MoveMessages { folder, uids, .. }
            | Request::DeleteMessages { folder, uids }
            | Request::ArchiveMessages { folder, uids } => (folder, uids),
            _ => return,
        };
        let list_key = list_key(folder);
        if let Some(Response::MessageList(mut list)) = read(&name, &list_key).await {
            match request {
                Request::SetFlags { flags, set, .. } => {
                    for row in list.messages.iter_mut().filter(|m| uids.contains(&m.uid)) {
                        for flag in flags {
                            match flag {
                                Flag::Seen => row.unread = !set,
                                Flag::Flagged => row.flagged = *set,
                                Flag::Answered => row.answered = *set,
                                Flag::Keyword(_) => {}
                            }
                        }
                    }
                }
                _ => {
                    let before = list.messages.len();
                    list.messages.retain(|m| !uids.contains(&m.uid));
                    let gone = (before - list.messages.len()) as u32;
                    list.total = list.total.saturating_sub(gone);
                }
            }
            write(&name, &list_key, &Response::MessageList(list)).await;
        }
        for uid in uids {
            let key = message_key(folder, *uid);
            match request {
                Request::SetFlags { flags, set, .. } => {
                    let Some(Response::Message(mut message)) = read(&name, &key).await else {
                        continue;
                    };
                    set_flags(&mut message, flags, *set);
                    write(&name, &key, &Response::Message(message)).await;
                }
                _ => {
                    self.index
                        .update(|index| index.messages.retain(|(f, u)| !(u == uid && f == folder)));
                    let _ = js_remove(&name, &key).await;
                }
            }
        }
        self.save_index();
    }

    /// Writes the index, once the stored one is read (until then it would be lost; the merge
    /// then writes it).
    fn save_index(self) {
        // Before the stored index is read, what changes is merged into it then.
        if !self.index_read.get_value() {
            return;
        }
        let name = self.name.get_value();
        let Ok(json) = self.index.with_untracked(serde_json::to_string) else {
            return;
        };
        leptos::task::spawn_local(async move { put(&name, INDEX, &json).await });
    }
}

impl Index {
    /// This stored index with what changed since the app started (`now`) on top, and the
    /// keys of what no longer fits.
    fn merged(mut self, now: Index) -> (Index, Vec<String>) {
        let mut evicted = Vec::new();
        for folder in now.lists {
            let out = touch(&mut self.lists, folder, MAX_LISTS);
            evicted.extend(out.iter().map(|f| list_key(f)));
        }
        for message in now.messages {
            let out = touch(&mut self.messages, message, MAX_MESSAGES);
            evicted.extend(out.iter().map(|(f, uid)| message_key(f, *uid)));
        }
        self.queued.extend(now.queued);
        (self, evicted)
    }
}

fn set_flags(message: &mut MessageView, flags: &[Flag], set: bool) {
    for flag in flags {
        match flag {
            Flag::Seen => message.unread = !set,
            Flag::Flagged => message.flagged = set,
            Flag::Answered => message.answered = set,
            Flag::Keyword(_) => {}
        }
    }
}

/// Moves `item` to the end (the most recently used); the items past `max` that fall out.
fn touch<T: PartialEq>(items: &mut Vec<T>, item: T, max: usize) -> Vec<T> {
    items.retain(|i| *i != item);
    items.push(item);
    let over = items.len().saturating_sub(max);
    items.drain(..over).collect()
}

/// The key of the kept answer to `request`, for the requests whose answers are kept.
fn read_key(request: &Request) -> Option<String> {
    match request {
        Request::ListFolders => Some("folders".to_owned()),
        Request::ListMessages {
            folder, offset: 0, ..
        } => Some(list_key(folder)),
        Request::OpenMessage { folder, uid } => Some(message_key(folder, *uid)),
        _ => None,
    }
}

/// Actions that wait for the connection when taken offline.
fn queues(request: &Request) -> bool {
    matches!(
        request,
        Request::SetFlags { .. }
            | Request::MoveMessages { .. }
            | Request::DeleteMessages { .. }
            | Request::ArchiveMessages { .. }
    )
}

fn list_key(folder: &str) -> String {
    format!("list/{folder}")
}

fn message_key(folder: &str, uid: u32) -> String {
    format!("message/{uid}/{folder}")
}

fn not_kept() -> ErrorInfo {
    ErrorInfo::new(ErrorCode::NotKept, "not kept on this device")
}

async fn read<T: DeserializeOwned>(name: &str, key: &str) -> Option<T> {
    let value = js_get(name, key).await.ok()?.as_string()?;
    serde_json::from_str(&value).ok()
}

async fn write(name: &str, key: &str, value: &impl Serialize) {
    if let Ok(json) = serde_json::to_string(value) {
        put(name, key, &json).await;
    }
}

async fn put(name: &str, key: &str, json: &str) {
    if let Err(e) = js_put(name, key, json).await {
        // Full, or private mode: reading offline has less, nothing else changes.
        web_sys::console::warn_2(&"could not keep mail offline".into(), &e);
    }
}
