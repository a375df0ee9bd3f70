//! Parts of the app that are wasm files of their own (the editor, the settings), cut off by
//! `scripts/split-app` at each `#[wasm_split]` function and fetched the first time they are
//! used: most visits only read, and should not wait for them. The service worker keeps them.

use std::future::Future;

use leptos::{html, prelude::*, wasm_split::SplitLoaderError};

use crate::state::texts;

/// Shows what `part` (a `#[wasm_split]` function's call) makes once its file is there, and
/// "Loading…" until then. Where it cannot be fetched, says why and offers what helps: offline
/// (before the service worker kept it), to try again later; online, the relay no longer has
/// it (a newer release came while this tab was open), to reload. `close` gives up; the next
/// try fetches again.
pub fn fetched<F>(part: F, close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView
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

fn missing(close: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let t = texts();
    let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
    let button = NodeRef::<html::Button>::new();
    // Said at once to a screen reader, as a dialog that takes the focus (once in the document:
    // the button is made before it is placed).
    Effect::new(move |_| {
        if let Some(button) = button.get() {
            request_animation_frame(move || {
                let _ = button.focus();
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
        <div class="dialog" role="alertdialog" aria-modal="true" aria-label=t.part_missing_title>
            <p class="part-missing">{if online { t.part_outdated } else { t.part_missing }}</p>
            {if online {
                view! { <button node_ref=button on:click=reload>{t.reload}</button> }.into_any()
            } else {
                let close = close.clone();
                view! { <button node_ref=button on:click=move |_| close()>{t.close}</button> }
                    .into_any()
            }}
            {online.then(|| {
                let close = close.clone();
                view! { <button class="secondary" on:click=move |_| close()>{t.close}</button> }
            })}
        </div>
    }
}
