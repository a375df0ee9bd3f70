//! Parts of the app that are wasm files of their own (the editor, the settings), cut off by
//! `scripts/split-app` at each `#[wasm_split]` function and fetched the first time they are
//! used: most visits only read, and should not wait for them. The service worker keeps them.

use std::future::Future;

use leptos::{prelude::*, wasm_split::SplitLoaderError};

use crate::state::texts;

/// Shows what `part` (a `#[wasm_split]` function's call) makes once its file is there. Where it
/// cannot be fetched (offline before the service worker kept it), says so; `close` gives up,
/// and the next try fetches again.
pub fn fetched<F>(part: F, close: impl Fn() + Send + Sync + 'static) -> impl IntoView
where
    F: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    Suspend::new(async move {
        part.await.unwrap_or_else(|_| {
            let t = texts();
            view! {
                <div class="dialog" role="alertdialog" aria-labelledby="part-missing">
                    <p id="part-missing">{t.part_missing}</p>
                    <button on:click=move |_| close()>{t.close}</button>
                </div>
            }
            .into_any()
        })
    })
}
