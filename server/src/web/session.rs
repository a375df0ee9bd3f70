//! Logged-in users. Each session has one account actor (`accounts::imap::account` or
//! `accounts::pop3::account`): requests from all of the user's browser tabs queue into it, and
//! its events fan out to every tab. The tabs cannot tell which kind of account answers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use protocol::{ErrorCode, ErrorInfo, Event, Request, Response};
use secret::Secret;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    accounts::{
        images::ImageSenders,
        imap::{
            account::{self, Login},
            ImapConnection, Shelf,
        },
        pop3::account::Pop3Account,
        Credentials, Job, Source,
    },
    send::{Sender, Writer},
};

/// A session's events channel. It keeps the last 32 events for a socket that is slow to take
/// them: every session holds that room from the start (about 150 bytes an event), and a socket
/// that falls further behind is told to load what it shows again (`ws.rs`), so more buys little.
pub fn events() -> (broadcast::Sender<Event>, broadcast::Receiver<Event>) {
    broadcast::channel(32)
}

/// The cookie value that names a session: 256 random bits, hex.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionToken(String);

impl SessionToken {
    fn random() -> Self {
        Self(crate::random_hex(32))
    }

    pub fn from_cookie_value(value: &str) -> Self {
        Self(value.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct Session {
    pub email: String,
    started: Instant,
    /// Where downloads come from, and sent copies go.
    pub source: Arc<Source>,
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Event>,
    presence: Mutex<Presence>,
    images: Arc<ImageSenders>,
    /// POP3: how the last collection ended (see [`Session::subscribe`]).
    last_collected: Arc<Mutex<Option<Event>>>,
}

/// Open WebSockets; when they drop to zero the session expires after the idle time. Every open
/// and close bumps `generation`, so a timer started by an earlier close cannot end a session that
/// has been in use since.
#[derive(Default)]
struct Presence {
    open: usize,
    generation: u64,
}

impl Session {
    /// Queues `request` behind the others of this user and waits for its answer. Whose remote
    /// images show is the relay's to say, whichever kind of account answers.
    pub async fn request(&self, request: Request) -> Result<Response, ErrorInfo> {
        // Not behind the account's queue: it says whether the socket is alive.
        if matches!(request, Request::Ping) {
            return Ok(Response::Done);
        }
        if let Request::AllowImagesFrom { sender } = &request {
            return self
                .images
                .allow(&self.email, sender)
                .map(|()| Response::Done)
                .map_err(|e| ErrorInfo::new(e.code(), e.to_string()));
        }
        let mut response = self.ask(request).await?;
        if let Response::Message(view) = &mut response {
            view.images_allowed = self.images.allowed(&self.email, view);
        }
        Ok(response)
    }

    async fn ask(&self, request: Request) -> Result<Response, ErrorInfo> {
        let ended = || ErrorInfo::new(ErrorCode::NotLoggedIn, "the session has ended");
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new((request, reply)))
            .await
            .map_err(|_| ended())?;
        answer.await.map_err(|_| ended())?
    }

    /// The session's events from now on, after what a tab opening now has missed: how the
    /// last POP3 collection ended (it starts at login, before any tab listens; a second copy
    /// of it is harmless).
    pub fn subscribe(&self) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let events = self.events.subscribe();
        let missed = self.lock_collected().clone().into_iter().collect();
        (missed, events)
    }

    fn lock_collected(&self) -> std::sync::MutexGuard<'_, Option<Event>> {
        self.last_collected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// What a session's account needs to write mail, where the relay sends any.
fn writer(
    sender: Option<Arc<Sender>>,
    user: &str,
    password: &Secret,
    source: &Arc<Source>,
    events: &broadcast::Sender<Event>,
) -> Option<Writer> {
    Some(Writer {
        sender: sender?,
        credentials: Arc::new(Credentials {
            user: user.to_owned(),
            password: password.clone(),
        }),
        source: Arc::clone(source),
        events: events.clone(),
    })
}

/// How long sessions last, and how many one user may have.
pub struct Limits {
    /// After the user's last tab closed.
    pub idle: Duration,
    /// At most, however busy.
    pub lifetime: Duration,
    pub per_user: usize,
}

/// Every live session, by token.
pub struct Sessions {
    by_token: Mutex<HashMap<SessionToken, Arc<Session>>>,
    limits: Limits,
    /// What ended IMAP sessions knew of their folders, for the same users' next logins.
    shelf: Arc<Shelf>,
    images: Arc<ImageSenders>,
}

impl Sessions {
    pub fn new(limits: Limits, images: ImageSenders) -> Arc<Self> {
        Arc::new(Self {
            by_token: Mutex::default(),
            limits,
            shelf: Arc::default(),
            images: Arc::new(images),
        })
    }

    /// Registers a logged-in IMAP connection and starts its actor.
    pub fn start_imap(
        self: &Arc<Self>,
        connection: ImapConnection,
        login: Login,
        sender: Option<Arc<Sender>>,
    ) -> SessionToken {
        let (events, _) = events();
        let login = Arc::new(login);
        let source = Arc::new(Source::Imap(Arc::clone(&login)));
        let writer = writer(sender, &login.user, &login.password, &source, &events);
        let jobs = account::spawn(
            connection,
            Arc::clone(&login),
            events.clone(),
            writer,
            Arc::clone(&self.shelf),
        );
        self.register(login.user.clone(), source, jobs, events, Arc::default())
    }

    /// Registers a POP3 account (credentials checked) and starts its actor, which collects at once.
    pub fn start_pop3(
        self: &Arc<Self>,
        mut account: Pop3Account,
        sender: Option<Arc<Sender>>,
    ) -> SessionToken {
        let email = account.login.user.clone();
        let source = Arc::new(Source::Store {
            store: Arc::clone(&account.store),
            user: email.clone(),
        });
        let events = account.events.clone();
        account.writer = writer(sender, &email, &account.login.password, &source, &events);
        let last_collected = Arc::clone(&account.last_collected);
        let jobs = account.spawn();
        self.register(email, source, jobs, events, last_collected)
    }

    fn register(
        self: &Arc<Self>,
        email: String,
        source: Arc<Source>,
        jobs: mpsc::Sender<Job>,
        events: broadcast::Sender<Event>,
        last_collected: Arc<Mutex<Option<Event>>>,
    ) -> SessionToken {
        let session = Arc::new(Session {
            email,
            started: Instant::now(),
            source,
            jobs,
            events,
            last_collected,
            presence: Mutex::default(),
            images: Arc::clone(&self.images),
        });
        let token = SessionToken::random();
        for oldest in self.over_the_cap(&session.email) {
            tracing::info!(email = %session.email, "more sessions than allowed; the oldest ends");
            self.end(&oldest);
        }
        self.lock().insert(token.clone(), session);
        // A login whose browser never opens a socket must not keep a connection forever.
        self.expire_if_idle(token.clone(), 0);
        self.expire_at_end_of_life(token.clone());
        token
    }

    /// The sessions of `email`, oldest first.
    fn of_user(&self, email: &str) -> Vec<SessionToken> {
        let mut theirs: Vec<(Instant, SessionToken)> = self
            .lock()
            .iter()
            .filter(|(_, s)| s.email == email)
            .map(|(t, s)| (s.started, t.clone()))
            .collect();
        theirs.sort_by_key(|(started, _)| *started);
        theirs.into_iter().map(|(_, t)| t).collect()
    }

    /// The sessions of `email` to end so that one more fits under the cap, oldest first.
    fn over_the_cap(&self, email: &str) -> Vec<SessionToken> {
        let mut theirs = self.of_user(email);
        let excess = (theirs.len() + 1).saturating_sub(self.limits.per_user.max(1));
        theirs.truncate(excess);
        theirs
    }

    fn expire_at_end_of_life(self: &Arc<Self>, token: SessionToken) {
        let sessions = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(sessions.limits.lifetime).await;
            if sessions.end(&token) {
                tracing::info!("that session's lifetime was over");
            }
        });
    }

    /// Ends every session of `email` ("sign out everywhere"); returns how many.
    pub fn end_all_of(&self, email: &str) -> usize {
        self.of_user(email).iter().filter(|t| self.end(t)).count()
    }

    pub fn get(&self, token: &SessionToken) -> Option<Arc<Session>> {
        self.lock().get(token).cloned()
    }

    /// Ends the session: every tab is told, and the account actor (with its IMAP connection)
    /// ends once the last reference to the session is gone.
    pub fn end(&self, token: &SessionToken) -> bool {
        let Some(session) = self.lock().remove(token) else {
            return false;
        };
        let _ = session.events.send(Event::LoggedOut);
        tracing::info!(email = %session.email, "session ended");
        true
    }

    pub fn socket_opened(&self, session: &Session) {
        let mut presence = session.presence.lock().expect("not poisoned");
        presence.open += 1;
        presence.generation += 1;
    }

    pub fn socket_closed(self: &Arc<Self>, token: &SessionToken, session: &Session) {
        let mut presence = session.presence.lock().expect("not poisoned");
        presence.open = presence.open.saturating_sub(1);
        presence.generation += 1;
        if presence.open == 0 {
            self.expire_if_idle(token.clone(), presence.generation);
        }
    }

    fn expire_if_idle(self: &Arc<Self>, token: SessionToken, generation: u64) {
        let sessions = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(sessions.limits.idle).await;
            let unused = sessions.get(&token).is_some_and(|s| {
                let presence = s.presence.lock().expect("not poisoned");
                presence.open == 0 && presence.generation == generation
            });
            if unused {
                sessions.end(&token);
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionToken, Arc<Session>>> {
        self.by_token.lock().expect("not poisoned")
    }
}
