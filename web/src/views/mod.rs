//! The screens. `App` decides which one shows: checking the session, or the mail. Signing in is
//! the page's own form (index.html, login.js), which starts the app once someone is signed in.

mod ahead;
mod compose;
mod folders;
mod keyboard;
mod list;
mod mail;
mod message;
mod parts;
mod settings;
mod swipe;
pub mod undo;

pub use compose::resume as resume_writing;

use std::{pin::pin, time::Duration};

use futures_util::future::{select, Either};
use leptos::{prelude::*, task::spawn_local};
use protocol::{ErrorCode, SessionInfo};

use crate::{api, i18n::Lang, offline::Device, theme::Theme, wait::pause};

/// Where the user is; the whole app hangs on this one signal.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Checking,
    /// The relay cannot be reached, and this device keeps no mail to read meanwhile: the user
    /// stays signed in, and tries again.
    Unreachable,
    /// The page's login form takes over: see [`show_login`].
    LoggedOut,
    /// The relay said the session holds.
    LoggedIn(SessionInfo, Device),
    /// Signed in on this device, but the relay cannot be reached or has not answered in time:
    /// the user reads what the device keeps until the socket gets through, and then the
    /// server's mail (the session's details, such as the identities, stay the device's until
    /// the next start).
    Away(SessionInfo, Device),
}

/// How long the start waits for the relay to say whether the session holds, where the device
/// keeps mail to show meanwhile. On a link that hangs, the answer may take minutes; where the
/// device keeps nothing, the start waits for it however long it takes.
const SESSION_PATIENCE: Duration = Duration::from_secs(4);

/// localStorage: a sign-out the relay did not hear of (it could not be reached), which the login
/// page finishes (login.js).
const SIGN_OUT_PENDING: &str = "sign-out-pending";

/// localStorage: someone signed in on this device and did not sign out, so the page starts the
/// app at once (device.js and the loader in Trunk.toml read it) and the app asks the relay about
/// the session cookie; elsewhere the page shows its login form and loads no app.
const SIGNED_IN: &str = "signed-in";

/// The phase once `info` signed in.
async fn signed_in(info: SessionInfo) -> Phase {
    crate::prefs::set(SIGNED_IN, "1");
    let device = Device::open(&info);
    Phase::LoggedIn(info, device)
}

/// Signs out on this device: the relay ends the session, and the mail kept here is deleted.
pub async fn sign_out(phase: RwSignal<Phase>, device: Device) {
    if !api::logout().await {
        // Offline: the session cookie stays until the relay hears of it, when the login page
        // next loads.
        crate::prefs::set(SIGN_OUT_PENDING, "1");
    }
    signed_out(phase, device).await;
}

/// The session ended (here or elsewhere): nothing of the account stays on the device.
pub async fn signed_out(phase: RwSignal<Phase>, device: Device) {
    crate::prefs::remove(SIGNED_IN);
    device.wipe().await;
    compose::forget_writing();
    crate::places::forget();
    phase.set(Phase::LoggedOut);
}

/// Where the app starts: the session the login form just opened, or the one the cookie names;
/// without a relay, the account last signed in here (to read offline); else the login form.
async fn starting_phase() -> Phase {
    if let Some(info) = handed_over_session() {
        return signed_in(info).await;
    }
    if crate::prefs::get(SIGN_OUT_PENDING).is_some() || crate::prefs::get(SIGNED_IN).is_none() {
        return Phase::LoggedOut;
    }
    let asked = pin!(api::session());
    let answer = match select(asked, pin!(pause(SESSION_PATIENCE))).await {
        Either::Left((answer, _)) => answer,
        Either::Right(((), asked)) => match Device::last_session().await {
            Some((info, device)) => return Phase::Away(info, device),
            None => asked.await,
        },
    };
    match answer {
        Ok(info) => signed_in(info).await,
        Err(e) if e.code == ErrorCode::NotLoggedIn => {
            crate::prefs::remove(SIGNED_IN);
            if let Some(device) = Device::last() {
                device.session_gone().await;
            }
            Phase::LoggedOut
        }
        // Unreachable, or an answer that is not the relay's (a gateway's error page, a captive
        // portal's login): the session may well hold, and the mail stays.
        Err(_) => match Device::last_session().await {
            Some((info, device)) => Phase::Away(info, device),
            None => Phase::Unreachable,
        },
    }
}

/// The session login.js opened (its `/api/login` answer, in `window.webmailSession`), taken
/// once: a later start (a reload) asks the relay.
fn handed_over_session() -> Option<SessionInfo> {
    let text = crate::page::taken("webmailSession")?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// Nobody is signed in: the page starts afresh on its own login form (index.html), without the
/// app, and nothing of the account stays in memory (families share tablets).
fn show_login() {
    crate::prefs::remove(SIGNED_IN);
    let _ = window().location().reload();
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
    spawn_local(async move { phase.set(starting_phase().await) });
    move || match phase.get() {
        Phase::Checking => {
            view! { <p class="status">{move || lang.get().strings().loading}</p> }.into_any()
        }
        Phase::Unreachable => view! {
            <main class="login">
                <p class="error" role="alert">{move || lang.get().strings().server_unreachable}</p>
                <button on:click=|_| { let _ = window().location().reload(); }>
                    {move || lang.get().strings().try_again}
                </button>
            </main>
        }
        .into_any(),
        Phase::LoggedOut => {
            // Wherever the session ended (sign-out, another tab, the relay), leaving is here.
            show_login();
            ().into_any()
        }
        Phase::LoggedIn(info, device) => {
            view! { <mail::MailApp info device phase away=false /> }.into_any()
        }
        Phase::Away(info, device) => {
            view! { <mail::MailApp info device phase away=true /> }.into_any()
        }
    }
}
