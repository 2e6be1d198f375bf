//! Bulk actions (retry, dead-letter, replay) over the outbox rows a filter selects: a
//! destination's rows by status (the outbox view), or the rows of the messages a search finds
//! (the search page, `/api/messages/bulk`). A dry run counts; a run is one audit record, then
//! each row moves with the same store transition as a single action (a row that changed
//! meanwhile is counted as skipped). From the console a run is a job on this node whose
//! progress `/jobs/<id>` shows (and `GET /api/jobs/<id>`); from the API it answers when done.

use crate::admin::AdminState;
use crate::admin_auth::Caller;
use axum::http::StatusCode;
use passerelle_store::{AuditEntry, MessageQuery, OutboxFilter, OutboxStatus, Store, StoreError, Transition};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// At most this many rows (or messages of a search) in one bulk run.
pub const BULK_LIMIT: usize = 10_000;
/// The jobs a node remembers, the newest last.
const KEPT_JOBS: usize = 50;

/// Which rows: a destination's by status, or those of the messages a search finds.
pub enum Selection {
    Outbox { destination: String, status: OutboxStatus },
    Search { query: Box<MessageQuery>, described: String },
}

#[derive(Serialize)]
pub struct BulkOutcome {
    pub matched: usize,
    pub done: usize,
    pub skipped: usize,
    pub dry_run: bool,
}

/// A bulk run in progress or finished.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: u64,
    pub action: String,
    pub filter: String,
    pub total: usize,
    pub done: usize,
    pub skipped: usize,
    pub finished: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub started_ms: i64,
}

/// This node's bulk jobs.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<VecDeque<Job>>,
}

impl Jobs {
    fn start(&self, action: &str, filter: String, total: usize) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job =
            Job { id, action: action.into(), filter, total, done: 0, skipped: 0, finished: total == 0, error: None, started_ms: crate::pipeline::now_ms() };
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push_back(job);
            while jobs.len() > KEPT_JOBS {
                jobs.pop_front();
            }
        }
        id
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut Job)) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.iter_mut().find(|j| j.id == id)
        {
            change(job);
        }
    }

    pub fn get(&self, id: u64) -> Option<Job> {
        self.jobs.lock().ok()?.iter().find(|j| j.id == id).cloned()
    }
}

/// The status a row must have for `action`.
fn status_for(action: &str) -> Result<OutboxStatus, (StatusCode, String)> {
    match action {
        "retry" => Ok(OutboxStatus::Dead),
        "dead-letter" => Ok(OutboxStatus::Pending),
        "replay" => Ok(OutboxStatus::Delivered),
        other => Err((StatusCode::BAD_REQUEST, format!("unknown action {other} (retry, dead-letter, replay)"))),
    }
}

fn unavailable(e: StoreError) -> (StatusCode, String) {
    (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}"))
}

/// The ids of the rows `action` applies to, and the filter described for the audit trail.
async fn select(store: &dyn Store, selection: Selection, action: &str) -> Result<(Vec<i64>, String), (StatusCode, String)> {
    let wanted = status_for(action)?;
    match selection {
        Selection::Outbox { destination, status } => {
            if status != wanted {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("{action} does not apply to {} rows (retry: dead, dead-letter: pending, replay: delivered)", status.as_str()),
                ));
            }
            let rows =
                store.list(OutboxFilter { destination: Some(destination.clone()), status: Some(status), limit: BULK_LIMIT }).await.map_err(unavailable)?;
            Ok((rows.into_iter().map(|r| r.id).collect(), format!("outbox destination={destination} status={}", status.as_str())))
        }
        Selection::Search { query, described } => {
            let only = query.destination.clone();
            let found = store.search(MessageQuery { limit: BULK_LIMIT, ..*query }).await.map_err(unavailable)?;
            let mut ids = Vec::new();
            for summary in found {
                let Some(message) = store.message(summary.id).await.map_err(unavailable)? else { continue };
                let fits = message.deliveries.iter().filter(|d| d.status == wanted && only.as_ref().is_none_or(|o| *o == d.destination));
                ids.extend(fits.map(|d| d.id));
            }
            Ok((ids, format!("messages matching {described}")))
        }
    }
}

async fn audit(store: &dyn Store, caller: &Caller, action: &str, target: String) -> Result<(), (StatusCode, String)> {
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: format!("bulk {action}"),
        target,
    };
    store.audit(entry).await.map_err(unavailable)
}

async fn move_row(store: &dyn Store, caller: &Caller, action: &str, id: i64) -> Result<bool, StoreError> {
    let now = crate::pipeline::now_ms();
    let moved = match action {
        "retry" => store.requeue(id, now).await,
        "replay" => store.replay(id, now).await,
        _ => store.dead_letter(id, format!("dead-lettered in bulk by an operator ({})", caller.role.as_str()), now).await,
    }?;
    Ok(moved == Transition::Done)
}

/// Counts (dry) or runs `action` over the selection, answering when every row has moved.
pub async fn run_now(s: &AdminState, caller: &Caller, selection: Selection, action: &str, dry_run: bool) -> Result<BulkOutcome, (StatusCode, String)> {
    let (ids, filter) = select(s.store.as_ref(), selection, action).await?;
    let mut outcome = BulkOutcome { matched: ids.len(), done: 0, skipped: 0, dry_run };
    if dry_run {
        return Ok(outcome);
    }
    audit(s.store.as_ref(), caller, action, format!("{filter} ({} rows)", ids.len())).await?;
    for id in ids {
        if move_row(s.store.as_ref(), caller, action, id).await.map_err(unavailable)? {
            outcome.done += 1;
        } else {
            outcome.skipped += 1;
        }
    }
    Ok(outcome)
}

/// Starts `action` over the selection as a job of this node and answers its id at once.
pub async fn start_job(s: &AdminState, caller: &Caller, selection: Selection, action: &str) -> Result<u64, (StatusCode, String)> {
    let (ids, filter) = select(s.store.as_ref(), selection, action).await?;
    audit(s.store.as_ref(), caller, action, format!("{filter} ({} rows)", ids.len())).await?;
    let id = s.jobs.start(action, filter, ids.len());
    let (store, jobs, caller, action) = (Arc::clone(&s.store), Arc::clone(&s.jobs), caller.clone(), action.to_owned());
    tokio::spawn(async move {
        for row in ids {
            match move_row(store.as_ref(), &caller, &action, row).await {
                Ok(true) => jobs.update(id, |j| j.done += 1),
                Ok(false) => jobs.update(id, |j| j.skipped += 1),
                Err(e) => {
                    jobs.update(id, |j| j.error = Some(format!("store unavailable: {e}")));
                    break;
                }
            }
        }
        jobs.update(id, |j| j.finished = true);
    });
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_remembered_with_its_progress_and_old_ones_are_forgotten() {
        let jobs = Jobs::default();
        let id = jobs.start("replay", "outbox destination=dpi status=delivered".into(), 3);
        jobs.update(id, |j| j.done += 2);
        let job = jobs.get(id).unwrap_or_else(|| panic!("job {id}"));
        assert_eq!((job.total, job.done, job.finished), (3, 2, false));
        assert!(jobs.get(jobs.start("retry", String::new(), 0)).is_some_and(|j| j.finished), "nothing to do is done");
        for _ in 0..KEPT_JOBS {
            jobs.start("retry", String::new(), 1);
        }
        assert!(jobs.get(id).is_none());
    }

    #[test]
    fn each_action_has_the_status_it_moves_from() {
        assert_eq!(status_for("retry").ok(), Some(OutboxStatus::Dead));
        assert_eq!(status_for("dead-letter").ok(), Some(OutboxStatus::Pending));
        assert_eq!(status_for("replay").ok(), Some(OutboxStatus::Delivered));
        assert!(status_for("delete").is_err());
    }
}
