//! What writing mail needs of the server: a sent message's copy into Sent, drafts into Drafts
//! (each saved version replacing the ones before it, found by their id header), and the bytes of
//! attachments being forwarded.

use std::num::NonZeroU32;

use imap_codec::imap_types::{
    command::CommandBody,
    core::{AString, Vec1},
    fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section},
    flag::Flag as ImapFlag,
    response::{Code, Data},
    search::SearchKey,
    sequence::SequenceSet,
};
use protocol::FolderRole;

use super::{folders::mailbox, ImapConnection, ImapError};
use crate::send::DRAFT_ID_HEADER;

impl ImapConnection {
    /// APPENDs `message`, read (`\Seen`), and as a draft (`\Draft`) if `draft`. Returns its UID
    /// where the server says (UIDPLUS).
    pub async fn append(
        &mut self,
        folder: &str,
        draft: bool,
        message: &[u8],
    ) -> Result<Option<u32>, ImapError> {
        let mut flags = vec![ImapFlag::Seen];
        if draft {
            flags.push(ImapFlag::Draft);
        }
        let body = CommandBody::append(mailbox(folder)?, flags, None, message.to_vec())
            .map_err(|_| ImapError::BadInput("the message cannot be stored (NUL bytes)".into()))?;
        let answer = self.execute(body).await?;
        self.mirror.mark_stale(folder);
        let uid = match &answer.status.code {
            Some(Code::AppendUid { uid, .. }) => Some(uid.get()),
            _ => None,
        };
        answer.into_data()?;
        Ok(uid)
    }

    /// The bytes of a part, decoded (or of the whole message, without `part`), fetched in
    /// pieces; refused beyond `limit` bytes.
    pub async fn read_bytes(
        &mut self,
        folder: &str,
        uid: u32,
        part: Option<&str>,
        limit: u64,
    ) -> Result<Vec<u8>, ImapError> {
        const PIECE: u32 = 256 * 1024;
        let info = self.prepare_download(folder, uid, part).await?;
        let mut decoder =
            mime::StreamDecoder::new(info.as_ref().map_or("8bit", |p| p.encoding.as_str()));
        let mut bytes = Vec::new();
        let mut offset = 0u32;
        loop {
            let piece = self
                .fetch_chunk(uid, part, offset, NonZeroU32::new(PIECE).expect("not zero"))
                .await?;
            offset = offset.saturating_add(piece.len() as u32);
            bytes.extend(decoder.push(&piece));
            if bytes.len() as u64 > limit {
                return Err(ImapError::BadInput(format!(
                    "the attachment is larger than the {limit} bytes a message may carry"
                )));
            }
            if piece.len() < PIECE as usize {
                bytes.extend(decoder.finish());
                return Ok(bytes);
            }
        }
    }

    /// Keeps `message` in Drafts as the one version of draft `id`: APPENDed, then every other
    /// version removed. Returns the folder and the new UID.
    pub async fn save_draft(
        &mut self,
        message: &[u8],
        id: &str,
    ) -> Result<(String, u32), ImapError> {
        let drafts = self.folder_for(FolderRole::Drafts).await?;
        let uid = match self.append(&drafts, true, message).await? {
            Some(uid) => uid,
            // Without UIDPLUS: the newest version with this id is the one just added.
            None => self
                .drafts_with_id(&drafts, id)
                .await?
                .into_iter()
                .max()
                .map(NonZeroU32::get)
                .ok_or_else(|| ImapError::Protocol("the saved draft is not in Drafts".into()))?,
        };
        self.remove_drafts(&drafts, id, Some(uid)).await?;
        Ok((drafts, uid))
    }

    /// A message's header block (at most 256 KiB).
    pub async fn header_block(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, ImapError> {
        self.select(folder).await?;
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::BodyExt {
                section: Some(Section::Header(None)),
                partial: Some((0, NonZeroU32::new(256 * 1024).expect("not zero"))),
                peek: true,
            },
        ]);
        let body = CommandBody::fetch(
            SequenceSet::try_from(vec![NonZeroU32::new(uid).ok_or(ImapError::NoSuchMessage)?])
                .expect("one UID"),
            items,
            true,
        )
        .expect("valid set");
        let data = self.run(body).await?;
        data.iter()
            .find_map(|d| match d {
                Data::Fetch { items, .. } => {
                    let fetched = super::fetch::Fetched::new(items.as_ref());
                    (fetched.uid == Some(uid)).then(|| fetched.section.to_vec())
                }
                _ => None,
            })
            .ok_or(ImapError::NoSuchMessage)
    }

    /// The folder with `role`; created under the usual name if the server has none.
    pub async fn folder_for(&mut self, role: FolderRole) -> Result<String, ImapError> {
        if let Some(name) = self.folder_with_role(role).await? {
            return Ok(name);
        }
        let name = match role {
            FolderRole::Sent => "Sent",
            FolderRole::Drafts => "Drafts",
            FolderRole::Trash => "Trash",
            FolderRole::Junk => "Junk",
            FolderRole::Archive => "Archive",
            FolderRole::Inbox => return Ok("INBOX".into()),
        };
        match self.create_folder(name).await {
            Ok(()) | Err(ImapError::FolderExists(_)) => Ok(name.to_owned()),
            Err(e) => Err(e),
        }
    }

    /// Removes every version of draft `id` from `drafts`, except `keep`.
    pub async fn remove_drafts(
        &mut self,
        drafts: &str,
        id: &str,
        keep: Option<u32>,
    ) -> Result<(), ImapError> {
        let uids = self.drafts_with_id(drafts, id).await?;
        let old: Vec<NonZeroU32> = uids
            .into_iter()
            .filter(|uid| Some(uid.get()) != keep)
            .collect();
        let Ok(set) = SequenceSet::try_from(old) else {
            return Ok(()); // none
        };
        self.expunge(set).await
    }

    /// The UIDs of the saved versions of draft `id` in `drafts` (which it selects).
    pub async fn drafts_with_id(
        &mut self,
        drafts: &str,
        id: &str,
    ) -> Result<Vec<NonZeroU32>, ImapError> {
        self.select(drafts).await?;
        let header = |s: &str| {
            AString::try_from(s.to_owned())
                .map_err(|_| ImapError::BadInput(format!("not a draft id: {s:?}")))
        };
        let key = SearchKey::Header(header(DRAFT_ID_HEADER)?, header(id)?);
        let data = self
            .run(CommandBody::search(None, Vec1::from(key), true))
            .await?;
        Ok(data
            .into_iter()
            .flat_map(|d| match d {
                Data::Search(uids, ..) => uids,
                _ => Vec::new(),
            })
            .collect())
    }
}
