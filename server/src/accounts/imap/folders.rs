//! Folders: LIST and LSUB, counts by STATUS, roles by SPECIAL-USE or by name, and changes.

use std::collections::HashSet;

use imap_codec::imap_types::{
    command::{CommandBody, SelectParameter},
    flag::FlagNameAttribute,
    mailbox::Mailbox,
    response::{Capability, Code, Data, StatusKind},
    search::SearchKey,
    status::{StatusDataItem, StatusDataItemName},
};
use protocol::{Folder, FolderRole};

use super::{connection::Selected, mirror::Validity, utf7, ImapConnection, ImapError};

impl ImapConnection {
    /// Every folder with role and counts, INBOX first, the rest by name.
    pub async fn list_folders(&mut self) -> Result<Vec<Folder>, ImapError> {
        let mut folders = self.list_folder_names().await?;
        let selectable: Vec<String> = folders
            .iter()
            .filter(|f| f.selectable)
            .map(|f| f.name.clone())
            .collect();
        let counts = self.counts(&selectable).await?;
        with_counts(&mut folders, counts);
        Ok(folders)
    }

    /// Every folder with its role, without counts (one round trip).
    pub async fn list_folder_names(&mut self) -> Result<Vec<Folder>, ImapError> {
        let data = self.run_pipelined(list_commands()?).await?.data;
        Ok(folders_from(&data))
    }

    /// (total, unread) of each folder: STATUS, pipelined, for the others; the selected folder's
    /// own view for the selected one (RFC 3501 advises against STATUS on it).
    pub async fn counts(
        &mut self,
        folders: &[String],
    ) -> Result<Vec<(String, (u32, u32))>, ImapError> {
        let selected = self.selected.clone();
        let others: Vec<String> = folders
            .iter()
            .filter(|f| selected.as_ref().is_none_or(|s| &s.name != *f))
            .cloned()
            .collect();
        let mut counts = Vec::new();
        if !others.is_empty() {
            let data = self.run_pipelined(status_commands(&others)?).await?.data;
            counts = counts_from(&data);
        }
        if let Some(Selected { name, .. }) = selected.filter(|s| folders.contains(&s.name)) {
            counts.push((name.clone(), self.selected_counts().await?));
        }
        Ok(counts)
    }

    /// (total, unread) of the selected folder, fresh from the server.
    pub(super) async fn selected_counts(&mut self) -> Result<(u32, u32), ImapError> {
        let data = self
            .run(CommandBody::search(None, SearchKey::Unseen.into(), true))
            .await?;
        let unread = data
            .iter()
            .map(|d| match d {
                Data::Search(uids, ..) => uids.len() as u32,
                _ => 0,
            })
            .sum();
        let total = self.selected.as_ref().map_or(0, |s| s.exists);
        Ok((total, unread))
    }

    pub async fn create_folder(&mut self, name: &str) -> Result<(), ImapError> {
        let body = CommandBody::create(mailbox(name)?).map_err(|_| bad_name(name))?;
        self.act(body).await?;
        // Where subscriptions matter, a new folder should show up in other clients too.
        let _ = self.subscribe_folder(name, true).await;
        Ok(())
    }

    pub async fn rename_folder(&mut self, from: &str, to: &str) -> Result<(), ImapError> {
        if from.eq_ignore_ascii_case("INBOX") {
            return Err(ImapError::BadInput("INBOX cannot be renamed".into()));
        }
        self.leave_if_selected(from).await?;
        let body = CommandBody::rename(mailbox(from)?, mailbox(to)?).map_err(|_| bad_name(to))?;
        self.act(body).await?;
        self.mirror.forget_tree(from);
        let _ = self.subscribe_folder(from, false).await;
        let _ = self.subscribe_folder(to, true).await;
        Ok(())
    }

    pub async fn delete_folder(&mut self, name: &str) -> Result<(), ImapError> {
        if name.eq_ignore_ascii_case("INBOX") {
            return Err(ImapError::BadInput("INBOX cannot be deleted".into()));
        }
        self.leave_if_selected(name).await?;
        let body = CommandBody::delete(mailbox(name)?).map_err(|_| bad_name(name))?;
        self.act(body).await?;
        self.mirror.forget_tree(name);
        let _ = self.subscribe_folder(name, false).await;
        Ok(())
    }

    pub async fn subscribe_folder(
        &mut self,
        name: &str,
        subscribed: bool,
    ) -> Result<(), ImapError> {
        let mailbox = mailbox(name)?;
        let body = if subscribed {
            CommandBody::subscribe(mailbox)
        } else {
            CommandBody::unsubscribe(mailbox)
        }
        .map_err(|_| bad_name(name))?;
        self.act(body).await.map(drop)
    }

    /// A folder cannot be renamed or deleted while selected on some servers: select INBOX.
    async fn leave_if_selected(&mut self, name: &str) -> Result<(), ImapError> {
        if self.is_selected(name) {
            self.select("INBOX").await?;
        }
        Ok(())
    }

    /// Asks for news without IDLE: whatever changed arrives as untagged data.
    pub async fn poll(&mut self) -> Result<Vec<Data<'static>>, ImapError> {
        let data = self.act(CommandBody::Noop).await?;
        Ok(data
            .into_iter()
            .filter(|d| matches!(d, Data::Exists(_) | Data::Expunge(_) | Data::Fetch { .. }))
            .collect())
    }

    /// Selects `folder` unless it is selected already; then its count is current. Changes the
    /// server reports while a folder is selected arrive on their own where it has IDLE (the
    /// relay waits in IDLE between requests); without IDLE a NOOP asks for them.
    pub(super) async fn select(&mut self, folder: &str) -> Result<u32, ImapError> {
        if let Some(selected) = &self.selected {
            if selected.name == folder {
                if !self.supports_idle() {
                    self.act(CommandBody::Noop).await?;
                }
                return Ok(self.selected.as_ref().map_or(0, |s| s.exists));
            }
        }
        let answer = self.send_select(folder, Vec::new()).await?;
        let now = self.selected_from(folder, answer.data, &answer.codes);
        self.mirror.selected(folder, &now);
        Ok(now.exists)
    }

    /// Sends SELECT (with CONDSTORE where offered, for HIGHESTMODSEQ) and, pipelined behind
    /// it, `then` (commands on the folder being selected); the folder is not yet taken as
    /// selected ([`Self::selected_from`] does that).
    pub(super) async fn send_select(
        &mut self,
        folder: &str,
        then: Vec<CommandBody<'static>>,
    ) -> Result<super::connection::Pipelined, ImapError> {
        self.selected = None;
        let parameters = if self.has(&Capability::CondStore) {
            vec![SelectParameter::CondStore]
        } else {
            Vec::new()
        };
        let select = CommandBody::Select {
            mailbox: mailbox(folder)?,
            parameters,
        };
        let mut bodies = vec![select];
        bodies.extend(then);
        let answer = match self.run_pipelined(bodies).await {
            Ok(answer) => answer,
            Err(ImapError::Unreadable(response)) => {
                // One of the answers could not be read: select alone, the caller asks again.
                tracing::info!(%response, "answer to SELECT and what followed unreadable");
                let answer = self
                    .execute(CommandBody::select(mailbox(folder)?).map_err(|_| bad_name(folder))?)
                    .await?;
                super::connection::Pipelined {
                    data: answer.data,
                    codes: answer.codes,
                    statuses: vec![answer.status],
                }
            }
            Err(e) => return Err(e),
        };
        match answer.statuses.first() {
            Some(status) if status.kind == StatusKind::Ok => Ok(answer),
            _ => Err(ImapError::NoSuchFolder(folder.to_owned())),
        }
    }

    /// Takes `folder` as selected, with the message count and state SELECT reported.
    pub(super) fn selected_from(
        &mut self,
        folder: &str,
        data: Vec<Data<'static>>,
        codes: &[Code<'_>],
    ) -> Validity {
        let exists = data
            .iter()
            .rev()
            .find_map(|d| match d {
                Data::Exists(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(0);
        let mut validity = Validity {
            exists,
            ..Validity::default()
        };
        for code in codes {
            match code {
                Code::UidValidity(v) => validity.uid_validity = v.get(),
                Code::UidNext(n) => validity.uid_next = n.get(),
                Code::HighestModSeq(m) => validity.highest_modseq = Some(m.get()),
                _ => {}
            }
        }
        self.selected = Some(Selected {
            name: folder.to_owned(),
            exists,
            validity,
        });
        validity
    }
}

/// LIST and LSUB of every folder, for [`folders_from`].
pub(super) fn list_commands() -> Result<Vec<CommandBody<'static>>, ImapError> {
    [CommandBody::list("", "*"), CommandBody::lsub("", "*")]
        .into_iter()
        .map(|c| c.map_err(|_| ImapError::Protocol("LIST arguments".into())))
        .collect()
}

/// The folders in the answers to [`list_commands`], with roles and subscriptions, without
/// counts; INBOX first, the rest by name.
pub(super) fn folders_from(data: &[Data<'static>]) -> Vec<Folder> {
    let mut subscribed = HashSet::new();
    let mut listed = Vec::new();
    for d in data {
        match d {
            Data::List {
                items,
                delimiter,
                mailbox,
            } => listed.push((mailbox_name(mailbox), delimiter.map(|d| d.inner()), items)),
            Data::Lsub { mailbox, .. } => {
                subscribed.insert(mailbox_name(mailbox));
            }
            _ => {}
        }
    }
    let mut folders: Vec<Folder> = listed
        .into_iter()
        .map(|(imap_name, delimiter, items)| {
            let name = utf7::decode(&imap_name);
            Folder {
                role: role_by_attribute(items).or_else(|| role_by_name(&name, delimiter)),
                selectable: !items.contains(&FlagNameAttribute::Noselect),
                subscribed: subscribed.contains(&imap_name) || imap_name == "INBOX",
                delimiter,
                name,
                total: 0,
                unread: 0,
            }
        })
        .collect();
    folders.sort_by(|a, b| {
        (a.name != "INBOX", a.name.to_lowercase()).cmp(&(b.name != "INBOX", b.name.to_lowercase()))
    });
    folders
}

pub(super) fn with_counts(folders: &mut [Folder], counts: Vec<(String, (u32, u32))>) {
    for (name, (total, unread)) in counts {
        if let Some(folder) = folders.iter_mut().find(|f| f.name == name) {
            folder.total = total;
            folder.unread = unread;
        }
    }
}

/// STATUS (messages, unseen) of each of `folders`, for [`counts_from`].
pub(super) fn status_commands(folders: &[String]) -> Result<Vec<CommandBody<'static>>, ImapError> {
    folders
        .iter()
        .map(|name| {
            CommandBody::status(
                mailbox(name)?,
                vec![StatusDataItemName::Messages, StatusDataItemName::Unseen],
            )
            .map_err(|_| ImapError::NoSuchFolder(name.clone()))
        })
        .collect()
}

/// (total, unread) by folder from STATUS answers.
pub(super) fn counts_from(data: &[Data<'static>]) -> Vec<(String, (u32, u32))> {
    data.iter()
        .filter_map(|d| match d {
            Data::Status { mailbox, items } => {
                let (mut total, mut unread) = (0, 0);
                for item in items.iter() {
                    match item {
                        StatusDataItem::Messages(n) => total = *n,
                        StatusDataItem::Unseen(n) => unread = *n,
                        _ => {}
                    }
                }
                Some((utf7::decode(&mailbox_name(mailbox)), (total, unread)))
            }
            _ => None,
        })
        .collect()
}

/// A folder name from the app, as IMAP wants it.
pub(super) fn mailbox(name: &str) -> Result<Mailbox<'static>, ImapError> {
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Err(bad_name(name));
    }
    Mailbox::try_from(utf7::encode(name)).map_err(|_| bad_name(name))
}

fn bad_name(name: &str) -> ImapError {
    ImapError::BadInput(format!("not a valid folder name: {name:?}"))
}

/// The IMAP (modified UTF-7) name of a mailbox.
fn mailbox_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(other) => String::from_utf8_lossy(other.inner().as_ref()).into_owned(),
    }
}

/// RFC 6154 SPECIAL-USE attributes.
fn role_by_attribute(items: &[FlagNameAttribute<'_>]) -> Option<FolderRole> {
    items.iter().find_map(
        |item| match item.to_string().to_ascii_lowercase().as_str() {
            "\\sent" => Some(FolderRole::Sent),
            "\\drafts" => Some(FolderRole::Drafts),
            "\\trash" => Some(FolderRole::Trash),
            "\\junk" => Some(FolderRole::Junk),
            "\\archive" => Some(FolderRole::Archive),
            _ => None,
        },
    )
}

/// The names clients commonly give these folders, in English and German, at the top level or
/// under INBOX.
fn role_by_name(name: &str, delimiter: Option<char>) -> Option<FolderRole> {
    if name.eq_ignore_ascii_case("INBOX") {
        return Some(FolderRole::Inbox);
    }
    let leaf = match delimiter {
        Some(d) => {
            let mut parts = name.split(d);
            let first = parts.next()?;
            match (
                first.eq_ignore_ascii_case("INBOX"),
                parts.next(),
                parts.next(),
            ) {
                (true, Some(leaf), None) => leaf,
                (_, None, _) => first,
                _ => return None,
            }
        }
        None => name,
    };
    let role = match leaf.to_lowercase().as_str() {
        "sent" | "sent messages" | "sent items" | "sent mail" | "gesendet"
        | "gesendete objekte" | "gesendete elemente" => FolderRole::Sent,
        "drafts" | "draft" | "entwürfe" => FolderRole::Drafts,
        "trash"
        | "deleted messages"
        | "deleted items"
        | "bin"
        | "papierkorb"
        | "gelöschte elemente"
        | "gelöschte objekte" => FolderRole::Trash,
        "junk" | "spam" | "junk e-mail" | "junk-e-mail" => FolderRole::Junk,
        "archive" | "archives" | "archiv" => FolderRole::Archive,
        _ => return None,
    };
    Some(role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_common_names() {
        assert_eq!(role_by_name("INBOX", Some('/')), Some(FolderRole::Inbox));
        assert_eq!(
            role_by_name("Sent Items", Some('/')),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            role_by_name("INBOX.Papierkorb", Some('.')),
            Some(FolderRole::Trash)
        );
        assert_eq!(role_by_name("Entwürfe", None), Some(FolderRole::Drafts));
        assert_eq!(role_by_name("Projects/Sent", Some('/')), None);
        assert_eq!(role_by_name("Holidays", Some('/')), None);
    }

    #[test]
    fn folder_names_are_checked_and_encoded() {
        assert!(mailbox("Work\r\nA1 DELETE INBOX").is_err());
        assert!(mailbox("").is_err());
        let name = mailbox("Entwürfe").unwrap();
        assert_eq!(mailbox_name(&name), "Entw&APw-rfe");
        assert_eq!(mailbox_name(&mailbox("inbox").unwrap()), "INBOX");
    }
}
