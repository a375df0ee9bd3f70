//! Simple formatting for a message written as text: `**bold**`, `_italic_`, `[a link](https://…)`,
//! lists (`- `), quotes (`> `) and paragraphs become the HTML part of a multipart/alternative,
//! whose text part is the text as written (these marks read well as they are). Everything else is
//! escaped, so nothing the user types becomes markup of its own.

/// The HTML part for `text`.
pub fn to_html(text: &str) -> String {
    let mut html = String::from("<!DOCTYPE html><html><body>");
    let text = text.replace("\r\n", "\n");
    for block in text
        .split("\n\n")
        .map(str::trim_end)
        .filter(|b| !b.trim().is_empty())
    {
        let lines: Vec<&str> = block.lines().collect();
        if lines.iter().all(|l| l.starts_with('>')) {
            let inner: Vec<&str> = lines
                .iter()
                .map(|l| l.strip_prefix("> ").unwrap_or(&l[1..]))
                .collect();
            html.push_str("<blockquote>");
            html.push_str(&lines_html(&inner));
            html.push_str("</blockquote>");
        } else if lines
            .iter()
            .all(|l| l.starts_with("- ") || l.starts_with("* "))
        {
            html.push_str("<ul>");
            for line in lines {
                html.push_str("<li>");
                html.push_str(&inline(&line[2..]));
                html.push_str("</li>");
            }
            html.push_str("</ul>");
        } else {
            html.push_str("<p>");
            html.push_str(&lines_html(&lines));
            html.push_str("</p>");
        }
    }
    html.push_str("</body></html>");
    html
}

fn lines_html(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| inline(l))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// One line: escaped, with bold, italic and links.
fn inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut rest = line;
    let (mut bold, mut italic) = (false, false);
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            if bold || after.contains("**") {
                out.push_str(if bold { "</strong>" } else { "<strong>" });
                bold = !bold;
                rest = after;
                continue;
            }
        }
        if c == '_' && (italic || rest[1..].contains('_')) && word_edge(&out, italic) {
            out.push_str(if italic { "</em>" } else { "<em>" });
            italic = !italic;
            rest = &rest[1..];
            continue;
        }
        if c == '[' {
            if let Some((label, url, after)) = link(rest) {
                out.push_str(&format!(
                    "<a href=\"{}\">{}</a>",
                    escape(url),
                    escape(label)
                ));
                rest = after;
                continue;
            }
        }
        out.push_str(&escape(&c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    if italic {
        out.push_str("</em>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// `_` opens emphasis at the start of a word and closes it at the end of one, so that
/// `snake_case_names` stay as they are.
fn word_edge(before: &str, closing: bool) -> bool {
    closing
        || before
            .chars()
            .last()
            .is_none_or(|c| c.is_whitespace() || c == '(' || c == '>')
}

/// `[label](url)` with an http, https or mailto URL.
fn link(text: &str) -> Option<(&str, &str, &str)> {
    let close = text.find("](")?;
    let label = &text[1..close];
    let after = &text[close + 2..];
    let end = after.find(')')?;
    let url = &after[..end];
    let allowed = ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| url.to_ascii_lowercase().starts_with(scheme));
    (allowed && !label.is_empty() && !url.contains(char::is_whitespace))
        .then(|| (label, url, &after[end + 1..]))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(html: &str) -> &str {
        html.trim_start_matches("<!DOCTYPE html><html><body>")
            .trim_end_matches("</body></html>")
    }

    #[test]
    fn marks_become_html_and_everything_else_is_escaped() {
        let html = to_html("Hallo **Bob**, das ist _wichtig_.\nSiehe [den Plan](https://example.org/plan?a=1&b=2).\n\n- Brot\n- <Käse>\n\n> zitiert\n> weiter");
        assert_eq!(
            body(&html),
            "<p>Hallo <strong>Bob</strong>, das ist <em>wichtig</em>.<br>Siehe <a href=\"https://example.org/plan?a=1&amp;b=2\">den Plan</a>.</p>\
<ul><li>Brot</li><li>&lt;Käse&gt;</li></ul><blockquote>zitiert<br>weiter</blockquote>"
        );
    }

    #[test]
    fn nothing_typed_becomes_markup_or_a_script_link() {
        let html =
            to_html("<script>alert(1)</script> [x](javascript:alert(1)) snake_case_name \"q\"");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("snake_case_name"), "{html}");
        assert!(html.contains("&quot;q&quot;"));
        // Unclosed marks are closed at the end of their line.
        assert_eq!(body(&to_html("**offen")), "<p>**offen</p>");
    }
}
