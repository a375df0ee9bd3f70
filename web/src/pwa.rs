//! Installable app: the service worker caches the app shell so it starts offline and on a bad
//! mobile connection (see sw.js); the browser's offer to install it is kept by device.js until
//! the user takes it up in the settings.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_namespace = webmailDevice)]
extern "C" {
    #[wasm_bindgen(catch, js_name = installable)]
    fn js_installable() -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_name = install)]
    async fn js_install() -> Result<JsValue, JsValue>;
}

pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = window.navigator().service_worker();
    let _ = container.register("/sw.js");
}

/// Whether the browser offers to install the app now (tracked: it changes when it does).
pub fn installable() -> ReadSignal<bool> {
    let offered = RwSignal::new(js_installable().unwrap_or(false));
    let listener = window_event_listener_untyped("webmail-installable", move |_| {
        offered.set(js_installable().unwrap_or(false));
    });
    on_cleanup(move || listener.remove());
    offered.read_only()
}

/// Shows the browser's install dialog.
pub fn install() {
    leptos::task::spawn_local(async {
        let _ = js_install().await;
    });
}
