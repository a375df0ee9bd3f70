//! The relay, in-process, pointed at a test mail server, plus the few raw HTTP calls tests make.

use std::{net::SocketAddr, path::Path, time::Duration};

use protocol::AccountKind;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use webmail_server::{
    config::{Config, MailServer, Pop3Config},
    Relay,
};

use crate::workspace_root;

pub struct RunningRelay {
    pub addr: SocketAddr,
    /// The in-process relay; `None` for one running as its own process.
    task: Option<tokio::task::JoinHandle<()>>,
    /// The data directory, where the test gave none.
    _data: Option<tempfile::TempDir>,
}

impl RunningRelay {
    /// Starts a relay on a free loopback port that may connect to `imap` only.
    pub async fn start(imap: MailServer) -> Self {
        Self::start_on(0, imap).await
    }

    /// Starts a relay on loopback `port` (0: any free one); if that port is taken, on a free one.
    pub async fn start_on(port: u16, imap: MailServer) -> Self {
        Self::start_with(port, imap, Duration::from_secs(600)).await
    }

    /// A relay whose sessions end `session_idle` after their last socket closes.
    pub async fn start_with(port: u16, imap: MailServer, session_idle: Duration) -> Self {
        let mut config = config(Some(imap));
        config.session_idle = session_idle;
        Self::start_config(port, config).await
    }

    /// A relay offering POP3 (collected into `data_dir`) and, if given, IMAP.
    pub async fn start_pop3(pop3: Pop3Config, imap: Option<MailServer>, data_dir: &Path) -> Self {
        let mut config = config(imap);
        config.pop3 = Some(pop3);
        config.data_dir = data_dir.to_owned();
        Self::start_config(0, config).await
    }

    /// The demo: IMAP and POP3, sending through `smtp`, on `port` if it is free.
    pub async fn start_demo(
        port: u16,
        imap: MailServer,
        pop3: Pop3Config,
        smtp: webmail_server::config::SmtpConfig,
        data_dir: &Path,
    ) -> Self {
        let mut config = config(Some(imap));
        config.pop3 = Some(pop3);
        config.smtp = Some(smtp);
        config.data_dir = data_dir.to_owned();
        Self::start_config(port, config).await
    }

    /// A relay with this config (its `listen` is chosen here).
    pub async fn start_config(port: u16, mut config: Config) -> Self {
        let data = config
            .data_dir
            .as_os_str()
            .is_empty()
            .then(|| tempfile::tempdir().expect("temp dir"));
        if let Some(dir) = &data {
            config.data_dir = dir.path().to_owned();
        }
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        };
        let addr = listener.local_addr().expect("bound");
        config.listen = addr;
        let relay = Relay::new(config).expect("relay config is valid");
        let task = tokio::spawn(async move {
            webmail_server::serve(relay, listener)
                .await
                .expect("serves");
        });
        Self {
            addr,
            task: Some(task),
            _data: data,
        }
    }

    /// Talks to a relay running elsewhere (its own process) at `addr`.
    pub fn at(addr: SocketAddr) -> Self {
        Self {
            addr,
            task: None,
            _data: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `POST /api/login` as a non-browser client; returns (status, session cookie, JSON body).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> (u16, Option<String>, serde_json::Value) {
        self.login_as(email, password, "imap").await
    }

    /// Logs in to an account of `kind` (`imap` or `pop3`).
    pub async fn login_as(
        &self,
        email: &str,
        password: &str,
        kind: &str,
    ) -> (u16, Option<String>, serde_json::Value) {
        let body =
            serde_json::json!({"email": email, "password": password, "kind": kind}).to_string();
        let response = self.post(protocol::LOGIN_PATH, &body, None).await;
        let cookie = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .and_then(|(_, v)| v.split(';').next())
            .map(str::to_owned);
        (response.status, cookie, response.json())
    }

    /// A raw POST, so tests see exactly what the relay answers.
    pub async fn post(&self, path: &str, body: &str, cookie: Option<&str>) -> HttpResponse {
        self.send("POST", path, body, cookie).await
    }

    /// A raw GET.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> HttpResponse {
        self.send("GET", path, "", cookie).await
    }

    /// `POST /api/upload` from the relay's own page, as the app uploads an attachment.
    pub async fn upload(
        &self,
        cookie: &str,
        name: &str,
        mime_type: &str,
        bytes: &[u8],
    ) -> HttpResponse {
        let path = format!(
            "{}?name={}&type={}",
            protocol::UPLOAD_PATH,
            encode(name),
            encode(mime_type)
        );
        let origin = format!("Origin: {}\r\n", self.url());
        self.exchange(
            "POST",
            &path,
            bytes,
            &format!("Cookie: {cookie}\r\n{origin}"),
        )
        .await
    }

    /// HTTP/1.0, so the body arrives as it is (no chunked encoding) and ends with the connection.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> HttpResponse {
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        self.exchange(method, path, body.as_bytes(), &cookie).await
    }

    /// `POST /api/login` from another loopback address (`127.0.0.x`), as another client would;
    /// returns the status.
    pub async fn login_from(&self, client: std::net::Ipv4Addr, email: &str, password: &str) -> u16 {
        self.login_from_with(client, (email, password), AccountKind::Imap, "")
            .await
    }

    /// [`Self::login_from`] to this kind of account, with these extra `headers` (each ending
    /// in CRLF).
    pub async fn login_from_with(
        &self,
        client: std::net::Ipv4Addr,
        (email, password): (&str, &str),
        kind: AccountKind,
        headers: &str,
    ) -> u16 {
        let body =
            serde_json::json!({"email": email, "password": password, "kind": kind}).to_string();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind((client, 0).into()).expect("a loopback address");
        let stream = socket.connect(self.addr).await.expect("relay listens");
        exchange_over(
            stream,
            self.addr,
            "POST",
            protocol::LOGIN_PATH,
            body.as_bytes(),
            headers,
        )
        .await
        .status
    }

    /// A raw request with these extra `headers` (each ending in CRLF).
    pub async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &str,
    ) -> HttpResponse {
        let stream = TcpStream::connect(self.addr).await.expect("relay listens");
        exchange_over(stream, self.addr, method, path, body, headers).await
    }
}

/// One HTTP/1.0 request over `stream`, read to the end (no chunked encoding to undo).
async fn exchange_over(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &str,
) -> HttpResponse {
    // The relay's own address unless the caller names another host.
    let names_host = headers
        .lines()
        .any(|line| line.to_ascii_lowercase().starts_with("host:"));
    let host = if names_host {
        String::new()
    } else {
        format!("Host: {addr}\r\n")
    };
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\n{host}Content-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    HttpResponse::parse(&raw)
}

/// Percent-encoding for a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A relay config for tests: the built app, loopback, ten minutes of session idle time.
pub fn config(imap: Option<MailServer>) -> Config {
    let web_root = workspace_root().join("dist");
    assert!(
        web_root.join("index.html").exists(),
        "{} has no built app: run the test command from README.md (it builds the app first)",
        web_root.display()
    );
    Config {
        listen: ([127, 0, 0, 1], 0).into(),
        web_root,
        public_url: None,
        trusted_proxies: Vec::new(),
        extra_origins: Vec::new(),
        session_idle: Duration::from_secs(600),
        session_lifetime: Duration::from_secs(7 * 24 * 3600),
        sessions_per_user: 5,
        socket_timeout_seconds: 60,
        imap,
        pop3: None,
        // Empty: `start_config` gives the relay a temp dir of its own.
        data_dir: std::path::PathBuf::new(),
        smtp: None,
        inline_images: 50,
        inline_images_mb: 5,
    }
}

impl Drop for RunningRelay {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    fn parse(raw: &[u8]) -> Self {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        let head = String::from_utf8_lossy(&raw[..split]);
        let body = raw.get(split + 4..).unwrap_or_default().to_vec();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
