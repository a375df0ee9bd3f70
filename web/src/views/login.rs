use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};

use protocol::AccountKind;

use super::Phase;
use crate::{api, i18n::Lang};

#[component]
pub fn Login(phase: RwSignal<Phase>) -> impl IntoView {
    let lang = expect_context::<RwSignal<Lang>>();
    let t = move || lang.get().strings();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let kind = RwSignal::new(AccountKind::Imap);
    let offered = RwSignal::new(Vec::<AccountKind>::new());
    // The form shows once the relay said what it offers: the account type choice appearing
    // later would push the button down under the user's finger.
    let ready = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(info) = api::server_info().await {
            if let Some(first) = info.account_kinds.first() {
                kind.set(*first);
            }
            offered.set(info.account_kinds);
        }
        ready.set(true);
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let chosen = kind.get_untracked();
            match api::login(email.get_untracked(), password.get_untracked(), chosen).await {
                Ok(info) => phase.set(super::signed_in(info).await),
                Err(e) => {
                    password.set(String::new());
                    let t = lang.get_untracked().strings();
                    error.set(Some(t.error(e.code, &e.message).to_owned()));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <main class="login">
            <h1>{move || t().sign_in_title}</h1>
            <Show when=move || ready.get()>
                <form on:submit=submit>
                    <label for="email">{move || t().email}</label>
                    // Any login the mail server takes: an address, or a plain user name as family
                    // servers often have. Phones still offer the address keyboard and autofill.
                    <input id="email" name="email" type="text" inputmode="email" autocomplete="username"
                        autocapitalize="none" spellcheck="false" required
                        bind:value=email />
                    <label for="password">{move || t().password}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        required bind:value=password />
                    <Show when=move || offered.with(|o| o.len() > 1)>
                        <fieldset class="kinds">
                            <legend>{move || t().account_type}</legend>
                            {[AccountKind::Imap, AccountKind::Pop3]
                                .into_iter()
                                .map(|k| {
                                    let (label, explained) = match k {
                                        AccountKind::Imap => (t().imap_label, t().imap_explained),
                                        AccountKind::Pop3 => (t().pop3_label, t().pop3_explained),
                                    };
                                    let value = match k {
                                        AccountKind::Imap => "imap",
                                        AccountKind::Pop3 => "pop3",
                                    };
                                    view! {
                                        <label class="kind">
                                            <input type="radio" name="kind" value=value
                                                prop:checked=move || kind.get() == k
                                                on:change=move |_| kind.set(k) />
                                            <span><strong>{label}</strong>" "{explained}</span>
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    </Show>
                    <p class="error" role="alert">{move || error.get()}</p>
                    <button type="submit" disabled=move || busy.get()>
                        {move || if busy.get() { t().signing_in } else { t().sign_in }}
                    </button>
                </form>
            </Show>
        </main>
    }
}
