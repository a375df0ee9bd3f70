//! The relay's own mail store, for POP3 accounts: message bodies as files, everything else in
//! SQLite (one file in the data directory). A collected message is durable before its POP3
//! DELE is sent: its file is written and fsynced, then its row and its UIDL are committed in one
//! transaction (WAL, synchronous=FULL).

use std::{
    fs, io,
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
};

use protocol::{
    Address, Flag, Folder, FolderRole, MessageList, MessageSummary, SearchHit, SearchQuery,
};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("mail store: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("mail store: {0}")]
    Io(#[from] io::Error),
    #[error("no such folder: {0}")]
    NoSuchFolder(String),
    #[error("a folder of that name exists already: {0}")]
    FolderExists(String),
    #[error("no such message (it may have been moved or deleted)")]
    NoSuchMessage,
    #[error("{0}")]
    BadInput(String),
}

/// The folders every POP3 account has.
const DEFAULT_FOLDERS: [(&str, FolderRole); 6] = [
    ("INBOX", FolderRole::Inbox),
    ("Sent", FolderRole::Sent),
    ("Drafts", FolderRole::Drafts),
    ("Trash", FolderRole::Trash),
    ("Junk", FolderRole::Junk),
    ("Archive", FolderRole::Archive),
];
/// Local folders are nested with `/`, like the IMAP folders the app knows.
const DELIMITER: char = '/';

pub struct Store {
    db: Mutex<Connection>,
    mail_dir: PathBuf,
}

/// A folder's messages in the order of its list (ids, newest first), and how many of them are
/// unread: read at one moment, so that a delta's counts match its positions.
#[derive(Debug, Default)]
pub struct Order {
    pub ids: Vec<u32>,
    pub unread: u32,
}

impl Order {
    pub fn total(&self) -> u32 {
        self.ids.len() as u32
    }
}

impl Store {
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let mail_dir = data_dir.join("mail");
        crate::private::dir(data_dir)?;
        crate::private::dir(&mail_dir)?;
        let db_path = data_dir.join("webmail.sqlite");
        let db = Connection::open(&db_path)?;
        // SQLite gives its -wal and -shm files the database file's permissions.
        crate::private::restrict(&db_path)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS folders (
                 user TEXT NOT NULL, name TEXT NOT NULL, role TEXT,
                 PRIMARY KEY (user, name));
             CREATE TABLE IF NOT EXISTS messages (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 user TEXT NOT NULL, folder TEXT NOT NULL, file TEXT NOT NULL,
                 size INTEGER NOT NULL, date INTEGER NOT NULL,
                 from_name TEXT, from_email TEXT, recipients TEXT NOT NULL, subject TEXT NOT NULL,
                 thread_id TEXT, has_attachments INTEGER NOT NULL,
                 seen INTEGER NOT NULL DEFAULT 0, flagged INTEGER NOT NULL DEFAULT 0,
                 answered INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX IF NOT EXISTS messages_by_folder ON messages (user, folder, date);
             CREATE TABLE IF NOT EXISTS collected (
                 user TEXT NOT NULL, uidl TEXT NOT NULL, collected_at INTEGER NOT NULL,
                 PRIMARY KEY (user, uidl));",
        )?;
        // Added with writing mail: the id every saved version of one draft shares, and keywords
        // (`$Forwarded`) as a JSON list.
        add_column(&db, "draft_id", "TEXT")?;
        add_column(&db, "keywords", "TEXT NOT NULL DEFAULT '[]'")?;
        // Added with previews: the row's first words (mail collected before has none).
        add_column(&db, "preview", "TEXT NOT NULL DEFAULT ''")?;
        for journal in ["webmail.sqlite-wal", "webmail.sqlite-shm"] {
            crate::private::restrict(&data_dir.join(journal))?;
        }
        Ok(Self {
            db: Mutex::new(db),
            mail_dir,
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().expect("not poisoned")
    }

    /// Creates the default folders the first time a user is seen.
    pub fn ensure_user(&self, user: &str) -> Result<(), StoreError> {
        let db = self.db();
        for (name, role) in DEFAULT_FOLDERS {
            db.execute(
                "INSERT OR IGNORE INTO folders (user, name, role) VALUES (?1, ?2, ?3)",
                params![user, name, role_name(role)],
            )?;
        }
        Ok(())
    }

    /// UIDLs already stored for `user`, with when they were collected (seconds since the epoch).
    pub fn collected(&self, user: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let db = self.db();
        let mut query = db.prepare("SELECT uidl, collected_at FROM collected WHERE user = ?1")?;
        let rows = query.query_map(params![user], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Bytes of mail `user` has in the store, every folder counted.
    pub fn bytes_used(&self, user: &str) -> Result<u64, StoreError> {
        let used: i64 = self.db().query_row(
            "SELECT COALESCE(SUM(size), 0) FROM messages WHERE user = ?1",
            params![user],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(used).unwrap_or_default())
    }

    /// A new message file for `user`, to be written as the message arrives. Nothing is kept
    /// unless it is handed to [`Self::store_collected`]; a dropped one leaves no file.
    pub fn incoming(&self, user: &str) -> Result<Incoming, StoreError> {
        let dir_name = user_dir(user);
        let dir = self.mail_dir.join(&dir_name);
        crate::private::dir(&dir)?;
        let name = crate::random_hex(16);
        let temp = dir.join(format!("{name}.tmp"));
        Ok(Incoming {
            file: crate::private::create(&temp)?,
            temp: Some(temp),
            name: format!("{dir_name}/{name}.eml"),
            scan: mime::MessageScan::new(),
            size: 0,
        })
    }

    /// Stores collected messages (`(uidl, message)`) durably, in INBOX, unread: every file
    /// fsynced and renamed into place, then all rows and UIDLs in one transaction. Returns how
    /// many were new; a UIDL collected before stores nothing.
    pub fn store_collected(
        &self,
        user: &str,
        batch: Vec<(String, Incoming)>,
        now: i64,
    ) -> Result<u32, StoreError> {
        let kept = batch
            .into_iter()
            .map(|(uidl, incoming)| Ok((uidl, self.put_in_place(incoming)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // One directory fsync makes every rename of the batch durable.
        self.sync_dir(user)?;
        let mut duplicates = Vec::new();
        let mut fresh = 0;
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            for (uidl, message) in &kept {
                let new = tx.execute(
                    "INSERT OR IGNORE INTO collected (user, uidl, collected_at) VALUES (?1, ?2, ?3)",
                    params![user, uidl, now],
                )? == 1;
                if new {
                    insert_message(&tx, user, "INBOX", message, now)?;
                    fresh += 1;
                } else {
                    duplicates.push(&message.file);
                }
            }
            tx.commit()?;
        }
        for file in duplicates {
            let _ = fs::remove_file(self.mail_dir.join(file));
        }
        Ok(fresh)
    }

    /// Keeps a message written here (a sent copy, a draft) in `folder`, durably; returns its
    /// UID. `draft_id` marks a version of a draft.
    pub fn add_message(
        &self,
        user: &str,
        folder: &str,
        message: &[u8],
        seen: bool,
        draft_id: Option<&str>,
    ) -> Result<u32, StoreError> {
        self.ensure_user(user)?;
        let mut incoming = self.incoming(user)?;
        incoming.write(message)?;
        let kept = self.put_in_place(incoming)?;
        self.sync_dir(user)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let db = self.db();
        if !folder_exists(&db, user, folder)? {
            return Err(StoreError::NoSuchFolder(folder.to_owned()));
        }
        insert_message(&db, user, folder, &kept, now)?;
        let uid = db.last_insert_rowid();
        db.execute(
            "UPDATE messages SET seen = ?2, draft_id = ?3 WHERE id = ?1",
            params![uid, seen, draft_id],
        )?;
        Ok(uid as u32)
    }

    /// Keeps `message` in Drafts as the one version of draft `id`; returns its UID.
    pub fn save_draft(&self, user: &str, message: &[u8], id: &str) -> Result<u32, StoreError> {
        let uid = self.add_message(user, "Drafts", message, true, Some(id))?;
        self.remove_drafts(user, id, Some(uid))?;
        Ok(uid)
    }

    /// Removes every version of draft `id` from Drafts, except `keep`.
    pub fn remove_drafts(&self, user: &str, id: &str, keep: Option<u32>) -> Result<(), StoreError> {
        let files: Vec<String> = {
            let db = self.db();
            let mut query = db.prepare(
                "SELECT file FROM messages WHERE user = ?1 AND folder = 'Drafts' AND draft_id = ?2 AND id IS NOT ?3",
            )?;
            let rows = query.query_map(params![user, id, keep], |r| r.get(0))?;
            let files = rows.collect::<Result<_, _>>()?;
            db.execute(
                "DELETE FROM messages WHERE user = ?1 AND folder = 'Drafts' AND draft_id = ?2 AND id IS NOT ?3",
                params![user, id, keep],
            )?;
            files
        };
        for file in files {
            let _ = fs::remove_file(self.mail_dir.join(file));
        }
        Ok(())
    }

    /// A written message, fsynced and renamed from its temp name; durable once its directory
    /// is synced ([`Self::sync_dir`]).
    fn put_in_place(&self, mut incoming: Incoming) -> Result<Kept, StoreError> {
        incoming.file.sync_all()?;
        if let Some(temp) = incoming.temp.take() {
            fs::rename(&temp, self.mail_dir.join(&incoming.name))?;
        }
        let scanned = std::mem::take(&mut incoming.scan).finish();
        Ok(Kept {
            file: std::mem::take(&mut incoming.name),
            size: incoming.size,
            scanned,
        })
    }

    /// Makes the renames in `user`'s message directory durable.
    fn sync_dir(&self, user: &str) -> Result<(), StoreError> {
        fs::File::open(self.mail_dir.join(user_dir(user)))?.sync_all()?;
        Ok(())
    }

    pub fn folders(&self, user: &str) -> Result<Vec<Folder>, StoreError> {
        let db = self.db();
        let mut query = db.prepare(
            "SELECT f.name, f.role,
                    (SELECT COUNT(*) FROM messages m WHERE m.user = f.user AND m.folder = f.name),
                    (SELECT COUNT(*) FROM messages m WHERE m.user = f.user AND m.folder = f.name AND m.seen = 0)
             FROM folders f WHERE f.user = ?1
             ORDER BY f.name <> 'INBOX', lower(f.name)",
        )?;
        let rows = query.query_map(params![user], |r| {
            Ok(Folder {
                name: r.get(0)?,
                role: r
                    .get::<_, Option<String>>(1)?
                    .as_deref()
                    .and_then(role_from_name),
                total: r.get(2)?,
                unread: r.get(3)?,
                delimiter: Some(DELIMITER),
                subscribed: true,
                selectable: true,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (total, unread) of one folder.
    pub fn create_folder(&self, user: &str, name: &str) -> Result<(), StoreError> {
        check_name(name)?;
        let added = self.db().execute(
            "INSERT OR IGNORE INTO folders (user, name, role) VALUES (?1, ?2, NULL)",
            params![user, name],
        )?;
        if added == 0 {
            return Err(StoreError::FolderExists(name.to_owned()));
        }
        Ok(())
    }

    /// Renames a user folder and everything below it.
    pub fn rename_folder(&self, user: &str, from: &str, to: &str) -> Result<(), StoreError> {
        check_name(to)?;
        let mut db = self.db();
        let tx = db.transaction()?;
        require_user_folder(&tx, user, from)?;
        if folder_exists(&tx, user, to)? {
            return Err(StoreError::FolderExists(to.to_owned()));
        }
        let children = format!("{from}{DELIMITER}%");
        let new_prefix = format!("{to}{DELIMITER}");
        let cut = from.len() + 2;
        for table in ["folders", "messages"] {
            let column = if table == "folders" { "name" } else { "folder" };
            tx.execute(
                &format!("UPDATE {table} SET {column} = ?3 WHERE user = ?1 AND {column} = ?2"),
                params![user, from, to],
            )?;
            tx.execute(
                &format!(
                    "UPDATE {table} SET {column} = ?3 || substr({column}, ?4) WHERE user = ?1 AND {column} LIKE ?2"
                ),
                params![user, children, new_prefix, cut as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes a user folder; its messages go to Trash.
    pub fn delete_folder(&self, user: &str, name: &str) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        require_user_folder(&tx, user, name)?;
        tx.execute(
            "UPDATE messages SET folder = 'Trash' WHERE user = ?1 AND folder = ?2",
            params![user, name],
        )?;
        tx.execute(
            "DELETE FROM folders WHERE user = ?1 AND name = ?2",
            params![user, name],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A page of a folder, newest first, and the whole folder's [`Order`] at the same moment:
    /// what the POP3 account tracks to send the folder's changes as deltas.
    pub fn list(
        &self,
        user: &str,
        folder: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(MessageList, Order), StoreError> {
        let db = self.db();
        if !folder_exists(&db, user, folder)? {
            return Err(StoreError::NoSuchFolder(folder.to_owned()));
        }
        let order = order_of(&db, user, folder)?;
        let mut query = db.prepare(&format!(
            "{SUMMARY} WHERE user = ?1 AND folder = ?2 ORDER BY date DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let mut messages: Vec<MessageSummary> = query
            .query_map(params![user, folder, limit, offset], summary)?
            .collect::<Result<_, _>>()?;
        count_threads(&db, user, folder, &mut messages)?;
        let list = MessageList {
            folder: folder.to_owned(),
            total: order.total(),
            offset,
            messages,
            version: 0,
        };
        Ok((list, order))
    }

    pub fn order(&self, user: &str, folder: &str) -> Result<Order, StoreError> {
        order_of(&self.db(), user, folder)
    }

    /// The list rows of those of `ids` that are in `folder`, and of the other messages there
    /// in their conversations (whose conversation sizes `ids` change).
    pub fn rows_with_threads(
        &self,
        user: &str,
        folder: &str,
        ids: &[u32],
    ) -> Result<Vec<MessageSummary>, StoreError> {
        let db = self.db();
        let mut query = db.prepare_cached(&format!(
            "{SUMMARY} WHERE user = ?1 AND folder = ?2 AND (id = ?3 OR thread_id = (SELECT thread_id FROM messages WHERE id = ?3))"
        ))?;
        let mut rows: Vec<MessageSummary> = Vec::new();
        for id in ids {
            for row in query.query_map(params![user, folder, id], summary)? {
                let row = row?;
                if !rows.iter().any(|r| r.uid == row.uid) {
                    rows.push(row);
                }
            }
        }
        drop(query);
        count_threads(&db, user, folder, &mut rows)?;
        Ok(rows)
    }

    /// One message's list row and raw bytes.
    pub fn message(
        &self,
        user: &str,
        folder: &str,
        uid: u32,
    ) -> Result<(MessageSummary, Vec<u8>), StoreError> {
        let (row, file) = {
            let db = self.db();
            let row = db
                .query_row(
                    &format!("{SUMMARY} WHERE user = ?1 AND folder = ?2 AND id = ?3"),
                    params![user, folder, uid],
                    summary,
                )
                .optional()?
                .ok_or(StoreError::NoSuchMessage)?;
            let file: String = db.query_row(
                "SELECT file FROM messages WHERE id = ?1",
                params![uid],
                |r| r.get(0),
            )?;
            (row, file)
        };
        Ok((row, fs::read(self.mail_dir.join(file))?))
    }

    pub fn set_flags(
        &self,
        user: &str,
        folder: &str,
        uids: &[u32],
        flags: &[Flag],
        set: bool,
    ) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        gone_unless_any(&tx, user, folder, uids)?;
        for flag in flags {
            let column = match flag {
                Flag::Seen => "seen",
                Flag::Flagged => "flagged",
                Flag::Answered => "answered",
                Flag::Keyword(name) => {
                    for uid in uids {
                        set_keyword(&tx, user, folder, *uid, name, set)?;
                    }
                    continue;
                }
            };
            for uid in uids {
                tx.execute(
                    &format!("UPDATE messages SET {column} = ?4 WHERE user = ?1 AND folder = ?2 AND id = ?3"),
                    params![user, folder, uid, set],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The keywords of a message (`$Forwarded`, labels).
    pub fn keywords(&self, user: &str, folder: &str, uid: u32) -> Result<Vec<String>, StoreError> {
        Ok(keywords_of(&self.db(), user, folder, uid)?.unwrap_or_default())
    }

    /// Returns the UIDs moved (a message keeps its UID in the store): those of `uids` that
    /// were in `folder`.
    pub fn move_messages(
        &self,
        user: &str,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<Vec<u32>, StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        if !folder_exists(&tx, user, to)? {
            return Err(StoreError::NoSuchFolder(to.to_owned()));
        }
        gone_unless_any(&tx, user, folder, uids)?;
        let mut moved = Vec::new();
        for uid in uids {
            let changed = tx.execute(
                "UPDATE messages SET folder = ?4 WHERE user = ?1 AND folder = ?2 AND id = ?3",
                params![user, folder, uid, to],
            )?;
            if changed > 0 {
                moved.push(*uid);
            }
        }
        tx.commit()?;
        Ok(moved)
    }

    pub fn copy_messages(
        &self,
        user: &str,
        folder: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<(), StoreError> {
        if !folder_exists(&self.db(), user, to)? {
            return Err(StoreError::NoSuchFolder(to.to_owned()));
        }
        for uid in uids {
            let (row, raw) = self.message(user, folder, *uid)?;
            let mut copy = self.incoming(user)?;
            copy.write(&raw)?;
            let copy = self.put_in_place(copy)?;
            self.sync_dir(user)?;
            insert_message(&self.db(), user, to, &copy, row.date)?;
        }
        Ok(())
    }

    /// To Trash (returning what moved, as [`Self::move_messages`] does); from Trash, removed
    /// for good (rows first, then files), returning `None`.
    pub fn delete_messages(
        &self,
        user: &str,
        folder: &str,
        uids: &[u32],
    ) -> Result<Option<Vec<u32>>, StoreError> {
        if folder != "Trash" {
            return self.move_messages(user, folder, uids, "Trash").map(Some);
        }
        let mut files = Vec::new();
        {
            let mut db = self.db();
            let tx = db.transaction()?;
            gone_unless_any(&tx, user, folder, uids)?;
            for uid in uids {
                let file: Option<String> = tx
                    .query_row(
                        "SELECT file FROM messages WHERE user = ?1 AND folder = 'Trash' AND id = ?2",
                        params![user, uid],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(file) = file {
                    tx.execute("DELETE FROM messages WHERE id = ?1", params![uid])?;
                    files.push(file);
                }
            }
            tx.commit()?;
        }
        for file in files {
            let _ = fs::remove_file(self.mail_dir.join(file));
        }
        Ok(None)
    }

    /// The messages of one conversation in `folder` and Sent, oldest first.
    pub fn conversation(
        &self,
        user: &str,
        folder: &str,
        thread_id: &str,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let db = self.db();
        let mut statement = db.prepare(&format!(
            "{SUMMARY_WITH_FOLDER} WHERE user = ?1 AND thread_id = ?2 AND folder IN (?3, 'Sent') ORDER BY date, id"
        ))?;
        let rows = statement.query_map(params![user, thread_id, folder], |r| {
            Ok(SearchHit {
                folder: r.get(0)?,
                message: summary_at(r, 1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Searches headers in the database and, for body and full-text queries, the stored files.
    pub fn search(
        &self,
        user: &str,
        folder: Option<&str>,
        query: &SearchQuery,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let needle = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_lowercase)
        };
        let (text, from, to, subject, body) = (
            needle(&query.text),
            needle(&query.from),
            needle(&query.to),
            needle(&query.subject),
            needle(&query.body),
        );
        if [&text, &from, &to, &subject, &body]
            .iter()
            .all(|n| n.is_none())
            && query.since.is_none()
            && query.before.is_none()
        {
            return Err(StoreError::BadInput("say what to search for".into()));
        }
        let candidates: Vec<(String, MessageSummary, String)> = {
            let db = self.db();
            let mut statement = db.prepare(&format!(
                "{SUMMARY_WITH_FOLDER} WHERE user = ?1 AND (?2 IS NULL OR folder = ?2) ORDER BY date DESC, id DESC"
            ))?;
            let rows = statement.query_map(params![user, folder], |r| {
                Ok((r.get(0)?, summary_at(r, 1)?, r.get(14)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let contains = |hay: &str, needle: &Option<String>| {
            needle
                .as_ref()
                .is_none_or(|n| hay.to_lowercase().contains(n))
        };
        let mut hits = Vec::new();
        for (folder, message, file) in candidates {
            let sender = message
                .from
                .as_ref()
                .map(|a| format!("{} {}", a.name.clone().unwrap_or_default(), a.email))
                .unwrap_or_default();
            let recipients: String = message
                .to
                .iter()
                .map(|a| format!("{} {} ", a.name.clone().unwrap_or_default(), a.email))
                .collect();
            let in_range = query.since.is_none_or(|s| message.date >= s)
                && query.before.is_none_or(|b| message.date < b);
            if !(in_range
                && contains(&sender, &from)
                && contains(&recipients, &to)
                && contains(&message.subject, &subject))
            {
                continue;
            }
            if body.is_some() || text.is_some() {
                let raw = fs::read(self.mail_dir.join(&file)).unwrap_or_default();
                let content = match mime::parse_message(&raw, mime::InlineLimits::NONE).body {
                    protocol::Body::Html { html, .. } => html,
                    protocol::Body::Text { text } => text,
                    protocol::Body::Empty => String::new(),
                };
                let everything = format!("{sender} {recipients} {} {content}", message.subject);
                if !contains(&content, &body) || !contains(&everything, &text) {
                    continue;
                }
            }
            hits.push(SearchHit { folder, message });
        }
        Ok(hits)
    }
}

/// A message being written into the store, piece by piece as it arrives.
pub struct Incoming {
    file: fs::File,
    /// Where it is written; `None` once it is in place.
    temp: Option<PathBuf>,
    /// Where it goes, relative to the mail directory.
    name: String,
    scan: mime::MessageScan,
    size: u64,
}

impl Incoming {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        // Into the page cache only; the slow part, fsync, happens in `Store::keep`, which runs
        // off the async threads.
        self.file.write_all(bytes)?;
        self.scan.feed(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            let _ = fs::remove_file(temp);
        }
    }
}

/// A message file in place, with what its row needs.
struct Kept {
    file: String,
    size: u64,
    scanned: mime::Scanned,
}

const SUMMARY: &str = "SELECT id, from_name, from_email, recipients, subject, date, seen, flagged, answered, size, has_attachments, thread_id, preview FROM messages";
const SUMMARY_WITH_FOLDER: &str = "SELECT folder, id, from_name, from_email, recipients, subject, date, seen, flagged, answered, size, has_attachments, thread_id, preview, file FROM messages";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageSummary> {
    summary_at(row, 0)
}

fn summary_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<MessageSummary> {
    let from_email: Option<String> = row.get(at + 2)?;
    let recipients: String = row.get(at + 3)?;
    Ok(MessageSummary {
        uid: row.get(at)?,
        from: from_email.map(|email| Address {
            name: row.get(at + 1).ok().flatten(),
            email,
        }),
        to: serde_json::from_str(&recipients).unwrap_or_default(),
        subject: row.get(at + 4)?,
        preview: row.get(at + 12)?,
        date: row.get(at + 5)?,
        unread: !row.get::<_, bool>(at + 6)?,
        flagged: row.get(at + 7)?,
        answered: row.get(at + 8)?,
        size: row.get(at + 9)?,
        has_attachments: row.get(at + 10)?,
        thread_id: row.get(at + 11)?,
        thread_size: 1,
        damaged: false,
    })
}

fn insert_message(
    db: &Connection,
    user: &str,
    folder: &str,
    message: &Kept,
    received: i64,
) -> Result<(), StoreError> {
    let headers = &message.scanned.headers.summary;
    db.execute(
        "INSERT INTO messages (user, folder, file, size, date, from_name, from_email, recipients, subject, thread_id, has_attachments, preview)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            user,
            folder,
            message.file,
            message.size as i64,
            headers.date.unwrap_or(received),
            headers.from.as_ref().and_then(|a| a.name.clone()),
            headers.from.as_ref().map(|a| a.email.clone()),
            serde_json::to_string(&headers.to).expect("addresses serialize"),
            headers.subject,
            headers.thread_id,
            message.scanned.has_attachments,
            message.scanned.preview,
        ],
    )?;
    Ok(())
}

/// Adds a column that a store made by an earlier version lacks.
fn add_column(db: &Connection, name: &str, definition: &str) -> Result<(), StoreError> {
    let present = db
        .prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = ?1")?
        .exists(params![name])?;
    if !present {
        db.execute_batch(&format!(
            "ALTER TABLE messages ADD COLUMN {name} {definition}"
        ))?;
    }
    Ok(())
}

/// A message's keywords; `None` if there is no such message.
fn keywords_of(
    db: &Connection,
    user: &str,
    folder: &str,
    uid: u32,
) -> Result<Option<Vec<String>>, StoreError> {
    let json: Option<String> = db
        .query_row(
            "SELECT keywords FROM messages WHERE user = ?1 AND folder = ?2 AND id = ?3",
            params![user, folder, uid],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j).unwrap_or_default()))
}

fn order_of(db: &Connection, user: &str, folder: &str) -> Result<Order, StoreError> {
    let mut query = db.prepare_cached(
        "SELECT id, seen FROM messages WHERE user = ?1 AND folder = ?2 ORDER BY date DESC, id DESC",
    )?;
    let mut order = Order::default();
    for row in query.query_map(params![user, folder], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, seen): (u32, bool) = row?;
        order.ids.push(id);
        order.unread += u32::from(!seen);
    }
    Ok(order)
}

/// Sets each row's conversation size: the messages of `folder` with its thread id.
fn count_threads(
    db: &Connection,
    user: &str,
    folder: &str,
    rows: &mut [MessageSummary],
) -> Result<(), StoreError> {
    for row in rows {
        if let Some(thread) = &row.thread_id {
            row.thread_size = db.query_row(
                "SELECT COUNT(*) FROM messages WHERE user = ?1 AND folder = ?2 AND thread_id = ?3",
                params![user, folder, thread],
                |r| r.get(0),
            )?;
        }
    }
    Ok(())
}

/// [`StoreError::NoSuchMessage`] when none of `uids` is in `folder` (deleted or moved by
/// another device, or before an action queued offline came back): the store's state wins, and
/// the user hears that nothing was done.
fn gone_unless_any(
    db: &Connection,
    user: &str,
    folder: &str,
    uids: &[u32],
) -> Result<(), StoreError> {
    let mut statement =
        db.prepare_cached("SELECT 1 FROM messages WHERE user = ?1 AND folder = ?2 AND id = ?3")?;
    for uid in uids {
        if statement.exists(params![user, folder, uid])? {
            return Ok(());
        }
    }
    if uids.is_empty() {
        Ok(())
    } else {
        Err(StoreError::NoSuchMessage)
    }
}

fn set_keyword(
    db: &Connection,
    user: &str,
    folder: &str,
    uid: u32,
    keyword: &str,
    set: bool,
) -> Result<(), StoreError> {
    let valid = !keyword.is_empty()
        && keyword.len() <= 64
        && keyword
            .chars()
            .all(|c| c.is_ascii_graphic() && !"(){%*\"\\]".contains(c));
    if !valid {
        return Err(StoreError::BadInput(format!("not a keyword: {keyword:?}")));
    }
    let Some(mut keywords) = keywords_of(db, user, folder, uid)? else {
        return Ok(()); // gone meanwhile, as a STORE on a vanished UID
    };
    keywords.retain(|k| !k.eq_ignore_ascii_case(keyword));
    if set {
        keywords.push(keyword.to_owned());
    }
    db.execute(
        "UPDATE messages SET keywords = ?4 WHERE user = ?1 AND folder = ?2 AND id = ?3",
        params![
            user,
            folder,
            uid,
            serde_json::to_string(&keywords).expect("strings serialize")
        ],
    )?;
    Ok(())
}

fn folder_exists(db: &Connection, user: &str, name: &str) -> Result<bool, StoreError> {
    Ok(db
        .query_row(
            "SELECT 1 FROM folders WHERE user = ?1 AND name = ?2",
            params![user, name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The folder exists and is not one of the default ones.
fn require_user_folder(db: &Connection, user: &str, name: &str) -> Result<(), StoreError> {
    if DEFAULT_FOLDERS.iter().any(|(n, _)| *n == name) {
        return Err(StoreError::BadInput(format!(
            "{name} cannot be renamed or deleted"
        )));
    }
    if !folder_exists(db, user, name)? {
        return Err(StoreError::NoSuchFolder(name.to_owned()));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let bad = name.trim().is_empty()
        || name.chars().any(char::is_control)
        || name.starts_with(DELIMITER)
        || name.ends_with(DELIMITER)
        || name.contains("//")
        || name.eq_ignore_ascii_case("INBOX");
    if bad {
        return Err(StoreError::BadInput(format!(
            "not a valid folder name: {name:?}"
        )));
    }
    Ok(())
}

/// A directory name per user that no address can turn into a path elsewhere.
pub(crate) fn user_dir(user: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, user.to_lowercase().as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn role_name(role: FolderRole) -> &'static str {
    match role {
        FolderRole::Inbox => "inbox",
        FolderRole::Sent => "sent",
        FolderRole::Drafts => "drafts",
        FolderRole::Trash => "trash",
        FolderRole::Junk => "junk",
        FolderRole::Archive => "archive",
    }
}

fn role_from_name(name: &str) -> Option<FolderRole> {
    DEFAULT_FOLDERS
        .iter()
        .map(|(_, role)| *role)
        .find(|role| role_name(*role) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.ensure_user("anna@example.org").unwrap();
        (dir, store)
    }

    const ANNA: &str = "anna@example.org";

    fn mail(subject: &str, date: &str) -> Vec<u8> {
        format!("From: Bob <bob@example.org>\r\nTo: anna@example.org\r\nSubject: {subject}\r\nDate: {date}\r\n\r\nHallo Anna, {subject}\r\n").into_bytes()
    }

    /// Collected messages `(uidl, raw)`, written as they would arrive.
    fn arriving(store: &Store, user: &str, batch: &[(String, Vec<u8>)]) -> Vec<(String, Incoming)> {
        batch
            .iter()
            .map(|(uidl, raw)| {
                let mut incoming = store.incoming(user).unwrap();
                for piece in raw.chunks(7) {
                    incoming.write(piece).unwrap();
                }
                (uidl.clone(), incoming)
            })
            .collect()
    }

    /// Stores one collected message; true if it was new.
    fn collect(store: &Store, user: &str, uidl: &str, raw: Vec<u8>) -> bool {
        let batch = arriving(store, user, &[(uidl.to_owned(), raw)]);
        store.store_collected(user, batch, 1).unwrap() == 1
    }

    #[test]
    fn collected_mail_is_stored_once_and_listed_newest_first() {
        let (_dir, store) = store();
        let first = (
            "u1".to_owned(),
            mail("Erste", "Mon, 13 Nov 2023 12:00:00 +0000"),
        );
        let second = (
            "u2".to_owned(),
            mail("Zweite", "Tue, 14 Nov 2023 12:00:00 +0000"),
        );
        assert_eq!(
            store
                .store_collected(ANNA, arriving(&store, ANNA, &[first.clone(), second]), 1)
                .unwrap(),
            2
        );
        assert!(!collect(&store, ANNA, "u1", first.1));
        let list = store.list(ANNA, "INBOX", 0, 10).unwrap().0;
        assert_eq!(list.total, 2);
        assert_eq!(list.messages[0].subject, "Zweite");
        assert!(list.messages[0].unread);
        assert_eq!(store.collected(ANNA).unwrap().len(), 2);
        let inbox = store
            .folders(ANNA)
            .unwrap()
            .into_iter()
            .find(|f| f.name == "INBOX")
            .unwrap();
        assert_eq!(
            (inbox.total, inbox.unread, inbox.role),
            (2, 2, Some(FolderRole::Inbox))
        );
        // Exactly one file per message: the duplicate's file was removed.
        let files: usize = fs::read_dir(store.mail_dir.join(user_dir(ANNA)))
            .unwrap()
            .count();
        assert_eq!(files, 2);
    }

    #[test]
    fn keywords_are_kept_per_message() {
        let (_dir, store) = store();
        collect(
            &store,
            ANNA,
            "u1",
            mail("Rechnung", "Mon, 13 Nov 2023 12:00:00 +0000"),
        );
        let uid = store.list(ANNA, "INBOX", 0, 1).unwrap().0.messages[0].uid;
        let forwarded = Flag::Keyword("$Forwarded".into());
        store
            .set_flags(
                ANNA,
                "INBOX",
                &[uid],
                std::slice::from_ref(&forwarded),
                true,
            )
            .unwrap();
        store
            .set_flags(
                ANNA,
                "INBOX",
                &[uid],
                std::slice::from_ref(&forwarded),
                true,
            )
            .unwrap();
        assert_eq!(store.keywords(ANNA, "INBOX", uid).unwrap(), ["$Forwarded"]);
        assert!(store
            .keywords("other@example.org", "INBOX", uid)
            .unwrap()
            .is_empty());
        let bad = Flag::Keyword("two words".into());
        assert!(store
            .set_flags(ANNA, "INBOX", &[uid], &[bad], true)
            .is_err());
        store
            .set_flags(ANNA, "INBOX", &[uid], &[forwarded], false)
            .unwrap();
        assert!(store.keywords(ANNA, "INBOX", uid).unwrap().is_empty());
    }

    #[test]
    fn flags_moves_folders_delete_and_search() {
        let (_dir, store) = store();
        collect(
            &store,
            ANNA,
            "u1",
            mail("Urlaub in Köln", "Mon, 13 Nov 2023 12:00:00 +0000"),
        );
        let uid = store.list(ANNA, "INBOX", 0, 1).unwrap().0.messages[0].uid;
        store
            .set_flags(ANNA, "INBOX", &[uid], &[Flag::Seen, Flag::Flagged], true)
            .unwrap();
        let (row, raw) = store.message(ANNA, "INBOX", uid).unwrap();
        assert!(!row.unread && row.flagged);
        assert!(String::from_utf8_lossy(&raw).contains("Urlaub"));

        store.create_folder(ANNA, "Familie").unwrap();
        assert!(matches!(
            store.create_folder(ANNA, "Familie"),
            Err(StoreError::FolderExists(_))
        ));
        store
            .move_messages(ANNA, "INBOX", &[uid], "Familie")
            .unwrap();
        store.create_folder(ANNA, "Familie/2023").unwrap();
        store.rename_folder(ANNA, "Familie", "Verwandte").unwrap();
        let names: Vec<_> = store
            .folders(ANNA)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert!(
            names.contains(&"Verwandte".to_owned()) && names.contains(&"Verwandte/2023".to_owned()),
            "{names:?}"
        );
        assert_eq!(store.list(ANNA, "Verwandte", 0, 10).unwrap().0.total, 1);
        assert!(matches!(
            store.rename_folder(ANNA, "INBOX", "x"),
            Err(StoreError::BadInput(_))
        ));

        let query = SearchQuery {
            text: Some("köln".into()),
            ..SearchQuery::default()
        };
        let hits = store.search(ANNA, None, &query).unwrap();
        assert_eq!((hits.len(), hits[0].folder.as_str()), (1, "Verwandte"));
        let query = SearchQuery {
            body: Some("hallo anna".into()),
            ..SearchQuery::default()
        };
        assert_eq!(
            store.search(ANNA, Some("Verwandte"), &query).unwrap().len(),
            1
        );
        assert!(store
            .search(ANNA, Some("INBOX"), &query)
            .unwrap()
            .is_empty());

        store.delete_messages(ANNA, "Verwandte", &[uid]).unwrap();
        assert_eq!(store.list(ANNA, "Trash", 0, 10).unwrap().0.total, 1);
        store.delete_messages(ANNA, "Trash", &[uid]).unwrap();
        assert_eq!(store.list(ANNA, "Trash", 0, 10).unwrap().0.total, 0);
        assert!(matches!(
            store.message(ANNA, "Trash", uid),
            Err(StoreError::NoSuchMessage)
        ));
        // The collected UIDL stays: deleting locally never brings a message back.
        assert_eq!(store.collected(ANNA).unwrap().len(), 1);
    }

    #[test]
    fn rows_know_the_size_of_their_conversation() {
        let (_dir, store) = store();
        let root = b"Subject: Plan\r\nMessage-ID: <r@x>\r\n\r\nroot\r\n".to_vec();
        let reply = b"Subject: Re: Plan\r\nMessage-ID: <s@x>\r\nReferences: <r@x>\r\n\r\nreply\r\n"
            .to_vec();
        let alone = b"Subject: Other\r\nMessage-ID: <o@x>\r\n\r\nalone\r\n".to_vec();
        let batch = [
            ("1".to_owned(), root),
            ("2".to_owned(), reply),
            ("3".to_owned(), alone),
        ];
        store
            .store_collected(ANNA, arriving(&store, ANNA, &batch), 1)
            .unwrap();
        let list = store.list(ANNA, "INBOX", 0, 10).unwrap().0;
        let size = |subject: &str| {
            list.messages
                .iter()
                .find(|m| m.subject == subject)
                .unwrap()
                .thread_size
        };
        assert_eq!((size("Plan"), size("Re: Plan"), size("Other")), (2, 2, 1));
    }

    #[test]
    fn users_are_kept_apart() {
        let (_dir, store) = store();
        collect(
            &store,
            ANNA,
            "u1",
            mail("Privat", "Mon, 13 Nov 2023 12:00:00 +0000"),
        );
        store.ensure_user("ben@example.org").unwrap();
        let uid = store.list(ANNA, "INBOX", 0, 1).unwrap().0.messages[0].uid;
        assert_eq!(
            store
                .list("ben@example.org", "INBOX", 0, 10)
                .unwrap()
                .0
                .total,
            0
        );
        assert!(matches!(
            store.message("ben@example.org", "INBOX", uid),
            Err(StoreError::NoSuchMessage)
        ));
        assert!(store.collected("ben@example.org").unwrap().is_empty());
    }
}
