//! The browser app: logs in over HTTP, then talks to the relay over one WebSocket.

mod api;
mod dates;
mod i18n;
mod icons;
mod offline;
mod places;
mod prefs;
mod pwa;
mod socket;
mod state;
mod text;
mod theme;
mod upload;
mod views;

fn main() {
    // The heading index.html painted before the app had loaded gives way to the app's own.
    if let Some(prepaint) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".prepaint").ok().flatten())
    {
        prepaint.remove();
    }
    leptos::mount::mount_to_body(views::App);
}

#[cfg(test)]
mod tests {
    /// The heading index.html paints before the app loads says what the app's login says.
    #[test]
    fn the_heading_painted_before_the_app_is_the_logins() {
        let page = include_str!("../index.html");
        for lang in [crate::i18n::Lang::En, crate::i18n::Lang::De] {
            let title = lang.strings().sign_in_title;
            let span = format!("<span lang=\"{}\">{title}</span>", lang.tag());
            assert!(page.contains(&span), "index.html lacks {span}");
        }
    }
}
