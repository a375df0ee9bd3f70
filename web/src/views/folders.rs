//! The folder tree: special folders first with their icons, then the user's, nested by the
//! server's separator, each with its unread count.

use leptos::prelude::*;
use protocol::{Folder, FolderRole};

use crate::{
    icons::{icon, Icon},
    state::{texts, Mail},
};

#[component]
pub fn FolderTree() -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let sorted = move || {
        let mut folders = mail.folders.get();
        folders.retain(|f| f.selectable || has_children(&mail.folders.get_untracked(), f));
        folders.sort_by_key(|f| (role_rank(f.role), f.name.to_lowercase()));
        folders
    };
    view! {
        <h2 class="pane-title">{t.folders}</h2>
        <ul class="folders" role="tree" aria-label=t.folders>
            <For each=sorted key=|f| (f.name.clone(), f.unread, f.total) let:folder>
                <FolderItem folder />
            </For>
        </ul>
    }
}

#[component]
fn FolderItem(folder: Folder) -> impl IntoView {
    let mail = expect_context::<Mail>();
    let t = texts();
    let depth = folder
        .delimiter
        .map_or(0, |d| folder.name.matches(d).count());
    let leaf = folder
        .delimiter
        .and_then(|d| folder.name.rsplit(d).next())
        .unwrap_or(&folder.name)
        .to_owned();
    let label = t.folder_name(folder.role, &leaf).to_owned();
    let name = folder.name.clone();
    let current = {
        let name = name.clone();
        move || mail.search.get().is_none() && mail.folder.get() == name
    };
    let is_current = current.clone();
    let unread = folder.unread;
    let selectable = folder.selectable;
    view! {
        <li role="treeitem" attr:aria-level=depth + 1 aria-selected=move || current().to_string()
            class:current=is_current class=format!("depth-{}", depth.min(4))>
            <button disabled=!selectable on:click=move |_| mail.go_to(name.clone())>
                {icon(role_icon(folder.role))}
                <span class="folder-name">{label}</span>
                {(unread > 0).then(|| view! {
                    <span class="count">{unread}<span class="sr-only">" "{t.unread}</span></span>
                })}
            </button>
        </li>
    }
}

fn role_icon(role: Option<FolderRole>) -> Icon {
    match role {
        Some(FolderRole::Inbox) => Icon::Inbox,
        Some(FolderRole::Sent) => Icon::Sent,
        Some(FolderRole::Drafts) => Icon::Drafts,
        Some(FolderRole::Trash) => Icon::Trash,
        Some(FolderRole::Junk) => Icon::Junk,
        Some(FolderRole::Archive) => Icon::Archive,
        None => Icon::Folder,
    }
}

fn role_rank(role: Option<FolderRole>) -> u8 {
    match role {
        Some(FolderRole::Inbox) => 0,
        Some(FolderRole::Drafts) => 1,
        Some(FolderRole::Sent) => 2,
        Some(FolderRole::Archive) => 3,
        Some(FolderRole::Junk) => 4,
        Some(FolderRole::Trash) => 5,
        None => 6,
    }
}

fn has_children(all: &[Folder], parent: &Folder) -> bool {
    parent.delimiter.is_some_and(|d| {
        let prefix = format!("{}{d}", parent.name);
        all.iter().any(|f| f.name.starts_with(&prefix))
    })
}
