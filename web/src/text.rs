//! Plain-text bodies as views: text stays text (Leptos escapes it), web addresses become links
//! that open in a new tab, and quoted blocks (`>` lines) fold away.

use leptos::prelude::*;

/// Splits a body into runs of quoted and unquoted lines.
pub fn blocks(text: &str) -> Vec<(bool, String)> {
    let mut blocks: Vec<(bool, String)> = Vec::new();
    for line in text.lines() {
        let quoted = line.trim_start().starts_with('>');
        match blocks.last_mut() {
            Some((q, block)) if *q == quoted => {
                block.push('\n');
                block.push_str(line);
            }
            _ => blocks.push((quoted, line.to_owned())),
        }
    }
    blocks
}

/// Text with `http(s)://` addresses as links.
pub fn linkified(text: &str) -> impl IntoView {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        let (before, from_url) = rest.split_at(start);
        let end = from_url
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(from_url.len());
        // A sentence's closing punctuation is not part of the address.
        let url = from_url[..end].trim_end_matches(['.', ',', ')', ';', ':', '!', '?']);
        parts.push(before.to_owned().into_any());
        let href = url.to_owned();
        parts.push(
            view! { <a href=href target="_blank" rel="noopener noreferrer">{url.to_owned()}</a> }
                .into_any(),
        );
        rest = &from_url[url.len()..];
    }
    parts.push(rest.to_owned().into_any());
    parts
}

fn find_url(text: &str) -> Option<usize> {
    match (text.find("https://"), text.find("http://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
