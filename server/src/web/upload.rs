//! `POST /api/upload?name=&type=`: one attachment for a message being written, streamed to the
//! user's uploads. Same checks as every browser request that changes something: the session
//! cookie and the page's `Origin`. A `Content-Length` over the limit is refused before a byte is
//! read; a body that grows past it is cut off.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use protocol::ErrorCode;
use serde::Deserialize;

use super::{http, origin};
use crate::{send::uploads::UploadError, Relay};

#[derive(Deserialize)]
pub struct UploadQuery {
    name: String,
    #[serde(rename = "type", default)]
    mime_type: String,
}

pub async fn upload(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Response {
    if !origin::allowed(&headers, &relay.config, false) {
        return http::error(ErrorCode::BadRequest, "this page may not upload here");
    }
    let Some((_, session)) = http::current(&relay, &headers) else {
        return http::error(ErrorCode::NotLoggedIn, "not logged in");
    };
    let Some(sender) = &relay.sender else {
        return http::error(ErrorCode::NotOffered, "this relay does not send mail");
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|size| size > sender.uploads.limit()) {
        return http::error(
            ErrorCode::TooBig,
            UploadError::TooBig {
                limit: sender.uploads.limit(),
            }
            .to_string(),
        );
    }
    let mime_type = if query.mime_type.trim().is_empty() {
        "application/octet-stream"
    } else {
        query.mime_type.trim()
    };
    let received = sender
        .uploads
        .receive(
            &session.email,
            query.name.trim(),
            mime_type,
            body.into_data_stream(),
        )
        .await;
    match received {
        Ok(upload) => Json(upload).into_response(),
        Err(e) => {
            tracing::info!(email = %session.email, error = %e, "upload refused");
            let code = match e {
                UploadError::TooBig { .. } | UploadError::OverQuota { .. } => ErrorCode::TooBig,
                UploadError::BrokenOff(_) => ErrorCode::BadRequest,
                UploadError::NotFound | UploadError::Io(_) => ErrorCode::Internal,
            };
            http::error(code, e.to_string())
        }
    }
}
