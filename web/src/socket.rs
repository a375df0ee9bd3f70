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
use protocol::{ErrorCode, ErrorInfo, Event, RequestId, Response, ServerFrame};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{MessageEvent, WebSocket};

type Answer = Result<Response, ErrorInfo>;
type Handler = Closure<dyn FnMut(web_sys::Event)>;

/// What the socket reports besides answers.
pub enum Notice {
    Event(Event),
    /// The connection dropped, or an attempt to connect again failed; pending requests have
    /// failed; reconnecting.
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
    on_online: RefCell<Option<Handler>>,
    /// Reconnect attempts since the last successful open.
    attempts: Cell<u32>,
    lost: Cell<bool>,
}

/// How long a socket may take to open. A link that hangs (a phone between cells, a captive
/// portal) would keep it opening for minutes, and every request behind it: after this, it is
/// given up as if it had dropped, and tried again.
const PATIENCE: Duration = Duration::from_secs(8);

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
            on_online: RefCell::default(),
            attempts: Cell::new(0),
            lost: Cell::new(away),
        });
        connect(&inner);
        // A phone back on the network: try at once rather than at the end of the backoff.
        let weak = Rc::downgrade(&inner);
        let on_online = handler(&weak, |inner, _| {
            inner.attempts.set(0);
            connect(inner);
        });
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        }
        *inner.on_online.borrow_mut() = Some(on_online);
        Self { inner }
    }

    /// A request as [`Request`] serializes (a JSON object with its `op`); the frame is that
    /// object with the id in front, as [`protocol::ClientFrame`] has it.
    pub async fn request_json(&self, request: &str) -> Answer {
        let Some(fields) = request.strip_prefix('{') else {
            return Err(ErrorInfo::new(ErrorCode::BadRequest, "not a request"));
        };
        let inner = &self.inner;
        let id = inner.next_id.get();
        inner.next_id.set(id + 1);
        let frame = format!("{{\"id\":{id},{fields}");
        let (reply, answer) = oneshot::channel();
        inner.pending.borrow_mut().insert(id, reply);
        let open = inner
            .ws
            .borrow()
            .as_ref()
            .filter(|ws| ws.ready_state() == WebSocket::OPEN)
            .map(|ws| ws.send_with_str(&frame).is_ok())
            .unwrap_or(false);
        if !open {
            inner.queued.borrow_mut().push(frame);
        }
        answer.await.unwrap_or_else(|_| Err(lost()))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let (Some(window), Some(on_online)) =
            (web_sys::window(), self.inner.on_online.borrow().as_ref())
        {
            let _ = window
                .remove_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        }
        if let Some(ws) = self.inner.ws.borrow_mut().take() {
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }
}

/// Opens the socket, unless one is open or opening (a reconnect timer and the `online` event
/// may both ask).
fn connect(inner: &Rc<Inner>) {
    let busy = inner
        .ws
        .borrow()
        .as_ref()
        .is_some_and(|ws| matches!(ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN));
    if busy {
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
        if let Some(text) = event
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            heard(inner, &text);
        }
    });
    let on_close = handler(&weak, |inner, _| {
        // Every request waiting is told it failed, and the frames not sent yet go with them:
        // they must not go out later, after their sender heard they failed.
        inner.queued.borrow_mut().clear();
        for (_, waiting) in inner.pending.borrow_mut().drain() {
            let _ = waiting.send(Err(lost()));
        }
        // Told at every failed attempt, not only the first: the app checks each time whether
        // the session is still there (a relay that restarted comes back without it).
        inner.lost.set(true);
        (inner.on_notice)(Notice::Lost);
        schedule_reconnect(inner);
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
        // Closing a socket still opening fails it: `on_close` above takes it from there.
        set_timeout(
            move || {
                if ws.ready_state() == WebSocket::CONNECTING {
                    let _ = ws.close();
                }
            },
            PATIENCE,
        );
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
    if let Some(ws) = inner.ws.borrow().as_ref() {
        for frame in inner.queued.borrow_mut().drain(..) {
            let _ = ws.send_with_str(&frame);
        }
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
    let weak = Rc::downgrade(inner);
    set_timeout(
        move || {
            if let Some(inner) = weak.upgrade() {
                connect(&inner);
            }
        },
        Duration::from_millis(delay.into()),
    );
}

fn answer(inner: &Rc<Inner>, id: RequestId, result: Answer) {
    if let Some(waiting) = inner.pending.borrow_mut().remove(&id) {
        let _ = waiting.send(result);
    }
}

fn lost() -> ErrorInfo {
    ErrorInfo::new(ErrorCode::ServerUnreachable, "connection to the relay lost")
}
