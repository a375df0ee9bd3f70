//! The relay between browsers and the mail server. `cli` reads the config file and calls
//! [`serve`]; most tests call it in-process.

mod accounts;
pub mod cli;
pub mod config;
mod link;
mod private;
mod send;
mod store;
pub mod tls;
mod web;

/// The IMAP driver, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub use accounts::imap;

use std::sync::Arc;

use axum::{
    http::{header, HeaderValue},
    routing::{get, post},
    Router,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsConnector;
use tower_http::set_header::SetResponseHeaderLayer;

use config::Config;
use web::{assets, csp, download, http, session::Sessions, upload, ws};

/// What every handler shares.
pub struct Relay {
    pub config: Config,
    imap_tls: Option<TlsConnector>,
    pop3_tls: Option<TlsConnector>,
    store: Option<Arc<store::Store>>,
    /// Where the config has an SMTP server.
    sender: Option<Arc<send::Sender>>,
    sessions: Arc<Sessions>,
    throttle: web::throttle::Throttle,
    app_csp: HeaderValue,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Tls(#[from] tls::TlsSetupError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Send(#[from] send::SenderError),
    #[error("the data directory: {0}")]
    DataDir(#[from] std::io::Error),
}

impl Relay {
    pub fn new(config: Config) -> Result<Self, StartError> {
        let imap_tls = config.imap.as_ref().map(tls::connector).transpose()?;
        let pop3_tls = config
            .pop3
            .as_ref()
            .map(|pop3| tls::connector(&pop3.server()))
            .transpose()?;
        let store = match &config.pop3 {
            Some(_) => Some(Arc::new(store::Store::open(&config.data_dir)?)),
            None => None,
        };
        let sender = config
            .smtp
            .as_ref()
            .map(|smtp| send::Sender::new(smtp.clone(), &config.data_dir).map(Arc::new))
            .transpose()?;
        if config.public_url.is_none() && !config.listen.ip().is_loopback() {
            tracing::warn!(listen = %config.listen, "listening beyond loopback without a public_url: \
                pages are checked against the Host they name, and the session cookie is Secure only \
                where a proxy sends X-Forwarded-Proto: https");
        }
        let sessions = Sessions::new(
            web::session::Limits {
                idle: config.session_idle,
                lifetime: config.session_lifetime,
                per_user: config.sessions_per_user,
            },
            accounts::images::ImageSenders::open(config.data_dir.join("image-senders"))?,
        );
        let index = std::fs::read_to_string(config.web_root.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(web_root = %config.web_root.display(), "no built app (index.html) to serve");
        }
        let app_csp =
            HeaderValue::from_str(&csp::app_policy(index.as_deref())).expect("the policy is ASCII");
        Ok(Self {
            config,
            imap_tls,
            pop3_tls,
            store,
            sender,
            sessions,
            throttle: web::throttle::Throttle::default(),
            app_csp,
        })
    }
}

pub fn router(relay: Arc<Relay>) -> Router {
    let app = assets::service(&relay.config.web_root);
    let csp = relay.app_csp.clone();
    Router::new()
        .route(protocol::LOGIN_PATH, post(http::login))
        .route(protocol::LOGOUT_PATH, post(http::logout))
        .route(
            protocol::LOGOUT_EVERYWHERE_PATH,
            post(http::logout_everywhere),
        )
        .route(protocol::SESSION_PATH, get(http::session))
        .route(protocol::SERVER_INFO_PATH, get(http::server_info))
        .route(protocol::WS_PATH, get(ws::upgrade))
        .route(protocol::DOWNLOAD_PATH, get(download::download))
        .route(protocol::UPLOAD_PATH, post(upload::upload))
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
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&relay),
            web::public::guard,
        ))
        .with_state(relay)
}

/// `bytes` random bytes from the OS, as lowercase hex: names no one can guess.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).expect("the OS random source works");
    random.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves until the process ends.
pub async fn serve(relay: Relay, listener: TcpListener) -> std::io::Result<()> {
    // The peer's address is what login throttling counts.
    let app = router(Arc::new(relay)).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await
}
