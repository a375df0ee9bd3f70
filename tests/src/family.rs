//! A family's mail system: Dovecot (IMAP, POP3, LMTP) with Postfix in front of it for sending,
//! and a look into any user's folders over IMAP, as their own mail program would see them.

use std::time::Duration;

use webmail_server::config::{Config, TlsMode};

use crate::{dovecot::Dovecot, postfix::Postfix, raw_imap::RawImap, relay};

pub struct Family {
    pub dovecot: Dovecot,
    pub postfix: Postfix,
    users: Vec<(String, String)>,
}

impl Family {
    /// Starts both servers with these `(address, password)` users, every address deliverable.
    pub async fn start(users: &[(&str, &str)]) -> Self {
        let dovecot = Dovecot::start(users).await;
        let addresses: Vec<&str> = users.iter().map(|(u, _)| *u).collect();
        let postfix = Postfix::start(&dovecot, &addresses).await;
        Self {
            dovecot,
            postfix,
            users: users
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        }
    }

    /// A relay config reading by IMAP and sending through Postfix, both over STARTTLS.
    pub fn relay_config(&self) -> Config {
        let mut config = relay::config(Some(self.dovecot.imap_server(TlsMode::Starttls)));
        config.smtp = Some(self.postfix.smtp_server(TlsMode::Starttls));
        config
    }

    /// Every message in `user`'s `folder` now: its flags and bytes, oldest first.
    pub async fn mailbox(&self, user: &str, folder: &str) -> Vec<(String, Vec<u8>)> {
        let password = &self
            .users
            .iter()
            .find(|(u, _)| u == user)
            .expect("a user of this family")
            .1;
        let mut imap = RawImap::login(self.dovecot.imap_port, user, password).await;
        imap.messages(folder).await
    }

    /// Waits up to 10 s until `user`'s `folder` holds `count` messages; returns them.
    pub async fn wait_for(&self, user: &str, folder: &str, count: usize) -> Vec<(String, Vec<u8>)> {
        self.wait_for_long(user, folder, count, Duration::from_secs(10))
            .await
    }

    /// [`Self::wait_for`], up to `within`.
    pub async fn wait_for_long(
        &self,
        user: &str,
        folder: &str,
        count: usize,
        within: Duration,
    ) -> Vec<(String, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            let messages = self.mailbox(user, folder).await;
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{user}'s {folder} did not get {count} messages\npostfix:\n{}",
            self.postfix.log()
        );
    }
}
