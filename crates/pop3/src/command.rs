//! Commands, encoded by type: an argument that could break the line (CR, LF, NUL) or the
//! argument list (a space where one argument is expected) is refused, never sent.

use std::net::IpAddr;

use secret::{Secret, SecretBytes};

#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(Secret),
    /// The digest is MD5(timestamp + secret) in hex, computed by the caller.
    Apop {
        user: String,
        digest: String,
    },
    /// SASL PLAIN with the initial response (RFC 5034): base64 of `\0user\0password`.
    AuthPlain {
        initial_response: Secret,
    },
    /// Before logging in: whose connection this is (Dovecot honours it from trusted networks),
    /// so the server's own limits and logs count that person rather than the relay.
    Xclient {
        addr: IpAddr,
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
            Command::Xclient { .. } => "XCLIENT",
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

    /// The bytes to send, CRLF included; wiped when dropped, as they may hold a password.
    pub fn encode(&self) -> Result<SecretBytes, EncodeError> {
        let mut line = SecretBytes::default();
        line.extend(self.name().as_bytes());
        match self {
            Command::User(user) => push(&mut line, "user name", user, false)?,
            // RFC 1939: the password is the rest of the line, spaces allowed.
            Command::Pass(password) => push(&mut line, "password", password.expose(), true)?,
            Command::Apop { user, digest } => {
                push(&mut line, "user name", user, false)?;
                push(&mut line, "digest", digest, false)?;
            }
            Command::AuthPlain { initial_response } => {
                push(&mut line, "mechanism", "PLAIN", false)?;
                push(
                    &mut line,
                    "initial response",
                    initial_response.expose(),
                    false,
                )?;
            }
            // An address prints without spaces or line breaks.
            Command::Xclient { addr } => line.extend(format!(" ADDR={addr}").as_bytes()),
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => {
                number(&mut line, *n)?;
            }
            Command::Top { message, lines } => {
                number(&mut line, *message)?;
                line.extend(format!(" {lines}").as_bytes());
            }
            _ => {}
        }
        line.extend(b"\r\n");
        Ok(line)
    }
}

fn push(
    line: &mut SecretBytes,
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
    line.extend(b" ");
    line.extend(value.as_bytes());
    Ok(())
}

fn number(line: &mut SecretBytes, n: u32) -> Result<(), EncodeError> {
    if n == 0 {
        return Err(EncodeError::ZeroMessage);
    }
    line.extend(format!(" {n}").as_bytes());
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
                Command::Pass(Secret::new("correct horse".into())),
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
                    initial_response: Secret::new("AGEAYg==".into()),
                },
                b"AUTH PLAIN AGEAYg==\r\n",
            ),
            (
                Command::Xclient {
                    addr: [203, 0, 113, 7].into(),
                },
                b"XCLIENT ADDR=203.0.113.7\r\n",
            ),
            (
                Command::Xclient {
                    addr: "2001:db8::7".parse().unwrap(),
                },
                b"XCLIENT ADDR=2001:db8::7\r\n",
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
            assert_eq!(&*command.encode().unwrap(), bytes, "{command:?}");
        }
    }

    #[test]
    fn refuses_injection() {
        let refused = |command: Command| command.encode().err();
        assert_eq!(
            refused(Command::User("a\r\nDELE 1".into())),
            Some(EncodeError::LineBreak("user name"))
        );
        assert_eq!(
            refused(Command::Pass(Secret::new("x\ny".into()))),
            Some(EncodeError::LineBreak("password"))
        );
        assert_eq!(
            refused(Command::User("two words".into())),
            Some(EncodeError::Space("user name"))
        );
        assert_eq!(
            refused(Command::User(String::new())),
            Some(EncodeError::Empty("user name"))
        );
        assert_eq!(refused(Command::Retr(0)), Some(EncodeError::ZeroMessage));
    }

    #[test]
    fn debug_hides_secrets() {
        assert!(!format!("{:?}", Command::Pass(Secret::new("hunter2".into()))).contains("hunter2"));
        assert!(!format!(
            "{:?}",
            Command::AuthPlain {
                initial_response: Secret::new("c2VjcmV0".into())
            }
        )
        .contains("c2VjcmV0"));
    }
}
