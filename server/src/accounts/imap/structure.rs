//! From BODYSTRUCTURE to a plan: which part to fetch and show, which parts are attachments.
//! Only that part is fetched when a message is opened; attachments wait until asked for.

use imap_codec::imap_types::{
    body::{BodyStructure, SpecificFields},
    core::IString,
};
use protocol::Attachment;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub body: Option<TextPart>,
    pub attachments: Vec<Attachment>,
}

/// The part to show.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPart {
    /// IMAP section (`1`, `1.2`).
    pub part: String,
    pub html: bool,
    pub charset: Option<String>,
    pub encoding: String,
    pub size: u32,
}

pub fn plan(structure: &BodyStructure<'_>) -> Plan {
    let mut plan = Plan {
        body: None,
        attachments: Vec::new(),
    };
    walk(structure, "", false, &mut plan);
    plan
}

/// True when the message has attachments a person would call attachments (not inline images).
pub fn has_attachments(structure: &BodyStructure<'_>) -> bool {
    plan(structure).attachments.iter().any(|a| !a.inline)
}

fn walk(structure: &BodyStructure<'_>, path: &str, in_related: bool, plan: &mut Plan) {
    match structure {
        BodyStructure::Multi {
            bodies, subtype, ..
        } => {
            let subtype = text(subtype).to_ascii_lowercase();
            let children: Vec<(String, &BodyStructure)> = bodies
                .as_ref()
                .iter()
                .enumerate()
                .map(|(i, child)| (section(path, i + 1), child))
                .collect();
            if subtype == "alternative" && plan.body.is_none() {
                // The richest alternative we can show: HTML over plain text; the rest are
                // other renderings of the same text, not attachments.
                let best = children
                    .iter()
                    .rev()
                    .find(|(_, c)| shows_as(c) == Some(true))
                    .or_else(|| children.iter().find(|(_, c)| shows_as(c) == Some(false)));
                if let Some((part, child)) = best {
                    walk(child, part, in_related, plan);
                }
                return;
            }
            let related = subtype == "related";
            for (part, child) in &children {
                walk(child, part, related || in_related, plan);
            }
        }
        BodyStructure::Single { .. } => {
            let Some(info) = describe(structure, path) else {
                return;
            };
            if let (Some(html), false, None) = (info.text_kind, info.is_attachment, &plan.body) {
                plan.body = Some(TextPart {
                    part: info.part,
                    html,
                    charset: info.charset,
                    encoding: info.encoding,
                    size: info.size,
                });
                return;
            }
            plan.attachments.push(Attachment {
                content_id: info.content_id,
                name: info.name.unwrap_or_else(|| format!("part-{}", info.part)),
                inline: in_related && !info.is_attachment && info.mime_type.starts_with("image/"),
                part: info.part,
                mime_type: info.mime_type,
                size: info.size,
            });
        }
    }
}

/// One leaf part, as far as showing or downloading it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PartInfo {
    pub part: String,
    pub mime_type: String,
    pub name: Option<String>,
    pub charset: Option<String>,
    pub encoding: String,
    pub size: u32,
    /// `Content-Disposition: attachment`.
    pub is_attachment: bool,
    pub content_id: Option<String>,
    /// `Some(true)` for HTML, `Some(false)` for plain text, `None` for anything else.
    text_kind: Option<bool>,
}

/// The leaf part at IMAP section `part` (`1`, `2.1`).
pub fn find_part(structure: &BodyStructure<'_>, part: &str) -> Option<PartInfo> {
    fn find(structure: &BodyStructure<'_>, path: &str, wanted: &str) -> Option<PartInfo> {
        match structure {
            BodyStructure::Multi { bodies, .. } => {
                bodies.as_ref().iter().enumerate().find_map(|(i, child)| {
                    let child_path = section(path, i + 1);
                    (wanted == child_path || wanted.starts_with(&format!("{child_path}.")))
                        .then(|| find(child, &child_path, wanted))
                        .flatten()
                })
            }
            BodyStructure::Single { .. } => {
                describe(structure, path).filter(|info| info.part == wanted)
            }
        }
    }
    find(structure, "", part)
}

fn describe(structure: &BodyStructure<'_>, path: &str) -> Option<PartInfo> {
    let BodyStructure::Single {
        body,
        extension_data,
    } = structure
    else {
        return None;
    };
    let part = if path.is_empty() {
        "1".to_owned()
    } else {
        path.to_owned()
    };
    let params = &body.basic.parameter_list;
    let disposition = extension_data
        .as_ref()
        .and_then(|e| e.tail.as_ref())
        .and_then(|d| d.disposition.as_ref());
    let (mime_type, text_kind) = match &body.specific {
        SpecificFields::Text { subtype, .. } => {
            let subtype = text(subtype).to_ascii_lowercase();
            let html = subtype == "html";
            (
                format!("text/{subtype}"),
                (html || subtype == "plain").then_some(html),
            )
        }
        SpecificFields::Basic { r#type, subtype } => (
            format!("{}/{}", text(r#type), text(subtype)).to_ascii_lowercase(),
            None,
        ),
        SpecificFields::Message { .. } => ("message/rfc822".to_owned(), None),
    };
    let mut all_params: Vec<(String, String)> =
        params.iter().map(|(k, v)| (text(k), text(v))).collect();
    if let Some((_, disposition_params)) = disposition {
        all_params.extend(disposition_params.iter().map(|(k, v)| (text(k), text(v))));
    }
    Some(PartInfo {
        name: mime::attachment_name(&all_params),
        charset: param(params, "charset"),
        encoding: text(&body.basic.content_transfer_encoding).to_ascii_lowercase(),
        size: body.basic.size,
        is_attachment: disposition
            .is_some_and(|(kind, _)| text(kind).eq_ignore_ascii_case("attachment")),
        content_id: body
            .basic
            .id
            .0
            .as_ref()
            .map(|id| text(id).trim_matches(['<', '>', ' ']).to_owned()),
        part,
        mime_type,
        text_kind,
    })
}

/// `Some(true)` for HTML, `Some(false)` for plain text, `None` for what cannot be shown as text.
fn shows_as(structure: &BodyStructure<'_>) -> Option<bool> {
    match structure {
        BodyStructure::Single { body, .. } => match &body.specific {
            SpecificFields::Text { subtype, .. } => {
                match text(subtype).to_ascii_lowercase().as_str() {
                    "html" => Some(true),
                    "plain" => Some(false),
                    _ => None,
                }
            }
            _ => None,
        },
        // multipart/related (HTML with its images) or mixed: show what is inside.
        BodyStructure::Multi { bodies, .. } => bodies.as_ref().iter().filter_map(shows_as).max(),
    }
}

fn section(path: &str, index: usize) -> String {
    if path.is_empty() {
        index.to_string()
    } else {
        format!("{path}.{index}")
    }
}

fn param(params: &[(IString<'_>, IString<'_>)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| text(k).eq_ignore_ascii_case(name))
        .map(|(_, v)| text(v))
}

fn text(value: &IString<'_>) -> String {
    String::from_utf8_lossy(value.as_ref()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::{fetch::MessageDataItem, response::Data};

    /// The BODYSTRUCTURE from a real `* n FETCH (BODYSTRUCTURE ...)` line.
    fn structure(bodystructure: &str) -> BodyStructure<'static> {
        let line = format!("* 1 FETCH (BODYSTRUCTURE {bodystructure})\r\n");
        match super::super::fetch::tests::data(line.as_bytes()) {
            Data::Fetch { items, .. } => match items.into_inner().remove(0) {
                MessageDataItem::BodyStructure(s) => s,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn single_part_plain_text_is_part_one() {
        let s = structure(
            r#"("TEXT" "PLAIN" ("CHARSET" "iso-8859-1") NIL NIL "QUOTED-PRINTABLE" 120 4 NIL NIL NIL NIL)"#,
        );
        let plan = plan(&s);
        let body = plan.body.unwrap();
        assert_eq!((body.part.as_str(), body.html), ("1", false));
        assert_eq!(body.charset.as_deref(), Some("iso-8859-1"));
        assert_eq!(body.encoding, "quoted-printable");
        assert!(plan.attachments.is_empty());
    }

    #[test]
    fn alternative_prefers_html_and_finds_the_attachment() {
        // multipart/mixed ( multipart/alternative (plain, html), application/pdf attachment )
        let s = structure(concat!(
            r#"((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 10 1 NIL NIL NIL NIL)"#,
            r#"("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "BASE64" 200 3 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b2") NIL NIL NIL)"#,
            r#"("APPLICATION" "PDF" ("NAME" "x.pdf") NIL NIL "BASE64" 5000 NIL ("ATTACHMENT" ("FILENAME*" "utf-8''Gr%C3%BC%C3%9Fe.pdf")) NIL NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL NIL)"#
        ));
        let plan = plan(&s);
        let body = plan.body.unwrap();
        assert_eq!((body.part.as_str(), body.html), ("1.2", true));
        assert_eq!(plan.attachments.len(), 1);
        let pdf = &plan.attachments[0];
        assert_eq!(
            (pdf.part.as_str(), pdf.mime_type.as_str()),
            ("2", "application/pdf")
        );
        assert_eq!(pdf.name, "Grüße.pdf");
        assert!(!pdf.inline);
        assert!(has_attachments(&s));
        let found = find_part(&s, "2").unwrap();
        assert_eq!(
            (found.encoding.as_str(), found.name.as_deref()),
            ("base64", Some("Grüße.pdf"))
        );
        assert_eq!(find_part(&s, "1.2").unwrap().mime_type, "text/html");
        assert!(find_part(&s, "1").is_none(), "a multipart is no leaf");
        assert!(find_part(&s, "3").is_none());
        assert!(find_part(&s, "12").is_none());
    }

    #[test]
    fn related_images_are_inline() {
        let s = structure(concat!(
            r#"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 100 2 NIL NIL NIL NIL)"#,
            r#"("IMAGE" "PNG" ("NAME" "logo.png") "<logo@x>" NIL "BASE64" 900 NIL ("INLINE" NIL) NIL NIL) "RELATED" ("BOUNDARY" "r") NIL NIL NIL)"#
        ));
        let plan = plan(&s);
        assert_eq!(plan.body.unwrap().part, "1");
        assert!(plan.attachments[0].inline);
        assert_eq!(plan.attachments[0].name, "logo.png");
        assert_eq!(plan.attachments[0].content_id.as_deref(), Some("logo@x"));
        assert!(!has_attachments(&s));
    }

    #[test]
    fn attachment_only_message_has_no_body() {
        let s = structure(
            r#"("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 10 NIL ("ATTACHMENT" ("FILENAME" "=?utf-8?q?K=C3=A4se.bin?=")) NIL NIL)"#,
        );
        let plan = plan(&s);
        assert!(plan.body.is_none());
        assert_eq!(plan.attachments[0].name, "Käse.bin");
        assert_eq!(plan.attachments[0].part, "1");
    }
}
