//! The user's choices on this device (language, theme, senders whose images to show), in
//! localStorage. Nothing here is secret; missing storage (private mode) just means defaults.

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn set(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

const IMAGE_SENDERS: &str = "images-allowed-from";

/// Senders whose remote images the user chose to always show.
pub fn images_allowed_from(email: &str) -> bool {
    get(IMAGE_SENDERS).is_some_and(|list| list.lines().any(|l| l.eq_ignore_ascii_case(email)))
}

pub fn allow_images_from(email: &str) {
    let mut list = get(IMAGE_SENDERS).unwrap_or_default();
    if !images_allowed_from(email) {
        list.push_str(email);
        list.push('\n');
        set(IMAGE_SENDERS, &list);
    }
}
