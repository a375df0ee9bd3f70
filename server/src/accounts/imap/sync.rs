//! Keeping the mirror current: a folder opened for the first time is selected with its order
//! asked in the same round trip; a folder known from before costs one SELECT when nothing
//! changed; one that changed is brought up to date in one more round trip (its order, the
//! flags changed since, the new messages and the unread count, pipelined), and what changed
//! goes back as a [`Delta`]. Servers without CONDSTORE get the same answers, their flags read
//! again instead of only the changed ones; servers without SORT are ordered by arrival.

use std::num::NonZeroU32;

use imap_codec::imap_types::{
    command::{CommandBody, FetchModifier},
    core::{Charset, Vec1},
    extensions::sort::{SortCriterion, SortKey},
    fetch::{MacroOrMessageDataItemNames, MessageDataItemName},
    response::{Capability, Data},
    search::SearchKey,
    sequence::{SeqOrUid, Sequence, SequenceSet},
};

use protocol::Folder;

use super::{
    fetch, folders,
    mirror::{Delta, Validity},
    ImapConnection, ImapError,
};

/// New messages fetched with the sync itself, at most; past that they come with their pages.
const NEW_ROWS_AT_ONCE: u32 = 50;

/// What opening a folder found.
#[derive(Debug, Default)]
pub struct Synced {
    pub delta: Delta,
    /// The folder's list is not what the browsers hold (first seen, or UIDVALIDITY changed):
    /// no delta applies, they load it again.
    pub new_list: bool,
    /// Answered from the mirror without asking the server (a folder opened before): what
    /// changed meanwhile is still to be found out, by opening it.
    pub unverified: bool,
}

impl ImapConnection {
    /// Selects `folder` (unless selected) and brings its mirror entry up to date.
    pub(super) async fn open_folder(&mut self, folder: &str) -> Result<Synced, ImapError> {
        if !self.is_selected(folder) && self.mirror.get(folder).is_none() {
            // Never seen: its order comes in the same round trip.
            let answer = self.send_select(folder, vec![self.order_command()]).await?;
            let order = order_from(&answer.data);
            self.selected_from(folder, answer.data, &answer.codes);
            return self.first_open(folder, order).await;
        }
        // Known: SELECT tells whether the entry still holds (a NOOP where selected, without IDLE).
        self.select(folder).await?;
        match self.mirror.get(folder).map(|e| e.stale) {
            Some(false) => Ok(Synced::default()),
            Some(true) => self.resync(folder).await,
            // Its UIDs went void.
            None => self.first_open(folder, None).await,
        }
    }

    /// At login: the INBOX opened with its first `rows` rows, and every folder with its
    /// counts, in two round trips: the folder list and the unread count go along with SELECT
    /// and the order, the rows along with the other folders' STATUS.
    pub async fn open_inbox_and_folders(&mut self, rows: u32) -> Result<Vec<Folder>, ImapError> {
        let sorted = self.has_sort();
        let mut then = vec![self.order_command()];
        // SEARCH answers cannot be told apart, so the unread count goes with SORT only.
        if sorted {
            then.push(CommandBody::search(None, SearchKey::Unseen.into(), true));
        }
        then.extend(folders::list_commands()?);
        let answer = self.send_select("INBOX", then).await?;
        let order = order_from(&answer.data);
        let unread = sorted.then(|| unread_from(&answer.data));
        let mut folders = folders::folders_from(&answer.data);
        self.selected_from("INBOX", answer.data, &answer.codes);
        self.first_open("INBOX", order).await?;
        if folders.is_empty() {
            // SELECT went alone (an answer behind it could not be read): the usual way.
            self.list_messages("INBOX", 0, rows).await?;
            return self.list_folders().await;
        }
        let others: Vec<String> = folders
            .iter()
            .filter(|f| f.selectable && f.name != "INBOX")
            .map(|f| f.name.clone())
            .collect();
        let page = self
            .mirror
            .get("INBOX")
            .map(|e| e.page(0, rows))
            .unwrap_or_default();
        let mut bodies = folders::status_commands(&others)?;
        if let Ok(set) = SequenceSet::try_from(page) {
            bodies.extend(CommandBody::fetch(set, fetch::summary_items(), true).ok());
        }
        let mut counts = match self.run_pipelined(bodies).await {
            Ok(answer) => {
                let counts = folders::counts_from(&answer.data);
                let fetched = fetch::numbered_rows(answer.data);
                if let Some(entry) = self.mirror.get("INBOX") {
                    entry.keep(fetched.into_iter().map(|(_, row)| row));
                }
                counts
            }
            // A row that cannot be read: each asked again, with its own fallback.
            Err(ImapError::Unreadable(response)) => {
                tracing::info!(%response, "login answers unreadable; asking again one by one");
                self.list_messages("INBOX", 0, rows).await?;
                self.counts(&others).await?
            }
            Err(e) => return Err(e),
        };
        if let (Some(unread), Some(entry)) = (unread, self.mirror.get("INBOX")) {
            entry.unread = Some(unread);
        }
        counts.push(("INBOX".to_owned(), self.mirrored_counts("INBOX").await?));
        folders::with_counts(&mut folders, counts);
        Ok(folders)
    }

    /// The folder list with counts at a login whose INBOX the mirror holds: the INBOX's counts
    /// as the mirror has them (made current once it is opened), STATUS for the others.
    pub async fn folders_beside_mirror(&mut self) -> Result<Vec<Folder>, ImapError> {
        let mut folders = self.list_folder_names().await?;
        let inbox = self
            .mirror
            .get("INBOX")
            .and_then(|e| Some((e.order.len() as u32, e.unread?)));
        let others: Vec<String> = folders
            .iter()
            .filter(|f| f.selectable && (f.name != "INBOX" || inbox.is_none()))
            .map(|f| f.name.clone())
            .collect();
        let mut counts = self.counts(&others).await?;
        counts.extend(inbox.map(|counts| ("INBOX".to_owned(), counts)));
        folders::with_counts(&mut folders, counts);
        Ok(folders)
    }

    /// A new entry for the selected `folder`, from its order (asked here if not given).
    async fn first_open(
        &mut self,
        folder: &str,
        order: Option<Vec<NonZeroU32>>,
    ) -> Result<Synced, ImapError> {
        let order = match order {
            Some(order) => order,
            None => self.order().await?,
        };
        let validity = self.selected_validity();
        self.mirror.insert(folder, validity, order);
        Ok(Synced {
            new_list: true,
            ..Synced::default()
        })
    }

    fn selected_validity(&self) -> Validity {
        self.selected
            .as_ref()
            .map(|s| Validity {
                exists: s.exists,
                ..s.validity
            })
            .unwrap_or_default()
    }

    /// Brings the entry of the selected `folder` up to date with the server, in one round
    /// trip where the answers can be read.
    pub(super) async fn resync(&mut self, folder: &str) -> Result<Synced, ImapError> {
        let synced = self.sync_selected(folder).await;
        if synced.is_err() {
            self.mirror.mark_stale(folder); // still to be done
        }
        synced
    }

    async fn sync_selected(&mut self, folder: &str) -> Result<Synced, ImapError> {
        let Some(entry) = self.mirror.get(folder) else {
            return self.first_open(folder, None).await;
        };
        let known = entry.validity;
        // Current as of the answers below: news arriving among them marks it again.
        entry.stale = false;
        // A modification sequence comes only from a server with CONDSTORE.
        let condstore = known.highest_modseq.is_some();
        // Without one: the flags of every row kept.
        let cached: Vec<NonZeroU32> = match condstore {
            true => Vec::new(),
            false => entry
                .rows
                .keys()
                .filter_map(|uid| NonZeroU32::new(*uid))
                .collect(),
        };
        let selected = self.selected_validity();
        let flags = if condstore {
            // Only what changed since the entry was current.
            let all = Sequence::Range(SeqOrUid::Value(NonZeroU32::MIN), SeqOrUid::Asterisk);
            Some(flags_command(SequenceSet::from(all), known.highest_modseq))
        } else {
            SequenceSet::try_from(cached)
                .ok()
                .map(|set| flags_command(set, None))
        };
        let grown = selected.exists.saturating_sub(known.exists);
        let new_rows = (known.uid_next > 0 && grown > 0 && grown <= NEW_ROWS_AT_ONCE)
            .then(|| {
                let from = NonZeroU32::new(known.uid_next)?;
                let set =
                    SequenceSet::from(Sequence::Range(SeqOrUid::Value(from), SeqOrUid::Asterisk));
                CommandBody::fetch(set, fetch::summary_items(), true).ok()
            })
            .flatten();
        let sorted = self.has_sort();
        let mut bodies = vec![self.order_command()];
        // SEARCH answers cannot be told apart, so the unread count goes with SORT only.
        if sorted {
            bodies.push(CommandBody::search(None, SearchKey::Unseen.into(), true));
        }
        bodies.extend(flags.clone());
        let with_new_rows = new_rows.is_some();
        bodies.extend(new_rows);
        let (order, data) = match self.run_pipelined(bodies).await {
            Ok(answer) => (order_from(&answer.data), answer.data),
            // Something in there could not be read: the same, one at a time, each with its own
            // fallback (a damaged new message is fetched again without its structure).
            Err(ImapError::Unreadable(response)) => {
                tracing::info!(%response, "sync answer unreadable; asking again one by one");
                let order = self.order().await?;
                let data = match flags {
                    Some(flags) => self.act(flags).await?,
                    None => Vec::new(),
                };
                (Some(order), data)
            }
            Err(e) => return Err(e),
        };
        let order = match order {
            Some(order) => order,
            None => self.order().await?,
        };
        let unread = sorted.then(|| unread_from(&data));
        let updates = fetch::flag_updates(&data);
        let fresh = if with_new_rows {
            fetch::numbered_rows(data)
                .into_iter()
                .map(|(_, row)| row)
                .filter(|row| row.uid >= known.uid_next)
                .collect()
        } else {
            Vec::new()
        };
        let uid_next = order.iter().map(|u| u.get() + 1).max().unwrap_or(0);
        let version = self.mirror.next_version();
        let Some(entry) = self.mirror.get(folder) else {
            return Ok(Synced::default());
        };
        let mut delta = entry.reorder(order, version);
        entry.keep(fresh);
        let mut highest = known.highest_modseq.max(selected.highest_modseq);
        for update in updates {
            highest = highest.max(update.modseq);
            let uid = update.uid;
            if let Some(row) = entry.rows.get_mut(&uid) {
                if update.apply(row) {
                    delta.changed.push(uid);
                }
            }
        }
        entry.validity = Validity {
            uid_validity: known.uid_validity,
            uid_next: selected.uid_next.max(known.uid_next).max(uid_next),
            exists: entry.order.len() as u32,
            highest_modseq: highest.filter(|_| condstore),
        };
        if let Some(unread) = unread {
            entry.unread = Some(unread);
        }
        Ok(Synced {
            delta,
            ..Synced::default()
        })
    }

    /// Whether `folder` is the one selected on this connection.
    pub fn is_selected(&self, folder: &str) -> bool {
        self.selected.as_ref().is_some_and(|s| s.name == folder)
    }

    /// Whether `folder` is selected and in the mirror (so its changes can go out as a delta).
    pub fn is_mirrored_and_selected(&mut self, folder: &str) -> bool {
        self.is_selected(folder) && self.mirror.get(folder).is_some()
    }

    /// Whether the server reported news about mirrored `folder` that no sync has read yet.
    pub fn has_news(&mut self, folder: &str) -> bool {
        self.mirror.get(folder).is_some_and(|e| e.stale)
    }

    /// (total, unread) of a mirrored folder: the total as the mirror orders it (so it matches
    /// the positions of a delta), unread as last counted, else counted now.
    pub async fn mirrored_counts(&mut self, folder: &str) -> Result<(u32, u32), ImapError> {
        let Some(entry) = self.mirror.get(folder) else {
            return Err(ImapError::NoSuchFolder(folder.to_owned()));
        };
        let total = entry.order.len() as u32;
        match entry.unread {
            Some(unread) => Ok((total, unread)),
            None => Ok((total, self.selected_counts().await?.1)),
        }
    }

    /// The selected folder's UIDs, newest first: by date where the server sorts (and its
    /// answer can be read), else by arrival.
    pub(super) async fn order(&mut self) -> Result<Vec<NonZeroU32>, ImapError> {
        if self.has_sort() {
            match self.run(self.order_command()).await {
                Ok(data) => {
                    if let Some(order) = order_from(&data) {
                        return Ok(order);
                    }
                }
                Err(ImapError::Unreadable(response)) => {
                    tracing::info!(%response, "SORT answer unreadable; listing in arrival order");
                }
                Err(e) => return Err(e),
            }
        }
        let data = self
            .run(CommandBody::search(None, SearchKey::All.into(), true))
            .await?;
        Ok(searched_newest_first(&data).unwrap_or_default())
    }

    fn order_command(&self) -> CommandBody<'static> {
        if self.has_sort() {
            CommandBody::Sort {
                sort_criteria: Vec1::from(SortCriterion {
                    reverse: true,
                    key: SortKey::Date,
                }),
                charset: Charset::try_from("UTF-8").expect("valid charset"),
                search_criteria: Vec1::from(SearchKey::All),
                uid: true,
            }
        } else {
            CommandBody::search(None, SearchKey::All.into(), true)
        }
    }

    pub(super) fn has_sort(&self) -> bool {
        self.capabilities_match(|c| matches!(c, Capability::Sort(_)))
    }
}

/// `UID FETCH set (UID FLAGS)`, with `CHANGEDSINCE` where a modification sequence is known.
fn flags_command(set: SequenceSet, since: Option<u64>) -> CommandBody<'static> {
    let items = MacroOrMessageDataItemNames::MessageDataItemNames(vec![
        MessageDataItemName::Uid,
        MessageDataItemName::Flags,
    ]);
    let mut body = CommandBody::fetch(set, items, true).expect("valid set");
    if let (CommandBody::Fetch { modifiers, .. }, Some(since)) =
        (&mut body, since.and_then(std::num::NonZeroU64::new))
    {
        modifiers.push(FetchModifier::ChangedSince(since));
    }
    body
}

/// The order in a SORT answer, or else in a SEARCH answer (newest, i.e. highest, first).
fn order_from(data: &[Data<'static>]) -> Option<Vec<NonZeroU32>> {
    if !data.iter().any(|d| matches!(d, Data::Sort(..))) {
        return searched_newest_first(data);
    }
    Some(
        data.iter()
            .filter_map(|d| match d {
                Data::Sort(uids, ..) => Some(uids.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect(),
    )
}

/// The UIDs of the SEARCH answers in `data`, highest (newest) first; `None` without any.
pub(super) fn searched_newest_first(data: &[Data<'static>]) -> Option<Vec<NonZeroU32>> {
    if !data.iter().any(|d| matches!(d, Data::Search(..))) {
        return None;
    }
    let mut uids: Vec<NonZeroU32> = data
        .iter()
        .filter_map(|d| match d {
            Data::Search(uids, ..) => Some(uids.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    uids.sort_unstable_by(|a, b| b.cmp(a));
    Some(uids)
}

fn unread_from(data: &[Data<'static>]) -> u32 {
    data.iter()
        .map(|d| match d {
            Data::Search(uids, ..) => uids.len() as u32,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::imap::fetch::tests::data;

    #[test]
    fn order_comes_from_sort_else_search() {
        let sorted = order_from(&[data(b"* SORT 5 9 2\r\n")]).unwrap();
        assert_eq!(
            sorted.iter().map(|u| u.get()).collect::<Vec<_>>(),
            [5, 9, 2]
        );
        let searched = order_from(&[data(b"* SEARCH 2 9 5\r\n")]).unwrap();
        assert_eq!(
            searched.iter().map(|u| u.get()).collect::<Vec<_>>(),
            [9, 5, 2]
        );
        assert!(order_from(&[data(b"* SORT\r\n")]).unwrap().is_empty());
        assert!(order_from(&[data(b"* 3 EXISTS\r\n")]).is_none());
    }
}
