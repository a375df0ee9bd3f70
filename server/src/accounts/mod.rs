//! The user's mail accounts: one actor per logged-in user, over a live IMAP session or over the
//! relay's store, which the POP3 collector fills. Both answer the same requests.
//!
//! [`Source`] is where a user's mail is, for what happens beside the actor: downloads, and the
//! outbox filing a sent message's copy (which may happen after the user has logged out).

pub mod images;
pub mod imap;
pub mod order;
pub mod pop3;

use std::{collections::HashMap, sync::Arc};

use protocol::{AccountKind, AttachmentSource, Draft, ErrorInfo, Flag, FolderRole, ReplyKind};
use secret::Secret;

use crate::store::Store;
use imap::account::Login;

/// Makes room for one more folder in what a session keeps of `max` folders: forgets the one
/// `used` longest ago (the IMAP mirror and the POP3 lists bound themselves alike).
fn forget_least_used<V>(folders: &mut HashMap<String, V>, max: usize, used: impl Fn(&V) -> u64) {
    if folders.len() < max {
        return;
    }
    let oldest = folders
        .iter()
        .min_by_key(|(_, folder)| used(folder))
        .map(|(name, _)| name.clone());
    if let Some(oldest) = oldest {
        folders.remove(&oldest);
    }
}

/// A request to an account's actor, and where its answer goes. Boxed: a job channel keeps room
/// for 32 from the start, in every session, and a request itself is almost 300 bytes.
pub type Job = Box<(protocol::Request, imap::account::Reply)>;

/// A user's login, for submitting mail as them. In memory only; wiped when dropped.
pub struct Credentials {
    pub user: String,
    pub password: Secret,
}

/// Where a session's mail is.
pub enum Source {
    /// On the IMAP server; downloads and filing open a connection of their own with this login.
    Imap(Arc<Login>),
    /// In the relay's store.
    Store { store: Arc<Store>, user: String },
}

impl Source {
    pub fn kind(&self) -> AccountKind {
        match self {
            Source::Imap(_) => AccountKind::Imap,
            Source::Store { .. } => AccountKind::Pop3,
        }
    }

    /// A message went out: its copy into Sent (read), every saved version of its draft out of
    /// Drafts, and the message it answers or forwards flagged.
    pub async fn file_sent(&self, copy: &[u8], draft: &Draft) -> Result<(), ErrorInfo> {
        let flag = draft.origin.as_ref().map(|origin| {
            let flag = match origin.kind {
                ReplyKind::Reply | ReplyKind::ReplyAll => Flag::Answered,
                ReplyKind::Forward | ReplyKind::ForwardAsAttachment => {
                    Flag::Keyword("$Forwarded".into())
                }
            };
            (origin.folder.clone(), origin.uid, flag)
        });
        match self {
            Source::Imap(login) => {
                let mut connection = login.connect().await.map_err(ErrorInfo::from)?;
                let filed = async {
                    let sent = connection.folder_for(FolderRole::Sent).await?;
                    connection.append(&sent, false, copy).await?;
                    let drafts = connection.folder_for(FolderRole::Drafts).await?;
                    connection.remove_drafts(&drafts, &draft.id, None).await?;
                    if let Some((folder, uid, flag)) = flag {
                        // The original may have been moved or deleted meanwhile: not an error.
                        if let Err(e) = connection.set_flags(&folder, &[uid], &[flag], true).await {
                            tracing::info!(error = %e, "could not flag the original");
                        }
                    }
                    Ok::<_, imap::ImapError>(())
                }
                .await;
                connection.logout().await;
                filed.map_err(ErrorInfo::from)
            }
            Source::Store { store, user } => {
                let (store, user, copy, id) = (
                    Arc::clone(store),
                    user.clone(),
                    copy.to_vec(),
                    draft.id.clone(),
                );
                pop3::collector::blocking(&store, move |store| {
                    store.add_message(&user, "Sent", &copy, true, None)?;
                    store.remove_drafts(&user, &id, None)?;
                    if let Some((folder, uid, flag)) = flag {
                        let _ = store.set_flags(&user, &folder, &[uid], &[flag], true);
                    }
                    Ok(())
                })
                .await
                .map_err(pop3::account::error_info)
            }
        }
    }

    /// Points `draft`'s attachments at the message the relay built from it and filed as `uid`
    /// in `folder`. Attachments follow the text there, in order: IMAP numbers them from 2 (the
    /// text is part 1), the store from 1.
    pub fn point_at_copy(&self, draft: &mut Draft, folder: String, uid: u32) {
        let first = match self {
            Source::Imap(_) => 2,
            Source::Store { .. } => 1,
        };
        for (i, attachment) in draft.attachments.iter_mut().enumerate() {
            attachment.source = AttachmentSource::Part {
                folder: folder.clone(),
                uid,
                part: (first + i).to_string(),
            };
        }
    }

    /// Keeps `message` (a draft's bytes, with its id header) in Drafts, replacing every earlier
    /// version of draft `id`. Returns the folder and its UID there.
    pub async fn file_draft(&self, message: &[u8], id: &str) -> Result<(String, u32), ErrorInfo> {
        match self {
            Source::Imap(login) => {
                let mut connection = login.connect().await.map_err(ErrorInfo::from)?;
                let filed = connection.save_draft(message, id).await;
                connection.logout().await;
                filed.map_err(ErrorInfo::from)
            }
            Source::Store { store, user } => {
                let (store, user, message, id) = (
                    Arc::clone(store),
                    user.clone(),
                    message.to_vec(),
                    id.to_owned(),
                );
                pop3::collector::blocking(&store, move |store| {
                    store
                        .save_draft(&user, &message, &id)
                        .map(|uid| ("Drafts".to_owned(), uid))
                })
                .await
                .map_err(pop3::account::error_info)
            }
        }
    }
}
