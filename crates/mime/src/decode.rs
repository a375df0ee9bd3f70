use mail_parser::MessageParser;

/// Decodes one text part as fetched on its own (IMAP `BODY[n]`): undoes the transfer encoding
/// and converts the charset to UTF-8. Unknown charsets and broken encodings degrade to a best
/// effort (lossy UTF-8), never an error.
pub fn decode_text_part(
    subtype: &str,
    charset: Option<&str>,
    encoding: &str,
    raw: &[u8],
) -> String {
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
        let text = decode_text_part(
            "plain",
            Some("iso-8859-1"),
            "quoted-printable",
            b"Gr=FC=DFe=\r\n aus K=F6ln",
        );
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

/// The file name of an attachment from its Content-Type and Content-Disposition parameters:
/// RFC 2231 (`filename*=utf-8''Gr%C3%BC%C3%9Fe.pdf`) before RFC 2047 (`=?utf-8?q?...?=`) before
/// plain. Path separators are replaced so a name can never point elsewhere on disk.
pub fn attachment_name(params: &[(String, String)]) -> Option<String> {
    let find = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let name = find("filename*")
        .or_else(|| find("name*"))
        .and_then(rfc2231)
        .or_else(|| find("filename").or_else(|| find("name")).map(rfc2047))?;
    let safe = safe_name(&name);
    (!safe.is_empty()).then_some(safe)
}

/// A file name that cannot point elsewhere on disk or break a header.
pub(crate) fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `charset'language'percent-encoded` (RFC 2231 section 4).
fn rfc2231(value: &str) -> Option<String> {
    let mut pieces = value.splitn(3, '\'');
    let charset = pieces.next()?;
    let _language = pieces.next()?;
    let encoded = pieces.next()?;
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut iter = encoded.bytes();
    while let Some(b) = iter.next() {
        if b == b'%' {
            let hex = [iter.next()?, iter.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    Some(decode_text_part("plain", Some(charset), "8bit", &bytes))
}

fn rfc2047(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_owned();
    }
    let header = format!("Subject: {value}\r\n\r\n");
    crate::header_summary(header.as_bytes()).subject
}

#[cfg(test)]
mod name_tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_in_every_encoding() {
        assert_eq!(
            attachment_name(&params(&[("FILENAME*", "utf-8''Gr%C3%BC%C3%9Fe.pdf")])).as_deref(),
            Some("Grüße.pdf")
        );
        assert_eq!(
            attachment_name(&params(&[("name*", "iso-8859-1'de'K%E4se.txt")])).as_deref(),
            Some("Käse.txt")
        );
        assert_eq!(
            attachment_name(&params(&[("NAME", "=?utf-8?b?w7xiZXIucG5n?=")])).as_deref(),
            Some("über.png")
        );
        assert_eq!(
            attachment_name(&params(&[("filename", "plain.txt"), ("name", "other")])).as_deref(),
            Some("plain.txt")
        );
        assert_eq!(attachment_name(&params(&[("charset", "utf-8")])), None);
    }

    #[test]
    fn names_cannot_climb_directories() {
        assert_eq!(
            attachment_name(&params(&[("filename", "../../etc/passwd")])).as_deref(),
            Some(".._.._etc_passwd")
        );
        assert_eq!(
            attachment_name(&params(&[("filename*", "utf-8''%2E%2E%2Fx")])).as_deref(),
            Some(".._x")
        );
    }
}
