//! Delivery workers: claim outbox rows per destination under a lease (oldest per patient first),
//! send each row's stored rendering, and record delivered / retried with backoff / dead-lettered.

mod file;
mod http;
mod oauth2;
pub use http::install_tls_provider;
mod mllp;
pub mod render;

use crate::config::{DestinationConfig, DestinationKind};
use crate::metrics::Metrics;
use crate::pipeline::now_ms;
use passerelle_store::{AttemptRecord, BoxFuture, OutboxItem, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a send attempt concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Taken; `answer` is what the receiver said (its ACK, the HTTP status and body, the file
    /// written), kept in the row's delivery attempts.
    Delivered { answer: String },
    /// Try again later (`after`: the peer's Retry-After).
    Retry { error: String, after: Option<Duration> },
    /// Never going to work as is: dead letter, replayable by an operator.
    Dead { error: String },
}

/// A destination transport.
pub trait Transport: Send + Sync {
    /// Sends the row's stored rendering, byte for byte.
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Outcome>;
    /// How many patients may be in flight at once.
    fn concurrency(&self) -> usize;
}

pub fn transport_for(config: &DestinationConfig) -> Result<Arc<dyn Transport>, String> {
    Ok(match config.kind {
        DestinationKind::Mllp => Arc::new(mllp::MllpTransport::new(config)?),
        DestinationKind::FhirHttp | DestinationKind::Http => Arc::new(http::HttpTransport::new(config)?),
        DestinationKind::File => Arc::new(file::FileTransport::new(config)?),
    })
}

/// Exponential backoff with jitter: `base · 2^attempt`, capped, then scaled by 50–100 %.
pub fn backoff(config: &DestinationConfig, attempt: u32, seed: u64) -> Duration {
    let exp = config.backoff_ms.saturating_mul(1u64 << attempt.min(20)).min(config.max_backoff_ms);
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Duration::from_millis(exp / 2 + x % (exp / 2 + 1))
}

/// Rows claimed per round at least, so that a single-connection destination (MLLP sends one
/// message at a time) pays one commit per this many sends, not one per few.
const CLAIM_AT_LEAST: usize = 256;

pub struct Worker {
    pub config: DestinationConfig,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub transport: Arc<dyn Transport>,
    pub new_work: Arc<Notify>,
    /// How often the leases of the rows being sent are renewed (a third of the lease).
    pub renew_every: Duration,
    /// How long a claim lasts without renewal (`[store] lease_secs`).
    pub lease: Duration,
    /// Destinations an operator paused on this node: their worker claims nothing until resumed.
    pub paused: Paused,
}

/// The destinations paused on this node (shared by the workers and the admin port).
pub type Paused = Arc<std::sync::RwLock<std::collections::BTreeSet<String>>>;

/// Fencing: the time (Unix ms) until which this node may still send the rows of its current
/// batch. Each claim and each successful renewal of every row pushes it to a third of a lease
/// before the lease ends; a failed or partial renewal ends it at once. A lane checks it before
/// each send, so a node cut off from the store stops sending before another node can take its
/// rows over (a send already under way finishes: at-least-once).
struct Fence(std::sync::atomic::AtomicI64);

impl Fence {
    fn extend(&self, until_ms: i64) {
        self.0.store(until_ms, std::sync::atomic::Ordering::SeqCst);
    }
    fn holds(&self) -> bool {
        now_ms() < self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Worker {
    /// Runs until `shutdown`; in-flight sends finish and are recorded before it returns.
    ///
    /// Each round claims a batch (only the oldest row of each patient is eligible, so the rows
    /// of a batch belong to different patients), spreads it over `concurrency` lanes that send
    /// in order, and records every outcome of the round in one write. The next round's claim is
    /// queued right behind that write, so both share one commit (SQLite runs them in order in
    /// one transaction: the claim sees the round's outcomes, and its rows are only sent once the
    /// outcomes are durable, since the claim answers after the commit).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let name = self.config.name.clone();
        let lanes = self.transport.concurrency().max(1);
        let batch = (lanes * 8).max(CLAIM_AT_LEAST);
        let mut finished: Vec<(OutboxItem, Outcome)> = Vec::new();
        while !shutdown.is_cancelled() {
            if self.paused.read().is_ok_and(|p| p.contains(&name)) {
                self.record(std::mem::take(&mut finished)).await;
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let claimed_at = now_ms();
            let ((), claim) = tokio::join!(self.record(std::mem::take(&mut finished)), self.store.claim(&name, batch, claimed_at));
            let items = match claim {
                Ok(items) => items,
                Err(e) => {
                    tracing::error!(destination = %name, error = %e, "cannot claim outbox rows");
                    Vec::new()
                }
            };
            if items.is_empty() {
                tokio::select! {
                    () = self.new_work.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let mut per_lane: Vec<Vec<OutboxItem>> = (0..lanes).map(|_| Vec::new()).collect();
            for (i, item) in items.into_iter().enumerate() {
                per_lane[i % lanes].push(item);
            }
            let claimed: Vec<i64> = per_lane.iter().flatten().map(|i| i.id).collect();
            let safe_for = (self.lease.as_millis() as i64) - (self.renew_every.as_millis() as i64);
            let fence = Arc::new(Fence(std::sync::atomic::AtomicI64::new(claimed_at + safe_for)));
            let mut set = tokio::task::JoinSet::new();
            for lane in per_lane.into_iter().filter(|l| !l.is_empty()) {
                let (this, fence) = (Arc::clone(&self), Arc::clone(&fence));
                set.spawn(async move { this.run_lane(lane, &fence).await });
            }
            // While the batch is being sent, its leases are renewed: only a dead node loses them.
            let mut renew = tokio::time::interval(self.renew_every);
            renew.tick().await;
            let mut outcomes = Vec::with_capacity(claimed.len());
            loop {
                tokio::select! {
                    joined = set.join_next() => match joined {
                        None => break,
                        Some(Ok(sent)) => outcomes.extend(sent),
                        // A lane that panicked sent nothing more: its rows' leases expire and they are sent again.
                        Some(Err(e)) => tracing::error!(destination = %name, error = %e, "a delivery lane stopped"),
                    },
                    _ = renew.tick() => {
                        let asked = now_ms();
                        match self.store.renew(claimed.clone(), asked).await {
                            // Rows already recorded no longer count: held ≤ claimed is the norm.
                            Ok(_) => fence.extend(asked + safe_for),
                            Err(e) => {
                                tracing::warn!(destination = %name, error = %e, "cannot renew delivery leases; sending stops until they are claimed again");
                                fence.extend(0);
                            }
                        }
                    }
                }
            }
            finished = outcomes;
        }
        self.record(finished).await;
    }

    /// Sends a lane's rows in order; returns each row sent with its outcome.
    async fn run_lane(self: Arc<Self>, items: Vec<OutboxItem>, fence: &Fence) -> Vec<(OutboxItem, Outcome)> {
        let mut sent = Vec::with_capacity(items.len());
        for item in items {
            // Fenced off: the lease may be gone; the rest of the lane is left to whoever claims
            // it next (this node included, once the store answers again).
            if !fence.holds() {
                self.metrics.deliveries.with_label_values(&[&self.config.name, "fenced"]).inc();
                break;
            }
            let outcome = self.attempt(&item).await;
            sent.push((item, outcome));
        }
        sent
    }

    async fn attempt(&self, item: &OutboxItem) -> Outcome {
        let outcome = if item.rendering.bytes.is_empty() {
            // Rows journaled before renderings were stored (schema 3) have none to send.
            Outcome::Dead { error: "no stored rendering for this row (journaled by an earlier version); re-send the message".into() }
        } else {
            self.transport.send(item).await
        };
        let attempts_after = item.attempts + 1;
        match outcome {
            Outcome::Retry { error, .. } if attempts_after >= self.config.max_attempts => {
                Outcome::Dead { error: format!("gave up after {attempts_after} attempts: {error}") }
            }
            other => other,
        }
    }

    /// Counts the round's outcomes and records them in one write.
    async fn record(&self, outcomes: Vec<(OutboxItem, Outcome)>) {
        if outcomes.is_empty() {
            return;
        }
        let name = &self.config.name;
        let now = now_ms();
        let mut ids = Vec::with_capacity(outcomes.len());
        let attempts: Vec<(i64, AttemptRecord)> = outcomes
            .into_iter()
            .map(|(item, outcome)| {
                ids.push(item.id);
                let attempt = match outcome {
                    Outcome::Delivered { answer } => {
                        self.metrics.deliveries.with_label_values(&[name, "delivered"]).inc();
                        let latency = (now - item.received_at_ms).max(0) as f64 / 1000.0;
                        self.metrics.end_to_end_latency.with_label_values(&[name]).observe(latency);
                        AttemptRecord::Delivered { answer }
                    }
                    Outcome::Retry { error, after } => {
                        self.metrics.deliveries.with_label_values(&[name, "retried"]).inc();
                        let wait = after.unwrap_or_else(|| backoff(&self.config, item.attempts, item.id as u64 ^ now as u64));
                        AttemptRecord::Retry { next_attempt_ms: now + wait.as_millis() as i64, error }
                    }
                    Outcome::Dead { error } => {
                        self.metrics.deliveries.with_label_values(&[name, "dead_lettered"]).inc();
                        tracing::warn!(destination = %name, outbox_id = item.id, "delivery dead-lettered");
                        AttemptRecord::Dead { error }
                    }
                };
                (item.id, attempt)
            })
            .collect();
        match self.store.record_attempts(attempts, now).await {
            Ok(recorded) => {
                // The lease expired and another node took the row over: its outcome is the one kept.
                for (id, _) in ids.iter().zip(recorded).filter(|(_, held)| !held) {
                    tracing::warn!(destination = %name, outbox_id = id, "lease lost before the outcome was recorded");
                }
            }
            // The rows stay in flight; their leases expire and they are sent again.
            Err(e) => tracing::error!(destination = %name, error = %e, rows = ids.len(), "cannot record delivery outcomes"),
        }
    }
}

/// Shared status handling of HTTP destinations: 2xx delivered; 408, 429, 5xx retried honouring
/// Retry-After; other 4xx dead-lettered with the body (an OperationOutcome) kept.
pub fn http_outcome(status: u16, retry_after: Option<&str>, body: &[u8]) -> Outcome {
    let after = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
    let body = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
    match status {
        200..=299 => Outcome::Delivered { answer: format!("http {status}: {body}") },
        408 | 429 | 500..=599 if body.is_empty() => Outcome::Retry { error: format!("http {status}"), after },
        408 | 429 | 500..=599 => Outcome::Retry { error: format!("http {status}: {body}"), after },
        _ => Outcome::Dead { error: format!("http {status}: {body}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_outcomes() {
        assert_eq!(http_outcome(201, None, b""), Outcome::Delivered { answer: "http 201: ".into() });
        assert_eq!(http_outcome(503, Some("7"), b""), Outcome::Retry { error: "http 503".into(), after: Some(Duration::from_secs(7)) });
        assert_eq!(http_outcome(429, None, b""), Outcome::Retry { error: "http 429".into(), after: None });
        assert_eq!(http_outcome(500, None, b"database down"), Outcome::Retry { error: "http 500: database down".into(), after: None });
        assert!(matches!(http_outcome(422, None, b"{\"resourceType\":\"OperationOutcome\"}"), Outcome::Dead { error } if error.contains("OperationOutcome")));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let config: DestinationConfig = toml::from_str("name='d'\nkind='file'\ndir='x'\nbackoff_ms=100\nmax_backoff_ms=1000").expect("config");
        let d0 = backoff(&config, 0, 1).as_millis();
        let d3 = backoff(&config, 3, 1).as_millis();
        let d10 = backoff(&config, 10, 1).as_millis();
        assert!((50..=100).contains(&d0), "{d0}");
        assert!((400..=800).contains(&d3), "{d3}");
        assert!((500..=1000).contains(&d10), "{d10}");
        assert_ne!(backoff(&config, 3, 1), backoff(&config, 3, 2));
    }
}
