//! A raw message into what the reader shows (parsed, sanitized, inline images embedded) and
//! what the store records (the streaming scan, in pieces): no panic, no script survives, and
//! the scan's header block stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let parsed = mime::parse_message(input, mime::InlineLimits::default());
    if let protocol::Body::Html { html, .. } = &parsed.body {
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{html}");
        assert!(!lower.contains(" onerror="), "{html}");
    }
    let mut scan = mime::MessageScan::new();
    for chunk in input.chunks(1 + input.len() % 97) {
        scan.feed(chunk);
    }
    let _ = scan.finish();
    let html = String::from_utf8_lossy(input);
    let clean = mime::sanitize_html(&html);
    assert!(!clean.html.to_ascii_lowercase().contains("<script"));
    let _ = mime::inline_image_ids(&clean.html);
});
