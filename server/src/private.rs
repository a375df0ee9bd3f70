//! Files and directories under the data directory: mail, drafts, the outbox, uploads, names
//! and addresses. Readable by the relay's own user only (files 0600, directories 0700), whatever
//! the umask the relay was started with.

use std::{
    fs, io,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use serde::{de::DeserializeOwned, Serialize};

use crate::store::user_dir;

/// One small JSON file per user in a private directory: names and signatures, address
/// suggestions, image senders.
pub struct PerUser {
    dir: PathBuf,
}

impl PerUser {
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        self::dir(&dir)?;
        Ok(Self { dir })
    }

    /// What `user`'s file holds; a missing or unreadable one reads as nothing saved yet.
    pub fn read<T: DeserializeOwned + Default>(&self, user: &str) -> T {
        fs::read(self.file(user))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn write<T: Serialize + ?Sized>(&self, user: &str, value: &T) -> io::Result<()> {
        write_durably(
            &self.file(user),
            &serde_json::to_vec(value).expect("plain data serializes"),
        )
    }

    fn file(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{}.json", user_dir(user)))
    }
}

/// Creates `dir` and its missing parents, private; an existing one is made private too.
pub fn dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// A new (or truncated) private file.
pub fn create(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Writes `bytes` to `path` by way of a private temp file renamed into place, fsynced: a crash
/// leaves the old version or the new.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let temp = path.with_extension("tmp");
    let mut file = create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temp, path)
}

/// Makes an existing file private (one made by a library, e.g. SQLite's).
pub fn restrict(path: &Path) -> io::Result<()> {
    match fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
