//! POP3 accounts: the collector moves mail from the POP3 server into the relay's store, and the
//! account actor answers the browser from that store.

pub mod account;
pub mod collector;
pub mod lists;
