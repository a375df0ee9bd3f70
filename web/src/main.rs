//! The browser app: logs in over HTTP, then talks to the relay over one WebSocket.

mod api;
mod i18n;
mod socket;
mod views;

fn main() {
    leptos::mount::mount_to_body(views::App);
}
