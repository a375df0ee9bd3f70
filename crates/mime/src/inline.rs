//! Inline images (`cid:`) put into a body before it leaves the relay, so the browser builds
//! the body's document once and fetches nothing for it. Only the images the sanitized HTML
//! shows are taken, only types a browser may render, and no more than [`InlineLimits`] allow;
//! the rest stay `cid:` references, which the body's policy does not load.

use base64::Engine;

/// How much of a message's inline images is embedded into its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlineLimits {
    /// Images per message.
    pub count: usize,
    /// Decoded bytes of all of them together.
    pub bytes: usize,
}

impl InlineLimits {
    /// None at all: for reading a message's text (search) rather than showing it.
    pub const NONE: Self = Self { count: 0, bytes: 0 };
}

impl Default for InlineLimits {
    fn default() -> Self {
        Self {
            count: 50,
            bytes: 5_000_000,
        }
    }
}

/// Image types a browser may show inline; anything else (SVG with its scripts, for one) never.
pub const PREVIEWABLE: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// One candidate part: its Content-ID (without brackets), type, and size as stored.
pub struct InlinePart<'a, K> {
    pub content_id: &'a str,
    pub mime_type: &'a str,
    pub size: usize,
    /// Whatever the caller needs to fetch the part (an IMAP section, an index).
    pub key: K,
}

/// The parts to embed, in the order the body shows them: referenced by `wanted` (the body's
/// Content-IDs), previewable, within `limits` (by `size`, which is about 4/3 of the decoded
/// size for base64: a conservative measure).
pub fn choose<'a, K>(
    wanted: &[String],
    parts: impl IntoIterator<Item = InlinePart<'a, K>>,
    limits: InlineLimits,
) -> Vec<(String, InlinePart<'a, K>)> {
    let mut parts: Vec<InlinePart<'a, K>> = parts
        .into_iter()
        .filter(|p| PREVIEWABLE.contains(&p.mime_type))
        .collect();
    let mut chosen = Vec::new();
    let mut bytes = 0usize;
    for id in wanted {
        if chosen.len() == limits.count {
            break;
        }
        let Some(i) = parts.iter().position(|p| p.content_id == id) else {
            continue;
        };
        if bytes + parts[i].size > limits.bytes {
            continue;
        }
        bytes += parts[i].size;
        chosen.push((id.clone(), parts.swap_remove(i)));
    }
    chosen
}

/// A `data:` URL for decoded image bytes.
pub fn data_url(mime_type: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime_type};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: &str, mime_type: &'static str, size: usize) -> InlinePart<'static, String> {
        InlinePart {
            content_id: Box::leak(id.to_owned().into_boxed_str()),
            mime_type,
            size,
            key: id.to_owned(),
        }
    }

    fn keys(chosen: Vec<(String, InlinePart<'static, String>)>) -> Vec<String> {
        chosen.into_iter().map(|(_, p)| p.key).collect()
    }

    #[test]
    fn only_shown_previewable_images_within_the_limits() {
        let wanted: Vec<String> = ["a", "svg", "b", "c", "d"].map(String::from).into();
        let parts = vec![
            part("unused", "image/png", 10),
            part("a", "image/png", 10),
            part("svg", "image/svg+xml", 10),
            part("b", "image/jpeg", 50),
            part("c", "image/gif", 10),
            part("d", "image/webp", 10),
        ];
        let limits = InlineLimits {
            count: 2,
            bytes: 1000,
        };
        assert_eq!(keys(choose(&wanted, parts, limits)), ["a", "b"]);
        let parts = vec![
            part("a", "image/png", 60),
            part("b", "image/png", 50),
            part("c", "image/png", 40),
        ];
        let limits = InlineLimits {
            count: 10,
            bytes: 100,
        };
        assert_eq!(
            keys(choose(&wanted, parts, limits)),
            ["a", "c"],
            "b would go over the size limit"
        );
    }
}
