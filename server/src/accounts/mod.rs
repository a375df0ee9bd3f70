//! The user's mail accounts: one actor per logged-in user, over a live IMAP session or over the
//! relay's store, which the POP3 collector fills. Both answer the same requests.

pub mod imap;
pub mod pop3;
