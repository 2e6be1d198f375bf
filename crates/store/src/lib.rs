//! The journal and outbox: raw bytes, the normalised message, searchable patient keys and one
//! outbox row per destination, written in one transaction before any acknowledgement.
//!
//! This crate knows nothing of HL7, CDA or FHIR: it stores bytes plus metadata. [`Journal`] and
//! [`Outbox`] are the traits every backend implements (SQLite embedded, PostgreSQL for a hub); the shared
//! conformance suite (module `conformance`, behind the feature of that name, so it is never in a
//! production build) is what any backend must pass.

#[cfg(feature = "conformance")]
pub mod conformance;
mod migrations;
pub mod postgres;
mod search_sql;
pub mod sqlite;
mod types;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The SQLite migration steps, for tests that build a journal as an older release left it.
#[cfg(feature = "conformance")]
pub fn migrations_for_tests() -> &'static [&'static str] {
    migrations::SQLITE
}

/// The PostgreSQL migration steps, for tests that build a hub database as an older release left it.
#[cfg(feature = "conformance")]
pub fn postgres_migrations_for_tests() -> &'static [&'static str] {
    migrations::POSTGRES
}
pub use types::*;

use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("store is shut down")]
    Closed,
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's own message (and its SQLSTATE) when there is one, not just "db error".
        match e.as_db_error() {
            Some(db) => StoreError::Database(format!("postgresql {}: {}", db.code().code(), db.message())),
            None => StoreError::Database(format!("postgresql: {e}")),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Where received messages are recorded, deduplicated and searched.
pub trait Journal: Send + Sync {
    /// Stores the message and its outbox rows atomically; returns once durable (fsync'd).
    /// A resend (same sender, control id and content hash) returns the original ACK instead.
    fn append(&self, message: NewMessage) -> BoxFuture<'_, Result<AppendOutcome>>;
    fn search(&self, query: MessageQuery) -> BoxFuture<'_, Result<Vec<MessageSummary>>>;
    /// The latest DMP feeding choice (ZFA-9 code) recorded for any of these identifiers
    /// (system, value).
    fn latest_consent(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Option<String>>>;
    /// The stable identity the (system, value) identifiers name, created if none does: atomic,
    /// so concurrent first messages about one person find one identity.
    fn resolve_identity(&self, identifiers: Vec<(String, String)>, now_ms: i64) -> BoxFuture<'_, Result<IdentityResolution>>;
    /// The identities these identifiers already name, without creating one (a reference to a
    /// patient must find it): empty when none does, several when they conflict.
    fn find_identities(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Vec<i64>>>;
    /// The state an accepted message last left the visit (system, value) in, if any.
    fn visit_state(&self, system: String, value: String) -> BoxFuture<'_, Result<Option<String>>>;
    /// Every (system, value) identifier an identity holds, empty for an unknown identity.
    fn identity_keys(&self, identity: i64) -> BoxFuture<'_, Result<Vec<(String, String)>>>;
    /// Records one read of patient data (durably, before the data is returned).
    fn audit(&self, entry: AuditEntry) -> BoxFuture<'_, Result<()>>;
    /// The audit trail from `since_ms` on, oldest first (at most `limit` entries).
    fn audit_since(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<AuditEntry>>>;
    /// Saves (or replaces) the search `name`.
    fn save_search(&self, search: SavedSearch) -> BoxFuture<'_, Result<()>>;
    /// Every saved search, by name.
    fn saved_searches(&self) -> BoxFuture<'_, Result<Vec<SavedSearch>>>;
    /// Forgets the search `name`; false when there was none.
    fn delete_search(&self, name: String) -> BoxFuture<'_, Result<bool>>;
    /// Pauses (or resumes) delivery to `destination` on every node sharing this store.
    fn set_destination_paused(&self, destination: String, paused: bool, at_ms: i64) -> BoxFuture<'_, Result<()>>;
    /// The destinations paused on every node, by name.
    fn paused_destinations(&self) -> BoxFuture<'_, Result<Vec<String>>>;
    /// One message in full, with the outbox rows made from it.
    fn message(&self, id: i64) -> BoxFuture<'_, Result<Option<StoredMessage>>>;
    /// The normalised models of accepted messages received since `since_ms`, newest first, at
    /// most `limit` (messages journaled without their model are not among them).
    fn recent_models(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<RecentModel>>>;
    /// Deletes messages received before `before_ms` whose deliveries are all finished.
    fn purge(&self, before_ms: i64) -> BoxFuture<'_, Result<u64>>;
    /// The horizon retention should pass to [`Journal::purge`] for `before_ms`: a partitioned
    /// store rounds it down to a partition boundary, so that whole partitions are dropped.
    fn purge_horizon(&self, before_ms: i64) -> i64 {
        before_ms
    }
}

/// Deliveries still to make, claimed by workers per destination in per-patient order. Claims are
/// leased to the store handle's node ([`Lease`]): never reset wholesale, so a node's start-up
/// cannot steal another node's work.
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` due rows of `destination` (pending and due, or in flight under an
    /// expired lease): for each partition (patient) only the oldest undelivered row is eligible, so
    /// a patient's messages leave in order.
    fn claim(&self, destination: &str, limit: usize, now_ms: i64) -> BoxFuture<'_, Result<Vec<OutboxItem>>>;
    /// Extends this node's leases on `ids`; returns how many it still holds.
    fn renew(&self, ids: Vec<i64>, now_ms: i64) -> BoxFuture<'_, Result<u64>>;
    /// The outcomes of this node's attempts. Each returns false when the lease was lost (another
    /// node took the row over after it expired) and nothing was recorded.
    fn mark_delivered(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<bool>>;
    /// The same, with what the receiver answered (its ACK, an HTTP status and body), kept in the
    /// row's delivery attempts.
    fn mark_delivered_answered(&self, id: i64, now_ms: i64, answer: String) -> BoxFuture<'_, Result<bool>> {
        let _ = answer;
        self.mark_delivered(id, now_ms)
    }
    /// The outcomes of several attempts (`(row id, outcome)`) in one write and one commit, each
    /// `true` as its `mark_*` call would be; a backend without a batched write records them one by one.
    fn record_attempts(&self, attempts: Vec<(i64, AttemptRecord)>, now_ms: i64) -> BoxFuture<'_, Result<Vec<bool>>> {
        Box::pin(async move {
            let mut recorded = Vec::with_capacity(attempts.len());
            for (id, attempt) in attempts {
                recorded.push(match attempt {
                    AttemptRecord::Delivered { answer } => self.mark_delivered_answered(id, now_ms, answer).await?,
                    AttemptRecord::Retry { next_attempt_ms, error } => self.mark_retry(id, next_attempt_ms, error).await?,
                    AttemptRecord::Dead { error } => self.mark_dead(id, error, now_ms).await?,
                });
            }
            Ok(recorded)
        })
    }
    /// Back to pending with a later due time; the row keeps blocking its partition.
    fn mark_retry(&self, id: i64, next_attempt_ms: i64, error: String) -> BoxFuture<'_, Result<bool>>;
    fn mark_dead(&self, id: i64, error: String, now_ms: i64) -> BoxFuture<'_, Result<bool>>;
    /// Operator action: a dead-lettered row goes back to pending (replay).
    fn requeue(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>>;
    /// Operator action: a delivered row goes back to pending, to be sent again (replay). It keeps
    /// its place in its patient's lane, so it leaves before that patient's later messages.
    fn replay(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>>;
    /// Operator action: a pending row is moved to the dead letter.
    fn dead_letter(&self, id: i64, reason: String, now_ms: i64) -> BoxFuture<'_, Result<Transition>>;
    /// At start-up: this node's own claims (left by its previous run) go back to pending.
    fn release_own_claims(&self) -> BoxFuture<'_, Result<u64>>;
    fn list(&self, filter: OutboxFilter) -> BoxFuture<'_, Result<Vec<OutboxRow>>>;
    /// The rendering stored with a row: exactly what was (or will be) sent.
    fn rendering(&self, id: i64) -> BoxFuture<'_, Result<Option<Rendering>>>;
    /// Undelivered rows (pending + in flight) per destination.
    fn depth(&self) -> BoxFuture<'_, Result<Vec<(String, u64)>>>;
    /// Per destination with undelivered rows: when the oldest of their messages was received (Unix ms).
    fn oldest_queued(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>>;
    /// Records a node's heartbeat (one row per node, replaced at each beat).
    fn heartbeat(&self, beat: NodeBeat) -> BoxFuture<'_, Result<()>>;
    /// Every node that has beaten on this store, by id.
    fn nodes(&self) -> BoxFuture<'_, Result<Vec<NodeBeat>>>;
    /// Fires when another handle on the store (another node) has made new outbox rows, for
    /// backends that can tell (PostgreSQL's LISTEN/NOTIFY); `None`: workers poll.
    fn wake_ups(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }
}

/// A complete backend.
pub trait Store: Journal + Outbox {}
impl<T: Journal + Outbox> Store for T {}
