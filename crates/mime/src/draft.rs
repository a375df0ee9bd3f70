//! A saved draft read back into the editor's form: the shown message (recipients, text,
//! attachments as parts of the saved copy) and the header fields only a draft needs (its id,
//! Bcc, the thread it answers).

use mail_parser::{HeaderValue, MessageParser};
use protocol::{AttachmentSource, Body, Draft, DraftAttachment, MessageView};

/// The header every saved version of one draft carries.
pub const DRAFT_ID_HEADER: &str = "X-Webmail-Draft";

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
        Body::Text { text } => text.clone(),
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
        origin: None,
    }
}
