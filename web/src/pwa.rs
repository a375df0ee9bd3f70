//! Installable app: the service worker caches the app shell so it starts offline and on a bad
//! mobile connection (see sw.js).

pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = window.navigator().service_worker();
    let _ = container.register("/sw.js");
}
