//! The one place a message waits before it goes out. Each entry is on disk (the data directory's
//! `outbox/`) from the moment Send is accepted until its copy is filed, with the stage it has
//! reached, so that a restart neither loses nor doubles a message:
//!
//! - `waiting` (the undo delay) or `sending` at restart: it goes back to Drafts at the user's next
//!   login, with a notice; `sending` says it may have gone out. It is never sent again on its own.
//! - `sent` at restart: the server took it; its copy is filed in Sent at the next login.
//!
//! The password needed to submit is only in memory, in the task that waits out the delay.

use std::{
    collections::HashMap,
    fs, io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use protocol::{Draft, ErrorCode, ErrorInfo, Event, OutboxState, Returned};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{compose::Composed, smtp, Sender};
use crate::accounts::{Credentials, Source};

/// Temporary failures are tried again after these pauses, then the message goes back.
const RETRY_AFTER: [Duration; 3] = [
    Duration::from_secs(5),
    Duration::from_secs(20),
    Duration::from_secs(60),
];

/// How far a message got; written before each step is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    Waiting,
    Sending,
    Sent,
}

/// An entry's `.json`; its message (the copy for Sent, Bcc included) is the `.eml` beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    user: String,
    draft: Draft,
    sender: String,
    recipients: Vec<String>,
    stage: Stage,
}

pub struct Outbox {
    dir: PathBuf,
    /// Entries of this run, by id: their stage and, while waiting, the way to take them back.
    live: Mutex<HashMap<String, Live>>,
    /// Entries found at start-up, by user, until that user logs in.
    leftover: Mutex<Vec<(String, Record)>>,
}

struct Live {
    user: String,
    stage: Stage,
    draft: Draft,
}

/// A queued message: what the account hands over.
pub struct Queued {
    pub draft: Draft,
    pub composed: Composed,
    pub delay: Duration,
    pub credentials: Arc<Credentials>,
    pub source: Arc<Source>,
    pub events: broadcast::Sender<Event>,
}

impl Queued {
    /// Tells the user's tabs where the message is now.
    fn tell(&self, state: OutboxState) {
        let _ = self.events.send(Event::Outbox {
            draft_id: self.draft.id.clone(),
            subject: self.draft.subject.clone(),
            state,
        });
    }
}

impl Outbox {
    /// Opens (creating) `dir` and reads what a previous run left in it.
    pub fn open(dir: &Path) -> io::Result<Self> {
        crate::private::dir(dir)?;
        let mut leftover = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                let _ = fs::remove_file(&path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let id = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match fs::read(&path).map(|b| serde_json::from_slice::<Record>(&b)) {
                Ok(Ok(record)) => leftover.push((id, record)),
                _ => {
                    tracing::error!(file = %path.display(), "unreadable outbox entry left in place")
                }
            }
        }
        if !leftover.is_empty() {
            tracing::info!(
                count = leftover.len(),
                "outbox entries from the last run wait for their users"
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            live: Mutex::default(),
            leftover: Mutex::new(leftover),
        })
    }

    /// Puts a composed message on disk and starts its delay. Returns when it goes out
    /// (milliseconds since the epoch).
    pub fn queue(self: &Arc<Self>, sender: Arc<Sender>, queued: Queued) -> io::Result<i64> {
        let id = crate::random_hex(16);
        let record = Record {
            user: queued.credentials.user.clone(),
            draft: queued.draft.clone(),
            sender: queued.composed.sender.clone(),
            recipients: queued.composed.recipients.clone(),
            stage: Stage::Waiting,
        };
        crate::private::write_durably(&self.path(&id, "eml"), &queued.composed.copy)?;
        self.write_record(&id, &record)?;
        self.live_map().insert(
            id.clone(),
            Live {
                user: record.user.clone(),
                stage: Stage::Waiting,
                draft: queued.draft.clone(),
            },
        );
        let send_at = now_ms() + queued.delay.as_millis() as i64;
        queued.tell(OutboxState::Waiting { send_at });
        let outbox = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(queued.delay).await;
            outbox.go(sender, id, record, queued).await;
        });
        Ok(send_at)
    }

    /// Undo: the draft back, if its message is still waiting (then it will never go out).
    pub fn take_back(&self, user: &str, draft_id: &str) -> Option<Draft> {
        let mut live = self.live_map();
        let id = live
            .iter()
            .find(|(_, e)| e.user == user && e.draft.id == draft_id && e.stage == Stage::Waiting)
            .map(|(id, _)| id.clone())?;
        let entry = live.remove(&id).expect("just found");
        drop(live);
        self.remove_files(&id);
        Some(entry.draft)
    }

    /// After the delay: submit, then file the copy; on a refusal, the draft goes back.
    async fn go(&self, sender: Arc<Sender>, id: String, mut record: Record, queued: Queued) {
        {
            let mut live = self.live_map();
            let Some(entry) = live.get_mut(&id) else {
                return; // taken back
            };
            entry.stage = Stage::Sending;
        }
        record.stage = Stage::Sending;
        if let Err(e) = self.write_record(&id, &record) {
            tracing::error!(error = %e, "cannot record the outbox stage; not sending");
            self.give_back(&id, &queued, internal(e)).await;
            return;
        }
        queued.tell(OutboxState::Sending);
        let mut attempt = 0;
        loop {
            let outcome = smtp::submit(
                &sender.server,
                &sender.tls,
                smtp::Submitter {
                    user: &queued.credentials.user,
                    password: &queued.credentials.password,
                },
                smtp::Envelope {
                    sender: &record.sender,
                    recipients: &record.recipients,
                    bytes: &queued.composed.submitted,
                },
            )
            .await;
            match outcome {
                Ok(()) => break,
                Err(error) if error.is_temporary() && attempt < RETRY_AFTER.len() => {
                    tracing::info!(user = %record.user, %error, attempt, "submission failed for now; trying again");
                    queued.tell(OutboxState::Retrying {
                        error: ErrorInfo::new(error.code(), error.to_string()),
                        attempt: attempt as u32 + 1,
                    });
                    tokio::time::sleep(RETRY_AFTER[attempt]).await;
                    attempt += 1;
                }
                Err(error) => {
                    tracing::info!(user = %record.user, %error, "submission failed");
                    self.give_back(
                        &id,
                        &queued,
                        ErrorInfo::new(error.code(), error.to_string()),
                    )
                    .await;
                    return;
                }
            }
        }
        tracing::info!(user = %record.user, recipients = record.recipients.len(), "message submitted");
        record.stage = Stage::Sent;
        if let Err(e) = self.write_record(&id, &record) {
            // It went out; at worst a restart now files the copy as a returned draft.
            tracing::error!(error = %e, "cannot record that a message was sent");
        }
        let filed = queued
            .source
            .file_sent(&queued.composed.copy, &queued.draft)
            .await;
        self.live_map().remove(&id);
        match filed {
            Ok(()) => self.remove_files(&id),
            Err(error) => {
                // Sent, but the copy has nowhere to go yet: it stays here (stage `sent`) and is
                // filed in Sent at the next login.
                tracing::warn!(user = %record.user, error = %error.message, "sent; the copy waits for the next login");
                self.leftover
                    .lock()
                    .expect("not poisoned")
                    .push((id.clone(), record.clone()));
            }
        }
        sender.uploads.remove_for(&record.user, &queued.draft);
        queued.tell(OutboxState::Sent);
    }

    /// Not sent: into Drafts, and the editor is told why, with the draft to go on with.
    /// If Drafts cannot take it either (the mail server is gone too), it stays in the outbox,
    /// not sent, and goes to Drafts at the user's next login.
    async fn give_back(&self, id: &str, queued: &Queued, error: ErrorInfo) {
        let bytes = super::compose::as_draft(&queued.composed.copy, &queued.draft);
        let filed = queued.source.file_draft(&bytes, &queued.draft.id).await;
        self.live_map().remove(id);
        // The editor goes on from the copy in Drafts: earlier versions, and the parts the draft
        // pointed at, are gone with the filing.
        let mut draft = queued.draft.clone();
        match filed {
            Ok((folder, uid)) => {
                queued.source.point_at_copy(&mut draft, folder, uid);
                self.remove_files(id);
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "a message that was not sent waits for Drafts until the next login");
                let record = Record {
                    user: queued.credentials.user.clone(),
                    draft: queued.draft.clone(),
                    sender: queued.composed.sender.clone(),
                    recipients: queued.composed.recipients.clone(),
                    stage: Stage::Waiting,
                };
                if let Err(e) = self.write_record(id, &record) {
                    tracing::error!(error = %e, "cannot record an unsent message");
                }
                self.leftover
                    .lock()
                    .expect("not poisoned")
                    .push((id.to_owned(), record));
            }
        }
        queued.tell(OutboxState::Failed {
            error,
            draft: Box::new(draft),
        });
    }

    /// At login: what the last run left for `user` is filed (Drafts, or Sent for what went
    /// out) and removed from the outbox. Returns the notices for the user.
    pub async fn settle_leftovers(&self, user: &str, source: &Source) -> Vec<Returned> {
        let mine: Vec<(String, Record)> = {
            let mut leftover = self.leftover.lock().expect("not poisoned");
            let (mine, rest) = std::mem::take(&mut *leftover)
                .into_iter()
                .partition(|(_, r)| r.user.eq_ignore_ascii_case(user));
            *leftover = rest;
            mine
        };
        let mut notices = Vec::new();
        for (id, record) in mine {
            let copy = match fs::read(self.path(&id, "eml")) {
                Ok(copy) => copy,
                Err(e) => {
                    tracing::error!(error = %e, "outbox entry without its message");
                    continue;
                }
            };
            let filed = match record.stage {
                Stage::Sent => source.file_sent(&copy, &record.draft).await,
                Stage::Waiting | Stage::Sending => {
                    notices.push(Returned {
                        subject: record.draft.subject.clone(),
                        maybe_sent: record.stage == Stage::Sending,
                    });
                    let draft = super::compose::as_draft(&copy, &record.draft);
                    source.file_draft(&draft, &record.draft.id).await.map(drop)
                }
            };
            match filed {
                Ok(()) => self.remove_files(&id),
                Err(error) => {
                    // Kept for the next login rather than lost.
                    tracing::warn!(%user, error = %error.message, "could not file an outbox leftover");
                    self.leftover
                        .lock()
                        .expect("not poisoned")
                        .push((id, record));
                }
            }
        }
        notices
    }

    fn live_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().expect("not poisoned")
    }

    fn path(&self, id: &str, extension: &str) -> PathBuf {
        self.dir.join(format!("{id}.{extension}"))
    }

    fn write_record(&self, id: &str, record: &Record) -> io::Result<()> {
        let json = serde_json::to_vec(record).expect("records serialize");
        crate::private::write_durably(&self.path(id, "json"), &json)?;
        fs::File::open(&self.dir)?.sync_all()
    }

    fn remove_files(&self, id: &str) {
        // The record first: without it, a leftover message file is ignored.
        let _ = fs::remove_file(self.path(id, "json"));
        let _ = fs::remove_file(self.path(id, "eml"));
    }
}

fn internal(error: io::Error) -> ErrorInfo {
    ErrorInfo::new(
        ErrorCode::Internal,
        format!("the outbox could not be written: {error}"),
    )
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
