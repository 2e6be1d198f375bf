//! SQLite backend: one writer thread with group commit (every job queued while a transaction runs
//! joins the next one, see `writer`), WAL with `synchronous = FULL` so a commit is fsync'd, and a
//! separate read connection for searches.

mod large_blobs;
mod ops;
mod writer;

use crate::types::*;
use crate::{BoxFuture, Journal, Outbox, Result, StoreError};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn writer::Job>;

#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    lease: Arc<Lease>,
    /// Dropped with the last clone of the store; the checkpoint thread then stops.
    _alive: Arc<()>,
}

/// The journal holds patient data: its directory is created 0700, the database file 0600 before
/// SQLite opens it (SQLite gives its WAL and shared-memory files the database file's mode), and an
/// existing journal readable by others is made private.
fn private_files(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let fail = |what: &Path, e: std::io::Error| StoreError::Database(format!("cannot secure {}: {e}", what.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| fail(dir, e))?;
    }
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(|e| fail(path, e))?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(|e| fail(&file, e))?;
        }
    }
    Ok(())
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` for the default node and applies pending
    /// migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_as(path, Lease::default())
    }

    /// Opens the database for the node that `lease` names.
    pub fn open_as(path: impl AsRef<Path>, lease: Lease) -> Result<Self> {
        Self::open_with_wal_limit(path, lease, WAL_RESTART_BYTES)
    }

    /// [`Self::open_as`] with the WAL size from which the writer restarts it (tests use a small one).
    #[doc(hidden)]
    pub fn open_with_wal_limit(path: impl AsRef<Path>, lease: Lease, wal_restart_bytes: u64) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        private_files(&path)?;
        let writer = open_connection(&path)?;
        ops::migrate(&writer)?;
        // Checkpoints run on their own connection and thread (PASSIVE: they never block the
        // writer), so a commit never pays for copying the WAL back into the database.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // A restarted WAL is cut back to this size (it is reused from its start, not grown).
        writer.pragma_update(None, "journal_size_limit", wal_restart_bytes as i64)?;
        let checkpointer = open_connection(&path)?;
        let reader = open_connection(&path)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let restart = Arc::new(AtomicBool::new(false));
        let restart_wanted = Arc::clone(&restart);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::writer_loop(&writer, &queue, &restart_wanted, BUSY_TIMEOUT))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        let alive = Arc::new(());
        let watch = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &watch, wal_restart_bytes / PAGE_BYTES, &restart))
            .map_err(|e| StoreError::Database(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { jobs, reader: Arc::new(Mutex::new(reader)), path, lease: Arc::new(lease), _alive: alive })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues a write to the writer thread. `op` may run twice (see `writer::run_batch`): it
    /// reads what it captured and writes only through the connection.
    fn write<T: Send + 'static>(&self, op: impl Fn(&Connection) -> Result<T> + Send + 'static) -> BoxFuture<'_, Result<T>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(writer::WriteJob::new(op, tx));
        let sent = self.jobs.send(job).map_err(|_| StoreError::Closed);
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn read<T: Send + 'static>(&self, op: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> BoxFuture<'_, Result<T>> {
        let reader = Arc::clone(&self.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = reader.lock().map_err(|_| StoreError::Database("reader connection poisoned".into()))?;
                op(&conn)
            })
            .await
            .map_err(|_| StoreError::Closed)?
        })
    }
}

/// From this size the WAL is restarted (two seconds of the ADT scenario at full load).
const WAL_RESTART_BYTES: u64 = 64 * 1024 * 1024;
/// SQLite's default page size, which the journal keeps.
const PAGE_BYTES: u64 = 4096;

/// Every 250 ms, a PASSIVE checkpoint; stops when the store is dropped.
///
/// Under sustained load a PASSIVE checkpoint never catches up with the writer, so the WAL never
/// starts again from its beginning and grows by every byte written (160 MB for 8,000 ADT
/// messages in the benchmark scenario, without bound). Past `restart_frames` frames, each pass
/// asks the writer to restart the WAL as soon as it ends, when only the frames written during the
/// pass are left to copy (a short pause), and passes follow each other until it has restarted.
fn checkpoint_loop(conn: &Connection, alive: &std::sync::Weak<()>, restart_frames: u64, restart: &AtomicBool) {
    while alive.upgrade().is_some() {
        let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)).unwrap_or(0);
        let too_long = u64::try_from(frames).is_ok_and(|f| f >= restart_frames);
        restart.store(too_long, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(if too_long { 5 } else { 250 }));
    }
}

impl Journal for SqliteStore {
    fn append(&self, message: NewMessage) -> BoxFuture<'_, Result<AppendOutcome>> {
        self.write(move |c| ops::append(c, &message))
    }
    fn search(&self, query: MessageQuery) -> BoxFuture<'_, Result<Vec<MessageSummary>>> {
        self.read(move |c| ops::search(c, &query))
    }
    fn latest_consent(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Option<String>>> {
        self.read(move |c| ops::latest_consent(c, &identifiers))
    }
    fn resolve_identity(&self, identifiers: Vec<(String, String)>, now_ms: i64) -> BoxFuture<'_, Result<IdentityResolution>> {
        self.write(move |c| ops::resolve_identity(c, &identifiers, now_ms))
    }
    fn find_identities(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Vec<i64>>> {
        self.read(move |c| ops::find_identities(c, &identifiers))
    }
    fn audit(&self, entry: AuditEntry) -> BoxFuture<'_, Result<()>> {
        self.write(move |c| ops::audit(c, &entry))
    }
    fn audit_since(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<AuditEntry>>> {
        self.read(move |c| ops::audit_since(c, since_ms, limit))
    }
    fn save_search(&self, search: SavedSearch) -> BoxFuture<'_, Result<()>> {
        self.write(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO saved_searches (name, query, created_ms) VALUES (?1, ?2, ?3)")?.execute(rusqlite::params![
                search.name,
                search.query,
                search.created_ms
            ])?;
            Ok(())
        })
    }
    fn saved_searches(&self) -> BoxFuture<'_, Result<Vec<SavedSearch>>> {
        self.read(|c| {
            let mut select = c.prepare_cached("SELECT name, query, created_ms FROM saved_searches ORDER BY name")?;
            let rows = select.query_map([], |r| Ok(SavedSearch { name: r.get(0)?, query: r.get(1)?, created_ms: r.get(2)? }))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })
    }
    fn delete_search(&self, name: String) -> BoxFuture<'_, Result<bool>> {
        self.write(move |c| Ok(c.prepare_cached("DELETE FROM saved_searches WHERE name = ?1")?.execute(rusqlite::params![name])? == 1))
    }
    fn set_destination_paused(&self, destination: String, paused: bool, at_ms: i64) -> BoxFuture<'_, Result<()>> {
        self.write(move |c| {
            if paused {
                c.prepare_cached("INSERT OR IGNORE INTO paused_destinations (destination, paused_ms) VALUES (?1, ?2)")?
                    .execute(rusqlite::params![destination, at_ms])?;
            } else {
                c.prepare_cached("DELETE FROM paused_destinations WHERE destination = ?1")?.execute(rusqlite::params![destination])?;
            }
            Ok(())
        })
    }
    fn paused_destinations(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        self.read(|c| {
            let mut select = c.prepare_cached("SELECT destination FROM paused_destinations ORDER BY destination")?;
            let rows = select.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })
    }
    fn visit_state(&self, system: String, value: String) -> BoxFuture<'_, Result<Option<String>>> {
        self.read(move |c| ops::visit_state(c, &system, &value))
    }
    fn identity_keys(&self, identity: i64) -> BoxFuture<'_, Result<Vec<(String, String)>>> {
        self.read(move |c| ops::identity_keys(c, identity))
    }
    fn message(&self, id: i64) -> BoxFuture<'_, Result<Option<StoredMessage>>> {
        self.read(move |c| ops::message(c, id))
    }
    fn recent_models(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<RecentModel>>> {
        self.read(move |c| ops::recent_models(c, since_ms, limit))
    }
    fn purge(&self, before_ms: i64) -> BoxFuture<'_, Result<u64>> {
        self.write(move |c| ops::purge(c, before_ms))
    }
}

impl Outbox for SqliteStore {
    fn claim(&self, destination: &str, limit: usize, now_ms: i64) -> BoxFuture<'_, Result<Vec<OutboxItem>>> {
        let (destination, lease) = (destination.to_owned(), Arc::clone(&self.lease));
        self.write(move |c| ops::claim(c, &destination, limit, now_ms, &lease))
    }
    fn renew(&self, ids: Vec<i64>, now_ms: i64) -> BoxFuture<'_, Result<u64>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| ops::renew(c, &ids, now_ms, &lease))
    }
    fn mark_delivered(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<bool>> {
        self.mark_delivered_answered(id, now_ms, String::new())
    }
    fn mark_delivered_answered(&self, id: i64, now_ms: i64, answer: String) -> BoxFuture<'_, Result<bool>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| ops::record_outcome(c, id, OutboxStatus::Delivered, now_ms, None, Some(&answer), &lease))
    }
    fn mark_retry(&self, id: i64, next_attempt_ms: i64, error: String) -> BoxFuture<'_, Result<bool>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| ops::record_outcome(c, id, OutboxStatus::Pending, next_attempt_ms, Some(&error), None, &lease))
    }
    fn mark_dead(&self, id: i64, error: String, now_ms: i64) -> BoxFuture<'_, Result<bool>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| ops::record_outcome(c, id, OutboxStatus::Dead, now_ms, Some(&error), None, &lease))
    }
    fn record_attempts(&self, attempts: Vec<(i64, AttemptRecord)>, now_ms: i64) -> BoxFuture<'_, Result<Vec<bool>>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| attempts.iter().map(|(id, attempt)| ops::record_attempt(c, *id, attempt, now_ms, &lease)).collect())
    }
    fn requeue(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        self.write(move |c| ops::transition(c, id, OutboxStatus::Dead, OutboxStatus::Pending, now_ms, None))
    }
    fn replay(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        self.write(move |c| ops::transition(c, id, OutboxStatus::Delivered, OutboxStatus::Pending, now_ms, None))
    }
    fn dead_letter(&self, id: i64, reason: String, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        self.write(move |c| ops::transition(c, id, OutboxStatus::Pending, OutboxStatus::Dead, now_ms, Some(&reason)))
    }
    fn release_own_claims(&self) -> BoxFuture<'_, Result<u64>> {
        let lease = Arc::clone(&self.lease);
        self.write(move |c| ops::release_own_claims(c, &lease))
    }
    fn list(&self, filter: OutboxFilter) -> BoxFuture<'_, Result<Vec<OutboxRow>>> {
        self.read(move |c| ops::list(c, &filter))
    }
    fn rendering(&self, id: i64) -> BoxFuture<'_, Result<Option<Rendering>>> {
        self.read(move |c| ops::rendering(c, id))
    }
    fn depth(&self) -> BoxFuture<'_, Result<Vec<(String, u64)>>> {
        self.read(ops::depth)
    }
    fn oldest_queued(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>> {
        self.read(ops::oldest_queued)
    }
    fn heartbeat(&self, beat: NodeBeat) -> BoxFuture<'_, Result<()>> {
        self.write(move |c| ops::heartbeat(c, &beat))
    }
    fn nodes(&self) -> BoxFuture<'_, Result<Vec<NodeBeat>>> {
        self.read(ops::nodes)
    }
}
