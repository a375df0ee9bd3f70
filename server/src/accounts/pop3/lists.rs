//! What this session's tabs were shown of each folder of the store: its order and the version
//! their lists carry, so that a change in the store reaches them as a delta they apply in place
//! (the open message, the scroll position and the selection stay), as IMAP changes do.

use std::collections::HashMap;

use crate::accounts::{
    forget_least_used,
    order::{self, Difference},
};

/// Folders tracked; listing one more forgets the one listed longest ago (its tabs then load
/// it again on the next change, as for any list of an unknown version).
const MAX_FOLDERS: usize = 8;

#[derive(Default)]
pub struct Lists {
    folders: HashMap<String, Shown>,
    /// Versions count across folders, so that a folder forgotten and listed again never
    /// reuses a version a tab still holds.
    last_version: u32,
    tick: u64,
}

struct Shown {
    /// Message ids, newest first.
    order: Vec<u32>,
    version: u32,
    used: u64,
}

/// How a tracked folder's order changed between two versions.
#[derive(Debug, PartialEq)]
pub struct Change {
    pub from_version: u32,
    pub version: u32,
    pub difference: Difference<u32>,
}

impl Lists {
    /// `folder` was listed while its whole order was `order`: the version the list carries,
    /// and how the folder changed since tabs were last told, if it did.
    pub fn listed(&mut self, folder: &str, order: Vec<u32>) -> (u32, Option<Change>) {
        if self.folders.contains_key(folder) {
            let change = self.changed(folder, order).expect("tracked");
            let version = change.version;
            return (version, Some(change).filter(|c| !c.difference.is_empty()));
        }
        forget_least_used(&mut self.folders, MAX_FOLDERS, |shown| shown.used);
        self.last_version += 1;
        self.tick += 1;
        let shown = Shown {
            order,
            version: self.last_version,
            used: self.tick,
        };
        self.folders.insert(folder.to_owned(), shown);
        (self.last_version, None)
    }

    /// `folder`'s order is `order` now: how it changed, where tabs were shown the folder
    /// (`None` where they were not). Where no message came or went the version stays.
    pub fn changed(&mut self, folder: &str, order: Vec<u32>) -> Option<Change> {
        self.tick += 1;
        let shown = self.folders.get_mut(folder)?;
        shown.used = self.tick;
        let difference = order::difference(&shown.order, &order);
        if difference.is_empty() {
            return Some(Change {
                from_version: shown.version,
                version: shown.version,
                difference,
            });
        }
        self.last_version += 1;
        let from_version = std::mem::replace(&mut shown.version, self.last_version);
        shown.order = order;
        Some(Change {
            from_version,
            version: self.last_version,
            difference,
        })
    }

    /// `folder` was renamed or deleted.
    pub fn forget(&mut self, folder: &str) {
        self.folders.remove(folder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_folder_changes_as_deltas_between_versions() {
        let mut lists = Lists::default();
        let (first, change) = lists.listed("INBOX", vec![3, 2, 1]);
        assert_eq!(change, None);
        let same = lists.changed("INBOX", vec![3, 2, 1]).unwrap();
        assert_eq!((same.from_version, same.version), (first, first));
        assert!(same.difference.is_empty());
        let change = lists.changed("INBOX", vec![4, 3, 1]).unwrap();
        assert_eq!((change.from_version, change.version), (first, first + 1));
        assert_eq!(change.difference.removed, vec![1]);
        assert_eq!(change.difference.added, vec![(0, 4)]);
        assert_eq!(lists.changed("Archive", vec![1]), None, "never listed");
        // Listed again after a change no tab was told of: the list carries the new version.
        let (version, change) = lists.listed("INBOX", vec![4, 3]);
        let change = change.unwrap();
        assert_eq!((change.from_version, change.version), (first + 1, version));
    }

    #[test]
    fn versions_never_repeat_across_folders_forgotten_and_listed_again() {
        let mut lists = Lists::default();
        let mut seen = std::collections::HashSet::new();
        for round in 0..3 {
            for i in 0..(MAX_FOLDERS + 2) {
                let (version, _) = lists.listed(&format!("F{i}"), vec![round]);
                assert!(seen.insert(version), "version {version} again");
            }
        }
        assert!(lists.folders.len() <= MAX_FOLDERS);
    }
}
