//! The vocabulary between the browser app and the relay.
//!
//! Both sides compile this crate (the app to wasm32, the relay natively), so a change to a message is
//! one edit that the compiler checks on both ends. Everything travels as JSON: over HTTP for logging in
//! and out, over one WebSocket for everything else. `docs/protocol.md` shows example exchanges.

use serde::{Deserialize, Serialize};

mod tagged;

/// The WebSocket path, relative to the relay's origin.
pub const WS_PATH: &str = "/ws";
/// `POST` a [`LoginRequest`]; answers [`SessionInfo`] and sets the session cookie, or an [`ErrorInfo`].
pub const LOGIN_PATH: &str = "/api/login";
/// `POST` with the session cookie: ends the session and its mail-server connection.
pub const LOGOUT_PATH: &str = "/api/logout";
/// Ends every session of the logged-in user, on every device.
pub const LOGOUT_EVERYWHERE_PATH: &str = "/api/logout-everywhere";
/// `GET` with the session cookie: [`SessionInfo`] if the cookie names a live session, else 401.
pub const SESSION_PATH: &str = "/api/session";
/// `GET ?folder=&uid=[&part=][&inline=true]` with the session cookie: an attachment (decoded),
/// or without `part` the whole message as .eml; streamed.
pub const DOWNLOAD_PATH: &str = "/api/download";

/// `POST` the bytes of one file (streamed) with the session cookie, `?name=&type=`: keeps it for
/// a message being written and answers an [`Upload`]. Refused (413, `too_big`) when
/// `Content-Length` says it would not fit the message size limit.
pub const UPLOAD_PATH: &str = "/api/upload";

/// `GET`: [`ServerInfo`], what the login form offers.
pub const SERVER_INFO_PATH: &str = "/api/server";

/// Body of `POST /api/login`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Which kind of account to open; IMAP when absent.
    #[serde(default)]
    pub kind: AccountKind,
}

/// How the relay reaches a user's mail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Mail stays on the server; every device sees the same folders and flags.
    #[default]
    Imap,
    /// Mail is downloaded into the relay's store and removed from the server.
    Pop3,
}

/// What the relay offers, for the login form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub account_kinds: Vec<AccountKind>,
}

/// Never print a password, not even in a debug log.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("kind", &self.kind)
            .finish()
    }
}

/// Who is logged in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub kind: AccountKind,
    /// What this user may write: `None` when the relay has no SMTP server configured.
    #[serde(default)]
    pub sending: Option<Sending>,
    /// Messages that were waiting to go out when the relay last stopped: they were not sent
    /// (or may not have been) and are back in Drafts.
    #[serde(default)]
    pub returned_to_drafts: Vec<Returned>,
}

/// What the relay allows a user to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sending {
    /// The addresses the user may send as; the first is the login address.
    pub identities: Vec<Identity>,
    /// Bytes of attachments per message.
    pub max_attachments: u64,
    pub max_recipients: u32,
}

/// An address the user sends as, with the name shown to recipients and the signature the app
/// puts under new messages; kept by the relay, so every device has them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub address: String,
    pub name: String,
    pub signature: String,
}

/// A message the outbox gave back to Drafts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Returned {
    pub subject: String,
    /// It was already being handed to the mail server: it may have gone out.
    pub maybe_sent: bool,
}

/// Answer to `POST /api/upload`: refer to the file by `id` in a [`Draft`]'s attachments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub name: String,
    pub mime_type: String,
    pub size: u64,
}

/// Chosen by the browser, echoed by the relay in the matching [`ServerFrame::Response`] or
/// [`ServerFrame::Error`].
pub type RequestId = u64;

/// What the browser sends over the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientFrame {
    pub id: RequestId,
    #[serde(flatten)]
    pub request: Request,
}

/// What the browser can ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Every folder with its role and counts.
    ListFolders,
    CreateFolder {
        name: String,
    },
    RenameFolder {
        from: String,
        to: String,
    },
    DeleteFolder {
        name: String,
    },
    SubscribeFolder {
        name: String,
        subscribed: bool,
    },
    /// POP3 accounts: collect new mail from the server now.
    CheckMail,
    /// A page of a folder's messages, newest first: `offset` 0 is the newest message.
    ListMessages {
        folder: String,
        offset: u32,
        limit: u32,
    },
    /// One message to read: headers, the body to show (sanitized), the list of attachments.
    /// Opening does not mark it read; the app sends `set_flags` for that.
    OpenMessage {
        folder: String,
        uid: u32,
    },
    /// Adds (`set`) or removes flags on messages.
    SetFlags {
        folder: String,
        uids: Vec<u32>,
        flags: Vec<Flag>,
        set: bool,
    },
    MoveMessages {
        folder: String,
        uids: Vec<u32>,
        to: String,
    },
    CopyMessages {
        folder: String,
        uids: Vec<u32>,
        to: String,
    },
    /// To Trash; from Trash itself (or without a Trash), removed for good.
    DeleteMessages {
        folder: String,
        uids: Vec<u32>,
    },
    /// To the Archive folder (created if missing).
    ArchiveMessages {
        folder: String,
        uids: Vec<u32>,
    },
    /// The messages of one conversation (same `thread_id`) in `folder` and in Sent, so the
    /// user's own replies show with the rest. Answered with `search_results`.
    Conversation {
        folder: String,
        thread_id: String,
    },
    /// Remote images of mail from `sender` show at once from now on, on every device (never
    /// for mail whose From the mail server found forged).
    AllowImagesFrom {
        sender: String,
    },
    /// A sign of life: the relay answers `done` at once, whatever the mail server is doing.
    /// The app asks where a request has waited long or the page is shown again, to tell a
    /// connection that died silently (a phone between cells) from a slow answer.
    Ping,
    /// Server-side search in one folder, or in all folders when `folder` is absent.
    Search {
        folder: Option<String>,
        query: SearchQuery,
    },
    /// Writing mail (the relay's `send` answers these); on the wire, ops like any other.
    #[serde(untagged)]
    Write(WriteRequest),
}

impl From<WriteRequest> for Request {
    fn from(request: WriteRequest) -> Self {
        Request::Write(request)
    }
}

/// What the browser can ask about writing mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum WriteRequest {
    /// A new draft answering or forwarding a message: recipients, subject, quoted text and
    /// threading headers filled in. Answered with `draft`.
    StartReply {
        folder: String,
        uid: u32,
        kind: ReplyKind,
        /// The language of the attribution line ("On ..., ... wrote:"): `en` or `de`.
        lang: String,
    },
    /// Sends the draft after `delay_seconds` (at most 60; 0: at once). Answered with `queued`
    /// once it is checked and in the outbox; what happens then arrives as `outbox` events.
    Send { draft: Draft, delay_seconds: u32 },
    /// Saves the draft in Drafts, replacing every earlier version of it (from any tab).
    /// Answered with `draft_saved`.
    SaveDraft { draft: Draft },
    /// A draft saved in Drafts, to go on writing it. Answered with `draft`.
    OpenDraft { folder: String, uid: u32 },
    /// Removes every saved version of the draft, and the uploads it refers to.
    DiscardDraft { draft: Draft },
    /// Addresses the user has written with whose e-mail or name starts with `prefix`, for the
    /// editor's suggestions. Answered with `addresses`.
    SuggestAddresses { prefix: String },
    /// Sets the name and signature of one of the user's addresses.
    SaveIdentity { identity: Identity },
    /// Takes the queued message of this draft back before it goes out. Answered with `draft`,
    /// or `too_late` when it is already on its way.
    UndoSend { draft_id: String },
}

/// How a new draft relates to the message it starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Reply,
    ReplyAll,
    /// The original quoted in the body, its attachments attached again.
    Forward,
    /// The original attached whole, as a message/rfc822 part.
    ForwardAsAttachment,
}

/// A message being written, as the editor holds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Chosen by the app when writing starts; stays the same over every save and the send, so
    /// two tabs on one draft replace each other's versions instead of leaving copies.
    pub id: String,
    /// The address to send as: one of [`Sending::identities`].
    pub from: String,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub subject: String,
    /// The text as written: always sent, as the text part.
    pub text: String,
    /// The text's simple formatting (`**bold**`, `_italic_`, `[link](url)`, `- ` lists, `> `
    /// quotes) is also sent as HTML, in a multipart/alternative beside the text.
    #[serde(default)]
    pub formatted: bool,
    pub attachments: Vec<DraftAttachment>,
    /// The Message-ID this answers, and the thread before it.
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    /// The message this answers or forwards: flagged `\Answered` or `$Forwarded` once sent.
    pub origin: Option<Origin>,
}

/// The message a draft answers or forwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub folder: String,
    pub uid: u32,
    pub kind: ReplyKind,
}

/// A file to send with a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftAttachment {
    pub name: String,
    pub mime_type: String,
    /// Bytes (decoded), as far as known.
    pub size: u64,
    pub source: AttachmentSource,
}

/// Where an attachment's bytes are until the message is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum AttachmentSource {
    /// Uploaded by this user (`POST /api/upload`).
    Upload { id: String },
    /// A part of a message in a folder: a forwarded attachment, or one of a saved draft.
    Part {
        folder: String,
        uid: u32,
        part: String,
    },
    /// A whole message, attached as message/rfc822.
    Message { folder: String, uid: u32 },
}

/// Where a message in the outbox is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for the undo delay: goes out at `send_at` (milliseconds since the epoch).
    Waiting { send_at: i64 },
    /// Being handed to the mail server.
    Sending,
    /// Accepted by the mail server for every recipient; the copy is in Sent.
    Sent,
    /// A temporary refusal or an outage: tried again after a while, `attempt` of a few.
    Retrying { error: ErrorInfo, attempt: u32 },
    /// Not sent: the reason, and the draft is back in Drafts (and in the event, to edit).
    Failed { error: ErrorInfo, draft: Box<Draft> },
    /// Taken back by Undo.
    Undone,
}
tagged::tag_first!(OutboxState, "state");

/// What the relay sends over the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to the request with this id.
    Response { id: RequestId, body: Response },
    /// The request with this id failed; `id` is absent when the frame could not even be read.
    Error {
        id: Option<RequestId>,
        error: ErrorInfo,
    },
    /// Something happened that nobody asked about (e.g. the session ended in another tab).
    Event { event: Event },
}
tagged::tag_first!(ServerFrame, "type");

/// Answers, one variant per [`Request`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum Response {
    Folders {
        folders: Vec<Folder>,
    },
    MessageList(MessageList),
    Message(Box<MessageView>),
    SearchResults {
        hits: Vec<SearchHit>,
    },
    Draft(Box<Draft>),
    /// Suggestions, best first.
    Addresses {
        addresses: Vec<Address>,
    },
    /// The draft is in Drafts; its attachments now point at the saved copy.
    DraftSaved {
        draft: Box<Draft>,
    },
    /// In the outbox; goes out at `send_at` (milliseconds since the epoch).
    Queued {
        send_at: i64,
    },
    /// Undo came after the message had started on its way.
    TooLate,
    /// Messages went to another folder (a move, an archive, a delete into Trash): which, and
    /// the UIDs they have there, to move them back with (empty where the server does not say:
    /// nothing to undo with).
    Moved {
        to: String,
        uids: Vec<u32>,
    },
    /// The request was carried out; nothing more to say.
    Done,
}
tagged::tag_first!(Response, "kind");

impl Response {
    /// [`Response::Moved`] to folder `to`.
    pub fn moved(to: &str, uids: Vec<u32>) -> Self {
        Response::Moved {
            to: to.to_owned(),
            uids,
        }
    }
}

/// Pushed by the relay without a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum Event {
    /// The session was ended (logout in any tab, or it expired); the app shows the login form.
    LoggedOut,
    /// Something in this folder changed (new mail, expunges, flags; by this or any other client):
    /// its counts now, so the app can update them and reload what it shows of the folder.
    FolderChanged {
        folder: String,
        total: u32,
        unread: u32,
    },
    /// Messages of a folder came, went or changed flags (by this or any other client).
    FolderDelta(FolderDelta),
    /// Conversation sizes of a folder's rows, worked out after the rows were sent: every row
    /// of the list of `version` not named here is a conversation of one.
    Conversations {
        folder: String,
        version: u32,
        sizes: Vec<(u32, u32)>,
    },
    /// Folders were created, renamed or deleted; ask `list_folders` again.
    FoldersChanged,
    /// The connection to the mail server dropped; the relay is reconnecting.
    Reconnecting,
    /// The connection is back and the session resynchronised.
    Reconnected,
    /// A message in the outbox moved on; `subject` for showing.
    Outbox {
        draft_id: String,
        subject: String,
        state: OutboxState,
    },
    /// POP3 accounts: a collection is under way, `done` of `total` new messages stored.
    Collecting { done: u32, total: u32 },
    /// POP3 accounts: a collection ended; `error` says why if it did not complete (it is
    /// retried at the next check).
    Collected {
        stored: u32,
        error: Option<ErrorInfo>,
        /// Messages larger than the relay collects: they stay on the server (read them with
        /// another mail program, or ask the sender for a smaller one).
        #[serde(default)]
        too_big: Vec<TooBig>,
    },
}
tagged::tag_first!(Event, "kind");

/// A POP3 message left on the server for its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooBig {
    pub from: Option<Address>,
    pub subject: String,
    /// Bytes, as the server counts them.
    pub size: u64,
}

/// A folder (IMAP mailbox).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    /// The full name, as used in requests (e.g. `INBOX`, `Archive/2025`).
    pub name: String,
    /// The hierarchy separator, if the server has a hierarchy.
    pub delimiter: Option<char>,
    pub role: Option<FolderRole>,
    pub total: u32,
    pub unread: u32,
    pub subscribed: bool,
    /// False for a folder that only exists as a parent (`\Noselect`).
    pub selectable: bool,
}

/// What a folder is for: from SPECIAL-USE where the server says, else from common names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderRole {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
}

/// A message flag the app can set or clear.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "flag", content = "name", rename_all = "snake_case")]
pub enum Flag {
    Seen,
    Flagged,
    Answered,
    /// A user keyword (IMAP `$Label1`, `Important`, ...): an atom, no spaces or specials.
    Keyword(String),
}

/// A message to read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub folder: String,
    pub uid: u32,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub subject: String,
    pub date: i64,
    pub message_id: Option<String>,
    /// The thread before this message, oldest first (`References`, else `In-Reply-To`).
    #[serde(default)]
    pub references: Vec<String>,
    /// As in [`MessageSummary::thread_id`].
    pub thread_id: Option<String>,
    pub body: Body,
    pub attachments: Vec<Attachment>,
    pub unread: bool,
    pub flagged: bool,
    pub answered: bool,
    pub keywords: Vec<String>,
    /// The mail server could not describe this message's structure (it is malformed or built
    /// to break parsers): it is shown from its raw text as well as that goes, without its
    /// attachments; the whole message can still be downloaded.
    #[serde(default)]
    pub damaged: bool,
    /// The body was longer than the relay shows and was cut off.
    #[serde(default)]
    pub truncated: bool,
    /// The mail server checked this message and DMARC or DKIM failed: its From may be forged.
    #[serde(default)]
    pub forged_from: bool,
    /// The user chose to always show this sender's remote images (and the From is not forged).
    #[serde(default)]
    pub images_allowed: bool,
}

/// The part of a message to show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum Body {
    /// Sanitized HTML: no scripts, no event handlers, no forms, no remote loads. Remote images
    /// have their address in `data-remote-src` and no `src` until the user allows them.
    Html { html: String, remote_content: bool },
    /// Plain text, as written (the app escapes it).
    Text { text: String },
    /// Nothing to show (e.g. only attachments).
    #[default]
    Empty,
}
tagged::tag_first!(Body, "kind");

/// An attachment, fetched only when asked (over HTTP, see docs/protocol.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// The IMAP part number (`2`, `1.3`), used to download it.
    pub part: String,
    pub name: String,
    pub mime_type: String,
    /// Size as transferred (encoded), roughly 4/3 of the decoded size for base64.
    pub size: u32,
    /// Shown inside the body (e.g. an image referenced by `cid:`).
    pub inline: bool,
    /// The part's Content-ID without angle brackets, which the HTML refers to as `cid:...`.
    pub content_id: Option<String>,
}

/// What to search for; every given field must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Anywhere: headers and body.
    pub text: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// Seconds since the epoch: messages on or after this day.
    pub since: Option<i64>,
    /// Seconds since the epoch: messages before this day.
    pub before: Option<i64>,
}

/// One search result: where it is and its list row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub folder: String,
    pub message: MessageSummary,
}

/// One page of a folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageList {
    pub folder: String,
    /// How many messages the folder holds in all.
    pub total: u32,
    pub offset: u32,
    /// Newest first.
    pub messages: Vec<MessageSummary>,
    /// Which state of the folder the positions count in; see [`Event::FolderDelta`].
    #[serde(default)]
    pub version: u32,
}

/// How a folder's list changed: the app applies it in place, so the open message, the scroll
/// position and the selection stay. `removed` are positions (0 = newest) in the list of version
/// `from_version`, descending; `added` are positions in the list of `version`, ascending, each
/// with its row; `changed` are rows whose flags changed, by UID. A list of another version
/// than `from_version` loads again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderDelta {
    pub folder: String,
    pub total: u32,
    pub unread: u32,
    pub from_version: u32,
    pub version: u32,
    pub removed: Vec<u32>,
    pub added: Vec<PlacedMessage>,
    pub changed: Vec<MessageSummary>,
}

/// A message that arrived in a folder's list, at its position (0 = newest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedMessage {
    pub position: u32,
    pub message: MessageSummary,
}

/// A row of the message list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    /// Stable within the folder (the IMAP UID).
    pub uid: u32,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    /// Decoded (RFC 2047 and charsets); empty when the mail has none.
    pub subject: String,
    /// The first words of the text a reader would see, as plain text (at most 160
    /// characters); empty when the message shows none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub preview: String,
    /// Seconds since the Unix epoch: the `Date:` header, else when the server received it.
    pub date: i64,
    pub unread: bool,
    pub flagged: bool,
    pub answered: bool,
    pub size: u32,
    pub has_attachments: bool,
    /// Groups a conversation: equal for messages of one thread (the root's Message-ID).
    pub thread_id: Option<String>,
    /// How many messages of this folder belong to the same conversation (1: none other).
    #[serde(default = "one")]
    pub thread_size: u32,
    /// The mail server's description of this message could not be read: the row shows what
    /// its headers say, and `has_attachments` is a guess. See [`MessageView::damaged`].
    #[serde(default)]
    pub damaged: bool,
}

fn one() -> u32 {
    1
}

/// A mailbox address with its display name, both decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub email: String,
}

impl Address {
    /// What a list shows: the name where there is one, else the address.
    pub fn display(&self) -> &str {
        match &self.name {
            Some(name) if !name.trim().is_empty() => name,
            _ => &self.email,
        }
    }
}

/// A failure the user can be told about: a stable `code` for the app to branch on, and a message
/// in English for logs and for clients that do not know the code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorInfo {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Stable error codes. New ones may be added; the app treats an unknown one like `Internal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Wrong e-mail or password.
    AuthFailed,
    /// The mail server could not be reached (refused, timed out, dropped).
    ServerUnreachable,
    /// The mail server's TLS certificate is not trusted.
    CertificateNotTrusted,
    /// The mail server said something the relay could not understand.
    ServerProtocol,
    /// The mail server refused the command (IMAP NO/BAD).
    ServerRefused,
    /// No live session: log in (again).
    NotLoggedIn,
    /// The frame or body could not be read.
    BadRequest,
    /// No such folder.
    NoSuchFolder,
    /// A folder of that name exists already.
    FolderExists,
    /// No such message (it may have been moved or deleted by another client).
    NoSuchMessage,
    /// The mailbox is over its quota.
    OverQuota,
    /// The mailbox is busy (another client holds it, or logins come too fast): try again later.
    TryLater,
    /// This relay does not offer that (e.g. POP3 when only IMAP is configured).
    NotOffered,
    /// The mail server refused a recipient (SMTP 5xx at RCPT); the message names which.
    RecipientRejected,
    /// A header or an address that cannot go into a message (CR/LF, an unparsable address,
    /// too many recipients, no recipient).
    InvalidMessage,
    /// Larger than the relay sends (attachments over the limit, or an upload over quota).
    TooBig,
    /// A bug or an unexpected state in the relay.
    Internal,
    /// Never sent by the relay: the app cannot reach it, and this device keeps no copy of
    /// what was asked for (see the app's offline reading).
    NotKept,
    /// A code this build of the app does not know.
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let json = serde_json::to_string(&value).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(value, back, "through {json}");
    }

    #[test]
    fn request_has_the_documented_shape() {
        let frame = ClientFrame {
            id: 7,
            request: Request::ListMessages {
                folder: "INBOX".into(),
                offset: 0,
                limit: 50,
            },
        };
        assert_eq!(
            serde_json::to_value(&frame).unwrap(),
            serde_json::json!({"id": 7, "op": "list_messages", "folder": "INBOX", "offset": 0, "limit": 50})
        );
        round_trip(frame);
    }

    #[test]
    fn server_frames_round_trip() {
        round_trip(ServerFrame::Response {
            id: 1,
            body: Response::MessageList(MessageList {
                folder: "INBOX".into(),
                total: 1,
                offset: 0,
                messages: vec![MessageSummary {
                    uid: 4,
                    from: Some(Address {
                        name: Some("Jürgen Weiß".into()),
                        email: "j@example.org".into(),
                    }),
                    to: vec![],
                    subject: "Grüße aus München".into(),
                    preview: "Liebe Grüße, die Fotos".into(),
                    date: 1_700_000_000,
                    unread: true,
                    flagged: false,
                    answered: false,
                    size: 1234,
                    has_attachments: true,
                    thread_id: Some("<root@example.org>".into()),
                    thread_size: 3,
                    damaged: false,
                }],
                version: 7,
            }),
        });
        round_trip(ServerFrame::Error {
            id: None,
            error: ErrorInfo::new(ErrorCode::BadRequest, "not JSON"),
        });
        round_trip(ServerFrame::Event {
            event: Event::LoggedOut,
        });
        round_trip(ServerFrame::Event {
            event: Event::FolderDelta(FolderDelta {
                folder: "INBOX".into(),
                total: 2,
                unread: 0,
                from_version: 3,
                version: 4,
                removed: vec![5, 1],
                added: Vec::new(),
                changed: Vec::new(),
            }),
        });
        round_trip(ServerFrame::Event {
            event: Event::FolderChanged {
                folder: "INBOX".into(),
                total: 3,
                unread: 1,
            },
        });
        round_trip(ServerFrame::Response {
            id: 2,
            body: Response::Folders {
                folders: vec![Folder {
                    name: "Sent".into(),
                    delimiter: Some('/'),
                    role: Some(FolderRole::Sent),
                    total: 1,
                    unread: 0,
                    subscribed: true,
                    selectable: true,
                }],
            },
        });
        round_trip(ServerFrame::Response {
            id: 3,
            body: Response::Done,
        });
    }

    #[test]
    fn flag_requests_have_the_documented_shape() {
        let frame: ClientFrame = serde_json::from_value(serde_json::json!({
            "id": 9, "op": "set_flags", "folder": "INBOX", "uids": [1, 2],
            "flags": [{"flag": "seen"}, {"flag": "keyword", "name": "$Label1"}], "set": true
        }))
        .unwrap();
        assert_eq!(
            frame.request,
            Request::SetFlags {
                folder: "INBOX".into(),
                uids: vec![1, 2],
                flags: vec![Flag::Seen, Flag::Keyword("$Label1".into())],
                set: true
            }
        );
        let search: ClientFrame =
            serde_json::from_str(r#"{"id":1,"op":"search","folder":null,"query":{"subject":"x"}}"#)
                .unwrap();
        round_trip(search);
    }

    #[test]
    fn login_kind_defaults_to_imap() {
        let request: LoginRequest =
            serde_json::from_str(r#"{"email":"a@b","password":"p"}"#).unwrap();
        assert_eq!(request.kind, AccountKind::Imap);
        let request: LoginRequest =
            serde_json::from_str(r#"{"email":"a@b","password":"p","kind":"pop3"}"#).unwrap();
        assert_eq!(request.kind, AccountKind::Pop3);
    }

    #[test]
    fn unknown_error_code_is_tolerated() {
        let error: ErrorInfo =
            serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
        assert_eq!(error.code, ErrorCode::Unknown);
    }

    #[test]
    fn unknown_op_is_rejected() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"id":1,"op":"format_disk"}"#).is_err());
    }

    #[test]
    fn login_request_debug_hides_the_password() {
        let request = LoginRequest {
            email: "a@b".into(),
            password: "hunter2".into(),
            kind: AccountKind::Pop3,
        };
        assert!(!format!("{request:?}").contains("hunter2"));
    }

    #[test]
    fn address_display_prefers_the_name() {
        let mut address = Address {
            name: Some("Anna".into()),
            email: "anna@example.org".into(),
        };
        assert_eq!(address.display(), "Anna");
        address.name = Some("  ".into());
        assert_eq!(address.display(), "anna@example.org");
    }
}
