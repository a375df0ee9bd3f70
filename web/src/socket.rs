//! The WebSocket half of the protocol: requests with ids, answers matched back to them, events
//! handed to a callback, and reconnection with backoff when the connection drops.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::{Rc, Weak},
    time::Duration,
};

use futures_channel::oneshot;
use leptos::prelude::set_timeout;
use protocol::{ErrorCode, ErrorInfo, Event, Request, RequestId, Response, ServerFrame};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{MessageEvent, WebSocket};

type Answer = Result<Response, ErrorInfo>;
type Handler = Closure<dyn FnMut(web_sys::Event)>;

/// What the socket reports besides answers.
pub enum Notice {
    Event(Event),
    /// The connection dropped, was given up (it would not open, or went silent), or an attempt
    /// to connect again failed; pending requests have failed; reconnecting.
    Lost,
    /// Connected again after `Lost`.
    Back,
}

pub struct Socket {
    inner: Rc<Inner>,
}

struct Inner {
    ws: RefCell<Option<WebSocket>>,
    next_id: Cell<RequestId>,
    pending: RefCell<HashMap<RequestId, oneshot::Sender<Answer>>>,
    /// Frames written while not connected.
    queued: RefCell<Vec<String>>,
    on_notice: Box<dyn Fn(Notice)>,
    handlers: RefCell<Vec<Handler>>,
    /// On the network coming back, and on the page being shown again: see [`woken`].
    on_wake: RefCell<Option<Handler>>,
    /// Reconnect attempts since the last successful open.
    attempts: Cell<u32>,
    lost: Cell<bool>,
    /// Frames heard, to tell a socket that has gone silent.
    frames_heard: Cell<u64>,
    /// A timer watches the requests waiting: see [`watch`].
    watching: Cell<bool>,
    /// The socket a ping is out on: see [`probe`].
    probing: RefCell<Option<WebSocket>>,
    /// How long a ping may go unanswered before its socket is given up.
    silence_limit: Cell<Duration>,
}

/// How long a socket may take to open, and at first a ping to be answered. A link that hangs (a
/// phone between cells, a captive portal) would keep a socket opening, or an open one silent,
/// for minutes, and every request behind it: after this, it is given up as if it had dropped,
/// and tried again.
const PATIENCE: Duration = Duration::from_secs(8);

/// A ping's answer comes behind whatever the relay was sending, which on a slow link may be a
/// big message: each time a silent socket is given up, the next may be silent twice as long,
/// up to this, so that such a message is not fetched again and again.
const MOST_PATIENCE: Duration = Duration::from_secs(64);

/// How often requests waiting are looked at: where nothing was heard meanwhile, the relay is
/// asked for a sign of life.
const PROBE_AFTER: Duration = Duration::from_secs(4);

/// Where the page listens for a reason to check the socket: see [`woken`].
const WAKE_EVENTS: [(Target, &str); 2] = [
    (Target::Window, "online"),
    (Target::Document, "visibilitychange"),
];

#[derive(Clone, Copy)]
enum Target {
    Window,
    Document,
}

impl Target {
    fn get(self) -> Option<web_sys::EventTarget> {
        let window = web_sys::window()?;
        match self {
            Target::Window => Some(window.into()),
            Target::Document => window.document().map(Into::into),
        }
    }
}

impl Socket {
    /// `away`: the relay has not answered yet and the app reads what the device keeps; the
    /// first time the socket opens is told as [`Notice::Back`].
    pub fn open(away: bool, on_notice: impl Fn(Notice) + 'static) -> Self {
        let inner = Rc::new(Inner {
            ws: RefCell::new(None),
            next_id: Cell::new(1),
            pending: RefCell::default(),
            queued: RefCell::default(),
            on_notice: Box::new(on_notice),
            handlers: RefCell::default(),
            on_wake: RefCell::default(),
            attempts: Cell::new(0),
            lost: Cell::new(away),
            frames_heard: Cell::new(0),
            watching: Cell::new(false),
            probing: RefCell::default(),
            silence_limit: Cell::new(PATIENCE),
        });
        connect(&inner);
        let on_wake = handler(&Rc::downgrade(&inner), woken);
        for (target, event) in WAKE_EVENTS {
            if let Some(target) = target.get() {
                let _ = target
                    .add_event_listener_with_callback(event, on_wake.as_ref().unchecked_ref());
            }
        }
        *inner.on_wake.borrow_mut() = Some(on_wake);
        Self { inner }
    }

    /// A request as [`Request`] serializes (a JSON object with its `op`); the frame is that
    /// object with the id in front, as [`protocol::ClientFrame`] has it.
    pub async fn request_json(&self, request: &str) -> Answer {
        let Some(fields) = request.strip_prefix('{') else {
            return Err(ErrorInfo::new(ErrorCode::BadRequest, "not a request"));
        };
        let inner = &self.inner;
        let (id, frame) = framed(inner, fields);
        let (reply, answer) = oneshot::channel();
        inner.pending.borrow_mut().insert(id, reply);
        if !sent(inner, &frame) {
            inner.queued.borrow_mut().push(frame);
        }
        answer.await.unwrap_or_else(|_| Err(lost()))
    }
}

/// The frame for a request's JSON fields (without the opening brace), with a new id in front,
/// as [`protocol::ClientFrame`] has it.
fn framed(inner: &Inner, fields: &str) -> (RequestId, String) {
    let id = inner.next_id.get();
    inner.next_id.set(id + 1);
    (id, format!("{{\"id\":{id},{fields}"))
}

/// Whether `frame` went out on an open socket; its answer is then watched for.
fn sent(inner: &Rc<Inner>, frame: &str) -> bool {
    let sent = open_socket(inner).is_some_and(|ws| ws.send_with_str(frame).is_ok());
    if sent {
        watch(inner);
    }
    sent
}

fn open_socket(inner: &Inner) -> Option<WebSocket> {
    inner
        .ws
        .borrow()
        .clone()
        .filter(|ws| ws.ready_state() == WebSocket::OPEN)
}

/// While requests wait for their answers: where nothing at all was heard on the socket for
/// [`PROBE_AFTER`], is it alive? A socket can die without a word (a phone between cells, a
/// router that forgot the connection), and its requests would wait for minutes.
fn watch(inner: &Rc<Inner>) {
    if inner.watching.replace(true) {
        return;
    }
    let heard = inner.frames_heard.get();
    after(inner, PROBE_AFTER, move |inner| {
        inner.watching.set(false);
        if inner.pending.borrow().is_empty() {
            return;
        }
        if inner.frames_heard.get() == heard {
            probe(inner);
        }
        watch(inner);
    });
}

/// Asks the relay for a sign of life. Where nothing at all is heard within the silence limit,
/// the socket is given up, so requests fall back to what the device keeps and a new socket is
/// tried.
fn probe(inner: &Rc<Inner>) {
    let Some(ws) = open_socket(inner) else {
        return;
    };
    if inner.probing.borrow().as_ref() == Some(&ws) {
        return;
    }
    let ping = serde_json::to_string(&Request::Ping).expect("serializes");
    let (_, frame) = framed(inner, &ping[1..]);
    let heard = inner.frames_heard.get();
    if !sent(inner, &frame) {
        return;
    }
    *inner.probing.borrow_mut() = Some(ws.clone());
    let limit = inner.silence_limit.get();
    after(inner, limit, move |inner| {
        if inner.probing.borrow().as_ref() == Some(&ws) {
            inner.probing.borrow_mut().take();
        }
        if inner.frames_heard.get() == heard && current(inner, &ws) {
            inner.silence_limit.set((limit * 2).min(MOST_PATIENCE));
            give_up(inner);
        }
    });
}

/// The network came back, or the page is shown again (a phone woken up, whose socket may have
/// died meanwhile): a socket that is down is tried at once rather than at the end of the
/// backoff, one that is open is checked. Not for a page that is hidden: it checks when shown.
fn woken(inner: &Rc<Inner>, event: web_sys::Event) {
    let hidden = web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden());
    if hidden && event.type_() == "visibilitychange" {
        return;
    }
    if inner.ws.borrow().is_some() {
        probe(inner);
    } else {
        inner.attempts.set(0);
        connect(inner);
    }
}

fn current(inner: &Inner, ws: &WebSocket) -> bool {
    inner.ws.borrow().as_ref() == Some(ws)
}

/// Gives the socket up at once: what waits on it fails now, not after a close handshake that a
/// dead link never finishes, and a new one is tried.
fn give_up(inner: &Rc<Inner>) {
    let Some(ws) = inner.ws.borrow_mut().take() else {
        return;
    };
    shut(&ws);
    dropped(inner);
}

/// Closes `ws` without hearing from it again.
fn shut(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
    let _ = ws.close();
}

/// The socket closed, or was given up.
fn dropped(inner: &Rc<Inner>) {
    // Every request waiting is told it failed, and the frames not sent yet go with them: they
    // must not go out later, after their sender heard they failed.
    inner.queued.borrow_mut().clear();
    for (_, waiting) in inner.pending.borrow_mut().drain() {
        let _ = waiting.send(Err(lost()));
    }
    // Told at every failed attempt, not only the first: the app checks each time whether the
    // session is still there (a relay that restarted comes back without it).
    inner.lost.set(true);
    (inner.on_notice)(Notice::Lost);
    schedule_reconnect(inner);
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(on_wake) = self.inner.on_wake.borrow().as_ref() {
            for (target, event) in WAKE_EVENTS {
                if let Some(target) = target.get() {
                    let _ = target.remove_event_listener_with_callback(
                        event,
                        on_wake.as_ref().unchecked_ref(),
                    );
                }
            }
        }
        if let Some(ws) = self.inner.ws.borrow_mut().take() {
            shut(&ws);
        }
    }
}

/// Opens the socket, unless there is one: opening, open, or closing, whose close then tries
/// again (a reconnect timer and [`woken`] may both ask).
fn connect(inner: &Rc<Inner>) {
    if inner.ws.borrow().is_some() {
        return;
    }
    let Some((ws, early)) = adopted().or_else(|| Some((WebSocket::new(&address()).ok()?, vec![])))
    else {
        schedule_reconnect(inner);
        return;
    };
    let weak = Rc::downgrade(inner);
    let on_open = handler(&weak, |inner, _| opened(inner));
    let on_message = handler(&weak, |inner, event| {
        inner.frames_heard.set(inner.frames_heard.get() + 1);
        if let Some(text) = event
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            heard(inner, &text);
        }
    });
    let on_close = handler(&weak, |inner, _| {
        // This socket's: no other is made while it is there (see above).
        inner.ws.borrow_mut().take();
        dropped(inner);
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *inner.handlers.borrow_mut() = vec![on_open, on_message, on_close];
    let open = ws.ready_state() == WebSocket::OPEN;
    *inner.ws.borrow_mut() = Some(ws.clone());
    if open {
        opened(inner);
    } else {
        after(inner, PATIENCE, move |inner| {
            if current(inner, &ws) && ws.ready_state() == WebSocket::CONNECTING {
                give_up(inner);
            }
        });
    }
    if early.is_empty() {
        return;
    }
    // Once the app holds the socket: an event may have it ask the relay at once.
    let weak = Rc::downgrade(inner);
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(inner) = weak.upgrade() {
            for text in early {
                heard(&inner, &text);
            }
        }
    });
}

/// The socket the page opened once someone was signed in (index.html, login.js), while the app
/// loaded, where it is open or opening; with the frames that came on it before the app's
/// handlers replace the page's (read in the same turn, so none comes in between). The page
/// hands it over once: later connects open their own.
fn adopted() -> Option<(WebSocket, Vec<String>)> {
    let ws: WebSocket = crate::page::taken("webmailSocket")?.dyn_into().ok()?;
    if !matches!(ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN) {
        return None;
    }
    let early = js_sys::Reflect::get(&ws, &"early".into())
        .ok()
        .and_then(|frames| frames.dyn_into::<js_sys::Array>().ok())
        .map(|frames| frames.iter().filter_map(|f| f.as_string()).collect())
        .unwrap_or_default();
    Some((ws, early))
}

/// The relay's socket, where the page came from.
fn address() -> String {
    let location = web_sys::window().expect("browser window").location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}{}", protocol::WS_PATH)
}

/// Connected: the frames written meanwhile go out.
fn opened(inner: &Rc<Inner>) {
    inner.attempts.set(0);
    let queued = std::mem::take(&mut *inner.queued.borrow_mut());
    for frame in queued {
        sent(inner, &frame);
    }
    if inner.lost.replace(false) {
        (inner.on_notice)(Notice::Back);
    }
}

/// A frame from the relay: an answer goes to its request, an event to the app.
fn heard(inner: &Rc<Inner>, text: &str) {
    match serde_json::from_str::<ServerFrame>(text) {
        Ok(ServerFrame::Response { id, body }) => answer(inner, id, Ok(body)),
        Ok(ServerFrame::Error {
            id: Some(id),
            error,
        }) => answer(inner, id, Err(error)),
        Ok(ServerFrame::Error { id: None, error }) => {
            web_sys::console::warn_1(&error.message.into());
        }
        Ok(ServerFrame::Event { event }) => (inner.on_notice)(Notice::Event(event)),
        Err(e) => web_sys::console::warn_1(&format!("unreadable frame: {e}").into()),
    }
}

/// Runs `act` once `delay` has passed, unless the socket is gone by then.
fn after(inner: &Rc<Inner>, delay: Duration, act: impl FnOnce(&Rc<Inner>) + 'static) {
    let weak = Rc::downgrade(inner);
    set_timeout(
        move || {
            if let Some(inner) = weak.upgrade() {
                act(&inner);
            }
        },
        delay,
    );
}

/// A handler that does nothing once the socket is gone.
fn handler(weak: &Weak<Inner>, act: impl Fn(&Rc<Inner>, web_sys::Event) + 'static) -> Handler {
    let weak = weak.clone();
    Closure::new(move |event| {
        if let Some(inner) = weak.upgrade() {
            act(&inner, event);
        }
    })
}

/// Tries again after 1, 2, 4, … up to 30 seconds.
fn schedule_reconnect(inner: &Rc<Inner>) {
    let attempts = inner.attempts.get();
    inner.attempts.set(attempts + 1);
    let delay = (1000 * 2u32.saturating_pow(attempts)).min(30_000);
    after(inner, Duration::from_millis(delay.into()), connect);
}

fn answer(inner: &Rc<Inner>, id: RequestId, result: Answer) {
    if let Some(waiting) = inner.pending.borrow_mut().remove(&id) {
        let _ = waiting.send(result);
    }
}

fn lost() -> ErrorInfo {
    ErrorInfo::new(ErrorCode::ServerUnreachable, "connection to the relay lost")
}
