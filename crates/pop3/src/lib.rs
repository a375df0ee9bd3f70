//! A POP3 client (RFC 1939, RFC 2449 CAPA and response codes, RFC 2595 STLS, RFC 5034 SASL
//! PLAIN) without I/O: the caller writes [`Client::take_output`] to the server and feeds what it
//! reads into [`Client::feed`]; [`Client::next_reply`] hands back each complete reply, matched
//! to the command it answers. Commands may be pipelined (RFC 2449 PIPELINING): replies come back
//! in order.
//!
//! Nothing here reads a socket, so every behaviour is tested on byte scripts.

mod command;
mod reply;
mod session;

pub use command::{Command, EncodeError};
pub use reply::{Capabilities, Reply, RespCode, ScanListing, UniqueId};
pub use session::{Client, Error, Event, Phase, MESSAGE_PIECE};

/// Dot-stuffs a message as a server sends it in a multi-line reply (for tests and tools).
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|b| *b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    // POP3 can only carry whole lines: a last line without its end gets one.
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
