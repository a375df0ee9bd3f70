use leptos::{prelude::*, task::spawn_local};
use protocol::{Event, MessageList, MessageSummary, Request, Response, SessionInfo};

use super::Phase;
use crate::{
    api,
    i18n::Lang,
    socket::{Notice, Socket},
};

/// How many of the newest messages the inbox shows.
const PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq)]
enum ListState {
    Loading,
    Loaded(MessageList),
    Failed(String),
}

#[component]
pub fn Inbox(info: SessionInfo, phase: RwSignal<Phase>) -> impl IntoView {
    let lang = expect_context::<Lang>();
    let t = lang.strings();
    let list = RwSignal::new(ListState::Loading);
    let connection_lost = RwSignal::new(false);

    // Bumped whenever the relay says the inbox changed; the list below reloads.
    let changes = RwSignal::new(0u32);
    match Socket::open(move |notice| match notice {
        Notice::Event(Event::LoggedOut) => phase.set(Phase::LoggedOut),
        Notice::Event(Event::FolderChanged { folder, .. }) if folder == "INBOX" => {
            changes.update(|n| *n += 1)
        }
        Notice::Event(Event::Reconnecting) => connection_lost.set(true),
        Notice::Event(Event::Reconnected) => connection_lost.set(false),
        Notice::Event(_) => {}
        Notice::Closed => connection_lost.set(true),
    }) {
        Ok(socket) => {
            // The socket lives as long as this view; dropping it closes the connection.
            let socket = StoredValue::new_local(socket);
            Effect::new(move |_| {
                changes.track();
                spawn_local(async move {
                    let request = Request::ListMessages {
                        folder: "INBOX".into(),
                        offset: 0,
                        limit: PAGE,
                    };
                    let Some(socket) = socket.try_get_value() else {
                        return;
                    };
                    list.set(match socket.request(request).await {
                        Ok(Response::MessageList(page)) => ListState::Loaded(page),
                        Ok(_) => ListState::Failed("unexpected answer".into()),
                        Err(e) => ListState::Failed(t.error(e.code, &e.message).to_owned()),
                    });
                });
            });
        }
        Err(e) => list.set(ListState::Failed(e.message)),
    }

    let sign_out = move |_| {
        spawn_local(async move {
            api::logout().await;
            phase.set(Phase::LoggedOut);
        });
    };

    view! {
        <header class="topbar">
            <h1>{t.inbox}</h1>
            <span class="who">{info.email}</span>
            <button class="secondary" on:click=sign_out>{t.sign_out}</button>
        </header>
        <Show when=move || connection_lost.get()>
            <p class="error status" role="status">{t.connection_lost}</p>
        </Show>
        <main>
            {move || match list.get() {
                ListState::Loading => view! { <p class="status">{t.loading}</p> }.into_any(),
                ListState::Failed(message) => {
                    view! { <p class="error status" role="alert">{message}</p> }.into_any()
                }
                ListState::Loaded(page) if page.messages.is_empty() => {
                    view! { <p class="status">{t.empty_folder}</p> }.into_any()
                }
                ListState::Loaded(page) => {
                    view! {
                        <ul class="messages" aria-label=t.inbox>
                            {page.messages.into_iter().map(|m| row(m, lang)).collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </main>
    }
}

fn row(message: MessageSummary, lang: Lang) -> impl IntoView {
    let t = lang.strings();
    let from = message
        .from
        .as_ref()
        .map(|a| a.display().to_owned())
        .unwrap_or_default();
    let subject = if message.subject.is_empty() {
        t.no_subject.to_owned()
    } else {
        message.subject
    };
    view! {
        <li class:unread=message.unread data-uid=message.uid>
            <span class="from">{from}</span>
            <time class="date">{format_date(message.date, lang)}</time>
            <span class="subject">
                {subject}
                {message.unread.then(|| view! { <span class="sr-only">" · "{t.unread}</span> })}
            </span>
        </li>
    }
}

/// The time for today's mail, the date for older mail, in the user's language.
fn format_date(seconds: i64, lang: Lang) -> String {
    let date = js_sys::Date::new(&((seconds as f64) * 1000.0).into());
    let today = js_sys::Date::new_0();
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    };
    if date.to_date_string() == today.to_date_string() {
        set("hour", "2-digit");
        set("minute", "2-digit");
        date.to_locale_time_string_with_options(lang.tag(), &options)
            .into()
    } else {
        set("day", "numeric");
        set("month", "short");
        if date.get_full_year() != today.get_full_year() {
            set("year", "numeric");
        }
        date.to_locale_date_string(lang.tag(), &options).into()
    }
}
