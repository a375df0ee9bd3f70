//! The names and signatures of the addresses users send as: which addresses a user may use is
//! the config's to say (`[smtp]`), what they are called is the user's, kept in the data
//! directory's `identities/`, one small file per user, so that every device shows the same.

use std::{io, path::PathBuf};

use protocol::Identity;

use crate::{config::SmtpConfig, private::PerUser};

const MAX_NAME: usize = 100;
const MAX_SIGNATURE: usize = 2_000;

pub struct Identities {
    files: PerUser,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0:?} is not an address you may send as")]
    NotYours(String),
    #[error("a name is one line of at most {MAX_NAME} characters")]
    BadName,
    #[error("a signature has at most {MAX_SIGNATURE} characters")]
    SignatureTooLong,
    #[error("identities: {0}")]
    Io(#[from] io::Error),
}

impl Identities {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        Ok(Self {
            files: PerUser::open(dir)?,
        })
    }

    /// Every address `user` may send as (the login address first), with what they saved.
    pub fn of(&self, config: &SmtpConfig, user: &str) -> Vec<Identity> {
        let saved: Vec<Identity> = self.files.read(user);
        config
            .identities(user)
            .into_iter()
            .map(|address| {
                saved
                    .iter()
                    .find(|s| s.address.eq_ignore_ascii_case(&address))
                    .map(|s| Identity {
                        address: address.clone(),
                        ..s.clone()
                    })
                    .unwrap_or(Identity {
                        address,
                        ..Identity::default()
                    })
            })
            .collect()
    }

    /// Keeps the name and signature of one of `user`'s addresses.
    pub fn save(
        &self,
        config: &SmtpConfig,
        user: &str,
        identity: Identity,
    ) -> Result<(), IdentityError> {
        let name = identity.name.trim();
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(IdentityError::BadName);
        }
        if identity.signature.chars().count() > MAX_SIGNATURE {
            return Err(IdentityError::SignatureTooLong);
        }
        let mut all = self.of(config, user);
        let slot = all
            .iter_mut()
            .find(|i| i.address.eq_ignore_ascii_case(&identity.address))
            .ok_or_else(|| IdentityError::NotYours(identity.address.clone()))?;
        slot.name = name.to_owned();
        slot.signature = identity.signature.replace("\r\n", "\n");
        self.files.write(user, &all)?;
        Ok(())
    }
}
