//! A logged-in POP3 account: one actor task that answers the same requests as an IMAP account,
//! from the relay's store, and collects new mail from the POP3 server at login, on "check mail",
//! and every few minutes while the user has a browser open.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use protocol::{
    ErrorCode, ErrorInfo, Event, FolderDelta, MessageList, MessageView, PlacedMessage, Request,
    Response, WriteRequest,
};
use tokio::{
    sync::{broadcast, mpsc},
    time::Instant,
};

use crate::{
    accounts::order::DELTA_MAX_ROWS,
    accounts::pop3::collector::{self, blocking, Collected, Policy, Pop3Login},
    accounts::pop3::lists::{Change, Lists},
    accounts::Job,
    send::{MailAccess, Writer},
    store::{Store, StoreError},
};

pub struct Pop3Account {
    pub login: Arc<Pop3Login>,
    pub store: Arc<Store>,
    pub policy: Policy,
    pub every: Duration,
    pub events: broadcast::Sender<Event>,
    /// How many inline images an opened message may carry into the browser.
    pub inline: mime::InlineLimits,
    /// Where the relay sends mail; set by the session.
    pub writer: Option<Writer>,
    /// How the last collection ended, for a tab that connects after it did (the first one
    /// starts at login, before any tab listens).
    pub last_collected: Arc<Mutex<Option<Event>>>,
    /// The folders the tabs were shown, for telling them changes as deltas.
    pub lists: Arc<Mutex<Lists>>,
}

impl Pop3Account {
    /// Starts the actor; it ends when the returned sender (every handle to it) is dropped.
    pub fn spawn(self) -> mpsc::Sender<Job> {
        let (sender, jobs) = mpsc::channel(64);
        tokio::spawn(self.run(jobs));
        sender
    }

    async fn run(self, mut jobs: mpsc::Receiver<Job>) {
        let collecting = Arc::new(AtomicBool::new(false));
        let mut next_collection = Instant::now();
        loop {
            tokio::select! {
                job = jobs.recv() => match job.map(|job| *job) {
                    None => break,
                    Some((Request::CheckMail, reply)) => {
                        self.start_collection(&collecting);
                        let _ = reply.send(Ok(Response::Done));
                    }
                    Some((Request::Write(request), reply)) => {
                        let _ = reply.send(self.write(request).await);
                    }
                    Some((request, reply)) => {
                        let _ = reply.send(self.handle(request).await);
                    }
                },
                () = tokio::time::sleep_until(next_collection) => {
                    self.start_collection(&collecting);
                    next_collection = Instant::now() + self.every;
                }
            }
        }
    }

    /// Collects in a task of its own, so reading goes on meanwhile; one collection at a time.
    fn start_collection(&self, collecting: &Arc<AtomicBool>) {
        if collecting.swap(true, Ordering::SeqCst) {
            return;
        }
        let (login, store, policy, events) = (
            Arc::clone(&self.login),
            Arc::clone(&self.store),
            self.policy,
            self.events.clone(),
        );
        let last_collected = Arc::clone(&self.last_collected);
        let lists = Arc::clone(&self.lists);
        let collecting = Arc::clone(collecting);
        tokio::spawn(async move {
            let progress_events = events.clone();
            let outcome =
                collector::collect(&login, Arc::clone(&store), policy, move |done, total| {
                    // About a hundred progress events per collection, however large.
                    if done == 0 || done == total || done % (total / 100).max(1) == 0 {
                        let _ = progress_events.send(Event::Collecting { done, total });
                    }
                })
                .await;
            let (collected, error) = outcome;
            let Collected {
                stored, too_big, ..
            } = collected;
            let error = error.map(|e| {
                tracing::info!(user = %login.user, error = %e, "POP3 collection stopped");
                ErrorInfo::new(e.code(), e.to_string())
            });
            let (user, inbox_events) = (login.user.clone(), events.clone());
            let _ = blocking(&store, move |store| {
                announce(store, &user, &lists, &inbox_events, "INBOX", &[])
            })
            .await;
            let collected = Event::Collected {
                stored,
                error,
                too_big,
            };
            *last_collected.lock().unwrap_or_else(|e| e.into_inner()) = Some(collected.clone());
            let _ = events.send(collected);
            collecting.store(false, Ordering::SeqCst);
        });
    }

    async fn write(&self, request: WriteRequest) -> Result<Response, ErrorInfo> {
        let Some(writer) = &self.writer else {
            return Err(ErrorInfo::new(
                ErrorCode::NotOffered,
                "this webmail has no server to send mail through",
            ));
        };
        let mut mail = StoreMail {
            store: &self.store,
            user: &self.login.user,
        };
        writer.write(request, &mut mail).await
    }

    async fn handle(&self, request: Request) -> Result<Response, ErrorInfo> {
        if let Request::ListMessages {
            folder,
            offset,
            limit,
        } = request
        {
            let list = self.list(folder, offset, limit).await?;
            if let Some(writer) = &self.writer {
                writer.saw(&list.messages);
            }
            return Ok(Response::MessageList(list));
        }
        let flagged = match &request {
            Request::SetFlags { uids, .. } => uids.clone(),
            _ => Vec::new(),
        };
        let (user, inline) = (self.login.user.clone(), self.inline);
        let (lists, events) = (Arc::clone(&self.lists), self.events.clone());
        let (response, folder_list) = blocking(&self.store, move |store| {
            if let Request::RenameFolder { from: gone, .. } | Request::DeleteFolder { name: gone } =
                &request
            {
                // Here, not on the runtime: a collection may hold the lists a while.
                lists.lock().unwrap_or_else(|e| e.into_inner()).forget(gone);
            }
            let (response, changed, folder_list) = answer(store, &user, request, inline)?;
            for folder in changed {
                // Done is done: a tab that misses the news loads the folder at its next change.
                if let Err(error) = announce(store, &user, &lists, &events, &folder, &flagged) {
                    tracing::warn!(%error, "cannot tell the tabs what changed");
                }
            }
            Ok((response, folder_list))
        })
        .await
        .map_err(error_info)?;
        if folder_list {
            let _ = self.events.send(Event::FoldersChanged);
        }
        Ok(response)
    }

    /// A page of `folder`, carrying the version of the folder its positions count in (tabs
    /// holding an older one hear how it changed since).
    async fn list(
        &self,
        folder: String,
        offset: u32,
        limit: u32,
    ) -> Result<MessageList, ErrorInfo> {
        let user = self.login.user.clone();
        let (lists, events) = (Arc::clone(&self.lists), self.events.clone());
        blocking(&self.store, move |store| {
            let mut lists = lists.lock().unwrap_or_else(|e| e.into_inner());
            let (mut list, order) = store.list(&user, &folder, offset, limit)?;
            let counts = (order.total(), order.unread);
            let (version, change) = lists.listed(&folder, order.ids);
            list.version = version;
            if let Some(change) = change {
                let sent = send_change(store, &user, &events, &folder, change, &[], counts);
                if let Err(error) = sent {
                    tracing::warn!(%error, "cannot tell the tabs what changed");
                }
            }
            Ok(list)
        })
        .await
        .map_err(error_info)
    }
}

/// Tells the tabs how `folder` changed in the store: where they were shown its list this
/// session, as a delta of the rows that came, went and (`flagged`) changed flags; else its
/// counts, on which a tab showing it loads it again.
fn announce(
    store: &Store,
    user: &str,
    lists: &Mutex<Lists>,
    events: &broadcast::Sender<Event>,
    folder: &str,
    flagged: &[u32],
) -> Result<(), StoreError> {
    // Held until the event is sent, so that deltas go out in the order of their versions.
    let mut lists = lists.lock().unwrap_or_else(|e| e.into_inner());
    let order = store.order(user, folder)?;
    let counts = (order.total(), order.unread);
    match lists.changed(folder, order.ids) {
        Some(change) => send_change(store, user, events, folder, change, flagged, counts),
        None => {
            send_counts(events, folder, counts);
            Ok(())
        }
    }
}

/// Sends `change` of `folder` with the rows it adds, those of `flagged` and those whose
/// conversation grew (a removal leaves the sizes of the rest until the next list), and its
/// `(total, unread)` counts. Past [`DELTA_MAX_ROWS`] new rows the tabs load the list again.
fn send_change(
    store: &Store,
    user: &str,
    events: &broadcast::Sender<Event>,
    folder: &str,
    change: Change,
    flagged: &[u32],
    (total, unread): (u32, u32),
) -> Result<(), StoreError> {
    let Change {
        from_version,
        version,
        difference,
    } = change;
    if difference.added.len() > DELTA_MAX_ROWS {
        send_counts(events, folder, (total, unread));
        return Ok(());
    }
    let wanted: Vec<u32> = difference
        .added
        .iter()
        .map(|(_, id)| *id)
        .chain(flagged.iter().copied())
        .collect();
    let mut rows = store.rows_with_threads(user, folder, &wanted)?;
    let mut added = Vec::with_capacity(difference.added.len());
    for (position, id) in difference.added {
        let Some(at) = rows.iter().position(|row| row.uid == id) else {
            // Gone again meanwhile: the next change or list puts it right; until then reload.
            send_counts(events, folder, (total, unread));
            return Ok(());
        };
        added.push(PlacedMessage {
            position,
            message: rows.swap_remove(at),
        });
    }
    let _ = events.send(Event::FolderDelta(FolderDelta {
        folder: folder.to_owned(),
        total,
        unread,
        from_version,
        version,
        removed: difference.removed,
        added,
        changed: rows,
    }));
    Ok(())
}

/// Tells the tabs `folder`'s counts, on which one showing it loads it again.
fn send_counts(events: &broadcast::Sender<Event>, folder: &str, (total, unread): (u32, u32)) {
    let _ = events.send(Event::FolderChanged {
        folder: folder.to_owned(),
        total,
        unread,
    });
}

/// One request against the store: the answer, the folders whose contents changed, and whether
/// the folder list changed.
fn answer(
    store: &Store,
    user: &str,
    request: Request,
    inline: mime::InlineLimits,
) -> Result<(Response, Vec<String>, bool), StoreError> {
    let done = |folders: Vec<String>| Ok((Response::Done, folders, false));
    match request {
        Request::ListFolders => Ok((
            Response::Folders {
                folders: store.folders(user)?,
            },
            Vec::new(),
            false,
        )),
        Request::CreateFolder { name } => {
            store.create_folder(user, &name)?;
            Ok((Response::Done, Vec::new(), true))
        }
        Request::RenameFolder { from, to } => {
            store.rename_folder(user, &from, &to)?;
            Ok((Response::Done, Vec::new(), true))
        }
        Request::DeleteFolder { name } => {
            store.delete_folder(user, &name)?;
            Ok((Response::Done, vec!["Trash".into()], true))
        }
        // Local folders are always there for every device: nothing to subscribe to.
        Request::SubscribeFolder { .. } => done(Vec::new()),
        Request::CheckMail => done(Vec::new()),
        Request::ListMessages { .. } => {
            Err(StoreError::BadInput("lists are answered by `list`".into()))
        }
        Request::OpenMessage { folder, uid } => {
            let view = open(store, user, folder, uid, inline)?;
            Ok((Response::Message(Box::new(view)), Vec::new(), false))
        }
        Request::SetFlags {
            folder,
            uids,
            flags,
            set,
        } => {
            store.set_flags(user, &folder, &uids, &flags, set)?;
            done(vec![folder])
        }
        Request::MoveMessages { folder, uids, to } => {
            let uids = store.move_messages(user, &folder, &uids, &to)?;
            Ok((Response::moved(&to, uids), vec![folder, to], false))
        }
        Request::CopyMessages { folder, uids, to } => {
            store.copy_messages(user, &folder, &uids, &to)?;
            done(vec![to])
        }
        Request::DeleteMessages { folder, uids } => {
            let response = match store.delete_messages(user, &folder, &uids)? {
                Some(uids) => Response::moved("Trash", uids),
                None => Response::Done,
            };
            Ok((response, vec![folder, "Trash".into()], false))
        }
        Request::ArchiveMessages { folder, uids } => {
            let uids = store.move_messages(user, &folder, &uids, "Archive")?;
            Ok((
                Response::moved("Archive", uids),
                vec![folder, "Archive".into()],
                false,
            ))
        }
        Request::Conversation { folder, thread_id } => {
            let hits = store.conversation(user, &folder, &thread_id)?;
            Ok((Response::SearchResults { hits }, Vec::new(), false))
        }
        Request::Write(_) => Err(StoreError::BadInput(
            "writing requests are answered by `write`".into(),
        )),
        Request::AllowImagesFrom { .. } | Request::Ping => {
            Err(StoreError::BadInput("answered by the session".into()))
        }
        Request::Search { folder, query } => {
            let hits = store.search(user, folder.as_deref(), &query)?;
            Ok((Response::SearchResults { hits }, Vec::new(), false))
        }
    }
}

/// A stored message as the reader shows it.
fn open(
    store: &Store,
    user: &str,
    folder: String,
    uid: u32,
    inline: mime::InlineLimits,
) -> Result<MessageView, StoreError> {
    let (row, raw) = store.message(user, &folder, uid)?;
    let parsed = mime::parse_message(&raw, inline);
    let keywords = store.keywords(user, &folder, uid)?;
    Ok(MessageView {
        folder,
        uid,
        from: row.from,
        to: row.to,
        cc: parsed.headers.cc,
        reply_to: parsed.headers.reply_to,
        subject: row.subject,
        date: row.date,
        message_id: parsed.headers.message_id,
        references: parsed.headers.references,
        thread_id: row.thread_id,
        body: parsed.body,
        attachments: parsed.attachments,
        unread: row.unread,
        flagged: row.flagged,
        answered: row.answered,
        keywords,
        damaged: false,
        truncated: parsed.truncated,
        forged_from: parsed.headers.forged_from,
        images_allowed: false,
    })
}

/// The store, for what writing reads.
struct StoreMail<'a> {
    store: &'a Arc<Store>,
    user: &'a str,
}

impl MailAccess for StoreMail<'_> {
    async fn open(&mut self, folder: &str, uid: u32) -> Result<MessageView, ErrorInfo> {
        let (user, folder) = (self.user.to_owned(), folder.to_owned());
        blocking(self.store, move |store| {
            open(store, &user, folder, uid, mime::InlineLimits::NONE)
        })
        .await
        .map_err(error_info)
    }

    async fn bytes(
        &mut self,
        folder: &str,
        uid: u32,
        part: Option<&str>,
        limit: u64,
    ) -> Result<Vec<u8>, ErrorInfo> {
        let (user, folder) = (self.user.to_owned(), folder.to_owned());
        let part = part.map(str::to_owned);
        let bytes = blocking(self.store, move |store| {
            let (_, raw) = store.message(&user, &folder, uid)?;
            match part {
                None => Ok(raw),
                Some(part) => mime::attachment(&raw, &part)
                    .map(|(_, bytes)| bytes)
                    .ok_or_else(|| StoreError::BadInput(format!("the message has no part {part}"))),
            }
        })
        .await
        .map_err(error_info)?;
        if bytes.len() as u64 > limit {
            return Err(ErrorInfo::new(
                ErrorCode::TooBig,
                format!("the attachment is larger than the {limit} bytes a message may carry"),
            ));
        }
        Ok(bytes)
    }

    async fn header(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ErrorInfo> {
        // The parser reads a whole message's header block as well as a bare one.
        self.bytes(folder, uid, None, u64::MAX).await
    }

    async fn save_draft(&mut self, message: &[u8], id: &str) -> Result<(String, u32), ErrorInfo> {
        let (user, message, id) = (self.user.to_owned(), message.to_vec(), id.to_owned());
        let uid = blocking(self.store, move |store| {
            store.save_draft(&user, &message, &id)
        })
        .await
        .map_err(error_info)?;
        Ok(("Drafts".to_owned(), uid))
    }

    async fn discard_draft(&mut self, id: &str) -> Result<(), ErrorInfo> {
        let (user, id) = (self.user.to_owned(), id.to_owned());
        blocking(self.store, move |store| {
            store.remove_drafts(&user, &id, None)
        })
        .await
        .map_err(error_info)
    }
}

pub fn error_info(error: StoreError) -> ErrorInfo {
    let code = match &error {
        StoreError::NoSuchFolder(_) => ErrorCode::NoSuchFolder,
        StoreError::FolderExists(_) => ErrorCode::FolderExists,
        StoreError::NoSuchMessage => ErrorCode::NoSuchMessage,
        StoreError::BadInput(_) => ErrorCode::BadRequest,
        StoreError::Db(_) | StoreError::Io(_) => {
            tracing::error!(%error, "mail store failed");
            ErrorCode::Internal
        }
    };
    ErrorInfo::new(code, error.to_string())
}
