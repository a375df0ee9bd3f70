//! A second, plain IMAP client in the tests, standing for the user's phone or Thunderbird: it
//! changes the mailbox behind the relay's back. Plain text on loopback (Dovecot treats loopback
//! as secure).

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

pub struct RawImap {
    stream: BufReader<TcpStream>,
    tag: u32,
}

impl RawImap {
    pub async fn login(port: u16, user: &str, password: &str) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut imap = Self {
            stream: BufReader::new(stream),
            tag: 0,
        };
        let mut greeting = String::new();
        imap.stream
            .read_line(&mut greeting)
            .await
            .expect("greeting");
        imap.ok(&format!("LOGIN \"{user}\" \"{password}\"")).await;
        imap
    }

    /// Runs a command that must succeed; returns everything the server said.
    pub async fn ok(&mut self, command: &str) -> String {
        let answer = self.command(command).await;
        let last = answer.lines().last().unwrap_or_default();
        assert!(last.contains(" OK"), "{command} failed: {answer}");
        answer
    }

    pub async fn command(&mut self, command: &str) -> String {
        self.tag += 1;
        let tag = format!("T{}", self.tag);
        self.stream
            .get_mut()
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await
            .expect("write");
        let mut answer = String::new();
        loop {
            let mut line = String::new();
            let n = self.stream.read_line(&mut line).await.expect("read");
            assert!(n > 0, "server closed during {command}: {answer}");
            answer.push_str(&line);
            if line.starts_with(&format!("{tag} ")) {
                return answer;
            }
        }
    }

    /// Appends a message to `folder` (LITERAL+, one round trip).
    pub async fn append(&mut self, folder: &str, message: &[u8], flags: &str) {
        self.append_received(folder, message, flags, None).await;
    }

    /// Appends with an explicit INTERNALDATE (`"01-Jan-2020 00:00:00 +0000"`), as a message
    /// moved in from elsewhere keeps its first arrival time.
    pub async fn append_received(
        &mut self,
        folder: &str,
        message: &[u8],
        flags: &str,
        received: Option<&str>,
    ) {
        let date = received.map(|d| format!(" \"{d}\"")).unwrap_or_default();
        let mut command = format!(
            "APPEND \"{folder}\" ({flags}){date} {{{}+}}\r\n",
            message.len()
        )
        .into_bytes();
        command.extend_from_slice(message);
        self.ok(&String::from_utf8(command).expect("test mail is UTF-8"))
            .await;
    }

    /// Every message in `folder`: its FLAGS and its bytes, oldest first.
    pub async fn messages(&mut self, folder: &str) -> Vec<(String, Vec<u8>)> {
        let examined = self.ok(&format!("EXAMINE \"{folder}\"")).await;
        if examined.contains("* 0 EXISTS") {
            return Vec::new();
        }
        let answer = self.ok("FETCH 1:* (FLAGS BODY.PEEK[])").await;
        let mut messages = Vec::new();
        let mut rest = answer.as_str();
        while let Some(start) = rest.find("* ") {
            rest = &rest[start..];
            let line_end = rest.find("\r\n").unwrap_or(rest.len());
            let line = &rest[..line_end];
            let Some(open) = line.rfind('{') else {
                rest = &rest[line_end..];
                continue;
            };
            let size: usize = line[open + 1..line.len() - 1]
                .parse()
                .expect("literal size");
            let flags = line
                .split_once("FLAGS (")
                .and_then(|(_, f)| f.split_once(')'))
                .map(|(f, _)| f.to_owned())
                .unwrap_or_default();
            let body = &rest.as_bytes()[line_end + 2..line_end + 2 + size];
            messages.push((flags, body.to_vec()));
            rest = &rest[line_end + 2 + size..];
        }
        messages
    }
}
