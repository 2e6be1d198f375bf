//! PostgreSQL backend, for several gateway nodes on one database (a regional hub): the same
//! [`Journal`] and [`Outbox`] contracts and conformance suite as SQLite. Every append is one
//! statement in its own transaction (PostgreSQL's WAL flush makes it durable before the ACK and
//! groups concurrent commits); claims are leased to this node and skip rows other nodes hold; a
//! LISTEN connection wakes this node's workers when any node makes new outbox rows.

mod ops;
mod partitions;
mod pool;
mod records;
mod tls;

pub use tls::PgTlsFiles;

use crate::types::*;
use crate::{BoxFuture, Journal, Outbox, Result, StoreError};
use pool::Pool;
use std::sync::Arc;

#[derive(Clone)]
pub struct PostgresStore {
    pool: Arc<Pool>,
    lease: Arc<Lease>,
    /// Notified on every `passerelle_outbox` notification (new outbox rows on any node).
    wake: Arc<tokio::sync::Notify>,
    /// When this handle last sent a notification (Unix ms).
    notified_ms: Arc<std::sync::atomic::AtomicI64>,
    /// The journal period of each row this node has claimed and not yet recorded: the renewal and
    /// the outcome then name the row's partition (by id alone, the planner walked a partial index
    /// of every partition: 0.6 ms instead of 0.03 ms per outcome).
    claimed: Arc<std::sync::Mutex<std::collections::HashMap<i64, i32>>>,
}

impl PostgresStore {
    fn remember_claims(&self, items: &[OutboxItem]) {
        if let Ok(mut claimed) = self.claimed.lock() {
            // Claims lost without an outcome (a fenced batch) are forgotten now and then.
            if claimed.len() > 100_000 {
                claimed.clear();
            }
            claimed.extend(items.iter().map(|i| (i.id, ops::period_of(i.received_at_ms))));
        }
    }

    fn period_of_claim(&self, id: i64, forget: bool) -> Option<i32> {
        let mut claimed = self.claimed.lock().ok()?;
        if forget { claimed.remove(&id) } else { claimed.get(&id).copied() }
    }
}

/// At most one notification per this many milliseconds from a node. A NOTIFY inside every
/// append serialised the commits (PostgreSQL takes a global lock to queue it): ingest fell from
/// 3,900 to 1,700 msg/s. Sent on its own, after the commit, a few times a second, it still wakes
/// idle nodes well before their 200 ms poll.
const NOTIFY_EVERY_MS: i64 = 50;

/// The claim statement, for the test that pins its plan.
#[cfg(feature = "conformance")]
pub fn claim_sql_for_tests() -> &'static str {
    ops::CLAIM
}

/// Whether `url` is a connection string the driver can use (checked when the config loads).
pub fn check_url(url: &str) -> std::result::Result<(), String> {
    url.parse::<tokio_postgres::Config>().map(|_| ()).map_err(|e| e.to_string())
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db?options=…` or `host=… user=…`), applies
    /// pending migrations (one node at a time), and keeps at most `pool_size` connections.
    pub async fn open(url: &str, pool_size: usize, lease: Lease) -> Result<Self> {
        Self::open_with_tls(url, pool_size, lease, None).await
    }

    /// [`PostgresStore::open`] through TLS when `tls` names the server's CA (required then).
    pub async fn open_with_tls(url: &str, pool_size: usize, lease: Lease, tls: Option<&PgTlsFiles>) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::Database(format!("postgresql url: {e}")))?;
        let connector = match tls {
            Some(files) => tls::Connector::Tls(tls::client_config(files)?),
            None if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require => {
                return Err(StoreError::Database("postgresql url asks for sslmode=require: give [store.tls] ca".into()));
            }
            None => tls::Connector::Plain,
        };
        let pool = Arc::new(Pool::new(config.clone(), connector.clone(), pool_size));
        ops::migrate(&*pool.get().await?).await?;
        partitions::ensure(&*pool.get().await?, now_ms()).await?;
        tokio::spawn(keep_partitions_ahead(Arc::downgrade(&pool)));
        let wake = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(listen(config, connector, Arc::downgrade(&wake)));
        Ok(Self { pool, lease: Arc::new(lease), wake, notified_ms: Arc::default(), claimed: Arc::default() })
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or_default()
}

/// Hourly, while the store is open: the partitions of the coming periods are made before any
/// message needs them.
async fn keep_partitions_ahead(pool: std::sync::Weak<Pool>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        let Some(pool) = pool.upgrade() else { break };
        let ensured = match pool.get().await {
            Ok(conn) => partitions::ensure(&conn, now_ms()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = ensured {
            tracing::warn!(error = %e, "cannot check the journal's partitions; retrying in an hour");
        }
    }
}

/// Holds a connection that LISTENs on `passerelle_outbox` and turns each notification into a
/// wake-up, reconnecting after a second when the connection is lost; ends with the store.
async fn listen(config: tokio_postgres::Config, connector: tls::Connector, wake: std::sync::Weak<tokio::sync::Notify>) {
    while wake.strong_count() > 0 {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // The notifications stop when the connection ends; dropping the client ends its driver.
        if let Ok(client) = tls::connect(&config, &connector, Some(tx)).await
            && client.batch_execute("LISTEN passerelle_outbox").await.is_ok()
        {
            while rx.recv().await.is_some() {
                match wake.upgrade() {
                    Some(wake) => wake.notify_waiters(),
                    None => break,
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

impl PostgresStore {
    /// Tells the other nodes there are new outbox rows (rate-limited, in the background: the
    /// append is already committed and acknowledged without waiting for it).
    fn notify_other_nodes(&self) {
        use std::sync::atomic::Ordering;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let last = self.notified_ms.load(Ordering::Relaxed);
        if now - last < NOTIFY_EVERY_MS || self.notified_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return;
        }
        let pool = Arc::clone(&self.pool);
        tokio::spawn(async move {
            if let Ok(conn) = pool.get().await {
                let _ = conn.client.batch_execute("NOTIFY passerelle_outbox").await;
            }
        });
    }
}

impl Journal for PostgresStore {
    fn append(&self, message: NewMessage) -> BoxFuture<'_, Result<AppendOutcome>> {
        Box::pin(async move {
            let outcome = ops::append(&*self.pool.get().await?, &message).await?;
            if matches!(outcome, AppendOutcome::Stored { .. }) && !message.deliveries.is_empty() {
                self.notify_other_nodes();
            }
            Ok(outcome)
        })
    }
    fn search(&self, query: MessageQuery) -> BoxFuture<'_, Result<Vec<MessageSummary>>> {
        Box::pin(async move { ops::search(&*self.pool.get().await?, &query).await })
    }
    fn latest_consent(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(async move { ops::latest_consent(&*self.pool.get().await?, &identifiers).await })
    }
    fn resolve_identity(&self, identifiers: Vec<(String, String)>, now_ms: i64) -> BoxFuture<'_, Result<IdentityResolution>> {
        Box::pin(async move { ops::resolve_identity(&*self.pool.get().await?, &identifiers, now_ms).await })
    }
    fn find_identities(&self, identifiers: Vec<(String, String)>) -> BoxFuture<'_, Result<Vec<i64>>> {
        Box::pin(async move { ops::find_identities(&*self.pool.get().await?, &identifiers).await })
    }
    fn visit_state(&self, system: String, value: String) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(async move { ops::visit_state(&*self.pool.get().await?, &system, &value).await })
    }
    fn identity_keys(&self, identity: i64) -> BoxFuture<'_, Result<Vec<(String, String)>>> {
        Box::pin(async move { ops::identity_keys(&*self.pool.get().await?, identity).await })
    }
    fn audit(&self, entry: AuditEntry) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { ops::audit(&*self.pool.get().await?, &entry).await })
    }
    fn audit_since(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<AuditEntry>>> {
        Box::pin(async move { ops::audit_since(&*self.pool.get().await?, since_ms, limit).await })
    }
    fn save_search(&self, search: SavedSearch) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let conn = self.pool.get().await?;
            conn.client
                .execute(
                    "INSERT INTO saved_searches (name, query, created_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET query = excluded.query, created_ms = excluded.created_ms",
                    &[&search.name, &search.query, &search.created_ms],
                )
                .await?;
            Ok(())
        })
    }
    fn saved_searches(&self) -> BoxFuture<'_, Result<Vec<SavedSearch>>> {
        Box::pin(async move {
            let conn = self.pool.get().await?;
            let rows = conn.client.query("SELECT name, query, created_ms FROM saved_searches ORDER BY name", &[]).await?;
            Ok(rows.iter().map(|r| SavedSearch { name: r.get(0), query: r.get(1), created_ms: r.get(2) }).collect())
        })
    }
    fn delete_search(&self, name: String) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move { Ok(self.pool.get().await?.client.execute("DELETE FROM saved_searches WHERE name = $1", &[&name]).await? == 1) })
    }
    fn set_destination_paused(&self, destination: String, paused: bool, at_ms: i64) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let conn = self.pool.get().await?;
            if paused {
                let sql = "INSERT INTO paused_destinations (destination, paused_ms) VALUES ($1, $2) ON CONFLICT (destination) DO NOTHING";
                conn.client.execute(sql, &[&destination, &at_ms]).await?;
            } else {
                conn.client.execute("DELETE FROM paused_destinations WHERE destination = $1", &[&destination]).await?;
            }
            Ok(())
        })
    }
    fn paused_destinations(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let rows = self.pool.get().await?.client.query("SELECT destination FROM paused_destinations ORDER BY destination", &[]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
    fn message(&self, id: i64) -> BoxFuture<'_, Result<Option<StoredMessage>>> {
        Box::pin(async move { ops::message(&*self.pool.get().await?, id).await })
    }
    fn recent_models(&self, since_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<RecentModel>>> {
        Box::pin(async move { ops::recent_models(&*self.pool.get().await?, since_ms, limit).await })
    }
    fn purge(&self, before_ms: i64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move { partitions::purge(&*self.pool.get().await?, before_ms, &self.lease.owner, now_ms()).await })
    }
    fn purge_horizon(&self, before_ms: i64) -> i64 {
        partitions::horizon(before_ms)
    }
}

impl Outbox for PostgresStore {
    fn claim(&self, destination: &str, limit: usize, now_ms: i64) -> BoxFuture<'_, Result<Vec<OutboxItem>>> {
        let destination = destination.to_owned();
        Box::pin(async move {
            let items = ops::claim(&*self.pool.get().await?, &destination, limit, now_ms, &self.lease).await?;
            self.remember_claims(&items);
            Ok(items)
        })
    }
    fn renew(&self, ids: Vec<i64>, now_ms: i64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let periods: Option<Vec<i32>> = ids.iter().map(|id| self.period_of_claim(*id, false)).collect();
            ops::renew(&*self.pool.get().await?, &ids, periods.as_deref(), now_ms, &self.lease).await
        })
    }
    fn mark_delivered(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<bool>> {
        self.mark_delivered_answered(id, now_ms, String::new())
    }
    fn mark_delivered_answered(&self, id: i64, now_ms: i64, answer: String) -> BoxFuture<'_, Result<bool>> {
        let (period, lease) = (self.period_of_claim(id, true), &self.lease);
        Box::pin(
            async move { ops::record_outcome(&*self.pool.get().await?, (id, period), OutboxStatus::Delivered, now_ms, (None, Some(&answer)), lease).await },
        )
    }
    fn mark_retry(&self, id: i64, next_attempt_ms: i64, error: String) -> BoxFuture<'_, Result<bool>> {
        let (period, lease) = (self.period_of_claim(id, true), &self.lease);
        Box::pin(async move {
            ops::record_outcome(&*self.pool.get().await?, (id, period), OutboxStatus::Pending, next_attempt_ms, (Some(&error), None), lease).await
        })
    }
    fn mark_dead(&self, id: i64, error: String, now_ms: i64) -> BoxFuture<'_, Result<bool>> {
        let (period, lease) = (self.period_of_claim(id, true), &self.lease);
        Box::pin(async move { ops::record_outcome(&*self.pool.get().await?, (id, period), OutboxStatus::Dead, now_ms, (Some(&error), None), lease).await })
    }
    fn record_attempts(&self, attempts: Vec<(i64, AttemptRecord)>, now_ms: i64) -> BoxFuture<'_, Result<Vec<bool>>> {
        let rows: Vec<(i64, Option<i32>, AttemptRecord)> = attempts.into_iter().map(|(id, a)| (id, self.period_of_claim(id, true), a)).collect();
        Box::pin(async move { ops::record_attempts(&*self.pool.get().await?, &rows, now_ms, &self.lease).await })
    }
    fn requeue(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        Box::pin(async move { ops::transition(&*self.pool.get().await?, id, OutboxStatus::Dead, OutboxStatus::Pending, now_ms, None).await })
    }
    fn replay(&self, id: i64, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        Box::pin(async move { ops::transition(&*self.pool.get().await?, id, OutboxStatus::Delivered, OutboxStatus::Pending, now_ms, None).await })
    }
    fn dead_letter(&self, id: i64, reason: String, now_ms: i64) -> BoxFuture<'_, Result<Transition>> {
        Box::pin(async move { ops::transition(&*self.pool.get().await?, id, OutboxStatus::Pending, OutboxStatus::Dead, now_ms, Some(&reason)).await })
    }
    fn release_own_claims(&self) -> BoxFuture<'_, Result<u64>> {
        if let Ok(mut claimed) = self.claimed.lock() {
            claimed.clear();
        }
        Box::pin(async move { ops::release_own_claims(&*self.pool.get().await?, &self.lease).await })
    }
    fn list(&self, filter: OutboxFilter) -> BoxFuture<'_, Result<Vec<OutboxRow>>> {
        Box::pin(async move { ops::list(&*self.pool.get().await?, &filter).await })
    }
    fn rendering(&self, id: i64) -> BoxFuture<'_, Result<Option<Rendering>>> {
        Box::pin(async move { ops::rendering(&*self.pool.get().await?, id).await })
    }
    fn depth(&self) -> BoxFuture<'_, Result<Vec<(String, u64)>>> {
        Box::pin(async move { ops::depth(&*self.pool.get().await?).await })
    }
    fn oldest_queued(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>> {
        Box::pin(async move { ops::oldest_queued(&*self.pool.get().await?).await })
    }
    fn heartbeat(&self, beat: NodeBeat) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { ops::heartbeat(&*self.pool.get().await?, &beat).await })
    }
    fn nodes(&self) -> BoxFuture<'_, Result<Vec<NodeBeat>>> {
        Box::pin(async move { ops::nodes(&*self.pool.get().await?).await })
    }
    fn wake_ups(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(Arc::clone(&self.wake))
    }
}
