//! A raw message into what the reader shows (parsed, sanitized, inline images embedded) and
//! what the store records (the streaming scan, in pieces): no panic, no script survives, and
//! the scan's header block stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let parsed = mime::parse_message(input, mime::InlineLimits::default());
    if let protocol::Body::Html { html, .. } = &parsed.body {
        assert_safe(html);
    }
    let mut scan = mime::MessageScan::new();
    for chunk in input.chunks(1 + input.len() % 97) {
        scan.feed(chunk);
    }
    let _ = scan.finish();
    let html = String::from_utf8_lossy(input);
    let clean = mime::sanitize_html(&html);
    assert_safe(&clean.html);
    let _ = mime::inline_image_ids(&clean.html);
});

/// No script element and no event-handler attribute in any tag. The sanitizer escapes every
/// `<` in text and quotes every attribute value, so tags are found by scanning; text that
/// merely reads like a handler (`x onerror=y` in a sentence) is fine.
fn assert_safe(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    let mut in_tag = false;
    let mut in_value = false;
    let bytes = lower.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (in_tag, in_value, b) {
            (false, _, b'<') => in_tag = true,
            (true, false, b'>') => in_tag = false,
            (true, _, b'"') => in_value = !in_value,
            (true, false, b' ') => {
                let rest = &bytes[i + 1..];
                let name_len = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
                let name = &rest[..name_len];
                assert!(
                    !(name.starts_with(b"on") && rest.get(name_len) == Some(&b'=')),
                    "an event handler survived: {html}"
                );
            }
            _ => {}
        }
    }
}
