//! Logging in and out over HTTP, and the session cookie.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use protocol::{AccountKind, ErrorCode, ErrorInfo, LoginRequest, ServerInfo, SessionInfo};
use secret::{Secret, SecretBytes};

use super::{
    origin,
    session::{self, Session, SessionToken},
};
use crate::{
    accounts::{
        imap::account::Login,
        pop3::{
            account::Pop3Account,
            collector::{self, Keep, Policy, Pop3Login},
        },
    },
    Relay,
};

/// The session cookie's name. Over https (a `public_url`) its `__Host-` prefix makes browsers
/// take it only with `Secure`, for the whole site, from this very host: no other name under
/// the same domain can plant or shadow it.
fn cookie_name(relay: &Relay) -> &'static str {
    if secure(relay) {
        "__Host-webmail_session"
    } else {
        "webmail_session"
    }
}

/// Whether the relay is reached over https: its `public_url` says so.
fn secure(relay: &Relay) -> bool {
    relay
        .config
        .public_url
        .as_ref()
        .is_some_and(|p| p.is_https())
}

/// Longest e-mail address (RFC 5321) and password the login form takes.
const MAX_EMAIL: usize = 254;
const MAX_PASSWORD: usize = 1024;

pub async fn login(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !origin::allowed(&headers, &relay.config, true) {
        return error(ErrorCode::BadRequest, "this page may not log in here");
    }
    let Some((request, password)) = read_login(&headers, body) else {
        return error(
            ErrorCode::BadRequest,
            "expected JSON with email and password",
        );
    };
    let email = request.email.trim();
    if email.is_empty() || password.is_empty() {
        return error(
            ErrorCode::AuthFailed,
            "enter your e-mail address and password",
        );
    }
    if email.len() > MAX_EMAIL
        || password.len() > MAX_PASSWORD
        || email.chars().any(char::is_control)
        || password.expose().contains(['\r', '\n', '\0'])
    {
        return error(ErrorCode::AuthFailed, "wrong e-mail or password");
    }
    let client = client_address(&relay.config, peer.ip(), &headers);
    let permit = match relay.throttle.admit(client, email).await {
        Ok(permit) => permit,
        Err(wait) => {
            tracing::info!(%client, %email, ?wait, "login held back after failed attempts");
            return error(
                ErrorCode::TryLater,
                format!(
                    "too many failed logins; try again in {} seconds",
                    wait.as_secs().max(1)
                ),
            );
        }
    };
    let token = match request.kind {
        AccountKind::Imap => login_imap(&relay, email, password, client).await,
        AccountKind::Pop3 => login_pop3(&relay, email, password, client).await,
    };
    drop(permit);
    let token = match token {
        Ok(token) => {
            relay.throttle.succeeded(client, email);
            token
        }
        Err(e) => {
            if e.code == ErrorCode::AuthFailed {
                relay.throttle.failed(client, email);
            }
            tracing::info!(%client, %email, kind = ?request.kind, error = %e.message, "login failed");
            return error(e.code, e.message);
        }
    };
    tracing::info!(%client, %email, kind = ?request.kind, "logged in");
    let Some(session) = relay.sessions.get(&token) else {
        return error(ErrorCode::NotLoggedIn, "the session ended at once");
    };
    let mut info = session_info(&relay, &session);
    // What the outbox held for this user when the relay last stopped: filed now, with the
    // user's login at hand.
    if let Some(sender) = &relay.sender {
        info.returned_to_drafts = sender
            .outbox
            .settle_leftovers(&session.email, &session.source)
            .await;
    }
    let cookie = session_cookie(&relay, &headers, Some(&token));
    ([(header::SET_COOKIE, cookie)], Json(info)).into_response()
}

/// The login form (JSON; a form post from another site cannot send that type). The body is
/// wiped once read, and the password moves into a [`Secret`] without another copy.
fn read_login(headers: &HeaderMap, body: Bytes) -> Option<(LoginRequest, Secret)> {
    let body = SecretBytes::from(Vec::from(body));
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return None;
    }
    let mut request: LoginRequest = serde_json::from_slice(&body).ok()?;
    let password = Secret::new(std::mem::take(&mut request.password));
    Some((request, password))
}

async fn login_imap(
    relay: &Relay,
    email: &str,
    password: Secret,
    client: IpAddr,
) -> Result<SessionToken, ErrorInfo> {
    let (Some(server), Some(tls)) = (&relay.config.imap, &relay.imap_tls) else {
        return Err(not_offered("IMAP"));
    };
    let login = Login {
        server: server.clone(),
        tls: tls.clone(),
        user: email.to_owned(),
        password,
        inline: relay.config.inline_limits(),
        client: Some(client),
    };
    let connection = login
        .connect()
        .await
        .map_err(|e| ErrorInfo::new(e.code(), e.to_string()))?;
    Ok(relay
        .sessions
        .start_imap(connection, login, relay.sender.clone()))
}

async fn login_pop3(
    relay: &Relay,
    email: &str,
    password: Secret,
    client: IpAddr,
) -> Result<SessionToken, ErrorInfo> {
    let (Some(config), Some(tls), Some(store)) =
        (&relay.config.pop3, &relay.pop3_tls, &relay.store)
    else {
        return Err(not_offered("POP3"));
    };
    let login = Pop3Login {
        server: config.server(),
        tls: tls.clone(),
        user: email.to_owned(),
        password,
        client: Some(client),
    };
    collector::check_login(&login)
        .await
        .map_err(|e| ErrorInfo::new(e.code(), e.to_string()))?;
    let user = email.to_owned();
    collector::blocking(store, move |s| s.ensure_user(&user))
        .await
        .map_err(crate::accounts::pop3::account::error_info)?;
    let (events, _) = session::events();
    let account = Pop3Account {
        last_collected: Arc::default(),
        lists: Arc::default(),
        login: Arc::new(login),
        store: Arc::clone(store),
        policy: Policy {
            keep: if config.delete_after_download {
                Keep::Nothing
            } else {
                Keep::Days(config.keep_days)
            },
            max_message: config.max_message_mb.saturating_mul(1_000_000),
            quota: (config.quota_mb > 0).then(|| config.quota_mb.saturating_mul(1_000_000)),
        },
        every: Duration::from_secs(config.collect_every_minutes.max(1) * 60),
        inline: relay.config.inline_limits(),
        events,
        writer: None,
    };
    Ok(relay.sessions.start_pop3(account, relay.sender.clone()))
}

fn not_offered(what: &str) -> ErrorInfo {
    ErrorInfo::new(
        ErrorCode::NotOffered,
        format!("this webmail does not offer {what}"),
    )
}

/// What the login form offers.
pub async fn server_info(State(relay): State<Arc<Relay>>) -> Json<ServerInfo> {
    let mut account_kinds = Vec::new();
    if relay.config.imap.is_some() {
        account_kinds.push(AccountKind::Imap);
    }
    if relay.config.pop3.is_some() {
        account_kinds.push(AccountKind::Pop3);
    }
    Json(ServerInfo { account_kinds })
}

pub async fn logout(State(relay): State<Arc<Relay>>, headers: HeaderMap) -> Response {
    if !origin::allowed(&headers, &relay.config, true) {
        return error(ErrorCode::BadRequest, "this page may not log out here");
    }
    if let Some(token) = token(&relay, &headers) {
        relay.sessions.end(&token);
    }
    signed_out(&relay, &headers)
}

/// `204` with the session cookie cleared.
fn signed_out(relay: &Relay, headers: &HeaderMap) -> Response {
    let clear = session_cookie(relay, headers, None);
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response()
}

/// The `Set-Cookie` value that gives the browser `token`, or with `None` takes it away.
fn session_cookie(relay: &Relay, headers: &HeaderMap, token: Option<&SessionToken>) -> String {
    let (value, expiry) = match token {
        Some(token) => (token.as_str(), ""),
        None => ("", "; Max-Age=0"),
    };
    // Without a public_url, a proxy's word is all there is to go by.
    let secure = if secure(relay) || served_over_tls(headers) {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict{expiry}{secure}",
        cookie_name(relay)
    )
}

/// Signs the user out on every device: every session of theirs ends, this one too.
pub async fn logout_everywhere(State(relay): State<Arc<Relay>>, headers: HeaderMap) -> Response {
    if !origin::allowed(&headers, &relay.config, false) {
        return error(ErrorCode::BadRequest, "this page may not log out here");
    }
    let Some((_, session)) = current(&relay, &headers) else {
        return error(ErrorCode::NotLoggedIn, "not logged in");
    };
    let ended = relay.sessions.end_all_of(&session.email);
    tracing::info!(email = %session.email, ended, "signed out everywhere");
    signed_out(&relay, &headers)
}

pub async fn session(State(relay): State<Arc<Relay>>, headers: HeaderMap) -> Response {
    match current(&relay, &headers) {
        Some((_, session)) => Json(session_info(&relay, &session)).into_response(),
        None => error(ErrorCode::NotLoggedIn, "not logged in"),
    }
}

fn session_info(relay: &Relay, session: &Session) -> SessionInfo {
    SessionInfo {
        email: session.email.clone(),
        kind: session.source.kind(),
        sending: relay.sender.as_ref().and_then(|s| s.offer(&session.email)),
        returned_to_drafts: Vec::new(),
    }
}

/// The live session the request's cookie names, if any.
pub fn current(relay: &Relay, headers: &HeaderMap) -> Option<(SessionToken, Arc<Session>)> {
    let token = token(relay, headers)?;
    let session = relay.sessions.get(&token)?;
    Some((token, session))
}

fn token(relay: &Relay, headers: &HeaderMap) -> Option<SessionToken> {
    find_cookie(headers, cookie_name(relay))
}

fn find_cookie(headers: &HeaderMap, name: &str) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .map(SessionToken::from_cookie_value)
}

/// Who is logging in: the peer, or where the peer is a trusted proxy, the address it appended
/// last to `X-Forwarded-For` (what came before it is the browser's word, and may be forged).
fn client_address(config: &crate::config::Config, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !config.trusted_proxies.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
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
        ErrorCode::NoSuchFolder | ErrorCode::NoSuchMessage | ErrorCode::NotOffered => {
            StatusCode::NOT_FOUND
        }
        ErrorCode::TryLater => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::FolderExists => StatusCode::CONFLICT,
        ErrorCode::OverQuota => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::TooBig => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::InvalidMessage => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RecipientRejected => StatusCode::BAD_GATEWAY,
        ErrorCode::ServerUnreachable
        | ErrorCode::CertificateNotTrusted
        | ErrorCode::ServerProtocol
        | ErrorCode::ServerRefused => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal | ErrorCode::NotKept | ErrorCode::Unknown => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
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
        assert_eq!(
            find_cookie(&headers, "webmail_session").unwrap().as_str(),
            "abc123"
        );
        headers.insert(header::COOKIE, "webmail_sessionX=1".parse().unwrap());
        assert!(find_cookie(&headers, "webmail_session").is_none());
    }
}
