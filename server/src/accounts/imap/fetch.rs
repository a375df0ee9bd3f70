//! From FETCH responses to message-list rows. Pure functions, tested on server bytes.

use std::num::NonZeroU32;

use std::collections::HashMap;

use imap_codec::imap_types::{
    core::Vec1,
    extensions::thread::Thread,
    fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section},
    flag::{Flag, FlagFetch},
    response::Data,
};
use protocol::MessageSummary;

use super::structure;

/// The header fields a list row needs; fetched with BODY.PEEK so listing never marks mail read.
const SUMMARY_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    // Not shown, but needed to read the start of the body for the preview.
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// At most this much of a row's header fields is read (a 1 MB Subject line is an attack, not
/// a subject).
const MAX_SUMMARY_HEADERS: u32 = 64 * 1024;

/// What a FETCH asks for to build list rows: flags, size, the header fields and the start of the
/// body for the preview (any server answers a partial BODY[TEXT]; PREVIEW, RFC 8970, would
/// save the bytes but not the round trip).
pub fn summary_items() -> MacroOrMessageDataItemNames<'static> {
    let mut items = summary_items_without_structure();
    if let MacroOrMessageDataItemNames::MessageDataItemNames(names) = &mut items {
        names.push(MessageDataItemName::BodyStructure);
    }
    items
}

/// The same without BODYSTRUCTURE: for a message whose structure the server describes in a
/// way that cannot be read.
pub fn summary_items_without_structure() -> MacroOrMessageDataItemNames<'static> {
    let headers = SUMMARY_HEADERS
        .iter()
        .map(|h| (*h).try_into().expect("header names are atoms"))
        .collect::<Vec<_>>();
    MacroOrMessageDataItemNames::MessageDataItemNames(vec![
        MessageDataItemName::Uid,
        MessageDataItemName::Flags,
        MessageDataItemName::InternalDate,
        MessageDataItemName::Rfc822Size,
        MessageDataItemName::BodyExt {
            section: Some(Section::HeaderFields(
                None,
                Vec1::try_from(headers).expect("at least one header"),
            )),
            partial: Some((0, NonZeroU32::new(MAX_SUMMARY_HEADERS).expect("not zero"))),
            peek: true,
        },
        MessageDataItemName::BodyExt {
            section: Some(Section::Text(None)),
            partial: Some((0, NonZeroU32::new(mime::PREVIEW_SOURCE).expect("not zero"))),
            peek: true,
        },
    ])
}

/// Every FETCH in `data` as a row with its sequence number, in the order they came. A FETCH
/// without a UID cannot be acted on later and is skipped.
pub fn numbered_rows(data: Vec<Data<'static>>) -> Vec<(u32, MessageSummary)> {
    data.into_iter()
        .filter_map(|d| match d {
            Data::Fetch { seq, items } => Some((seq.get(), summary(items.as_ref())?)),
            _ => None,
        })
        .collect()
}

/// Rows by sequence number, highest first.
pub fn newest_first(mut rows: Vec<(u32, MessageSummary)>) -> Vec<MessageSummary> {
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    rows.into_iter().map(|(_, row)| row).collect()
}

/// The parts of one FETCH response, by name.
#[derive(Default)]
pub struct Fetched<'a> {
    pub uid: Option<u32>,
    pub flags: &'a [FlagFetch<'a>],
    pub received: Option<i64>,
    pub size: u32,
    pub structure: Option<&'a imap_codec::imap_types::body::BodyStructure<'a>>,
    /// The BODY[...] section in the response (the last one but BODY[TEXT]).
    pub section: &'a [u8],
    /// BODY[TEXT], or the start of it.
    pub text: &'a [u8],
}

impl<'a> Fetched<'a> {
    pub fn new(items: &'a [MessageDataItem<'a>]) -> Self {
        let mut fetched = Self::default();
        for item in items {
            match item {
                MessageDataItem::Uid(u) => fetched.uid = Some(u.get()),
                MessageDataItem::Flags(f) => fetched.flags = f,
                MessageDataItem::InternalDate(d) => fetched.received = Some(d.as_ref().timestamp()),
                MessageDataItem::Rfc822Size(s) => fetched.size = *s,
                MessageDataItem::BodyStructure(s) => fetched.structure = Some(s),
                MessageDataItem::BodyExt { section, data, .. } => {
                    let bytes = data.0.as_ref().map_or(&[][..], |s| s.as_ref());
                    match section {
                        Some(Section::Text(None)) => fetched.text = bytes,
                        _ => fetched.section = bytes,
                    }
                }
                _ => {}
            }
        }
        fetched
    }

    pub fn has(&self, flag: &Flag<'_>) -> bool {
        self.flags
            .iter()
            .any(|f| matches!(f, FlagFetch::Flag(g) if g == flag))
    }

    /// User keywords (`$Label1`, `Important`), not system flags.
    pub fn keywords(&self) -> Vec<String> {
        self.flags
            .iter()
            .filter_map(|f| match f {
                FlagFetch::Flag(Flag::Keyword(atom)) => Some(atom.as_ref().to_owned()),
                _ => None,
            })
            .collect()
    }
}

fn summary(items: &[MessageDataItem<'_>]) -> Option<MessageSummary> {
    let fetched = Fetched::new(items);
    let header = mime::header_summary(fetched.section);
    let preview = if fetched.text.is_empty() {
        String::new()
    } else {
        mime::preview(&[fetched.section, fetched.text].concat())
    };
    Some(MessageSummary {
        uid: fetched.uid?,
        from: header.from,
        to: header.to,
        subject: header.subject,
        preview,
        date: header.date.or(fetched.received).unwrap_or(0),
        unread: !fetched.has(&Flag::Seen),
        flagged: fetched.has(&Flag::Flagged),
        answered: fetched.has(&Flag::Answered),
        size: fetched.size,
        has_attachments: fetched.structure.is_some_and(structure::has_attachments),
        thread_id: header.thread_id,
        thread_size: 1,
        damaged: false,
    })
}

/// A message's flags as a FETCH reported them.
#[derive(Debug, PartialEq)]
pub struct FlagUpdate {
    pub uid: u32,
    /// CONDSTORE: the message's modification sequence.
    pub modseq: Option<u64>,
    unread: bool,
    flagged: bool,
    answered: bool,
}

impl FlagUpdate {
    /// Puts these flags on `row`; whether that changed it.
    pub fn apply(self, row: &mut MessageSummary) -> bool {
        let before = (row.unread, row.flagged, row.answered);
        row.unread = self.unread;
        row.flagged = self.flagged;
        row.answered = self.answered;
        before != (row.unread, row.flagged, row.answered)
    }
}

/// The flags of every FETCH in `data` that names its UID and carries FLAGS.
pub fn flag_updates(data: &[Data<'static>]) -> Vec<FlagUpdate> {
    data.iter()
        .filter_map(|d| match d {
            Data::Fetch { items, .. } => {
                let items = items.as_ref();
                if !items.iter().any(|i| matches!(i, MessageDataItem::Flags(_))) {
                    return None;
                }
                let fetched = Fetched::new(items);
                let modseq = items.iter().find_map(|i| match i {
                    MessageDataItem::ModSeq(m) => Some(m.get()),
                    _ => None,
                });
                Some(FlagUpdate {
                    uid: fetched.uid?,
                    modseq,
                    unread: !fetched.has(&Flag::Seen),
                    flagged: fetched.has(&Flag::Flagged),
                    answered: fetched.has(&Flag::Answered),
                })
            }
            _ => None,
        })
        .collect()
}

/// For each UID in a THREAD answer, how many messages its conversation has.
pub fn thread_sizes(data: Vec<Data<'static>>) -> HashMap<u32, u32> {
    fn members(thread: &Thread, into: &mut Vec<u32>) {
        match thread {
            Thread::Members { prefix, answers } => {
                into.extend(prefix.as_ref().iter().map(|uid| uid.get()));
                for answer in answers.iter().flat_map(|a| a.as_ref()) {
                    members(answer, into);
                }
            }
            Thread::Nested { answers } => {
                for answer in answers.as_ref() {
                    members(answer, into);
                }
            }
        }
    }
    let mut sizes = HashMap::new();
    for d in data {
        let Data::Thread(threads) = d else { continue };
        for thread in &threads {
            let mut uids = Vec::new();
            members(thread, &mut uids);
            let size = uids.len() as u32;
            sizes.extend(uids.into_iter().map(|uid| (uid, size)));
        }
    }
    sizes
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use imap_codec::{decode::Decoder, imap_types::response::Response, ResponseCodec};

    /// One untagged response line, as the server would send it.
    pub fn data(line: &[u8]) -> Data<'static> {
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
    fn fetch_lines_become_rows_newest_first() {
        let header =
            "From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nSubject: =?utf-8?B?w4RwZmVs?=\r\n\r\n";
        let first = format!(
            "* 1 FETCH (UID 7 FLAGS (\\Seen) INTERNALDATE \"14-Nov-2023 22:13:20 +0000\" RFC822.SIZE 321 BODY[HEADER.FIELDS (FROM SUBJECT DATE)] {{{}}}\r\n{header})\r\n",
            header.len()
        );
        let second = b"* 2 FETCH (UID 9 FLAGS (\\Flagged) INTERNALDATE \"15-Nov-2023 00:00:00 +0100\" RFC822.SIZE 5 BODY[HEADER.FIELDS (FROM SUBJECT DATE)] NIL)\r\n";
        let rows = newest_first(numbered_rows(vec![data(first.as_bytes()), data(second)]));
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
    fn a_row_previews_the_start_of_its_text() {
        let header = "Subject: Fotos\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
        let text = "Hallo Oma,\r\n\r\nhier sind die Fotos vom Gr=C3=BC";
        let line = format!(
            "* 1 FETCH (UID 3 FLAGS () BODY[HEADER.FIELDS (SUBJECT CONTENT-TYPE CONTENT-TRANSFER-ENCODING)] {{{}}}\r\n{header} BODY[TEXT]<0> {{{}}}\r\n{text})\r\n",
            header.len(),
            text.len()
        );
        let row = numbered_rows(vec![data(line.as_bytes())]).remove(0).1;
        assert_eq!(row.subject, "Fotos");
        assert_eq!(row.preview, "Hallo Oma, hier sind die Fotos vom Grü");
    }

    #[test]
    fn thread_sizes_count_every_member() {
        // RFC 5256's example: (2)(3 6 (4 23)(44 7 96)) — two threads, of 1 and 7 messages.
        let sizes = thread_sizes(vec![data(b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n")]);
        assert_eq!(sizes[&2], 1);
        assert_eq!(sizes[&3], 7);
        assert_eq!(sizes[&96], 7);
        assert_eq!(sizes.len(), 8);
    }

    #[test]
    fn flag_updates_carry_uid_flags_and_modseq() {
        let updates = flag_updates(&[
            data(b"* 4 FETCH (UID 12 FLAGS (\\Seen \\Flagged) MODSEQ (90))\r\n"),
            data(b"* 5 FETCH (FLAGS (\\Seen))\r\n"),
        ]);
        assert_eq!(updates.len(), 1, "a FETCH without UID names no row");
        assert_eq!(updates[0].uid, 12);
        assert_eq!(updates[0].modseq, Some(90));
        let mut row = numbered_rows(vec![data(b"* 4 FETCH (UID 12 FLAGS ())\r\n")])
            .remove(0)
            .1;
        assert!(row.unread);
        assert!(flag_updates(&[data(
            b"* 4 FETCH (UID 12 FLAGS (\\Seen \\Flagged) MODSEQ (90))\r\n"
        )])
        .remove(0)
        .apply(&mut row));
        assert!(!row.unread && row.flagged);
    }

    #[test]
    fn fetch_without_uid_is_skipped() {
        let rows = numbered_rows(vec![data(b"* 3 FETCH (FLAGS (\\Seen))\r\n")]);
        assert!(rows.is_empty());
    }
}
