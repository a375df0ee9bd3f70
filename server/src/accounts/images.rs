//! "Always show images from this sender": kept per user on the relay (in the data directory's
//! `image-senders/`, one small file per user), so the choice follows the user to every device
//! and stays off shared ones. It never applies to a message whose From the mail server found
//! forged (DMARC or DKIM failed, see `mime::Headers::forged_from`): a stranger cannot borrow a
//! trusted sender's name to track the user.

use std::{fs, io, path::PathBuf};

use protocol::MessageView;

use crate::store::user_dir;

/// Enough for every sender a family member trusts; a longer list is refused, not grown.
const MAX_SENDERS: usize = 1_000;

pub struct ImageSenders {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageSendersError {
    #[error("{0:?} is not an e-mail address")]
    NotAnAddress(String),
    #[error("images are already allowed for {MAX_SENDERS} senders")]
    TooMany,
    #[error("image senders: {0}")]
    Io(#[from] io::Error),
}

impl ImageSenders {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        crate::private::dir(&dir)?;
        Ok(Self { dir })
    }

    /// Whether `message`'s remote images show at once for `user`.
    pub fn allowed(&self, user: &str, message: &MessageView) -> bool {
        !message.forged_from
            && message.from.as_ref().is_some_and(|from| {
                self.of(user)
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&from.email))
            })
    }

    pub fn allow(&self, user: &str, sender: &str) -> Result<(), ImageSendersError> {
        let sender = sender.trim();
        if sender.len() > 254 || !sender.contains('@') || sender.chars().any(char::is_control) {
            return Err(ImageSendersError::NotAnAddress(sender.to_owned()));
        }
        let mut senders = self.of(user);
        if senders.iter().any(|s| s.eq_ignore_ascii_case(sender)) {
            return Ok(());
        }
        if senders.len() >= MAX_SENDERS {
            return Err(ImageSendersError::TooMany);
        }
        senders.push(sender.to_owned());
        crate::private::write_durably(
            &self.file(user),
            &serde_json::to_vec(&senders).expect("addresses serialize"),
        )?;
        Ok(())
    }

    fn of(&self, user: &str) -> Vec<String> {
        fs::read(self.file(user))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn file(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{}.json", user_dir(user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Address, Body};

    fn from(email: &str, forged_from: bool) -> MessageView {
        MessageView {
            folder: "INBOX".into(),
            uid: 1,
            from: Some(Address {
                name: None,
                email: email.into(),
            }),
            to: vec![],
            cc: vec![],
            reply_to: vec![],
            subject: String::new(),
            date: 0,
            message_id: None,
            references: vec![],
            thread_id: None,
            body: Body::Empty,
            attachments: vec![],
            unread: false,
            flagged: false,
            answered: false,
            keywords: vec![],
            damaged: false,
            truncated: false,
            forged_from,
            images_allowed: false,
        }
    }

    #[test]
    fn a_trusted_sender_shows_images_unless_forged_and_users_are_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let senders = ImageSenders::open(dir.path().join("image-senders")).unwrap();
        senders
            .allow("anna@example.org", "News@Shop.example")
            .unwrap();
        senders
            .allow("anna@example.org", "news@shop.example")
            .unwrap();
        assert!(senders.allowed("anna@example.org", &from("news@shop.example", false)));
        assert!(!senders.allowed("anna@example.org", &from("news@shop.example", true)));
        assert!(!senders.allowed("anna@example.org", &from("other@shop.example", false)));
        assert!(!senders.allowed("ben@example.org", &from("news@shop.example", false)));
        assert_eq!(senders.of("anna@example.org").len(), 1);
        assert!(matches!(
            senders.allow("anna@example.org", "not an address"),
            Err(ImageSendersError::NotAnAddress(_))
        ));
    }
}
