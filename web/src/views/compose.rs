//! Writing a message: the editor (full screen on a phone, Send in thumb reach), address chips,
//! attachments by picker, drag and drop or paste with upload progress, and the outbox strip that
//! offers Undo while a sent message waits, and says what became of it.

use leptos::{prelude::*, task::spawn_local};
use protocol::{
    Address, AttachmentSource, Draft, DraftAttachment, Identity, OutboxState, ReplyKind, Response,
    WriteRequest,
};

use wasm_bindgen::JsCast;

use crate::{
    state::{texts, Mail, Outgoing},
    upload,
};

/// Starts a new message, with the signature of the first address.
pub fn write_new(mail: Mail) {
    let from = mail
        .sending
        .with_value(|s| s.as_ref().and_then(|s| s.identities.first().cloned()))
        .unwrap_or_default();
    mail.compose.set(Some(Draft {
        id: new_draft_id(),
        text: signed(&from, String::new()),
        from: from.address,
        ..Draft::default()
    }));
}

/// The editor's draft as of its last change, in this tab's sessionStorage: a reload, or back
/// and forward (the address names the draft), opens it again as it was. Cleared once it is
/// sent or discarded, and at sign-out.
const WRITING: &str = "writing";

fn tab_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn remember_writing(draft: &Draft) {
    if let (Some(storage), Ok(json)) = (tab_storage(), serde_json::to_string(draft)) {
        let _ = storage.set_item(WRITING, &json);
    }
}

pub fn forget_writing() {
    if let Some(storage) = tab_storage() {
        let _ = storage.remove_item(WRITING);
    }
}

/// Opens the editor on the draft `id`, as this tab last had it (the address named it: a
/// reload, or back and forward); a new message if the tab has no such draft.
pub fn resume(mail: Mail, id: &str) {
    if mail.sending.with_value(Option::is_none) {
        return;
    }
    let kept = tab_storage()
        .and_then(|s| s.get_item(WRITING).ok().flatten())
        .and_then(|json| serde_json::from_str::<Draft>(&json).ok())
        .filter(|draft| draft.id == id);
    match kept {
        Some(draft) => mail.compose.set(Some(draft)),
        None => write_new(mail),
    }
}

/// `text` with the identity's signature on top (under the space for writing).
fn signed(identity: &Identity, text: String) -> String {
    if identity.signature.trim().is_empty() {
        return text;
    }
    format!("\n\n-- \n{}{text}", identity.signature.trim_end())
}

/// Starts a reply or forward of a message: the relay fills in recipients, subject, quote.
pub fn answer(mail: Mail, folder: String, uid: u32, kind: ReplyKind) {
    let lang = crate::i18n::Lang::initial().tag().to_owned();
    spawn_local(async move {
        match mail
            .request(WriteRequest::StartReply {
                folder,
                uid,
                kind,
                lang,
            })
            .await
        {
            Ok(Response::Draft(mut draft)) => {
                draft.id = new_draft_id();
                let identity = mail.sending.with_value(|s| {
                    s.as_ref().and_then(|s| {
                        s.identities
                            .iter()
                            .find(|i| i.address == draft.from)
                            .cloned()
                    })
                });
                if let Some(identity) = identity {
                    draft.text = signed(&identity, std::mem::take(&mut draft.text));
                }
                mail.compose.set(Some(*draft));
            }
            Ok(_) => {}
            Err(e) => mail.action_error.set(Some(e)),
        }
    });
}

/// Goes on writing a draft saved in Drafts.
pub fn continue_draft(mail: Mail, folder: String, uid: u32) {
    spawn_local(async move {
        match mail.request(WriteRequest::OpenDraft { folder, uid }).await {
            Ok(Response::Draft(draft)) => mail.compose.set(Some(*draft)),
            Ok(_) => {}
            Err(e) => mail.action_error.set(Some(e)),
        }
    });
}

/// 32 random hex digits: the relay keeps every version of this draft under it.
fn new_draft_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long a sent message waits for Undo, in seconds (a setting on this device).
pub fn undo_delay() -> u32 {
    crate::prefs::get("undo-seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

#[component]
pub fn Composer() -> impl IntoView {
    let mail = expect_context::<Mail>();
    move || {
        mail.compose.get().map(|draft| {
            remember_writing(&draft);
            // Back before the editor is there (its part still coming, or not to be had) ends
            // it here: nothing was typed yet. Once there, the editor saves and ends it itself.
            let there = StoredValue::new(false);
            Effect::new(move |first: Option<()>| {
                mail.leave_compose.track();
                if first.is_some() && !there.get_value() {
                    mail.compose.set(None);
                }
            });
            let editor = async move {
                let editor = editor(draft).await;
                there.set_value(editor.is_ok());
                editor
            };
            super::parts::fetched(editor, move || mail.compose.set(None))
        })
    }
}

/// The editor is a part of its own (views::parts).
#[leptos::wasm_split::wasm_split(editor, wasm_split_path = ::leptos::wasm_split, fallible)]
fn editor(draft: Draft) -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
    Ok(view! { <Editor draft /> }.into_any())
}

/// An upload under way: its name and how far it is (percent; whole, so that the wasm carries
/// no float formatting).
#[derive(Clone, PartialEq)]
struct Uploading {
    key: u32,
    name: String,
    done: u32,
}

#[component]
fn Editor(draft: Draft) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let identities = mail
        .sending
        .with_value(|s| s.as_ref().map(|s| s.identities.clone()))
        .unwrap_or_default();
    let max_attachments = mail
        .sending
        .with_value(|s| s.as_ref().map(|s| s.max_attachments))
        .unwrap_or(0);
    let from = RwSignal::new(draft.from.clone());
    let to = RwSignal::new(draft.to.clone());
    let cc = RwSignal::new(draft.cc.clone());
    let bcc = RwSignal::new(draft.bcc.clone());
    let show_copies = RwSignal::new(!draft.cc.is_empty() || !draft.bcc.is_empty());
    let subject = RwSignal::new(draft.subject.clone());
    let text = RwSignal::new(draft.text.clone());
    let formatted = RwSignal::new(draft.formatted);
    let text_area = NodeRef::<leptos::html::Textarea>::new();
    let attachments = RwSignal::new(draft.attachments.clone());
    let uploading = RwSignal::new(Vec::<Uploading>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Text typed into an address field but not yet made a chip.
    let pending = [
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    ];
    let fixed = StoredValue::new(draft);
    let status = RwSignal::new(None::<&'static str>);

    let current = move || {
        let mut draft = fixed.get_value();
        draft.from = from.get_untracked();
        draft.to = to.get_untracked();
        draft.cc = cc.get_untracked();
        draft.bcc = bcc.get_untracked();
        draft.subject = subject.get_untracked();
        draft.text = text.get_untracked();
        draft.formatted = formatted.get_untracked();
        draft.attachments = attachments.get_untracked();
        draft
    };

    // Saved to Drafts two seconds after typing stops, and at once when the page is hidden or
    // closed; `saved` is what the last save held, so an unchanged draft is not saved again.
    let saved = StoredValue::new(fixed.get_value());
    let closed = std::rc::Rc::new(std::cell::Cell::new(false));
    let generation = std::rc::Rc::new(std::cell::Cell::new(0u32));
    // One save at a time: a save replaces the version (and the uploads) the next one would still
    // point at. A change made meanwhile is saved by the timer it started.
    let in_flight = std::rc::Rc::new(std::cell::Cell::new(false));
    let save_now = {
        let (closed, in_flight) = (closed.clone(), in_flight.clone());
        move || {
            if closed.get() || in_flight.get() {
                return;
            }
            let draft = current();
            remember_writing(&draft);
            if saved.with_value(|s| *s == draft) {
                return;
            }
            saved.set_value(draft.clone());
            status.set(Some(t.saving));
            in_flight.set(true);
            let in_flight = in_flight.clone();
            spawn_local(async move {
                match mail
                    .request(WriteRequest::SaveDraft {
                        draft: draft.clone(),
                    })
                    .await
                {
                    Ok(Response::DraftSaved { draft: stored }) => {
                        // The attachments saved now live in the saved copy (their uploads are
                        // gone); any added meanwhile stay as they are.
                        let _ = attachments.try_update(|current| {
                            for (before, after) in draft.attachments.iter().zip(&stored.attachments)
                            {
                                if let Some(same) = current.iter_mut().find(|a| *a == before) {
                                    *same = after.clone();
                                }
                            }
                        });
                        saved.set_value(Draft {
                            attachments: stored.attachments,
                            ..draft
                        });
                        let _ = status.try_set(Some(t.saved_to_drafts));
                        mail.drafts_changed();
                    }
                    Ok(_) => {}
                    Err(_) => {
                        // Tried again at the next change, the next hide, or on close: no draft
                        // equals one without an id.
                        saved.try_update_value(|s| s.id.clear());
                        let _ = status.try_set(Some(t.not_saved));
                    }
                }
                in_flight.set(false);
            });
        }
    };
    {
        let save_now = save_now.clone();
        let generation = generation.clone();
        Effect::new(move |first: Option<()>| {
            to.track();
            cc.track();
            bcc.track();
            subject.track();
            text.track();
            attachments.track();
            from.track();
            formatted.track();
            if first.is_none() {
                return;
            }
            let mine = generation.get() + 1;
            generation.set(mine);
            let (save_now, generation) = (save_now.clone(), generation.clone());
            set_timeout(
                move || {
                    if generation.get() == mine {
                        save_now();
                    }
                },
                std::time::Duration::from_secs(2),
            );
        });
    }
    {
        let on_hidden = save_now.clone();
        let on_hide = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            if document().hidden() {
                on_hidden();
            }
        });
        let document = document();
        let _ = document
            .add_event_listener_with_callback("visibilitychange", on_hide.as_ref().unchecked_ref());
        let save_now = save_now.clone();
        let pagehide = window_event_listener(leptos::ev::pagehide, move |_| save_now());
        // Cleanup may run on any thread as far as the types go; in a browser there is one.
        let browser_only = send_wrapper::SendWrapper::new((closed.clone(), on_hide, document));
        on_cleanup(move || {
            pagehide.remove();
            let (closed, on_hide, document) = browser_only.take();
            closed.set(true);
            let _ = document.remove_event_listener_with_callback(
                "visibilitychange",
                on_hide.as_ref().unchecked_ref(),
            );
        });
    }

    let closed_on_send = closed.clone();
    let send = move || {
        if busy.get_untracked() {
            return;
        }
        // What is still typed in an address field counts, if it is an address.
        for (field, typed) in [to, cc, bcc].into_iter().zip(pending) {
            let rest = add_addresses(field, &typed.get_untracked());
            typed.set(rest.clone());
            if !rest.trim().is_empty() {
                error.set(Some(format!("{} {rest}", t.not_an_address)));
                return;
            }
        }
        if !uploading.with_untracked(Vec::is_empty) {
            error.set(Some(t.wait_for_uploads.to_owned()));
            return;
        }
        let draft = current();
        if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
            error.set(Some(t.no_recipient.to_owned()));
            return;
        }
        busy.set(true);
        error.set(None);
        // Whatever is saved in Drafts now goes with the message: no later save may outlive it.
        closed_on_send.set(true);
        let closed_on_send = closed_on_send.clone();
        let save_in_flight = in_flight.clone();
        spawn_local(async move {
            // A save under way changes where the attachments are: send what it leaves.
            while save_in_flight.get() {
                crate::wait::pause(std::time::Duration::from_millis(50)).await;
            }
            let draft = current();
            let delay_seconds = undo_delay();
            let subject = draft.subject.clone();
            let draft_id = draft.id.clone();
            match mail
                .request(WriteRequest::Send {
                    draft,
                    delay_seconds,
                })
                .await
            {
                Ok(Response::Queued { send_at }) => {
                    mail.outbox.update(|o| {
                        o.retain(|item| item.draft_id != draft_id);
                        o.push(Outgoing {
                            draft_id,
                            subject,
                            state: OutboxState::Waiting { send_at },
                        });
                    });
                    forget_writing();
                    mail.compose.set(None);
                }
                Ok(_) => busy.set(false),
                Err(e) => {
                    busy.set(false);
                    closed_on_send.set(false);
                    error.set(Some(t.error(e.code, &e.message).to_owned()));
                }
            }
        });
    };

    let add_files = move |files: web_sys::FileList| {
        for i in 0..files.length() {
            let Some(file) = files.get(i) else { continue };
            let used: u64 = attachments.with_untracked(|a| a.iter().map(|a| a.size).sum());
            let size = file.size() as u64;
            if used + size > max_attachments {
                error.set(Some(
                    t.attachment_too_big
                        .replace("{name}", &file.name())
                        .replace("{mb}", &(max_attachments / 1_000_000).to_string()),
                ));
                continue;
            }
            let key = js_sys::Math::random().to_bits() as u32;
            let name = file.name();
            uploading.update(|u| {
                u.push(Uploading {
                    key,
                    name: name.clone(),
                    done: 0,
                })
            });
            upload::start(
                file,
                move |done| {
                    uploading.update(|u| {
                        if let Some(item) = u.iter_mut().find(|u| u.key == key) {
                            item.done = done;
                        }
                    })
                },
                move |result| {
                    uploading.update(|u| u.retain(|u| u.key != key));
                    match result {
                        Ok(uploaded) => attachments.update(|a| {
                            a.push(DraftAttachment {
                                name: uploaded.name,
                                mime_type: uploaded.mime_type,
                                size: uploaded.size,
                                source: AttachmentSource::Upload { id: uploaded.id },
                            })
                        }),
                        Err(e) => {
                            error.set(Some(format!("{name}: {}", t.error(e.code, &e.message))))
                        }
                    }
                },
            );
        }
    };

    let picker = NodeRef::<leptos::html::Input>::new();
    let on_pick = move |_| {
        if let Some(files) = picker.get().and_then(|input| input.files()) {
            add_files(files);
        }
        if let Some(input) = picker.get() {
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            add_files(files);
        }
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        if let Some(files) = ev.clipboard_data().and_then(|d| d.files()) {
            if files.length() > 0 {
                ev.prevent_default();
                add_files(files);
            }
        }
    };
    // Closing keeps the draft (saved now if it changed); discarding removes it.
    let close = {
        let save_now = save_now.clone();
        move || {
            save_now();
            mail.compose.set(None);
        }
    };
    {
        let close = close.clone();
        Effect::new(move |first: Option<()>| {
            mail.leave_compose.track();
            if first.is_some() {
                close();
            }
        });
    }
    let discard = {
        let closed = closed.clone();
        move |_| {
            // No save may follow and bring it back.
            closed.set(true);
            let draft = current();
            forget_writing();
            mail.compose.set(None);
            mail.act(WriteRequest::DiscardDraft { draft });
        }
    };
    let on_keydown = {
        let (send, close) = (send.clone(), close.clone());
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                ev.prevent_default();
                send();
            } else if ev.key() == "Escape" {
                close();
            }
        }
    };

    let title = if fixed.with_value(|d| d.origin.is_some()) {
        fixed.with_value(|d| d.subject.clone())
    } else {
        t.new_message.to_owned()
    };
    view! {
        <div class="dialog-backdrop composer-backdrop"></div>
        <form class="composer" role="dialog" aria-modal="true" aria-labelledby="composer-title"
            on:submit=move |ev| { ev.prevent_default(); send(); }
            on:keydown=on_keydown on:drop=on_drop on:dragover=|ev| ev.prevent_default()
            on:paste=on_paste>
            <header class="composer-head">
                <h2 id="composer-title">{title}</h2>
                <span class="save-status" role="status">{move || status.get()}</span>
                <button id="compose-discard" type="button" class="secondary" on:click=discard>{t.discard}</button>
                <button id="compose-close" type="button" class="secondary" on:click={
                    let close = close.clone();
                    move |_| close()
                }>{t.close}</button>
            </header>
            {(identities.len() > 1).then(|| view! {
                <label class="field"><span>{t.from}</span>
                    <select name="from" on:change=move |ev| from.set(event_target_value(&ev))>
                        {identities.iter().map(|i| {
                            let selected = i.address == from.get_untracked();
                            let shown = if i.name.is_empty() { i.address.clone() } else { format!("{} <{}>", i.name, i.address) };
                            view! { <option value=i.address.clone() selected=selected>{shown}</option> }
                        }).collect_view()}
                    </select>
                </label>
            })}
            <AddressField id="compose-to" label=t.to field=to typed=pending[0] />
            <Show when=move || show_copies.get() fallback=move || view! {
                <button type="button" class="link copies" on:click=move |_| show_copies.set(true)>{t.cc_bcc}</button>
            }>
                <AddressField id="compose-cc" label=t.cc field=cc typed=pending[1] />
                <AddressField id="compose-bcc" label=t.bcc field=bcc typed=pending[2] />
            </Show>
            <label class="field"><span>{t.subject}</span>
                <input id="compose-subject" name="subject" bind:value=subject autocomplete="off" />
            </label>
            <div class="format-bar" role="toolbar" aria-label=t.formatting>
                <label class="format-toggle">
                    <input id="compose-formatted" type="checkbox" bind:checked=formatted />
                    <span>{t.formatting}</span>
                </label>
                <Show when=move || formatted.get()>
                    <button type="button" class="secondary" aria-label=t.bold title=t.bold
                        on:click=move |_| mark(text_area, text, "**", "**")><strong>"B"</strong></button>
                    <button type="button" class="secondary" aria-label=t.italic title=t.italic
                        on:click=move |_| mark(text_area, text, "_", "_")><em>"I"</em></button>
                    <button type="button" class="secondary" aria-label=t.link title=t.link
                        on:click=move |_| mark(text_area, text, "[", "](https://)")>"🔗"</button>
                    <button type="button" class="secondary" aria-label=t.list title=t.list
                        on:click=move |_| line_mark(text_area, text, "- ")>"•"</button>
                    <button type="button" class="secondary" aria-label=t.quote title=t.quote
                        on:click=move |_| line_mark(text_area, text, "> ")>"❝"</button>
                </Show>
            </div>
            <textarea id="compose-text" name="text" aria-label=t.message_text bind:value=text node_ref=text_area></textarea>
            <ul class="compose-attachments">
                {move || attachments.get().into_iter().enumerate().map(|(i, a)| view! {
                    <li>
                        <span class="name">{a.name.clone()}</span>
                        <span class="size">{super::message::size(a.size)}</span>
                        <button type="button" class="icon" aria-label=format!("{} {}", t.remove, a.name)
                            on:click=move |_| attachments.update(|all| { all.remove(i); })>"×"</button>
                    </li>
                }).collect_view()}
                {move || uploading.get().into_iter().map(|u| view! {
                    <li class="uploading">
                        <span class="name">{u.name}</span>
                        <progress max="100" value=u.done aria-label=t.uploading></progress>
                    </li>
                }).collect_view()}
            </ul>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <footer class="composer-actions">
                <label class="button secondary attach">
                    {t.attach}
                    <input type="file" multiple node_ref=picker on:change=on_pick />
                </label>
                <button id="compose-send" type="submit" disabled=move || busy.get()>{t.send}</button>
            </footer>
        </form>
    }
}

/// Puts `before` and `after` around the selected text (or at the caret).
fn mark(area: NodeRef<leptos::html::Textarea>, text: RwSignal<String>, before: &str, after: &str) {
    let Some(area) = area.get_untracked() else {
        return;
    };
    let value = area.value();
    let units: Vec<u16> = value.encode_utf16().collect();
    let start = area.selection_start().ok().flatten().unwrap_or(0) as usize;
    let end = (area.selection_end().ok().flatten().unwrap_or(0) as usize).max(start);
    let (start, end) = (start.min(units.len()), end.min(units.len()));
    let part = |range: std::ops::Range<usize>| String::from_utf16_lossy(&units[range]);
    let chosen = part(start..end);
    let changed = format!(
        "{}{before}{chosen}{after}{}",
        part(0..start),
        part(end..units.len())
    );
    area.set_value(&changed);
    text.set(changed);
    let caret = (start + before.encode_utf16().count() + chosen.encode_utf16().count()) as u32;
    let _ = area.focus();
    let _ = area.set_selection_range(caret, caret);
}

/// Puts `prefix` before every line the selection touches (a list, a quote).
fn line_mark(area: NodeRef<leptos::html::Textarea>, text: RwSignal<String>, prefix: &str) {
    let Some(area) = area.get_untracked() else {
        return;
    };
    let value = area.value();
    let units: Vec<u16> = value.encode_utf16().collect();
    let start = (area.selection_start().ok().flatten().unwrap_or(0) as usize).min(units.len());
    let end = (area.selection_end().ok().flatten().unwrap_or(0) as usize).clamp(start, units.len());
    let line_start = units[..start]
        .iter()
        .rposition(|u| *u == u16::from(b'\n'))
        .map_or(0, |p| p + 1);
    let head = String::from_utf16_lossy(&units[..line_start]);
    let lines = String::from_utf16_lossy(&units[line_start..end]);
    let tail = String::from_utf16_lossy(&units[end..]);
    let marked: Vec<String> = lines.split('\n').map(|l| format!("{prefix}{l}")).collect();
    let changed = format!("{head}{}{tail}", marked.join("\n"));
    area.set_value(&changed);
    text.set(changed);
    let _ = area.focus();
}

/// One of To, Cc, Bcc: the addresses as chips, and a field to type more (Enter, comma or
/// leaving the field makes a chip of what parses).
#[component]
fn AddressField(
    id: &'static str,
    label: &'static str,
    field: RwSignal<Vec<Address>>,
    typed: RwSignal<String>,
) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let suggestions = RwSignal::new(Vec::<Address>::new());
    let active = RwSignal::new(None::<usize>);
    let commit = move || {
        let rest = add_addresses(field, &typed.get_untracked());
        typed.set(rest);
        suggestions.set(Vec::new());
    };
    let pick = move |address: Address| {
        field.update(|f| {
            if !f
                .iter()
                .any(|a| a.email.eq_ignore_ascii_case(&address.email))
            {
                f.push(address);
            }
        });
        typed.set(String::new());
        suggestions.set(Vec::new());
        active.set(None);
    };
    // Suggestions from the user's correspondents, a moment after typing pauses.
    let asked = std::rc::Rc::new(std::cell::Cell::new(0u32));
    Effect::new(move |_| {
        let prefix = typed
            .get()
            .rsplit([',', ';'])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let mine = asked.get() + 1;
        asked.set(mine);
        if prefix.chars().count() < 2 {
            suggestions.set(Vec::new());
            return;
        }
        let asked = asked.clone();
        set_timeout(
            move || {
                if asked.get() != mine {
                    return;
                }
                spawn_local(async move {
                    if let Ok(Response::Addresses { addresses }) = mail
                        .request(WriteRequest::SuggestAddresses { prefix })
                        .await
                    {
                        if asked.get() == mine {
                            let _ = suggestions.try_set(addresses);
                            let _ = active.try_set(None);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(150),
        );
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" | "ArrowUp" if !suggestions.with_untracked(Vec::is_empty) => {
            ev.prevent_default();
            let count = suggestions.with_untracked(Vec::len);
            active.update(|a| {
                *a = Some(match (*a, ev.key().as_str()) {
                    (None, "ArrowDown") => 0,
                    (None, _) => count - 1,
                    (Some(i), "ArrowDown") => (i + 1) % count,
                    (Some(i), _) => (i + count - 1) % count,
                })
            });
        }
        "Enter" if active.get_untracked().is_some() => {
            ev.prevent_default();
            if let Some(address) = active
                .get_untracked()
                .and_then(|i| suggestions.with_untracked(|s| s.get(i).cloned()))
            {
                pick(address);
            }
        }
        "Escape" if !suggestions.with_untracked(Vec::is_empty) => {
            ev.stop_propagation();
            suggestions.set(Vec::new());
        }
        "Enter" | "," | ";" if !(ev.ctrl_key() || ev.meta_key()) => {
            ev.prevent_default();
            commit();
        }
        "Backspace" if typed.with_untracked(String::is_empty) => {
            field.update(|f| {
                f.pop();
            });
        }
        _ => {}
    };
    view! {
        <div class="field addresses">
            <label for=id>{label}</label>
            <ul class="chips">
                {move || field.get().into_iter().enumerate().map(|(i, a)| {
                    let shown = a.display().to_owned();
                    let title = a.email.clone();
                    view! {
                        <li class="chip" title=title>
                            {shown.clone()}
                            <button type="button" aria-label=format!("{} {shown}", t.remove)
                                on:click=move |_| field.update(|f| { f.remove(i); })>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <input id=id type="text" inputmode="email" autocomplete="off" bind:value=typed
                role="combobox" aria-autocomplete="list" aria-controls=format!("{id}-suggestions")
                aria-expanded=move || (!suggestions.with(Vec::is_empty)).to_string()
                aria-activedescendant=move || active.get().map(|i| format!("{id}-suggestion-{i}"))
                on:keydown=on_keydown
                on:blur=move |_| {
                    // A click on a suggestion lands after the blur: leave it a moment.
                    set_timeout(move || { if typed.try_get_untracked().is_some() { commit() } }, std::time::Duration::from_millis(200));
                } />
            <ul id=format!("{id}-suggestions") class="suggestions" role="listbox" aria-label=label
                hidden=move || suggestions.with(Vec::is_empty)>
                {move || suggestions.get().into_iter().enumerate().map(|(i, a)| {
                    let shown = super::message::full(&a);
                    view! {
                        <li id=format!("{id}-suggestion-{i}") role="option"
                            aria-selected=move || (active.get() == Some(i)).to_string()
                            on:mousedown=move |ev| { ev.prevent_default(); pick(a.clone()); }>{shown}</li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Adds every address in `text` to `field`; returns what did not parse.
fn add_addresses(field: RwSignal<Vec<Address>>, text: &str) -> String {
    let mut rest = Vec::new();
    for piece in text.split([',', ';']) {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        match parse_address(piece) {
            Some(address) => field.update(|f| {
                if !f
                    .iter()
                    .any(|a| a.email.eq_ignore_ascii_case(&address.email))
                {
                    f.push(address);
                }
            }),
            None => rest.push(piece),
        }
    }
    rest.join(", ")
}

/// `anna@example.org` or `Anna Schmidt <anna@example.org>`; the relay checks again.
fn parse_address(text: &str) -> Option<Address> {
    let (name, email) = match text.rsplit_once('<') {
        Some((name, rest)) => (
            Some(name.trim().trim_matches('"').to_owned()).filter(|n| !n.is_empty()),
            rest.strip_suffix('>')?.trim(),
        ),
        None => (None, text),
    };
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>');
    plausible.then(|| Address {
        name,
        email: email.to_owned(),
    })
}

/// The strip over the app while messages are in the outbox: Undo while one waits, then what
/// became of it.
#[component]
pub fn OutboxStrip() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let undo = move |draft_id: String| {
        spawn_local(async move {
            match mail
                .request(WriteRequest::UndoSend {
                    draft_id: draft_id.clone(),
                })
                .await
            {
                Ok(Response::Draft(draft)) => {
                    mail.outbox.update(|o| o.retain(|i| i.draft_id != draft_id));
                    mail.compose.set(Some(*draft));
                }
                Ok(_) => mail.outbox.update(|o| {
                    if let Some(item) = o.iter_mut().find(|i| i.draft_id == draft_id) {
                        item.state = OutboxState::Sending;
                    }
                }),
                Err(e) => mail.action_error.set(Some(e)),
            }
        });
    };
    let dismiss =
        move |draft_id: String| mail.outbox.update(|o| o.retain(|i| i.draft_id != draft_id));
    move || {
        mail.outbox
            .get()
            .into_iter()
            .map(|item| {
                let subject = if item.subject.is_empty() {
                    t.no_subject.to_owned()
                } else {
                    item.subject.clone()
                };
                let id = item.draft_id.clone();
                let (class, text, action) = match item.state {
                    OutboxState::Waiting { .. } => (
                        "banner back outbox",
                        format!("{} {subject}", t.sending),
                        Some(view! {
                            <button id="undo-send" class="secondary" on:click=move |_| undo(id.clone())>{t.undo}</button>
                        }.into_any()),
                    ),
                    OutboxState::Sending => ("banner back outbox", format!("{} {subject}", t.sending), None),
                    OutboxState::Retrying { error, .. } => (
                        "banner lost outbox",
                        format!("{} {subject}: {}", t.send_retrying, t.error(error.code, &error.message)),
                        None,
                    ),
                    OutboxState::Sent => (
                        "banner back outbox",
                        format!("{} {subject}", t.sent_message),
                        Some(view! {
                            <button class="secondary" on:click=move |_| dismiss(id.clone())>{t.dismiss}</button>
                        }.into_any()),
                    ),
                    OutboxState::Failed { error, draft } => (
                        "banner lost outbox",
                        format!("{} {subject}: {}", t.not_sent, t.error(error.code, &error.message)),
                        Some(view! {
                            <button class="secondary" on:click=move |_| {
                                dismiss(id.clone());
                                mail.compose.set(Some((*draft).clone()));
                            }>{t.edit}</button>
                        }.into_any()),
                    ),
                    OutboxState::Undone => ("banner back outbox", String::new(), None),
                };
                view! { <p class=class role="status">{text}" "{action}</p> }
            })
            .collect_view()
    }
}

/// What an `outbox` event means for the strip.
pub fn outbox_event(mail: Mail, draft_id: String, subject: String, state: OutboxState) {
    mail.outbox.update(|o| {
        if matches!(state, OutboxState::Undone) {
            o.retain(|i| i.draft_id != draft_id);
            return;
        }
        match o.iter_mut().find(|i| i.draft_id == draft_id) {
            Some(item) => item.state = state.clone(),
            None => o.push(Outgoing {
                draft_id: draft_id.clone(),
                subject,
                state: state.clone(),
            }),
        }
    });
    if matches!(state, OutboxState::Sent | OutboxState::Failed { .. }) {
        // Sent has the copy now, or Drafts the message: a list of either shows it.
        mail.drafts_changed();
    }
    if matches!(state, OutboxState::Sent) {
        // The strip says "sent" for a few seconds.
        set_timeout(
            move || {
                mail.outbox.update(|o| {
                    o.retain(|i| !(i.draft_id == draft_id && matches!(i.state, OutboxState::Sent)))
                })
            },
            std::time::Duration::from_secs(5),
        );
    }
}
