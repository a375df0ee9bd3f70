//! What the relay's store records about a message, read in one pass over its bytes as they
//! arrive, in pieces of any size: the top header block (for the list row) and whether it has
//! attachments. Nothing is decoded, parsed into a tree or sanitized, and memory stays bounded
//! whatever the message's size: the header block and each line are kept only up to a limit.
//!
//! Attachments are recognised the way [`crate::parse_message`] lists them: a leaf part that is
//! not the text to show, and not an inline image (one with a Content-ID), is an attachment.

use crate::{headers, preview, Headers, PREVIEW_SOURCE};

/// At most this much of the top header block is kept (10,000 header lines or a 1 MB line are
/// cut here; what fits is still read).
pub const MAX_HEADER_BLOCK: usize = 256 * 1024;
/// Lines are read up to this length; boundaries (at most 70 characters by RFC 2046) and the
/// header fields that matter are far shorter.
const MAX_LINE: usize = 8 * 1024;
/// Boundaries remembered at once; deeper nesting is read as plain content.
const MAX_BOUNDARIES: usize = 64;
/// The fields of a part's header block that say what the part is; the rest are skipped.
const KEPT_FIELDS: [&str; 3] = ["content-type", "content-disposition", "content-id"];
/// A header block repeating them endlessly keeps only this many.
const MAX_KEPT_FIELDS: usize = 16;

/// Feed it a message with [`MessageScan::feed`], then [`MessageScan::finish`].
#[derive(Default)]
pub struct MessageScan {
    top_header: Vec<u8>,
    /// The first [`PREVIEW_SOURCE`] bytes after the top header block.
    body_start: Vec<u8>,
    /// Still in the top header block.
    in_top_header: bool,
    /// In a header block (the top one or a part's).
    in_header: bool,
    /// The current line so far (cut at [`MAX_LINE`]).
    line: Vec<u8>,
    /// The current header block's [`KEPT_FIELDS`], unfolded.
    fields: Vec<Vec<u8>>,
    /// The last field line was kept (so its continuation lines are too).
    last_kept: bool,
    boundaries: Vec<Vec<u8>>,
    has_attachments: bool,
    started: bool,
}

/// What a scan found.
pub struct Scanned {
    pub headers: Headers,
    pub has_attachments: bool,
    /// The row's preview line; see [`crate::preview`].
    pub preview: String,
}

impl MessageScan {
    pub fn new() -> Self {
        Self {
            in_top_header: true,
            in_header: true,
            ..Self::default()
        }
    }

    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.started = true;
        while !bytes.is_empty() {
            let (chunk, ends_line) = match bytes.iter().position(|b| *b == b'\n') {
                Some(end) => (&bytes[..=end], true),
                None => (bytes, false),
            };
            bytes = &bytes[chunk.len()..];
            if self.in_top_header && self.top_header.len() < MAX_HEADER_BLOCK {
                let room = MAX_HEADER_BLOCK - self.top_header.len();
                self.top_header
                    .extend_from_slice(&chunk[..chunk.len().min(room)]);
            } else if !self.in_top_header {
                let room = (PREVIEW_SOURCE as usize).saturating_sub(self.body_start.len());
                self.body_start
                    .extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let room = MAX_LINE.saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if ends_line {
                let line = std::mem::take(&mut self.line);
                self.take_line(trim_line_end(&line));
            }
        }
    }

    pub fn finish(mut self) -> Scanned {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.take_line(trim_line_end(&line));
        }
        if self.in_header && self.started {
            // A message that is all header (or a part cut short) still counts as a part.
            self.end_of_header();
        }
        let headers = headers(&self.top_header);
        let mut start = self.top_header;
        start.extend_from_slice(&self.body_start);
        Scanned {
            headers,
            has_attachments: self.has_attachments,
            preview: preview(&start),
        }
    }

    fn take_line(&mut self, line: &[u8]) {
        if self.in_header {
            if line.is_empty() {
                self.end_of_header();
            } else if line[0] == b' ' || line[0] == b'\t' {
                // A folded continuation of the field before, if that one is kept.
                if self.last_kept {
                    if let Some(last) = self.fields.last_mut() {
                        let room = MAX_LINE.saturating_sub(last.len());
                        last.extend_from_slice(&line[..line.len().min(room)]);
                    }
                }
            } else {
                self.last_kept = split_field(line).is_some_and(|(name, _)| {
                    KEPT_FIELDS
                        .iter()
                        .any(|k| name.eq_ignore_ascii_case(k.as_bytes()))
                }) && self.fields.len() < MAX_KEPT_FIELDS;
                if self.last_kept {
                    self.fields.push(line.to_vec());
                }
            }
            return;
        }
        let Some(rest) = line.strip_prefix(b"--") else {
            return;
        };
        let rest = trim_end(rest);
        // A delimiter opens a part, whose header block follows; a close-delimiter (`--b--`)
        // leaves the body as it is.
        if self.boundaries.iter().any(|b| rest == b.as_slice()) {
            self.in_header = true;
            self.fields.clear();
        }
    }

    /// A header block ended: what kind of part it announced.
    fn end_of_header(&mut self) {
        self.in_header = false;
        self.in_top_header = false;
        let fields = std::mem::take(&mut self.fields);
        if fields.is_empty() {
            return;
        }
        let field = |name: &str| {
            fields.iter().rev().find_map(|f| {
                let (key, value) = split_field(f)?;
                key.eq_ignore_ascii_case(name.as_bytes()).then_some(value)
            })
        };
        let content_type = field("content-type").map(lowercase).unwrap_or_default();
        let disposition = field("content-disposition")
            .map(lowercase)
            .unwrap_or_default();
        let has_content_id = field("content-id").is_some();
        let mime_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if mime_type.starts_with("multipart/") {
            if let Some(boundary) = parameter(&content_type_raw(&fields), "boundary") {
                if !boundary.is_empty() && self.boundaries.len() < MAX_BOUNDARIES {
                    self.boundaries.push(boundary);
                }
            }
            return;
        }
        let attachment_disposition = disposition.trim_start().starts_with("attachment");
        let text = mime_type.is_empty() || mime_type == "text/plain" || mime_type == "text/html";
        let inline_image = has_content_id && mime_type != "application/pdf";
        if attachment_disposition || !(text || inline_image) {
            self.has_attachments = true;
        }
    }
}

/// Strips CRLF or LF.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

fn split_field(field: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = field.iter().position(|b| *b == b':')?;
    Some((trim_end(&field[..colon]), &field[colon + 1..]))
}

fn lowercase(value: &[u8]) -> String {
    String::from_utf8_lossy(value).to_ascii_lowercase()
}

/// The Content-Type value with its case kept (boundaries are case-sensitive).
fn content_type_raw(fields: &[Vec<u8>]) -> Vec<u8> {
    fields
        .iter()
        .rev()
        .find_map(|f| {
            let (key, value) = split_field(f)?;
            key.eq_ignore_ascii_case(b"content-type")
                .then(|| value.to_vec())
        })
        .unwrap_or_default()
}

/// A `name=value` or `name="value"` parameter of a header value.
fn parameter(value: &[u8], name: &str) -> Option<Vec<u8>> {
    for param in value.split(|b| *b == b';').skip(1) {
        let Some(eq) = param.iter().position(|b| *b == b'=') else {
            continue;
        };
        let key = String::from_utf8_lossy(&param[..eq]);
        if !key.trim().eq_ignore_ascii_case(name) {
            continue;
        }
        let raw = &param[eq + 1..];
        let start = raw
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(raw.len());
        let raw = &raw[start..];
        return Some(match raw.strip_prefix(b"\"") {
            Some(quoted) => quoted
                .split(|b| *b == b'"')
                .next()
                .unwrap_or_default()
                .to_vec(),
            None => trim_end(raw).to_vec(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_in_pieces(raw: &[u8], piece: usize) -> Scanned {
        let mut scan = MessageScan::new();
        for chunk in raw.chunks(piece.max(1)) {
            scan.feed(chunk);
        }
        scan.finish()
    }

    /// The scan agrees with the full parser, whatever the pieces.
    fn agrees(raw: &[u8]) {
        let expected = crate::parse_message(raw, crate::InlineLimits::NONE)
            .attachments
            .iter()
            .any(|a| !a.inline);
        for piece in [1, 3, 7, 64, raw.len()] {
            let scanned = scan_in_pieces(raw, piece);
            assert_eq!(
                scanned.has_attachments,
                expected,
                "piece {piece}: {}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(
                scanned.headers.summary.subject,
                crate::headers(raw).summary.subject
            );
            assert_eq!(scanned.preview, crate::preview(raw), "piece {piece}");
        }
    }

    #[test]
    fn agrees_with_the_parser_on_common_shapes() {
        agrees(b"Subject: plain\r\n\r\njust text\r\n");
        agrees(b"Subject: pdf\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--B--\r\n");
        agrees(b"Subject: alt\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nx\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--a--\r\n");
        agrees(b"Subject: logo\r\nContent-Type: multipart/related;\r\n boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src=cid:l>\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <l>\r\n\r\nPNG\r\n--r--\r\n");
        agrees(b"Subject: image\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nphoto\r\n--m\r\nContent-Type: image/jpeg; name=p.jpg\r\n\r\nJPEG\r\n--m--\r\n");
    }

    #[test]
    fn the_preview_reads_only_the_start_of_a_long_body() {
        let mut raw = b"Subject: long\r\n\r\nErste Zeile\r\n".to_vec();
        raw.extend(b"viel mehr Text ".repeat(100_000));
        let scanned = scan_in_pieces(&raw, 4096);
        assert!(
            scanned.preview.starts_with("Erste Zeile viel mehr"),
            "{}",
            scanned.preview
        );
    }

    #[test]
    fn a_boundary_in_the_text_is_only_one_when_declared() {
        let raw = b"Subject: sig\r\n\r\ntext\r\n--\r\nContent-Type: application/zip\r\n\r\nnot a part\r\n";
        assert!(!scan_in_pieces(raw, 5).has_attachments);
    }

    #[test]
    fn headers_are_bounded_and_huge_lines_do_not_grow_memory() {
        let mut raw = b"Subject: big\r\n".to_vec();
        for i in 0..20_000 {
            raw.extend(format!("X-Flood-{i}: {i}\r\n").as_bytes());
        }
        raw.extend(b"\r\n");
        raw.extend(vec![b'x'; 3 << 20]);
        let mut scan = MessageScan::new();
        for chunk in raw.chunks(65_536) {
            scan.feed(chunk);
            assert!(scan.top_header.len() <= MAX_HEADER_BLOCK);
            assert!(scan.line.len() <= MAX_LINE);
        }
        let scanned = scan.finish();
        assert_eq!(scanned.headers.summary.subject, "big");
        assert!(!scanned.has_attachments);
    }
}
