//! Replies, and what they say in types.

/// One reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK text`, with the lines of a multi-line reply (dot-unstuffed, without line ends).
    /// A message (RETR, TOP) is not among the lines: it came before, as `MessageData`.
    Ok {
        text: String,
        lines: Option<Vec<Vec<u8>>>,
    },
    /// `-ERR [CODE] text`.
    Err {
        code: Option<RespCode>,
        text: String,
    },
}

/// RFC 2449 / RFC 3206 response codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespCode {
    /// Another client holds the mailbox.
    InUse,
    /// Logging in again is not allowed yet.
    LoginDelay,
    /// A temporary problem on the server; try again later.
    SysTemp,
    /// A permanent problem on the server.
    SysPerm,
    /// The credentials were refused.
    Auth,
    Other(String),
}

impl RespCode {
    fn parse(code: &str) -> Self {
        match code.to_ascii_uppercase().as_str() {
            "IN-USE" => RespCode::InUse,
            "LOGIN-DELAY" => RespCode::LoginDelay,
            "SYS/TEMP" => RespCode::SysTemp,
            "SYS/PERM" => RespCode::SysPerm,
            "AUTH" => RespCode::Auth,
            _ => RespCode::Other(code.to_owned()),
        }
    }
}

impl Reply {
    /// Parses a status line (without its CRLF). `None` if it is neither `+OK` nor `-ERR`.
    pub(crate) fn status(line: &[u8]) -> Option<Self> {
        let line = String::from_utf8_lossy(line);
        if let Some(rest) = strip_prefix_ci(&line, "+OK") {
            return Some(Reply::Ok {
                text: rest.trim().to_owned(),
                lines: None,
            });
        }
        let rest = strip_prefix_ci(&line, "-ERR")?.trim();
        let (code, text) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((code, text)) => (Some(RespCode::parse(code)), text.trim()),
            None => (None, rest),
        };
        Some(Reply::Err {
            code,
            text: text.to_owned(),
        })
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Reply::Ok { .. })
    }

    /// The lines of a multi-line `+OK` (empty for anything else).
    pub fn lines(&self) -> &[Vec<u8>] {
        match self {
            Reply::Ok {
                lines: Some(lines), ..
            } => lines,
            _ => &[],
        }
    }

    /// STAT: (messages, octets).
    pub fn stat(&self) -> Option<(u32, u64)> {
        let Reply::Ok { text, .. } = self else {
            return None;
        };
        let mut words = text.split_whitespace();
        Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
    }

    /// LIST without argument: one entry per message.
    pub fn scan_listings(&self) -> Vec<ScanListing> {
        self.lines()
            .iter()
            .filter_map(|line| {
                let line = std::str::from_utf8(line).ok()?;
                let mut words = line.split_whitespace();
                Some(ScanListing {
                    message: words.next()?.parse().ok()?,
                    size: words.next()?.parse().ok()?,
                })
            })
            .collect()
    }

    /// UIDL without argument: one entry per message.
    pub fn unique_ids(&self) -> Vec<UniqueId> {
        self.lines()
            .iter()
            .filter_map(|line| unique_id(&String::from_utf8_lossy(line)))
            .collect()
    }

    /// CAPA.
    pub fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::default();
        for line in self.lines() {
            let line = String::from_utf8_lossy(line);
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            match name.to_ascii_uppercase().as_str() {
                "PIPELINING" => capabilities.pipelining = true,
                "RESP-CODES" => capabilities.resp_codes = true,
                "STLS" => capabilities.stls = true,
                "UIDL" => capabilities.uidl = true,
                "TOP" => capabilities.top = true,
                "USER" => capabilities.user = true,
                "SASL" => capabilities.sasl = words.map(|w| w.to_ascii_uppercase()).collect(),
                _ => {}
            }
        }
        capabilities
    }
}

/// `n unique-id`, as in a UIDL line or a single-message UIDL reply.
fn unique_id(text: &str) -> Option<UniqueId> {
    let mut words = text.split_whitespace();
    let message = words.next()?.parse().ok()?;
    let uid = words.next()?;
    // RFC 1939: 1 to 70 printable characters (0x21-0x7E).
    let printable = uid.len() <= 70 && uid.bytes().all(|b| (0x21..=0x7e).contains(&b));
    printable.then(|| UniqueId {
        message,
        uid: uid.to_owned(),
    })
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanListing {
    pub message: u32,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueId {
    pub message: u32,
    pub uid: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub pipelining: bool,
    pub resp_codes: bool,
    pub stls: bool,
    pub uidl: bool,
    pub top: bool,
    pub user: bool,
    /// SASL mechanisms, upper case.
    pub sasl: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            Reply::status(b"+OK 2 320"),
            Some(Reply::Ok {
                text: "2 320".into(),
                lines: None
            })
        );
        assert_eq!(
            Reply::status(b"+ok"),
            Some(Reply::Ok {
                text: String::new(),
                lines: None
            })
        );
        assert_eq!(
            Reply::status(b"-ERR [IN-USE] Mailbox locked"),
            Some(Reply::Err {
                code: Some(RespCode::InUse),
                text: "Mailbox locked".into()
            })
        );
        assert_eq!(
            Reply::status(b"-ERR [SYS/TEMP] try later"),
            Some(Reply::Err {
                code: Some(RespCode::SysTemp),
                text: "try later".into()
            })
        );
        assert_eq!(
            Reply::status(b"-ERR no such message"),
            Some(Reply::Err {
                code: None,
                text: "no such message".into()
            })
        );
        assert_eq!(Reply::status(b"* garbage"), None);
        assert_eq!(Reply::status(b"+O"), None);
    }

    #[test]
    fn typed_readers() {
        assert_eq!(Reply::status(b"+OK 2 320").unwrap().stat(), Some((2, 320)));
        let listing = Reply::Ok {
            text: String::new(),
            lines: Some(vec![b"1 120".to_vec(), b"2 200".to_vec(), b"junk".to_vec()]),
        };
        assert_eq!(
            listing.scan_listings(),
            vec![
                ScanListing {
                    message: 1,
                    size: 120
                },
                ScanListing {
                    message: 2,
                    size: 200
                }
            ]
        );
        let uidl = Reply::Ok {
            text: String::new(),
            lines: Some(vec![
                b"1 whqtswO00WBw418f9t5JxYwZ".to_vec(),
                b"2 QhdPYR:00WBw1Ph7x7".to_vec(),
                b"3 bad\x01id".to_vec(),
            ]),
        };
        assert_eq!(uidl.unique_ids().len(), 2);
        assert_eq!(uidl.unique_ids()[1].uid, "QhdPYR:00WBw1Ph7x7");
        let capa = Reply::Ok {
            text: String::new(),
            lines: Some(vec![
                b"TOP".to_vec(),
                b"UIDL".to_vec(),
                b"PIPELINING".to_vec(),
                b"RESP-CODES".to_vec(),
                b"SASL PLAIN login".to_vec(),
                b"STLS".to_vec(),
                b"USER".to_vec(),
            ]),
        };
        let caps = capa.capabilities();
        assert!(
            caps.pipelining && caps.resp_codes && caps.stls && caps.uidl && caps.top && caps.user
        );
        assert_eq!(caps.sasl, vec!["PLAIN", "LOGIN"]);
    }
}
