//! How a folder's order of messages (newest first) changed, in the positions a
//! [`protocol::FolderDelta`] names; for the IMAP mirror and the POP3 account's lists alike.

use std::{collections::HashSet, hash::Hash};

/// A delta adding more rows than this goes out as "load the list again".
pub const DELTA_MAX_ROWS: usize = 100;

/// What went and what came between two orders of a folder.
#[derive(Debug, Default, PartialEq)]
pub struct Difference<T> {
    /// Positions in the order before, of what is not in the order after; descending, so that
    /// removing them one by one leaves the other positions valid.
    pub removed: Vec<u32>,
    /// Positions in the order after, ascending, of what was not in the order before.
    pub added: Vec<(u32, T)>,
}

impl<T> Difference<T> {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

pub fn difference<T: Copy + Eq + Hash>(before: &[T], after: &[T]) -> Difference<T> {
    let now: HashSet<T> = after.iter().copied().collect();
    let then: HashSet<T> = before.iter().copied().collect();
    let mut removed: Vec<u32> = before
        .iter()
        .enumerate()
        .filter(|(_, item)| !now.contains(item))
        .map(|(position, _)| position as u32)
        .collect();
    removed.reverse();
    let added = after
        .iter()
        .enumerate()
        .filter(|(_, item)| !then.contains(item))
        .map(|(position, item)| (position as u32, *item))
        .collect();
    Difference { removed, added }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_before_for_what_went_and_after_for_what_came() {
        let change = difference(&[9, 7, 5, 3], &[10, 9, 5, 4, 3]);
        assert_eq!(change.removed, vec![1]);
        assert_eq!(change.added, vec![(0, 10), (3, 4)]);
        let change = difference(&[9, 7, 5], &[]);
        assert_eq!(change.removed, vec![2, 1, 0]);
        assert_eq!(difference(&[1, 2], &[1, 2]), Difference::default());
    }
}
