//! Writing mail: a draft is composed into a message (`compose`), waits out the undo delay in the
//! outbox (`outbox`), is submitted by SMTP (`smtp`), and its copy is filed in Sent. Attachments
//! arrive beforehand as uploads (`uploads`).

pub mod compose;
pub mod contacts;
pub mod identities;
mod markup;
pub mod outbox;
pub mod smtp;
pub mod uploads;

use std::{path::Path, sync::Arc, time::Duration};

use protocol::{
    AttachmentSource, Draft, ErrorCode, ErrorInfo, Event, MessageView, Response, Sending,
    WriteRequest,
};
use tokio::sync::broadcast;
use tokio_rustls::TlsConnector;

pub use compose::DRAFT_ID_HEADER;

use crate::{
    accounts::{Credentials, Source},
    config::{MailServer, SmtpConfig},
    tls,
};

/// The undo delay may be at most this long: the outbox holds the message, and the password,
/// in the meantime.
pub const MAX_DELAY_SECONDS: u32 = 60;

/// What sending needs, shared by every session.
pub struct Sender {
    pub config: SmtpConfig,
    pub server: MailServer,
    pub tls: TlsConnector,
    pub outbox: Arc<outbox::Outbox>,
    pub uploads: uploads::Uploads,
    pub identities: identities::Identities,
    pub contacts: contacts::Contacts,
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    Tls(#[from] tls::TlsSetupError),
    #[error("cannot open the outbox or the uploads in the data directory: {0}")]
    Io(#[from] std::io::Error),
}

impl Sender {
    pub fn new(config: SmtpConfig, data_dir: &Path) -> Result<Self, SenderError> {
        let server = config.server();
        let tls = tls::connector(&server)?;
        crate::private::dir(data_dir)?;
        Ok(Self {
            outbox: Arc::new(outbox::Outbox::open(&data_dir.join("outbox"))?),
            uploads: uploads::Uploads::open(&data_dir.join("uploads"), config.max_attachments())?,
            identities: identities::Identities::open(data_dir.join("identities"))?,
            contacts: contacts::Contacts::open(data_dir.join("contacts"))?,
            server,
            tls,
            config,
        })
    }

    /// The addresses `user` may send as, with their names and signatures.
    pub fn identities(&self, user: &str) -> Vec<protocol::Identity> {
        self.identities.of(&self.config, user)
    }

    /// What the app is told `user` may send; nothing for a user with no address to send as
    /// (a plain user name, and no `address_domain` or `identities` for it).
    pub fn offer(&self, user: &str) -> Option<Sending> {
        let identities = self.identities(user);
        (!identities.is_empty()).then(|| Sending {
            identities,
            max_attachments: self.config.max_attachments(),
            max_recipients: self.config.max_recipients,
        })
    }
}

/// What writing needs of a user's mail, whichever kind of account holds it.
pub trait MailAccess {
    /// A message as the reader shows it (the original of a reply, a saved draft).
    async fn open(&mut self, folder: &str, uid: u32) -> Result<MessageView, ErrorInfo>;
    /// A message's header block.
    async fn header(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ErrorInfo>;
    /// Keeps `message` in Drafts as the one version of draft `id`; returns where.
    async fn save_draft(&mut self, message: &[u8], id: &str) -> Result<(String, u32), ErrorInfo>;
    /// Removes every version of draft `id`.
    async fn discard_draft(&mut self, id: &str) -> Result<(), ErrorInfo>;
    /// A part's bytes, decoded, or the whole message without `part`; at most `limit` bytes.
    async fn bytes(
        &mut self,
        folder: &str,
        uid: u32,
        part: Option<&str>,
        limit: u64,
    ) -> Result<Vec<u8>, ErrorInfo>;
}

/// A logged-in user who may write: what their account actor answers writing requests with.
pub struct Writer {
    pub sender: Arc<Sender>,
    pub credentials: Arc<Credentials>,
    pub source: Arc<Source>,
    pub events: broadcast::Sender<Event>,
}

impl Writer {
    /// Answers a writing request.
    pub async fn write(
        &self,
        request: WriteRequest,
        mail: &mut impl MailAccess,
    ) -> Result<Response, ErrorInfo> {
        let (writer, sender) = (self, &self.sender);
        let user = &writer.credentials.user;
        match request {
            WriteRequest::StartReply {
                folder,
                uid,
                kind,
                lang,
            } => {
                let original = mail.open(&folder, uid).await?;
                let addresses: Vec<String> = sender
                    .identities(user)
                    .into_iter()
                    .map(|i| i.address)
                    .collect();
                let draft = mime::reply::start(
                    &original,
                    kind,
                    &addresses,
                    mime::reply::Lang::from_tag(&lang),
                );
                Ok(Response::Draft(Box::new(draft)))
            }
            WriteRequest::Send {
                draft,
                delay_seconds,
            } => {
                check_draft_id(&draft.id)?;
                let files = sender.gather(user, &draft, mail).await?;
                let composed = compose::compose(
                    &draft,
                    files,
                    &sender.identities(user),
                    sender.config.max_recipients,
                    std::time::SystemTime::now(),
                )
                .map_err(|e| ErrorInfo::new(ErrorCode::InvalidMessage, e.to_string()))?;
                sender
                    .contacts
                    .wrote_to(user, draft.to.iter().chain(&draft.cc).chain(&draft.bcc));
                let queued = outbox::Queued {
                    draft,
                    composed,
                    delay: Duration::from_secs(delay_seconds.min(MAX_DELAY_SECONDS).into()),
                    credentials: Arc::clone(&writer.credentials),
                    source: Arc::clone(&writer.source),
                    events: writer.events.clone(),
                };
                let send_at = sender
                    .outbox
                    .queue(Arc::clone(sender), queued)
                    .map_err(|e| ErrorInfo::new(ErrorCode::Internal, e.to_string()))?;
                Ok(Response::Queued { send_at })
            }
            WriteRequest::SaveDraft { mut draft } => {
                check_draft_id(&draft.id)?;
                let files = sender.gather(user, &draft, mail).await?;
                let bytes = compose::compose_draft(
                    &draft,
                    files,
                    &sender.identities(user),
                    std::time::SystemTime::now(),
                )
                .map_err(|e| ErrorInfo::new(ErrorCode::InvalidMessage, e.to_string()))?;
                let (folder, uid) = mail.save_draft(&bytes, &draft.id).await?;
                // The attachments are in the saved copy now; the uploads are no longer needed.
                sender.uploads.remove_for(user, &draft);
                writer.source.point_at_copy(&mut draft, folder, uid);
                Ok(Response::DraftSaved {
                    draft: Box::new(draft),
                })
            }
            WriteRequest::OpenDraft { folder, uid } => {
                let view = mail.open(&folder, uid).await?;
                let header = mail.header(&folder, uid).await?;
                let mut draft = mime::draft::continue_draft(view, &header);
                if check_draft_id(&draft.id).is_err() {
                    // Saved by another program: from now on it is one of ours.
                    draft.id = crate::random_hex(16);
                }
                Ok(Response::Draft(Box::new(draft)))
            }
            WriteRequest::DiscardDraft { draft } => {
                check_draft_id(&draft.id)?;
                mail.discard_draft(&draft.id).await?;
                sender.uploads.remove_for(user, &draft);
                Ok(Response::Done)
            }
            WriteRequest::SuggestAddresses { prefix } => Ok(Response::Addresses {
                addresses: sender.contacts.suggest(user, &prefix),
            }),
            WriteRequest::SaveIdentity { identity } => {
                sender
                    .identities
                    .save(&sender.config, user, identity)
                    .map_err(|e| {
                        let code = match e {
                            identities::IdentityError::Io(_) => ErrorCode::Internal,
                            _ => ErrorCode::BadRequest,
                        };
                        ErrorInfo::new(code, e.to_string())
                    })?;
                Ok(Response::Done)
            }
            WriteRequest::UndoSend { draft_id } => {
                Ok(match sender.outbox.take_back(user, &draft_id) {
                    Some(draft) => {
                        let _ = writer.events.send(Event::Outbox {
                            draft_id: draft.id.clone(),
                            subject: draft.subject.clone(),
                            state: protocol::OutboxState::Undone,
                        });
                        Response::Draft(Box::new(draft))
                    }
                    None => Response::TooLate,
                })
            }
        }
    }
}

impl Writer {
    /// The user read these messages' headers: their addresses become suggestions.
    pub fn saw(&self, rows: &[protocol::MessageSummary]) {
        self.sender.contacts.seen(
            &self.credentials.user,
            rows.iter().flat_map(|r| r.from.iter().chain(&r.to)),
        );
    }
}

impl Sender {
    /// The bytes of every attachment of `draft`, within the size limit of one message.
    async fn gather(
        &self,
        user: &str,
        draft: &Draft,
        mail: &mut impl MailAccess,
    ) -> Result<Vec<compose::File>, ErrorInfo> {
        let limit = self.config.max_attachments();
        let too_big = || {
            ErrorInfo::new(
                ErrorCode::TooBig,
                format!("the attachments are larger than the {limit} bytes a message may carry"),
            )
        };
        let mut files = Vec::new();
        let mut total = 0u64;
        for attachment in &draft.attachments {
            let room = limit.checked_sub(total).ok_or_else(too_big)?;
            let bytes = match &attachment.source {
                AttachmentSource::Upload { id } => self.uploads.read(user, id).map_err(|e| {
                    ErrorInfo::new(
                        ErrorCode::NoSuchMessage,
                        format!("{}: {e}", attachment.name),
                    )
                })?,
                AttachmentSource::Part { folder, uid, part } => {
                    mail.bytes(folder, *uid, Some(part), room).await?
                }
                AttachmentSource::Message { folder, uid } => {
                    mail.bytes(folder, *uid, None, room).await?
                }
            };
            total += bytes.len() as u64;
            if total > limit {
                return Err(too_big());
            }
            files.push(compose::File {
                name: attachment.name.clone(),
                mime_type: attachment.mime_type.clone(),
                bytes,
            });
        }
        Ok(files)
    }
}

/// Draft ids come from the app and go into a header and an IMAP `SEARCH HEADER`, which matches
/// substrings: all of one length, so that one id can only contain another by being it.
fn check_draft_id(id: &str) -> Result<(), ErrorInfo> {
    let fine = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if fine {
        Ok(())
    } else {
        Err(ErrorInfo::new(
            ErrorCode::InvalidMessage,
            "a draft id is 32 hex digits",
        ))
    }
}
