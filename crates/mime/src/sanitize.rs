//! Mail HTML, made safe to show: an allowlist of tags, attributes and CSS properties (ammonia),
//! links that open in a new tab without a referrer, and remote images held back until the user
//! allows them. The app shows the result in a sandboxed iframe without scripts under a strict CSP;
//! this is the first of those layers, not the only one.

use std::sync::LazyLock;

use ammonia::Builder;

use crate::bounded::bounded;

#[derive(Debug, Clone, PartialEq)]
pub struct SanitizedHtml {
    pub html: String,
    /// Remote images were found; their addresses are in `data-remote-src`, without `src`.
    pub remote_content: bool,
}

const TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

const GENERIC_ATTRIBUTES: &[&str] = &["style", "dir", "lang", "title", "align", "class"];

const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href"]),
    ("img", &["src", "alt", "width", "height"]),
    (
        "table",
        &["width", "border", "cellpadding", "cellspacing", "bgcolor"],
    ),
    (
        "td",
        &["colspan", "rowspan", "valign", "width", "height", "bgcolor"],
    ),
    (
        "th",
        &["colspan", "rowspan", "valign", "width", "height", "bgcolor"],
    ),
    ("tr", &["valign", "bgcolor"]),
    ("col", &["span", "width"]),
    ("font", &["color", "face", "size"]),
    ("ol", &["start", "type"]),
];

/// CSS properties kept in `style` attributes. None of them takes a `url()`.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "text-align",
    "text-decoration",
    "text-transform",
    "text-indent",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "white-space",
    "vertical-align",
    "direction",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "height",
    "max-width",
    "min-width",
    "max-height",
    "display",
    "list-style-type",
    "table-layout",
];

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect()))
                .collect(),
        )
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .url_schemes(
            ["http", "https", "mailto", "cid", "data"]
                .into_iter()
                .collect(),
        )
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .clean_content_tags(["script", "style", "title", "head"].into_iter().collect())
        .strip_comments(true)
        .attribute_filter(|element, attribute, value| {
            let lower = value.to_ascii_lowercase();
            match (element, attribute) {
                // CSS escapes could spell `url(` past any check; a style with one is dropped.
                (_, "style")
                    if lower.contains("url(")
                        || lower.contains("expression")
                        || value.contains('\\') =>
                {
                    None
                }
                // `data:` only for images (inline pictures); never as a link target.
                ("a", "href") if lower.trim_start().starts_with("data:") => None,
                ("img", "src")
                    if lower.trim_start().starts_with("data:")
                        && !lower.trim_start().starts_with("data:image/") =>
                {
                    None
                }
                _ => Some(value.into()),
            }
        });
    builder
});

/// Cleans one HTML body.
pub fn sanitize_html(html: &str) -> SanitizedHtml {
    let clean = CLEANER.clean(&bounded(html)).to_string();
    let mut remote_content = false;
    // Remote images are held back: `src="http…"` becomes `data-remote-src="http…"`.
    let html = rewrite_sources(&clean, |value| {
        let lower = value.trim_start().to_ascii_lowercase();
        if lower.starts_with("http:") || lower.starts_with("https:") {
            remote_content = true;
            Source::HoldBack
        } else {
            Source::Keep
        }
    });
    SanitizedHtml {
        html,
        remote_content,
    }
}

/// The Content-IDs a sanitized body shows by `cid:`, each once, in order of appearance.
pub fn inline_image_ids(html: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    rewrite_sources(html, |value| {
        if let Some(id) = content_id(value) {
            if !ids.iter().any(|known| *known == id) {
                ids.push(id.to_owned());
            }
        }
        Source::Keep
    });
    ids
}

/// Puts images into a sanitized body: each `src="cid:<id>"` whose id is in `images` gets that
/// `data:` URL instead (an attribute value, never text or markup).
pub fn embed_inline_images(html: &str, images: &[(String, String)]) -> String {
    rewrite_sources(html, |value| {
        let image = content_id(value).and_then(|id| images.iter().find(|(cid, _)| cid == id));
        match image {
            Some((_, data_url)) if is_data_image(data_url) => Source::Replace(data_url.clone()),
            _ => Source::Keep,
        }
    })
}

/// `cid:<id>` as ammonia writes it; the id as the part's Content-ID has it.
fn content_id(value: &str) -> Option<&str> {
    let id = value.strip_prefix("cid:")?;
    Some(id.trim_matches(['<', '>']))
}

/// Only `data:image/...;base64,` with base64 characters can stand in an attribute unescaped.
fn is_data_image(url: &str) -> bool {
    url.split_once(";base64,").is_some_and(|(head, data)| {
        head.starts_with("data:image/")
            && head[11..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'+' || b == b'-')
            && data
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    })
}

/// What to do with one `src` attribute.
enum Source {
    Keep,
    /// Renamed to `data-remote-src`, so nothing loads until the user allows it.
    HoldBack,
    Replace(String),
}

/// Visits every `src="…"` attribute of ammonia's serialisation and rewrites it as `decide` says.
///
/// ammonia escapes every `<` in text, double-quotes every attribute value and escapes every `"`
/// inside one: so a small scanner that tracks "in text / in a tag / in a quoted value" finds
/// exactly the attributes, never text that looks like one.
fn rewrite_sources(html: &str, mut decide: impl FnMut(&str) -> Source) -> String {
    const SRC: &str = " src=\"";
    enum At {
        Text,
        Tag,
        Value,
    }
    let mut out = String::with_capacity(html.len());
    let mut at = At::Text;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if matches!(at, At::Tag) && rest.starts_with(SRC) {
            let value_start = SRC.len();
            let Some(value_len) = rest[value_start..].find('"') else {
                break; // not ammonia's output; the rest is dropped rather than guessed at
            };
            let value = &rest[value_start..value_start + value_len];
            match decide(value) {
                Source::Keep => {
                    out.push_str(SRC);
                    out.push_str(value);
                }
                Source::HoldBack => {
                    out.push_str(" data-remote-src=\"");
                    out.push_str(value);
                }
                Source::Replace(new) => {
                    out.push_str(SRC);
                    out.push_str(&new);
                }
            }
            out.push('"');
            rest = &rest[value_start + value_len + 1..];
            continue;
        }
        at = match (at, c) {
            (At::Text, '<') => At::Tag,
            (At::Tag, '"') => At::Value,
            (At::Tag, '>') => At::Text,
            (At::Value, '"') => At::Tag,
            (state, _) => state,
        };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize_html(html).html
    }

    #[test]
    fn scripts_handlers_and_active_content_go() {
        let out = clean(
            r#"<p onclick="x()">hi<script>alert(1)</script></p><img src=x onerror=alert(1)>
<iframe src="https://evil.example"></iframe><object data="x"></object><form><input></form>
<svg><script>alert(1)</script></svg><math><mi>x</mi></math><a href="javascript:alert(1)">j</a>
<style>body{background:url(https://t.example/p)}</style><meta http-equiv="refresh" content="0">"#,
        );
        for bad in [
            "script",
            "onclick",
            "onerror",
            "iframe",
            "object",
            "form",
            "input",
            "svg",
            "math",
            "javascript",
            "style>",
            "meta",
            "url(",
        ] {
            assert!(!out.to_lowercase().contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("<p>hi</p>"), "{out}");
    }

    #[test]
    fn css_keeps_layout_but_never_loads_anything() {
        let out = clean(
            r#"<p style="color: red; background-image: url(https://t.example/p); position: fixed">a</p>
<p style="color: blue; background: u\72l(https://t.example/q)">b</p><div style="font-weight: bold">c</div>"#,
        );
        assert!(!out.contains("t.example"), "{out}");
        assert!(!out.contains("position"), "{out}");
        assert!(out.contains("font-weight"), "{out}");
    }

    #[test]
    fn links_open_in_a_new_tab_without_referrer() {
        let out = clean(r#"<a href="https://example.org/x">x</a>"#);
        assert!(out.contains(r#"href="https://example.org/x""#), "{out}");
        assert!(out.contains(r#"rel="noopener noreferrer""#), "{out}");
        assert!(out.contains(r#"target="_blank""#), "{out}");
    }

    #[test]
    fn remote_images_are_held_back_inline_ones_stay() {
        let result = sanitize_html(
            r#"<img src="https://tracker.example/p.gif" alt="t"><img src="cid:logo@x"><img src="data:image/png;base64,iVBORw0KGgo=">"#,
        );
        assert!(result.remote_content);
        assert!(!result.html.contains(r#" src="https"#), "{}", result.html);
        assert!(result
            .html
            .contains(r#"data-remote-src="https://tracker.example/p.gif""#));
        assert!(result.html.contains(r#"src="cid:logo@x""#));
        assert!(result.html.contains(r#"src="data:image/png"#));
        assert!(!sanitize_html("<p>no images</p>").remote_content);
    }

    #[test]
    fn text_that_looks_like_an_attribute_is_not_touched() {
        let result = sanitize_html(r#"<p>write src="http://x" in your page</p>"#);
        assert!(!result.remote_content);
        assert!(result.html.contains(r#"src="http://x""#), "{}", result.html);
        let result = sanitize_html(r#"<img alt='a "> src="http://y' src="cid:z">"#);
        assert!(!result.remote_content, "{}", result.html);
    }

    #[test]
    fn remote_images_are_held_back_whatever_the_case() {
        let result = sanitize_html(r#"<IMG SRC="HTTPS://track.example/b"><img src=" http://x/y">"#);
        assert!(result.remote_content);
        assert!(!result.html.contains(" src="), "{}", result.html);
    }

    #[test]
    fn inline_images_are_found_and_embedded_as_attribute_values() {
        let html = sanitize_html(
            r#"<p>cid:a in text</p><img src="cid:a@x"><img src="cid:b@x"><img src="cid:a@x"><img src="cid:missing">"#,
        )
        .html;
        assert_eq!(inline_image_ids(&html), ["a@x", "b@x", "missing"]);
        let png = "data:image/png;base64,iVBORw0KGgo=".to_owned();
        let embedded = embed_inline_images(
            &html,
            &[
                ("a@x".into(), png.clone()),
                // Anything but a base64 image is refused.
                (
                    "b@x".into(),
                    "data:image/png;base64,\"><script>x</script>".into(),
                ),
            ],
        );
        assert_eq!(embedded.matches(&png).count(), 2, "{embedded}");
        assert!(embedded.contains(r#"src="cid:b@x""#), "{embedded}");
        assert!(embedded.contains(r#"src="cid:missing""#));
        assert!(embedded.contains("<p>cid:a in text</p>"));
        assert!(!embedded.contains("<script"));
    }

    #[test]
    fn text_that_reads_like_a_handler_stays_text() {
        // Found by fuzz/mime_view (its check was naive): a handler on the tag goes, the same
        // words in the text stay as text.
        let out = clean("<p onclick>hxi=\u{116} onerror=\u{2019}roipn");
        assert_eq!(out, "<p>hxi=\u{116} onerror=\u{2019}roipn</p>");
    }

    #[test]
    fn data_links_and_non_image_data_go() {
        let out = clean(
            r#"<a href="data:text/html,<script>alert(1)</script>">d</a><img src="data:text/html,x">"#,
        );
        assert!(!out.contains("data:"), "{out}");
    }
}
