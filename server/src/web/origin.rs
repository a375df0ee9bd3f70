//! Which pages may talk to the relay. A browser sends `Origin` with every WebSocket handshake and
//! every cross-site POST; a page on another site must not drive a logged-in user's session.

use axum::http::{header, HeaderMap};

use super::public::PublicUrl;
use crate::config::Config;

/// True if `Origin` names the relay itself (its `public_url`, or without one the host and port
/// of `Host`) or a configured extra origin. A request without `Origin` passes only where
/// `missing_ok` (non-browser clients on plain POSTs).
pub fn allowed(headers: &HeaderMap, config: &Config, missing_ok: bool) -> bool {
    check(
        headers,
        config.public_url.as_ref(),
        &config.extra_origins,
        missing_ok,
    )
}

fn check(
    headers: &HeaderMap,
    public: Option<&PublicUrl>,
    extra_origins: &[String],
    missing_ok: bool,
) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return missing_ok;
    };
    if extra_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    if let Some(public) = public {
        return public.is_origin(origin);
    }
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_host_and_port_is_allowed() {
        assert!(check(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            None,
            &[],
            false
        ));
        assert!(check(
            &headers(Some("https://Mail.Example.org"), "mail.example.org"),
            None,
            &[],
            false
        ));
    }

    #[test]
    fn foreign_or_tricky_origins_are_refused() {
        let host = "127.0.0.1:8080";
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "http://127.0.0.1:8080.evil.example",
            "null",
            "file://",
        ] {
            assert!(
                !check(&headers(Some(origin), host), None, &[], false),
                "{origin}"
            );
        }
    }

    #[test]
    fn configured_extra_origins_pass() {
        let extra = vec!["https://webmail.example.org/".to_owned()];
        assert!(check(
            &headers(Some("https://webmail.example.org"), "10.0.0.5:8080"),
            None,
            &extra,
            false
        ));
    }

    #[test]
    fn with_a_public_url_the_scheme_counts_and_host_does_not() {
        let public = PublicUrl::try_from("https://mail.example.org".to_owned()).unwrap();
        let evil_host = headers(None, "evil.example");
        let allowed = |origin: &str| {
            let mut h = evil_host.clone();
            h.insert(header::ORIGIN, origin.parse().unwrap());
            check(&h, Some(&public), &[], false)
        };
        assert!(allowed("https://mail.example.org"));
        assert!(!allowed("http://mail.example.org"));
        assert!(!allowed("https://evil.example"));
    }

    #[test]
    fn missing_origin_depends_on_the_caller() {
        assert!(!check(&headers(None, "h"), None, &[], false));
        assert!(check(&headers(None, "h"), None, &[], true));
    }
}
