//! Every string the app shows, in English and German. A missing translation is a compile error.

use protocol::ErrorCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The browser's preferred language, English when it is neither English nor German.
    pub fn detect() -> Self {
        let preferred = web_sys::window()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default();
        if preferred.to_ascii_lowercase().starts_with("de") {
            Lang::De
        } else {
            Lang::En
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
    pub inbox: &'static str,
    pub loading: &'static str,
    pub empty_folder: &'static str,
    pub no_subject: &'static str,
    pub unread: &'static str,
    pub connection_lost: &'static str,
    pub wrong_credentials: &'static str,
    pub server_unreachable: &'static str,
    pub certificate_not_trusted: &'static str,
    pub not_logged_in: &'static str,
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
            _ => detail,
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
    inbox: "Inbox",
    loading: "Loading…",
    empty_folder: "No messages here.",
    no_subject: "(no subject)",
    unread: "unread",
    connection_lost: "Connection to the server lost.",
    wrong_credentials: "Wrong e-mail or password.",
    server_unreachable: "The mail server cannot be reached. Please try again later.",
    certificate_not_trusted:
        "The mail server's certificate is not trusted. Please tell your administrator.",
    not_logged_in: "Your session has ended. Please sign in again.",
};

const DE: Strings = Strings {
    sign_in_title: "Bei Ihrem Postfach anmelden",
    email: "E-Mail-Adresse",
    password: "Passwort",
    sign_in: "Anmelden",
    signing_in: "Anmeldung läuft…",
    sign_out: "Abmelden",
    inbox: "Posteingang",
    loading: "Wird geladen…",
    empty_folder: "Keine Nachrichten.",
    no_subject: "(kein Betreff)",
    unread: "ungelesen",
    connection_lost: "Verbindung zum Server unterbrochen.",
    wrong_credentials: "E-Mail-Adresse oder Passwort falsch.",
    server_unreachable: "Der Mailserver ist nicht erreichbar. Bitte später erneut versuchen.",
    certificate_not_trusted: "Dem Zertifikat des Mailservers wird nicht vertraut. Bitte wenden Sie sich an Ihren Administrator.",
    not_logged_in: "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
};
