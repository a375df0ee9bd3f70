//! Sample mail for tests and the demo, written as a mail client would.

/// A simple RFC 5322 message. `subject` goes in as given, so callers can pass encoded words.
pub fn message(from: &str, to: &str, subject: &str, date: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
Message-ID: <{}@webmail.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        unique()
    )
    .into_bytes()
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An HTML mail with a plain-text alternative, a remote image, a script, and a PDF attachment
/// whose name is RFC 2231 encoded: what a newsletter or a family member's phone sends.
pub fn html_with_attachment(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Thu, 16 Nov 2023 10:00:00 +0100\r\n\
Message-ID: <{id}@webmail.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello in plain text\r\n\
--inner\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
<html><body><h1>Gr=FC=DFe</h1><script>alert(1)</script><p onclick=3D\"x()\">Hello</p>\
<img src=3D\"https://tracker.example/pixel.gif\"></body></html>\r\n\
--inner--\r\n\
--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Disposition: attachment; filename*=utf-8''Bericht%20M%C3%A4rz.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCg==\r\n\
--outer--\r\n",
        id = unique()
    )
    .into_bytes()
}

/// A short text and one attachment of arbitrary bytes, base64 in 76-character lines.
pub fn with_attachment(
    from: &str,
    to: &str,
    subject: &str,
    name: &str,
    mime_type: &str,
    content: &[u8],
) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).expect("base64 is ASCII"))
        .collect();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Fri, 17 Nov 2023 10:00:00 +0100\r\n\
Message-ID: <{id}@webmail.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n\
--b\r\nContent-Type: {mime_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b--\r\n",
        id = unique(),
        body = lines.join("\r\n"),
    )
    .into_bytes()
}

/// A message with its own Message-ID, replying to `references` (oldest first) when given.
pub fn in_thread(
    from: &str,
    to: &str,
    subject: &str,
    date: &str,
    message_id: &str,
    references: &[&str],
) -> Vec<u8> {
    let threading = match references.last() {
        Some(parent) => format!(
            "In-Reply-To: {parent}\r\nReferences: {}\r\n",
            references.join(" ")
        ),
        None => String::new(),
    };
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {message_id}\r\n\
{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n"
    )
    .into_bytes()
}

/// An HTML mail showing a logo by `cid:` (multipart/related), as newsletters and signatures do.
pub fn html_with_inline_image(from: &str, to: &str, subject: &str) -> Vec<u8> {
    // A 1×1 PNG.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Fri, 17 Nov 2023 10:00:00 +0100\r\n\
Message-ID: <{id}@webmail.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Our logo: <img src=\"cid:logo@webmail.test\" alt=\"logo\"></p>\r\n\
--r\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-ID: <logo@webmail.test>\r\n\
Content-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n--r--\r\n",
        id = unique()
    )
    .into_bytes()
}
