use mail_parser::{HeaderValue, MessageParser};
use protocol::Address;

/// What the message list needs from a message's header block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderSummary {
    pub from: Option<Address>,
    pub to: Vec<Address>,
    /// Decoded; empty when the mail has no subject.
    pub subject: String,
    /// The `Date:` header in seconds since the Unix epoch, when present and readable.
    pub date: Option<i64>,
    /// The conversation this message belongs to: the first of `References`, else `In-Reply-To`,
    /// else its own `Message-ID`.
    pub thread_id: Option<String>,
}

/// Every header the message view shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers {
    pub summary: HeaderSummary,
    pub cc: Vec<Address>,
    /// Only the sender's own copies (Sent, Drafts) have one.
    pub bcc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub message_id: Option<String>,
    /// The thread before this message, oldest first: `References`, else `In-Reply-To`.
    pub references: Vec<String>,
    /// The mail server's `Authentication-Results` (RFC 8601) say DMARC failed, or DKIM failed
    /// with no signature passing: the From may be forged.
    pub forged_from: bool,
}

/// Reads the list headers from a header block (or a whole message).
/// Never fails: whatever cannot be read is left empty, so one broken mail never hides a list.
pub fn header_summary(raw: &[u8]) -> HeaderSummary {
    headers(raw).summary
}

/// Reads every shown header from a header block (or a whole message). Never fails.
pub fn headers(raw: &[u8]) -> Headers {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return Headers::default();
    };
    let message_id = message.message_id().map(angle);
    let mut references = ids(message.references());
    if references.is_empty() {
        references = ids(message.in_reply_to());
    }
    let thread_id = references.first().cloned().or_else(|| message_id.clone());
    Headers {
        summary: HeaderSummary {
            from: addresses(message.from()).into_iter().next(),
            to: addresses(message.to()),
            subject: message.subject().unwrap_or_default().trim().to_owned(),
            date: message.date().map(|d| d.to_timestamp()),
            thread_id,
        },
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        reply_to: addresses(message.reply_to()),
        message_id,
        references,
        forged_from: forged_from(&message),
    }
}

/// A sender can add `Authentication-Results` of its own, but a `fail` in one only makes its
/// own mail look worse, so every one counts; a `pass` proves nothing and is only read to
/// excuse a failed DKIM signature beside a good one.
fn forged_from(message: &mail_parser::Message<'_>) -> bool {
    let results: Vec<String> = message
        .header_values("Authentication-Results")
        .filter_map(|value| value.as_text())
        .flat_map(|text| text.split(';').skip(1))
        .map(|result| result.trim().to_ascii_lowercase())
        .collect();
    let says = |verdict: &str| results.iter().any(|r| r.starts_with(verdict));
    says("dmarc=fail") || (says("dkim=fail") && !says("dkim=pass"))
}

fn addresses(field: Option<&mail_parser::Address<'_>>) -> Vec<Address> {
    let Some(field) = field else {
        return Vec::new();
    };
    field
        .iter()
        .filter_map(|addr| {
            let email = addr.address()?.trim().to_owned();
            let name = addr
                .name()
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            Some(Address { name, email })
        })
        .collect()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![angle(id)],
        HeaderValue::TextList(ids) => ids.iter().map(|id| angle(id)).collect(),
        _ => Vec::new(),
    }
}

/// Message-IDs with their angle brackets, as they appear in headers.
fn angle(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
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
    fn a_from_failing_dmarc_or_dkim_counts_as_forged() {
        let forged = |results: &str| {
            let raw = format!("From: bank@example.org\r\n{results}Subject: x\r\n\r\n");
            headers(raw.as_bytes()).forged_from
        };
        assert!(!forged(""));
        assert!(!forged(
            "Authentication-Results: mx.example.net;\r\n dkim=pass header.d=example.org;\r\n dmarc=pass\r\n"
        ));
        assert!(forged(
            "Authentication-Results: mx.example.net; spf=pass; DMARC=fail (p=reject) header.from=example.org\r\n"
        ));
        assert!(forged(
            "Authentication-Results: mx.example.net; dkim=fail\r\n"
        ));
        // One of two signatures broke on the way (a list footer); the other holds.
        assert!(!forged(
            "Authentication-Results: mx.example.net; dkim=fail header.d=list.example; dkim=pass header.d=example.org\r\n"
        ));
        // The method name is in the result, not in the server's name.
        assert!(!forged(
            "Authentication-Results: dmarc=fail.example.net; none\r\n"
        ));
    }

    #[test]
    fn bare_address_has_no_name() {
        let summary = header_summary(b"From: anna@example.org\r\n\r\n");
        assert_eq!(summary.from.unwrap().display(), "anna@example.org");
    }

    #[test]
    fn recipients_and_thread() {
        let raw = b"To: a@example.org, \"B, Bee\" <b@example.org>\r\nCc: c@example.org\r\n\
Message-ID: <3@x>\r\nIn-Reply-To: <2@x>\r\nReferences: <1@x> <2@x>\r\n\r\n";
        let h = headers(raw);
        assert_eq!(h.summary.to.len(), 2);
        assert_eq!(h.summary.to[1].display(), "B, Bee");
        assert_eq!(h.cc[0].email, "c@example.org");
        assert_eq!(h.message_id.as_deref(), Some("<3@x>"));
        assert_eq!(h.summary.thread_id.as_deref(), Some("<1@x>"));
        assert_eq!(h.references, ["<1@x>", "<2@x>"]);
        let root = headers(b"Message-ID: <1@x>\r\n\r\n");
        assert_eq!(root.summary.thread_id.as_deref(), Some("<1@x>"));
        let reply = headers(b"Message-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\n\r\n");
        assert_eq!(reply.summary.thread_id.as_deref(), Some("<1@x>"));
    }
}
