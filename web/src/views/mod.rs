//! The screens. `App` decides which one shows: checking the session, the login form, the mail.

mod ahead;
mod compose;
mod folders;
mod keyboard;
mod list;
mod login;
mod mail;
mod message;
mod settings;
mod swipe;
pub mod undo;

use leptos::{prelude::*, task::spawn_local};
use protocol::SessionInfo;

use crate::{api, i18n::Lang, theme::Theme};

/// Where the user is; the whole app hangs on this one signal.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Checking,
    LoggedOut,
    LoggedIn(SessionInfo),
}

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(Lang::initial());
    Theme::saved().apply();
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", lang.get().tag());
        }
    });
    provide_context(lang);
    let phase = RwSignal::new(Phase::Checking);
    spawn_local(async move {
        phase.set(match api::session().await {
            Ok(info) => Phase::LoggedIn(info),
            Err(_) => Phase::LoggedOut,
        });
    });
    move || match phase.get() {
        Phase::Checking => {
            view! { <p class="status">{move || lang.get().strings().loading}</p> }.into_any()
        }
        Phase::LoggedOut => view! { <login::Login phase /> }.into_any(),
        Phase::LoggedIn(info) => view! { <mail::MailApp info phase /> }.into_any(),
    }
}
