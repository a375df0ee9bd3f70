//! Icons as inline SVG (stroke drawings in the text colour), so they look the same on every
//! device, with or without an emoji font. Always decorative: the control carries the label.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub enum Icon {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
    Folder,
    Search,
    Refresh,
    Settings,
    Menu,
    Back,
    Flag,
    Attachment,
    Write,
    Reply,
    More,
}

fn path(icon: Icon) -> &'static str {
    match icon {
        Icon::Inbox => "M22 12h-6l-2 3h-4l-2-3H2M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z",
        Icon::Sent => "M22 2 11 13M22 2l-7 20-4-9-9-4z",
        Icon::Write => "M12 5v14M5 12h14",
        Icon::Drafts => "M12 20h9M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z",
        Icon::Trash => "M3 6h18M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6M10 11v6M14 11v6M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2",
        Icon::Junk => "M7.86 2h8.28L22 7.86v8.28L16.14 22H7.86L2 16.14V7.86zM12 8v4M12 16h.01",
        Icon::Archive => "M21 8v13H3V8M1 3h22v5H1zM10 12h4",
        Icon::Folder => "M22 19a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h5l2 3h9a2 2 0 0 1 2 2z",
        Icon::Search => "M11 3a8 8 0 1 0 0 16 8 8 0 0 0 0-16zM21 21l-4.35-4.35",
        Icon::Refresh => "M23 4v6h-6M1 20v-6h6M3.51 9a9 9 0 0 1 14.85-3.36L23 10M1 14l4.64 4.36A9 9 0 0 0 20.49 15",
        Icon::Settings => "M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6",
        Icon::Menu => "M3 12h18M3 6h18M3 18h18",
        Icon::Reply => "M9 17l-5-5 5-5M4 12h11a5 5 0 0 1 5 5v2",
        Icon::More => "M5 12h.01M12 12h.01M19 12h.01",
        Icon::Back => "M19 12H5M12 19l-7-7 7-7",
        Icon::Flag => "M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1zM4 22v-7",
        Icon::Attachment => "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48",
    }
}

pub fn icon(icon: Icon) -> impl IntoView {
    view! {
        <svg class="icon-svg" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d=path(icon) />
        </svg>
    }
}
