//! Settings (language, theme, what a swipe does) and the keyboard shortcut list, as dialogs.

use leptos::prelude::*;

use super::swipe::SwipeAction;
use crate::{
    i18n::Lang,
    offline::Keeping,
    state::{texts, Mail},
    theme::Theme,
};

#[component]
pub fn SettingsDialog() -> impl IntoView {
    super::parts::dialog(expect_context::<Mail>().settings_open, settings)
}

/// The settings and the shortcut list are a part of their own (views::parts).
#[leptos::wasm_split::wasm_split(settings, wasm_split_path = ::leptos::wasm_split, fallible)]
fn settings() -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
    Ok(view! { <Settings /> }.into_any())
}

#[component]
fn Settings() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let lang = expect_context::<RwSignal<Lang>>();
    let t = texts();
    let theme = RwSignal::new(Theme::saved());
    let installable = crate::pwa::installable();
    let set_lang = move |ev: leptos::ev::Event| {
        if let Some(chosen) = Lang::from_tag(&event_target_value(&ev)) {
            crate::prefs::set("lang", chosen.tag());
            lang.set(chosen);
            mail.settings_open.set(true);
        }
    };
    let set_theme = move |ev: leptos::ev::Event| {
        let chosen = Theme::from_key(&event_target_value(&ev));
        chosen.apply();
        theme.set(chosen);
    };
    view! {
            <div class="dialog-backdrop" on:click=move |_| mail.settings_open.set(false)></div>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="settings-title">
                <h2 id="settings-title">{t.settings}</h2>
                <label for="language">{t.language}</label>
                <select id="language" name="language" on:change=set_lang>
                    <option value="en" selected=move || lang.get() == Lang::En>"English"</option>
                    <option value="de" selected=move || lang.get() == Lang::De>"Deutsch"</option>
                </select>
                <label for="theme">{t.theme}</label>
                <select id="theme" name="theme" on:change=set_theme>
                    <option value="system" selected=move || theme.get() == Theme::System>{t.theme_system}</option>
                    <option value="light" selected=move || theme.get() == Theme::Light>{t.theme_light}</option>
                    <option value="dark" selected=move || theme.get() == Theme::Dark>{t.theme_dark}</option>
                </select>
                <label for="swipe-left">{t.swipe_left}</label>
                    <select id="swipe-left" name="swipe-left" on:change=move |ev| {
                        let left = match event_target_value(&ev).as_str() {
                            "archive" => SwipeAction::Archive,
                            _ => SwipeAction::Delete,
                        };
                        left.set_left();
                    }>
                    {[(SwipeAction::Delete, t.swipe_left_deletes), (SwipeAction::Archive, t.swipe_left_archives)]
                        .into_iter()
                        .map(|(action, label)| {
                            let selected = SwipeAction::left() == action;
                            view! { <option value=action.key() selected=selected>{label}</option> }
                        })
                        .collect_view()}
                </select>
                <Show when=move || mail.sending.with_value(Option::is_some)>
                    <label for="undo-delay">{t.undo_delay}</label>
                    <select id="undo-delay" name="undo-delay"
                        on:change=move |ev| crate::prefs::set("undo-seconds", &event_target_value(&ev))>
                        {[0u32, 5, 10, 20, 30].into_iter().map(|s| {
                            let selected = super::compose::undo_delay() == s;
                            view! { <option value=s.to_string() selected=selected>{format!("{s} {}", t.seconds)}</option> }
                        }).collect_view()}
                    </select>
                    {mail.sending.with_value(|s| s.as_ref().map(|s| s.identities.clone())).unwrap_or_default()
                        .into_iter().enumerate().map(|(i, identity)| view! { <IdentityEditor identity index=i /> }).collect_view()}
                </Show>
                <label for="keep-offline">{t.keep_offline}</label>
                <select id="keep-offline" name="keep-offline"
                    on:change=move |ev| mail.device.set_keeping(Keeping::from_key(&event_target_value(&ev)))>
                    {[(Keeping::Off, t.keep_off), (Keeping::Opened, t.keep_opened), (Keeping::Newest, t.keep_newest)]
                        .into_iter()
                        .map(|(keeping, label)| {
                            let selected = mail.device.keeping() == keeping;
                            view! { <option value=keeping.key() selected=selected>{label}</option> }
                        })
                        .collect_view()}
                </select>
                <Show when=move || installable.get()>
                    <button id="install" class="secondary" on:click=move |_| crate::pwa::install()>
                        {t.install_app}
                    </button>
                </Show>
                // This tab, too, hears it ended (as every tab of the user does) and shows the form.
                <button id="sign-out-everywhere" class="secondary"
                    on:click=move |_| leptos::task::spawn_local(crate::api::logout_everywhere())>
                    {t.sign_out_everywhere}
                </button>
                <button class="close" on:click=move |_| mail.settings_open.set(false)>{t.close}</button>
            </div>
    }
}

/// The name and signature of one address the user sends as, kept by the relay.
#[component]
fn IdentityEditor(identity: protocol::Identity, index: usize) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let name = RwSignal::new(identity.name.clone());
    let signature = RwSignal::new(identity.signature.clone());
    let status = RwSignal::new(None::<String>);
    let address = identity.address.clone();
    let save = move |_| {
        let identity = protocol::Identity {
            address: address.clone(),
            name: name.get_untracked(),
            signature: signature.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match mail
                .request(protocol::WriteRequest::SaveIdentity {
                    identity: identity.clone(),
                })
                .await
            {
                Ok(_) => {
                    mail.sending.update_value(|s| {
                        if let Some(slot) = s.as_mut().and_then(|s| s.identities.get_mut(index)) {
                            *slot = identity;
                        }
                    });
                    status.set(Some(t.saved.to_owned()));
                }
                Err(e) => status.set(Some(t.error(e.code, &e.message).to_owned())),
            }
        });
    };
    let (name_id, signature_id) = (
        format!("identity-name-{index}"),
        format!("identity-signature-{index}"),
    );
    view! {
        <fieldset class="identity">
            <legend>{identity.address.clone()}</legend>
            <label for=name_id.clone()>{t.your_name}</label>
            <input id=name_id bind:value=name autocomplete="name" />
            <label for=signature_id.clone()>{t.signature}</label>
            <textarea id=signature_id rows="3" bind:value=signature></textarea>
            <button class="secondary save-identity" on:click=save>{t.save}</button>
            <span role="status">{move || status.get()}</span>
        </fieldset>
    }
}

#[component]
pub fn HelpDialog() -> impl IntoView {
    super::parts::dialog(expect_context::<Mail>().help_open, shortcuts)
}

#[leptos::wasm_split::wasm_split(settings, wasm_split_path = ::leptos::wasm_split, fallible)]
fn shortcuts() -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
    Ok(view! { <Shortcuts /> }.into_any())
}

#[component]
fn Shortcuts() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    view! {
            <div class="dialog-backdrop" on:click=move |_| mail.help_open.set(false)></div>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title">
                <h2 id="help-title">{t.shortcuts}</h2>
                <dl class="shortcuts">
                    {t.shortcut_list
                        .iter()
                        .map(|(keys, what)| view! { <dt><kbd>{*keys}</kbd></dt><dd>{*what}</dd> })
                        .collect_view()}
                </dl>
                <button class="close" on:click=move |_| mail.help_open.set(false)>{t.close}</button>
            </div>
    }
}
