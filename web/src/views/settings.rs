//! Settings (language, theme) and the keyboard shortcut list, as dialogs.

use leptos::prelude::*;

use crate::{
    i18n::Lang,
    state::{texts, Mail},
    theme::Theme,
};

#[component]
pub fn SettingsDialog() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let lang = expect_context::<RwSignal<Lang>>();
    let t = texts();
    let theme = RwSignal::new(Theme::saved());
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
        <Show when=move || mail.settings_open.get()>
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
                <Show when=move || mail.sending.with_value(Option::is_some)>
                    <label for="undo-delay">{t.undo_delay}</label>
                    <select id="undo-delay" name="undo-delay"
                        on:change=move |ev| crate::prefs::set("undo-seconds", &event_target_value(&ev))>
                        {[0u32, 5, 10, 20, 30].into_iter().map(|s| {
                            let selected = super::compose::undo_delay() == s;
                            view! { <option value=s.to_string() selected=selected>{format!("{s} {}", t.seconds)}</option> }
                        }).collect_view()}
                    </select>
                </Show>
                <button class="close" on:click=move |_| mail.settings_open.set(false)>{t.close}</button>
            </div>
        </Show>
    }
}

#[component]
pub fn HelpDialog() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    view! {
        <Show when=move || mail.help_open.get()>
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
        </Show>
    }
}
