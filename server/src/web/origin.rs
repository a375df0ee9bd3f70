//! Which pages may talk to the relay. A browser sends `Origin` with every WebSocket handshake and
//! every cross-site POST; a page on another site must not drive a logged-in user's session.

use axum::http::{header, HeaderMap};

/// True if `Origin` names the relay itself (same host and port as `Host`) or a configured origin.
/// A request without `Origin` passes only where `missing_ok` (non-browser clients on plain POSTs).
pub fn allowed(headers: &HeaderMap, extra_origins: &[String], missing_ok: bool) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return missing_ok;
    };
    if extra_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
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
        assert!(allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &[],
            false
        ));
        assert!(allowed(
            &headers(Some("https://Mail.Example.org"), "mail.example.org"),
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
                !allowed(&headers(Some(origin), host), &[], false),
                "{origin}"
            );
        }
    }

    #[test]
    fn configured_extra_origins_pass() {
        let extra = vec!["https://webmail.example.org/".to_owned()];
        assert!(allowed(
            &headers(Some("https://webmail.example.org"), "10.0.0.5:8080"),
            &extra,
            false
        ));
    }

    #[test]
    fn missing_origin_depends_on_the_caller() {
        assert!(!allowed(&headers(None, "h"), &[], false));
        assert!(allowed(&headers(None, "h"), &[], true));
    }
}
