//! Every string the app shows, in English and German. A missing translation is a compile error.

use protocol::{ErrorCode, FolderRole};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The saved choice, else the browser's preferred language, else English.
    pub fn initial() -> Self {
        if let Some(saved) = crate::prefs::get("lang").and_then(|tag| Self::from_tag(&tag)) {
            return saved;
        }
        let preferred = web_sys::window()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default();
        Self::from_tag(&preferred).unwrap_or(Lang::En)
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.to_ascii_lowercase();
        if tag.starts_with("de") {
            Some(Lang::De)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }
}

pub struct Strings {
    pub sign_in_title: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub sign_out: &'static str,
    pub folders: &'static str,
    pub messages: &'static str,
    pub loading: &'static str,
    pub empty_folder: &'static str,
    pub no_subject: &'static str,
    pub unknown_sender: &'static str,
    pub unread: &'static str,
    pub flagged: &'static str,
    pub has_attachments: &'static str,
    pub connection_lost: &'static str,
    pub connection_back: &'static str,
    pub back: &'static str,
    pub select_all: &'static str,
    pub select_message: &'static str,
    pub selected: &'static str,
    pub mark_read: &'static str,
    pub mark_unread: &'static str,
    pub flag: &'static str,
    pub unflag: &'static str,
    pub delete: &'static str,
    pub archive: &'static str,
    pub move_to: &'static str,
    pub search: &'static str,
    pub search_placeholder: &'static str,
    pub search_all_folders: &'static str,
    pub search_results: &'static str,
    pub clear_search: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub cc: &'static str,
    pub date: &'static str,
    pub attachments: &'static str,
    pub preview: &'static str,
    pub download_eml: &'static str,
    pub remote_blocked: &'static str,
    pub show_images: &'static str,
    pub always_show_images: &'static str,
    pub no_message: &'static str,
    pub show_quoted: &'static str,
    pub settings: &'static str,
    pub language: &'static str,
    pub theme: &'static str,
    pub theme_system: &'static str,
    pub theme_light: &'static str,
    pub theme_dark: &'static str,
    pub close: &'static str,
    pub shortcuts: &'static str,
    pub shortcut_list: &'static [(&'static str, &'static str)],
    pub inbox: &'static str,
    pub sent: &'static str,
    pub drafts: &'static str,
    pub trash: &'static str,
    pub junk: &'static str,
    pub archive_folder: &'static str,
    pub wrong_credentials: &'static str,
    pub server_unreachable: &'static str,
    pub certificate_not_trusted: &'static str,
    pub not_logged_in: &'static str,
    pub message_gone: &'static str,
    pub account_type: &'static str,
    pub imap_label: &'static str,
    pub imap_explained: &'static str,
    pub pop3_label: &'static str,
    pub pop3_explained: &'static str,
    pub check_mail: &'static str,
    /// "Collecting new mail: {done} of {total}"
    pub collecting: &'static str,
    pub collect_failed: &'static str,
    pub conversation: &'static str,
    pub in_conversation: &'static str,
    /// A list row whose structure the mail server could not describe.
    pub damaged: &'static str,
    pub damaged_explained: &'static str,
    pub truncated_explained: &'static str,
    /// Heads the messages a POP3 collection left on the server for their size.
    pub too_big: &'static str,
    pub action_failed: &'static str,
    pub dismiss: &'static str,
}

impl Strings {
    /// The user-facing text for an error; `detail` (the relay's English message) where there is
    /// no better one.
    pub fn error<'a>(&'static self, code: ErrorCode, detail: &'a str) -> &'a str {
        match code {
            ErrorCode::AuthFailed => self.wrong_credentials,
            ErrorCode::ServerUnreachable => self.server_unreachable,
            ErrorCode::CertificateNotTrusted => self.certificate_not_trusted,
            ErrorCode::NotLoggedIn => self.not_logged_in,
            ErrorCode::NoSuchMessage => self.message_gone,
            _ => detail,
        }
    }

    /// The shown name of a folder: its role's name in this language, else its last segment.
    pub fn folder_name<'a>(&'static self, role: Option<FolderRole>, leaf: &'a str) -> &'a str {
        match role {
            Some(FolderRole::Inbox) => self.inbox,
            Some(FolderRole::Sent) => self.sent,
            Some(FolderRole::Drafts) => self.drafts,
            Some(FolderRole::Trash) => self.trash,
            Some(FolderRole::Junk) => self.junk,
            Some(FolderRole::Archive) => self.archive_folder,
            None => leaf,
        }
    }
}

const EN: Strings = Strings {
    sign_in_title: "Sign in to your mail",
    email: "E-mail address",
    password: "Password",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    sign_out: "Sign out",
    folders: "Folders",
    messages: "Messages",
    loading: "Loading…",
    empty_folder: "No messages here.",
    no_subject: "(no subject)",
    unknown_sender: "(unknown sender)",
    unread: "unread",
    flagged: "flagged",
    has_attachments: "has attachments",
    connection_lost: "Connection lost. Reconnecting…",
    connection_back: "Connected again.",
    back: "Back",
    select_all: "Select all",
    select_message: "Select message",
    selected: "selected",
    mark_read: "Mark read",
    mark_unread: "Mark unread",
    flag: "Flag",
    unflag: "Remove flag",
    delete: "Delete",
    archive: "Archive",
    move_to: "Move to…",
    search: "Search",
    search_placeholder: "Search mail",
    search_all_folders: "All folders",
    search_results: "Search results",
    clear_search: "Clear search",
    from: "From",
    to: "To",
    cc: "Cc",
    date: "Date",
    attachments: "Attachments",
    preview: "Preview",
    download_eml: "Download message (.eml)",
    remote_blocked: "Remote images are blocked to protect your privacy.",
    show_images: "Show images",
    always_show_images: "Always for this sender",
    no_message: "Select a message to read it.",
    show_quoted: "Show quoted text",
    settings: "Settings",
    language: "Language",
    theme: "Theme",
    theme_system: "Like the system",
    theme_light: "Light",
    theme_dark: "Dark",
    close: "Close",
    shortcuts: "Keyboard shortcuts",
    shortcut_list: &[
        ("j / ↓", "Next message"),
        ("k / ↑", "Previous message"),
        ("Enter / o", "Open message"),
        ("u", "Back to the list"),
        ("#", "Delete"),
        ("e", "Archive"),
        ("s", "Flag or unflag"),
        ("/", "Search"),
        ("?", "This list"),
    ],
    inbox: "Inbox",
    sent: "Sent",
    drafts: "Drafts",
    trash: "Trash",
    junk: "Junk",
    archive_folder: "Archive",
    wrong_credentials: "Wrong e-mail or password.",
    server_unreachable: "The mail server cannot be reached. Please try again later.",
    certificate_not_trusted:
        "The mail server's certificate is not trusted. Please tell your administrator.",
    not_logged_in: "Your session has ended. Please sign in again.",
    message_gone: "This message is no longer there. It may have been moved or deleted.",
    account_type: "How should this webmail fetch your mail?",
    imap_label: "IMAP",
    imap_explained: "Mail stays on the server; all your devices see the same folders and read marks.",
    pop3_label: "POP3",
    pop3_explained: "Mail is downloaded into this webmail and removed from the server; read it here on every device.",
    check_mail: "Check mail",
    collecting: "Collecting new mail: {done} of {total}",
    collect_failed: "Could not collect mail; trying again later:",
    conversation: "Conversation",
    in_conversation: "messages in this conversation",
    damaged: "malformed",
    damaged_explained: "This message is malformed: it is shown from its raw text, without its attachments. Download it (.eml) to keep everything it contains.",
    truncated_explained: "This message is very long and is shown cut off. Download it (.eml) to read all of it.",
    too_big: "Too big to collect, left on the server (read with another mail program):",
    action_failed: "That did not happen:",
    dismiss: "Dismiss",
};

const DE: Strings = Strings {
    sign_in_title: "Bei Ihrem Postfach anmelden",
    email: "E-Mail-Adresse",
    password: "Passwort",
    sign_in: "Anmelden",
    signing_in: "Anmeldung läuft…",
    sign_out: "Abmelden",
    folders: "Ordner",
    messages: "Nachrichten",
    loading: "Wird geladen…",
    empty_folder: "Keine Nachrichten.",
    no_subject: "(kein Betreff)",
    unknown_sender: "(unbekannter Absender)",
    unread: "ungelesen",
    flagged: "markiert",
    has_attachments: "mit Anhang",
    connection_lost: "Verbindung unterbrochen. Verbinde neu…",
    connection_back: "Wieder verbunden.",
    back: "Zurück",
    select_all: "Alle auswählen",
    select_message: "Nachricht auswählen",
    selected: "ausgewählt",
    mark_read: "Als gelesen markieren",
    mark_unread: "Als ungelesen markieren",
    flag: "Markieren",
    unflag: "Markierung entfernen",
    delete: "Löschen",
    archive: "Archivieren",
    move_to: "Verschieben nach…",
    search: "Suchen",
    search_placeholder: "E-Mails durchsuchen",
    search_all_folders: "Alle Ordner",
    search_results: "Suchergebnisse",
    clear_search: "Suche beenden",
    from: "Von",
    to: "An",
    cc: "Kopie",
    date: "Datum",
    attachments: "Anhänge",
    preview: "Vorschau",
    download_eml: "Nachricht herunterladen (.eml)",
    remote_blocked: "Externe Bilder sind zum Schutz Ihrer Privatsphäre blockiert.",
    show_images: "Bilder anzeigen",
    always_show_images: "Immer für diesen Absender",
    no_message: "Wählen Sie eine Nachricht zum Lesen aus.",
    show_quoted: "Zitierten Text anzeigen",
    settings: "Einstellungen",
    language: "Sprache",
    theme: "Darstellung",
    theme_system: "Wie das System",
    theme_light: "Hell",
    theme_dark: "Dunkel",
    close: "Schließen",
    shortcuts: "Tastenkürzel",
    shortcut_list: &[
        ("j / ↓", "Nächste Nachricht"),
        ("k / ↑", "Vorherige Nachricht"),
        ("Enter / o", "Nachricht öffnen"),
        ("u", "Zurück zur Liste"),
        ("#", "Löschen"),
        ("e", "Archivieren"),
        ("s", "Markieren oder Markierung entfernen"),
        ("/", "Suchen"),
        ("?", "Diese Liste"),
    ],
    inbox: "Posteingang",
    sent: "Gesendet",
    drafts: "Entwürfe",
    trash: "Papierkorb",
    junk: "Spam",
    archive_folder: "Archiv",
    wrong_credentials: "E-Mail-Adresse oder Passwort falsch.",
    server_unreachable: "Der Mailserver ist nicht erreichbar. Bitte später erneut versuchen.",
    certificate_not_trusted: "Dem Zertifikat des Mailservers wird nicht vertraut. Bitte wenden Sie sich an Ihren Administrator.",
    not_logged_in: "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
    message_gone: "Diese Nachricht ist nicht mehr vorhanden. Sie wurde vielleicht verschoben oder gelöscht.",
    account_type: "Wie soll dieses Webmail Ihre E-Mails abrufen?",
    imap_label: "IMAP",
    imap_explained: "Die E-Mails bleiben auf dem Server; alle Ihre Geräte sehen dieselben Ordner und Gelesen-Markierungen.",
    pop3_label: "POP3",
    pop3_explained: "Die E-Mails werden in dieses Webmail geladen und vom Server gelöscht; Sie lesen sie hier auf jedem Gerät.",
    check_mail: "E-Mails abrufen",
    collecting: "Neue E-Mails werden abgerufen: {done} von {total}",
    collect_failed: "E-Mails konnten nicht abgerufen werden; neuer Versuch später:",
    conversation: "Unterhaltung",
    in_conversation: "Nachrichten in dieser Unterhaltung",
    damaged: "fehlerhaft",
    damaged_explained: "Diese Nachricht ist fehlerhaft aufgebaut: Sie wird aus ihrem Rohtext angezeigt, ohne Anhänge. Laden Sie sie herunter (.eml), um alles zu behalten, was sie enthält.",
    truncated_explained: "Diese Nachricht ist sehr lang und wird gekürzt angezeigt. Laden Sie sie herunter (.eml), um sie ganz zu lesen.",
    too_big: "Zu groß zum Abrufen, auf dem Server belassen (mit einem anderen E-Mail-Programm lesen):",
    action_failed: "Das hat nicht geklappt:",
    dismiss: "Schließen",
};

/// The language the views are rendered in (they are rebuilt when it changes).
pub fn current() -> Lang {
    leptos::prelude::use_context::<leptos::prelude::RwSignal<Lang>>()
        .map(|lang| leptos::prelude::GetUntracked::get_untracked(&lang))
        .unwrap_or(Lang::En)
}
