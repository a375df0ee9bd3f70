//! The browser app: logs in over HTTP, then talks to the relay over one WebSocket.

mod api;
mod dates;
mod i18n;
mod icons;
mod offline;
mod page;
mod places;
mod prefs;
mod pwa;
mod socket;
mod state;
mod text;
mod theme;
mod upload;
mod views;
mod wait;

fn main() {
    leptos::mount::mount_to_body(views::App);
}

#[cfg(test)]
mod tests {
    /// The login page (index.html, login.js) says what the app says.
    #[test]
    fn the_login_page_says_what_the_app_says() {
        let script = include_str!("../login.js");
        for lang in [crate::i18n::Lang::En, crate::i18n::Lang::De] {
            let t = lang.strings();
            for (code, text) in [
                ("auth_failed", t.wrong_credentials),
                ("server_unreachable", t.server_unreachable),
                ("certificate_not_trusted", t.certificate_not_trusted),
            ] {
                let line = format!("{code}: {text:?},");
                assert!(script.contains(&line), "login.js lacks {line}");
            }
        }
    }
}
