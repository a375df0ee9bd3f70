use mail_parser::MessageParser;

/// Decodes one text part as fetched on its own (IMAP `BODY[n]`): undoes the transfer encoding
/// and converts the charset to UTF-8. Unknown charsets and broken encodings degrade to a best
/// effort (lossy UTF-8), never an error.
pub fn decode_text_part(subtype: &str, charset: Option<&str>, encoding: &str, raw: &[u8]) -> String {
    // mail-parser does all of this for a whole message, so the part gets the headers it had.
    let mut message = format!(
        "Content-Type: text/{}; charset=\"{}\"\r\nContent-Transfer-Encoding: {}\r\n\r\n",
        clean(subtype, "plain"),
        clean(charset.unwrap_or("utf-8"), "utf-8"),
        clean(encoding, "7bit"),
    )
    .into_bytes();
    message.extend_from_slice(raw);
    let Some(parsed) = MessageParser::default().parse(&message) else {
        return String::from_utf8_lossy(raw).into_owned();
    };
    let text = if subtype.eq_ignore_ascii_case("html") {
        parsed.body_html(0)
    } else {
        parsed.body_text(0)
    };
    text.map(|t| t.into_owned()).unwrap_or_default()
}

/// A header parameter from the server, reduced to characters that cannot break the header line.
fn clean<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+".contains(&b));
    if ok {
        value
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_latin1() {
        let text = decode_text_part("plain", Some("iso-8859-1"), "quoted-printable", b"Gr=FC=DFe=\r\n aus K=F6ln");
        assert_eq!(text, "Grüße aus Köln");
    }

    #[test]
    fn base64_utf8_html() {
        let html = decode_text_part("html", Some("UTF-8"), "BASE64", b"PHA+SGFsbMO2PC9wPg==\r\n");
        assert_eq!(html, "<p>Hallö</p>");
    }

    #[test]
    fn header_injection_through_parameters_is_neutralised() {
        let text = decode_text_part(
            "plain\r\nContent-Type: text/html",
            Some("utf-8\"\r\n\r\n"),
            "7bit",
            b"plain words",
        );
        assert_eq!(text, "plain words");
    }

    #[test]
    fn broken_base64_does_not_panic() {
        let _ = decode_text_part("plain", None, "base64", b"%%%not base64***");
    }
}
