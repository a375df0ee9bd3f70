//! Raw mail in, view types out. Every decoding decision (RFC 2047 encoded words, charsets,
//! transfer encodings, broken headers) and every sanitizing decision is made here, once, whichever
//! protocol the mail came by.

mod decode;
mod headers;
mod message;
mod sanitize;
mod stream;

pub use decode::{attachment_name, decode_text_part};
pub use headers::{header_summary, headers, HeaderSummary, Headers};
pub use message::{attachment, has_attachments, parse_message, Parsed};
pub use sanitize::{sanitize_html, SanitizedHtml};
pub use stream::StreamDecoder;
