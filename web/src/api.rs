//! The HTTP half of the protocol: logging out, asking who is logged in. Logging in is the login
//! page's (login.js).

use protocol::{ErrorCode, ErrorInfo, SessionInfo};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Request, RequestCredentials, RequestInit, Response};

/// Who is signed in. The first time, the page has asked already, as it loaded (index.html).
pub async fn session() -> Result<SessionInfo, ErrorInfo> {
    let response = match crate::page::taken("webmailSessionAsked").and_then(|v| v.dyn_into().ok()) {
        Some(asked) => answer(asked).await?,
        None => send("GET", protocol::SESSION_PATH, None).await?,
    };
    read(response).await
}

/// Whether the relay heard it. Whatever the answer, the app shows the login form next.
pub async fn logout() -> bool {
    send("POST", protocol::LOGOUT_PATH, None).await.is_ok()
}

/// Ends every session of the user, on every device; each of their tabs is told by its socket.
pub async fn logout_everywhere() {
    let _ = send("POST", protocol::LOGOUT_EVERYWHERE_PATH, None).await;
}

/// The relay's answer: `T`, or the error it names.
async fn read<T: serde::de::DeserializeOwned>(response: Response) -> Result<T, ErrorInfo> {
    let text = JsFuture::from(response.text().map_err(|_| unreachable_relay())?)
        .await
        .map_err(|_| unreachable_relay())?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str(&text)
            .map_err(|e| ErrorInfo::new(ErrorCode::Internal, format!("unreadable answer: {e}")))
    } else {
        Err(serde_json::from_str(&text).unwrap_or_else(|_| {
            ErrorInfo::new(ErrorCode::Internal, format!("HTTP {}", response.status()))
        }))
    }
}

/// How long a request may take: on a link that hangs, one would wait for minutes, and hold one
/// of the browser's few connections to the relay meanwhile.
const PATIENCE_MS: u32 = 10_000;

async fn send(method: &str, path: &str, body: Option<String>) -> Result<Response, ErrorInfo> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(PATIENCE_MS)));
    if let Some(body) = &body {
        init.set_body(&body.into());
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| unreachable_relay())?;
    if body.is_some() {
        let _ = request.headers().set("Content-Type", "application/json");
    }
    let window = web_sys::window().expect("runs in a browser window");
    answer(window.fetch_with_request(&request)).await
}

/// The response `fetch` promised; the relay cannot be reached where there is none.
async fn answer(fetch: js_sys::Promise) -> Result<Response, ErrorInfo> {
    JsFuture::from(fetch)
        .await
        .map_err(|_| unreachable_relay())?
        .dyn_into()
        .map_err(|_| unreachable_relay())
}

fn unreachable_relay() -> ErrorInfo {
    ErrorInfo::new(
        ErrorCode::ServerUnreachable,
        "the webmail server cannot be reached",
    )
}
