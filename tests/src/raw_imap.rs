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
}
