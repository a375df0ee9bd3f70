//! The client state machine: RFC 1939's phases, pipelined commands matched to their replies,
//! multi-line replies with dot-unstuffing, all over byte buffers.

use std::collections::VecDeque;

use secret::SecretBytes;

use crate::{Command, EncodeError, Reply};

/// RFC 1939's states, plus the two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the server's greeting.
    Greeting,
    Authorization,
    Transaction,
    /// QUIT sent in TRANSACTION: the server deletes what was marked, then closes.
    Update,
    Closed,
}

/// What [`Client::next_event`] hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Greeting {
        text: String,
        /// The `<...>` timestamp for APOP, if the server offers it.
        apop_timestamp: Option<String>,
    },
    Reply {
        command: Command,
        reply: Reply,
    },
    /// A piece of the message that `command` (RETR or TOP) retrieves: whole lines,
    /// dot-unstuffed, each ending in CRLF. The pieces come in order; the command's `Reply`
    /// follows the last one. However big the message, no more than [`MESSAGE_PIECE`] bytes
    /// (or one line) are held at a time.
    MessageData {
        command: Command,
        data: Vec<u8>,
    },
}

/// About how much of a message one [`Event::MessageData`] carries.
pub const MESSAGE_PIECE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot send {0}: {1}")]
    Encode(&'static str, EncodeError),
    #[error("{0} is not allowed in the {1:?} phase")]
    WrongPhase(&'static str, Phase),
    #[error("the server sent something that is not POP3: {0:?}")]
    Malformed(String),
    #[error("the server refused the connection: {0}")]
    Rejected(String),
    #[error("the server sent a line longer than {MAX_LINE} bytes")]
    LineTooLong,
}

/// Lines longer than this are garbage or an attack (RFC 5322 allows 998).
const MAX_LINE: usize = 1 << 20;

#[derive(Debug)]
pub struct Client {
    phase: Phase,
    input: Vec<u8>,
    output: SecretBytes,
    /// Sent commands whose replies have not arrived yet, oldest first.
    waiting: VecDeque<Command>,
    /// A multi-line reply being read.
    partial: Option<Partial>,
    /// Dovecot greets a client it trusts with `[XCLIENT]`. Kept over STLS, which greets no
    /// more (a forged greeting could only make the relay name its user's address).
    offers_xclient: bool,
}

/// A multi-line reply under way: its status text, and its lines so far unless it carries a
/// message (those lines are handed on as they come).
#[derive(Debug)]
struct Partial {
    text: String,
    lines: Option<Vec<Vec<u8>>>,
    /// Part of an overlong message line has been handed on; the rest follows.
    mid_line: bool,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Self {
        Self {
            phase: Phase::Greeting,
            input: Vec::new(),
            output: SecretBytes::default(),
            waiting: VecDeque::new(),
            partial: None,
            offers_xclient: false,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The server takes [`Command::Xclient`] before login.
    pub fn offers_xclient(&self) -> bool {
        self.offers_xclient
    }

    /// Queues a command; its bytes are in [`Self::take_output`].
    pub fn send(&mut self, command: Command) -> Result<(), Error> {
        let allowed = match self.phase {
            Phase::Authorization => matches!(
                command,
                Command::Capa
                    | Command::Stls
                    | Command::User(_)
                    | Command::Pass(_)
                    | Command::Apop { .. }
                    | Command::AuthPlain { .. }
                    | Command::Xclient { .. }
                    | Command::Quit
            ),
            Phase::Transaction => !matches!(
                command,
                Command::Stls
                    | Command::User(_)
                    | Command::Pass(_)
                    | Command::Apop { .. }
                    | Command::AuthPlain { .. }
                    | Command::Xclient { .. }
            ),
            Phase::Greeting | Phase::Update | Phase::Closed => false,
        };
        if !allowed {
            return Err(Error::WrongPhase(command.name(), self.phase));
        }
        let bytes = command
            .encode()
            .map_err(|e| Error::Encode(command.name(), e))?;
        self.output.extend(&bytes);
        self.waiting.push_back(command);
        Ok(())
    }

    /// The bytes to write to the server now (wiped when dropped: they may hold a password).
    pub fn take_output(&mut self) -> SecretBytes {
        self.output.take()
    }

    /// True while replies are outstanding.
    pub fn is_waiting(&self) -> bool {
        self.phase == Phase::Greeting || !self.waiting.is_empty()
    }

    /// Bytes read from the server, in any pieces.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// After `STLS` was answered `+OK` and the TLS handshake is done: anything that arrived in
    /// clear after the `+OK` is dropped (it could be an injection), and the session goes on in
    /// AUTHORIZATION. Ask CAPA again: it may differ under TLS.
    pub fn tls_started(&mut self) {
        self.input.clear();
        self.partial = None;
    }

    /// The next event, if enough bytes have arrived: the greeting, a complete reply, or a
    /// piece of a message being retrieved.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let mut consumed = 0;
        let mut piece = Vec::new();
        let result = loop {
            let rest = &self.input[consumed..];
            let newline = rest.iter().position(|b| *b == b'\n');
            let overlong = newline.map_or(rest.len(), |end| end + 1) > MESSAGE_PIECE;
            if self.receiving_message() && overlong {
                if piece.is_empty() {
                    // A line longer than a piece (broken mail, but mail): handed on in parts.
                    // A CR at the cut may belong to the CRLF that follows.
                    let mut take = MESSAGE_PIECE.min(rest.len());
                    if rest[take - 1] == b'\r' {
                        take -= 1;
                    }
                    let at_line_start = !self.partial.as_ref().is_some_and(|p| p.mid_line);
                    let part = &rest[..take];
                    let part = match part.strip_prefix(b".") {
                        Some(unstuffed) if at_line_start => unstuffed,
                        _ => part,
                    };
                    piece.extend_from_slice(part);
                    consumed += take;
                    if let Some(partial) = &mut self.partial {
                        partial.mid_line = true;
                    }
                }
                break Ok(None);
            }
            let Some(end) = newline else {
                if rest.len() > MAX_LINE {
                    break Err(Error::LineTooLong);
                }
                break Ok(None);
            };
            let mut line = &rest[..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if self.receiving_message() {
                if !piece.is_empty() && piece.len() + line.len() + 2 > MESSAGE_PIECE {
                    break Ok(None);
                }
                let partial = self.partial.as_mut().expect("receiving");
                if std::mem::take(&mut partial.mid_line) {
                    // The end of a line handed on in parts: no dot to unstuff, not the end.
                    piece.extend_from_slice(line);
                    piece.extend_from_slice(b"\r\n");
                    consumed += end + 1;
                    continue;
                }
                if line != b"." {
                    // Dot-unstuffing: a line starting with a dot had one added by the server.
                    piece.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
                    piece.extend_from_slice(b"\r\n");
                    consumed += end + 1;
                    continue;
                }
                if !piece.is_empty() {
                    // The piece goes first; the final dot is read at the next call.
                    break Ok(None);
                }
            }
            let line = line.to_vec();
            consumed += end + 1;
            match self.take_line(line) {
                Ok(None) => continue,
                other => break other,
            }
        };
        self.input.drain(..consumed);
        if !piece.is_empty() {
            let command = self
                .waiting
                .front()
                .cloned()
                .expect("a message has its command");
            return Ok(Some(Event::MessageData {
                command,
                data: piece,
            }));
        }
        result
    }

    /// True inside a multi-line reply that carries a message.
    fn receiving_message(&self) -> bool {
        self.partial.as_ref().is_some_and(|p| p.lines.is_none())
    }

    fn take_line(&mut self, line: Vec<u8>) -> Result<Option<Event>, Error> {
        if let Some(partial) = &mut self.partial {
            if line == b"." {
                let Partial { text, lines, .. } =
                    self.partial.take().expect("in a multi-line reply");
                let reply = Reply::Ok { text, lines };
                return Ok(Some(self.finish(reply)));
            }
            let line = match line.strip_prefix(b".") {
                Some(unstuffed) => unstuffed.to_vec(),
                None => line,
            };
            partial
                .lines
                .as_mut()
                .expect("message lines are handed on in next_event")
                .push(line);
            return Ok(None);
        }
        let Some(reply) = Reply::status(&line) else {
            return Err(Error::Malformed(
                String::from_utf8_lossy(&line).into_owned(),
            ));
        };
        if self.phase == Phase::Greeting {
            return match reply {
                Reply::Ok { text, .. } => {
                    self.phase = Phase::Authorization;
                    let apop_timestamp = text
                        .find('<')
                        .and_then(|start| Some((start, text[start..].find('>')? + start)))
                        .map(|(start, end)| text[start..=end].to_owned());
                    self.offers_xclient = text
                        .get(..9)
                        .is_some_and(|head| head.eq_ignore_ascii_case("[XCLIENT]"));
                    Ok(Some(Event::Greeting {
                        text,
                        apop_timestamp,
                    }))
                }
                Reply::Err { text, .. } => {
                    self.phase = Phase::Closed;
                    Err(Error::Rejected(text))
                }
            };
        }
        let Some(command) = self.waiting.front() else {
            return Err(Error::Malformed(format!(
                "a reply nobody asked for: {}",
                String::from_utf8_lossy(&line)
            )));
        };
        match reply {
            Reply::Ok { text, .. } if command.multi_line() => {
                let lines = (!command.carries_message()).then(Vec::new);
                self.partial = Some(Partial {
                    text,
                    lines,
                    mid_line: false,
                });
                Ok(None)
            }
            reply => Ok(Some(self.finish(reply))),
        }
    }

    /// Matches a complete reply to its command and moves the phase on.
    fn finish(&mut self, reply: Reply) -> Event {
        let command = self.waiting.pop_front().expect("a reply has a command");
        if reply.is_ok() {
            match (&command, self.phase) {
                (
                    Command::Pass(_) | Command::Apop { .. } | Command::AuthPlain { .. },
                    Phase::Authorization,
                ) => {
                    self.phase = Phase::Transaction;
                }
                (Command::Quit, Phase::Transaction) => self.phase = Phase::Closed,
                (Command::Quit, _) => self.phase = Phase::Closed,
                _ => {}
            }
        }
        if let Command::Quit = command {
            self.phase = Phase::Closed;
        }
        Event::Reply { command, reply }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dot_stuff, RespCode};
    use secret::Secret;

    fn reply(client: &mut Client) -> (Command, Reply) {
        match client.next_event().unwrap() {
            Some(Event::Reply { command, reply }) => (command, reply),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    /// The pieces of a retrieved message, joined, and the reply that ends them.
    fn retrieved(client: &mut Client) -> (Vec<u8>, Command, Reply) {
        let mut message = Vec::new();
        loop {
            match client.next_event().unwrap() {
                Some(Event::MessageData { data, .. }) => message.extend(data),
                Some(Event::Reply { command, reply }) => return (message, command, reply),
                other => panic!("expected message data, got {other:?}"),
            }
        }
    }

    fn logged_in() -> Client {
        let mut client = Client::new();
        client.feed(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n");
        assert!(
            matches!(client.next_event().unwrap(), Some(Event::Greeting { apop_timestamp: Some(t), .. }) if t == "<1896.697170952@dbc.mtview.ca.us>")
        );
        client.send(Command::User("mrose".into())).unwrap();
        client
            .send(Command::Pass(Secret::new("secret".into())))
            .unwrap();
        assert_eq!(&*client.take_output(), b"USER mrose\r\nPASS secret\r\n");
        client.feed(
            b"+OK mrose is a real hoopy frood\r\n+OK maildrop has 2 messages (320 octets)\r\n",
        );
        reply(&mut client);
        reply(&mut client);
        assert_eq!(client.phase(), Phase::Transaction);
        client
    }

    #[test]
    fn rfc1939_session() {
        let mut client = logged_in();
        client.send(Command::Stat).unwrap();
        client.send(Command::List(None)).unwrap();
        client.send(Command::Retr(1)).unwrap();
        client.send(Command::Dele(1)).unwrap();
        client.send(Command::Quit).unwrap();
        assert_eq!(
            &*client.take_output(),
            b"STAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n"
        );
        client.feed(b"+OK 2 320\r\n+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n");
        client.feed(b"+OK 120 octets\r\nSubject: hi\r\n\r\n..a line with a dot\r\n.\r\n");
        client.feed(
            b"+OK message 1 deleted\r\n+OK dewey POP3 server signing off (maildrop empty)\r\n",
        );
        assert_eq!(reply(&mut client).1.stat(), Some((2, 320)));
        assert_eq!(reply(&mut client).1.scan_listings().len(), 2);
        let (message, command, _) = retrieved(&mut client);
        assert_eq!(command, Command::Retr(1));
        assert_eq!(message, b"Subject: hi\r\n\r\n.a line with a dot\r\n");
        assert!(reply(&mut client).1.is_ok());
        assert_eq!(reply(&mut client).0, Command::Quit);
        assert_eq!(client.phase(), Phase::Closed);
        assert_eq!(client.next_event().unwrap(), None);
    }

    #[test]
    fn errors_carry_response_codes_and_keep_the_phase() {
        let mut client = Client::new();
        client.feed(b"+OK ready\r\n");
        client.next_event().unwrap();
        client.send(Command::User("anna".into())).unwrap();
        client
            .send(Command::Pass(Secret::new("wrong".into())))
            .unwrap();
        client.feed(b"+OK\r\n-ERR [AUTH] Authentication failed.\r\n");
        reply(&mut client);
        let (_, answer) = reply(&mut client);
        assert_eq!(
            answer,
            Reply::Err {
                code: Some(RespCode::Auth),
                text: "Authentication failed.".into()
            }
        );
        assert_eq!(client.phase(), Phase::Authorization);
        assert_eq!(
            client.send(Command::Stat),
            Err(Error::WrongPhase("STAT", Phase::Authorization))
        );
    }

    #[test]
    fn negative_greeting_and_garbage_are_errors() {
        let mut client = Client::new();
        client.feed(b"-ERR [SYS/TEMP] too busy\r\n");
        assert_eq!(client.next_event(), Err(Error::Rejected("too busy".into())));
        let mut client = logged_in();
        client.send(Command::Noop).unwrap();
        client.feed(b"* OK this is IMAP\r\n");
        assert!(matches!(client.next_event(), Err(Error::Malformed(_))));
        let mut client = logged_in();
        client.feed(b"+OK unasked\r\n");
        assert!(matches!(client.next_event(), Err(Error::Malformed(_))));
    }

    #[test]
    fn a_trusting_server_takes_the_users_address_before_login() {
        let mut client = Client::new();
        client.feed(b"+OK [XCLIENT] Dovecot ready.\r\n");
        assert!(matches!(
            client.next_event().unwrap(),
            Some(Event::Greeting { .. })
        ));
        assert!(client.offers_xclient());
        client
            .send(Command::Xclient {
                addr: [203, 0, 113, 7].into(),
            })
            .unwrap();
        client.send(Command::User("anna".into())).unwrap();
        assert_eq!(
            &*client.take_output(),
            b"XCLIENT ADDR=203.0.113.7\r\nUSER anna\r\n"
        );
        client.feed(b"+OK Updated\r\n");
        assert!(matches!(reply(&mut client).0, Command::Xclient { .. }));
        assert_eq!(client.phase(), Phase::Authorization);

        let mut plain = Client::new();
        plain.feed(b"+OK Dovecot ready. [XCLIENT]\r\n");
        plain.next_event().unwrap();
        assert!(!plain.offers_xclient(), "only at the start of the greeting");
    }

    #[test]
    fn stls_drops_what_came_in_clear() {
        let mut client = Client::new();
        client.feed(b"+OK ready\r\n");
        client.next_event().unwrap();
        client.send(Command::Stls).unwrap();
        client.feed(b"+OK Begin TLS\r\n+OK injected\r\n");
        assert_eq!(reply(&mut client).0, Command::Stls);
        client.tls_started();
        assert_eq!(client.next_event().unwrap(), None);
        assert_eq!(client.phase(), Phase::Authorization);
    }

    #[test]
    fn lone_lf_line_ends_are_tolerated() {
        let mut client = logged_in();
        client.send(Command::Retr(1)).unwrap();
        client.feed(b"+OK\nline\n.\n");
        assert_eq!(retrieved(&mut client).0, b"line\r\n");
    }

    #[test]
    fn big_messages_arrive_in_pieces_and_overlong_lines_pass() {
        let mut client = logged_in();
        client.send(Command::Retr(1)).unwrap();
        client.send(Command::Noop).unwrap();
        // 300 KB of short lines, then a 200 KB line starting with a dot, then a dot line.
        let mut message = b"line\r\n".repeat(300_000 / 6);
        message.extend(b".");
        message.extend(vec![b'x'; 200_000]);
        message.extend(b"\r\n.\r\n");
        let mut wire = b"+OK\r\n".to_vec();
        wire.extend(crate::dot_stuff(&message));
        wire.extend(b"+OK noop\r\n");
        client.feed(&wire);
        let mut got = Vec::new();
        let mut pieces = 0;
        loop {
            match client.next_event().unwrap() {
                Some(Event::MessageData { command, data }) => {
                    assert_eq!(command, Command::Retr(1));
                    assert!(data.len() <= MESSAGE_PIECE + 2, "{}", data.len());
                    got.extend(data);
                    pieces += 1;
                }
                Some(Event::Reply { command, .. }) => {
                    assert_eq!(command, Command::Retr(1));
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, message);
        assert!(pieces > 5, "{pieces} pieces");
        assert_eq!(reply(&mut client).0, Command::Noop);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Messages as CRLF lines of printable bytes, dots and spaces included.
        fn message() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec("[ -~]{0,40}", 0..20).prop_map(|lines| {
                let mut out = Vec::new();
                for line in lines {
                    out.extend_from_slice(line.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                out
            })
        }

        proptest! {
            #[test]
            fn dot_stuffing_round_trips_in_any_split(message in message(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
                let mut client = logged_in();
                client.send(Command::Retr(1)).unwrap();
                client.send(Command::Noop).unwrap();
                let mut wire = b"+OK message follows\r\n".to_vec();
                wire.extend(dot_stuff(&message));
                wire.extend_from_slice(b"+OK\r\n");
                let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
                points.sort_unstable();
                let mut replies = Vec::new();
                let mut retrieved = Vec::new();
                let mut start = 0;
                for point in points.into_iter().chain([wire.len()]) {
                    client.feed(&wire[start..point]);
                    start = point;
                    while let Some(event) = client.next_event().unwrap() {
                        match event {
                            Event::MessageData { data, .. } => {
                                prop_assert!(replies.is_empty(), "data after its reply");
                                retrieved.extend(data);
                            }
                            Event::Reply { command, .. } => replies.push(command),
                            other => panic!("{other:?}"),
                        }
                    }
                }
                prop_assert_eq!(replies, vec![Command::Retr(1), Command::Noop]);
                prop_assert_eq!(retrieved, message);
            }
        }
    }
}
