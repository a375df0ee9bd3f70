//! Reading a message: headers, the body (HTML in a sandboxed iframe without scripts, under its
//! own strict CSP; plain text escaped, linked and with quotes folded), attachments, and the
//! actions on it. Also the actions on the checked rows of the list.

use leptos::{prelude::*, task::spawn_local};
use protocol::{
    Address, Body, Flag, FolderRole, MessageView, ReplyKind, Request, Response, SearchHit,
};

use super::{
    ahead::{open_message, Ahead, Taken},
    list::{flag_messages, set_flag},
    undo::{self, Removal},
};
use crate::{
    dates,
    i18n::{self, Strings},
    icons::{icon, Icon},
    state::{texts, Mail},
    text,
};

#[component]
pub fn MessagePane() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let shown = RwSignal::new(None::<Result<MessageView, String>>);
    let ahead = Ahead::new();
    Effect::new(move |_| {
        let Some((folder, uid)) = mail.open.get() else {
            shown.set(None);
            return;
        };
        let coming = match ahead.take(mail, &folder, uid) {
            Some(Taken::Here(message)) => {
                shown.set(Some(Ok(seen(mail, &folder, *message))));
                ahead.fetch_after(mail, &folder, uid);
                return;
            }
            Some(Taken::Coming(message)) => Some(message),
            None => None,
        };
        shown.set(None);
        spawn_local(async move {
            let fetched_ahead = match coming {
                Some(message) => message.await,
                None => None,
            };
            let answer = match fetched_ahead {
                Some(message) => Ok(message),
                None => open_message(mail, t, &folder, uid).await,
            };
            if mail.open.get_untracked() != Some((folder.clone(), uid)) {
                return; // another message was opened meanwhile
            }
            if answer.is_ok() {
                ahead.fetch_after(mail, &folder, uid);
            }
            shown.set(Some(answer.map(|message| seen(mail, &folder, message))));
        });
    });
    move || match (mail.open.get(), shown.get()) {
        (None, _) => view! { <p class="status placeholder-text">{t.no_message}</p> }.into_any(),
        (Some(_), None) => view! { <p class="status">{t.loading}</p> }.into_any(),
        (Some(_), Some(Err(message))) => view! {
            <BackButton />
            <p class="status error" role="alert">{message}</p>
        }
        .into_any(),
        (Some(_), Some(Ok(message))) => view! { <Reader message /> }.into_any(),
    }
}

/// A message being shown: marked read, in the list too.
fn seen(mail: Mail, folder: &str, message: MessageView) -> MessageView {
    if message.unread {
        flag_messages(mail, folder.to_owned(), vec![message.uid], Flag::Seen, true);
    }
    message
}

#[component]
fn BackButton() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    view! {
        <button class="icon back" aria-label=t.back title=t.back
            on:click=move |_| mail.close_message()>{icon(Icon::Back)}</button>
    }
}

#[component]
fn Reader(message: MessageView) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let lang = i18n::current();
    let folder = message.folder.clone();
    let uid = message.uid;
    let flagged = RwSignal::new(message.flagged);
    let subject = if message.subject.is_empty() {
        t.no_subject.to_owned()
    } else {
        message.subject.clone()
    };
    let eml = download_url(&folder, uid, None, false);
    let sender = message
        .from
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default();

    let mark_unread = {
        let folder = folder.clone();
        move |_| {
            flag_messages(mail, folder.clone(), vec![uid], Flag::Seen, false);
            mail.close_message();
        }
    };
    let toggle_flag = {
        let folder = folder.clone();
        move |_| {
            let set = !flagged.get_untracked();
            flagged.set(set);
            let request = set_flag(folder.clone(), vec![uid], Flag::Flagged, set);
            mail.act_or(request, move || flagged.set(!set));
        }
    };

    let (article_label, toolbar_label) = (subject.clone(), subject.clone());
    // Phones: the toolbar shows only Back until "More" in the bottom bar opens it.
    let more = RwSignal::new(false);
    view! {
        <article class="reader" aria-label=article_label>
            <div class="toolbar" class:more=more role="toolbar" aria-label=toolbar_label>
                <BackButton />
                <AnswerButtons folder=folder.clone() uid />
                <button class="secondary" on:click=mark_unread>{t.mark_unread}</button>
                <button class="secondary" aria-pressed=move || flagged.get().to_string() on:click=toggle_flag>
                    {move || if flagged.get() { t.unflag } else { t.flag }}
                </button>
                <Actions folder=folder.clone() uids=vec![uid] />
                <a class="button secondary" href=eml download="">{t.download_eml}</a>
            </div>
            <header class="message-head">
                <h1>{subject}</h1>
                <dl>
                    <dt>{t.from}</dt>
                    <dd class="sender">{message.from.as_ref().map(full)}</dd>
                    <dt>{t.to}</dt>
                    <dd>{list(&message.to)}</dd>
                    {(!message.cc.is_empty()).then(|| view! { <dt>{t.cc}</dt><dd>{list(&message.cc)}</dd> })}
                    <dt>{t.date}</dt>
                    <dd><time>{dates::long(message.date, lang)}</time></dd>
                </dl>
            </header>
            {message
                .thread_id
                .clone()
                .map(|thread_id| view! { <Conversation folder=folder.clone() uid thread_id /> })}
            {message.damaged.then(|| view! { <p class="notice" role="note">{t.damaged_explained}</p> })}
            {message.truncated.then(|| view! { <p class="notice" role="note">{t.truncated_explained}</p> })}
            {message.forged_from.then(|| view! { <p class="notice forged" role="note">{t.forged_from_explained}</p> })}
            <BodyView body=message.body.clone() sender images_allowed=message.images_allowed
                forged_from=message.forged_from />
            <AttachmentList message=message.clone() />
            <PhoneBar folder=folder.clone() uid more />
        </article>
    }
}

/// The other messages of this conversation (from this folder and Sent), oldest first, with
/// this one marked: only shown when there are others.
#[component]
fn Conversation(folder: String, uid: u32, thread_id: String) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let hits = RwSignal::new(Vec::<SearchHit>::new());
    let here = folder.clone();
    spawn_local(async move {
        let request = Request::Conversation { folder, thread_id };
        if let Ok(Response::SearchResults { hits: found }) = mail.request(request).await {
            hits.set(found);
        }
    });
    move || {
        let found = hits.get();
        (found.len() > 1).then(|| {
            let here = here.clone();
            view! {
                <nav class="conversation" aria-label=t.conversation>
                    <h2>{format!("{} ({})", t.conversation, found.len())}</h2>
                    <ol>
                        {found
                            .into_iter()
                            .map(|hit| {
                                let current = hit.folder == here && hit.message.uid == uid;
                                let sender = hit.message.from.as_ref().map(|a| a.display().to_owned()).unwrap_or_default();
                                let (folder, other) = (hit.folder.clone(), hit.message.uid);
                                view! {
                                    <li class:current=current>
                                        <button class="secondary" aria-current=current.then_some("true")
                                            on:click=move |_| mail.open_message(folder.clone(), other)>
                                            <span class="from">{sender}</span>
                                            <time>{dates::short(hit.message.date)}</time>
                                            {(hit.folder != here).then(|| view! { <span class="in-folder">{hit.folder.clone()}</span> })}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                </nav>
            }
        })
    }
}

/// `images_allowed` and `forged_from` are the relay's verdict on this message's sender: the
/// user's choices live there, for every device.
#[component]
fn BodyView(body: Body, sender: String, images_allowed: bool, forged_from: bool) -> impl IntoView {
    let t = texts();
    let mail = expect_context::<Mail>();
    match body {
        Body::Html {
            html,
            remote_content,
        } => {
            // Inline (cid:) images arrive inside the HTML already, as data: URLs: the document
            // is built once.
            let show = RwSignal::new(remote_content && images_allowed);
            let may_always = !forged_from && !sender.is_empty();
            let always = move |_| {
                let sender = sender.clone();
                spawn_local(async move {
                    match mail.request(Request::AllowImagesFrom { sender }).await {
                        Ok(_) => show.set(true),
                        Err(e) => mail.failed(e),
                    }
                });
            };
            view! {
                <Show when=move || remote_content && !show.get()>
                    <div class="remote-bar" role="status">
                        <span>{t.remote_blocked}</span>
                        <button class="secondary" on:click=move |_| show.set(true)>{t.show_images}</button>
                        {may_always.then(|| view! {
                            <button class="secondary always-images" on:click=always.clone()>{t.always_show_images}</button>
                        })}
                    </div>
                </Show>
                <iframe class="mail-body" title=t.messages
                    sandbox="allow-popups allow-popups-to-escape-sandbox"
                    referrerpolicy="no-referrer"
                    srcdoc=move || srcdoc(&html, show.get())></iframe>
            }
            .into_any()
        }
        Body::Text { text } => view! {
            <div class="mail-text">
                {text::blocks(&text)
                    .into_iter()
                    .map(|(quoted, block)| {
                        if quoted {
                            view! {
                                <details class="quoted">
                                    <summary>{t.show_quoted}</summary>
                                    <pre>{text::linkified(&block)}</pre>
                                </details>
                            }
                            .into_any()
                        } else {
                            view! { <pre>{text::linkified(&block)}</pre> }.into_any()
                        }
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
        Body::Empty => ().into_any(),
    }
}

/// The document inside the iframe: the sanitized body under a policy that allows inline styles
/// and `data:` images, and remote images only once the user asked for them.
fn srcdoc(html: &str, show_remote: bool) -> String {
    let (body, images) = if show_remote {
        (
            html.replace(" data-remote-src=\"", " src=\""),
            "data: https: http:",
        )
    } else {
        (html.to_owned(), "data:")
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src {images}; font-src data:\">\
<base target=\"_blank\"><style>html{{color-scheme:light}}body{{margin:12px;font:15px/1.5 system-ui,sans-serif;\
color:#1b1f24;background:#fff;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style></head>\
<body>{body}</body></html>"
    )
}

#[component]
fn AttachmentList(message: MessageView) -> impl IntoView {
    let t = texts();
    let shown: Vec<_> = message
        .attachments
        .iter()
        .filter(|a| !a.inline)
        .cloned()
        .collect();
    (!shown.is_empty()).then(|| {
        view! {
            <section class="attachments" aria-label=t.attachments>
                <h2>{t.attachments}</h2>
                <ul>
                    {shown
                        .into_iter()
                        .map(|a| {
                            let href = download_url(&message.folder, message.uid, Some(&a.part), false);
                            let preview = a.mime_type.starts_with("image/")
                                .then(|| download_url(&message.folder, message.uid, Some(&a.part), true));
                            view! {
                                <li>
                                    <a href=href download=a.name.clone()>
                                        <span class="name">{a.name.clone()}</span>
                                        <span class="meta">{format!("{} · {}", a.mime_type, size(u64::from(a.size)))}</span>
                                    </a>
                                    {preview.map(|p| view! {
                                        <a class="preview" href=p target="_blank" rel="noopener noreferrer">{t.preview}</a>
                                    })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// Delete, archive, spam and move, for one message or the checked ones.
#[component]
fn Actions(folder: String, uids: Vec<u32>) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let removal = Removals::new(mail, t, folder.clone(), uids);
    view! {
        <button class="secondary delete" on:click=move |_| removal.take(Removal::Delete)>{t.delete}</button>
        {removal.archivable().then(|| view! {
            <button class="secondary" on:click=move |_| removal.take(Removal::Archive)>{t.archive}</button>
        })}
        {match removal.junk() {
            Some(Junk::Elsewhere(junk)) => view! {
                <button class="secondary spam" on:click=move |_| removal.take(Removal::Spam(junk.clone()))>{t.spam}</button>
            }.into_any(),
            Some(Junk::Here) => view! {
                <button class="secondary not-spam" on:click=move |_| removal.take(Removal::MoveTo("INBOX".to_owned()))>{t.not_spam}</button>
            }.into_any(),
            None => ().into_any(),
        }}
        <select class="move" aria-label=t.move_to on:change=move |ev| removal.move_to(event_target_value(&ev))>
            <option value="">{t.move_to}</option>
            {removal.targets()}
        </select>
    }
}

/// On a phone, the message's actions in thumb reach: labelled icons along the bottom, and
/// "More" for the rest of the toolbar.
#[component]
fn PhoneBar(folder: String, uid: u32, more: RwSignal<bool>) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let removal = Removals::new(mail, t, folder.clone(), vec![uid]);
    let can_reply = mail.sending.with_value(Option::is_some)
        && mail.folder_named(&folder).and_then(|f| f.role) != Some(FolderRole::Drafts);
    let reply = move |_| super::compose::answer(mail, folder.clone(), uid, ReplyKind::Reply);
    let labelled = |which: Icon, label: &'static str| {
        view! { {icon(which)}<span>{label}</span> }
    };
    view! {
        <nav class="phone-bar" aria-label=t.message_actions>
            {can_reply.then(|| view! {
                <button class="bar-reply" on:click=reply>{labelled(Icon::Reply, t.reply)}</button>
            })}
            {removal.archivable().then(|| view! {
                <button class="bar-archive" on:click=move |_| removal.take(Removal::Archive)>
                    {labelled(Icon::Archive, t.archive)}
                </button>
            })}
            <button class="bar-delete" on:click=move |_| removal.take(Removal::Delete)>
                {labelled(Icon::Trash, t.delete)}
            </button>
            // The select covers the label, so a tap opens the phone's own picker.
            <label class="bar-move">
                {labelled(Icon::Folder, t.move_short)}
                <select class="move" aria-label=t.move_to
                    on:change=move |ev| removal.move_to(event_target_value(&ev))>
                    <option value="">{t.move_to}</option>
                    {removal.targets()}
                </select>
            </label>
            <button class="bar-more" aria-expanded=move || more.get().to_string()
                on:click=move |_| more.update(|m| *m = !*m)>
                {labelled(Icon::More, t.more)}
            </button>
        </nav>
    }
}

/// Where the Junk folder is, seen from the messages' folder.
enum Junk {
    /// The messages are in it: "Not spam" takes them to the Inbox.
    Here,
    Elsewhere(String),
}

/// Taking messages out of a folder (delete, archive, spam, move), each with its undo.
#[derive(Clone, Copy)]
struct Removals {
    mail: Mail,
    t: &'static Strings,
    folder: StoredValue<String>,
    uids: StoredValue<Vec<u32>>,
}

impl Removals {
    fn new(mail: Mail, t: &'static Strings, folder: String, uids: Vec<u32>) -> Self {
        Self {
            mail,
            t,
            folder: StoredValue::new(folder),
            uids: StoredValue::new(uids),
        }
    }

    /// Takes the messages out of the folder as `removal` says, with its undo.
    fn take(self, removal: Removal) {
        undo::remove(
            self.mail,
            self.t,
            removal,
            self.folder.get_value(),
            self.uids.get_value(),
        );
        self.uids.with_value(|uids| after_removal(self.mail, uids));
    }

    fn move_to(self, to: String) {
        if to.is_empty() || self.folder.with_value(|folder| *folder == to) {
            return;
        }
        self.take(Removal::MoveTo(to));
    }

    /// Archiving offered: not from the Archive itself.
    fn archivable(self) -> bool {
        self.folder
            .with_value(|f| self.mail.folder_named(f).and_then(|f| f.role))
            != Some(FolderRole::Archive)
    }

    /// Where spam goes: the folder with the Junk role, if there is one.
    fn junk(self) -> Option<Junk> {
        let junk = self.mail.folders.with(|folders| {
            folders
                .iter()
                .find(|f| f.role == Some(FolderRole::Junk))
                .map(|f| f.name.clone())
        })?;
        Some(match self.folder.with_value(|f| *f == junk) {
            true => Junk::Here,
            false => Junk::Elsewhere(junk),
        })
    }

    /// The folders to move to, as options.
    fn targets(self) -> impl IntoView {
        let (mail, t) = (self.mail, self.t);
        move || {
            let here = self.folder.get_value();
            mail.folders
                .get()
                .into_iter()
                .filter(|f| f.selectable && f.name != here)
                .map(|f| {
                    let label = t.folder_name(f.role, &f.name).to_owned();
                    view! { <option value=f.name>{label}</option> }
                })
                .collect_view()
        }
    }
}

/// After messages left the folder: nothing stays checked, and the open one closes if it went.
pub fn after_removal(mail: Mail, uids: &[u32]) {
    mail.list.checked.set(Vec::new());
    let open = mail
        .open
        .with_untracked(|open| open.as_ref().map(|(_, u)| *u));
    if open.is_some_and(|u| uids.contains(&u)) {
        mail.close_message();
    }
}

/// Reply, reply all, forward (inline or as attachment), where the relay sends mail.
#[component]
fn AnswerButtons(folder: String, uid: u32) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let in_drafts = mail.folder_named(&folder).and_then(|f| f.role) == Some(FolderRole::Drafts);
    let draft_folder = folder.clone();
    let button = move |kind: ReplyKind, label: &'static str, id: &'static str| {
        let folder = folder.clone();
        view! {
            <button id=id class="secondary" on:click=move |_| {
                super::compose::answer(mail, folder.clone(), uid, kind)
            }>{label}</button>
        }
    };
    if in_drafts {
        let continue_draft =
            move |_| super::compose::continue_draft(mail, draft_folder.clone(), uid);
        return mail.sending.with_value(Option::is_some).then(|| {
            view! {
                <button id="continue-draft" on:click=continue_draft>{t.continue_draft}</button>
            }
            .into_any()
        });
    }
    mail.sending.with_value(Option::is_some).then(|| {
        view! {
            {button(ReplyKind::Reply, t.reply, "reply")}
            {button(ReplyKind::ReplyAll, t.reply_all, "reply-all")}
            {button(ReplyKind::Forward, t.forward, "forward")}
            {button(ReplyKind::ForwardAsAttachment, t.forward_as_attachment, "forward-attached")}
        }
        .into_any()
    })
}

/// The toolbar over the list when rows are checked.
#[component]
pub fn BulkActions() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let all_checked = move || {
        let loaded = mail.list.rows.with(|r| r.len());
        loaded > 0 && mail.list.checked.with(|c| c.len()) >= loaded
    };
    let toggle_all = move |_| {
        if all_checked() {
            mail.list.checked.set(Vec::new());
        } else {
            let mut rows: Vec<_> = mail.list.rows.get_untracked().into_iter().collect();
            rows.sort_by_key(|(i, _)| *i);
            mail.list
                .checked
                .set(rows.into_iter().map(|(_, m)| m.uid).collect());
        }
    };
    let flag = move |flag: Flag, set: bool| {
        move |_| {
            let uids = mail.list.checked.get_untracked();
            flag_messages(mail, mail.folder.get_untracked(), uids, flag.clone(), set);
            mail.list.checked.set(Vec::new());
        }
    };
    view! {
        <div class="bulk" role="toolbar" aria-label=t.select_all>
            <label class="select-all">
                <input type="checkbox" prop:checked=all_checked on:click=toggle_all />
                <span>{t.select_all}</span>
            </label>
            {move || {
                let checked = mail.list.checked.get();
                (!checked.is_empty()).then(|| {
                    let folder = mail.folder.get_untracked();
                    view! {
                        <span class="count">{format!("{} {}", checked.len(), t.selected)}</span>
                        <button class="secondary" on:click=flag(Flag::Seen, true)>{t.mark_read}</button>
                        <button class="secondary" on:click=flag(Flag::Seen, false)>{t.mark_unread}</button>
                        <button class="secondary" on:click=flag(Flag::Flagged, true)>{t.flag}</button>
                        <Actions folder uids=checked />
                    }
                })
            }}
        </div>
    }
}

fn download_url(folder: &str, uid: u32, part: Option<&str>, inline: bool) -> String {
    let mut url = format!(
        "{}?folder={}&uid={uid}",
        protocol::DOWNLOAD_PATH,
        String::from(js_sys::encode_uri_component(folder))
    );
    if let Some(part) = part {
        url.push_str(&format!(
            "&part={}",
            String::from(js_sys::encode_uri_component(part))
        ));
    }
    if inline {
        url.push_str("&inline=true");
    }
    url
}

/// `Name <address>`, or the address alone.
pub(super) fn full(address: &Address) -> String {
    match &address.name {
        Some(name) => format!("{name} <{}>", address.email),
        None => address.email.clone(),
    }
}

fn list(addresses: &[Address]) -> String {
    addresses.iter().map(full).collect::<Vec<_>>().join(", ")
}

/// A size as people read it: `820 B`, `12 kB`, `3.4 MB`.
pub(super) fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} kB", (bytes + 500) / 1_000),
        _ => {
            let tenths = (bytes + 50_000) / 100_000;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}
