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
    leptos::mount::mount_to_body(views::App);
}
