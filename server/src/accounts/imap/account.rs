//! A logged-in IMAP account: one actor task owning one IMAP connection.
//! (`pop3::account` is the same for POP3 accounts, over the relay's store.)
//!
//! Requests from all of the user's tabs queue into it and run one after another. Between
//! requests it waits in IDLE on the folder the user last looked at, so changes made by any other
//! client reach the browsers at once; other folders' counts are swept every minute. A dropped
//! connection is re-established with backoff, without the user logging in again.

use std::{collections::HashMap, sync::Arc, time::Duration};

use protocol::{
    ErrorCode, ErrorInfo, Event, Folder, FolderDelta, FolderRole, MessageSummary, MessageView,
    PlacedMessage, Request, Response, SearchHit, SearchQuery, WriteRequest,
};
use secret::Secret;
use tokio::{
    sync::{broadcast, mpsc, oneshot},
    time::Instant,
};
use tokio_rustls::TlsConnector;

use crate::{
    accounts::imap::{
        mirror::{Delta, Mirror},
        ImapConnection, ImapError, Shelf,
    },
    accounts::{order, Job},
    config::MailServer,
    link::LinkError,
    send::{MailAccess, Writer},
};

/// After a request, how long the relay waits for the next before going into IDLE: a browser's
/// requests come in bursts (the folders, then the list), and one sent while IDLE is being
/// entered waits a round trip for the server's acceptance.
const IDLE_GRACE: Duration = Duration::from_millis(250);
/// The pause in requests after which conversation sizes are worked out.
const THREADS_AFTER_QUIET: Duration = Duration::from_millis(1500);
/// How long the folder list read at login may answer the app's first ask.
const PREWARMED_FOR: Duration = Duration::from_secs(10);
/// Rows of the INBOX fetched at login, before the browser asks (its first page).
const PREWARM_ROWS: u32 = 50;
/// How often the counts of folders other than the watched one are refreshed.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Without IDLE, how often the server is asked for news.
const POLL_EVERY: Duration = Duration::from_secs(30);
/// Reconnecting after a drop: first after this, then twice as long each time ...
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
/// ... up to this while the outage is young (a server restart: back within seconds) ...
const BACKOFF_SHORT_MAX: Duration = Duration::from_secs(2);
const OUTAGE_SHORT: Duration = Duration::from_secs(120);
/// ... and this after that (a server that is down for longer).
const BACKOFF_LONG: Duration = Duration::from_secs(30);

/// What the actor needs to log in again after a dropped connection. The password lives here, in
/// memory only, and is wiped when the session ends.
pub struct Login {
    pub server: MailServer,
    pub tls: TlsConnector,
    pub user: String,
    pub password: Secret,
    /// How many inline images an opened message may carry into the browser.
    pub inline: mime::InlineLimits,
    /// The browser's address at login, told to the mail server on every login (ID).
    pub client: Option<std::net::IpAddr>,
}

impl Login {
    pub async fn connect(&self) -> Result<ImapConnection, ImapError> {
        let mut connection = ImapConnection::connect(&self.server, &self.tls).await?;
        connection
            .login(&self.user, &self.password, self.client)
            .await?;
        Ok(connection)
    }
}

/// Where an account actor sends the answer to one request: the protocol's error at this edge.
pub type Reply = oneshot::Sender<Result<Response, ErrorInfo>>;

/// Starts the actor for a freshly logged-in connection; it ends when `jobs` closes.
pub fn spawn(
    connection: ImapConnection,
    login: Arc<Login>,
    events: broadcast::Sender<Event>,
    writer: Option<Writer>,
    shelf: Arc<Shelf>,
) -> mpsc::Sender<Job> {
    let (sender, jobs) = mpsc::channel(64);
    let mut connection = connection;
    connection.mirror = shelf.take(&login.user).unwrap_or_default();
    let actor = Actor {
        login,
        writer,
        connection: Some(connection),
        side: None,
        mirror: Mirror::default(),
        shelf,
        events,
        watched: "INBOX".to_owned(),
        verify_watched: false,
        prewarmed: None,
        counts: HashMap::new(),
        next_sweep: Instant::now() + SWEEP_EVERY,
    };
    tokio::spawn(actor.start(jobs));
    sender
}

struct Actor {
    login: Arc<Login>,
    /// Where the relay sends mail.
    writer: Option<Writer>,
    connection: Option<ImapConnection>,
    /// A second connection, made on first need, for searches in folders other than the one
    /// in view: the main connection stays on that folder (selecting a big Maildir again costs
    /// the server a directory scan, and the next click would wait for it). Boxed: most
    /// sessions never make one, and an empty place for it would cost them its size.
    side: Option<Box<ImapConnection>>,
    /// What is known of the folders while there is no connection, for the next one.
    mirror: Mirror,
    /// Where the mirror goes when the session ends, for the user's next login.
    shelf: Arc<Shelf>,
    events: broadcast::Sender<Event>,
    /// The folder to IDLE on: the one the user last listed.
    watched: String,
    /// The watched folder was listed from the mirror: open it now to find what changed.
    verify_watched: bool,
    /// The folder list read at login, for the app's first ask (while fresh).
    prewarmed: Option<(Instant, Vec<Folder>)>,
    /// Last known (total, unread) per folder, to tell the browsers only about changes.
    counts: HashMap<String, (u32, u32)>,
    next_sweep: Instant,
}

/// What a request changed, for the events sent after it.
#[derive(Default)]
struct Changed {
    folders: Vec<String>,
    folder_list: bool,
}

impl Actor {
    /// While the browser opens its socket, the first page of the INBOX is fetched, so the list
    /// it asks for first is answered from the mirror.
    async fn prewarm(&mut self) {
        if let Some(connection) = self.connection.as_mut() {
            // The INBOX as the user's last session left it: shown at once, and checked once the
            // browser has had it (listing it from the mirror asks for that).
            let warmed = if connection.lists_from_mirror("INBOX", PREWARM_ROWS) {
                connection.folders_beside_mirror().await
            } else {
                connection.open_inbox_and_folders(PREWARM_ROWS).await
            };
            match warmed {
                Ok(folders) => self.prewarmed = Some((Instant::now(), folders)),
                Err(e) => {
                    tracing::info!(user = %self.login.user, error = %e, "INBOX not pre-fetched");
                    if e.is_connection_lost() {
                        self.drop_connection();
                    }
                }
            }
        }
    }

    /// The connection is gone; what it knew of the folders is kept for the next.
    fn drop_connection(&mut self) {
        self.mirror = self.take_mirror();
        self.connection = None;
    }

    /// What is known of the folders, out of the connection where there is one.
    fn take_mirror(&mut self) -> Mirror {
        match self.connection.as_mut() {
            Some(connection) => std::mem::take(&mut connection.mirror),
            None => std::mem::take(&mut self.mirror),
        }
    }

    fn set_connection(&mut self, mut connection: ImapConnection) {
        connection.mirror = std::mem::take(&mut self.mirror);
        self.connection = Some(connection);
    }

    /// Warms the INBOX up, then serves jobs until the session ends.
    ///
    /// The actor waits in IDLE most of its life, with its whole future in memory, in every
    /// session: what it does between waits is boxed, so that the waiting is what it costs.
    async fn start(mut self, jobs: mpsc::Receiver<Job>) {
        Box::pin(self.prewarm()).await;
        self.run(jobs).await
    }

    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut backoff = BACKOFF_FIRST;
        let mut lost_at: Option<Instant> = None;
        loop {
            if self.connection.is_none() {
                let since = *lost_at.get_or_insert_with(Instant::now);
                match Box::pin(self.login.connect()).await {
                    Ok(connection) => {
                        tracing::info!(user = %self.login.user, "IMAP connection re-established");
                        self.set_connection(connection);
                        backoff = BACKOFF_FIRST;
                        lost_at = None;
                        let _ = self.events.send(Event::Reconnected);
                        // Whatever happened meanwhile: the browsers reload what they show.
                        let watched = self.watched.clone();
                        Box::pin(self.report_changes(&[watched], true)).await;
                    }
                    Err(ImapError::AuthFailed) => {
                        tracing::info!(user = %self.login.user, "password no longer accepted; ending session");
                        let _ = self.events.send(Event::LoggedOut);
                        return;
                    }
                    Err(e) => {
                        tracing::info!(user = %self.login.user, error = %e, ?backoff, "IMAP reconnect failed");
                        // Wait, but serve (with an error) whoever asks meanwhile.
                        tokio::select! {
                            job = jobs.recv() => match job.map(|job| *job) {
                                Some((_, reply)) => {
                                    let _ = reply.send(Err(ErrorInfo::from(e)));
                                }
                                None => return,
                            },
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = if since.elapsed() < OUTAGE_SHORT {
                            (backoff * 2).min(BACKOFF_SHORT_MAX)
                        } else {
                            BACKOFF_LONG
                        };
                        continue;
                    }
                }
            }
            let job = match jobs.try_recv() {
                Ok(job) => Some(*job),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => match self.watch(&mut jobs).await {
                    Watch::Job(job) => Some(*job),
                    Watch::Closed => break,
                    Watch::Nothing => None,
                },
            };
            if let Some((request, reply)) = job {
                let result = match request {
                    Request::Write(request) => Box::pin(self.write(request)).await,
                    request => Box::pin(self.handle(request))
                        .await
                        .map_err(ErrorInfo::from),
                };
                let _ = reply.send(result);
            }
        }
        let mirror = self.take_mirror();
        self.shelf.put(&self.login.user, mirror);
        for connection in [self.connection.take(), self.side.take().map(|side| *side)]
            .into_iter()
            .flatten()
        {
            Box::pin(connection.logout()).await;
        }
    }

    /// Waits for the next job while watching the server for changes.
    async fn watch(&mut self, jobs: &mut mpsc::Receiver<Job>) -> Watch {
        // Rows shown from the mirror are checked at once; otherwise a burst of requests
        // goes out before IDLE's handshake is paid for.
        if !std::mem::take(&mut self.verify_watched) {
            tokio::select! {
                job = jobs.recv() => return match job {
                    Some(job) => Watch::Job(job),
                    None => Watch::Closed,
                },
                () = tokio::time::sleep(IDLE_GRACE) => {}
            }
        }
        let sweep_due = self.next_sweep;
        let watched = self.watched.clone();
        let Some(connection) = self.connection.as_mut() else {
            return Watch::Nothing;
        };
        match Box::pin(connection.open_folder(&watched)).await {
            // Not the list the browsers hold (its UIDs void, or forgotten): they load it again.
            Ok(synced) if synced.new_list => Box::pin(self.reload(&watched)).await,
            Ok(synced) => {
                if !synced.delta.is_empty() {
                    Box::pin(self.announce(&watched, synced.delta, false)).await;
                }
            }
            // Deleted by another client: the tabs learn it, and the inbox is watched instead.
            Err(ImapError::NoSuchFolder(_)) => {
                connection.mirror.forget(&watched);
                let _ = self.events.send(Event::FoldersChanged);
                self.watched = "INBOX".to_owned();
                return Watch::Nothing;
            }
            Err(e) => return self.lost(e, &watched),
        }
        let Some(connection) = self.connection.as_mut() else {
            return Watch::Nothing;
        };
        // News that came with the commands above (not in IDLE, where it would come again).
        if connection.has_news(&watched) {
            Box::pin(self.report_changes(&[watched], false)).await;
            return Watch::Nothing;
        }
        let Some(connection) = self.connection.as_mut() else {
            return Watch::Nothing;
        };
        // Conversation sizes once the user pauses: THREAD on a big folder holds the connection
        // for a while, so IDLE is left for it only after a quiet spell.
        let threads_due = connection
            .wants_conversations(&watched)
            .then(|| Instant::now() + THREADS_AFTER_QUIET);
        let mut received: Option<Option<Job>> = None;
        let mut quiet = false;
        let stop = async {
            tokio::select! {
                job = jobs.recv() => received = Some(job),
                () = tokio::time::sleep_until(sweep_due) => {}
                () = sleep_until(threads_due) => quiet = true,
            }
        };
        let outcome = if connection.supports_idle() {
            connection.idle(stop).await
        } else {
            tokio::select! {
                () = stop => Ok(Vec::new()),
                () = tokio::time::sleep(POLL_EVERY) => connection.poll().await,
            }
        };
        match outcome {
            Ok(changes) => {
                if !changes.is_empty() {
                    Box::pin(self.report_changes(std::slice::from_ref(&watched), false)).await;
                }
            }
            Err(e) => {
                if let Some(Some(job)) = received {
                    // The job was taken from the queue; it runs once the connection is back.
                    self.drop_connection();
                    return Watch::Job(job);
                }
                return self.lost(e, &watched);
            }
        }
        if Instant::now() >= self.next_sweep {
            Box::pin(self.sweep()).await;
        }
        if quiet {
            if let Err(lost) = Box::pin(self.send_conversations(&watched)).await {
                return lost;
            }
        }
        match received {
            Some(Some(job)) => Watch::Job(job),
            Some(None) => Watch::Closed,
            None => Watch::Nothing,
        }
    }

    /// Works out `folder`'s conversation sizes and sends them to every tab.
    async fn send_conversations(&mut self, folder: &str) -> Result<(), Watch> {
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        match connection.work_out_conversations(folder).await {
            Ok(Some((version, sizes))) => {
                let _ = self.events.send(Event::Conversations {
                    folder: folder.to_owned(),
                    version,
                    sizes,
                });
            }
            Ok(None) => {}
            Err(e) if e.is_connection_lost() => return Err(self.lost(e, folder)),
            Err(e) => tracing::info!(error = %e, "no conversation sizes"),
        }
        Ok(())
    }

    fn lost(&mut self, error: ImapError, folder: &str) -> Watch {
        tracing::info!(user = %self.login.user, %folder, %error, "IMAP connection lost");
        self.drop_connection();
        let _ = self.events.send(Event::Reconnecting);
        Watch::Nothing
    }

    /// Answers a writing request, reading originals and attachments over this connection.
    async fn write(&mut self, request: WriteRequest) -> Result<Response, ErrorInfo> {
        let Actor {
            writer, connection, ..
        } = self;
        let Some(writer) = writer else {
            return Err(ErrorInfo::new(
                ErrorCode::NotOffered,
                "this webmail has no server to send mail through",
            ));
        };
        let connection = connection.as_mut().ok_or_else(|| {
            ErrorInfo::new(
                ErrorCode::ServerUnreachable,
                "the connection to the mail server is being made again; try again in a moment",
            )
        })?;
        writer.write(request, &mut ImapMail(connection)).await
    }

    /// Runs a request; if the connection turns out to be gone, reconnects once and retries.
    async fn handle(&mut self, request: Request) -> Result<Response, ImapError> {
        let first = self.attempt(&request).await;
        let (response, changed, synced) = match first {
            Err(e) if e.is_connection_lost() => {
                tracing::info!(user = %self.login.user, error = %e, "IMAP connection lost; retrying once");
                let _ = self.events.send(Event::Reconnecting);
                self.drop_connection();
                let connection = self.login.connect().await?;
                self.set_connection(connection);
                let _ = self.events.send(Event::Reconnected);
                match (self.attempt(&request).await, messages_changed_in(&request)) {
                    // The first attempt may have been carried out before the link dropped:
                    // then the messages are where the user wanted them, or flagged already.
                    (Err(ImapError::NoSuchMessage), Some(folder)) => {
                        let changed = Changed {
                            folders: vec![folder.to_owned()],
                            folder_list: false,
                        };
                        (Response::Done, changed, None)
                    }
                    (other, _) => other?,
                }
            }
            other => other?,
        };
        if let Some((folder, delta)) = synced {
            self.announce(&folder, delta, false).await;
        }
        if !changed.folders.is_empty() || changed.folder_list {
            self.report_changes(&changed.folders, changed.folder_list)
                .await;
        }
        Ok(response)
    }

    /// The answer, what it changed, and what a list found changed since the browsers heard.
    async fn attempt(
        &mut self,
        request: &Request,
    ) -> Result<(Response, Changed, Option<(String, Delta)>), ImapError> {
        if let Request::ListMessages {
            folder,
            offset,
            limit,
        } = request
        {
            let connection = self.connection.as_mut().ok_or(LinkError::Closed)?;
            let (list, synced) = connection.list_messages(folder, *offset, *limit).await?;
            if let Some(writer) = &self.writer {
                writer.saw(&list.messages);
            }
            self.watched = folder.clone();
            self.verify_watched = synced.unverified;
            let delta = (!synced.new_list && !synced.delta.is_empty())
                .then(|| (folder.clone(), synced.delta));
            return Ok((Response::MessageList(list), Changed::default(), delta));
        }
        let (response, changed) = self.attempt_other(request).await?;
        Ok((response, changed, None))
    }

    async fn attempt_other(&mut self, request: &Request) -> Result<(Response, Changed), ImapError> {
        let connection = self.connection.as_mut().ok_or(LinkError::Closed)?;
        let answered = |response: Response, folders: Vec<String>| {
            (
                response,
                Changed {
                    folders,
                    folder_list: false,
                },
            )
        };
        let done = |folders: Vec<String>| answered(Response::Done, folders);
        let folders_changed = || {
            (
                Response::Done,
                Changed {
                    folders: Vec::new(),
                    folder_list: true,
                },
            )
        };
        Ok(match request {
            Request::ListFolders => {
                let folders = match self.prewarmed.take() {
                    Some((at, folders)) if at.elapsed() < PREWARMED_FOR => folders,
                    _ => connection.list_folders().await?,
                };
                for f in &folders {
                    self.counts.insert(f.name.clone(), (f.total, f.unread));
                }
                (Response::Folders { folders }, Changed::default())
            }
            Request::CreateFolder { name } => {
                connection.create_folder(name).await?;
                folders_changed()
            }
            Request::RenameFolder { from, to } => {
                connection.rename_folder(from, to).await?;
                if self.watched == *from {
                    self.watched = "INBOX".into();
                }
                folders_changed()
            }
            Request::DeleteFolder { name } => {
                connection.delete_folder(name).await?;
                if self.watched == *name {
                    self.watched = "INBOX".into();
                }
                folders_changed()
            }
            Request::SubscribeFolder { name, subscribed } => {
                connection.subscribe_folder(name, *subscribed).await?;
                folders_changed()
            }
            // The IMAP connection is live: "check" means telling the tabs what is there now.
            Request::CheckMail => done(vec![self.watched.clone()]),
            Request::ListMessages { .. } => {
                return Err(ImapError::BadInput(
                    "lists are answered by `attempt`".into(),
                ))
            }
            Request::OpenMessage { folder, uid } => {
                let message = connection
                    .open_message(folder, *uid, self.login.inline)
                    .await?;
                (Response::Message(Box::new(message)), Changed::default())
            }
            Request::SetFlags {
                folder,
                uids,
                flags,
                set,
            } => {
                connection.set_flags(folder, uids, flags, *set).await?;
                done(vec![folder.clone()])
            }
            Request::MoveMessages { folder, uids, to } => {
                let placed = connection.move_messages(folder, uids, to).await?;
                answered(
                    Response::moved(to, placed),
                    vec![folder.clone(), to.clone()],
                )
            }
            Request::CopyMessages { folder, uids, to } => {
                connection.copy_messages(folder, uids, to).await?;
                done(vec![to.clone()])
            }
            Request::DeleteMessages { folder, uids } => {
                let trash = connection.folder_with_role(FolderRole::Trash).await?;
                let placed = connection
                    .delete_messages(folder, uids, trash.as_deref())
                    .await?;
                let response = match (&trash, placed) {
                    (Some(trash), Some(placed)) => Response::moved(trash, placed),
                    _ => Response::Done,
                };
                let folders = [Some(folder.clone()), trash].into_iter().flatten();
                answered(response, folders.collect())
            }
            Request::ArchiveMessages { folder, uids } => {
                let (archive, created) =
                    match connection.folder_with_role(FolderRole::Archive).await? {
                        Some(archive) => (archive, false),
                        None => {
                            connection.create_folder("Archive").await?;
                            ("Archive".to_owned(), true)
                        }
                    };
                let placed = connection.move_messages(folder, uids, &archive).await?;
                (
                    Response::moved(&archive, placed),
                    Changed {
                        folders: vec![folder.clone(), archive],
                        folder_list: created,
                    },
                )
            }
            Request::Conversation { folder, thread_id } => {
                let sent = connection.folder_with_role(FolderRole::Sent).await?;
                let mut folders = vec![folder.clone()];
                folders.extend(sent.filter(|s| s != folder));
                let mut hits = Vec::new();
                for folder in folders {
                    let lookup = Lookup::Conversation(thread_id);
                    let found =
                        aside(&mut self.side, &self.login, connection, &folder, &lookup).await?;
                    hits.extend(found.into_iter().map(|message| SearchHit {
                        folder: folder.clone(),
                        message,
                    }));
                }
                hits.sort_by_key(|hit| hit.message.date);
                (Response::SearchResults { hits }, Changed::default())
            }
            Request::Write(_) => {
                return Err(ImapError::BadInput(
                    "writing requests are answered by `write`".into(),
                ))
            }
            Request::AllowImagesFrom { .. } | Request::Ping => {
                return Err(ImapError::BadInput("answered by the session".into()))
            }
            Request::Search { folder, query } => {
                let folders = match folder {
                    Some(folder) => vec![folder.clone()],
                    None => connection
                        .list_folder_names()
                        .await?
                        .into_iter()
                        .filter(|f| f.selectable)
                        .map(|f| f.name)
                        .collect(),
                };
                let mut hits = Vec::new();
                for folder in folders {
                    let lookup = Lookup::Query(query);
                    let found =
                        aside(&mut self.side, &self.login, connection, &folder, &lookup).await?;
                    hits.extend(found.into_iter().map(|message| SearchHit {
                        folder: folder.clone(),
                        message,
                    }));
                }
                (Response::SearchResults { hits }, Changed::default())
            }
        })
    }

    /// Tells every tab what changed in `folders` (and that the folder list changed): for the
    /// selected folder, as a delta of its rows; for the others, their counts.
    async fn report_changes(&mut self, folders: &[String], folder_list: bool) {
        if folder_list {
            self.prewarmed = None;
            let _ = self.events.send(Event::FoldersChanged);
        }
        let mut others = Vec::new();
        for folder in folders {
            let Some(connection) = self.connection.as_mut() else {
                return;
            };
            if !connection.is_mirrored_and_selected(folder) {
                others.push(folder.clone());
                continue;
            }
            match connection.resync(folder).await {
                Ok(synced) => self.announce(folder, synced.delta, true).await,
                Err(e) => {
                    tracing::info!(user = %self.login.user, error = %e, "cannot sync folder");
                    others.push(folder.clone());
                }
            }
        }
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        match connection.counts(&others).await {
            Ok(counts) => {
                for (folder, (total, unread)) in counts {
                    self.counts.insert(folder.clone(), (total, unread));
                    let _ = self.events.send(Event::FolderChanged {
                        folder,
                        total,
                        unread,
                    });
                }
            }
            Err(e) => {
                tracing::info!(user = %self.login.user, error = %e, "cannot read folder counts")
            }
        }
    }

    /// Sends `delta` of `folder` to every tab, with the rows it adds and changes and the
    /// folder's counts (sent alone, when `counts_anyway`, where no row changed). Past
    /// [`order::DELTA_MAX_ROWS`] new rows, or where rows cannot be had, the tabs load the list
    /// again.
    async fn announce(&mut self, folder: &str, delta: Delta, counts_anyway: bool) {
        if delta.is_empty() && !counts_anyway {
            return;
        }
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        if delta.added.len() > order::DELTA_MAX_ROWS {
            return self.reload(folder).await;
        }
        let counts = connection.mirrored_counts(folder).await;
        let Ok((total, unread)) = counts else {
            return;
        };
        self.counts.insert(folder.to_owned(), (total, unread));
        let wanted: Vec<u32> = delta
            .added
            .iter()
            .map(|(_, uid)| *uid)
            .chain(delta.changed.iter().copied())
            .collect();
        let Ok(rows) = connection.rows_for(folder, &wanted).await else {
            return self.reload(folder).await;
        };
        let row = |uid: u32| rows.iter().find(|r| r.uid == uid).cloned();
        let added: Option<Vec<PlacedMessage>> = delta
            .added
            .iter()
            .map(|(position, uid)| {
                Some(PlacedMessage {
                    position: *position,
                    message: row(*uid)?,
                })
            })
            .collect();
        let Some(added) = added else {
            return self.reload(folder).await;
        };
        let _ = self.events.send(Event::FolderDelta(FolderDelta {
            folder: folder.to_owned(),
            total,
            unread,
            from_version: delta.from_version,
            version: delta.version,
            removed: delta.removed,
            added,
            changed: delta.changed.into_iter().filter_map(row).collect(),
        }));
    }

    /// Tells every tab to load `folder`'s list again, with its counts.
    async fn reload(&mut self, folder: &str) {
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        let Ok((total, unread)) = connection.mirrored_counts(folder).await else {
            return;
        };
        self.counts.insert(folder.to_owned(), (total, unread));
        let _ = self.events.send(Event::FolderChanged {
            folder: folder.to_owned(),
            total,
            unread,
        });
    }

    /// Refreshes every known folder's counts; tells the tabs about those that changed.
    async fn sweep(&mut self) {
        self.next_sweep = Instant::now() + SWEEP_EVERY;
        let Some(connection) = self.connection.as_mut() else {
            return;
        };
        let known: Vec<String> = self.counts.keys().cloned().collect();
        let Ok(counts) = connection.counts(&known).await else {
            return;
        };
        for (folder, now) in counts {
            if self.counts.insert(folder.clone(), now) != Some(now) {
                connection.mirror.mark_stale(&folder);
                let _ = self.events.send(Event::FolderChanged {
                    folder,
                    total: now.0,
                    unread: now.1,
                });
            }
        }
    }
}

/// The account's connection, for what writing reads.
struct ImapMail<'a>(&'a mut ImapConnection);

impl MailAccess for ImapMail<'_> {
    async fn open(&mut self, folder: &str, uid: u32) -> Result<MessageView, ErrorInfo> {
        self.0
            .open_message(folder, uid, mime::InlineLimits::NONE)
            .await
            .map_err(ErrorInfo::from)
    }

    async fn bytes(
        &mut self,
        folder: &str,
        uid: u32,
        part: Option<&str>,
        limit: u64,
    ) -> Result<Vec<u8>, ErrorInfo> {
        self.0
            .read_bytes(folder, uid, part, limit)
            .await
            .map_err(ErrorInfo::from)
    }

    async fn header(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ErrorInfo> {
        self.0
            .header_block(folder, uid)
            .await
            .map_err(ErrorInfo::from)
    }

    async fn save_draft(&mut self, message: &[u8], id: &str) -> Result<(String, u32), ErrorInfo> {
        self.0
            .save_draft(message, id)
            .await
            .map_err(ErrorInfo::from)
    }

    async fn discard_draft(&mut self, id: &str) -> Result<(), ErrorInfo> {
        let drafts = self
            .0
            .folder_for(FolderRole::Drafts)
            .await
            .map_err(ErrorInfo::from)?;
        self.0
            .remove_drafts(&drafts, id, None)
            .await
            .map_err(ErrorInfo::from)
    }
}

enum Watch {
    Job(Job),
    Closed,
    Nothing,
}

/// A search in one folder.
enum Lookup<'a> {
    /// The messages of a conversation, by its root's Message-ID.
    Conversation(&'a str),
    Query(&'a SearchQuery),
}

impl Lookup<'_> {
    async fn run(
        &self,
        connection: &mut ImapConnection,
        folder: &str,
    ) -> Result<Vec<MessageSummary>, ImapError> {
        match self {
            Lookup::Conversation(thread_id) => connection.conversation(folder, thread_id).await,
            Lookup::Query(query) => connection.search(folder, query).await,
        }
    }
}

/// Runs `lookup` on the side connection (made if missing) for a folder the main connection
/// does not have open, else on the main one; the side one lost, on the main one after all.
async fn aside(
    side: &mut Option<Box<ImapConnection>>,
    login: &Login,
    main: &mut ImapConnection,
    folder: &str,
    lookup: &Lookup<'_>,
) -> Result<Vec<MessageSummary>, ImapError> {
    if !main.is_selected(folder) {
        if side.is_none() {
            match login.connect().await {
                Ok(connection) => *side = Some(Box::new(connection)),
                Err(e) => tracing::info!(user = %login.user, error = %e, "no second connection"),
            }
        }
        if let Some(connection) = side.as_mut() {
            match lookup.run(connection, folder).await {
                Err(e) if e.is_connection_lost() => *side = None,
                other => return other,
            }
        }
    }
    lookup.run(main, folder).await
}

/// The folder whose messages `request` changes (flags, moves, deletion), if it changes any.
fn messages_changed_in(request: &Request) -> Option<&str> {
    match request {
        Request::SetFlags { folder, .. }
        | Request::MoveMessages { folder, .. }
        | Request::DeleteMessages { folder, .. }
        | Request::ArchiveMessages { folder, .. } => Some(folder),
        _ => None,
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
