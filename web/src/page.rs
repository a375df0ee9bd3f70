//! What the page (index.html, login.js) hands the app: it starts what the app will need before
//! the app has loaded (on a phone's link every round trip counts), and leaves it on `window`.

/// What the page left under `window[name]`, taken once (a later call finds nothing).
pub fn taken(name: &str) -> Option<wasm_bindgen::JsValue> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str(name);
    let value = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    (!value.is_undefined()).then_some(value)
}
