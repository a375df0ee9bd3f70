//! The Content-Security-Policy of the app's own pages.
//!
//! Trunk starts the app with one inline module script in index.html. Rather than allowing inline
//! scripts in general, the policy allows exactly the scripts in the built index.html, by hash.

use base64::Engine;

/// The policy for a page whose HTML is `index_html` (or `None` when there is no built app).
pub fn app_policy(index_html: Option<&str>) -> String {
    let hashes: String = index_html
        .map(inline_scripts)
        .unwrap_or_default()
        .into_iter()
        .map(|script| {
            let digest = ring::digest::digest(&ring::digest::SHA256, script.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
            format!(" 'sha256-{b64}'")
        })
        .collect();
    // A mail body is shown in a sandboxed srcdoc iframe, which inherits this policy on top of
    // its own stricter one: so inline styles and remote images (once the user allows them for
    // a message) must pass here. Scripts never do: only the app's own, by hash.
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; font-src data:; \
connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of every `<script>` element without a `src` attribute, exactly as written.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(open_end) = after_tag.find('>') else {
            break;
        };
        let attributes = &after_tag[..open_end];
        let body = &after_tag[open_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !attributes.contains(" src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<head><script src="/x.js"></script></head><body>
<script type="module">
import init from '/app.js';
</script></body>"#;
        assert_eq!(
            inline_scripts(html),
            vec!["\nimport init from '/app.js';\n"]
        );
        let policy = app_policy(Some(html));
        assert_eq!(policy.matches("'sha256-").count(), 1);
        let scripts = policy
            .split(';')
            .find(|d| d.contains("script-src"))
            .unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{policy}");
    }

    #[test]
    fn no_app_means_no_script_hashes() {
        assert!(!app_policy(None).contains("sha256"));
    }

    #[test]
    fn known_hash() {
        // Same value as `printf 'alert(1)' | openssl dgst -sha256 -binary | base64`.
        let policy = app_policy(Some("<script>alert(1)</script>"));
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
    }
}
