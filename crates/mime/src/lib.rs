//! Raw mail in, view types out. Every decoding decision (RFC 2047 encoded words, charsets,
//! transfer encodings, broken headers) and every sanitizing decision is made here, once, whichever
//! protocol the mail came by.

mod bounded;
mod decode;
pub mod draft;
mod headers;
mod inline;
mod message;
mod preview;
pub mod reply;
mod sanitize;
mod scan;
mod stream;

pub use decode::{attachment_name, decode_text_part};
pub use headers::{header_summary, headers, HeaderSummary, Headers};
pub use inline::{choose as choose_inline_images, data_url, InlineLimits, InlinePart, PREVIEWABLE};
pub use message::{attachment, parse_message, Parsed, MAX_BODY};
pub use preview::{preview, PREVIEW_SOURCE};
pub use sanitize::{embed_inline_images, inline_image_ids, sanitize_html, SanitizedHtml};
pub use scan::{MessageScan, Scanned, MAX_HEADER_BLOCK};
pub use stream::StreamDecoder;
