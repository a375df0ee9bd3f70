//! The mailbox mirror: what this session knows of each folder it has opened (the order of its
//! messages, the rows sent so far, conversation sizes), kept across folder switches, so that
//! going back to a folder where nothing changed costs one SELECT and no other command.
//!
//! A folder's entry is trusted while its [`Validity`] from SELECT is unchanged. When it is not,
//! or the server reports news while the folder is selected, the entry is brought up to date
//! (`sync.rs`) and the difference goes to the browsers as a [`Delta`]. Pure data: no I/O here.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use protocol::{MessageList, MessageSummary};

use crate::accounts::{
    forget_least_used,
    order::{self, Difference},
};

/// Folders kept; opening one more forgets the one used longest ago.
pub const MAX_FOLDERS: usize = 8;
/// Mirrors of ended sessions kept for the users' next logins, at most ...
const SHELF_USERS: usize = 16;
/// ... and for this long.
const SHELF_KEEP: Duration = Duration::from_secs(15 * 60);
/// Rows kept per folder; past this, only the newest pages are kept (the rest is fetched again
/// when scrolled to).
const MAX_ROWS: usize = 2_000;
const ROWS_KEPT: usize = 200;

/// What SELECT says about a folder's state. The same values mean no message came (UIDNEXT),
/// went (EXISTS) or changed flags (HIGHESTMODSEQ, where the server has CONDSTORE; without it
/// flags are always read again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Validity {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub exists: u32,
    pub highest_modseq: Option<u64>,
}

impl Validity {
    /// Whether an entry made at `self` still describes a folder that SELECT shows as `now`.
    pub fn unchanged(&self, now: &Validity) -> bool {
        self.highest_modseq.is_some() && self == now
    }
}

#[derive(Default)]
pub struct Mirror {
    folders: HashMap<String, Entry>,
    /// For least-recently-used eviction.
    tick: u64,
    /// Versions count across folders, so that a folder forgotten and opened again never
    /// reuses a version a browser still holds.
    last_version: u32,
}

pub struct Entry {
    pub validity: Validity,
    /// UIDs, newest first: by date where the server sorts, else by arrival.
    pub order: Vec<NonZeroU32>,
    /// The rows fetched so far, by UID.
    pub rows: HashMap<u32, MessageSummary>,
    /// Conversation sizes above one, by UID; `None` until worked out for this order.
    pub threads: Option<HashMap<u32, u32>>,
    /// Unread messages, where a sync counted them.
    pub unread: Option<u32>,
    /// Bumped with every change of `order`; lists and deltas carry it.
    pub version: u32,
    /// The server reported news while the folder was selected: sync before trusting it.
    pub stale: bool,
    used: u64,
}

/// How an entry changed, for the browsers.
#[derive(Debug, Default, PartialEq)]
pub struct Delta {
    /// The entry's version before and after.
    pub from_version: u32,
    pub version: u32,
    /// Positions in the order before, of the UIDs that went; descending.
    pub removed: Vec<u32>,
    /// Positions in the order after, ascending, with their UIDs.
    pub added: Vec<(u32, u32)>,
    /// UIDs whose flags changed.
    pub changed: Vec<u32>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty() && self.changed.is_empty()
    }
}

impl Mirror {
    pub fn get(&mut self, folder: &str) -> Option<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.folders.get_mut(folder)?;
        entry.used = tick;
        Some(entry)
    }

    /// A fresh entry for `folder` (replacing what was known), evicting the least recently used
    /// folder past [`MAX_FOLDERS`].
    pub fn insert(
        &mut self,
        folder: &str,
        validity: Validity,
        order: Vec<NonZeroU32>,
    ) -> &mut Entry {
        self.folders.remove(folder);
        forget_least_used(&mut self.folders, MAX_FOLDERS, |entry| entry.used);
        self.last_version += 1;
        self.tick += 1;
        let entry = Entry {
            validity,
            order,
            rows: HashMap::new(),
            threads: None,
            unread: None,
            version: self.last_version,
            stale: false,
            used: self.tick,
        };
        self.folders.entry(folder.to_owned()).or_insert(entry)
    }

    pub fn forget(&mut self, folder: &str) {
        self.folders.remove(folder);
    }

    /// Forgets `folder` and the folders under it (renamed or deleted); a name that only
    /// begins the same way is forgotten too, which costs it a fresh open, nothing more.
    pub fn forget_tree(&mut self, folder: &str) {
        self.folders.retain(|name, _| !name.starts_with(folder));
    }

    /// A version number not given before (for an entry whose order may change).
    pub fn next_version(&mut self) -> u32 {
        self.last_version += 1;
        self.last_version
    }

    /// `folder` was just selected and SELECT showed it `now`: its entry is trusted as it is,
    /// marked for a sync, or (its UIDs void) forgotten.
    pub fn selected(&mut self, folder: &str, now: &Validity) {
        let Some(entry) = self.folders.get_mut(folder) else {
            return;
        };
        if entry.validity.uid_validity != now.uid_validity {
            self.forget(folder);
        } else {
            entry.stale = !entry.validity.unchanged(now);
        }
    }

    /// The server reported news about `folder` while it was selected.
    pub fn mark_stale(&mut self, folder: &str) {
        if let Some(entry) = self.folders.get_mut(folder) {
            entry.stale = true;
        }
    }
}

/// The mirrors of ended sessions, each for its user's next login: the first rows show before
/// the mail server has been asked (a SELECT of a big folder can cost it a second), and what
/// changed meanwhile follows as a delta. A mirror is handed only to a session whose password
/// the mail server has just accepted for that same user, and it is taken, never shared.
#[derive(Default)]
pub struct Shelf {
    kept: Mutex<HashMap<String, (Instant, Mirror)>>,
}

impl Shelf {
    pub fn put(&self, user: &str, mirror: Mirror) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|_, (at, _)| at.elapsed() < SHELF_KEEP);
        if kept.len() >= SHELF_USERS {
            let oldest = kept
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(u, _)| u.clone());
            if let Some(oldest) = oldest {
                kept.remove(&oldest);
            }
        }
        // The login name exactly as the server accepted it: a server may tell "Anna" and
        // "anna" apart.
        kept.insert(user.to_owned(), (Instant::now(), mirror));
    }

    /// The mirror `user`'s last session left. News that session had not read yet is no
    /// reason to hold a folder back: opening it compares it with the server in any case.
    pub fn take(&self, user: &str) -> Option<Mirror> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (at, mut mirror) = kept.remove(user)?;
        if at.elapsed() >= SHELF_KEEP {
            return None;
        }
        for entry in mirror.folders.values_mut() {
            entry.stale = false;
        }
        Some(mirror)
    }
}

impl Entry {
    /// The UIDs at positions `offset..offset + limit`.
    pub fn page(&self, offset: u32, limit: u32) -> Vec<NonZeroU32> {
        self.order
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .copied()
            .collect()
    }

    /// Takes `order` as the folder's order now: rows of UIDs that went are dropped, and the
    /// conversation sizes are worked out again where anything came or went. `version` (from
    /// [`Mirror::next_version`]) becomes the entry's if the order changed.
    pub fn reorder(&mut self, order: Vec<NonZeroU32>, version: u32) -> Delta {
        let Difference { mut removed, added } = order::difference(&self.order, &order);
        let added: Vec<(u32, u32)> = added
            .into_iter()
            .map(|(position, uid)| (position, uid.get()))
            .collect();
        let from_version = self.version;
        let moved = removed.is_empty() && added.is_empty() && order != self.order;
        if moved {
            // Same messages, another order (a server that re-sorted): not a delta, a new list.
            removed = (0..self.order.len() as u32).rev().collect();
            return Delta {
                from_version,
                ..self.replace(order, removed, version)
            };
        }
        if !removed.is_empty() || !added.is_empty() {
            let now: HashSet<NonZeroU32> = order.iter().copied().collect();
            self.rows
                .retain(|uid, _| NonZeroU32::new(*uid).is_some_and(|u| now.contains(&u)));
            self.threads = None;
            self.version = version;
        }
        self.order = order;
        Delta {
            from_version,
            version: self.version,
            removed,
            added,
            changed: Vec::new(),
        }
    }

    fn replace(&mut self, order: Vec<NonZeroU32>, removed: Vec<u32>, version: u32) -> Delta {
        let added = order
            .iter()
            .enumerate()
            .map(|(position, uid)| (position as u32, uid.get()))
            .collect();
        self.order = order;
        self.threads = None;
        self.version = version;
        Delta {
            from_version: version,
            version,
            removed,
            added,
            changed: Vec::new(),
        }
    }

    /// Keeps `rows`, bounded by [`MAX_ROWS`].
    pub fn keep(&mut self, rows: impl IntoIterator<Item = MessageSummary>) {
        self.rows.extend(rows.into_iter().map(|row| (row.uid, row)));
        if self.rows.len() > MAX_ROWS {
            let newest: HashSet<u32> = self.order.iter().take(ROWS_KEPT).map(|u| u.get()).collect();
            self.rows.retain(|uid, _| newest.contains(uid));
        }
    }

    /// The page of the folder's list at `offset`, of the rows kept.
    pub fn list(&self, folder: &str, offset: u32, limit: u32) -> MessageList {
        MessageList {
            folder: folder.to_owned(),
            total: self.order.len() as u32,
            offset,
            messages: self
                .page(offset, limit)
                .iter()
                .filter_map(|uid| self.row(uid.get()))
                .collect(),
            version: self.version,
        }
    }

    /// A row as the list shows it now: with its conversation size where known.
    pub fn row(&self, uid: u32) -> Option<MessageSummary> {
        let mut row = self.rows.get(&uid)?.clone();
        row.thread_size = self
            .threads
            .as_ref()
            .and_then(|t| t.get(&uid).copied())
            .unwrap_or(1);
        Some(row)
    }

    /// Conversation sizes above one of the rows kept.
    pub fn known_thread_sizes(&self) -> Vec<(u32, u32)> {
        let Some(threads) = &self.threads else {
            return Vec::new();
        };
        let mut sizes: Vec<(u32, u32)> = self
            .rows
            .keys()
            .filter_map(|uid| Some((*uid, *threads.get(uid)?)))
            .collect();
        sizes.sort_unstable();
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uids(list: &[u32]) -> Vec<NonZeroU32> {
        list.iter().map(|u| NonZeroU32::new(*u).unwrap()).collect()
    }

    fn validity() -> Validity {
        Validity {
            uid_validity: 1,
            uid_next: 10,
            exists: 3,
            highest_modseq: Some(5),
        }
    }

    #[test]
    fn validity_without_modseq_is_never_trusted() {
        let v = validity();
        assert!(v.unchanged(&v));
        assert!(!v.unchanged(&Validity { exists: 4, ..v }));
        let plain = Validity {
            highest_modseq: None,
            ..v
        };
        assert!(!plain.unchanged(&plain));
    }

    #[test]
    fn a_shelved_mirror_goes_to_its_own_user_once() {
        let shelf = Shelf::default();
        let mut mirror = Mirror::default();
        mirror.insert("INBOX", validity(), uids(&[2, 1]));
        mirror.mark_stale("INBOX");
        shelf.put("anna@example.org", mirror);
        assert!(shelf.take("ben@example.org").is_none());
        assert!(
            shelf.take("Anna@example.org").is_none(),
            "another login name"
        );
        let mut taken = shelf.take("anna@example.org").expect("kept for Anna");
        let entry = taken.get("INBOX").expect("with her INBOX");
        assert_eq!(entry.order, uids(&[2, 1]));
        assert!(
            !entry.stale,
            "opening it compares it with the server anyway"
        );
        assert!(
            shelf.take("anna@example.org").is_none(),
            "taken, not shared"
        );
    }

    #[test]
    fn a_select_keeps_marks_or_voids_an_entry() {
        let mut mirror = Mirror::default();
        let v = validity();
        mirror.insert("INBOX", v, uids(&[3, 2, 1]));
        mirror.selected("INBOX", &v);
        assert_eq!(mirror.get("INBOX").map(|e| e.stale), Some(false));
        let flagged = Validity {
            highest_modseq: v.highest_modseq.map(|m| m + 1),
            ..v
        };
        mirror.selected("INBOX", &flagged);
        assert_eq!(mirror.get("INBOX").map(|e| e.stale), Some(true));
        let renumbered = Validity {
            uid_validity: v.uid_validity + 1,
            ..v
        };
        mirror.selected("INBOX", &renumbered);
        assert!(mirror.get("INBOX").is_none(), "its UIDs mean nothing now");
    }

    #[test]
    fn reorder_reports_positions_before_and_after() {
        let mut mirror = Mirror::default();
        let entry = mirror.insert("INBOX", validity(), uids(&[9, 7, 5, 3]));
        let before = entry.version;
        // 12 arrived (newest), 7 and 3 went.
        let delta = entry.reorder(uids(&[12, 9, 5]), before + 1);
        assert_eq!(delta.removed, vec![3, 1]);
        assert_eq!(delta.added, vec![(0, 12)]);
        assert_eq!((delta.from_version, delta.version), (before, before + 1));
        assert_eq!(entry.version, before + 1);
        assert_eq!(entry.page(1, 5), uids(&[9, 5]));
    }

    #[test]
    fn the_same_order_is_no_change() {
        let mut mirror = Mirror::default();
        let entry = mirror.insert("INBOX", validity(), uids(&[3, 2, 1]));
        let version = entry.version;
        let delta = entry.reorder(uids(&[3, 2, 1]), version + 1);
        assert!(delta.is_empty());
        assert_eq!(entry.version, version);
    }

    #[test]
    fn a_resorted_folder_is_sent_whole() {
        let mut mirror = Mirror::default();
        let entry = mirror.insert("INBOX", validity(), uids(&[3, 2, 1]));
        let delta = entry.reorder(uids(&[2, 3, 1]), 99);
        assert_eq!(delta.removed, vec![2, 1, 0]);
        assert_eq!(delta.added, vec![(0, 2), (1, 3), (2, 1)]);
    }

    #[test]
    fn folders_past_the_limit_forget_the_least_recently_used() {
        let mut mirror = Mirror::default();
        for i in 0..MAX_FOLDERS {
            mirror.insert(&format!("F{i}"), validity(), Vec::new());
        }
        mirror.get("F0");
        mirror.insert("new", validity(), Vec::new());
        assert!(mirror.get("F0").is_some());
        assert!(mirror.get("F1").is_none());
        assert!(mirror.get("new").is_some());
    }

    #[test]
    fn versions_never_repeat_across_folders() {
        let mut mirror = Mirror::default();
        let a = mirror.insert("A", validity(), Vec::new()).version;
        mirror.forget("A");
        let b = mirror.insert("A", validity(), Vec::new()).version;
        assert_ne!(a, b);
    }
}
