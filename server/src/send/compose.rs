//! A draft into the bytes of a message (lettre's builder: RFC 2047 names and subjects, RFC 2231
//! attachment names, transfer encodings). Everything a user typed is checked first: a CR or LF
//! in any header value, an address that does not parse, too many recipients or none are refused
//! before anything is built, let alone sent.

use lettre::message::{
    header::{ContentTransferEncoding, ContentType},
    Attachment, Body, Mailbox, MultiPart, SinglePart,
};
use protocol::{Address, Draft, Identity};

/// The header a saved draft carries, so that a later save (from any tab) finds and replaces it.
pub use mime::draft::DRAFT_ID_HEADER;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ComposeError {
    #[error("{field} must be one line: it contains a line break")]
    LineBreak { field: &'static str },
    #[error("not an e-mail address: {0:?}")]
    BadAddress(String),
    #[error("no recipient")]
    NoRecipient,
    #[error("{count} recipients, more than the {max} one message may have")]
    TooManyRecipients { count: usize, max: u32 },
    #[error("{0:?} is not an address you may send as")]
    NotYourAddress(String),
    #[error("attachment {name:?}: {reason}")]
    Attachment { name: String, reason: String },
    #[error("the message cannot be built: {0}")]
    Build(String),
}

/// An attachment's bytes, gathered from wherever the draft points (`protocol::AttachmentSource`).
pub struct File {
    pub name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// What the outbox needs of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The bytes handed to the SMTP server: no Bcc.
    pub submitted: Vec<u8>,
    /// The copy for Sent: the submitted bytes with the Bcc field, which only the sender sees.
    pub copy: Vec<u8>,
    pub sender: String,
    /// Every recipient: To, Cc and Bcc.
    pub recipients: Vec<String>,
}

/// Checks and builds `draft` for sending as `from` (one of the user's `identities`).
pub fn compose(
    draft: &Draft,
    files: Vec<File>,
    identities: &[Identity],
    max_recipients: u32,
    now: std::time::SystemTime,
) -> Result<Composed, ComposeError> {
    let from = identity(&draft.from, identities)?;
    let recipients = draft.to.len() + draft.cc.len() + draft.bcc.len();
    if recipients == 0 {
        return Err(ComposeError::NoRecipient);
    }
    if recipients > max_recipients as usize {
        return Err(ComposeError::TooManyRecipients {
            count: recipients,
            max: max_recipients,
        });
    }
    let message_id = message_id(&from);
    let message = build(draft, files, &from, &message_id, now)?;
    let copy = message.formatted();
    let submitted = without_field(&copy, "bcc");
    Ok(Composed {
        submitted,
        copy,
        sender: from.email.to_string(),
        recipients: message
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// The bytes of a draft to keep in Drafts: like the message it would send, Bcc included, with
/// [`DRAFT_ID_HEADER`]; without the checks that only matter for sending (no recipient yet is
/// fine).
pub fn compose_draft(
    draft: &Draft,
    files: Vec<File>,
    identities: &[Identity],
    now: std::time::SystemTime,
) -> Result<Vec<u8>, ComposeError> {
    let from = identity(&draft.from, identities)?;
    let text_only = Draft {
        formatted: false,
        ..draft.clone()
    };
    let message = build(&text_only, files, &from, &message_id(&from), now)?.formatted();
    Ok(as_draft(&message, draft))
}

/// A message (a copy that was not sent) as a draft in Drafts: with [`DRAFT_ID_HEADER`], so that
/// a later save or send of the same draft replaces it. `id` is checked before a draft is queued.
pub fn as_draft(message: &[u8], draft: &Draft) -> Vec<u8> {
    let mut marked = format!("{DRAFT_ID_HEADER}: {}\r\n", draft.id).into_bytes();
    if draft.formatted {
        marked.extend(format!("{}: yes\r\n", mime::draft::FORMATTED_HEADER).into_bytes());
    }
    if let Some(origin) = &draft.origin {
        let value = mime::draft::origin_value(origin);
        marked.extend(format!("{}: {value}\r\n", mime::draft::ORIGIN_HEADER).into_bytes());
    }
    marked.extend_from_slice(message);
    marked
}

fn build(
    draft: &Draft,
    files: Vec<File>,
    from: &Mailbox,
    message_id: &str,
    now: std::time::SystemTime,
) -> Result<lettre::Message, ComposeError> {
    one_line("Subject", &draft.subject)?;
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .subject(draft.subject.trim())
        .date(now)
        .keep_bcc();
    for address in &draft.to {
        builder = builder.to(mailbox(address)?);
    }
    for address in &draft.cc {
        builder = builder.cc(mailbox(address)?);
    }
    for address in &draft.bcc {
        builder = builder.bcc(mailbox(address)?);
    }
    if let Some(id) = &draft.in_reply_to {
        builder = builder.in_reply_to(message_ref("In-Reply-To", id)?);
    }
    if !draft.references.is_empty() {
        let refs = draft
            .references
            .iter()
            .map(|id| message_ref("References", id))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.references(refs.join(" "));
    }
    builder = builder.message_id(Some(message_id.to_owned()));
    if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
        // A draft without recipients yet: lettre wants an envelope all the same, and a draft's
        // is never used.
        let envelope =
            lettre::address::Envelope::new(Some(from.email.clone()), vec![from.email.clone()])
                .map_err(|e| ComposeError::Build(e.to_string()))?;
        builder = builder.envelope(envelope);
    }
    let text = crlf(&draft.text);
    let result = match (files.is_empty(), draft.formatted) {
        (true, false) => builder.singlepart(SinglePart::plain(text)),
        (true, true) => builder.multipart(alternative(text)),
        (false, formatted) => {
            let mixed = MultiPart::mixed();
            let mut mixed = if formatted {
                mixed.multipart(alternative(text))
            } else {
                mixed.singlepart(SinglePart::plain(text))
            };
            for file in files {
                mixed = mixed.singlepart(attachment(file)?);
            }
            builder.multipart(mixed)
        }
    };
    // The builder's own checks come after ours; what is left is a bug, not the user's input.
    result.map_err(|e| ComposeError::Build(e.to_string()))
}

/// The text as written and its formatting as HTML, for readers to choose from.
fn alternative(text: String) -> MultiPart {
    let html = super::markup::to_html(&text);
    MultiPart::alternative_plain_html(text, html)
}

fn attachment(file: File) -> Result<SinglePart, ComposeError> {
    one_line("an attachment name", &file.name)?;
    let bad = |reason: String| ComposeError::Attachment {
        name: file.name.clone(),
        reason,
    };
    let content_type = ContentType::parse(&file.mime_type)
        .unwrap_or(ContentType::parse("application/octet-stream").expect("valid"));
    let name = if file.name.trim().is_empty() {
        "attachment".to_owned()
    } else {
        file.name.clone()
    };
    let attachment = Attachment::new(name);
    if file.mime_type.eq_ignore_ascii_case("message/rfc822") {
        // A message part may not be base64 (RFC 2046 5.2.1): 8bit, which mail's own lines fit.
        let body = Body::new_with_encoding(file.bytes, ContentTransferEncoding::EightBit).map_err(
            |_| bad("the attached message has lines too long to send as a message".into()),
        )?;
        return Ok(attachment.body(body, content_type));
    }
    Ok(attachment.body(Body::new(file.bytes), content_type))
}

/// The From: one of the user's addresses, with the name they gave it.
fn identity(from: &str, identities: &[Identity]) -> Result<Mailbox, ComposeError> {
    one_line("From", from)?;
    let identity = identities
        .iter()
        .find(|i| i.address.eq_ignore_ascii_case(from.trim()))
        .ok_or_else(|| ComposeError::NotYourAddress(from.to_owned()))?;
    let email = identity
        .address
        .parse()
        .map_err(|_| ComposeError::BadAddress(identity.address.clone()))?;
    let name = Some(identity.name.trim().to_owned()).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, email))
}

fn mailbox(address: &Address) -> Result<Mailbox, ComposeError> {
    one_line("an address", &address.email)?;
    if let Some(name) = &address.name {
        one_line("a name", name)?;
    }
    let email = address
        .email
        .trim()
        .parse()
        .map_err(|_| ComposeError::BadAddress(address.email.clone()))?;
    let name = address
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Ok(Mailbox::new(name, email))
}

/// A Message-ID as the thread headers carry it: `<left@right>`, nothing else.
fn message_ref(field: &'static str, id: &str) -> Result<String, ComposeError> {
    one_line(field, id)?;
    let id = id.trim();
    let bare = id.trim_start_matches('<').trim_end_matches('>');
    let valid = !bare.is_empty()
        && bare.contains('@')
        && !bare
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>');
    if !valid {
        return Err(ComposeError::BadAddress(id.to_owned()));
    }
    Ok(format!("<{bare}>"))
}

fn one_line(field: &'static str, value: &str) -> Result<(), ComposeError> {
    if value.contains(['\r', '\n']) {
        return Err(ComposeError::LineBreak { field });
    }
    Ok(())
}

fn message_id(from: &Mailbox) -> String {
    format!("<{}@{}>", crate::random_hex(16), from.email.domain())
}

/// Text from a browser has bare LF line ends; mail has CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// `message` without the header field `name` (and its folded continuation lines).
fn without_field(message: &[u8], name: &str) -> Vec<u8> {
    let header_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 2);
    let mut out = Vec::with_capacity(message.len());
    let mut skipping = false;
    for line in message[..header_end].split_inclusive(|b| *b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            skipping = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()] == b':';
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&message[header_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(email: &str) -> Address {
        Address {
            name: None,
            email: email.into(),
        }
    }

    fn draft() -> Draft {
        Draft {
            id: "d1".into(),
            from: "alice@example.org".into(),
            to: vec![Address {
                name: Some("Bob Müller".into()),
                email: "bob@example.org".into(),
            }],
            bcc: vec![address("secret@example.org")],
            subject: "Grüße aus München".into(),
            text: "Hallo Bob,\nbis bald.\n".into(),
            ..Draft::default()
        }
    }

    fn identities() -> Vec<Identity> {
        vec![Identity {
            address: "alice@example.org".into(),
            name: "Alice Weiß".into(),
            signature: String::new(),
        }]
    }

    fn now() -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000)
    }

    #[test]
    fn bcc_is_in_the_copy_only() {
        let composed = compose(&draft(), Vec::new(), &identities(), 100, now()).unwrap();
        let submitted = String::from_utf8(composed.submitted.clone()).unwrap();
        let copy = String::from_utf8(composed.copy.clone()).unwrap();
        assert!(!submitted.to_lowercase().contains("secret@"), "{submitted}");
        assert!(copy.contains("secret@example.org"), "{copy}");
        assert_eq!(
            without_field(&composed.copy, "bcc"),
            composed.submitted,
            "the copy is the submitted message plus Bcc"
        );
        assert_eq!(
            composed.recipients,
            ["bob@example.org", "secret@example.org"]
        );
        // Encoded words, read back by the same parser the reader uses (which numbers
        // attachments from 1).
        let headers = mime::headers(&composed.submitted);
        assert_eq!(headers.summary.subject, "Grüße aus München");
        assert_eq!(headers.summary.to[0].name.as_deref(), Some("Bob Müller"));
        assert!(headers.message_id.unwrap().ends_with("@example.org>"));
        assert_eq!(
            headers.summary.from.unwrap().name.as_deref(),
            Some("Alice Weiß"),
            "the name the user gave the address"
        );
        assert!(submitted.contains("\r\n\r\n"));
        assert!(!submitted.replace("\r\n", "").contains('\n'), "CRLF only");
    }

    #[test]
    fn line_breaks_in_any_header_are_refused() {
        let mut subject = draft();
        subject.subject = "Hi\r\nBcc: everyone@example.org".into();
        assert_eq!(
            compose(&subject, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::LineBreak { field: "Subject" })
        );
        let mut name = draft();
        name.to[0].name = Some("Bob\nX-Evil: 1".into());
        assert!(matches!(
            compose(&name, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::LineBreak { .. })
        ));
        let mut reference = draft();
        reference.in_reply_to = Some("<a@b>\r\nX: y".into());
        assert!(matches!(
            compose(&reference, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::LineBreak { .. })
        ));
        let file = File {
            name: "a\r\nb.txt".into(),
            mime_type: "text/plain".into(),
            bytes: b"x".to_vec(),
        };
        assert!(matches!(
            compose(&draft(), vec![file], &identities(), 100, now()),
            Err(ComposeError::LineBreak { .. })
        ));
    }

    #[test]
    fn addresses_recipients_and_identities_are_checked() {
        let mut bad = draft();
        bad.cc = vec![address("not an address")];
        assert!(matches!(
            compose(&bad, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::BadAddress(_))
        ));
        let mut none = draft();
        none.to.clear();
        none.bcc.clear();
        assert_eq!(
            compose(&none, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::NoRecipient)
        );
        assert!(matches!(
            compose(&draft(), Vec::new(), &identities(), 1, now()),
            Err(ComposeError::TooManyRecipients { count: 2, max: 1 })
        ));
        let mut other = draft();
        other.from = "mallory@example.org".into();
        assert!(matches!(
            compose(&other, Vec::new(), &identities(), 100, now()),
            Err(ComposeError::NotYourAddress(_))
        ));
    }

    #[test]
    fn attachments_keep_their_bytes_and_names() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let files = vec![
            File {
                name: "Übersicht 2026.pdf".into(),
                mime_type: "application/pdf".into(),
                bytes: bytes.clone(),
            },
            File {
                name: "original.eml".into(),
                mime_type: "message/rfc822".into(),
                bytes: b"Subject: inner\r\nFrom: c@example.org\r\n\r\nInner text\r\n".to_vec(),
            },
        ];
        let composed = compose(&draft(), files, &identities(), 100, now()).unwrap();
        let (info, decoded) = mime::attachment(&composed.submitted, "1").unwrap();
        assert_eq!(info.name, "Übersicht 2026.pdf");
        assert_eq!(decoded, bytes);
        let (info, decoded) = mime::attachment(&composed.submitted, "2").unwrap();
        assert_eq!(info.mime_type, "message/rfc822");
        assert!(String::from_utf8_lossy(&decoded).contains("Inner text"));
    }

    #[test]
    fn threading_headers_are_written() {
        let mut reply = draft();
        reply.in_reply_to = Some("<p@example.org>".into());
        reply.references = vec!["<r@example.org>".into(), "p@example.org".into()];
        let composed = compose(&reply, Vec::new(), &identities(), 100, now()).unwrap();
        let text = String::from_utf8(composed.submitted).unwrap();
        assert!(text.contains("In-Reply-To: <p@example.org>"), "{text}");
        assert!(
            text.contains("References: <r@example.org> <p@example.org>"),
            "{text}"
        );
    }

    #[test]
    fn formatting_goes_as_html_beside_the_text_as_written() {
        let mut formatted = draft();
        formatted.text = "Das ist **wichtig**.\n\n- eins\n- zwei\n".into();
        formatted.formatted = true;
        let composed = compose(&formatted, Vec::new(), &identities(), 100, now()).unwrap();
        let text = String::from_utf8(composed.submitted.clone()).unwrap();
        assert!(text.contains("multipart/alternative"), "{text}");
        let parsed = mime::parse_message(&composed.submitted, mime::InlineLimits::NONE);
        let protocol::Body::Html { html, .. } = parsed.body else {
            panic!("the reader shows the HTML part")
        };
        assert!(
            html.contains("<strong>wichtig</strong>") && html.contains("<li>eins</li>"),
            "{html}"
        );
        assert!(
            text.contains("Das ist **wichtig**."),
            "the text part is as written"
        );
        // A draft keeps the text only, and says it was formatted.
        let saved = compose_draft(&formatted, Vec::new(), &identities(), now()).unwrap();
        let saved_text = String::from_utf8(saved).unwrap();
        assert!(!saved_text.contains("multipart/alternative"));
        assert!(saved_text.contains("X-Webmail-Formatted: yes\r\n"));
    }

    #[test]
    fn a_returned_message_carries_its_draft_id() {
        let composed = compose(&draft(), Vec::new(), &identities(), 100, now()).unwrap();
        let returned = as_draft(&composed.copy, &draft());
        assert!(returned.starts_with(b"X-Webmail-Draft: d1\r\n"));
        assert_eq!(
            mime::headers(&returned).summary.subject,
            "Grüße aus München"
        );
    }
}
