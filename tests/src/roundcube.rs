//! Roundcube (Debian's package, served by `php -S` with OPcache on): the peer the browser
//! benchmarks measure on the same mailbox. Its own config directory, SQLite database, logs.
//! `php -S` compresses nothing, where a deployed Roundcube sits behind Apache or nginx sending
//! its pages, scripts and styles compressed; so the browser reaches it through a compressing
//! web server here ([`Front`]).

use std::{
    fs,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
};

use axum::{
    body::Body,
    extract::Request,
    http::{
        header::{CACHE_CONTROL, EXPIRES},
        HeaderValue, StatusCode,
    },
    response::IntoResponse,
    Router,
};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use tower_http::compression::CompressionLayer;

use crate::{free_port, kill_group, wait_for_port};

const INSTALL: &str = "/usr/share/roundcube";

pub struct Roundcube {
    /// The compressing front's, where the browser goes.
    pub port: u16,
    server: Child,
    _front: Front,
    _dir: tempfile::TempDir,
}

impl Roundcube {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Roundcube reading mail over IMAP with STARTTLS at `127.0.0.1:imap_port`, trusting the
    /// CA in `ca_pem`.
    pub async fn start(imap_port: u16, ca_pem: &Path) -> Self {
        assert!(
            Path::new(INSTALL).join("index.php").exists(),
            "Roundcube is not installed (scripts/bench installs it)"
        );
        let dir = tempfile::Builder::new()
            .prefix("roundcube-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        for sub in ["config", "logs", "temp"] {
            fs::create_dir_all(root.join(sub)).expect("dirs");
        }
        for file in ["defaults.inc.php", "mimetypes.php"] {
            fs::copy(
                Path::new("/etc/roundcube").join(file),
                root.join("config").join(file),
            )
            .expect("Debian's Roundcube defaults");
        }
        let db = root.join("roundcube.db");
        let config = format!(
            r#"<?php
$config = [];
$config['db_dsnw'] = 'sqlite:///{db}?mode=0646';
$config['imap_host'] = 'tls://localhost:{imap_port}';
$config['imap_conn_options'] = ['ssl' => ['verify_peer' => true, 'verify_peer_name' => true, 'cafile' => '{ca}']];
$config['smtp_host'] = '';
$config['des_key'] = 'bench-only-24-byte-key!!';
$config['plugins'] = [];
$config['skin'] = 'elastic';
$config['log_dir'] = '{root}/logs/';
$config['temp_dir'] = '{root}/temp/';
$config['enable_installer'] = false;
$config['mail_pagesize'] = 50;
$config['language'] = 'en_US';
"#,
            db = db.display(),
            ca = ca_pem.display(),
            root = root.display(),
        );
        fs::write(root.join("config/config.inc.php"), config).expect("config");
        let schema = Path::new(INSTALL).join("SQL/sqlite.initial.sql");
        let status = Command::new("php")
            .arg("-r")
            .arg(format!(
                "$db = new PDO('sqlite:{}'); $db->exec(file_get_contents('{}'));",
                db.display(),
                schema.display()
            ))
            .status()
            .expect("php");
        assert!(status.success(), "Roundcube's schema");
        let port = free_port();
        let server = Command::new("php")
            .args(["-d", "opcache.enable=1", "-d", "opcache.enable_cli=1"])
            .args(["-d", "opcache.validate_timestamps=0"])
            .arg("-S")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-t")
            .arg(INSTALL)
            .env("ROUNDCUBE_CONFIG_DIR", root.join("config"))
            .env("PHP_CLI_SERVER_WORKERS", "2")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("php -S");
        wait_for_port(port, "Roundcube").await;
        let front = Front::start(port).await;
        Self {
            port: front.port,
            server,
            _front: front,
            _dir: dir,
        }
    }
}

/// The web server in front of `php -S`, doing what Debian's `/etc/roundcube/htaccess` has Apache
/// do: it compresses the answer with brotli or gzip where the browser takes them (tower-http's
/// default levels and choice of what is worth compressing), and lets browsers keep for a month
/// what says nothing of caching (`ExpiresDefault "access plus 1 month"`: the scripts, styles,
/// fonts and images, whose URLs change with them; Roundcube's pages say `no-cache`).
struct Front {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    async fn start(php_port: u16) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
        let pass_on = move |mut request: Request| {
            let client = client.clone();
            async move {
                let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                *request.uri_mut() = format!("http://127.0.0.1:{php_port}{path}")
                    .parse()
                    .expect("a URI");
                match client.request(request).await {
                    Ok(mut answer) => {
                        let headers = answer.headers_mut();
                        if !headers.contains_key(CACHE_CONTROL) && !headers.contains_key(EXPIRES) {
                            headers
                                .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=2592000"));
                        }
                        answer.map(Body::new).into_response()
                    }
                    Err(_) => StatusCode::BAD_GATEWAY.into_response(),
                }
            }
        };
        let app = Router::new()
            .fallback(pass_on)
            .layer(CompressionLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port on loopback");
        let port = listener.local_addr().expect("its address").port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, task }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Drop for Roundcube {
    fn drop(&mut self) {
        kill_group(&mut self.server);
    }
}
