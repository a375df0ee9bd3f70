//! The relay's IMAP client: one connection, driven by imap-next's sans-I/O state machine.
//!
//! `connection` is the thin I/O driver (TCP, TLS, STARTTLS, timeouts, IDLE); `folders` and
//! `messages` say what the protocol's requests mean in IMAP; `fetch`, `structure` and `utf7` are
//! pure translations between IMAP's types and the protocol's, tested on server bytes.

pub mod account;
mod connection;
mod fetch;
mod folders;
mod messages;
mod mirror;
mod structure;
mod sync;
mod unreadable;
mod utf7;
mod writing;

pub use connection::ImapConnection;
pub use mirror::Shelf;

use imap_codec::imap_types::response::{Code, StatusBody};
use protocol::ErrorCode;

use crate::link::LinkError;

impl From<ImapError> for protocol::ErrorInfo {
    fn from(error: ImapError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

/// For `fuzz/` only (feature `fuzzing`): one server response through the same translations
/// a list page and the reader use (FETCH data into rows, BODYSTRUCTURE into a plan and its
/// parts, THREAD into conversation sizes).
#[cfg(feature = "fuzzing")]
pub fn fuzz_response(bytes: &[u8]) {
    use imap_codec::imap_types::{fetch::MessageDataItem, IntoStatic};
    use imap_codec::{decode::Decoder, imap_types::response::Response, ResponseCodec};
    let Ok((_, Response::Data(data))) = ResponseCodec::default().decode(bytes) else {
        return;
    };
    let data = data.into_static();
    if let imap_codec::imap_types::response::Data::Fetch { items, .. } = &data {
        for item in items.as_ref() {
            if let MessageDataItem::BodyStructure(s) | MessageDataItem::Body(s) = item {
                let plan = structure::plan(s);
                for attachment in &plan.attachments {
                    assert!(structure::find_part(s, &attachment.part).is_some());
                }
            }
        }
    }
    let _ = fetch::thread_sizes(vec![data.clone()]);
    let _ = fetch::newest_first(fetch::numbered_rows(vec![data]));
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the mail server does not offer STARTTLS; refusing to continue without encryption")]
    StartTlsMissing,
    #[error("wrong e-mail or password")]
    AuthFailed,
    #[error("the mail server refused: {0}")]
    Refused(String),
    #[error("no such folder: {0}")]
    NoSuchFolder(String),
    #[error("a folder of that name exists already: {0}")]
    FolderExists(String),
    #[error("no such message (it may have been moved or deleted)")]
    NoSuchMessage,
    #[error("the mailbox is full: {0}")]
    OverQuota(String),
    #[error("{0}")]
    BadInput(String),
    #[error("the mail server sent something unreadable: {0}")]
    Protocol(String),
    /// One answer could not be read; the connection is fine and goes on.
    #[error("the mail server's answer could not be read: {0}")]
    Unreadable(String),
}

impl ImapError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Link(link) => link.code(),
            Self::StartTlsMissing | Self::Protocol(_) | Self::Unreadable(_) => {
                ErrorCode::ServerProtocol
            }
            Self::AuthFailed => ErrorCode::AuthFailed,
            Self::Refused(_) => ErrorCode::ServerRefused,
            Self::NoSuchFolder(_) => ErrorCode::NoSuchFolder,
            Self::FolderExists(_) => ErrorCode::FolderExists,
            Self::NoSuchMessage => ErrorCode::NoSuchMessage,
            Self::OverQuota(_) => ErrorCode::OverQuota,
            Self::BadInput(_) => ErrorCode::BadRequest,
        }
    }

    /// True when the connection is gone and a new one may help.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Self::Link(_) | Self::Protocol(_))
    }

    /// A NO or BAD, named by its response code (RFC 5530) where the server gave one.
    fn from_status(status: &StatusBody<'_>) -> Self {
        let text = status.text.to_string();
        match &status.code {
            Some(Code::OverQuota) => Self::OverQuota(text),
            Some(Code::TryCreate) => Self::NoSuchFolder(text),
            Some(Code::Other(other)) => match other.inner().to_ascii_uppercase().as_slice() {
                b"ALREADYEXISTS" => Self::FolderExists(text),
                b"NONEXISTENT" => Self::NoSuchFolder(text),
                // RFC 5530: some of the messages were expunged by another session meanwhile.
                b"EXPUNGEISSUED" => Self::NoSuchMessage,
                b"AUTHENTICATIONFAILED" | b"AUTHORIZATIONFAILED" => Self::AuthFailed,
                _ => Self::Refused(text),
            },
            _ => Self::Refused(text),
        }
    }
}
