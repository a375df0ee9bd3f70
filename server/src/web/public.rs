//! The relay's public address (`public_url = "https://mail.example.org"`), where a reverse
//! proxy serves it. With one, nothing about where a request comes from is taken from what the
//! request says: pages must come from that origin (scheme, host and port), requests must name
//! that host, the session cookie is `Secure` and `__Host-` prefixed when it is https, and
//! browsers are told to use https only (HSTS). Without one (the loopback demo), a page must come
//! from the host and port the request names.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::Relay;

/// An origin without a path: `https://mail.example.org` or `http://10.0.0.5:8080`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PublicUrl {
    https: bool,
    /// Lowercase, with the port where it is not the scheme's default.
    authority: String,
}

impl TryFrom<String> for PublicUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, String> {
        let bad = || format!("public_url {url:?} is not like https://mail.example.org");
        let lower = url.trim().trim_end_matches('/').to_ascii_lowercase();
        let (https, rest) = match lower.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            _ => return Err(bad()),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
        if rest.is_empty() || !rest.chars().all(valid) {
            return Err(bad());
        }
        let default_port = if https { ":443" } else { ":80" };
        let authority = rest.strip_suffix(default_port).unwrap_or(rest).to_owned();
        Ok(Self { https, authority })
    }
}

impl PublicUrl {
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// As browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }

    /// Whether an `Origin` header names this address (the scheme counts).
    pub fn is_origin(&self, origin: &str) -> bool {
        self.origin() == origin.to_ascii_lowercase()
    }

    /// Whether a `Host` header names this address (with or without the default port).
    fn is_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let default_port = if self.https { ":443" } else { ":80" };
        host.strip_suffix(default_port).unwrap_or(&host) == self.authority
    }
}

/// Requests for another host are refused: a page on a name that resolves here by a trick (DNS
/// rebinding) must not reach the login. Over https, browsers are also told to stay on https.
pub async fn guard(State(relay): State<Arc<Relay>>, request: Request, next: Next) -> Response {
    let Some(public) = &relay.config.public_url else {
        return next.run(request).await;
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| public.is_host(h)) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "not served under this name",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    if public.https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> PublicUrl {
        PublicUrl::try_from(text.to_owned()).unwrap()
    }

    #[test]
    fn public_urls_are_read_to_their_origin() {
        assert_eq!(
            url("https://Mail.Example.org/").origin(),
            "https://mail.example.org"
        );
        assert_eq!(
            url("https://mail.example.org:443").origin(),
            "https://mail.example.org"
        );
        assert_eq!(url("http://10.0.0.5:8080").origin(), "http://10.0.0.5:8080");
        for bad in [
            "mail.example.org",
            "ftp://x",
            "https://",
            "https://x/mail",
            "https://a b",
        ] {
            assert!(PublicUrl::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_public_host_is_served() {
        let public = url("https://mail.example.org");
        assert!(public.is_host("mail.example.org"));
        assert!(public.is_host("MAIL.example.org:443"));
        assert!(!public.is_host("mail.example.org:8443"));
        assert!(!public.is_host("evil.example"));
        assert!(!public.is_host("127.0.0.1:8080"));
    }
}
