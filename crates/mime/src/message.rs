//! Whole messages (as a POP3 account stores them): what the list and the reader need, parsed
//! from the raw bytes with mail-parser, with the same sanitizing as IMAP bodies.

use mail_parser::{MessageParser, MimeHeaders};
use protocol::{Attachment, Body};

use crate::{headers, sanitize_html, Headers};

/// What a stored message shows in the list and the reader.
pub struct Parsed {
    pub headers: Headers,
    pub body: Body,
    pub attachments: Vec<Attachment>,
}

/// Parses a whole message. Never fails: an unreadable one shows as its raw text.
pub fn parse_message(raw: &[u8]) -> Parsed {
    let headers = headers(raw);
    let Some(message) = MessageParser::default().parse(raw) else {
        return Parsed {
            headers,
            body: Body::Text {
                text: String::from_utf8_lossy(raw).into_owned(),
            },
            attachments: Vec::new(),
        };
    };
    // The HTML rendering where there is one (mail-parser picks the alternative), else text.
    let body = match message.html_part(0).filter(|p| p.is_text_html()) {
        Some(_) => {
            let html = message.body_html(0).unwrap_or_default();
            let clean = sanitize_html(&html);
            Body::Html {
                html: clean.html,
                remote_content: clean.remote_content,
            }
        }
        None => match message.body_text(0) {
            Some(text) => Body::Text {
                text: text.into_owned(),
            },
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
    }
}

/// True when a whole message has attachments a person would call attachments.
pub fn has_attachments(raw: &[u8]) -> bool {
    parse_message(raw).attachments.iter().any(|a| !a.inline)
}

/// Attachment `part` (as numbered by [`parse_message`]), decoded, with its info.
pub fn attachment(raw: &[u8], part: &str) -> Option<(Attachment, Vec<u8>)> {
    let index: usize = part.parse().ok()?;
    let info = parse_message(raw)
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
        let parsed = parse_message(MIXED);
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
        assert!(has_attachments(MIXED));
        let (info, bytes) = attachment(MIXED, "1").unwrap();
        assert_eq!(info.part, "1");
        assert_eq!(bytes, b"%PDF-");
        assert!(attachment(MIXED, "2").is_none() && attachment(MIXED, "0").is_none());
    }

    #[test]
    fn plain_and_broken_messages() {
        let parsed = parse_message(b"Subject: x\r\n\r\nplain words\r\n");
        assert_eq!(
            parsed.body,
            Body::Text {
                text: "plain words\r\n".into()
            }
        );
        let parsed = parse_message(b"\xff\xfe not a mail at all");
        assert!(!matches!(parsed.body, Body::Html { .. }));
    }
}
