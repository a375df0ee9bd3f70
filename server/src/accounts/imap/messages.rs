//! Messages: pages of a folder, opening one (only the part to show), flags, moves, deletion and
//! search. Everything addresses messages by UID, which other clients' changes do not shift.

use std::{collections::HashMap, num::NonZeroU32};

use imap_codec::imap_types::{
    body::BodyStructure,
    command::CommandBody,
    core::{AString, Charset, Vec1},
    extensions::thread::ThreadingAlgorithm,
    extensions::uidplus::UidElement,
    fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Part, Section},
    flag::{Flag as ImapFlag, StoreResponse, StoreType},
    response::{Capability, Code, Data, StatusKind},
    search::SearchKey,
    sequence::SequenceSet,
    IntoStatic,
};
use protocol::{Body, Flag, FolderRole, MessageList, MessageSummary, MessageView, SearchQuery};

use super::{
    connection::Pipelined,
    fetch::{self, Fetched},
    folders::mailbox,
    structure,
    sync::{self, Synced},
    unreadable::Unreadable,
    ImapConnection, ImapError,
};

/// The UIDs a COPYUID code (in the completion or an untagged OK) gives the messages in the
/// folder they went to: at most `count` of them, however wide the ranges a server names.
fn placed_uids(completion: &Option<Code<'_>>, untagged: &[Code<'_>], count: usize) -> Vec<u32> {
    let Some(destination) = completion
        .iter()
        .chain(untagged)
        .find_map(|code| match code {
            Code::CopyUid { destination, .. } => Some(destination),
            _ => None,
        })
    else {
        return Vec::new();
    };
    destination
        .0
        .as_ref()
        .iter()
        .flat_map(|element| {
            let (a, b) = match element {
                UidElement::Single(uid) => (uid.get(), uid.get()),
                UidElement::Range(a, b) => (a.get().min(b.get()), a.get().max(b.get())),
            };
            a..=b
        })
        .take(count)
        .collect()
}

/// A body larger than this is shown cut off (the same limit as for stored messages).
const MAX_BODY: u32 = mime::MAX_BODY as u32;
/// The header block read to show a message; 10,000 header lines or a 1 MB line are cut here.
const MAX_HEADER: u32 = 256 * 1024;
/// At most this many search hits per folder, newest first.
const MAX_HITS: usize = 200;

impl ImapConnection {
    /// One page of `folder`, newest first (`offset` 0 is the newest message): by the messages'
    /// dates (`SORT (REVERSE DATE)`) where the server has SORT, so a message moved in from an
    /// old folder takes its place by date, as in every mail client; else by arrival. Rows come
    /// from the mirror where it has them; conversation sizes only where already worked out
    /// ([`Self::work_out_conversations`] does that off the path to the first rows). Also says
    /// what changed in the folder since the browsers last heard.
    pub async fn list_messages(
        &mut self,
        folder: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(MessageList, Synced), ImapError> {
        if let Some(list) = self.list_from_mirror(folder, offset, limit) {
            let synced = Synced {
                unverified: true,
                ..Synced::default()
            };
            return Ok((list, synced));
        }
        let synced = self.open_folder(folder).await?;
        let entry = self
            .mirror
            .get(folder)
            .ok_or(ImapError::NoSuchFolder(folder.to_owned()))?;
        let page = entry.page(offset, limit);
        let missing: Vec<NonZeroU32> = page
            .iter()
            .filter(|uid| !entry.rows.contains_key(&uid.get()))
            .copied()
            .collect();
        if let Ok(set) = SequenceSet::try_from(missing) {
            let rows = self.fetch_rows(set, true).await?;
            if let Some(entry) = self.mirror.get(folder) {
                entry.keep(rows);
            }
        }
        let entry = self
            .mirror
            .get(folder)
            .ok_or(ImapError::NoSuchFolder(folder.to_owned()))?;
        Ok((entry.list(folder, offset, limit), synced))
    }

    /// Whether the first `rows` of `folder` would be listed from the mirror.
    pub fn lists_from_mirror(&mut self, folder: &str, rows: u32) -> bool {
        self.list_from_mirror(folder, 0, rows).is_some()
    }

    /// The page as the mirror has it, for a folder opened before and not selected now, if
    /// every row of it is kept and the relay changed nothing there since: switching back
    /// costs no round trip (nor a SELECT, which on a big Maildir costs the server a directory
    /// scan), and what others changed meanwhile follows as a delta once the folder is open.
    fn list_from_mirror(&mut self, folder: &str, offset: u32, limit: u32) -> Option<MessageList> {
        if self.is_selected(folder) {
            return None;
        }
        let entry = self.mirror.get(folder).filter(|e| !e.stale)?;
        let list = entry.list(folder, offset, limit);
        let whole = list.messages.len() == entry.page(offset, limit).len();
        whole.then_some(list)
    }

    /// Rows for `uids` of a folder's mirror entry (fetched where not kept), for a delta.
    pub async fn rows_for(
        &mut self,
        folder: &str,
        uids: &[u32],
    ) -> Result<Vec<MessageSummary>, ImapError> {
        let missing: Vec<NonZeroU32> = match self.mirror.get(folder) {
            Some(entry) => uids
                .iter()
                .filter(|uid| !entry.rows.contains_key(uid))
                .filter_map(|uid| NonZeroU32::new(*uid))
                .collect(),
            None => return Ok(Vec::new()),
        };
        if let Ok(set) = SequenceSet::try_from(missing) {
            self.select(folder).await?;
            let rows = self.fetch_rows(set, true).await?;
            if let Some(entry) = self.mirror.get(folder) {
                entry.keep(rows);
            }
        }
        Ok(match self.mirror.get(folder) {
            Some(entry) => uids.iter().filter_map(|uid| entry.row(*uid)).collect(),
            None => Vec::new(),
        })
    }

    /// Conversation sizes of the selected folder by THREAD=REFERENCES, kept in its mirror
    /// entry until its messages change; the sizes above one of the rows kept, if newly worked
    /// out. About 100 ms of the server's time on 10,000 messages: never on the path to a list.
    pub async fn work_out_conversations(
        &mut self,
        folder: &str,
    ) -> Result<Option<(u32, Vec<(u32, u32)>)>, ImapError> {
        if !self.wants_conversations(folder) {
            return Ok(None);
        }
        let sizes = match self.thread().await {
            // Rows without conversation sizes are still rows; not asked again until they change.
            Err(e) if !e.is_connection_lost() => {
                tracing::info!(error = %e, "no conversation sizes");
                HashMap::new()
            }
            other => other?,
        };
        let Some(entry) = self.mirror.get(folder) else {
            return Ok(None);
        };
        // News during THREAD: the sizes may be off already; the next sync works them out again.
        if entry.stale {
            return Ok(None);
        }
        entry.threads = Some(sizes.into_iter().filter(|(_, size)| *size > 1).collect());
        Ok(Some((entry.version, entry.known_thread_sizes())))
    }

    /// Whether the selected, mirrored `folder` lacks conversation sizes the server can give.
    pub fn wants_conversations(&mut self, folder: &str) -> bool {
        self.mirror
            .get(folder)
            .is_some_and(|e| e.threads.is_none() && !e.stale)
            && self.is_selected(folder)
            && self.capabilities_match(|c| {
                matches!(c, Capability::Thread(ThreadingAlgorithm::References))
            })
    }

    /// List rows for the messages in `set` (UIDs or sequence numbers), newest first. A message
    /// whose FETCH response cannot be read (its BODYSTRUCTURE, usually) is fetched again
    /// without the structure and marked damaged, so one hostile mail never hides the others.
    async fn fetch_rows(
        &mut self,
        set: SequenceSet,
        uid: bool,
    ) -> Result<Vec<MessageSummary>, ImapError> {
        let answer = self
            .execute(CommandBody::fetch(set, fetch::summary_items(), uid).expect("valid set"))
            .await?;
        // Fetched again by UID where the response names one (after a UID FETCH sequence
        // numbers may have shifted: EXPUNGE is allowed during it), else by sequence number (a
        // plain FETCH may not be interrupted by EXPUNGE, so the numbers still hold).
        let (mut again_by_uid, mut again_by_seq) = (Vec::new(), Vec::new());
        for response in &answer.unreadable {
            match (uid, response.fetch_uid(), response.fetch_sequence()) {
                (true, Some(found), _) => again_by_uid.push(found),
                (_, _, Some(seq)) => again_by_seq.push(seq),
                _ => {}
            }
        }
        let mut rows = fetch::numbered_rows(answer.into_data()?);
        for (again, by_uid) in [(again_by_uid, true), (again_by_seq, false)] {
            let Ok(set) = SequenceSet::try_from(again) else {
                continue;
            };
            let items = fetch::summary_items_without_structure();
            let answer = self
                .execute(CommandBody::fetch(set, items, by_uid).expect("valid set"))
                .await?;
            for (seq, row) in fetch::numbered_rows(answer.into_data()?) {
                if rows.iter().all(|(_, known)| known.uid != row.uid) {
                    let row = MessageSummary {
                        damaged: true,
                        ..row
                    };
                    rows.push((seq, row));
                }
            }
        }
        Ok(fetch::newest_first(rows))
    }

    async fn thread(&mut self) -> Result<HashMap<u32, u32>, ImapError> {
        let body = CommandBody::Thread {
            algorithm: ThreadingAlgorithm::References,
            charset: Charset::try_from("UTF-8").expect("valid charset"),
            search_criteria: Vec1::from(SearchKey::All),
            uid: true,
        };
        Ok(fetch::thread_sizes(self.run(body).await?))
    }

    pub async fn open_message(
        &mut self,
        folder: &str,
        uid: u32,
        inline: mime::InlineLimits,
    ) -> Result<MessageView, ImapError> {
        self.select(folder).await?;
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::Flags,
            MessageDataItemName::InternalDate,
            MessageDataItemName::BodyStructure,
            MessageDataItemName::BodyExt {
                section: Some(Section::Header(None)),
                partial: Some((0, NonZeroU32::new(MAX_HEADER).expect("not zero"))),
                peek: true,
            },
        ]);
        let answer = self
            .execute(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await?;
        let unreadable = !answer.unreadable.is_empty();
        let data = answer.into_data()?;
        let Some(items) = fetched_items(&data, uid) else {
            return if unreadable {
                self.open_damaged(folder, uid, inline).await
            } else {
                Err(ImapError::NoSuchMessage)
            };
        };
        let fetched = Fetched::new(items);
        let plan = fetched.structure.map(structure::plan);
        let headers = mime::headers(fetched.section);
        let (body, truncated) = match plan.as_ref().and_then(|p| p.body.as_ref()) {
            Some(part) => (self.fetch_body(uid, part).await?, part.size > MAX_BODY),
            None => (Body::Empty, false),
        };
        let attachments = plan.map(|p| p.attachments).unwrap_or_default();
        let body = match (body, fetched.structure) {
            (
                Body::Html {
                    html,
                    remote_content,
                },
                Some(structure),
            ) => Body::Html {
                html: self
                    .embed_inline_images(uid, html, structure, &attachments, inline)
                    .await?,
                remote_content,
            },
            (body, _) => body,
        };
        Ok(MessageView {
            body,
            attachments,
            truncated,
            ..view(folder, uid, &fetched, headers)
        })
    }

    /// A message whose structure the server describes unreadably: read from its first
    /// [`MAX_BODY`] bytes as a whole message instead, without attachments (their IMAP part
    /// numbers are unknown; the .eml download has everything).
    async fn open_damaged(
        &mut self,
        folder: &str,
        uid: u32,
        inline: mime::InlineLimits,
    ) -> Result<MessageView, ImapError> {
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::Flags,
            MessageDataItemName::InternalDate,
            MessageDataItemName::Rfc822Size,
            MessageDataItemName::BodyExt {
                section: None,
                partial: Some((0, NonZeroU32::new(MAX_BODY).expect("not zero"))),
                peek: true,
            },
        ]);
        let answer = self
            .execute(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await?;
        let unreadable = answer.unreadable.first().map(Unreadable::describe);
        let data = answer.into_data()?;
        let Some(items) = fetched_items(&data, uid) else {
            return Err(match unreadable {
                Some(response) => ImapError::Unreadable(response),
                None => ImapError::NoSuchMessage,
            });
        };
        let fetched = Fetched::new(items);
        let parsed = mime::parse_message(fetched.section, inline);
        Ok(MessageView {
            body: parsed.body,
            damaged: true,
            truncated: parsed.truncated || fetched.size > MAX_BODY,
            ..view(folder, uid, &fetched, parsed.headers)
        })
    }

    /// Puts the inline images the body shows (within `limits`) into it, fetched together in
    /// one round trip over this connection.
    async fn embed_inline_images(
        &mut self,
        uid: u32,
        html: String,
        structure: &BodyStructure<'_>,
        attachments: &[protocol::Attachment],
        limits: mime::InlineLimits,
    ) -> Result<String, ImapError> {
        let wanted = mime::inline_image_ids(&html);
        let candidates = attachments.iter().filter_map(|a| {
            Some(mime::InlinePart {
                content_id: a.content_id.as_deref()?,
                mime_type: &a.mime_type,
                size: a.size as usize,
                key: a.part.as_str(),
            })
        });
        let chosen = mime::choose_inline_images(&wanted, candidates, limits);
        if chosen.is_empty() {
            return Ok(html);
        }
        let mut items = vec![MessageDataItemName::Uid];
        for (_, part) in &chosen {
            items.push(MessageDataItemName::BodyExt {
                section: Some(Section::Part(Part(part_path(part.key)?))),
                partial: None,
                peek: true,
            });
        }
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(items);
        // Images that cannot be had (refused, unreadable) leave the body without them.
        let data = match self
            .execute(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await
            .and_then(|answer| answer.into_data())
        {
            Ok(data) => data,
            Err(e) if e.is_connection_lost() => return Err(e),
            Err(_) => return Ok(html),
        };
        let Some(fetched) = fetched_items(&data, uid) else {
            return Ok(html);
        };
        let images: Vec<(String, String)> = chosen
            .into_iter()
            .filter_map(|(id, part)| {
                let raw = fetched.iter().find_map(|item| match item {
                    MessageDataItem::BodyExt {
                        section: Some(Section::Part(Part(path))),
                        data,
                        ..
                    } if section_name(path) == part.key => data.0.as_ref(),
                    _ => None,
                })?;
                let encoding = structure::find_part(structure, part.key)?.encoding;
                let mut decoder = mime::StreamDecoder::new(&encoding);
                let mut bytes = decoder.push(raw.as_ref());
                bytes.extend(decoder.finish());
                Some((id, mime::data_url(part.mime_type, &bytes)))
            })
            .collect();
        Ok(mime::embed_inline_images(&html, &images))
    }

    async fn fetch_body(
        &mut self,
        uid: u32,
        part: &structure::TextPart,
    ) -> Result<Body, ImapError> {
        let section = Section::Part(Part(part_path(&part.part)?));
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::BodyExt {
                section: Some(section),
                partial: Some((0, NonZeroU32::new(MAX_BODY).expect("not zero"))),
                peek: true,
            },
        ]);
        let data = self
            .run(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await?;
        let raw = fetched_items(&data, uid)
            .map(|items| Fetched::new(items).section)
            .ok_or(ImapError::NoSuchMessage)?;
        let subtype = if part.html { "html" } else { "plain" };
        let text = mime::decode_text_part(subtype, part.charset.as_deref(), &part.encoding, raw);
        Ok(if part.html {
            let clean = mime::sanitize_html(&text);
            Body::Html {
                html: clean.html,
                remote_content: clean.remote_content,
            }
        } else {
            Body::Text { text }
        })
    }

    /// What a download of `part` (or, without one, the whole message) will deliver.
    pub async fn prepare_download(
        &mut self,
        folder: &str,
        uid: u32,
        part: Option<&str>,
    ) -> Result<Option<structure::PartInfo>, ImapError> {
        self.select(folder).await?;
        // The whole message needs no BODYSTRUCTURE: a damaged one can still be downloaded.
        let mut items = vec![MessageDataItemName::Uid];
        if let Some(part) = part {
            part_path(part)?;
            items.push(MessageDataItemName::BodyStructure);
        }
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(items);
        let data = self
            .run(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await?;
        let items = fetched_items(&data, uid).ok_or(ImapError::NoSuchMessage)?;
        let Some(part) = part else {
            return Ok(None);
        };
        let structure = Fetched::new(items)
            .structure
            .ok_or_else(|| ImapError::Protocol("no BODYSTRUCTURE in the answer".into()))?;
        structure::find_part(structure, part)
            .map(Some)
            .ok_or_else(|| ImapError::BadInput(format!("message has no part {part}")))
    }

    /// `len` bytes from `offset` of a part (still transfer-encoded) or of the whole message.
    /// Fewer bytes than asked means the end.
    pub async fn fetch_chunk(
        &mut self,
        uid: u32,
        part: Option<&str>,
        offset: u32,
        len: NonZeroU32,
    ) -> Result<Vec<u8>, ImapError> {
        let section = part
            .map(|p| part_path(p).map(|path| Section::Part(Part(path))))
            .transpose()?;
        let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
            MessageDataItemName::Uid,
            MessageDataItemName::BodyExt {
                section,
                partial: Some((offset, len)),
                peek: true,
            },
        ]);
        let data = self
            .run(CommandBody::fetch(uid_set(&[uid])?, items, true).expect("valid set"))
            .await?;
        fetched_items(&data, uid)
            .map(|items| Fetched::new(items).section.to_vec())
            .ok_or(ImapError::NoSuchMessage)
    }

    pub async fn set_flags(
        &mut self,
        folder: &str,
        uids: &[u32],
        flags: &[Flag],
        set: bool,
    ) -> Result<(), ImapError> {
        let flags = flags.iter().map(imap_flag).collect::<Result<Vec<_>, _>>()?;
        self.select(folder).await?;
        let kind = if set {
            StoreType::Add
        } else {
            StoreType::Remove
        };
        // Silent: the sync that follows reads the change back into the mirror, and the
        // browsers get it as a delta like anyone else's.
        let body = CommandBody::store(uid_set(uids)?, kind, StoreResponse::Silent, flags, true)
            .expect("valid set");
        self.on_present(uids, Look::After, vec![body])
            .await
            .map(drop)
    }

    /// COPY; the copies' UIDs in `to` where the server says them (UIDPLUS), else none.
    pub async fn copy_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<Vec<u32>, ImapError> {
        self.select(folder).await?;
        let body = CommandBody::copy(uid_set(uids)?, mailbox(to)?, true).expect("valid arguments");
        self.mirror.mark_stale(to);
        self.placing(uids, body).await
    }

    /// Runs a COPY or MOVE of `uids` (those still there); the UIDs its COPYUID gives them
    /// (RFC 4315; for MOVE, RFC 6851, in an untagged OK before the expunges), none where it
    /// gives none.
    async fn placing(
        &mut self,
        uids: &[u32],
        body: CommandBody<'static>,
    ) -> Result<Vec<u32>, ImapError> {
        let answer = self.on_present(uids, Look::Before, vec![body]).await?;
        let completion = answer.statuses.last().and_then(|s| s.code.clone());
        Ok(placed_uids(&completion, &answer.codes, uids.len()))
    }

    /// Sends `then` (commands on `uids` in the selected folder) with a UID SEARCH for those
    /// messages pipelined `look`, so that the one round trip also tells whether they are
    /// there. When none is (another client deleted or moved them, or this user did while the
    /// app was offline) the server has the last word, and the answer is
    /// [`ImapError::NoSuchMessage`] rather than a success the user would trust.
    async fn on_present(
        &mut self,
        uids: &[u32],
        look: Look,
        then: Vec<CommandBody<'static>>,
    ) -> Result<Pipelined, ImapError> {
        let search = CommandBody::search(None, SearchKey::Uid(uid_set(uids)?).into(), true);
        match look {
            Look::Before => {
                let bodies = [vec![search.clone()], then.clone()].concat();
                let answer = self.act_pipelined(bodies).await?;
                match present_or_gone(&answer, 0) {
                    // Found, yet refused as gone: EXPUNGEISSUED, some were expunged by another
                    // session and the server did nothing. Once the view has caught up (a NOOP
                    // of its own) it takes those left.
                    Err(ImapError::NoSuchMessage) if found_any(&answer.data) => {
                        self.act(CommandBody::Noop).await?;
                        let again = self.act_pipelined([vec![search], then].concat()).await?;
                        present_or_gone(&again, 0).map(|()| again)
                    }
                    checked => checked.map(|()| answer),
                }
            }
            Look::After => {
                let searched_at = then.len();
                let answer = self
                    .act_pipelined([then, vec![search.clone()]].concat())
                    .await?;
                present_or_gone(&answer, searched_at)?;
                let expunged = answer.data.iter().any(|d| matches!(d, Data::Expunge(_)));
                // The SEARCH may have seen messages gone already: asked again, the view is
                // current.
                if expunged && self.act(search).await.is_ok_and(|again| !found_any(&again)) {
                    return Err(ImapError::NoSuchMessage);
                }
                Ok(answer)
            }
        }
    }

    /// MOVE where the server has it; else COPY, flag \Deleted, and expunge just those messages
    /// (UID EXPUNGE, UIDPLUS) or, lacking that, every \Deleted message of the folder. Returns
    /// the messages' UIDs in `to`, where the server says them (UIDPLUS), for an undo.
    pub async fn move_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<Vec<u32>, ImapError> {
        if folder == to {
            return Ok(uids.to_vec());
        }
        self.select(folder).await?;
        let set = uid_set(uids)?;
        if self.has(&Capability::Move) {
            let body = CommandBody::Move {
                sequence_set: set,
                mailbox: mailbox(to)?,
                uid: true,
            };
            self.mirror.mark_stale(to);
            return self.placing(uids, body).await;
        }
        // Copied first, and only then removed: a failed COPY leaves the messages where they were.
        let placed = self.copy_messages(folder, uids, to).await?;
        self.expunge(set).await?;
        Ok(placed)
    }

    /// Flags `set` \Deleted and expunges those messages (UID EXPUNGE, UIDPLUS) or, lacking
    /// that, every \Deleted message of the folder.
    pub(super) async fn expunge(&mut self, set: SequenceSet) -> Result<(), ImapError> {
        let (store, expunge) = expunging(set, self.has(&Capability::UidPlus));
        self.act(store).await?;
        self.act(expunge).await.map(drop)
    }

    /// Into `trash` (returning the UIDs there, as [`Self::move_messages`] does); removed for
    /// good when already there or when there is no Trash (`None`).
    pub async fn delete_messages(
        &mut self,
        folder: &str,
        uids: &[u32],
        trash: Option<&str>,
    ) -> Result<Option<Vec<u32>>, ImapError> {
        match trash {
            Some(trash) if trash != folder => {
                self.move_messages(folder, uids, trash).await.map(Some)
            }
            _ => {
                self.select(folder).await?;
                let uid_plus = self.has(&Capability::UidPlus);
                let (store, expunge) = expunging(uid_set(uids)?, uid_plus);
                if uid_plus {
                    self.on_present(uids, Look::Before, vec![store, expunge])
                        .await?;
                } else {
                    // A plain EXPUNGE removes every \Deleted message of the folder: sent only
                    // once the STORE went through.
                    self.on_present(uids, Look::Before, vec![store]).await?;
                    self.act(expunge).await?;
                }
                Ok(None)
            }
        }
    }

    /// The folder with `role`, if the server has one.
    pub async fn folder_with_role(
        &mut self,
        role: FolderRole,
    ) -> Result<Option<String>, ImapError> {
        Ok(self
            .list_folder_names()
            .await?
            .into_iter()
            .find(|f| f.role == Some(role) && f.selectable)
            .map(|f| f.name))
    }

    /// UIDs matching `query` in `folder`, newest first, with their list rows.
    pub async fn search(
        &mut self,
        folder: &str,
        query: &SearchQuery,
    ) -> Result<Vec<MessageSummary>, ImapError> {
        self.search_by(folder, search_keys(query)?).await
    }

    /// The messages of the conversation whose first message is `thread_id` (a Message-ID):
    /// that message, and those that refer to it.
    pub async fn conversation(
        &mut self,
        folder: &str,
        thread_id: &str,
    ) -> Result<Vec<MessageSummary>, ImapError> {
        if thread_id.is_empty() || thread_id.contains(['\r', '\n', '\0']) {
            return Err(ImapError::BadInput("not a message id".into()));
        }
        let text = |value: &str| {
            AString::try_from(value.to_owned())
                .map_err(|_| ImapError::BadInput(format!("not a message id: {value:?}")))
        };
        let header = |name: &str| -> Result<SearchKey<'static>, ImapError> {
            Ok(SearchKey::Header(text(name)?, text(thread_id)?))
        };
        let any = SearchKey::Or(
            Box::new(header("Message-ID")?),
            Box::new(SearchKey::Or(
                Box::new(header("References")?),
                Box::new(header("In-Reply-To")?),
            )),
        );
        self.search_by(folder, Vec1::from(any)).await
    }

    /// Messages matching `criteria` in `folder`, newest first (at most [`MAX_HITS`]).
    async fn search_by(
        &mut self,
        folder: &str,
        criteria: Vec1<SearchKey<'static>>,
    ) -> Result<Vec<MessageSummary>, ImapError> {
        self.select(folder).await?;
        let charset = Charset::try_from("UTF-8").expect("valid charset");
        let data = self
            .run(CommandBody::search(Some(charset), criteria, true))
            .await?;
        let mut uids = sync::searched_newest_first(&data).unwrap_or_default();
        uids.truncate(MAX_HITS);
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = SequenceSet::try_from(uids).expect("not empty");
        self.fetch_rows(set, true).await
    }
}

/// When [`ImapConnection::on_present`] looks for the messages of a command.
enum Look {
    /// Before commands that take them away (MOVE, COPY before an expunge, EXPUNGE). A message
    /// another session expunged that this one still sees is refused by those (Dovecot:
    /// EXPUNGEISSUED).
    Before,
    /// After commands that leave them (STORE). A server applies a STORE to a message another
    /// session expunged that this one still sees, and shows the expunge only once the last
    /// command sent at once is done (Dovecot), after the SEARCH: when expunges come, the
    /// SEARCH is asked again.
    After,
}

/// Whether a SEARCH in `data` found anything.
fn found_any(data: &[Data<'_>]) -> bool {
    data.iter()
        .any(|d| matches!(d, Data::Search(found, ..) if !found.is_empty()))
}

/// Whether `answer` of [`ImapConnection::on_present`] went through: an error if its commands'
/// own completions failed, or if the SEARCH (completion `searched_at`) found none of the
/// messages. A SEARCH that itself failed says nothing: the messages count as there.
fn present_or_gone(answer: &Pipelined, searched_at: usize) -> Result<(), ImapError> {
    let mut own = answer
        .statuses
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != searched_at);
    if let Some((_, failed)) = own.find(|(_, s)| s.kind != StatusKind::Ok) {
        return Err(ImapError::from_status(failed));
    }
    let searched = answer
        .statuses
        .get(searched_at)
        .is_some_and(|s| s.kind == StatusKind::Ok);
    if searched && !found_any(&answer.data) {
        return Err(ImapError::NoSuchMessage);
    }
    Ok(())
}

/// STORE +FLAGS \Deleted of `set`, then the expunge that removes them: UID EXPUNGE of just
/// `set` with UIDPLUS, else EXPUNGE of every \Deleted message.
fn expunging(set: SequenceSet, uid_plus: bool) -> (CommandBody<'static>, CommandBody<'static>) {
    let store = CommandBody::store(
        set.clone(),
        StoreType::Add,
        StoreResponse::Silent,
        vec![ImapFlag::Deleted],
        true,
    )
    .expect("valid set");
    let expunge = if uid_plus {
        CommandBody::ExpungeUid { sequence_set: set }
    } else {
        CommandBody::Expunge
    };
    (store, expunge)
}

/// The items of the FETCH response for `uid`.
fn fetched_items<'a>(
    data: &'a [Data<'static>],
    uid: u32,
) -> Option<&'a [imap_codec::imap_types::fetch::MessageDataItem<'static>]> {
    data.iter().find_map(|d| match d {
        Data::Fetch { items, .. } if Fetched::new(items.as_ref()).uid == Some(uid) => {
            Some(items.as_ref())
        }
        _ => None,
    })
}

/// The reader's view of a message from its FETCH items and headers; no body yet.
fn view(folder: &str, uid: u32, fetched: &Fetched<'_>, headers: mime::Headers) -> MessageView {
    let summary = headers.summary;
    MessageView {
        folder: folder.to_owned(),
        uid,
        from: summary.from,
        to: summary.to,
        cc: headers.cc,
        reply_to: headers.reply_to,
        subject: summary.subject,
        date: summary.date.or(fetched.received).unwrap_or(0),
        message_id: headers.message_id,
        references: headers.references,
        thread_id: summary.thread_id,
        body: Body::Empty,
        attachments: Vec::new(),
        unread: !fetched.has(&ImapFlag::Seen),
        flagged: fetched.has(&ImapFlag::Flagged),
        answered: fetched.has(&ImapFlag::Answered),
        keywords: fetched.keywords(),
        damaged: false,
        truncated: false,
        forged_from: headers.forged_from,
        images_allowed: false,
    }
}

/// UIDs from the app: at least one, none zero.
fn uid_set(uids: &[u32]) -> Result<SequenceSet, ImapError> {
    let uids = uids
        .iter()
        .map(|u| NonZeroU32::new(*u))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ImapError::BadInput("UID 0 does not exist".into()))?;
    SequenceSet::try_from(uids).map_err(|_| ImapError::BadInput("no messages given".into()))
}

/// [1, 2, 3] → `1.2.3`.
fn section_name(path: &Vec1<NonZeroU32>) -> String {
    path.as_ref()
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// `1.2.3` → [1, 2, 3].
fn part_path(part: &str) -> Result<Vec1<NonZeroU32>, ImapError> {
    let numbers = part
        .split('.')
        .map(|n| n.parse::<u32>().ok().and_then(NonZeroU32::new))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ImapError::BadInput(format!("not a part number: {part:?}")))?;
    Vec1::try_from(numbers).map_err(|_| ImapError::BadInput("empty part number".into()))
}

fn imap_flag(flag: &Flag) -> Result<ImapFlag<'static>, ImapError> {
    Ok(match flag {
        Flag::Seen => ImapFlag::Seen,
        Flag::Flagged => ImapFlag::Flagged,
        Flag::Answered => ImapFlag::Answered,
        Flag::Keyword(name) => match ImapFlag::try_from(name.as_str()) {
            Ok(keyword @ ImapFlag::Keyword(_)) => keyword.into_static(),
            _ => return Err(ImapError::BadInput(format!("not a keyword: {name:?}"))),
        },
    })
}

fn search_keys(query: &SearchQuery) -> Result<Vec1<SearchKey<'static>>, ImapError> {
    let text = |value: &Option<String>| -> Result<Option<AString<'static>>, ImapError> {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                AString::try_from(v.to_owned())
                    .map_err(|_| ImapError::BadInput(format!("cannot search for {v:?}")))
            })
            .transpose()
    };
    let date = |seconds: Option<i64>| -> Result<Option<imap_codec::imap_types::datetime::NaiveDate>, ImapError> {
        seconds
            .map(|s| {
                chrono::DateTime::from_timestamp(s, 0)
                    .and_then(|d| d.date_naive().try_into().ok())
                    .ok_or_else(|| ImapError::BadInput(format!("not a date: {s}")))
            })
            .transpose()
    };
    let mut keys = Vec::new();
    keys.extend(text(&query.text)?.map(SearchKey::Text));
    keys.extend(text(&query.from)?.map(SearchKey::From));
    keys.extend(text(&query.to)?.map(SearchKey::To));
    keys.extend(text(&query.subject)?.map(SearchKey::Subject));
    keys.extend(text(&query.body)?.map(SearchKey::Body));
    keys.extend(date(query.since)?.map(SearchKey::Since));
    keys.extend(date(query.before)?.map(SearchKey::Before));
    if keys.is_empty() {
        return Err(ImapError::BadInput("say what to search for".into()));
    }
    Ok(Vec1::try_from(keys).expect("not empty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_reject_zero_and_empty() {
        assert!(uid_set(&[]).is_err());
        assert!(uid_set(&[0]).is_err());
        assert!(uid_set(&[3, 1, 2]).is_ok());
    }

    #[test]
    fn keywords_must_be_atoms_not_system_flags() {
        assert!(imap_flag(&Flag::Keyword("$Label1".into())).is_ok());
        assert!(imap_flag(&Flag::Keyword("\\\\Deleted".into())).is_err());
        assert!(imap_flag(&Flag::Keyword("two words".into())).is_err());
        assert!(imap_flag(&Flag::Keyword("x)\\r\\nA1 EXPUNGE".into())).is_err());
    }

    #[test]
    fn part_numbers() {
        assert_eq!(part_path("1.2").unwrap().as_ref().len(), 2);
        assert!(part_path("1..2").is_err());
        assert!(part_path("0").is_err());
        assert!(part_path("1 HEADER").is_err());
    }

    #[test]
    fn empty_search_is_refused() {
        assert!(search_keys(&SearchQuery::default()).is_err());
        let query = SearchQuery {
            subject: Some("Grüße".into()),
            since: Some(1_700_000_000),
            ..SearchQuery::default()
        };
        assert_eq!(search_keys(&query).unwrap().as_ref().len(), 2);
    }
}
