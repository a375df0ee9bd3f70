//! The preview line under a row's subject: the first words a reader of the message would see.
//! Read from the start of a message only (a list asks the mail server for the first
//! [`PREVIEW_SOURCE`] bytes of each body, in the same FETCH as the row), so it works on any
//! server, whether or not it offers PREVIEW (RFC 8970).

use mail_parser::MessageParser;

/// How much of a body is read for its preview: enough for the first lines of text even behind
/// a multipart preamble and a part's header block, or base64.
pub const PREVIEW_SOURCE: u32 = 2048;

/// At most this many characters are shown; a row has room for one or two lines.
const PREVIEW_CHARS: usize = 160;

/// The preview of a message given as its header block (at least Content-Type and
/// Content-Transfer-Encoding, ending with the blank line) followed by the start of its body,
/// cut anywhere. Whitespace is collapsed, quoted lines (`> …`) are skipped, and characters that
/// could disguise the text (controls, bidirectional overrides) are dropped. Empty when the
/// message shows no text.
pub fn preview(start: &[u8]) -> String {
    let start = closed(start);
    let Some(message) = MessageParser::default().parse(&start) else {
        return String::new();
    };
    // The text part, or the HTML one turned into text: the same choice the reader makes.
    let Some(text) = message.body_text(0) else {
        return String::new();
    };
    let mut shown = String::new();
    let mut count = 0;
    let words = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('>'))
        .flat_map(str::split_whitespace);
    for word in words {
        let word: String = word.chars().filter(|c| !disguises(*c)).collect();
        if word.is_empty() {
            continue;
        }
        let length = word.chars().count();
        if count > 0 {
            if count + 1 + length > PREVIEW_CHARS {
                break;
            }
            shown.push(' ');
            count += 1;
        }
        if count + length > PREVIEW_CHARS {
            shown.extend(word.chars().take(PREVIEW_CHARS - count));
            break;
        }
        shown.push_str(&word);
        count += length;
    }
    shown
}

/// `start` with the closing delimiter of every multipart it opens but does not close, innermost
/// first: a part cut short is otherwise taken as undecodable and shown raw (`Gr=FC=DFe`).
fn closed(start: &[u8]) -> Vec<u8> {
    let mut closed = start.to_vec();
    for boundary in boundaries(start).iter().rev() {
        let close = [b"--", boundary.as_slice(), b"--"].concat();
        if !start.windows(close.len()).any(|w| w == close) {
            closed.extend_from_slice(b"\r\n");
            closed.extend_from_slice(&close);
            closed.extend_from_slice(b"\r\n");
        }
    }
    closed
}

/// Every `boundary=` parameter value in `raw`, in order (quoted or not).
fn boundaries(raw: &[u8]) -> Vec<Vec<u8>> {
    const NAME: &[u8] = b"boundary=";
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = raw[at..]
        .windows(NAME.len())
        .position(|w| w.eq_ignore_ascii_case(NAME))
    {
        let value = &raw[at + offset + NAME.len()..];
        let boundary: Vec<u8> = match value.strip_prefix(b"\"") {
            Some(quoted) => quoted
                .iter()
                .take_while(|b| **b != b'"' && **b != b'\n')
                .copied()
                .collect(),
            None => value
                .iter()
                .take_while(|b| !b.is_ascii_whitespace() && **b != b';')
                .copied()
                .collect(),
        };
        if !boundary.is_empty() && boundary.len() <= 200 {
            found.push(boundary);
        }
        at += offset + NAME.len();
    }
    found
}

/// Controls, bidirectional embeddings, overrides and isolates, and zero-width characters
/// (a preview that reads backwards or hides its start could pass for another message).
fn disguises(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_collapsed_without_quotes() {
        let raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\nHallo Anna,\r\n\r\n  wie   geht's?\r\n> alte Zeile\r\nBis bald\r\n";
        assert_eq!(preview(raw), "Hallo Anna, wie geht's? Bis bald");
    }

    #[test]
    fn html_shows_its_text_not_its_markup() {
        let raw = b"Content-Type: text/html\r\n\r\n<html><head><style>p{color:red}</style></head><body><p>Die <b>Fotos</b> sind da</p><script>alert(1)</script>";
        let shown = preview(raw);
        assert!(shown.starts_with("Die Fotos sind da"), "{shown}");
        assert!(!shown.contains('<') && !shown.contains("color"), "{shown}");
    }

    #[test]
    fn a_multipart_body_cut_anywhere_still_previews_its_first_text() {
        let raw =
            b"Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\nThis is MIME.\r\n--b\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Gr=FC=DFe aus K=F6ln, und noch viel mehr Te";
        assert_eq!(preview(raw), "Grüße aus Köln, und noch viel mehr Te");
    }

    #[test]
    fn a_nested_multipart_cut_in_base64() {
        let raw = b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n\
Content-Type: multipart/alternative; boundary=\"in ner\"\r\n\r\n--in ner\r\n\
Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nR3V0ZW4gTW9yZ2VuIHp1c2FtbWVu\r\nR3";
        assert!(
            preview(raw).starts_with("Guten Morgen zusammen"),
            "{}",
            preview(raw)
        );
    }

    #[test]
    fn a_closed_multipart_gains_no_delimiter_text() {
        let raw = b"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nkurz\r\n--m--\r\n";
        assert_eq!(preview(raw), "kurz");
    }

    #[test]
    fn base64_cut_mid_quantum() {
        // "Guten Morgen zusammen" in base64, cut inside the last quantum.
        let raw = b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nR3V0ZW4gTW9yZ2VuIHp1c2FtbWVu\r\nR3";
        assert!(
            preview(raw).starts_with("Guten Morgen zusammen"),
            "{}",
            preview(raw)
        );
    }

    #[test]
    fn long_text_is_cut_at_a_word_and_disguises_dropped() {
        let body = "wort ".repeat(100);
        let raw = format!("Content-Type: text/plain\r\n\r\n\u{202E}gnaf {body}");
        let shown = preview(raw.as_bytes());
        assert!(shown.chars().count() <= PREVIEW_CHARS);
        assert!(shown.starts_with("gnaf wort wort"), "{shown}");
        assert!(shown.ends_with("wort"), "{shown}");
    }

    #[test]
    fn nothing_to_show() {
        assert_eq!(preview(b""), "");
        assert_eq!(
            preview(
                b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo="
            ),
            ""
        );
    }
}
