//! What the logged-in views share, passed down as context: the socket, the folders, where the
//! user is, and what the list has loaded. Signals are `Copy`, so this is too.

use std::{collections::HashMap, rc::Rc};

use leptos::prelude::*;
use protocol::{
    Draft, ErrorInfo, Folder, MessageSummary, OutboxState, Request, Response, SearchQuery, Sending,
};

use crate::{i18n::Strings, offline::Device, socket::Socket};

/// Which pane a phone shows (a desktop shows all three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Folders,
    List,
    Message,
}

/// The connection to the relay as the user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Up,
    Lost,
    /// Reconnected a moment ago (shown briefly).
    Back,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub query: SearchQuery,
    pub all_folders: bool,
}

/// The list's loaded rows, by position (0 = newest), and its size.
#[derive(Clone, Copy)]
pub struct ListData {
    pub total: RwSignal<Option<u32>>,
    pub rows: RwSignal<HashMap<u32, MessageSummary>>,
    /// The row the keyboard is on.
    pub cursor: RwSignal<Option<u32>>,
    /// Checked rows, by UID.
    pub checked: RwSignal<Vec<u32>>,
    /// Which state of the folder the rows' positions count in (see `Event::FolderDelta`);
    /// `None` until the first page of a load arrives.
    pub version: StoredValue<Option<u32>>,
    /// Pages asked for since the list last changed under them.
    pub requested: StoredValue<std::collections::HashSet<u32>>,
}

/// A message in the relay's outbox, as the strip shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub draft_id: String,
    pub subject: String,
    pub state: OutboxState,
}

#[derive(Clone, Copy)]
pub struct Mail {
    socket: StoredValue<Option<Rc<Socket>>, LocalStorage>,
    pub folders: RwSignal<Vec<Folder>>,
    pub folder: RwSignal<String>,
    /// The open message: its folder and UID.
    pub open: RwSignal<Option<(String, u32)>>,
    pub pane: RwSignal<Pane>,
    pub link: RwSignal<Link>,
    /// Bumped when the current folder changed on the server: the list reloads.
    pub version: RwSignal<u32>,
    pub search: RwSignal<Option<Search>>,
    pub list: ListData,
    pub help_open: RwSignal<bool>,
    pub settings_open: RwSignal<bool>,
    /// POP3: a collection under way, `(done, total)`.
    pub collecting: RwSignal<Option<(u32, u32)>>,
    /// POP3: why the last collection did not finish.
    pub collect_error: RwSignal<Option<String>>,
    /// An action (flag, move, delete, ...) that could not be carried out, until dismissed.
    pub action_error: RwSignal<Option<ErrorInfo>>,
    /// Changes made offline that came back to messages the server no longer has (deleted or
    /// moved meanwhile): dropped, as the server's state wins, and shown until dismissed.
    pub overtaken: RwSignal<usize>,
    /// POP3: messages the last collection left on the server for their size.
    pub too_big: RwSignal<Vec<protocol::TooBig>>,
    /// What this user may send; `None` where the relay sends no mail.
    pub sending: StoredValue<Option<Sending>>,
    /// The message being written.
    pub compose: RwSignal<Option<Draft>>,
    /// Bumped when the user goes back from the editor (the back gesture): it closes as its own
    /// Close button closes it, saving the draft.
    pub leave_compose: RwSignal<u32>,
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// The last removal, while it can be undone.
    pub undo: RwSignal<Option<crate::views::undo::Undoable>>,
    /// What this device keeps of the account, to read offline.
    pub device: Device,
}

impl Mail {
    pub fn new(sending: Option<Sending>, device: Device) -> Self {
        Self {
            device,
            sending: StoredValue::new(sending),
            compose: RwSignal::new(None),
            leave_compose: RwSignal::new(0),
            outbox: RwSignal::new(Vec::new()),
            undo: RwSignal::new(None),
            socket: StoredValue::new_local(None),
            folders: RwSignal::new(Vec::new()),
            folder: RwSignal::new("INBOX".to_owned()),
            open: RwSignal::new(None),
            pane: RwSignal::new(Pane::List),
            link: RwSignal::new(Link::Up),
            version: RwSignal::new(0),
            search: RwSignal::new(None),
            list: ListData {
                total: RwSignal::new(None),
                rows: RwSignal::new(HashMap::new()),
                cursor: RwSignal::new(None),
                checked: RwSignal::new(Vec::new()),
                version: StoredValue::new(None),
                requested: StoredValue::new(Default::default()),
            },
            help_open: RwSignal::new(false),
            settings_open: RwSignal::new(false),
            collecting: RwSignal::new(None),
            collect_error: RwSignal::new(None),
            too_big: RwSignal::new(Vec::new()),
            action_error: RwSignal::new(None),
            overtaken: RwSignal::new(0),
        }
    }

    pub fn set_socket(self, socket: Socket) {
        self.socket.set_value(Some(Rc::new(socket)));
    }

    /// Asks the relay; while it cannot be reached, the device answers what it keeps (and
    /// queues actions), so the user goes on reading.
    pub async fn request(self, request: impl Into<Request>) -> Result<Response, ErrorInfo> {
        let request = request.into();
        let device = self.device;
        if self.link.get_untracked() == Link::Lost {
            if let Some(answer) = device.answer(self, &request).await {
                return answer;
            }
        }
        let kept = device.concerns(&request).then(|| request.clone());
        let answer = self.send(request).await;
        let Some(request) = kept else {
            return answer;
        };
        match answer {
            Ok(response) => {
                device.keep(&request, &response);
                Ok(response)
            }
            Err(e) if e.code == protocol::ErrorCode::ServerUnreachable => {
                device.answer(self, &request).await.unwrap_or(Err(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Asks the relay, and only the relay.
    pub async fn send(self, request: Request) -> Result<Response, ErrorInfo> {
        self.send_json(&serde_json::to_string(&request).expect("serializes"))
            .await
    }

    /// [`Self::send`] for a request already in JSON (as the offline queue keeps them).
    pub async fn send_json(self, request: &str) -> Result<Response, ErrorInfo> {
        let socket = self.socket.with_value(|s| s.clone());
        match socket {
            Some(socket) => socket.request_json(request).await,
            None => Err(ErrorInfo::new(
                protocol::ErrorCode::ServerUnreachable,
                "not connected",
            )),
        }
    }

    /// Carries out an action; if it fails, the user is told, and the list shows again what is
    /// really there (the change it showed at once did not happen).
    pub fn act(self, request: impl Into<Request>) {
        self.act_or(request.into(), || {});
    }

    /// [`Self::act`], running `undo` if it fails (to put back what a view changed at once).
    pub fn act_or(self, request: Request, undo: impl FnOnce() + 'static) {
        leptos::task::spawn_local(async move {
            match self.request(request).await {
                Ok(_) => self.action_error.set(None),
                Err(e) => {
                    undo();
                    self.failed(e);
                }
            }
        });
    }

    /// An action failed: the user is told, and the list loads again to show what is there.
    pub fn failed(self, error: ErrorInfo) {
        self.action_error.set(Some(error));
        self.version.update(|v| *v += 1);
    }

    /// Writing changed Drafts or Sent (filed by the relay beside the session's own connection):
    /// a list showing one of them loads again.
    pub fn drafts_changed(self) {
        let role = self
            .folder_named(&self.folder.get_untracked())
            .and_then(|f| f.role);
        if matches!(
            role,
            Some(protocol::FolderRole::Drafts | protocol::FolderRole::Sent)
        ) {
            self.version.update(|v| *v += 1);
        }
    }

    pub fn folder_named(self, name: &str) -> Option<Folder> {
        self.folders
            .with(|f| f.iter().find(|f| f.name == name).cloned())
    }

    pub fn open_message(self, folder: String, uid: u32) {
        self.open.set(Some((folder, uid)));
        self.pane.set(Pane::Message);
    }

    pub fn close_message(self) {
        self.open.set(None);
        self.pane.set(Pane::List);
    }

    /// Goes to a folder (leaving any search). Only what changes is set: setting a signal
    /// redraws what reads it even when the value is the same (the whole list, for `search`).
    pub fn go_to(self, folder: String) {
        if self.search.with_untracked(Option::is_some) {
            self.search.set(None);
        }
        if self.open.with_untracked(Option::is_some) {
            self.open.set(None);
        }
        if self.list.checked.with_untracked(|c| !c.is_empty()) {
            self.list.checked.set(Vec::new());
        }
        if self.list.cursor.with_untracked(Option::is_some) {
            self.list.cursor.set(None);
        }
        self.folder.set(folder);
        if self.pane.get_untracked() != Pane::List {
            self.pane.set(Pane::List);
        }
    }
}

/// The texts in the current language (provided per render of the logged-in views).
#[derive(Clone, Copy)]
pub struct Texts(pub &'static Strings);

pub fn texts() -> &'static Strings {
    expect_context::<Texts>().0
}
