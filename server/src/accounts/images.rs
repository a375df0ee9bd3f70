//! "Always show images from this sender": kept per user on the relay (in the data directory's
//! `image-senders/`, one small file per user), so the choice follows the user to every device
//! and stays off shared ones. It never applies to a message whose From the mail server found
//! forged (DMARC or DKIM failed, see `mime::Headers::forged_from`): a stranger cannot borrow a
//! trusted sender's name to track the user.

use std::{
    collections::HashMap,
    io,
    path::PathBuf,
    sync::{Mutex, MutexGuard},
};

use protocol::{ErrorCode, MessageView};

use crate::private::PerUser;

/// Enough for every sender a family member trusts; a longer list is refused, not grown.
const MAX_SENDERS: usize = 1_000;

pub struct ImageSenders {
    files: PerUser,
    /// Each user's list as read from their file once: every opened message asks.
    by_user: Mutex<HashMap<String, Vec<String>>>,
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

impl ImageSendersError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotAnAddress(_) | Self::TooMany => ErrorCode::BadRequest,
            Self::Io(_) => ErrorCode::Internal,
        }
    }
}

impl ImageSenders {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        Ok(Self {
            files: PerUser::open(dir)?,
            by_user: Mutex::default(),
        })
    }

    /// Whether `message`'s remote images show at once for `user`.
    pub fn allowed(&self, user: &str, message: &MessageView) -> bool {
        let Some(from) = message.from.as_ref().filter(|_| !message.forged_from) else {
            return false;
        };
        let mut all = self.lock();
        self.cached(&mut all, user)
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&from.email))
    }

    pub fn allow(&self, user: &str, sender: &str) -> Result<(), ImageSendersError> {
        let sender = sender.trim();
        if sender.len() > 254 || !sender.contains('@') || sender.chars().any(char::is_control) {
            return Err(ImageSendersError::NotAnAddress(sender.to_owned()));
        }
        let mut all = self.lock();
        let senders = self.cached(&mut all, user);
        if senders.iter().any(|s| s.eq_ignore_ascii_case(sender)) {
            return Ok(());
        }
        if senders.len() >= MAX_SENDERS {
            return Err(ImageSendersError::TooMany);
        }
        senders.push(sender.to_owned());
        if let Err(e) = self.files.write(user, senders) {
            senders.pop(); // not kept, so not claimed either
            return Err(e.into());
        }
        Ok(())
    }

    #[cfg(test)]
    fn of(&self, user: &str) -> Vec<String> {
        let mut all = self.lock();
        self.cached(&mut all, user).clone()
    }

    fn cached<'a>(
        &self,
        all: &'a mut HashMap<String, Vec<String>>,
        user: &str,
    ) -> &'a mut Vec<String> {
        all.entry(user.to_owned())
            .or_insert_with(|| self.files.read(user))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<String>>> {
        self.by_user.lock().expect("not poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Address;

    fn from(email: &str, forged_from: bool) -> MessageView {
        MessageView {
            from: Some(Address {
                name: None,
                email: email.into(),
            }),
            forged_from,
            ..MessageView::default()
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
