//! Logging in and out over HTTP, and the session cookie.

use std::sync::Arc;

use axum::{
    extract::{rejection::JsonRejection, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use protocol::{ErrorCode, ErrorInfo, LoginRequest, SessionInfo};

use zeroize::Zeroizing;

use crate::{
    account::Login,
    origin,
    session::{Session, SessionToken},
    Relay,
};

const COOKIE: &str = "webmail_session";

pub async fn login(
    State(relay): State<Arc<Relay>>,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Response {
    if !origin::allowed(&headers, &relay.config.extra_origins, true) {
        return error(ErrorCode::BadRequest, "this page may not log in here");
    }
    let Ok(Json(request)) = body else {
        return error(
            ErrorCode::BadRequest,
            "expected JSON with email and password",
        );
    };
    let email = request.email.trim();
    if email.is_empty() || request.password.is_empty() {
        return error(
            ErrorCode::AuthFailed,
            "enter your e-mail address and password",
        );
    }
    if email.chars().any(char::is_control) || request.password.contains(['\r', '\n', '\0']) {
        return error(ErrorCode::AuthFailed, "wrong e-mail or password");
    }
    let login = Login {
        server: relay.config.imap.clone(),
        tls: relay.imap_tls.clone(),
        user: email.to_owned(),
        password: Zeroizing::new(request.password),
    };
    let connection = match login.connect().await {
        Ok(connection) => connection,
        Err(e) => {
            tracing::info!(%email, error = %e, "login failed");
            return error(e.code(), e.to_string());
        }
    };
    tracing::info!(%email, "logged in");
    let token = relay.sessions.start(connection, login);
    let cookie = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}",
        token.as_str(),
        if served_over_tls(&headers) {
            "; Secure"
        } else {
            ""
        }
    );
    (
        [(header::SET_COOKIE, cookie)],
        Json(SessionInfo {
            email: email.to_owned(),
        }),
    )
        .into_response()
}

pub async fn logout(State(relay): State<Arc<Relay>>, headers: HeaderMap) -> Response {
    if !origin::allowed(&headers, &relay.config.extra_origins, true) {
        return error(ErrorCode::BadRequest, "this page may not log out here");
    }
    if let Some(token) = token(&headers) {
        relay.sessions.end(&token);
    }
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response()
}

pub async fn session(State(relay): State<Arc<Relay>>, headers: HeaderMap) -> Response {
    match current(&relay, &headers) {
        Some((_, session)) => Json(SessionInfo {
            email: session.email.clone(),
        })
        .into_response(),
        None => error(ErrorCode::NotLoggedIn, "not logged in"),
    }
}

/// The live session the request's cookie names, if any.
pub fn current(relay: &Relay, headers: &HeaderMap) -> Option<(SessionToken, Arc<Session>)> {
    let token = token(headers)?;
    let session = relay.sessions.get(&token)?;
    Some((token, session))
}

fn token(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .map(SessionToken::from_cookie_value)
}

/// The relay speaks plain HTTP; behind a TLS-terminating proxy the proxy says so.
fn served_over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto") == Some(&HeaderValue::from_static("https"))
}

/// An error as JSON, with the HTTP status that fits its code.
pub fn error(code: ErrorCode, message: impl Into<String>) -> Response {
    let status = match code {
        ErrorCode::AuthFailed | ErrorCode::NotLoggedIn => StatusCode::UNAUTHORIZED,
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NoSuchFolder | ErrorCode::NoSuchMessage => StatusCode::NOT_FOUND,
        ErrorCode::FolderExists => StatusCode::CONFLICT,
        ErrorCode::OverQuota => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::ServerUnreachable
        | ErrorCode::CertificateNotTrusted
        | ErrorCode::ServerProtocol
        | ErrorCode::ServerRefused => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal | ErrorCode::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Json(ErrorInfo::new(code, message))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; webmail_session=abc123; x=y".parse().unwrap(),
        );
        assert_eq!(token(&headers).unwrap().as_str(), "abc123");
        headers.insert(header::COOKIE, "webmail_sessionX=1".parse().unwrap());
        assert!(token(&headers).is_none());
    }
}
