//! The relay's protocol from a test: log in over HTTP, then requests and events over the
//! WebSocket, as raw JSON so the tests see exactly what a browser would.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};

use crate::relay::RunningRelay;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One logged-in browser tab, in JSON.
pub struct Client {
    ws: Ws,
    next_id: u64,
    /// Events that arrived while waiting for an answer.
    events: Vec<Value>,
    pub cookie: String,
}

impl Client {
    /// Logs in and opens the socket; panics with the relay's answer if either fails.
    pub async fn login(relay: &RunningRelay, email: &str, password: &str) -> Self {
        Self::login_as(relay, email, password, "imap").await
    }

    /// Logs in to an account of `kind` (`imap` or `pop3`).
    pub async fn login_as(relay: &RunningRelay, email: &str, password: &str, kind: &str) -> Self {
        let (status, cookie, body) = relay.login_as(email, password, kind).await;
        assert_eq!(status, 200, "login failed: {body}");
        Self::resume(relay, &cookie.expect("a session cookie")).await
    }

    /// Opens a socket for an existing session, as a reloaded tab does.
    pub async fn resume(relay: &RunningRelay, cookie: &str) -> Self {
        let cookie = cookie.to_owned();
        let url = format!("ws://{}/ws", relay.addr);
        let (ws, _) = ws_connect(&url, Some(&relay.url()), Some(&cookie))
            .await
            .expect("socket opens");
        Self {
            ws,
            next_id: 1,
            events: Vec::new(),
            cookie,
        }
    }

    /// Sends `request` (an object with `op`) and returns the whole answer frame.
    pub async fn call(&mut self, mut request: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        request["id"] = json!(id);
        self.ws
            .send(Message::text(request.to_string()))
            .await
            .expect("socket open");
        loop {
            let frame = next_frame(&mut self.ws, Duration::from_secs(30)).await;
            match frame["type"].as_str() {
                Some("event") => self.events.push(frame),
                _ if frame["id"] == json!(id) => return frame,
                _ => panic!("unexpected frame {frame}"),
            }
        }
    }

    /// The answer body of a request that must succeed.
    pub async fn ok(&mut self, request: Value) -> Value {
        let frame = self.call(request.clone()).await;
        assert_eq!(frame["type"], "response", "{request} failed: {frame}");
        frame["body"].clone()
    }

    /// The error code of a request that must fail.
    pub async fn error_code(&mut self, request: Value) -> String {
        let frame = self.call(request.clone()).await;
        assert_eq!(frame["type"], "error", "{request} should fail: {frame}");
        frame["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits up to `within` for an event matching `accept`; returns it. Earlier events that do
    /// not match are dropped.
    pub async fn event(&mut self, within: Duration, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.events.iter().position(|e| accept(&e["event"])) {
            let event = self.events.remove(i)["event"].clone();
            self.events.drain(..i);
            return event;
        }
        self.events.clear();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "no matching event within {within:?}");
            let frame = match tokio::time::timeout(left, next_text(&mut self.ws)).await {
                Ok(Some(Ok(message))) => parse(message),
                Ok(other) => panic!("socket ended: {other:?}"),
                Err(_) => panic!("no matching event within {within:?}"),
            };
            if frame["type"] == "event" && accept(&frame["event"]) {
                return frame["event"].clone();
            }
        }
    }

    /// Waits for the relay to say it lost its mail-server connection (within 5 s) and that it
    /// has it back (within 10 s more).
    pub async fn lost_and_back(&mut self) {
        self.event(Duration::from_secs(5), |e| e["kind"] == "reconnecting")
            .await;
        self.event(Duration::from_secs(10), |e| e["kind"] == "reconnected")
            .await;
    }

    /// The events that arrived while waiting for answers, oldest first.
    pub fn take_events(&mut self) -> Vec<Value> {
        self.events
            .drain(..)
            .map(|frame| frame["event"].clone())
            .collect()
    }

    /// Sends a raw text frame: garbage, or a request whose answer is not waited for.
    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::text(text))
            .await
            .expect("socket open");
    }

    /// The next frame, whatever it is.
    pub async fn next_frame(&mut self) -> Value {
        next_frame(&mut self.ws, Duration::from_secs(10)).await
    }

    /// Reads (and so answers the relay's pings) for up to `within`; the frame, if one came.
    pub async fn next_frame_within(&mut self, within: Duration) -> Option<Value> {
        match tokio::time::timeout(within, next_text(&mut self.ws)).await {
            Ok(Some(Ok(message))) => Some(parse(message)),
            _ => None,
        }
    }
}

/// A `folder_changed` event for `folder`.
/// News of a folder's counts: its new counts alone (`folder_changed`), or with its rows
/// (`folder_delta`, for the folder the relay has open).
pub fn folder_changed(folder: &'static str) -> impl Fn(&Value) -> bool {
    move |e| is_folder_news(e) && e["folder"] == folder
}

pub fn is_folder_news(event: &Value) -> bool {
    event["kind"] == "folder_changed" || event["kind"] == "folder_delta"
}

pub async fn ws_connect(
    url: &str,
    origin: Option<&str>,
    cookie: Option<&str>,
) -> Result<(Ws, tungstenite::handshake::client::Response), tungstenite::Error> {
    let mut request = url.into_client_request().expect("valid URL");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", origin.parse().expect("header value"));
    }
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("Cookie", cookie.parse().expect("header value"));
    }
    tokio_tungstenite::connect_async(request).await
}

/// The next data frame; pings are answered on the way (by reading on), as a browser does.
async fn next_text(ws: &mut Ws) -> Option<Result<Message, tungstenite::Error>> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => return other,
        }
    }
}

async fn next_frame(ws: &mut Ws, within: Duration) -> Value {
    let message = tokio::time::timeout(within, next_text(ws))
        .await
        .unwrap_or_else(|_| panic!("no frame within {within:?}"))
        .expect("socket open")
        .expect("readable frame");
    parse(message)
}

fn parse(message: Message) -> Value {
    serde_json::from_str(message.to_text().expect("text frame")).expect("JSON")
}

/// The subjects of a `message_list` answer, in order.
pub fn subjects(list: &Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
