//! Parts of the app that are wasm files of their own (the editor, the settings), cut off by
//! `scripts/split-app` at each `#[wasm_split]` function and fetched the first time they are
//! used: most visits only read, and should not wait for them. The service worker keeps them.

use std::future::Future;

use leptos::{html, prelude::*, wasm_split::SplitLoaderError};
use wasm_bindgen::JsCast;

use crate::state::texts;

/// Shows what `part` (a `#[wasm_split]` function's call) makes once its file is there, and
/// "Loading…" until then. Where it cannot be fetched, says why and offers what helps: offline
/// (before the service worker kept it), to try again later; online, the relay no longer has
/// it (a newer release came while this tab was open), to reload. `close` gives up; the next
/// try fetches again.
pub fn fetched<F>(part: F, close: impl Fn() + Send + Sync + 'static) -> impl IntoView
where
    F: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    let t = texts();
    // Not `<Suspense>`: its machinery would cost the part every visit needs 2 KB (brotli).
    let coming = RwSignal::new(true);
    let shown = Suspend::new(async move {
        let shown = match part.await {
            Ok(view) => view,
            Err(_) => missing(close).into_any(),
        };
        coming.set(false);
        shown
    });
    view! {
        {move || coming.get().then(|| view! { <div class="dialog" role="status">{t.loading}</div> })}
        {shown}
    }
}

/// A dialog that is a part of its own: shown while `open`, closed by setting it false.
pub fn dialog<F>(open: RwSignal<bool>, part: fn() -> F) -> impl IntoView
where
    F: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    // Built again only when it opens, not each time the flag is set (a language switch sets it).
    let shown = Memo::new(move |_| open.get());
    move || {
        shown
            .get()
            .then(|| fetched(part(), move || open.set(false)))
    }
}

fn missing(close: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let t = texts();
    let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
    let dialog = NodeRef::<html::Div>::new();
    // Said at once to a screen reader, as a dialog whose first button takes the focus (once in
    // the document: the dialog is made before it is placed).
    Effect::new(move |_| {
        if let Some(dialog) = dialog.get() {
            request_animation_frame(move || {
                if let Ok(Some(button)) = dialog.query_selector("button") {
                    let _ = button.unchecked_into::<web_sys::HtmlElement>().focus();
                }
            });
        }
    });
    let reload = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <div class="dialog-backdrop"></div>
        <div class="dialog" role="alertdialog" aria-modal="true" aria-label=t.part_missing_title
            node_ref=dialog>
            <p class="part-missing">{if online { t.part_outdated } else { t.part_missing }}</p>
            {online.then(|| view! { <button on:click=reload>{t.reload}</button> })}
            <button class:secondary=online on:click=move |_| close()>{t.close}</button>
        </div>
    }
}
