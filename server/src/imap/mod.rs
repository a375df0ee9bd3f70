//! The relay's IMAP client: one connection, driven by imap-next's sans-I/O state machine.
//!
//! `connection` is the thin I/O driver (TCP, TLS, STARTTLS, timeouts, one command at a time);
//! `fetch` turns what the server answered into the protocol's view types and is tested on bytes.

mod connection;
mod fetch;

pub use connection::{ImapConnection, ImapError};
