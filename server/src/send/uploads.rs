//! Attachments uploaded for messages being written: one file per upload under the data
//! directory's `uploads/`, in a directory per user. A user's uploads together may not exceed
//! twice the attachment limit of one message; they are removed when the message they belong to
//! is sent, and after a day in any case (a draft saved meanwhile carries its attachments itself).

use std::{
    fs, io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use protocol::{AttachmentSource, Draft, Upload};
use tokio::io::AsyncWriteExt;

use crate::store::user_dir;

const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than the {limit} bytes a message may carry")]
    TooBig { limit: u64 },
    #[error("your uploads together would exceed {quota} bytes; send or discard a message first")]
    OverQuota { quota: u64 },
    #[error("the upload broke off: {0}")]
    BrokenOff(String),
    #[error("no such upload (it was sent, or it expired)")]
    NotFound,
    #[error("uploads: {0}")]
    Io(#[from] io::Error),
}

pub struct Uploads {
    dir: PathBuf,
    /// Bytes per file (the attachment limit of one message).
    limit: u64,
}

impl Uploads {
    /// Opens (creating) `dir`, removing uploads older than a day.
    pub fn open(dir: &Path, limit: u64) -> io::Result<Self> {
        crate::private::dir(dir)?;
        let uploads = Self {
            dir: dir.to_owned(),
            limit,
        };
        uploads.remove_expired();
        Ok(uploads)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn quota(&self) -> u64 {
        self.limit.saturating_mul(2)
    }

    /// Receives one file, piece by piece, into `user`'s uploads; stops as soon as it would go
    /// over the size limit or the user's quota, leaving nothing behind.
    pub async fn receive<S, E>(
        &self,
        user: &str,
        name: &str,
        mime_type: &str,
        mut pieces: S,
    ) -> Result<Upload, UploadError>
    where
        S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt;
        let dir = self.dir.join(user_dir(user));
        crate::private::dir(&dir)?;
        // What a closed tab or a removed attachment left behind does not count for long.
        remove_expired_in(&dir);
        let room = self.quota().saturating_sub(used(&dir));
        let id = crate::random_hex(16);
        let path = dir.join(&id);
        let temp = dir.join(format!("{id}.part"));
        let mut file = tokio::fs::File::from_std(crate::private::create(&temp)?);
        let mut size = 0u64;
        let outcome = async {
            while let Some(piece) = pieces.next().await {
                let piece = piece.map_err(|e| UploadError::BrokenOff(e.to_string()))?;
                size += piece.len() as u64;
                if size > self.limit {
                    return Err(UploadError::TooBig { limit: self.limit });
                }
                if size > room {
                    return Err(UploadError::OverQuota {
                        quota: self.quota(),
                    });
                }
                file.write_all(&piece).await?;
            }
            file.flush().await?;
            Ok(())
        }
        .await;
        drop(file);
        if let Err(e) = outcome {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        fs::rename(&temp, &path)?;
        Ok(Upload {
            id,
            name: name.to_owned(),
            mime_type: mime_type.to_owned(),
            size,
        })
    }

    /// The bytes of one of `user`'s uploads.
    pub fn read(&self, user: &str, id: &str) -> Result<Vec<u8>, UploadError> {
        let path = self.path(user, id).ok_or(UploadError::NotFound)?;
        fs::read(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => UploadError::NotFound,
            _ => UploadError::Io(e),
        })
    }

    /// Removes the uploads a sent (or discarded) draft referred to.
    pub fn remove_for(&self, user: &str, draft: &Draft) {
        for attachment in &draft.attachments {
            if let AttachmentSource::Upload { id } = &attachment.source {
                if let Some(path) = self.path(user, id) {
                    let _ = fs::remove_file(path);
                }
            }
        }
    }

    /// Ids are ours (hex): anything else names no file.
    fn path(&self, user: &str, id: &str) -> Option<PathBuf> {
        let ours = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        ours.then(|| self.dir.join(user_dir(user)).join(id))
    }

    fn remove_expired(&self) {
        let Ok(users) = fs::read_dir(&self.dir) else {
            return;
        };
        for user in users.flatten() {
            remove_expired_in(&user.path());
        }
    }
}

fn remove_expired_in(dir: &Path) {
    let Ok(files) = fs::read_dir(dir) else {
        return;
    };
    for file in files.flatten() {
        let old = file
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > KEEP_FOR);
        if old {
            let _ = fs::remove_file(file.path());
        }
    }
}

fn used(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|files| {
            files
                .flatten()
                .filter_map(|f| f.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
