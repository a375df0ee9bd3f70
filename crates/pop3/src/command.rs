//! Commands, encoded by type: an argument that could break the line (CR, LF, NUL) or the
//! argument list (a space where one argument is expected) is refused, never sent.

use std::fmt::Write as _;

#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(String),
    /// The digest is MD5(timestamp + secret) in hex, computed by the caller.
    Apop {
        user: String,
        digest: String,
    },
    /// SASL PLAIN with the initial response (RFC 5034): base64 of `\0user\0password`.
    AuthPlain {
        initial_response: String,
    },
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top {
        message: u32,
        lines: u32,
    },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    Quit,
}

/// Never show a password, not even in a debug log.
impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Pass(_) => f.write_str("Pass(<redacted>)"),
            Command::AuthPlain { .. } => f.write_str("AuthPlain(<redacted>)"),
            Command::Apop { user, .. } => write!(f, "Apop({user:?}, <digest>)"),
            Command::User(user) => write!(f, "User({user:?})"),
            other => write!(f, "{}", other.name()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{0} may not contain CR, LF or NUL")]
    LineBreak(&'static str),
    #[error("{0} may not contain spaces")]
    Space(&'static str),
    #[error("{0} may not be empty")]
    Empty(&'static str),
    #[error("message numbers start at 1")]
    ZeroMessage,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::AuthPlain { .. } => "AUTH",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Uidl(_) => "UIDL",
            Command::Top { .. } => "TOP",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Rset => "RSET",
            Command::Noop => "NOOP",
            Command::Quit => "QUIT",
        }
    }

    /// True when a positive answer is multi-line (ended by a line of one dot).
    pub fn multi_line(&self) -> bool {
        matches!(
            self,
            Command::Capa
                | Command::List(None)
                | Command::Uidl(None)
                | Command::Top { .. }
                | Command::Retr(_)
        )
    }

    /// True when the answer carries a message (RETR, TOP): it arrives as
    /// [`crate::Event::MessageData`] pieces, never held whole, then its [`crate::Reply`].
    pub fn carries_message(&self) -> bool {
        matches!(self, Command::Top { .. } | Command::Retr(_))
    }

    /// The bytes to send, CRLF included.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut line = String::from(self.name());
        match self {
            Command::User(user) => push(&mut line, "user name", user, false)?,
            // RFC 1939: the password is the rest of the line, spaces allowed.
            Command::Pass(password) => push(&mut line, "password", password, true)?,
            Command::Apop { user, digest } => {
                push(&mut line, "user name", user, false)?;
                push(&mut line, "digest", digest, false)?;
            }
            Command::AuthPlain { initial_response } => {
                push(&mut line, "mechanism", "PLAIN", false)?;
                push(&mut line, "initial response", initial_response, false)?;
            }
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => {
                number(&mut line, *n)?;
            }
            Command::Top { message, lines } => {
                number(&mut line, *message)?;
                let _ = write!(line, " {lines}");
            }
            _ => {}
        }
        line.push_str("\r\n");
        Ok(line.into_bytes())
    }
}

fn push(
    line: &mut String,
    what: &'static str,
    value: &str,
    spaces_ok: bool,
) -> Result<(), EncodeError> {
    if value.is_empty() {
        return Err(EncodeError::Empty(what));
    }
    if value.contains(['\r', '\n', '\0']) {
        return Err(EncodeError::LineBreak(what));
    }
    if !spaces_ok && value.contains(' ') {
        return Err(EncodeError::Space(what));
    }
    line.push(' ');
    line.push_str(value);
    Ok(())
}

fn number(line: &mut String, n: u32) -> Result<(), EncodeError> {
    if n == 0 {
        return Err(EncodeError::ZeroMessage);
    }
    let _ = write!(line, " {n}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_command() {
        let cases: Vec<(Command, &[u8])> = vec![
            (Command::Capa, b"CAPA\r\n"),
            (
                Command::User("anna@example.org".into()),
                b"USER anna@example.org\r\n",
            ),
            (
                Command::Pass("correct horse".into()),
                b"PASS correct horse\r\n",
            ),
            (
                Command::Apop {
                    user: "mrose".into(),
                    digest: "c4c9334bac560ecc979e58001b3e22fb".into(),
                },
                b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
            ),
            (
                Command::AuthPlain {
                    initial_response: "AGEAYg==".into(),
                },
                b"AUTH PLAIN AGEAYg==\r\n",
            ),
            (Command::Stat, b"STAT\r\n"),
            (Command::List(None), b"LIST\r\n"),
            (Command::List(Some(2)), b"LIST 2\r\n"),
            (Command::Uidl(None), b"UIDL\r\n"),
            (
                Command::Top {
                    message: 3,
                    lines: 0,
                },
                b"TOP 3 0\r\n",
            ),
            (Command::Retr(7), b"RETR 7\r\n"),
            (Command::Dele(7), b"DELE 7\r\n"),
            (Command::Rset, b"RSET\r\n"),
            (Command::Noop, b"NOOP\r\n"),
            (Command::Quit, b"QUIT\r\n"),
            (Command::Stls, b"STLS\r\n"),
        ];
        for (command, bytes) in cases {
            assert_eq!(command.encode().unwrap(), bytes, "{command:?}");
        }
    }

    #[test]
    fn refuses_injection() {
        assert_eq!(
            Command::User("a\r\nDELE 1".into()).encode(),
            Err(EncodeError::LineBreak("user name"))
        );
        assert_eq!(
            Command::Pass("x\ny".into()).encode(),
            Err(EncodeError::LineBreak("password"))
        );
        assert_eq!(
            Command::User("two words".into()).encode(),
            Err(EncodeError::Space("user name"))
        );
        assert_eq!(
            Command::User(String::new()).encode(),
            Err(EncodeError::Empty("user name"))
        );
        assert_eq!(Command::Retr(0).encode(), Err(EncodeError::ZeroMessage));
    }

    #[test]
    fn debug_hides_secrets() {
        assert!(!format!("{:?}", Command::Pass("hunter2".into())).contains("hunter2"));
        assert!(!format!(
            "{:?}",
            Command::AuthPlain {
                initial_response: "c2VjcmV0".into()
            }
        )
        .contains("c2VjcmV0"));
    }
}
