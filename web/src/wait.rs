//! Waiting as a future: for a while, or as a deadline raced against an answer.

use std::time::Duration;

/// Resolves once `delay` has passed.
pub async fn pause(delay: Duration) {
    let ms = i32::try_from(delay.as_millis()).unwrap_or(i32::MAX);
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
