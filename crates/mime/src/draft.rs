//! A saved draft read back into the editor's form: the shown message (recipients, text,
//! attachments as parts of the saved copy) and the header fields only a draft needs (its id,
//! Bcc, the thread it answers).

use mail_parser::{HeaderValue, MessageParser};
use protocol::{AttachmentSource, Body, Draft, DraftAttachment, MessageView, Origin};

/// The header every saved version of one draft carries.
pub const DRAFT_ID_HEADER: &str = "X-Webmail-Draft";
/// The message a draft answers or forwards (base64 of its JSON), so that sending a reopened
/// reply still flags the original.
pub const ORIGIN_HEADER: &str = "X-Webmail-Origin";

/// The value of [`ORIGIN_HEADER`] for `origin`: one line of ASCII, whatever the folder's name.
pub fn origin_value(origin: &Origin) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(origin).expect("an origin serializes");
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn origin_from(value: &str) -> Option<Origin> {
    use base64::Engine;
    let json = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Present (`yes`) on a draft written with simple formatting: a draft keeps only its text, marks
/// and all, and the HTML is made when it is sent.
pub const FORMATTED_HEADER: &str = "X-Webmail-Formatted";

/// `view` is the saved draft as the reader shows it; `header` its header block.
pub fn continue_draft(view: MessageView, header: &[u8]) -> Draft {
    let parsed = MessageParser::default().parse_headers(header);
    let headers = crate::headers(header);
    let id = parsed
        .as_ref()
        .and_then(|m| m.header_raw(DRAFT_ID_HEADER))
        .map(|id| id.trim().to_owned())
        .unwrap_or_default();
    let ids = |value: Option<&HeaderValue<'_>>| match value {
        Some(HeaderValue::Text(id)) => vec![format!("<{}>", id.trim_matches(['<', '>']))],
        Some(HeaderValue::TextList(ids)) => ids
            .iter()
            .map(|id| format!("<{}>", id.trim_matches(['<', '>'])))
            .collect(),
        _ => Vec::new(),
    };
    let in_reply_to = ids(parsed.as_ref().map(|m| m.in_reply_to()))
        .into_iter()
        .next();
    let references = ids(parsed.as_ref().map(|m| m.references()));
    let text = match &view.body {
        // As the editor holds it: LF line ends, without the line end the message's last line
        // needs.
        Body::Text { text } => {
            let text = text.replace("\r\n", "\n");
            text.strip_suffix('\n').unwrap_or(&text).to_owned()
        }
        Body::Html { html, .. } => crate::reply::html_to_text(html),
        Body::Empty => String::new(),
    };
    let attachments = view
        .attachments
        .iter()
        .map(|a| DraftAttachment {
            name: a.name.clone(),
            mime_type: a.mime_type.clone(),
            size: u64::from(a.size),
            source: AttachmentSource::Part {
                folder: view.folder.clone(),
                uid: view.uid,
                part: a.part.clone(),
            },
        })
        .collect();
    Draft {
        id,
        from: view.from.map(|a| a.email).unwrap_or_default(),
        to: view.to,
        cc: view.cc,
        bcc: headers.bcc,
        subject: view.subject,
        text,
        attachments,
        in_reply_to,
        references,
        origin: parsed
            .as_ref()
            .and_then(|m| m.header_raw(ORIGIN_HEADER))
            .and_then(origin_from),
        formatted: parsed
            .as_ref()
            .and_then(|m| m.header_raw(FORMATTED_HEADER))
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_draft_reads_back_as_the_editor_had_it() {
        let raw = b"X-Webmail-Draft: 0123456789abcdef\r\nFrom: Anna <anna@example.org>\r\n\
To: bob@example.org\r\nBcc: =?utf-8?q?Carl_M=C3=BCller?= <carl@example.org>\r\n\
Subject: Plan\r\nIn-Reply-To: <p@example.org>\r\nReferences: <r@example.org> <p@example.org>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nZeile 1\r\nZeile 2\r\n";
        let parsed = crate::parse_message(raw, crate::InlineLimits::NONE);
        let view = MessageView {
            folder: "Drafts".into(),
            uid: 3,
            from: parsed.headers.summary.from.clone(),
            to: parsed.headers.summary.to.clone(),
            subject: parsed.headers.summary.subject.clone(),
            body: parsed.body,
            ..MessageView::default()
        };
        let draft = continue_draft(view.clone(), raw);
        assert_eq!(draft.id, "0123456789abcdef");
        assert_eq!(draft.from, "anna@example.org");
        assert_eq!(draft.bcc[0].name.as_deref(), Some("Carl Müller"));
        assert_eq!(draft.text, "Zeile 1\nZeile 2");
        assert_eq!(draft.in_reply_to.as_deref(), Some("<p@example.org>"));
        assert_eq!(draft.references, ["<r@example.org>", "<p@example.org>"]);
        assert_eq!(draft.origin, None);
        let origin = Origin {
            folder: "Familie/Grüße".into(),
            uid: 7,
            kind: protocol::ReplyKind::ReplyAll,
        };
        let mut with_origin =
            format!("{ORIGIN_HEADER}: {}\r\n", origin_value(&origin)).into_bytes();
        with_origin.extend_from_slice(raw);
        assert_eq!(continue_draft(view, &with_origin).origin, Some(origin));
    }
}
