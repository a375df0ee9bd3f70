//! The logged-in app: the socket, the three panes (one at a time on a phone), the top bar.

use leptos::{prelude::*, task::spawn_local};
use protocol::{ErrorCode, Event, Request, Response, SearchQuery, SessionInfo};

use super::{
    compose, folders::FolderTree, keyboard, list, list::MessageList, message::MessagePane,
    settings, undo, Phase,
};
use crate::{
    api,
    i18n::Lang,
    icons::{icon, Icon},
    offline::{Device, Keeping},
    socket::{Notice, Socket},
    state::{texts, Link, Mail, Pane, Search, Texts},
};

#[component]
pub fn MailApp(
    info: SessionInfo,
    device: Device,
    phase: RwSignal<Phase>,
    /// The relay has not answered (yet): what the device keeps shows until it does.
    away: bool,
) -> impl IntoView {
    let lang = expect_context::<RwSignal<Lang>>();
    let mail = Mail::new(info.sending.clone(), device);
    if away {
        mail.link.set(Link::Lost);
    }
    provide_context(mail);

    let socket = Socket::open(away, move |notice| match notice {
        // Signed out elsewhere ("everywhere", or in another tab), or the session's time is up.
        Notice::Event(Event::LoggedOut) => spawn_local(super::signed_out(phase, device)),
        Notice::Event(Event::FolderChanged {
            folder,
            total,
            unread,
        }) => {
            mail.folders.update(|folders| {
                if let Some(f) = folders.iter_mut().find(|f| f.name == folder) {
                    f.total = total;
                    f.unread = unread;
                }
            });
            if mail.folder.get_untracked() == folder {
                mail.version.update(|v| *v += 1);
            }
        }
        Notice::Event(Event::FolderDelta(delta)) => {
            mail.folders.update(|folders| {
                if let Some(f) = folders.iter_mut().find(|f| f.name == delta.folder) {
                    f.total = delta.total;
                    f.unread = delta.unread;
                }
            });
            if mail.folder.get_untracked() == delta.folder && mail.search.get_untracked().is_none()
            {
                list::apply_delta(mail, delta);
            }
        }
        Notice::Event(Event::Conversations {
            folder,
            version,
            sizes,
        }) => {
            if mail.folder.get_untracked() == folder && mail.search.get_untracked().is_none() {
                list::apply_conversations(mail, version, sizes);
            }
        }
        Notice::Event(Event::FoldersChanged) => load_folders(mail),
        Notice::Event(Event::Outbox {
            draft_id,
            subject,
            state,
        }) => compose::outbox_event(mail, draft_id, subject, state),
        Notice::Event(Event::Collecting { done, total }) => {
            mail.collect_error.set(None);
            mail.collecting.set((done < total).then_some((done, total)));
        }
        Notice::Event(Event::Collected { error, too_big, .. }) => {
            mail.collecting.set(None);
            mail.too_big.set(too_big);
            let t = lang.get_untracked().strings();
            mail.collect_error
                .set(error.map(|e| t.error(e.code, &e.message).to_owned()));
        }
        Notice::Event(Event::Reconnecting) | Notice::Lost => {
            mail.link.set(Link::Lost);
            // A socket that cannot come back because the session is gone means: log in again.
            // A relay that cannot be reached (or an answer that is not the relay's, such as a
            // captive portal's) means: read what the device keeps.
            spawn_local(async move {
                if let Err(e) = api::session().await {
                    if e.code == ErrorCode::NotLoggedIn {
                        device.session_gone().await;
                        phase.set(Phase::LoggedOut);
                    }
                }
            });
        }
        Notice::Event(Event::Reconnected) | Notice::Back => {
            mail.link.set(Link::Back);
            // What was done offline goes first, then everything shows what the server has.
            spawn_local(async move {
                device.replay(mail).await;
                mail.version.update(|v| *v += 1);
                load_folders(mail);
            });
            set_timeout(
                move || {
                    if mail.link.get_untracked() == Link::Back {
                        mail.link.set(Link::Up);
                    }
                },
                std::time::Duration::from_secs(3),
            );
        }
    });
    mail.set_socket(socket);
    load_folders(mail);
    // Actions taken offline before the app was closed; away from the relay, they go once the
    // socket is back (`Notice::Back`).
    if !away {
        spawn_local(device.replay(mail));
    }
    crate::places::install(mail);
    keyboard::install(mail);
    crate::pwa::register_service_worker();

    // The views below are rebuilt when the language changes; their state lives in `mail`.
    move || {
        provide_context(Texts(lang.get().strings()));
        view! { <Layout info=info.clone() phase /> }
    }
}

fn load_folders(mail: Mail) {
    spawn_local(async move {
        if let Ok(Response::Folders { folders }) = mail.request(Request::ListFolders).await {
            mail.folders.set(folders);
        }
    });
}

#[component]
fn Layout(info: SessionInfo, phase: RwSignal<Phase>) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let sign_out = move |_| spawn_local(super::sign_out(phase, mail.device));
    let can_write = info.sending.is_some();
    let pane_class = move || match mail.pane.get() {
        Pane::Folders => "app show-folders",
        Pane::List => "app show-list",
        Pane::Message => "app show-message",
    };
    view! {
        <div class=pane_class>
            <header class="topbar">
                <button class="icon menu" aria-label=t.folders title=t.folders
                    on:click=move |_| mail.pane.set(Pane::Folders)>{icon(Icon::Menu)}</button>
                <SearchBox />
                {can_write.then(|| view! {
                    <button id="write" class="write" on:click=move |_| compose::write_new(mail)>
                        {icon(Icon::Write)}<span>{t.write}</span>
                    </button>
                })}
                <span class="who">{info.email}</span>
                <button class="icon settings" aria-label=t.settings title=t.settings
                    on:click=move |_| mail.settings_open.set(true)>{icon(Icon::Settings)}</button>
                <button id="sign-out" class="secondary" on:click=sign_out>{t.sign_out}</button>
            </header>
            <LinkBanner />
            <compose::OutboxStrip />
            <ReturnedBanner returned=info.returned_to_drafts.clone() />
            <div class="panes">
                <nav class="pane folders-pane" aria-label=t.folders>
                    <FolderTree />
                </nav>
                <section class="pane list-pane" aria-label=t.messages>
                    <MessageList />
                </section>
                <section class="pane message-pane">
                    <MessagePane />
                </section>
            </div>
            <undo::UndoBar />
            <compose::Composer />
            <settings::SettingsDialog />
            <settings::HelpDialog />
        </div>
    }
}

/// Messages the outbox gave back to Drafts when the relay restarted.
#[component]
fn ReturnedBanner(returned: Vec<protocol::Returned>) -> impl IntoView {
    let t = texts();
    let shown = RwSignal::new(!returned.is_empty());
    move || {
        shown.get().then(|| {
            let subjects = returned
                .iter()
                .map(|r| {
                    let subject = if r.subject.is_empty() {
                        t.no_subject
                    } else {
                        &r.subject
                    };
                    if r.maybe_sent {
                        format!("{subject} ({})", t.maybe_sent)
                    } else {
                        subject.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            alert(
                "returned",
                format!("{} {subjects}", t.returned_to_drafts),
                move || shown.set(false),
            )
        })
    }
}

/// A banner saying what did not happen, shown until the user dismisses it.
fn alert(kind: &'static str, text: String, dismiss: impl Fn() + 'static) -> impl IntoView {
    let t = texts();
    view! {
        <p class=format!("banner lost {kind}") role="alert">
            {text}" "
            <button class="secondary" on:click=move |_| dismiss()>{t.dismiss}</button>
        </p>
    }
}

#[component]
fn LinkBanner() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let link = move || match mail.link.get() {
        Link::Up => None,
        Link::Lost if mail.device.keeping() == Keeping::Off => {
            Some(view! { <p class="banner lost" role="status">{t.connection_lost}</p> }.into_any())
        }
        Link::Lost => {
            let waiting = mail.device.waiting();
            let waiting =
                (waiting > 0).then(|| t.waiting_changes.replace("{n}", &waiting.to_string()));
            Some(
                view! { <p class="banner lost offline" role="status">{t.offline}" "{waiting}</p> }
                    .into_any(),
            )
        }
        Link::Back => {
            Some(view! { <p class="banner back" role="status">{t.connection_back}</p> }.into_any())
        }
    };
    let collecting = move || {
        mail.collecting.get().map(|(done, total)| {
            let text = t
                .collecting
                .replace("{done}", &done.to_string())
                .replace("{total}", &total.to_string());
            view! {
                <p class="banner back" role="status">
                    {text}" "<progress max=total value=done aria-hidden="true"></progress>
                </p>
            }
        })
    };
    let failed = move || {
        mail.collect_error.get().map(
            |why| view! { <p class="banner lost" role="status">{t.collect_failed}" "{why}</p> },
        )
    };
    let too_big = move || {
        let messages = mail.too_big.get();
        (!messages.is_empty()).then(|| {
            view! {
                <div class="banner lost" role="status">
                    <p>{t.too_big}</p>
                    <ul class="too-big">
                        {messages
                            .into_iter()
                            .map(|m| {
                                let from = m.from.as_ref().map(|a| a.display().to_owned()).unwrap_or_default();
                                let subject = if m.subject.is_empty() { t.no_subject.to_owned() } else { m.subject };
                                view! { <li>{format!("{subject} · {from} · {} MB", (m.size.saturating_add(500_000) / 1_000_000).max(1))}</li> }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    };
    let action_failed = move || {
        mail.action_error.get().map(|e| {
            let text = format!("{} {}", t.action_failed, t.error(e.code, &e.message));
            alert("action-failed", text, move || mail.action_error.set(None))
        })
    };
    let overtaken = move || {
        let n = mail.overtaken.get();
        (n > 0).then(|| {
            let text = t.overtaken.replace("{n}", &n.to_string());
            alert("overtaken", text, move || mail.overtaken.set(0))
        })
    };
    view! { {link} {collecting} {failed} {too_big} {action_failed} {overtaken} }
}

#[component]
fn SearchBox() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let text = RwSignal::new(String::new());
    let all_folders = RwSignal::new(false);
    // The box shows the search under way, however it began (typed, or the address's).
    Effect::new(move |_| {
        let search = mail.search.get();
        text.set(
            search
                .as_ref()
                .and_then(|s| s.query.text.clone())
                .unwrap_or_default(),
        );
        all_folders.set(search.is_some_and(|s| s.all_folders));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let words = text.get_untracked().trim().to_owned();
        if words.is_empty() {
            mail.search.set(None);
            return;
        }
        mail.open.set(None);
        mail.list.checked.set(Vec::new());
        mail.search.set(Some(Search {
            query: SearchQuery {
                text: Some(words),
                ..SearchQuery::default()
            },
            all_folders: all_folders.get_untracked(),
        }));
        mail.pane.set(Pane::List);
    };
    view! {
        <form class="search" role="search" on:submit=submit>
            <input id="search" type="search" name="q" placeholder=t.search_placeholder
                aria-label=t.search bind:value=text />
            <label class="scope">
                <input type="checkbox" bind:checked=all_folders />
                <span>{t.search_all_folders}</span>
            </label>
            <button type="submit" class="icon" aria-label=t.search title=t.search>{icon(Icon::Search)}</button>
        </form>
    }
}
