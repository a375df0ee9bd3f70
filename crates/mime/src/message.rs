//! Whole messages (as a POP3 account stores them): what the list and the reader need, parsed
//! from the raw bytes with mail-parser, with the same sanitizing as IMAP bodies.

use mail_parser::{MessageParser, MimeHeaders};
use protocol::{Attachment, Body};

use crate::{
    choose_inline_images, data_url, embed_inline_images, headers, inline_image_ids, sanitize_html,
    Headers, InlineLimits, InlinePart,
};

/// What a stored message shows in the list and the reader.
pub struct Parsed {
    pub headers: Headers,
    pub body: Body,
    pub attachments: Vec<Attachment>,
    /// The body was longer than [`MAX_BODY`] and is cut off.
    pub truncated: bool,
}

/// At most this much of a body (text, or HTML before sanitizing) goes to the browser; nobody
/// reads 4 MB of text in one, and the rest is in the .eml download.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// `text` cut to [`MAX_BODY`] bytes at a character boundary, and whether it was cut.
fn at_most_max_body(text: &str) -> (&str, bool) {
    if text.len() <= MAX_BODY {
        return (text, false);
    }
    let mut end = MAX_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Parses a whole message, with up to `inline` of the images its HTML shows by `cid:` put into
/// the body. Never fails: an unreadable one shows as its raw text.
pub fn parse_message(raw: &[u8], inline: InlineLimits) -> Parsed {
    let headers = headers(raw);
    let Some(message) = MessageParser::default().parse(raw) else {
        let text = String::from_utf8_lossy(raw);
        let (text, truncated) = at_most_max_body(&text);
        return Parsed {
            headers,
            body: Body::Text {
                text: text.to_owned(),
            },
            attachments: Vec::new(),
            truncated,
        };
    };
    let mut truncated = false;
    // The HTML rendering where there is one (mail-parser picks the alternative), else text.
    let body = match message.html_part(0).filter(|p| p.is_text_html()) {
        Some(_) => {
            let html = message.body_html(0).unwrap_or_default();
            let (html, cut) = at_most_max_body(&html);
            truncated = cut;
            let clean = sanitize_html(html);
            let wanted = inline_image_ids(&clean.html);
            let parts = message.attachments().filter_map(|part| {
                Some(InlinePart {
                    content_id: part.content_id()?.trim_matches(['<', '>', ' ']),
                    mime_type: previewable_type(part)?,
                    size: part.contents().len(),
                    key: part.contents(),
                })
            });
            let images: Vec<(String, String)> = choose_inline_images(&wanted, parts, inline)
                .into_iter()
                .map(|(id, part)| (id, data_url(part.mime_type, part.key)))
                .collect();
            Body::Html {
                html: embed_inline_images(&clean.html, &images),
                remote_content: clean.remote_content,
            }
        }
        None => match message.body_text(0) {
            Some(text) => {
                let (text, cut) = at_most_max_body(&text);
                truncated = cut;
                Body::Text {
                    text: text.to_owned(),
                }
            }
            None => Body::Empty,
        },
    };
    let attachments = message
        .attachments()
        .enumerate()
        .map(|(i, part)| Attachment {
            part: (i + 1).to_string(),
            name: part
                .attachment_name()
                .map(crate::decode::safe_name)
                .unwrap_or_else(|| format!("part-{}", i + 1)),
            mime_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase(),
            size: part.contents().len() as u32,
            inline: part.content_id().is_some() && !part.is_content_type("application", "pdf"),
            content_id: part
                .content_id()
                .map(|id| id.trim_matches(['<', '>', ' ']).to_owned()),
        })
        .collect();
    Parsed {
        headers,
        body,
        attachments,
        truncated,
    }
}

/// The part's type if it is one a browser may show inline.
fn previewable_type(part: &mail_parser::MessagePart<'_>) -> Option<&'static str> {
    let ct = part.content_type()?;
    let mime_type = format!("{}/{}", ct.ctype(), ct.subtype()?).to_ascii_lowercase();
    crate::PREVIEWABLE
        .iter()
        .copied()
        .find(|known| *known == mime_type)
}

/// Attachment `part` (as numbered by [`parse_message`]), decoded, with its info.
pub fn attachment(raw: &[u8], part: &str) -> Option<(Attachment, Vec<u8>)> {
    let index: usize = part.parse().ok()?;
    let info = parse_message(raw, InlineLimits::NONE)
        .attachments
        .into_iter()
        .nth(index.checked_sub(1)?)?;
    let message = MessageParser::default().parse(raw)?;
    let bytes = message.attachments().nth(index - 1)?.contents().to_vec();
    Some((info, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: Anna <anna@example.org>\r\nSubject: Fotos\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p onclick=\"x()\">Hallo <img src=\"https://t.example/p.gif\"></p><script>alert(1)</script>\r\n\
--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"../plan.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";

    #[test]
    fn html_is_sanitized_and_attachments_listed() {
        let parsed = parse_message(MIXED, InlineLimits::default());
        assert_eq!(parsed.headers.summary.subject, "Fotos");
        let Body::Html {
            html,
            remote_content,
        } = parsed.body
        else {
            panic!("html body")
        };
        assert!(remote_content);
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].name, ".._plan.pdf");
        assert_eq!(parsed.attachments[0].mime_type, "application/pdf");
        let (info, bytes) = attachment(MIXED, "1").unwrap();
        assert_eq!(info.part, "1");
        assert_eq!(bytes, b"%PDF-");
        assert!(attachment(MIXED, "2").is_none() && attachment(MIXED, "0").is_none());
    }

    #[test]
    fn shown_inline_images_are_embedded_within_the_limits() {
        let raw = b"Subject: logo\r\nContent-Type: multipart/related; boundary=r\r\n\r\n--r\r\n\
Content-Type: text/html\r\n\r\n<img src=\"cid:one@x\"><img src=\"cid:two@x\">\r\n\
--r\r\nContent-Type: image/png\r\nContent-ID: <one@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
--r\r\nContent-Type: image/svg+xml\r\nContent-ID: <two@x>\r\n\r\n<svg onload=alert(1)/>\r\n--r--\r\n";
        let Body::Html { html, .. } = parse_message(raw, InlineLimits::default()).body else {
            panic!("html")
        };
        assert!(
            html.contains(r#"src="data:image/png;base64,iVBORw0KGgo=""#),
            "{html}"
        );
        assert!(
            html.contains(r#"src="cid:two@x""#),
            "SVG is never embedded: {html}"
        );
        let Body::Html { html, .. } = parse_message(raw, InlineLimits::NONE).body else {
            panic!("html")
        };
        assert!(!html.contains("data:"), "{html}");
    }

    #[test]
    fn plain_and_broken_messages() {
        let parsed = parse_message(b"Subject: x\r\n\r\nplain words\r\n", InlineLimits::NONE);
        assert_eq!(
            parsed.body,
            Body::Text {
                text: "plain words\r\n".into()
            }
        );
        let parsed = parse_message(b"\xff\xfe not a mail at all", InlineLimits::NONE);
        assert!(!matches!(parsed.body, Body::Html { .. }));
    }
}
