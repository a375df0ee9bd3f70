//! A server response the IMAP parser rejected. imap-codec reads each response whole and refuses
//! some that real servers send about real mail (a BODYSTRUCTURE nested deeper than its fixed
//! limit of 8, for one; the limit cannot be configured). The response is complete when that
//! happens, so the connection itself is fine: the driver keeps the bytes here and goes on, and
//! the command that asked decides what the gap means (a row without structure, a list without
//! conversation sizes, a clear error for one search).

use std::num::NonZeroU32;

/// The start of one rejected response, as the server sent it, and its length. Only the start
/// is kept: a command may meet many such responses, each up to the response limit.
pub struct Unreadable {
    bytes: Box<[u8]>,
    len: usize,
}

/// How much of a rejected response is kept: enough for `* <n> FETCH (UID <u>` and a log line.
const KEPT: usize = 256;

impl Unreadable {
    pub fn new(bytes: &[u8]) -> Self {
        Self {
            bytes: bytes[..bytes.len().min(KEPT)].into(),
            len: bytes.len(),
        }
    }

    /// The UID in an untagged FETCH, if it is among the first items (servers send it first).
    pub fn fetch_uid(&self) -> Option<NonZeroU32> {
        self.fetch_sequence()?;
        let at = self
            .bytes
            .windows(5)
            .position(|w| w.eq_ignore_ascii_case(b"(UID ") || w.eq_ignore_ascii_case(b" UID "))?;
        let rest = &self.bytes[at + 5..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits == rest.len() {
            return None; // cut off inside the number
        }
        std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
    }

    /// The message sequence number of an untagged `* <n> FETCH (...)`, the usual culprit.
    pub fn fetch_sequence(&self) -> Option<NonZeroU32> {
        let rest = self.bytes.strip_prefix(b"* ")?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let after = &rest[digits..];
        if !after
            .get(..7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b" FETCH "))
        {
            return None;
        }
        std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
    }

    /// True when this is the tagged completion of the command with `tag`.
    pub fn completes(&self, tag: &str) -> bool {
        self.bytes
            .strip_prefix(tag.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b' '))
    }

    /// The start of the response, printable, for logs (never a whole message body).
    pub fn describe(&self) -> String {
        const SHOWN: usize = 120;
        let head = &self.bytes[..self.bytes.len().min(SHOWN)];
        let mut text: String = head
            .iter()
            .flat_map(|b| std::ascii::escape_default(*b))
            .map(char::from)
            .collect();
        if self.len > SHOWN {
            text.push_str(&format!("… ({} bytes)", self.len));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreadable(bytes: &[u8]) -> Unreadable {
        Unreadable::new(bytes)
    }

    #[test]
    fn fetch_responses_name_their_message() {
        let fetch = unreadable(b"* 17 FETCH (UID 4 BODYSTRUCTURE ((((((((((\"text\"\r\n");
        assert_eq!(fetch.fetch_sequence(), NonZeroU32::new(17));
        assert_eq!(unreadable(b"* 0 FETCH (UID 4)\r\n").fetch_sequence(), None);
        assert_eq!(unreadable(b"* 17 EXISTS\r\n").fetch_sequence(), None);
        assert_eq!(
            unreadable(b"* THREAD (1 (2 (3)))\r\n").fetch_sequence(),
            None
        );
        assert_eq!(unreadable(b"* 9 FETCH").fetch_sequence(), None);
    }

    #[test]
    fn fetch_responses_name_their_uid_when_it_comes_early() {
        let fetch = unreadable(b"* 17 FETCH (UID 4711 FLAGS () BODYSTRUCTURE ((((\r\n");
        assert_eq!(fetch.fetch_uid(), NonZeroU32::new(4711));
        let late = [
            b"* 17 FETCH (BODYSTRUCTURE (".as_slice(),
            &[b'('; 500],
            b" UID 9)",
        ]
        .concat();
        assert_eq!(unreadable(&late).fetch_uid(), None, "beyond what is kept");
        assert_eq!(
            unreadable(b"* 17 FETCH (UID 12").fetch_uid(),
            None,
            "cut inside"
        );
        assert_eq!(unreadable(b"* SEARCH UID 5 x").fetch_uid(), None);
    }

    #[test]
    fn tagged_completions_are_recognised() {
        assert!(unreadable(b"W12 OK [WEIRD \x01] done\r\n").completes("W12"));
        assert!(!unreadable(b"W123 OK done\r\n").completes("W12"));
        assert!(!unreadable(b"* 1 FETCH (UID 1)\r\n").completes("W12"));
    }

    #[test]
    fn descriptions_are_short_and_printable() {
        let long = [b"* 1 FETCH (".as_slice(), &[0u8; 500], b")\r\n"].concat();
        let text = unreadable(&long).describe();
        assert!(text.starts_with("* 1 FETCH ("), "{text}");
        assert!(text.ends_with("(514 bytes)"), "{text}");
        assert!(text
            .chars()
            .all(|c| c.is_ascii_graphic() || c == ' ' || c == '…'));
    }
}
