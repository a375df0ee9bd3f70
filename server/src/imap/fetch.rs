//! From FETCH responses to message-list rows. Pure functions, tested on server bytes.

use std::num::NonZeroU32;

use imap_codec::imap_types::{
    fetch::MessageDataItem,
    flag::{Flag, FlagFetch},
    response::Data,
    sequence::SequenceSet,
};
use protocol::MessageSummary;

/// The header fields a list row needs; fetched with BODY.PEEK so listing never marks mail read.
pub const SUMMARY_HEADERS: &[&str] = &["From", "Subject", "Date"];

/// Sequence numbers `offset..offset+limit` counted from the newest message (sequence `total`).
/// `None` when the page is empty.
pub fn newest_first_range(total: u32, offset: u32, limit: u32) -> Option<SequenceSet> {
    let high = total.checked_sub(offset).filter(|h| *h > 0)?;
    let low = high.saturating_sub(limit.max(1) - 1).max(1);
    Some(SequenceSet::from(
        NonZeroU32::new(low)?..=NonZeroU32::new(high)?,
    ))
}

/// Every FETCH in `data` as a row, newest (highest sequence number) first. A FETCH without a UID
/// cannot be acted on later and is skipped.
pub fn summaries(data: Vec<Data<'static>>) -> Vec<MessageSummary> {
    let mut rows: Vec<(u32, MessageSummary)> = data
        .into_iter()
        .filter_map(|d| match d {
            Data::Fetch { seq, items } => Some((seq.get(), summary(items.as_ref())?)),
            _ => None,
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    rows.into_iter().map(|(_, row)| row).collect()
}

fn summary(items: &[MessageDataItem<'_>]) -> Option<MessageSummary> {
    let mut uid = None;
    let mut flags: &[FlagFetch] = &[];
    let mut received = None;
    let mut size = 0;
    let mut headers: &[u8] = &[];
    for item in items {
        match item {
            MessageDataItem::Uid(u) => uid = Some(u.get()),
            MessageDataItem::Flags(f) => flags = f,
            MessageDataItem::InternalDate(d) => received = Some(d.as_ref().timestamp()),
            MessageDataItem::Rfc822Size(s) => size = *s,
            MessageDataItem::BodyExt { data, .. } => {
                headers = data.0.as_ref().map_or(&[][..], |s| s.as_ref());
            }
            _ => {}
        }
    }
    let has = |flag: Flag| flags.iter().any(|f| *f == FlagFetch::Flag(flag.clone()));
    let header = mime::header_summary(headers);
    Some(MessageSummary {
        uid: uid?,
        from: header.from,
        subject: header.subject,
        date: header.date.or(received).unwrap_or(0),
        unread: !has(Flag::Seen),
        flagged: has(Flag::Flagged),
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::{decode::Decoder, imap_types::response::Response, ResponseCodec};

    fn data(line: &[u8]) -> Data<'static> {
        use imap_codec::imap_types::IntoStatic;
        match ResponseCodec::default()
            .decode(line)
            .expect("valid response")
            .1
        {
            Response::Data(d) => d.into_static(),
            other => panic!("not data: {other:?}"),
        }
    }

    #[test]
    fn page_ranges_count_from_the_newest() {
        let set = |s: &str| Some(SequenceSet::try_from(s).unwrap());
        assert_eq!(newest_first_range(100, 0, 50), set("51:100"));
        assert_eq!(newest_first_range(100, 50, 50), set("1:50"));
        assert_eq!(newest_first_range(10, 5, 50), set("1:5"));
        assert_eq!(newest_first_range(10, 10, 50), None);
        assert_eq!(newest_first_range(0, 0, 50), None);
        assert_eq!(newest_first_range(3, 0, 1), set("3:3"));
    }

    #[test]
    fn fetch_lines_become_rows_newest_first() {
        let header =
            "From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nSubject: =?utf-8?B?w4RwZmVs?=\r\n\r\n";
        let first = format!(
            "* 1 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE \"14-Nov-2023 22:13:20 +0000\" RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE)] {{{}}}\r\n{header})\r\n",
            header.len()
        );
        let second = b"* 2 FETCH (UID 9 FLAGS (\\Flagged) INTERNALDATE \"15-Nov-2023 00:00:00 +0100\" RFC822.SIZE 5 BODY[HEADER.FIELDS (FROM SUBJECT DATE)] NIL)\r\n";
        let rows = summaries(vec![data(first.as_bytes()), data(second)]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].uid, 9);
        assert!(rows[0].unread && rows[0].flagged);
        assert_eq!(rows[0].date, 1_700_002_800, "no Date header: INTERNALDATE");
        assert_eq!(rows[1].uid, 7);
        assert!(!rows[1].unread);
        assert_eq!(rows[1].subject, "Äpfel");
        assert_eq!(rows[1].from.as_ref().unwrap().display(), "Zoë");
        assert_eq!(rows[1].size, 321);
    }

    #[test]
    fn fetch_without_uid_is_skipped() {
        let rows = summaries(vec![data(b"* 3 FETCH (FLAGS (\\Seen))\r\n")]);
        assert!(rows.is_empty());
    }
}
