//! The addresses a user writes with: every sender and recipient the relay has shown or sent for
//! them, so the editor can suggest them. Kept per user in the data directory's `contacts/`
//! (at most [`MAX_CONTACTS`], the least used dropped first); written when a new address turns up.

use std::{collections::HashMap, io, path::PathBuf, sync::Mutex};

use protocol::Address;
use serde::{Deserialize, Serialize};

use crate::private::PerUser;

const MAX_CONTACTS: usize = 2_000;
const MAX_SUGGESTIONS: usize = 8;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Contact {
    name: Option<String>,
    email: String,
    /// How often seen; a message the user sent to it counts more.
    weight: u32,
}

pub struct Contacts {
    files: PerUser,
    by_user: Mutex<HashMap<String, Vec<Contact>>>,
}

impl Contacts {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        Ok(Self {
            files: PerUser::open(dir)?,
            by_user: Mutex::default(),
        })
    }

    /// `user` saw these addresses (senders and recipients of mail they read).
    pub fn seen<'a>(&self, user: &str, addresses: impl IntoIterator<Item = &'a Address>) {
        self.add(user, addresses, 1);
    }

    /// `user` wrote to these addresses.
    pub fn wrote_to<'a>(&self, user: &str, addresses: impl IntoIterator<Item = &'a Address>) {
        self.add(user, addresses, 5);
    }

    fn add<'a>(&self, user: &str, addresses: impl IntoIterator<Item = &'a Address>, weight: u32) {
        let mut by_user = self.by_user.lock().expect("not poisoned");
        let contacts = by_user
            .entry(user.to_lowercase())
            .or_insert_with(|| self.load(user));
        let mut new = false;
        for address in addresses {
            let email = address.email.trim();
            if email.is_empty() || !email.contains('@') || email.eq_ignore_ascii_case(user) {
                continue;
            }
            match contacts
                .iter_mut()
                .find(|c| c.email.eq_ignore_ascii_case(email))
            {
                Some(known) => {
                    known.weight = known.weight.saturating_add(weight);
                    if known.name.is_none() {
                        known.name.clone_from(&address.name);
                    }
                }
                None => {
                    new = true;
                    contacts.push(Contact {
                        name: address.name.clone(),
                        email: email.to_owned(),
                        weight,
                    });
                }
            }
        }
        if new || weight > 1 {
            contacts.sort_by_key(|c| std::cmp::Reverse(c.weight));
            contacts.truncate(MAX_CONTACTS);
            self.save(user, contacts);
        }
    }

    /// The best-known addresses whose e-mail or a word of whose name starts with `prefix`.
    pub fn suggest(&self, user: &str, prefix: &str) -> Vec<Address> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() {
            return Vec::new();
        }
        let mut by_user = self.by_user.lock().expect("not poisoned");
        let contacts = by_user
            .entry(user.to_lowercase())
            .or_insert_with(|| self.load(user));
        contacts
            .iter()
            .filter(|c| {
                c.email.to_lowercase().starts_with(&prefix)
                    || c.name.as_deref().is_some_and(|n| {
                        n.to_lowercase()
                            .split_whitespace()
                            .any(|word| word.starts_with(&prefix))
                            || n.to_lowercase().starts_with(&prefix)
                    })
            })
            .take(MAX_SUGGESTIONS)
            .map(|c| Address {
                name: c.name.clone(),
                email: c.email.clone(),
            })
            .collect()
    }

    fn load(&self, user: &str) -> Vec<Contact> {
        self.files.read(user)
    }

    fn save(&self, user: &str, contacts: &[Contact]) {
        if let Err(e) = self.files.write(user, contacts) {
            tracing::warn!(error = %e, "cannot keep the address suggestions");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: Option<&str>, email: &str) -> Address {
        Address {
            name: name.map(Into::into),
            email: email.into(),
        }
    }

    #[test]
    fn suggests_by_address_and_name_words_most_used_first_and_remembers() {
        let dir = tempfile::tempdir().unwrap();
        let contacts = Contacts::open(dir.path().to_owned()).unwrap();
        let me = "anna@example.org";
        contacts.seen(
            me,
            &[
                address(Some("Bernd Müller"), "bernd@example.org"),
                address(None, "berta@example.net"),
                address(None, "anna@example.org"),
            ],
        );
        contacts.wrote_to(me, &[address(None, "berta@example.net")]);
        let found = contacts.suggest(me, "ber");
        let emails: Vec<&str> = found.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(emails, ["berta@example.net", "bernd@example.org"]);
        assert_eq!(contacts.suggest(me, "mül")[0].email, "bernd@example.org");
        assert!(
            contacts.suggest(me, "anna").is_empty(),
            "not the user's own address"
        );
        assert!(
            contacts.suggest("other@example.org", "ber").is_empty(),
            "per user"
        );
        let reopened = Contacts::open(dir.path().to_owned()).unwrap();
        assert_eq!(reopened.suggest(me, "ber").len(), 2);
    }
}
