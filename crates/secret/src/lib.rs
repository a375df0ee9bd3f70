//! A password (or anything derived from one, such as a SASL token) in memory: wiped when
//! dropped, never printed. Every copy the relay makes of a password is one of these, so a
//! forgotten copy shows up as a type error rather than as a password left in freed memory.
//!
//! Copies made inside libraries (imap-next's send buffer, rustls's plaintext buffer) are out
//! of reach; `docs/security.md` names them.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// A secret string. No `Display`, and `Debug` shows only that there is one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes the string's own buffer: no copy is left behind.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The pieces one after another, in one buffer sized up front: growing a string moves it
    /// and leaves the old copy in freed memory, unwiped.
    pub fn concat(pieces: &[&str]) -> Self {
        let mut value = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
        for piece in pieces {
            value.push_str(piece);
        }
        Self::new(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Bytes that may hold a secret (an encoded command line): wiped when dropped, and grown only
/// by moving into a bigger buffer and wiping the old one.
#[derive(Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn extend(&mut self, bytes: &[u8]) {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(2 * self.0.capacity()));
            grown.extend_from_slice(&self.0);
            self.0.zeroize();
            *self.0 = grown;
        }
        self.0.extend_from_slice(bytes);
    }

    pub fn take(&mut self) -> Self {
        std::mem::take(self)
    }
}

impl std::ops::Deref for SecretBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(value: Vec<u8>) -> Self {
        Self(Zeroizing::new(value))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), "hunter2");
        let bytes = SecretBytes::from(b"PASS hunter2\r\n".to_vec());
        assert!(!format!("{bytes:?}").contains("hunter2"));
    }

    #[test]
    fn built_and_grown_secrets_keep_their_contents() {
        let token = Secret::concat(&["\0", "anna", "\0", "a long password"]);
        assert_eq!(token.expose(), "\0anna\0a long password");
        let mut bytes = SecretBytes::default();
        for piece in [&b"USER anna\r\n"[..], b"PASS x\r\n", b"STAT\r\n"] {
            bytes.extend(piece);
        }
        assert_eq!(&*bytes, b"USER anna\r\nPASS x\r\nSTAT\r\n");
        assert!(!bytes.take().is_empty() && bytes.is_empty());
    }
}
