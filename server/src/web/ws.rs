//! The WebSocket: one task per browser tab, JSON frames from `protocol`.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{
        ws::{Message, WebSocket},
        State, WebSocketUpgrade,
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, ErrorCode, ErrorInfo, Event, Request, ServerFrame};
use tokio::sync::{broadcast, mpsc};

use super::{
    http, origin,
    session::{Session, SessionToken, Sessions},
};
use crate::Relay;

/// Requests are small but for a draft's text (a long reply quotes a long message); anything
/// larger is garbage or an attack. Attachments come by upload, never in a frame.
const MAX_FRAME: usize = 1024 * 1024;
/// What a socket reads at a time, and writes out once it has it.
const SOCKET_BUFFER: usize = 8 * 1024;
/// Requests one socket may have in flight at once; past that, each is answered `try_later`
/// at once, so one tab (or a script) cannot queue up unbounded work.
const MAX_IN_FLIGHT: usize = 32;
/// A page of the message list is capped so one request cannot make the relay fetch a whole folder.
const MAX_PAGE: u32 = 500;

pub async fn upgrade(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin::allowed(&headers, &relay.config, false) {
        tracing::warn!(origin = ?headers.get("origin"), "WebSocket from a foreign origin refused");
        return http::error(ErrorCode::BadRequest, "origin not allowed");
    }
    let Some((token, session)) = http::current(&relay, &headers) else {
        return http::error(ErrorCode::NotLoggedIn, "not logged in");
    };
    let sessions = Arc::clone(&relay.sessions);
    let silence = Duration::from_secs(relay.config.socket_timeout_seconds.max(1));
    // A message may come in fragments: each is bounded too, not only their sum. The buffers
    // are small (tungstenite's are 128 KiB each, allocated per socket): frames are small, and a
    // big one is read in more steps rather than held in memory by every idle socket.
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| serve(socket, sessions, token, session, silence))
}

async fn serve(
    socket: WebSocket,
    sessions: Arc<Sessions>,
    token: SessionToken,
    session: Arc<Session>,
    silence: Duration,
) {
    sessions.socket_opened(&session);
    let (mut sink, mut incoming) = socket.split();
    let (outgoing, mut queue) = mpsc::channel::<ServerFrame>(64);
    // Pings go out at a third of the allowed silence; a browser answers them by itself.
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + silence / 3, silence / 3);
    let writer = tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                frame = queue.recv() => match frame {
                    Some(frame) => Message::Text(
                        serde_json::to_string(&frame).expect("protocol types serialize").into(),
                    ),
                    None => break,
                },
                _ = ping.tick() => Message::Ping(Vec::new().into()),
            };
            if sink.send(message).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut heard = tokio::time::Instant::now();

    let (missed, mut events) = session.subscribe();
    for event in missed {
        let _ = outgoing.send(ServerFrame::Event { event }).await;
    }
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(heard + silence) => {
                tracing::info!(email = %session.email, "socket silent too long; closed");
                break;
            }
            message = incoming.next() => {
                // Anything heard, a pong included, shows the browser is there.
                heard = tokio::time::Instant::now();
                match message {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientFrame>(&text) {
                    // Each request runs on its own so a slow one does not hold up the socket.
                    Ok(frame) => match Arc::clone(&in_flight).try_acquire_owned() {
                        Ok(permit) => {
                            let (session, outgoing) = (Arc::clone(&session), outgoing.clone());
                            tokio::spawn(async move {
                                answer(frame, session, outgoing).await;
                                drop(permit);
                            });
                        }
                        Err(_) => {
                            let error = ErrorInfo::new(
                                ErrorCode::TryLater,
                                "too many requests at once on this connection",
                            );
                            let _ = outgoing.send(ServerFrame::Error { id: Some(frame.id), error }).await;
                        }
                    },
                    Err(e) => {
                        let error = ErrorInfo::new(ErrorCode::BadRequest, format!("unreadable frame: {e}"));
                        let _ = outgoing.send(ServerFrame::Error { id: None, error }).await;
                    }
                },
                Some(Ok(Message::Binary(_))) => {
                    let error = ErrorInfo::new(ErrorCode::BadRequest, "frames are JSON text");
                    let _ = outgoing.send(ServerFrame::Error { id: None, error }).await;
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {} // ping/pong: axum answers pings itself
            }},
            event = events.recv() => match event {
                Ok(event) => {
                    let ends = event == Event::LoggedOut;
                    let _ = outgoing.send(ServerFrame::Event { event }).await;
                    if ends {
                        break;
                    }
                }
                // Events were lost (a socket too slow to take them): deltas no longer apply, so
                // the app loads what it shows again, as after a reconnect.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = outgoing.send(ServerFrame::Event { event: Event::Reconnected }).await;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    drop(outgoing);
    let _ = writer.await;
    sessions.socket_closed(&token, &session);
}

async fn answer(frame: ClientFrame, session: Arc<Session>, outgoing: mpsc::Sender<ServerFrame>) {
    let id = frame.id;
    let mut request = frame.request;
    if let Request::ListMessages { limit, .. } = &mut request {
        *limit = (*limit).min(MAX_PAGE);
    }
    let reply = match session.request(request).await {
        Ok(body) => ServerFrame::Response { id, body },
        Err(error) => {
            tracing::info!(email = %session.email, error = %error.message, "request failed");
            ServerFrame::Error {
                id: Some(id),
                error,
            }
        }
    };
    let _ = outgoing.send(reply).await;
}
