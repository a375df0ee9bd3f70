//! The message list: a virtualized list (fixed row height; only the rows in view, plus a few,
//! are in the DOM) that loads pages of rows as they scroll into view, so a folder of 100,000
//! messages scrolls like one of ten. Search results show in the same place.

use std::collections::{HashMap, HashSet};

use leptos::{html, prelude::*, task::spawn_local};
use protocol::{ErrorCode, Flag, FolderDelta, MessageSummary, Request, Response, SearchHit};

use super::{message::BulkActions, swipe::Swipe};
use crate::{
    dates,
    icons::{icon, Icon},
    state::{texts, Link, Mail, Search},
};

/// Must match `.row` height in style.css.
pub const ROW_HEIGHT: u32 = 72;
const PAGE: u32 = 50;
/// Rows rendered beyond the visible ones on each side.
const OVERSCAN: u32 = 8;

#[component]
pub fn MessageList() -> impl IntoView {
    let mail = expect_context::<Mail>();
    move || match mail.search.get() {
        Some(search) => view! { <SearchResults search /> }.into_any(),
        None => view! { <FolderList /> }.into_any(),
    }
}

#[component]
fn FolderList() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let list = mail.list;
    let container = NodeRef::<html::Div>::new();
    // Whole pixels: no float formatting in the bundle.
    let scroll_top = RwSignal::new(0u32);
    let viewport = RwSignal::new(800u32);
    // Pages asked for in this generation; a new generation (folder change, reload) asks again.
    let requested = list.requested;
    let generation = StoredValue::new(0u32);
    // A folder switch under way: the first page that comes replaces every row shown.
    let replacing = StoredValue::new(false);
    // Offline, and the device keeps nothing of this folder.
    let unavailable = RwSignal::new(false);

    let load = move |page: u32| {
        let folder = mail.folder.get_untracked();
        let asked_in = generation.get_value();
        spawn_local(async move {
            let request = Request::ListMessages {
                folder,
                offset: page * PAGE,
                limit: PAGE,
            };
            let answer = mail.request(request).await;
            // The list was closed meanwhile (a search took its place): nothing to show.
            let Some(current) = generation.try_get_value() else {
                return;
            };
            if page == 0 && current == asked_in {
                let not_kept = matches!(&answer, Err(e) if e.code == ErrorCode::NotKept);
                unavailable.set(not_kept);
            }
            let Ok(Response::MessageList(answer)) = answer else {
                requested.update_value(|r| {
                    r.remove(&page);
                });
                // The other folder's rows must not stand in for this one's.
                if current == asked_in && replacing.get_value() {
                    replacing.set_value(false);
                    list.rows.set(Default::default());
                    list.total.set(None);
                }
                return;
            };
            if current != asked_in {
                return; // the folder changed meanwhile
            }
            // A page of another state of the folder than the rows shown: load again.
            match list.version.get_value() {
                Some(version) if version != answer.version => {
                    mail.version.update(|v| *v += 1);
                    return;
                }
                _ => list.version.set_value(Some(answer.version)),
            }
            if answer.offset == 0
                && answer.folder == "INBOX"
                && mail.link.get_untracked() != Link::Lost
            {
                mail.device.fetch_ahead(mail, &answer);
            }
            list.total.set(Some(answer.total));
            let place = |rows: &mut HashMap<u32, MessageSummary>| {
                for (i, message) in answer.messages.into_iter().enumerate() {
                    rows.insert(answer.offset + i as u32, message);
                }
            };
            if replacing.get_value() {
                // The other folder's rows go in the same redraw as these come.
                replacing.set_value(false);
                let mut rows = HashMap::new();
                place(&mut rows);
                list.rows.set(rows);
            } else {
                list.rows.update(place);
            }
        });
    };

    // A new folder, or news about this one: start over (rows stay until replaced: no flicker).
    Effect::new(move |previous: Option<String>| {
        let folder = mail.folder.get();
        mail.version.get();
        generation.update_value(|g| *g += 1);
        list.version.set_value(None);
        // The first page is asked for before anything is redrawn, so the request is on its
        // way while the old rows are cleared (the pages effect below then finds it asked).
        requested.set_value(HashSet::from([0]));
        load(0);
        if previous.as_ref() != Some(&folder) {
            // The old folder's rows stay until the new ones replace them in one redraw (two
            // redraws of every row, blank then full, cost a phone as much as the network).
            replacing.set_value(previous.is_some());
            if previous.is_none() {
                list.rows.set(Default::default());
                list.total.set(None);
            }
            if let Some(el) = container.get_untracked() {
                el.set_scroll_top(0);
            }
            scroll_top.set(0);
        } else {
            // Positions shift when mail arrives or goes: drop what is not in view.
            list.rows.set(Default::default());
        }
        folder
    });

    let visible = move || {
        let total = list.total.get().unwrap_or(PAGE);
        let first = scroll_top.get() / ROW_HEIGHT;
        let count = viewport.get().div_ceil(ROW_HEIGHT) + 1;
        let start = first.saturating_sub(OVERSCAN);
        let end = (first + count + OVERSCAN).min(total);
        start..end
    };

    // Ask for the pages that are in view and not loaded (or with a gap a delta left).
    Effect::new(move |_| {
        mail.version.get();
        mail.folder.get();
        let range = visible();
        let total = list.total.get().unwrap_or(u32::MAX);
        let pages = (range.start / PAGE)..=(range.end.saturating_sub(1) / PAGE);
        for page in pages {
            let whole = page * PAGE..((page + 1) * PAGE).min(total);
            // An empty page is loaded all the same: the total it was cut to may be an
            // earlier state's (an empty folder that mail has since arrived in).
            if !whole.is_empty()
                && list
                    .rows
                    .with(|rows| whole.clone().all(|i| rows.contains_key(&i)))
            {
                continue;
            }
            let fresh = requested
                .try_update_value(|r| r.insert(page))
                .unwrap_or(false);
            if fresh {
                load(page);
            }
        }
    });

    // Keep the keyboard cursor in view.
    Effect::new(move |_| {
        let (Some(cursor), Some(el)) = (list.cursor.get(), container.get()) else {
            return;
        };
        let top = (cursor * ROW_HEIGHT) as i32;
        let (height, scroll) = (el.client_height(), el.scroll_top());
        let row = ROW_HEIGHT as i32;
        if top < scroll {
            el.set_scroll_top(top);
        } else if top + row > scroll + height {
            el.set_scroll_top(top + row - height);
        }
    });

    let measure = move || {
        if let Some(el) = container.get_untracked() {
            viewport.set((el.client_height().max(0) as u32).max(ROW_HEIGHT));
            scroll_top.set(el.scroll_top().max(0) as u32);
        }
    };
    Effect::new(move |_| {
        if container.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    // Pull to refresh: a downward swipe that starts at the top.
    let touch_start = StoredValue::new(None::<i32>);
    let on_touch_start = move |ev: leptos::ev::TouchEvent| {
        let at_top = container
            .get_untracked()
            .is_some_and(|el| el.scroll_top() <= 0);
        let y = ev.touches().get(0).map(|t| t.client_y());
        touch_start.set_value(if at_top { y } else { None });
    };
    let on_touch_end = move |ev: leptos::ev::TouchEvent| {
        let end = ev.changed_touches().get(0).map(|t| t.client_y());
        if let (Some(start), Some(end)) = (touch_start.get_value(), end) {
            if end - start > 80 {
                check_mail(mail);
            }
        }
        touch_start.set_value(None);
    };

    let folder_label = move || {
        let name = mail.folder.get();
        let role = mail.folder_named(&name).and_then(|f| f.role);
        t.folder_name(role, &name).to_owned()
    };
    let empty = move || list.total.get() == Some(0);

    view! {
        <div class="list-head">
            <h2 class="pane-title">{folder_label}</h2>
            <button class="icon" aria-label=t.check_mail title=t.check_mail
                on:click=move |_| check_mail(mail)>{icon(Icon::Refresh)}</button>
        </div>
        <BulkActions />
        <Show when=empty>
            <p class="status">{t.empty_folder}</p>
        </Show>
        <Show when=move || unavailable.get()>
            <p class="status not-kept">{t.not_kept}</p>
        </Show>
        <div class="list" node_ref=container on:scroll=move |_| measure()
            on:touchstart=on_touch_start on:touchend=on_touch_end>
            <ul class="rows" role="list" aria-label=folder_label
                style:height=move || format!("{}px", u64::from(list.total.get().unwrap_or(0)) * u64::from(ROW_HEIGHT))>
                <For each=visible key=|i| *i let:index>
                    <Row index />
                </For>
            </ul>
        </div>
    }
}

/// Applies an `Event::FolderDelta` of the folder shown: rows go, come and change in place,
/// the cursor moves with its row. A delta for another state of the list than the one shown
/// loads the list again instead.
pub fn apply_delta(mail: Mail, delta: FolderDelta) {
    let list = mail.list;
    if list.version.get_value() != Some(delta.from_version) {
        mail.version.update(|v| *v += 1);
        return;
    }
    list.version.set_value(Some(delta.version));
    let positions: Vec<u32> = delta.added.iter().map(|a| a.position).collect();
    let moved = |at: u32| shifted(at, &delta.removed, &positions);
    list.rows.update(|rows| {
        let mut kept: std::collections::HashMap<u32, MessageSummary> = rows
            .drain()
            .filter_map(|(at, row)| Some((moved(at)?, row)))
            .collect();
        for placed in delta.added {
            kept.insert(placed.position, placed.message);
        }
        for row in delta.changed {
            if let Some(old) = kept.values_mut().find(|r| r.uid == row.uid) {
                *old = row;
            }
        }
        *rows = kept;
    });
    list.cursor.update(|cursor| {
        *cursor = cursor.map(|at| moved(at).unwrap_or(at).min(delta.total.saturating_sub(1)))
    });
    list.total.set(Some(delta.total));
    // Pages with a gap now (the row that moved up from an unloaded page) load again.
    list.requested.set_value(HashSet::new());
}

/// Where the row at `at` is after the rows at `removed` (old positions) went and rows came
/// at `added` (new positions, ascending); `None` if it went.
fn shifted(at: u32, removed: &[u32], added: &[u32]) -> Option<u32> {
    if removed.contains(&at) {
        return None;
    }
    let mut at = at - removed.iter().filter(|r| **r < at).count() as u32;
    for position in added {
        if *position <= at {
            at += 1;
        }
    }
    Some(at)
}

/// Applies an `Event::Conversations` of the folder shown.
pub fn apply_conversations(mail: Mail, version: u32, sizes: Vec<(u32, u32)>) {
    if mail.list.version.get_value() != Some(version) {
        return;
    }
    let sizes: std::collections::HashMap<u32, u32> = sizes.into_iter().collect();
    mail.list.rows.update(|rows| {
        for row in rows.values_mut() {
            row.thread_size = sizes.get(&row.uid).copied().unwrap_or(1);
        }
    });
}

/// One row of the folder list, at position `index`; its content arrives when its page does.
#[component]
fn Row(index: u32) -> impl IntoView {
    let mail = expect_context::<Mail>();
    // Drawn again only when this row changed: a page coming leaves the rows shown as they are.
    let message = Memo::new(move |_| mail.list.rows.with(|rows| rows.get(&index).cloned()));
    let top = format!("{}px", u64::from(index) * u64::from(ROW_HEIGHT));
    view! {
        <li class="row-slot" style:top=top>
            {move || match message.get() {
                Some(message) => view! { <MessageRow message folder=None index /> }.into_any(),
                None => view! { <div class="row placeholder" aria-hidden="true"></div> }.into_any(),
            }}
        </li>
    }
}

/// A message's row: checkbox, sender, date, subject, marks, preview. `folder` is set for search hits
/// from other folders.
#[component]
fn MessageRow(message: MessageSummary, folder: Option<String>, index: u32) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let uid = message.uid;
    let row_folder = folder
        .clone()
        .unwrap_or_else(|| mail.folder.get_untracked());
    let open_folder = row_folder.clone();
    let is_open = move || {
        mail.open.with(|open| {
            open.as_ref()
                .is_some_and(|(f, u)| *f == open_folder && *u == uid)
        })
    };
    let is_open_now = is_open.clone();
    let checked = move || mail.list.checked.with(|c| c.contains(&uid));
    let toggle = move |ev: leptos::ev::MouseEvent| {
        let shift = ev.shift_key();
        mail.list.checked.update(|c| {
            let anchor = c.last().copied();
            if let Some(pos) = c.iter().position(|u| *u == uid) {
                c.remove(pos);
                return;
            }
            if let (true, Some(anchor)) = (shift, anchor) {
                // Everything loaded between the last checked row and this one.
                let rows = mail.list.rows.get_untracked();
                let anchor_index = rows.iter().find(|(_, m)| m.uid == anchor).map(|(i, _)| *i);
                if let Some(a) = anchor_index {
                    for i in a.min(index)..=a.max(index) {
                        if let Some(m) = rows.get(&i) {
                            if !c.contains(&m.uid) {
                                c.push(m.uid);
                            }
                        }
                    }
                }
            }
            if !c.contains(&uid) {
                c.push(uid);
            }
        });
    };
    let sender = message
        .from
        .as_ref()
        .map(|a| a.display().to_owned())
        .unwrap_or_else(|| t.unknown_sender.to_owned());
    let subject = if message.subject.is_empty() {
        t.no_subject.to_owned()
    } else {
        message.subject.clone()
    };
    let cursor = move || mail.list.cursor.get() == Some(index) && folder_is_list(&mail);
    let in_thread =
        (message.thread_size > 1).then(|| format!("{} {}", message.thread_size, t.in_conversation));
    let marks = [
        (message.unread, t.unread),
        (message.flagged, t.flagged),
        (message.has_attachments, t.has_attachments),
        (message.damaged, t.damaged),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, label)| label.to_owned())
    .chain(in_thread)
    .collect::<Vec<_>>()
    .join(", ");
    let swipe = Swipe::new();
    let swipe_folder = row_folder.clone();
    let kept_folder = row_folder.clone();
    let not_kept =
        move || mail.link.get() == Link::Lost && !mail.device.has_message(&kept_folder, uid);
    let open = move |_| {
        mail.list.cursor.set(Some(index));
        mail.open_message(row_folder.clone(), uid);
    };
    let (initials, hue) = avatar(message.from.as_ref());
    view! {
        <div class="row" class:unread=message.unread class:open=is_open class:cursor=cursor
            class:not-kept=not_kept
            data-uid=uid style:transform=move || swipe.transform()
            on:touchstart=move |ev| swipe.begin(&ev, mail, uid) on:touchmove=move |ev| swipe.follow(&ev)
            on:touchend=move |ev| swipe.end(&ev, mail, t, swipe_folder.clone(), uid)
            on:touchcancel=move |_| swipe.cancel()>
            <input type="checkbox" class="check" aria-label=t.select_message
                prop:checked=checked on:click=toggle />
            <span class=format!("avatar hue{hue}") aria-hidden="true">{initials}</span>
            <button class="open" on:click=open aria-current=move || is_open_now().then_some("true")>
                <span class="from">{sender}</span>
                <time class="date">{dates::short(message.date)}</time>
                <span class="subject">
                    {subject}
                    {(!marks.is_empty()).then(|| view! { <span class="sr-only">" · "{marks}</span> })}
                </span>
                <span class="marks" aria-hidden="true">
                    {(message.thread_size > 1).then(|| view! { <span class="thread-count">{message.thread_size}</span> })}
                    {message.flagged.then(|| icon(Icon::Flag))}
                    {message.has_attachments.then(|| icon(Icon::Attachment))}
                    {message.damaged.then(|| view! { <span class="damaged" title=t.damaged_explained>{t.damaged}</span> })}
                    {folder.map(|f| view! { <span class="in-folder">{f}</span> })}
                </span>
                {(!message.preview.is_empty()).then(|| view! { <span class="preview">{message.preview.clone()}</span> })}
            </button>
        </div>
    }
}

/// A sender's initials ("Anna Berg" → "AB", "bob@…" → "B") and one of eight colours, the
/// same for the same sender every time.
fn avatar(from: Option<&protocol::Address>) -> (String, u32) {
    let Some(from) = from else {
        return ("?".to_owned(), 0);
    };
    let name = from
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let words: Vec<&str> = match name {
        Some(name) => name.split_whitespace().collect(),
        None => vec![from.email.split('@').next().unwrap_or_default()],
    };
    let initial = |word: &&str| word.chars().find(|c| c.is_alphanumeric());
    let mut initials: String = words.first().and_then(initial).into_iter().collect();
    if words.len() > 1 {
        initials.extend(words.last().and_then(initial));
    }
    let initials = initials.to_uppercase();
    let hue = from
        .email
        .to_lowercase()
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8;
    (
        if initials.is_empty() {
            "?".to_owned()
        } else {
            initials
        },
        hue,
    )
}

/// True when the list shows a folder (not search results): the cursor belongs to it then.
fn folder_is_list(mail: &Mail) -> bool {
    mail.search.with(Option::is_none)
}

#[component]
fn SearchResults(search: Search) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let hits = RwSignal::new(None::<Result<Vec<SearchHit>, String>>);
    Effect::new(move |_| {
        mail.version.get();
        let folder = (!search.all_folders).then(|| mail.folder.get_untracked());
        let query = search.query.clone();
        spawn_local(async move {
            let answer = mail.request(Request::Search { folder, query }).await;
            hits.set(Some(match answer {
                Ok(Response::SearchResults { hits }) => Ok(hits),
                Ok(_) => Err("unexpected answer".into()),
                Err(e) => Err(t.error(e.code, &e.message).to_owned()),
            }));
        });
    });
    view! {
        <div class="list-head">
            <h2 class="pane-title">{t.search_results}</h2>
            <button class="secondary" on:click=move |_| mail.search.set(None)>{t.clear_search}</button>
        </div>
        {move || match hits.get() {
            None => view! { <p class="status">{t.loading}</p> }.into_any(),
            Some(Err(message)) => view! { <p class="status error" role="alert">{message}</p> }.into_any(),
            Some(Ok(found)) if found.is_empty() => view! { <p class="status">{t.empty_folder}</p> }.into_any(),
            Some(Ok(found)) => {
                let current = mail.folder.get_untracked();
                view! {
                    <ul class="rows results" role="list" aria-label=t.search_results>
                        {found
                            .into_iter()
                            .enumerate()
                            .map(|(i, hit)| {
                                let folder = (hit.folder != current || search.all_folders).then_some(hit.folder);
                                view! { <li class="row-slot static"><MessageRow message=hit.message folder index=i as u32 /></li> }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }
        }}
    }
}

/// Reloads the list, and asks the relay to fetch new mail (POP3) or report what is there (IMAP).
fn check_mail(mail: Mail) {
    mail.version.update(|v| *v += 1);
    mail.act(Request::CheckMail);
}

/// Sets or clears `flag` on the checked messages, or on `uids` when given.
pub fn flag_messages(mail: Mail, folder: String, uids: Vec<u32>, flag: Flag, set: bool) {
    mail.act(set_flag(folder, uids, flag, set));
}

/// The request that sets or clears one flag.
pub fn set_flag(folder: String, uids: Vec<u32>, flag: Flag, set: bool) -> Request {
    Request::SetFlags {
        folder,
        uids,
        flags: vec![flag],
        set,
    }
}
