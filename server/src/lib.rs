//! The relay between browsers and the mail server. `main.rs` only reads the config and calls
//! [`serve`]; the tests call it too, in-process.

mod account;
pub mod config;
mod store;
mod csp;
mod download;
mod http;
pub mod imap;
mod origin;
mod session;
pub mod tls;
mod ws;

use std::sync::Arc;

use axum::{
    http::{header, HeaderValue},
    routing::{get, post},
    Router,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsConnector;
use tower_http::{
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

use config::Config;
use session::Sessions;

/// What every handler shares.
pub struct Relay {
    pub config: Config,
    imap_tls: TlsConnector,
    sessions: Arc<Sessions>,
    app_csp: HeaderValue,
}

impl Relay {
    pub fn new(config: Config) -> Result<Self, tls::TlsSetupError> {
        let imap_tls = tls::connector(&config.imap)?;
        let sessions = Sessions::new(config.session_idle);
        let index = std::fs::read_to_string(config.web_root.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(web_root = %config.web_root.display(), "no built app (index.html) to serve");
        }
        let app_csp =
            HeaderValue::from_str(&csp::app_policy(index.as_deref())).expect("the policy is ASCII");
        Ok(Self {
            config,
            imap_tls,
            sessions,
            app_csp,
        })
    }
}

pub fn router(relay: Arc<Relay>) -> Router {
    let web_root = &relay.config.web_root;
    let app = ServeDir::new(web_root).fallback(ServeFile::new(web_root.join("index.html")));
    let csp = relay.app_csp.clone();
    Router::new()
        .route(protocol::LOGIN_PATH, post(http::login))
        .route(protocol::LOGOUT_PATH, post(http::logout))
        .route(protocol::SESSION_PATH, get(http::session))
        .route(protocol::WS_PATH, get(ws::upgrade))
        .route(protocol::DOWNLOAD_PATH, get(download::download))
        .fallback_service(app)
        // Downloads set a stricter policy of their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(relay)
}

/// Serves until the process ends.
pub async fn serve(relay: Relay, listener: TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(Arc::new(relay))).await
}
