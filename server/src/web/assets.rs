//! The app's own files (the page, its script, wasm, styles, icons): sent compressed where the
//! build left a `.br` or `.gz` beside them, and cached by what their names promise. A name
//! with a content hash (`webmail-web-fa93c6176d84d121_bg.wasm`) changes with every release, so
//! the browser keeps it for a year without asking; the page, the service worker and the rest
//! are asked about on every visit (a `304` when unchanged), so a new release is seen at once.

use std::path::Path;

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Serves `web_root`; a path that names no file gets the page, where the app finds its place.
pub fn service(web_root: &Path) -> Router {
    let page = ServeFile::new(web_root.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(web_root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(page);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_policy))
}

async fn cache_policy(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let hashed = names_its_content(&path);
    // A hashed file that is not there (an old release's script, asked for by a page from
    // before it) is missing, not the page: the page under that name would be kept for a year.
    if hashed && is_page {
        return (StatusCode::NOT_FOUND, Body::empty()).into_response();
    }
    let mut response = response;
    let policy = if hashed && response.status() == StatusCode::OK {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(policy);
    // What was sent depends on what the browser said it takes: caches on the way must know.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether the file name carries a content hash, as Trunk writes it: 16 hex digits after the
/// last `-`, then `.` or `_bg.` (`style-530b29e948f52647.css`); 15 where the hash begins with a
/// zero (Trunk does not pad it).
fn names_its_content(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((_, tail)) = name.rsplit_once('-') else {
        return false;
    };
    let hash = tail.split(['.', '_']).next().unwrap_or_default();
    (15..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_the_rest() {
        for hashed in [
            "/webmail-web-fa93c6176d84d121.js",
            "/webmail-web-fa93c6176d84d121_bg.wasm",
            "/style-530b29e948f52647.css",
            // The app's other parts (scripts/split-app).
            "/split-fa93c6176d84d121.js",
            "/editor-fa93c6176d84d121.wasm",
            "/chunk_3-fa93c6176d84d121.wasm",
            "/webmail-web-a93c6176d84d121.js",
        ] {
            assert!(names_its_content(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/sw.js",
            "/manifest.webmanifest",
            "/icons/icon-192.png",
            "/style-530b29e948f526.css",
            "/x-530b29e948f5264z.css",
        ] {
            assert!(!names_its_content(plain), "{plain}");
        }
    }
}
