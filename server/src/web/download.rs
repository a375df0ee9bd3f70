//! Attachments and whole messages (.eml) over HTTP. From IMAP they are streamed: the relay
//! fetches them in chunks over a connection of their own (so the session's IDLE and requests go
//! on), decodes each chunk and passes it on, never holding a download whole in memory. From the
//! relay's own store (POP3 accounts) they are read from the message file.

use std::{num::NonZeroU32, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use protocol::{ErrorCode, ErrorInfo};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::http;
use crate::{
    accounts::{
        imap::{account::Login, ImapConnection, ImapError},
        pop3::{account as pop3_account, collector},
        Source,
    },
    store::Store,
    Relay,
};

/// How much is fetched per round trip.
const CHUNK: u32 = 256 * 1024;
/// Types a browser may render when the user previews an attachment. Anything else (HTML, SVG,
/// scripts) is only ever a download, as opaque bytes.
use mime::PREVIEWABLE;

#[derive(Deserialize)]
pub struct PartQuery {
    folder: String,
    uid: u32,
    /// IMAP section; absent for the whole message.
    part: Option<String>,
    /// Show in the page (previewable images only) instead of downloading.
    #[serde(default)]
    inline: bool,
}

/// `GET /api/download?folder=INBOX&uid=7&part=2[&inline=true]`; without `part`, the message as .eml.
pub async fn download(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    Query(query): Query<PartQuery>,
) -> Response {
    let Some((_, session)) = http::current(&relay, &headers) else {
        return http::error(ErrorCode::NotLoggedIn, "not logged in");
    };
    let result = match session.source.as_ref() {
        Source::Imap(login) => from_imap(login, &query)
            .await
            .map_err(|e| ErrorInfo::new(e.code(), e.to_string())),
        Source::Store { store, user } => from_store(store, user, &query).await,
    };
    match result {
        Ok(response) => response,
        Err(e) => {
            tracing::info!(email = %session.email, error = %e.message, "download failed");
            http::error(e.code, e.message)
        }
    }
}

async fn from_store(
    store: &Arc<Store>,
    user: &str,
    query: &PartQuery,
) -> Result<Response, ErrorInfo> {
    let (user, folder, uid) = (user.to_owned(), query.folder.clone(), query.uid);
    let (_, raw) = collector::blocking(store, move |s| s.message(&user, &folder, uid))
        .await
        .map_err(pop3_account::error_info)?;
    let (mime_type, name, bytes) = match &query.part {
        Some(part) => {
            let (info, bytes) = mime::attachment(&raw, part).ok_or_else(|| {
                ErrorInfo::new(ErrorCode::BadRequest, format!("message has no part {part}"))
            })?;
            (info.mime_type, info.name, bytes)
        }
        None => (
            "message/rfc822".to_owned(),
            format!("message-{uid}.eml"),
            raw,
        ),
    };
    Ok(respond(&mime_type, &name, query.inline, Body::from(bytes)))
}

async fn from_imap(login: &Login, query: &PartQuery) -> Result<Response, ImapError> {
    let mut connection = login.connect().await?;
    let info = connection
        .prepare_download(&query.folder, query.uid, query.part.as_deref())
        .await?;
    let (mime_type, name, encoding) = match &info {
        Some(part) => (
            part.mime_type.as_str(),
            part.name
                .clone()
                .unwrap_or_else(|| format!("part-{}", part.part)),
            part.encoding.as_str(),
        ),
        None => (
            "message/rfc822",
            format!("message-{}.eml", query.uid),
            "8bit",
        ),
    };
    let (sender, chunks) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let uid = query.uid;
    let part = query.part.clone();
    let decoder = mime::StreamDecoder::new(encoding);
    tokio::spawn(pump(connection, uid, part, decoder, sender));
    let body = Body::from_stream(tokio_stream(chunks));
    Ok(respond(mime_type, &name, query.inline, body))
}

/// A download response: the type it is served as, attachment (or, for plain images asked for
/// inline, inline), and headers that keep the browser from running anything in it.
fn respond(mime_type: &str, name: &str, inline: bool, body: Body) -> Response {
    let previewable = PREVIEWABLE.contains(&mime_type);
    let content_type = served_type(mime_type);
    let disposition = if inline && previewable {
        "inline"
    } else {
        "attachment"
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(disposition, name),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Even opened directly, nothing in it runs.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// Fetches chunk after chunk until the part ends or the browser goes away.
async fn pump(
    mut connection: ImapConnection,
    uid: u32,
    part: Option<String>,
    mut decoder: mime::StreamDecoder,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let len = NonZeroU32::new(CHUNK).expect("not zero");
    let mut offset = 0u32;
    loop {
        let chunk = match connection
            .fetch_chunk(uid, part.as_deref(), offset, len)
            .await
        {
            Ok(chunk) => chunk,
            Err(e) => {
                tracing::info!(error = %e, "download broke off");
                let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                break;
            }
        };
        let end = chunk.len() < CHUNK as usize;
        offset = offset.saturating_add(chunk.len() as u32);
        let mut decoded = decoder.push(&chunk);
        if end {
            decoded.extend(decoder.finish());
        }
        if !decoded.is_empty() && sender.send(Ok(Bytes::from(decoded))).await.is_err() {
            break; // the browser closed the download
        }
        if end {
            break;
        }
    }
    connection.logout().await;
}

fn tokio_stream(
    mut chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| chunks.poll_recv(cx))
}

/// The type a download is served as: previewable images, PDF and .eml as they are, anything
/// else as opaque bytes.
fn served_type(content_type: &str) -> &'static str {
    PREVIEWABLE
        .iter()
        .chain(&["message/rfc822", "application/pdf"])
        .find(|t| **t == content_type)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(disposition: &str, name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .expect("only visible ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_names_are_safe_and_exact() {
        let value = content_disposition("attachment", "Bericht März \"final\".pdf");
        assert_eq!(
            value.to_str().unwrap(),
            "attachment; filename=\"Bericht M_rz _final_.pdf\"; filename*=UTF-8''Bericht%20M%C3%A4rz%20%22final%22.pdf"
        );
        assert!(content_disposition("attachment", "a\r\nSet-Cookie: x")
            .to_str()
            .unwrap()
            .contains("a__Set-Cookie"));
    }

    #[test]
    fn only_plain_images_are_previewable() {
        assert_eq!(served_type("image/png"), "image/png");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(served_type("text/html"), "application/octet-stream");
    }
}
