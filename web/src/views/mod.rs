//! The screens. `App` decides which one shows: checking the session, the login form, the inbox.

mod inbox;
mod login;

use leptos::{prelude::*, task::spawn_local};
use protocol::SessionInfo;

use crate::{api, i18n::Lang};

/// Where the user is; the whole app hangs on this one signal.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Checking,
    LoggedOut,
    LoggedIn(SessionInfo),
}

#[component]
pub fn App() -> impl IntoView {
    let lang = Lang::detect();
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", lang.tag());
    }
    provide_context(lang);
    let phase = RwSignal::new(Phase::Checking);
    spawn_local(async move {
        phase.set(match api::session().await {
            Ok(info) => Phase::LoggedIn(info),
            Err(_) => Phase::LoggedOut,
        });
    });
    move || match phase.get() {
        Phase::Checking => view! { <p class="status">{lang.strings().loading}</p> }.into_any(),
        Phase::LoggedOut => view! { <login::Login phase /> }.into_any(),
        Phase::LoggedIn(info) => view! { <inbox::Inbox info phase /> }.into_any(),
    }
}
