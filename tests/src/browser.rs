//! Headless Chromium driven over WebDriver (Debian's chromium and chromium-driver).

use std::{
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};

use crate::{free_port, kill_group, wait_for_port};

pub struct Browser {
    pub client: Client,
    driver: Child,
    // Chromium leaves large temp files; they go with this dir.
    _scratch: tempfile::TempDir,
}

impl Browser {
    /// A desktop-sized window (1440×900).
    pub async fn desktop() -> Self {
        Self::start(1440, 900, false).await
    }

    /// A phone: 390×844 CSS pixels, touch, as Chromium's device emulation makes it (a plain
    /// headless window cannot be narrower than 500 px).
    pub async fn phone() -> Self {
        Self::start(390, 844, true).await
    }

    /// A fresh headless Chromium with an empty profile and English UI.
    async fn start(width: u32, height: u32, phone: bool) -> Self {
        let scratch = tempfile::Builder::new()
            .prefix("webmail-chromium-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TMPDIR", scratch.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver is installed (scripts/setup installs it)");
        wait_for_port(port, "chromedriver").await;

        let profile = scratch.path().join("profile");
        // As root Chromium needs --no-sandbox; the network here is closed, so everything that
        // phones home is switched off.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--lang=en-US",
            &format!("--window-size={width},{height}"),
            &format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": args,
            "prefs": {"intl.accept_languages": "en-US"},
        });
        if phone {
            options["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true},
            });
        }
        let capabilities = serde_json::json!({ "goog:chromeOptions": options });
        let client =
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.as_object().expect("object").clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => client,
                Err(e) => {
                    kill_group(&mut driver);
                    panic!("cannot start Chromium: {e}");
                }
            };
        Self {
            client,
            driver,
            _scratch: scratch,
        }
    }

    /// Waits up to 10 s for an element.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits up to 10 s until `css` matches an element whose text satisfies `accept`; returns it.
    pub async fn text_of(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if accept(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never showed the expected text; last seen: {last:?}");
    }

    /// Opens `url` and fills in the login form, without sending it.
    pub async fn fill_login(&self, url: &str, email: &str, password: &str) {
        self.client.goto(url).await.expect("the page loads");
        self.login_form_shown().await;
        for (field, value) in [("email", email), ("password", password)] {
            self.find(&format!("input[name={field}]"))
                .await
                .send_keys(value)
                .await
                .expect("typing");
        }
    }

    /// Waits until the page shows its login form: nobody is signed in (the app, where it ran,
    /// has given way to the page), and the relay said what it offers.
    pub async fn login_form_shown(&self) {
        self.wait_for(crate::webmails::Webmail::Ours.login_form_shows())
            .await;
    }

    /// Opens `url`, fills in the login form and sends it.
    pub async fn send_login(&self, url: &str, email: &str, password: &str) {
        self.fill_login(url, email, password).await;
        self.click("button[type=submit]").await;
    }

    /// Logs in through the form and waits for the message list.
    pub async fn log_in(&self, url: &str, email: &str, password: &str) {
        self.send_login(url, email, password).await;
        self.wait_for("document.querySelectorAll('.rows .row:not(.placeholder)').length > 0")
            .await;
    }

    /// Waits up to 10 s until the JavaScript expression `condition` is true in the page.
    pub async fn wait_for(&self, condition: &str) {
        self.wait_for_within(condition, Duration::from_secs(10))
            .await;
    }

    /// Waits up to `patience` until the JavaScript expression `condition` is true in the page.
    pub async fn wait_for_within(&self, condition: &str, patience: Duration) {
        let script = format!("return !!({condition});");
        let deadline = tokio::time::Instant::now() + patience;
        while tokio::time::Instant::now() < deadline {
            if let Ok(serde_json::Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never true in the page: {condition}");
    }

    /// Waits up to 10 s until the JavaScript promise `promise` resolves to true in the page.
    pub async fn wait_for_promise(&self, promise: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let value = self
                .client
                .execute_async(
                    &format!("const done = arguments[arguments.length - 1]; ({promise}).then(v => done(!!v), () => done(false));"),
                    vec![],
                )
                .await;
            if matches!(value, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never true: {promise}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Epoch milliseconds in the page just before it runs the JavaScript `action`: where a
    /// benchmark starts timing what the user waits for.
    pub async fn act(&self, action: &str) -> f64 {
        let script =
            format!("const t = performance.timeOrigin + performance.now(); {action}; return t;");
        self.eval(&script).await.as_f64().expect("a time")
    }

    /// Epoch milliseconds of the first animation frame in which `condition` holds (within 25 s);
    /// `None`, and a screenshot, where it never does.
    pub async fn frame_when(&self, condition: &str) -> Option<f64> {
        let script = format!(
            "const done = arguments[arguments.length - 1]; const until = Date.now() + 25000;
             const check = () => {{ if ({condition}) done(performance.timeOrigin + performance.now());
               else if (Date.now() > until) done(null); else requestAnimationFrame(check); }};
             requestAnimationFrame(check);"
        );
        match self.client.execute_async(&script, vec![]).await {
            Ok(serde_json::Value::Number(n)) => n.as_f64(),
            other => {
                eprintln!("never showed: {condition}: {other:?}");
                self.screenshot("never-showed.png").await;
                None
            }
        }
    }

    /// Clicks the folder whose button names `label` (as the pane shows it: "Inbox").
    pub async fn go_to_folder(&self, label: &str) {
        self.eval(&format!(
            "[...document.querySelectorAll('.folders button')].find(b => b.textContent.includes('{label}')).click(); return true"
        ))
        .await;
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Clicks what `css` finds; finds it again where the page rendered it anew between finding
    /// and clicking (a row that a delta updated, say), as a user's click would land on the new one.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("cannot click {css}: {e}"),
            }
        }
        panic!("cannot click {css}: it is rendered anew all the time");
    }

    /// Types into the page as a keyboard would (to the focused element).
    pub async fn keys(&self, keys: &str) {
        let body = self.find("body").await;
        body.send_keys(keys).await.expect("typing");
    }

    /// Runs axe-core (from npm, in tools/) on the page; returns the serious and critical
    /// violations as `rule: description (n places)` lines.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(
            crate::workspace_root().join("tools/node_modules/axe-core/axe.min.js"),
        )
        .expect("axe-core is installed (scripts/setup installs it)");
        self.client.execute(&axe, vec![]).await.expect("axe loads");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations
                        .filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' places: ' + v.nodes.map(n => n.target.join(' ')).join(' | ') + ')')))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe runs");
        serde_json::from_value(result).unwrap_or_default()
    }

    /// Turns the browser's network off or on, as a phone losing its signal (Chromium's network
    /// emulation, over the DevTools protocol through chromedriver): requests, sockets and
    /// `navigator.onLine` all see it.
    pub async fn set_offline(&self, offline: bool) {
        self.emulate_network(offline, -1.0, -1.0).await;
    }

    /// Makes the browser a mid-range phone on a slow mobile link, as Lighthouse's mobile profile
    /// does with DevTools throttling ("mobileSlow4G"): 1,474.56 kbit/s down, 675 kbit/s up, and
    /// the CPU 4 times slower. Not its round trip: Chromium would add it to each request but
    /// not to a socket's frames nor to a service worker's fetches, so a benchmark puts a
    /// [`crate::latency::LatencyProxy`] in front of each server instead.
    pub async fn be_a_slow_phone(&self) {
        let kbit = 1000.0 / 8.0;
        self.emulate_network(false, 1474.56 * kbit, 675.0 * kbit)
            .await;
        self.devtools(
            "Emulation.setCPUThrottlingRate",
            serde_json::json!({ "rate": 4 }),
        )
        .await;
    }

    /// Chromium's network emulation, throughputs in bytes/s (-1: unlimited); never its latency
    /// (see `be_a_slow_phone`).
    async fn emulate_network(&self, offline: bool, down: f64, up: f64) {
        self.devtools("Network.enable", serde_json::json!({})).await;
        self.devtools(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": offline,
                "latency": 0,
                "downloadThroughput": down,
                "uploadThroughput": up,
            }),
        )
        .await;
    }

    /// Runs the JavaScript `script` in every page this browser opens from now on, before the
    /// page's own scripts.
    pub async fn on_every_page(&self, script: &str) {
        self.devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": script }),
        )
        .await;
    }

    /// Requests for URLs matching `patterns` (`*` for any text) fail, as on a network that
    /// has not delivered them yet; none after `&[]`.
    pub async fn block_urls(&self, patterns: &[&str]) {
        self.devtools("Network.enable", serde_json::json!({})).await;
        self.devtools(
            "Network.setBlockedURLs",
            serde_json::json!({ "urls": patterns }),
        )
        .await;
    }

    /// Empties the browser's HTTP cache (not the service worker's), as a phone that dropped it.
    pub async fn clear_http_cache(&self) {
        self.devtools("Network.clearBrowserCache", serde_json::json!({}))
            .await;
    }

    /// Runs a DevTools protocol command in the page.
    async fn devtools(&self, cmd: &'static str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(Devtools { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(crate::artifacts_dir().join(name), png).expect("write screenshot");
    }

    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        kill_group(&mut self.driver);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// chromedriver's way to the DevTools protocol: `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Devtools {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Devtools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.cmd, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}
