//! The WebSocket half of the protocol: requests with ids, answers matched back to them, and
//! events handed to a callback.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
};

use futures_channel::oneshot;
use protocol::{
    ClientFrame, ErrorCode, ErrorInfo, Event, Request, RequestId, Response, ServerFrame,
};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{MessageEvent, WebSocket};

type Answer = Result<Response, ErrorInfo>;

/// What the socket reports besides answers.
pub enum Notice {
    Event(Event),
    /// The connection is gone; pending requests have failed.
    Closed,
}

pub struct Socket {
    ws: WebSocket,
    next_id: Cell<RequestId>,
    pending: Rc<RefCell<HashMap<RequestId, oneshot::Sender<Answer>>>>,
    /// Frames written before the socket opened.
    queued: Rc<RefCell<Vec<String>>>,
    _handlers: [Closure<dyn FnMut(web_sys::Event)>; 3],
}

impl Socket {
    pub fn open(on_notice: impl Fn(Notice) + 'static) -> Result<Rc<Self>, ErrorInfo> {
        let location = web_sys::window().expect("browser window").location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location.host().unwrap_or_default();
        let ws = WebSocket::new(&format!("{scheme}://{host}{}", protocol::WS_PATH))
            .map_err(|_| ErrorInfo::new(ErrorCode::ServerUnreachable, "cannot open WebSocket"))?;

        let pending: Rc<RefCell<HashMap<RequestId, oneshot::Sender<Answer>>>> = Rc::default();
        let queued: Rc<RefCell<Vec<String>>> = Rc::default();
        let on_notice = Rc::new(on_notice);

        let on_open = {
            let (ws, queued) = (ws.clone(), Rc::clone(&queued));
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                for frame in queued.borrow_mut().drain(..) {
                    let _ = ws.send_with_str(&frame);
                }
            })
        };
        let on_message = {
            let (pending, on_notice) = (Rc::clone(&pending), Rc::clone(&on_notice));
            Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                let Some(text) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                match serde_json::from_str::<ServerFrame>(&text) {
                    Ok(ServerFrame::Response { id, body }) => answer(&pending, id, Ok(body)),
                    Ok(ServerFrame::Error {
                        id: Some(id),
                        error,
                    }) => answer(&pending, id, Err(error)),
                    Ok(ServerFrame::Error { id: None, error }) => {
                        web_sys::console::warn_1(&error.message.into());
                    }
                    Ok(ServerFrame::Event { event }) => on_notice(Notice::Event(event)),
                    Err(e) => web_sys::console::warn_1(&format!("unreadable frame: {e}").into()),
                }
            })
        };
        let on_close = {
            let (pending, on_notice) = (Rc::clone(&pending), Rc::clone(&on_notice));
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                for (_, waiting) in pending.borrow_mut().drain() {
                    let _ = waiting.send(Err(lost()));
                }
                on_notice(Notice::Closed);
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));

        Ok(Rc::new(Self {
            ws,
            next_id: Cell::new(1),
            pending,
            queued,
            _handlers: [on_open, on_message, on_close],
        }))
    }

    pub async fn request(&self, request: Request) -> Answer {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let frame = serde_json::to_string(&ClientFrame { id, request }).expect("serializes");
        let (reply, answer) = oneshot::channel();
        self.pending.borrow_mut().insert(id, reply);
        match self.ws.ready_state() {
            WebSocket::CONNECTING => self.queued.borrow_mut().push(frame),
            WebSocket::OPEN => {
                let _ = self.ws.send_with_str(&frame);
            }
            _ => return Err(lost()),
        }
        answer.await.unwrap_or_else(|_| Err(lost()))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

fn answer(
    pending: &RefCell<HashMap<RequestId, oneshot::Sender<Answer>>>,
    id: RequestId,
    result: Answer,
) {
    if let Some(waiting) = pending.borrow_mut().remove(&id) {
        let _ = waiting.send(result);
    }
}

fn lost() -> ErrorInfo {
    ErrorInfo::new(ErrorCode::ServerUnreachable, "connection to the relay lost")
}
