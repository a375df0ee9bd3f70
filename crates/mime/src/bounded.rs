//! Mail HTML cut down to what the HTML parser behind the sanitizer handles in linear time.
//!
//! That parser (html5ever, as any HTML5 parser) looks through its stack of open elements for
//! most tags, and compares each attribute of a tag with the ones before it: 10,000 nested
//! `<div>`s cost it half a second, and a 4 MB body of them would hold a relay thread for an
//! hour. So before it sees a body, this pass drops the markup nested deeper than [`MAX_DEPTH`],
//! the markup after the first [`MAX_ELEMENTS`] elements, and the attributes of a tag after its
//! first [`MAX_ATTRIBUTES`]. Text always stays.
//!
//! The pass reads the HTML with a small tokenizer of its own and writes back what it read in a
//! canonical form: every `<` of text escaped, every attribute value double-quoted, comments and
//! doctypes dropped, no `svg` or `math` (never shown, and their foreign-content rules would
//! nest differently). So the parser afterwards reads exactly the tags counted here, whatever
//! odd markup came in; where this tokenizer and the parser's would differ, the mail looks a
//! little different, but nothing is hidden from the count.
//!
//! The rewrite also closes every element explicitly where it ends (where the parser would
//! close it, or at the end of the body), dropping end tags that close nothing: what the parser
//! reads is nested exactly as counted. It may still close some elements earlier and add a few of
//! its own (a `<tbody>`, a bold opened again inside a block), never more than a small multiple.

/// Deeper than any real mail nests (newsletters built of tables stay under a hundred).
pub(crate) const MAX_DEPTH: usize = 256;
/// More than the biggest newsletters have (a few thousand).
pub(crate) const MAX_ELEMENTS: usize = 100_000;
pub(crate) const MAX_ATTRIBUTES: usize = 64;

/// `html`, with markup past the limits dropped, in the canonical form described above.
pub(crate) fn bounded(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut open = OpenElements::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        let (token, used) = next_token(rest);
        rest = &rest[used..];
        match token {
            Token::Text => out.push_str("&lt;"),
            Token::Dropped => {}
            Token::Start(tag) if tag.name == "plaintext" => break, // the rest is text
            Token::Start(tag) => {
                if !open.start(&mut out, &tag) {
                    continue;
                }
                if let Some(raw) = RAW_TEXT.iter().find(|raw| **raw == tag.name) {
                    // Its content is text to the parser, up to its end tag.
                    let end = raw_text_end(rest, raw);
                    push_text(&mut out, &rest[..end]);
                    rest = &rest[end..];
                }
            }
            Token::End(name) => open.end(&mut out, &name),
        }
    }
    push_text(&mut out, rest);
    open.close_all(&mut out);
    out
}

/// Text, with every `<` escaped: the parser then sees no tag in it.
fn push_text(out: &mut String, text: &str) {
    let mut parts = text.split('<');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str("&lt;");
        out.push_str(part);
    }
}

fn write_start(out: &mut String, tag: &StartTag) {
    out.push('<');
    out.push_str(&tag.name);
    for (name, value) in &tag.attributes {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&value.replace('"', "&quot;"));
        out.push('"');
    }
    out.push('>');
}

enum Token {
    /// A `<` that starts no markup.
    Text,
    /// Markup that is not written back: comments, doctypes, processing instructions, `</>`,
    /// `svg` and `math`, and a tag cut off by the end of the body (the parser drops those too).
    Dropped,
    Start(StartTag),
    End(String),
}

struct StartTag {
    /// Lower case, as the parser reads it.
    name: String,
    /// The first [`MAX_ATTRIBUTES`] with names a sanitizer could keep; values as written
    /// (character references left to the parser).
    attributes: Vec<(String, String)>,
}

/// The token at the `<` that starts `input`, and how many bytes it takes.
fn next_token(input: &str) -> (Token, usize) {
    let bytes = input.as_bytes();
    let after = |pattern: &str, from: usize| {
        input[from..]
            .find(pattern)
            .map_or(input.len(), |at| from + at + pattern.len())
    };
    match bytes.get(1) {
        Some(b'!') if input.starts_with("<!--") => {
            let used = if input.starts_with("<!-->") {
                5
            } else if input.starts_with("<!--->") {
                6
            } else {
                after("-->", 4)
            };
            (Token::Dropped, used)
        }
        Some(b'!' | b'?') => (Token::Dropped, after(">", 1)),
        Some(b'/') => match bytes.get(2) {
            Some(b'>') => (Token::Dropped, 3),
            Some(c) if c.is_ascii_alphabetic() => match read_tag(input, 2) {
                Some((tag, used)) if is_foreign(&tag.name) => (Token::Dropped, used),
                Some((tag, used)) => (Token::End(tag.name), used),
                None => (Token::Dropped, input.len()),
            },
            Some(_) => (Token::Dropped, after(">", 2)),
            None => (Token::Text, 1),
        },
        Some(c) if c.is_ascii_alphabetic() => match read_tag(input, 1) {
            Some((tag, used)) if is_foreign(&tag.name) => (Token::Dropped, used),
            Some((tag, used)) => (Token::Start(tag), used),
            None => (Token::Dropped, input.len()),
        },
        _ => (Token::Text, 1),
    }
}

fn is_foreign(name: &str) -> bool {
    name == "svg" || name == "math"
}

fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Reads a tag whose name starts at `from`, as the HTML tokenizer does (quotes open a value
/// only after `=`); `None` if the input ends inside it.
fn read_tag(input: &str, from: usize) -> Option<(StartTag, usize)> {
    let bytes = input.as_bytes();
    let mut at = from;
    while at < bytes.len() && !is_space(bytes[at]) && bytes[at] != b'/' && bytes[at] != b'>' {
        at += 1;
    }
    let name = input[from..at].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (is_space(bytes[at]) || bytes[at] == b'/') {
            at += 1;
        }
        match bytes.get(at) {
            None => return None,
            Some(b'>') => return Some((StartTag { name, attributes }, at + 1)),
            Some(_) => {}
        }
        // The first character of a name may be `=`; after it, `=` starts the value.
        let name_start = at;
        at += 1;
        while at < bytes.len() && !matches!(bytes[at], b'/' | b'>' | b'=') && !is_space(bytes[at]) {
            at += 1;
        }
        let attribute = &input[name_start..at];
        while at < bytes.len() && is_space(bytes[at]) {
            at += 1;
        }
        let mut value = "";
        if bytes.get(at) == Some(&b'=') {
            at += 1;
            while at < bytes.len() && is_space(bytes[at]) {
                at += 1;
            }
            match bytes.get(at) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let end = at + 1 + input[at + 1..].find(quote as char)?;
                    value = &input[at + 1..end];
                    at = end + 1;
                }
                _ => {
                    let start = at;
                    while at < bytes.len() && !is_space(bytes[at]) && bytes[at] != b'>' {
                        at += 1;
                    }
                    value = &input[start..at];
                }
            }
        }
        let plain_name = attribute
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
        if plain_name && attributes.len() < MAX_ATTRIBUTES {
            attributes.push((attribute.to_ascii_lowercase(), value.to_owned()));
        }
    }
}

/// Elements whose content the parser reads as text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Where the content of the raw-text element `name` that `rest` starts in ends: at its end tag
/// (`</name` followed by a space, `/` or `>`, in any case), or at the end of the body.
fn raw_text_end(rest: &str, name: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(at) = rest[from..].find("</").map(|at| from + at) {
        let name_end = at + 2 + name.len();
        let named = bytes
            .get(at + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if named
            && bytes
                .get(name_end)
                .is_none_or(|&c| is_space(c) || c == b'/' || c == b'>')
        {
            return at;
        }
        from = at + 2;
    }
    rest.len()
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame",
];

/// Elements an end tag of another element does not close past ("default scope").
const SCOPE: &[&str] = &[
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
];
const TABLE_SCOPE: &[&str] = &["html", "table", "template"];

/// Start tags that end an open `<p>` just before them.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "hr",
    "xmp",
    "dd",
    "dt",
    "li",
];

/// The elements a start tag `name` ends when one of them is the innermost open element.
fn ended_by(name: &str) -> &'static [&'static str] {
    match name {
        "li" => &["li", "p"],
        "dd" | "dt" => &["dd", "dt", "p"],
        "option" | "optgroup" => &["option"],
        "td" | "th" => &["td", "th"],
        "tr" => &["td", "th", "tr"],
        "tbody" | "thead" | "tfoot" => &["td", "th", "tr", "tbody", "thead", "tfoot"],
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["p", "h1", "h2", "h3", "h4", "h5", "h6"],
        _ if CLOSES_P.contains(&name) => &["p"],
        _ => &[],
    }
}

/// The elements open at this point of the rewritten body. The rewrite closes each of them
/// explicitly (where the parser would close it, and at the latest at the end), so what the
/// parser reads is nested exactly as this stack says: the parser may close some elements
/// earlier, and add a few of its own (a `<tbody>`, a formatting element opened again inside a
/// block), but never nests more than a small multiple of `MAX_DEPTH`.
#[derive(Default)]
struct OpenElements {
    stack: Vec<String>,
    /// Start tags dropped for depth whose end tags have not come yet.
    dropped: usize,
    elements: usize,
}

impl OpenElements {
    /// Writes the start tag, after the end tags of the elements it ends; whether it was kept.
    fn start(&mut self, out: &mut String, tag: &StartTag) -> bool {
        let name = tag.name.as_str();
        if self.elements >= MAX_ELEMENTS || matches!(name, "html" | "head" | "body") {
            return false;
        }
        while self
            .stack
            .last()
            .is_some_and(|top| ended_by(name).contains(&top.as_str()))
        {
            self.close_innermost(out);
        }
        let void = VOID.contains(&name);
        if !void && self.stack.len() >= MAX_DEPTH {
            self.dropped += 1;
            return false;
        }
        self.elements += 1;
        write_start(out, tag);
        if !void {
            self.stack.push(name.to_owned());
        }
        true
    }

    /// Writes the end tag `name`, and those of the elements inside it still open, if it
    /// closes an open element (else drops it).
    fn end(&mut self, out: &mut String, name: &str) {
        if self.elements >= MAX_ELEMENTS {
            return;
        }
        if self.dropped > 0 {
            self.dropped -= 1;
            return;
        }
        let scope: &[&str] = match name {
            "tr" | "td" | "th" | "tbody" | "thead" | "tfoot" | "table" | "caption" => TABLE_SCOPE,
            _ => SCOPE,
        };
        let mut found = None;
        for (at, open) in self.stack.iter().enumerate().rev() {
            if open == name {
                found = Some(at);
                break;
            }
            if scope.contains(&open.as_str())
                || (name == "li" && matches!(open.as_str(), "ol" | "ul"))
                || (name == "p" && open == "button")
            {
                break;
            }
        }
        if let Some(at) = found {
            while self.stack.len() > at {
                self.close_innermost(out);
            }
        }
    }

    fn close_innermost(&mut self, out: &mut String) {
        if let Some(name) = self.stack.pop() {
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
        }
    }

    /// At the end of the body: closes what is still open.
    fn close_all(&mut self, out: &mut String) {
        while !self.stack.is_empty() {
            self.close_innermost(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_kept() {
        let html = r#"<table width="100%"><tr><td class=x>a &amp; b</td></tr></table><p>one<p>two<ul><li>x<li>y</ul>"#;
        assert_eq!(
            bounded(html),
            r#"<table width="100%"><tr><td class="x">a &amp; b</td></tr></table><p>one</p><p>two</p><ul><li>x</li><li>y</li></ul>"#
        );
    }

    #[test]
    fn text_never_turns_into_markup() {
        assert_eq!(bounded("a < b <3 <"), "a &lt; b &lt;3 &lt;");
        assert_eq!(
            bounded(r#"<p title='say "hi"' =odd data-x=1>x"#),
            r#"<p title="say &quot;hi&quot;" data-x="1">x</p>"#
        );
        // Quotes open a value only after `=`, as the parser reads them.
        assert_eq!(bounded(r#"<p "a>b</p>"#), r#"<p>b</p>"#);
        assert_eq!(
            bounded("<style>a<b{}</style >x"),
            "<style>a&lt;b{}</style>x"
        );
        assert_eq!(
            bounded("<!-- <p> -->x<!doctype html><?php ?></>y</div>"),
            "xy"
        );
        assert_eq!(bounded("<b><i>x</b>y"), "<b><i>x</i></b>y");
        assert_eq!(bounded("<svg><g>x</g></svg>"), "<g>x</g>");
        assert_eq!(bounded("x<p class='cut off"), "x");
    }

    #[test]
    fn deep_nesting_is_cut_and_its_text_kept() {
        let html = format!(
            "{}deep{}after",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let out = bounded(&html);
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains("deep</div>") && out.ends_with("</div>after"));
    }

    #[test]
    fn many_attributes_are_cut() {
        let attributes: String = (0..1000).map(|i| format!(" a{i}=1")).collect();
        let out = bounded(&format!("<p{attributes}>x</p>"));
        assert_eq!(out.matches('=').count(), MAX_ATTRIBUTES);
    }

    /// Nesting the parser builds from tag soup stays within a small multiple of what was counted,
    /// whichever way the soup is mixed: checked on what the sanitizer (the parser and its
    /// serialisation) writes out.
    #[test]
    fn the_parser_never_nests_much_deeper_than_counted() {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<b>",
            "</b>",
            "<i id=1>",
            "</i>",
            "<a href=x>",
            "</a>",
            "<ul>",
            "<li>",
            "</li>",
            "</ul>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</tr>",
            "</table>",
            "<span>",
            "</span>",
            "<font color=red>",
            "</font>",
            "<svg>",
            "<select>",
            "<option>",
            "<h1>",
            "<blockquote>",
            "<tbody>",
            "x",
            "<br>",
            "<button>",
            "<object>",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..8 {
            let mut soup = String::new();
            for _ in 0..20_000 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                soup.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            }
            let out = crate::sanitize_html(&soup).html;
            assert!(depth(&out) <= 3 * MAX_DEPTH + 8, "{} deep", depth(&out));
        }
        for soup in [
            "<div>".repeat(20_000),
            "<b><div></b>x".repeat(20_000),
            "<ul><li>x".repeat(20_000),
            "<p><b id=1></p>x".repeat(20_000),
            "<table><tr><td>".repeat(20_000),
        ] {
            let out = crate::sanitize_html(&soup).html;
            assert!(
                depth(&out) <= 3 * MAX_DEPTH + 8,
                "{} deep: {}",
                depth(&out),
                &soup[..40]
            );
        }
    }

    /// How deep the elements of well-formed HTML (the sanitizer's output) nest.
    pub(super) fn depth(html: &str) -> usize {
        let (mut now, mut most) = (0usize, 0usize);
        for (at, _) in html.match_indices('<') {
            let tag = &html[at + 1..];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if VOID.contains(&name.as_str()) {
                continue;
            }
            if tag.starts_with('/') {
                now = now.saturating_sub(1);
            } else {
                now += 1;
                most = most.max(now);
            }
        }
        most
    }
}
