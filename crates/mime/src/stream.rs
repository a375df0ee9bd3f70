//! Undoing a transfer encoding piece by piece, for attachments streamed in chunks: no chunk
//! boundary (inside a base64 quad, a `=XX` escape or a soft line break) changes the result.

/// Content-Transfer-Encoding of a part being streamed.
#[derive(Debug)]
pub enum StreamDecoder {
    /// 7bit, 8bit, binary, or anything unknown: passed through.
    Identity,
    Base64 {
        carry: Vec<u8>,
    },
    QuotedPrintable {
        carry: Vec<u8>,
    },
}

impl StreamDecoder {
    pub fn new(encoding: &str) -> Self {
        match encoding.trim().to_ascii_lowercase().as_str() {
            "base64" => Self::Base64 { carry: Vec::new() },
            "quoted-printable" => Self::QuotedPrintable { carry: Vec::new() },
            _ => Self::Identity,
        }
    }

    /// Decodes what can be decoded of `chunk` (plus what was held back before).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        match self {
            Self::Identity => chunk.to_vec(),
            Self::Base64 { carry } => {
                carry.extend(chunk.iter().copied().filter(|b| is_base64(*b)));
                let whole = carry.len() / 4 * 4;
                let out = base64_decode(&carry[..whole]);
                carry.drain(..whole);
                out
            }
            Self::QuotedPrintable { carry } => {
                carry.extend_from_slice(chunk);
                let (out, used) = qp_decode(carry, false);
                carry.drain(..used);
                out
            }
        }
    }

    /// Decodes whatever was held back at the end of the part.
    pub fn finish(&mut self) -> Vec<u8> {
        match self {
            Self::Identity => Vec::new(),
            Self::Base64 { carry } => {
                // Lenient like mail clients: a truncated final quad decodes what it can.
                let out = base64_decode(carry);
                carry.clear();
                out
            }
            Self::QuotedPrintable { carry } => {
                let (out, _) = qp_decode(carry, true);
                carry.clear();
                out
            }
        }
    }
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Decodes base64 digits (padding and whitespace already removed); a trailing partial quad
/// yields the bytes it holds.
fn base64_decode(digits: &[u8]) -> Vec<u8> {
    let value = |b: u8| -> u32 {
        match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    for quad in digits.chunks(4) {
        let mut n = 0u32;
        for (i, b) in quad.iter().enumerate() {
            n |= value(*b) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let keep = match quad.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[1..1 + keep]);
    }
    out
}

/// Decodes quoted-printable; returns the bytes and how much of `input` was used. Unless `last`,
/// an escape or line break cut by the end of `input` is left for the next chunk.
fn qp_decode(input: &[u8], last: bool) -> (Vec<u8>, usize) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] != b'=' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        match (input.get(i + 1), input.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(a), Some(b)) if hex(*a).is_some() && hex(*b).is_some() => {
                out.push(hex(*a).unwrap_or(0) << 4 | hex(*b).unwrap_or(0));
                i += 3;
            }
            (None, _) | (Some(_), None) if !last => return (out, i),
            (Some(b'\r'), None) if last => i += 2,
            _ => {
                // Not an escape after all: keep the `=` as written.
                out.push(b'=');
                i += 1;
            }
        }
    }
    (out, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `encoded` in pieces of every size from 1 to its length.
    fn every_split(encoding: &str, encoded: &[u8]) -> Vec<Vec<u8>> {
        (1..=encoded.len())
            .map(|size| {
                let mut decoder = StreamDecoder::new(encoding);
                let mut out = Vec::new();
                for piece in encoded.chunks(size) {
                    out.extend(decoder.push(piece));
                }
                out.extend(decoder.finish());
                out
            })
            .collect()
    }

    #[test]
    fn base64_across_any_split() {
        let encoded = b"R3LDvMOfZSBhdXMg\r\nTcO8bmNoZW4h\r\n";
        for decoded in every_split("base64", encoded) {
            assert_eq!(decoded, "Grüße aus München!".as_bytes());
        }
        let padded = b"YWI=\r\n";
        for decoded in every_split("BASE64", padded) {
            assert_eq!(decoded, b"ab");
        }
    }

    #[test]
    fn quoted_printable_across_any_split() {
        let encoded = b"Gr=C3=BC=C3=9Fe, das ist eine sehr lange Zeile, die umbrochen wird =\r\nund weiter=\ngeht. 2+2=3D4 =XY";
        for decoded in every_split("quoted-printable", encoded) {
            assert_eq!(
                String::from_utf8(decoded).unwrap(),
                "Grüße, das ist eine sehr lange Zeile, die umbrochen wird und weitergeht. 2+2=4 =XY"
            );
        }
    }

    #[test]
    fn identity_passes_through() {
        for decoded in every_split("8bit", b"raw\r\nbytes") {
            assert_eq!(decoded, b"raw\r\nbytes");
        }
    }
}
