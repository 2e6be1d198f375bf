//! The SQLite writer thread: group commit of every job queued while a transaction runs, run
//! first without savepoints and, only when one of them fails, again each in its own savepoint.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Most jobs in one transaction; bounds the latency a full batch adds.
pub const MAX_BATCH: usize = 512;

/// One write queued to the writer thread, answered once its transaction has committed.
pub trait Job: Send {
    /// Runs the job's statements (in a savepoint of its own when `alone`); false when it failed.
    /// It may run twice: a batch whose optimistic pass failed runs again from its start.
    fn run(&mut self, conn: &Connection, alone: bool) -> bool;
    /// Answers the caller: the job's result, or the error of the batch's COMMIT.
    fn reply(self: Box<Self>, commit_error: Option<&StoreError>);
}

/// A job from a closure, re-runnable, its result sent on a one-shot channel.
pub struct WriteJob<T, F> {
    op: F,
    result: Option<Result<T>>,
    reply: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob<T, F> {
    pub fn new(op: F, reply: tokio::sync::oneshot::Sender<Result<T>>) -> Self {
        Self { op, result: None, reply }
    }
}

impl<T: Send, F: Fn(&Connection) -> Result<T> + Send> Job for WriteJob<T, F> {
    fn run(&mut self, conn: &Connection, alone: bool) -> bool {
        let result = if alone { in_savepoint(conn, &self.op) } else { (self.op)(conn) };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn reply(self: Box<Self>, commit_error: Option<&StoreError>) {
        let outcome = match (self.result, commit_error) {
            (Some(Ok(v)), None) => Ok(v),
            (Some(Ok(_)), Some(e)) => Err(StoreError::Database(format!("commit failed: {e}"))),
            (Some(Err(e)), _) => Err(e),
            (None, _) => Err(StoreError::Database("the write was not run".into())),
        };
        let _ = self.reply.send(outcome);
    }
}

/// Runs one job in its own savepoint, so a failing job leaves the rest of the batch intact.
fn in_savepoint<T>(conn: &Connection, op: impl Fn(&Connection) -> Result<T>) -> Result<T> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match op(conn) {
        Ok(v) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn begin(conn: &Connection) -> bool {
    conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])).is_ok()
}

/// Runs a batch in one transaction and answers each job after its COMMIT.
///
/// A savepoint per job makes SQLite copy every page a job touches that an earlier job of the
/// batch had already changed into the savepoint's journal (9 % of the gateway's CPU on the ADT
/// scenario, most of it such copies). So the batch runs first as one plain transaction; when a
/// job fails, that transaction is rolled back whole and the batch runs again with a savepoint per
/// job, so that the failing one is answered its error and the others are committed.
fn run_batch(conn: &Connection, mut batch: Vec<Box<dyn Job>>) {
    if !begin(conn) {
        // Without a transaction nothing may be reported durable: dropping the jobs closes
        // their reply channels and every caller gets an error.
        return;
    }
    if !batch.iter_mut().all(|job| job.run(conn, false)) {
        // Some errors (a full disk, I/O) have already rolled the transaction back.
        let _ = conn.execute_batch("ROLLBACK");
        if !conn.is_autocommit() || !begin(conn) {
            return;
        }
        for job in &mut batch {
            job.run(conn, true);
        }
    }
    let commit = conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).map(|_| ()).map_err(StoreError::from);
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for job in batch {
        job.reply(commit.as_ref().err());
    }
}

/// Restarts the WAL between two transactions: copies the frames the checkpointer has not, and
/// when no reader is in the WAL the next transaction writes it from its start (cut back to
/// `journal_size_limit`). It never waits for a reader (busy timeout 0 for the call): when one is
/// there, the checkpointer asks again after its next pass.
fn restart_wal(conn: &Connection, busy_timeout: std::time::Duration) {
    let _ = conn.busy_timeout(std::time::Duration::ZERO);
    let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
    let _ = conn.busy_timeout(busy_timeout);
}

/// The writer thread's loop: until every sender of jobs is gone.
pub fn writer_loop(conn: &Connection, queue: &mpsc::Receiver<Box<dyn Job>>, restart: &AtomicBool, busy_timeout: std::time::Duration) {
    while let Ok(first) = queue.recv() {
        if restart.swap(false, Ordering::Relaxed) {
            restart_wal(conn, busy_timeout);
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(conn, batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(values: &'static [i64]) -> impl Fn(&Connection) -> Result<()> + Send {
        move |c| {
            for v in values {
                c.prepare_cached("INSERT INTO t (x) VALUES (?1)")?.execute([v])?;
            }
            Ok(())
        }
    }

    fn stored(conn: &Connection) -> Vec<i64> {
        let mut select = conn.prepare("SELECT x FROM t ORDER BY x").expect("select");
        select.query_map([], |r| r.get(0)).expect("query").collect::<std::result::Result<_, _>>().expect("rows")
    }

    /// Runs one batch of jobs, each inserting its values in order: which jobs were answered Ok,
    /// and what the table holds after.
    fn run_jobs(jobs: &[&'static [i64]]) -> (Vec<bool>, Vec<i64>) {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").expect("schema");
        let mut answers = Vec::new();
        let mut batch: Vec<Box<dyn Job>> = Vec::new();
        for values in jobs {
            let (tx, rx) = tokio::sync::oneshot::channel();
            batch.push(Box::new(WriteJob::new(insert(values), tx)));
            answers.push(rx);
        }
        run_batch(&conn, batch);
        assert!(conn.is_autocommit(), "the batch's transaction is closed");
        let answered = answers.into_iter().map(|mut rx| rx.try_recv().expect("answered").is_ok()).collect();
        (answered, stored(&conn))
    }

    #[test]
    fn a_failing_job_is_answered_its_error_and_leaves_nothing_while_the_rest_of_its_batch_commits() {
        // The second job writes 2, then fails on a duplicate 1: its 2 must go with it.
        assert_eq!(run_jobs(&[&[1], &[2, 1], &[3]]), (vec![true, false, true], vec![1, 3]));
    }

    #[test]
    fn a_batch_without_failures_commits_every_job_once() {
        assert_eq!(run_jobs(&[&[1], &[2, 3], &[4]]), (vec![true, true, true], vec![1, 2, 3, 4]));
    }
}
