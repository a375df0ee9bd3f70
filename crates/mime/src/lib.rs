//! Raw mail in, view types out. Every decoding decision (RFC 2047 encoded words, charsets, broken
//! headers) is made here, once, whichever protocol the mail came by.

use mail_parser::MessageParser;
use protocol::Address;

/// What the message list needs from a message's header block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderSummary {
    pub from: Option<Address>,
    /// Decoded; empty when the mail has no subject.
    pub subject: String,
    /// The `Date:` header in seconds since the Unix epoch, when present and readable.
    pub date: Option<i64>,
}

/// Reads `From`, `Subject` and `Date` from a header block (or a whole message).
/// Never fails: whatever cannot be read is left empty, so one broken mail never hides a list.
pub fn header_summary(raw: &[u8]) -> HeaderSummary {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return HeaderSummary::default();
    };
    let from = message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| {
            let email = addr.address()?.trim().to_owned();
            let name = addr
                .name()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            Some(Address { name, email })
        });
    HeaderSummary {
        from,
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        date: message.date().map(|d| d.to_timestamp()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc2047_and_charsets() {
        let raw = b"From: =?ISO-8859-1?Q?J=FCrgen_Wei=DF?= <jw@example.org>\r\n\
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4g8J+Ouw==?=\r\n\
Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\n";
        let summary = header_summary(raw);
        assert_eq!(
            summary.from,
            Some(Address {
                name: Some("Jürgen Weiß".into()),
                email: "jw@example.org".into()
            })
        );
        assert_eq!(summary.subject, "Grüße aus München 🎻");
        assert_eq!(summary.date, Some(1_700_000_000));
    }

    #[test]
    fn folded_subject_with_mixed_encodings() {
        let raw = b"Subject: =?koi8-r?B?8NLJ18XU?=\r\n =?utf-8?Q?_and_caf=C3=A9?=\r\n\r\n";
        assert_eq!(header_summary(raw).subject, "Привет and café");
    }

    #[test]
    fn missing_and_garbage_headers_leave_fields_empty() {
        let summary = header_summary(b"From: \r\nDate: yesterday-ish\r\n\r\n");
        assert_eq!(summary.from, None);
        assert_eq!(summary.subject, "");
        assert_eq!(summary.date, None);
        assert_eq!(header_summary(b""), HeaderSummary::default());
        // Garbage is shown as whatever it is, never a panic.
        let garbage = header_summary(b"From: <<<>>>\r\nSubject: \xff\xfe\r\n\r\n");
        assert!(garbage.from.is_some_and(|a| !a.email.is_empty()));
    }

    #[test]
    fn bare_address_has_no_name() {
        let summary = header_summary(b"From: anna@example.org\r\n\r\n");
        assert_eq!(summary.from.unwrap().display(), "anna@example.org");
    }
}
