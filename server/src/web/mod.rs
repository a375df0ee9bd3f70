//! The browser edge: the app's files, logging in and out, the WebSocket, downloads, and the checks every request
//! from a browser passes (session cookie, `Origin`, the content security policy).

pub mod assets;
pub mod csp;
pub mod download;
pub mod http;
pub mod origin;
pub mod public;
pub mod session;
pub mod throttle;
pub mod upload;
pub mod ws;
