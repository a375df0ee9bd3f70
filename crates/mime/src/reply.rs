//! A new draft from a message being answered or forwarded: who it goes to, a subject whose
//! `Re:`/`Fwd:` (and German `AW:`/`WG:`) do not pile up, the original quoted (an HTML original
//! from its sanitized form, as text), and the thread headers.

use protocol::{
    Address, AttachmentSource, Body, Draft, DraftAttachment, MessageView, Origin, ReplyKind,
};

/// The language of the lines the relay writes into a draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn from_tag(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("de") {
            Lang::De
        } else {
            Lang::En
        }
    }
}

/// Prefixes of answers and of forwards, as mail programs write them (compared ignoring case).
const REPLY_PREFIXES: [&str; 4] = ["re", "aw", "antw", "sv"];
const FORWARD_PREFIXES: [&str; 3] = ["fwd", "fw", "wg"];

/// The draft that answers or forwards `original`, written by one of `me` (the user's own
/// addresses: the first sends, none of them is written to).
pub fn start(original: &MessageView, kind: ReplyKind, me: &[String], lang: Lang) -> Draft {
    let mine = |a: &Address| me.iter().any(|m| m.eq_ignore_ascii_case(&a.email));
    let from = original
        .to
        .iter()
        .chain(&original.cc)
        .find(|a| mine(a))
        .map(|a| a.email.clone())
        .or_else(|| me.first().cloned())
        .unwrap_or_default();
    let text = text_of(&original.body);
    let origin = Some(Origin {
        folder: original.folder.clone(),
        uid: original.uid,
        kind,
    });
    let mut draft = Draft {
        id: String::new(),
        from,
        origin,
        ..Draft::default()
    };
    match kind {
        ReplyKind::Reply | ReplyKind::ReplyAll => {
            let to: Vec<Address> = if original.reply_to.is_empty() {
                original.from.iter().cloned().collect()
            } else {
                original.reply_to.clone()
            };
            // Answering one's own message goes to its recipients instead.
            let to = if !to.is_empty() && to.iter().all(mine) {
                original.to.clone()
            } else {
                to
            };
            let mut cc = Vec::new();
            if kind == ReplyKind::ReplyAll {
                for address in original.to.iter().chain(&original.cc) {
                    let known = to
                        .iter()
                        .chain(&cc)
                        .any(|a: &Address| a.email.eq_ignore_ascii_case(&address.email));
                    if !known && !mine(address) {
                        cc.push(address.clone());
                    }
                }
            }
            draft.to = to;
            draft.cc = cc;
            draft.subject = prefixed("Re", &original.subject, &REPLY_PREFIXES);
            draft.text = format!("\n\n{}\n{}", attribution(original, lang), quote(&text));
            draft.in_reply_to = original.message_id.clone();
            draft.references = original
                .references
                .iter()
                .cloned()
                .chain(original.message_id.clone())
                .collect();
        }
        ReplyKind::Forward => {
            draft.subject = prefixed("Fwd", &original.subject, &FORWARD_PREFIXES);
            draft.text = format!("\n\n{}\n{text}", forward_header(original, lang));
            draft.attachments = original
                .attachments
                .iter()
                .filter(|a| !a.inline)
                .map(|a| DraftAttachment {
                    name: a.name.clone(),
                    mime_type: a.mime_type.clone(),
                    size: u64::from(a.size),
                    source: AttachmentSource::Part {
                        folder: original.folder.clone(),
                        uid: original.uid,
                        part: a.part.clone(),
                    },
                })
                .collect();
        }
        ReplyKind::ForwardAsAttachment => {
            draft.subject = prefixed("Fwd", &original.subject, &FORWARD_PREFIXES);
            let name = if original.subject.trim().is_empty() {
                "message.eml".to_owned()
            } else {
                format!("{}.eml", original.subject.trim())
            };
            draft.attachments = vec![DraftAttachment {
                name,
                mime_type: "message/rfc822".into(),
                size: 0,
                source: AttachmentSource::Message {
                    folder: original.folder.clone(),
                    uid: original.uid,
                },
            }];
        }
    }
    draft
}

/// `Re: subject`, however many `Re:`/`AW:` (and `Re[2]:`) it had before.
fn prefixed(prefix: &str, subject: &str, strip: &[&str]) -> String {
    let mut rest = subject.trim();
    while let Some(stripped) = strip_one(rest, strip) {
        rest = stripped;
    }
    if rest.is_empty() {
        format!("{prefix}:")
    } else {
        format!("{prefix}: {rest}")
    }
}

fn strip_one<'a>(subject: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    let (head, tail) = subject.split_once(':')?;
    let word = head.trim_end();
    // `Re[2]` and `Re(2)` count as `Re`.
    let word = word.split_once(['[', '(']).map_or(word, |(w, n)| {
        if n.trim_end_matches([']', ')'])
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            w
        } else {
            ""
        }
    });
    prefixes
        .iter()
        .any(|p| word.eq_ignore_ascii_case(p))
        .then(|| tail.trim_start())
}

fn attribution(original: &MessageView, lang: Lang) -> String {
    let who = original
        .from
        .as_ref()
        .map_or_else(String::new, |a| a.display().to_owned());
    let day = day(original.date);
    match lang {
        Lang::En => format!("On {day}, {who} wrote:"),
        Lang::De => format!("Am {day} schrieb {who}:"),
    }
}

fn forward_header(original: &MessageView, lang: Lang) -> String {
    let list = |addresses: &[Address]| {
        addresses
            .iter()
            .map(|a| match &a.name {
                Some(name) => format!("{name} <{}>", a.email),
                None => a.email.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let from = original
        .from
        .as_ref()
        .map_or_else(String::new, |a| list(std::slice::from_ref(a)));
    let (title, from_l, date_l, subject_l, to_l) = match lang {
        Lang::En => ("Forwarded message", "From", "Date", "Subject", "To"),
        Lang::De => ("Weitergeleitete Nachricht", "Von", "Datum", "Betreff", "An"),
    };
    format!(
        "---------- {title} ----------\n{from_l}: {from}\n{date_l}: {}\n{subject_l}: {}\n{to_l}: {}\n",
        day(original.date),
        original.subject,
        list(&original.to)
    )
}

/// `2026-12-02`: the day only, since the relay does not know the reader's time zone.
fn day(seconds: i64) -> String {
    let date = mail_parser::DateTime::from_timestamp(seconds);
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

/// Every line behind `> ` (a line already quoted gets only `>`).
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + text.len() / 8);
    for line in text.trim_end().lines() {
        if line.starts_with('>') {
            quoted.push('>');
        } else if !line.is_empty() {
            quoted.push_str("> ");
        } else {
            quoted.push('>');
        }
        quoted.push_str(line);
        quoted.push('\n');
    }
    quoted
}

/// The text of what the reader showed: plain text as it is, sanitized HTML as text.
fn text_of(body: &Body) -> String {
    match body {
        Body::Text { text } => text.clone(),
        Body::Html { html, .. } => html_to_text(html),
        Body::Empty => String::new(),
    }
}

/// Sanitized HTML as plain text: tags dropped, block ends and `<br>` as line breaks, entities
/// decoded, runs of blank lines and spaces collapsed.
pub fn html_to_text(html: &str) -> String {
    const BLOCKS: [&str; 14] = [
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "table",
        "hr",
    ];
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    // Inside <style>, <title> or <head>: their text is not part of the message.
    let mut skipping: Option<String> = None;
    while let Some(open) = rest.find('<') {
        if skipping.is_none() {
            push_text(&mut out, &rest[..open]);
        }
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(inside) = &skipping {
            if closing && name == *inside {
                skipping = None;
            }
            continue;
        }
        match name.as_str() {
            "style" | "title" | "head" if !closing => skipping = Some(name),
            "li" if !closing => {
                newline(&mut out);
                out.push_str("- ");
            }
            _ if BLOCKS.contains(&name.as_str()) => newline(&mut out),
            _ => {}
        }
    }
    if skipping.is_none() {
        push_text(&mut out, rest);
    }
    let mut text = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(line);
        text.push('\n');
    }
    text.trim().to_owned()
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_text(out: &mut String, text: &str) {
    let decoded = decode_entities(text);
    let mut last_space = out.ends_with([' ', '\n']) || out.is_empty();
    for c in decoded.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(if c == '\u{a0}' { ' ' } else { c });
            last_space = false;
        }
    }
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|n| n.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: Option<&str>, email: &str) -> Address {
        Address {
            name: name.map(Into::into),
            email: email.into(),
        }
    }

    fn original() -> MessageView {
        MessageView {
            folder: "INBOX".into(),
            uid: 7,
            from: Some(address(Some("Bob"), "bob@example.org")),
            to: vec![
                address(None, "alice@example.org"),
                address(None, "carol@example.org"),
            ],
            cc: vec![
                address(None, "ALICE@example.org"),
                address(None, "dave@example.org"),
            ],
            subject: "AW: Re: Treffen".into(),
            date: 1_764_633_600, // 2025-12-02
            message_id: Some("<3@example.org>".into()),
            references: vec!["<1@example.org>".into(), "<2@example.org>".into()],
            thread_id: Some("<1@example.org>".into()),
            body: Body::Text {
                text: "Wann?\n> früher\n".into(),
            },
            ..MessageView::default()
        }
    }

    fn me() -> Vec<String> {
        vec!["alice@example.org".into()]
    }

    #[test]
    fn reply_quotes_and_threads() {
        let draft = start(&original(), ReplyKind::Reply, &me(), Lang::En);
        assert_eq!(draft.to, [address(Some("Bob"), "bob@example.org")]);
        assert!(draft.cc.is_empty());
        assert_eq!(draft.subject, "Re: Treffen");
        assert_eq!(draft.in_reply_to.as_deref(), Some("<3@example.org>"));
        assert_eq!(
            draft.references,
            ["<1@example.org>", "<2@example.org>", "<3@example.org>"]
        );
        assert!(
            draft
                .text
                .contains("On 2025-12-02, Bob wrote:\n> Wann?\n>> früher\n"),
            "{}",
            draft.text
        );
        assert_eq!(draft.origin.unwrap().kind, ReplyKind::Reply);
        let german = start(&original(), ReplyKind::Reply, &me(), Lang::De);
        assert!(german.text.contains("Am 2025-12-02 schrieb Bob:"));
    }

    #[test]
    fn reply_all_leaves_out_the_user_and_duplicates() {
        let draft = start(&original(), ReplyKind::ReplyAll, &me(), Lang::En);
        assert_eq!(draft.to[0].email, "bob@example.org");
        let cc: Vec<&str> = draft.cc.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(cc, ["carol@example.org", "dave@example.org"]);
        assert_eq!(draft.from, "alice@example.org");
    }

    #[test]
    fn subjects_do_not_pile_up() {
        assert_eq!(prefixed("Re", "Re: RE: aw: x", &REPLY_PREFIXES), "Re: x");
        assert_eq!(prefixed("Re", "Re[2]: x", &REPLY_PREFIXES), "Re: x");
        assert_eq!(prefixed("Fwd", "WG: Fwd: x", &FORWARD_PREFIXES), "Fwd: x");
        assert_eq!(prefixed("Re", "Fwd: x", &REPLY_PREFIXES), "Re: Fwd: x");
        assert_eq!(prefixed("Re", "Ready: x", &REPLY_PREFIXES), "Re: Ready: x");
        assert_eq!(prefixed("Re", "", &REPLY_PREFIXES), "Re:");
    }

    #[test]
    fn forwards_carry_the_original() {
        let mut with_files = original();
        with_files.attachments = vec![
            protocol::Attachment {
                part: "2".into(),
                name: "plan.pdf".into(),
                mime_type: "application/pdf".into(),
                size: 10,
                inline: false,
                content_id: None,
            },
            protocol::Attachment {
                part: "3".into(),
                name: "logo.png".into(),
                mime_type: "image/png".into(),
                size: 10,
                inline: true,
                content_id: Some("logo".into()),
            },
        ];
        let inline = start(&with_files, ReplyKind::Forward, &me(), Lang::En);
        assert_eq!(inline.subject, "Fwd: AW: Re: Treffen");
        assert!(inline.to.is_empty());
        assert!(
            inline.text.contains("From: Bob <bob@example.org>\n"),
            "{}",
            inline.text
        );
        assert!(inline.text.contains("\nWann?"));
        assert_eq!(inline.attachments.len(), 1);
        assert_eq!(inline.in_reply_to, None);
        let attached = start(&original(), ReplyKind::ForwardAsAttachment, &me(), Lang::En);
        assert_eq!(attached.attachments[0].mime_type, "message/rfc822");
        assert_eq!(attached.attachments[0].name, "AW: Re: Treffen.eml");
    }

    #[test]
    fn html_originals_are_quoted_as_text() {
        let html = "<style>p{color:red}</style><p>Hallo&nbsp;<b>Bob</b>,</p><p>a &amp; b &#x263A;</p><ul><li>eins</li><li>zwei</li></ul>line<br>break";
        assert_eq!(
            html_to_text(html),
            "Hallo Bob,\na & b ☺\n- eins\n- zwei\nline\nbreak"
        );
    }
}
