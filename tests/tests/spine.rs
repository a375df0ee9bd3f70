//! The spine, end to end: a real Dovecot, the relay in-process, a real headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use protocol::AccountKind;
use serde_json::json;
use tokio_tungstenite::tungstenite;
use webmail_server::config::TlsMode;
use webmail_tests::{
    browser::Browser,
    client::{subjects, ws_connect, Client},
    dovecot::Dovecot,
    mail,
    proxy::FaultProxy,
    relay::RunningRelay,
};

const ALICE: (&str, &str) = ("alice@example.org", "correct horse");

/// Dovecot with Alice's inbox: three messages, the newest unread, one subject in RFC 2047 UTF-8,
/// one sender name in ISO-8859-1.
async fn dovecot_with_mail() -> Dovecot {
    let dovecot = Dovecot::start(&[ALICE]).await;
    dovecot.deliver(
        ALICE.0,
        &mail::message(
            "Bob <bob@example.org>",
            ALICE.0,
            "Lunch on Friday?",
            "Mon, 13 Nov 2023 12:00:00 +0000",
            "Shall we?",
        ),
        true,
    );
    dovecot.deliver(
        ALICE.0,
        &mail::message(
            "=?ISO-8859-1?Q?J=FCrgen_Wei=DF?= <jw@example.de>",
            ALICE.0,
            "=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=",
            "Tue, 14 Nov 2023 09:30:00 +0100",
            "Servus!",
        ),
        true,
    );
    dovecot.deliver(
        ALICE.0,
        &mail::message(
            "Carol <carol@example.org>",
            ALICE.0,
            "Photos from the weekend",
            "Wed, 15 Nov 2023 18:45:00 +0000",
            "Attached.",
        ),
        false,
    );
    dovecot
}

#[tokio::test(flavor = "multi_thread")]
async fn login_shows_the_inbox_and_logout_returns_to_the_form() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let browser = Browser::desktop().await;
    let c = &browser.client;

    browser.fill_login(&relay.url(), ALICE.0, ALICE.1).await;
    // Both inputs have visible labels.
    for id in ["email", "password"] {
        let label = browser.find(&format!("label[for={id}]")).await;
        assert!(!label.text().await.unwrap().trim().is_empty());
    }
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    browser
        .text_of(".rows", |t| t.contains("Lunch on Friday?"))
        .await;
    let rows = c
        .find_all(Locator::Css(".rows .row:not(.placeholder)"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let mut texts = Vec::new();
    for row in &rows {
        texts.push(row.text().await.unwrap());
    }
    // Newest first; encoded subject and ISO-8859-1 sender decoded.
    assert!(
        texts[0].contains("Photos from the weekend") && texts[0].contains("Carol"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("Grüße aus München") && texts[1].contains("Jürgen Weiß"),
        "{texts:?}"
    );
    assert!(
        texts[2].contains("Lunch on Friday?") && texts[2].contains("Bob"),
        "{texts:?}"
    );
    // Only the unseen one is marked unread.
    let classes: Vec<_> = futures_util::future::join_all(rows.iter().map(|r| r.attr("class")))
        .await
        .into_iter()
        .map(|c| c.unwrap().unwrap_or_default())
        .collect();
    assert!(classes[0].contains("unread"), "{classes:?}");
    assert!(
        !classes[1].contains("unread") && !classes[2].contains("unread"),
        "{classes:?}"
    );
    browser.screenshot("inbox-desktop.png").await;

    // The page runs under the relay's strict policy: no script but its own and the hashed loader.
    let csp = c
        .execute(
            "return fetch('/').then(r => r.headers.get('content-security-policy'))",
            vec![],
        )
        .await
        .unwrap();
    let csp = csp.as_str().unwrap_or_default().to_owned();
    let scripts = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        scripts.contains("'sha256-")
            && !scripts.contains("'unsafe-inline'")
            && !scripts.contains("'unsafe-eval'"),
        "{csp}"
    );

    // Logging out ends the IMAP session and shows the form again, also after a reload.
    c.find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.login_form_shown().await;
    c.refresh().await.unwrap();
    browser.login_form_shown().await;
    wait_for_log(&dovecot, "Logged out").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_shows_a_clear_error_on_a_phone() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Implicit)).await;
    let browser = Browser::phone().await;

    browser.fill_login(&relay.url(), ALICE.0, "wrong").await;
    browser.click("button[type=submit]").await;
    let text = browser
        .text_of("[role=alert]", |t| !t.trim().is_empty())
        .await;
    assert_eq!(text.trim(), "Wrong e-mail or password.");
    // No horizontal scrolling on a phone.
    let overflow = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, serde_json::Value::Bool(false));
    browser.screenshot("login-error-phone.png").await;

    // The right password still works after a wrong one.
    let (status, cookie, _) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200);
    assert!(cookie.is_some());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_checks_origin_and_cookie_and_survives_garbage() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let cookie = client.cookie.clone();
    let url = format!("ws://{}/ws", relay.addr);
    let own_origin = relay.url();

    // A page on another site cannot open the user's socket, even with the cookie.
    let refused = ws_connect(&url, Some("http://evil.example"), Some(&cookie)).await;
    assert_eq!(http_status(refused), 400);
    // No Origin at all (not a browser) is refused too.
    assert_eq!(
        http_status(ws_connect(&url, None, Some(&cookie)).await),
        400
    );
    // The right origin without a session is refused.
    assert_eq!(
        http_status(ws_connect(&url, Some(&own_origin), None).await),
        401
    );

    client.send_raw("this is not json").await;
    let error = client.next_frame().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], serde_json::Value::Null);
    assert_eq!(error["error"]["code"], "bad_request");
    client.send_raw(r#"{"id": 3, "op": "format_disk"}"#).await;
    assert_eq!(client.next_frame().await["error"]["code"], "bad_request");

    // The socket still works after the garbage.
    let page = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 2}))
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(
        subjects(&page),
        ["Photos from the weekend", "Grüße aus München"]
    );

    // A folder that does not exist is a clear error for that request only.
    let code = client
        .error_code(json!({"op": "list_messages", "folder": "Nope", "offset": 0, "limit": 2}))
        .await;
    assert_eq!(code, "no_such_folder");

    // Logging out (e.g. in another tab) tells this socket and closes it.
    let logout = relay.post(protocol::LOGOUT_PATH, "", Some(&cookie)).await;
    assert_eq!(logout.status, 204);
    client
        .event(Duration::from_secs(5), |e| e["kind"] == "logged_out")
        .await;
    let empty = relay.post(protocol::LOGIN_PATH, "{}", Some(&cookie)).await;
    assert_eq!(empty.status, 400, "a login without fields is a bad request");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_errors_name_their_cause() {
    let dovecot = Dovecot::start(&[ALICE]).await;

    // Wrong password.
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let (status, cookie, body) = relay.login(ALICE.0, "nope").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth_failed")),
        "{body}"
    );
    assert!(cookie.is_none());
    // CR/LF in the user name never reaches the server as a command.
    let (status, _, body) = relay
        .login("alice@example.org\r\nA1 DELETE INBOX", ALICE.1)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth_failed")),
        "{body}"
    );

    // A certificate from a CA the relay was not told about.
    let mut untrusted = dovecot.imap_server(TlsMode::Implicit);
    untrusted.ca_file = None;
    let relay = RunningRelay::start(untrusted).await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("certificate_not_trusted")),
        "{body}"
    );

    // The same over STARTTLS.
    let mut untrusted = dovecot.imap_server(TlsMode::Starttls);
    untrusted.ca_file = None;
    let relay = RunningRelay::start(untrusted).await;
    let (_, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(body["code"], "certificate_not_trusted", "{body}");

    // A self-signed family server, trusted by its pinned fingerprint alone (no CA given).
    let mut pinned = dovecot.imap_server(TlsMode::Implicit);
    pinned.ca_file = None;
    pinned.pinned_sha256 = Some(dovecot.pki.server_sha256.clone());
    let relay = RunningRelay::start(pinned.clone()).await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200, "{body}");
    // Another certificate than the pinned one is refused, even one a trusted CA signed.
    let mut wrong_pin = dovecot.imap_server(TlsMode::Starttls);
    wrong_pin.pinned_sha256 = Some("00".repeat(32));
    let relay = RunningRelay::start(wrong_pin).await;
    let (_, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(body["code"], "certificate_not_trusted", "{body}");

    // Nothing listening.
    let mut nowhere = dovecot.imap_server(TlsMode::Implicit);
    nowhere.port = webmail_tests::free_port();
    let relay = RunningRelay::start(nowhere).await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("server_unreachable")),
        "{body}"
    );

    // Implicit TLS with the right CA logs in.
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Implicit)).await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_starttls_is_refused_rather_than_used_in_clear() {
    let dovecot = Dovecot::start_without_tls(&[ALICE]).await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let (status, cookie, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (502, Some("server_protocol")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("STARTTLS"),
        "{body}"
    );
    assert!(cookie.is_none());
    // The password never went over the wire: Dovecot saw no login attempt.
    assert!(!dovecot.log().contains(ALICE.0), "{}", dovecot.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn bytes_slipped_in_before_the_tls_handshake_are_dropped() {
    let dovecot = Dovecot::start(&[ALICE]).await;
    // A man in the middle appends a line to Dovecot's "OK Begin TLS": read in clear, it
    // would pass for the server's first words inside TLS and end the session at once.
    let (_proxy, relay) = behind_a_line_slipped_in(&dovecot, b"Begin TLS").await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200, "{body}");
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    let inbox = client
        .ok(json!({"op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 10}))
        .await;
    assert!(inbox["total"].is_number(), "{inbox}");

    // The same line slipped in behind the greeting, in clear and before STARTTLS, is read:
    // so the proxy does put it where the relay would see it.
    let (_control, relay) = behind_a_line_slipped_in(&dovecot, b"ready.").await;
    let (status, _, body) = relay.login(ALICE.0, ALICE.1).await;
    assert_ne!(status, 200, "{body}");
}

/// A relay whose IMAP connection passes a proxy that slips `* BYE` in right behind the first
/// bytes from Dovecot that contain `after`.
async fn behind_a_line_slipped_in(dovecot: &Dovecot, after: &[u8]) -> (FaultProxy, RunningRelay) {
    let proxy = FaultProxy::start(dovecot.imap_port).await;
    proxy.append_after(after, b"* BYE slipped in before TLS\r\n");
    let mut imap = dovecot.imap_server(TlsMode::Starttls);
    imap.port = proxy.port;
    (proxy, RunningRelay::start(imap).await)
}

fn http_status<T: std::fmt::Debug>(result: Result<T, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

async fn wait_for_log(dovecot: &Dovecot, needle: &str) {
    for _ in 0..200 {
        if dovecot.log().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("Dovecot never logged {needle:?}:\n{}", dovecot.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_guesser_is_held_back_and_the_owner_still_gets_in() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let guesser = std::net::Ipv4Addr::new(127, 0, 0, 1);
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..200 {
        let status = relay
            .login_from(guesser, ALICE.0, &format!("guess {i}"))
            .await;
        *statuses.entry(status).or_default() += 1;
    }
    // The first few reach the mail server and are wrong; the rest wait at the relay.
    assert_eq!(statuses.get(&401), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&503), Some(&195), "{statuses:?}");
    let tried = dovecot.log().matches("auth failed").count();
    assert!(
        tried <= 5,
        "the mail server saw {tried} attempts:\n{}",
        dovecot.log()
    );
    // Alice, from her own address, is not locked out by the guesser.
    let owner = std::net::Ipv4Addr::new(127, 0, 0, 2);
    assert_eq!(relay.login_from(owner, ALICE.0, ALICE.1).await, 200);
    // Nor is the guesser's answer a hint: the same for an account that does not exist.
    let (status, _, body) = relay.login("nobody@example.org", "x").await;
    assert_eq!((status, body["code"].as_str()), (503, Some("try_later")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_socket_is_closed_and_a_live_one_kept() {
    use futures_util::StreamExt;
    let dovecot = dovecot_with_mail().await;
    let mut config = webmail_tests::relay::config(Some(dovecot.imap_server(TlsMode::Starttls)));
    config.socket_timeout_seconds = 2;
    let relay = RunningRelay::start_config(0, config).await;
    let (_, cookie, _) = relay.login(ALICE.0, ALICE.1).await;
    let cookie = cookie.expect("a session");
    let url = format!("ws://{}/ws", relay.addr);
    // A half-open connection: nothing read, so the relay's pings go unanswered.
    let (mut silent, _) = ws_connect(&url, Some(&relay.url()), Some(&cookie))
        .await
        .unwrap();
    // A live tab: it reads, so its socket answers the pings by itself.
    let mut live = Client::resume(&relay, &cookie).await;
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        live.next_frame_within(Duration::from_millis(500)).await;
    }
    let answer = live.ok(json!({"op": "list_folders"})).await;
    assert_eq!(answer["kind"], "folders", "the live socket is still open");
    // The silent one was closed meanwhile: what it reads now ends with a close.
    let mut closed = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(1), silent.next()).await
    {
        match message {
            Ok(tungstenite::Message::Close(_)) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(closed, "the silent socket was closed by the relay");
}

/// The app's sign of life (`ping`) is answered at once, even while the mail server hangs
/// behind a request on the same socket: the app does not take a slow mail server for a dead
/// socket.
#[tokio::test(flavor = "multi_thread")]
async fn a_ping_is_answered_at_once_while_the_mail_server_hangs() {
    let dovecot = dovecot_with_mail().await;
    let proxy = FaultProxy::start(dovecot.imap_port).await;
    let mut imap = dovecot.imap_server(TlsMode::Starttls);
    imap.port = proxy.port;
    let relay = RunningRelay::start(imap).await;
    let mut client = Client::login(&relay, ALICE.0, ALICE.1).await;
    client.ok(json!({"op": "list_folders"})).await;
    proxy.stall_all();
    client
        .send_raw(
            &json!({"id": 900, "op": "search", "folder": "INBOX", "query": {"text": "lunch"}})
                .to_string(),
        )
        .await;
    let answered = tokio::time::timeout(Duration::from_secs(2), client.ok(json!({"op": "ping"})))
        .await
        .expect("the ping is answered while the search waits for the mail server");
    assert_eq!(answered["kind"], "done");
}

/// The app's files in `dist/` whose names end in `suffix` (one each; the build hashes names).
fn built(suffix: &str) -> String {
    let dist = webmail_tests::workspace_root().join("dist");
    std::fs::read_dir(&dist)
        .expect("the app is built")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} in {}", dist.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_goes_out_compressed_and_is_kept_by_what_its_names_promise() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let dist = webmail_tests::workspace_root().join("dist");
    let wasm = built("_bg.wasm");
    let get = |path: String, encodings: &'static str| {
        let relay = &relay;
        async move {
            relay
                .exchange(
                    "GET",
                    &path,
                    b"",
                    &format!("Accept-Encoding: {encodings}\r\n"),
                )
                .await
        }
    };

    // Brotli where the browser takes it, gzip where only that, the file itself otherwise: each
    // the very bytes the build made.
    let plain = std::fs::read(dist.join(&wasm)).unwrap();
    for (encodings, encoding, file) in [
        ("gzip, deflate, br", Some("br"), format!("{wasm}.br")),
        ("gzip", Some("gzip"), format!("{wasm}.gz")),
        ("identity", None, wasm.clone()),
    ] {
        let response = get(format!("/{wasm}"), encodings).await;
        assert_eq!(response.status, 200, "{encodings}");
        assert_eq!(response.header("content-encoding"), encoding, "{encodings}");
        assert_eq!(response.body, std::fs::read(dist.join(&file)).unwrap());
        assert_eq!(response.header("content-type"), Some("application/wasm"));
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert!(response
            .header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
    }
    let brotli = std::fs::read(dist.join(format!("{wasm}.br"))).unwrap();
    assert!(
        brotli.len() * 3 < plain.len(),
        "brotli {} of {} bytes",
        brotli.len(),
        plain.len()
    );

    // The page, the service worker and a place in the app are asked about on every visit, so a
    // new release shows at once; the page and the place are compressed too.
    for path in ["/", "/sw.js", "/INBOX"] {
        let response = get(path.to_owned(), "br").await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
        if path != "/sw.js" {
            assert_eq!(response.header("content-encoding"), Some("br"), "{path}");
            assert!(response.header("content-security-policy").is_some());
        }
    }
    // A hashed file that is not there (an old release's script) is missing, not the page that
    // would then be kept for a year under its name.
    let gone = get("/webmail-web-0123456789abcdef.js".to_owned(), "br").await;
    assert_eq!(gone.status, 404);
    assert_ne!(
        gone.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    // In Chromium: the wasm arrives compressed, and a second visit takes the app from the
    // browser's caches (the service worker's, which the app installs once logged in, or the
    // HTTP cache) without asking the relay for it.
    let browser = Browser::desktop().await;
    browser.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    let wasm_entry =
        format!("performance.getEntriesByType('resource').find(e => e.name.endsWith('{wasm}'))");
    let first = browser
        .eval(&format!(
            "const e = {wasm_entry}; return [e.encodedBodySize, e.decodedBodySize];"
        ))
        .await;
    let (encoded, decoded) = (first[0].as_u64().unwrap(), first[1].as_u64().unwrap());
    assert_eq!(decoded, plain.len() as u64);
    assert_eq!(encoded, brotli.len() as u64, "the wasm came as brotli");
    browser
        .wait_for("navigator.serviceWorker.controller !== null")
        .await;
    browser.client.refresh().await.unwrap();
    browser.find(".rows .row").await;
    let again = browser
        .eval(&format!("const e = {wasm_entry}; return e.transferSize;"))
        .await;
    assert_eq!(again, json!(0), "the wasm came again over the network");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_that_is_a_plain_user_name_signs_in_on_a_phone() {
    // Family servers often know their users as `anna`, not as an address.
    const ANNA: (&str, &str) = ("anna", "tulips in spring");
    let dovecot = Dovecot::start(&[ANNA]).await;
    dovecot.deliver(
        ANNA.0,
        &mail::message(
            "Grandpa <grandpa@example.org>",
            "anna@example.org",
            "Photos from the garden",
            "Mon, 13 Nov 2023 12:00:00 +0000",
            "Here they are.",
        ),
        false,
    );
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let browser = Browser::phone().await;
    browser.fill_login(&relay.url(), ANNA.0, ANNA.1).await;
    // Phones still offer the address keyboard and the saved login.
    let field = browser
        .eval("const f = document.querySelector('input[name=email]'); return [f.inputMode, f.autocomplete, f.checkValidity()]")
        .await;
    assert_eq!(field, json!(["email", "username", true]));
    // The form sends it (an e-mail field would refuse to) and the mail server takes it.
    browser.click("button[type=submit]").await;
    browser
        .text_of(".rows", |t| t.contains("Photos from the garden"))
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_public_url_only_its_origin_and_host_are_served_and_the_cookie_is_host_bound() {
    let dovecot = dovecot_with_mail().await;
    let mut config = webmail_tests::relay::config(Some(dovecot.imap_server(TlsMode::Starttls)));
    config.public_url = Some("https://mail.example.test".to_owned().try_into().unwrap());
    let relay = RunningRelay::start_config(0, config).await;
    let public = "Host: mail.example.test\r\n";
    let login = |headers: String| {
        let relay = &relay;
        async move {
            let body = json!({"email": ALICE.0, "password": ALICE.1}).to_string();
            relay
                .exchange("POST", "/api/login", body.as_bytes(), &headers)
                .await
        }
    };

    // Under its public name: served, and browsers are told to keep to https.
    let page = relay.exchange("GET", "/", b"", public).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    // Under any other name (a rebinding DNS name, the bare address): refused.
    for host in [
        "Host: evil.example\r\n".to_owned(),
        format!("Host: {}\r\n", relay.addr),
    ] {
        let refused = relay.exchange("GET", "/", b"", &host).await;
        assert_eq!(refused.status, 421, "{host}");
        let refused = login(host.clone()).await;
        assert_eq!(refused.status, 421, "{host}");
    }

    // Only a page from the public origin logs in, the scheme included.
    for origin in [
        "http://mail.example.test",
        "https://evil.example",
        "https://mail.example.test:8443",
    ] {
        let refused = login(format!("{public}Origin: {origin}\r\n")).await;
        assert_eq!(refused.status, 400, "{origin}");
    }
    let ok = login(format!("{public}Origin: https://mail.example.test\r\n")).await;
    assert_eq!(ok.status, 200);
    let cookie = ok.header("set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with("__Host-webmail_session="), "{cookie}");
    for part in ["; Secure", "; Path=/", "; HttpOnly", "; SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    let value = cookie.split(';').next().unwrap();
    let session = |cookie: String| {
        let relay = &relay;
        async move {
            relay
                .exchange(
                    "GET",
                    "/api/session",
                    b"",
                    &format!("{public}Cookie: {cookie}\r\n"),
                )
                .await
                .status
        }
    };
    assert_eq!(session(value.to_owned()).await, 200);
    // The unprefixed name (which a page on a sibling domain could set) is not the session.
    let unprefixed = value.trim_start_matches("__Host-").to_owned();
    assert_eq!(session(unprefixed).await, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mail_server_is_told_who_logs_in_even_behind_a_proxy() {
    // Dovecot trusts the relay's address to say who is behind it (as set up for a relay).
    let dovecot = Dovecot::start_trusting_loopback(&[ALICE]).await;
    let mut config = webmail_tests::relay::config(Some(dovecot.imap_server(TlsMode::Starttls)));
    config.pop3 = Some(dovecot.pop3_server(TlsMode::Starttls));
    config.trusted_proxies = vec![[127, 0, 0, 1].into()];
    let relay = RunningRelay::start_config(0, config).await;

    // Through the proxy (127.0.0.1): the address it appended names the browser; what the
    // browser itself put before it does not count. Straight from another address, with a
    // forged header: its own address counts. Both for IMAP (ID) and POP3 (XCLIENT).
    let proxied = "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n";
    let forged = "X-Forwarded-For: 203.0.113.99\r\n";
    for kind in [AccountKind::Imap, AccountKind::Pop3] {
        for (from, headers) in [([127, 0, 0, 1], proxied), ([127, 0, 0, 2], forged)] {
            let status = relay
                .login_from_with(from.into(), ALICE, kind, headers)
                .await;
            assert_eq!(status, 200, "{kind:?} from {from:?}");
        }
    }

    for service in ["imap-login", "pop3-login"] {
        let logins = || {
            dovecot
                .log()
                .lines()
                .filter(|l| l.contains(&format!("{service}: Info: Login:")))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while logins().len() < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A POP3 account logs in again for each collection, under the same name.
        let logins = logins();
        let all = logins.join("\n");
        let named = |rip: &str| logins.iter().filter(|l| l.contains(rip)).count();
        assert!(
            named("rip=203.0.113.7,") >= 1 && named("rip=127.0.0.2,") >= 1,
            "{all}"
        );
        assert_eq!(
            named("rip=203.0.113.7,") + named("rip=127.0.0.2,"),
            logins.len(),
            "{all}"
        );
        assert!(
            !all.contains("198.51.100.1") && !all.contains("203.0.113.99"),
            "{all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_capped_per_user_and_end_after_their_lifetime() {
    let dovecot = dovecot_with_mail().await;
    let mut config = webmail_tests::relay::config(Some(dovecot.imap_server(TlsMode::Starttls)));
    config.sessions_per_user = 2;
    config.session_lifetime = Duration::from_secs(4);
    let relay = RunningRelay::start_config(0, config).await;
    let status = |cookie: String| {
        let relay = &relay;
        async move { relay.get("/api/session", Some(&cookie)).await.status }
    };
    let mut cookies = Vec::new();
    for _ in 0..3 {
        let (code, cookie, _) = relay.login(ALICE.0, ALICE.1).await;
        assert_eq!(code, 200);
        cookies.push(cookie.unwrap());
    }
    // A third login ended the oldest session (and its mail server connection).
    let live: Vec<u16> = futures_util::future::join_all(cookies.iter().cloned().map(status)).await;
    assert_eq!(live, [401, 200, 200]);
    // However busy, a session ends when its lifetime is over.
    let mut socket = Client::resume(&relay, &cookies[2]).await;
    socket.ok(json!({"op": "list_folders"})).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let live: Vec<u16> = futures_util::future::join_all(cookies.iter().cloned().map(status)).await;
    assert_eq!(live, [401, 401, 401]);
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_everywhere_ends_the_session_on_the_other_device_too() {
    let dovecot = dovecot_with_mail().await;
    let relay = RunningRelay::start(dovecot.imap_server(TlsMode::Starttls)).await;
    let (desktop, phone) = (Browser::desktop().await, Browser::phone().await);
    desktop.log_in(&relay.url(), ALICE.0, ALICE.1).await;
    phone.log_in(&relay.url(), ALICE.0, ALICE.1).await;

    desktop.click(".topbar .settings").await;
    desktop.click("#sign-out-everywhere").await;
    for browser in [&desktop, &phone] {
        browser.login_form_shown().await;
    }
    // Reloading does not bring the mail back: the sessions are gone, not only the pages.
    phone.client.refresh().await.unwrap();
    phone.login_form_shown().await;
    assert_eq!(
        phone
            .eval("return document.querySelectorAll('.rows .row').length")
            .await,
        0
    );
    desktop.close().await;
    phone.close().await;
}
