//! Connection admission, so that no client can stop intake: the accept loop every TCP listener
//! shares, a cap per listener and per remote address (a misbehaving sender fills its own
//! allowance, not the listener's), the TLS handshake within the first-read timeout, each refusal
//! counted; accept errors (EMFILE when descriptors run out) back off instead of spinning; and the
//! per-sender budget of stored rejects.

use crate::config::ListenerConfig;
use crate::metrics::Metrics;
use crate::tls::ListenerTls;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};

/// The admission rules of one listener (its caps can be changed by a reload while it runs).
pub struct Admission {
    listener: String,
    active: Arc<AtomicUsize>,
    max_connections: AtomicUsize,
    per_remote: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_remote: AtomicUsize,
    /// The gateway-wide cap the ingest listeners share (none on the admin port).
    intake: Option<Arc<crate::intake::Intake>>,
    metrics: Arc<Metrics>,
}

/// An admitted connection: its slots are given back when it is dropped.
pub struct Admitted {
    active: Arc<AtomicUsize>,
    _gateway_permit: Option<OwnedSemaphorePermit>,
    remote: IpAddr,
    per_remote: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
        if let Ok(mut map) = self.per_remote.lock()
            && let Some(n) = map.get_mut(&self.remote)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.remote);
            }
        }
    }
}

impl Admission {
    pub fn new(listener: &str, max_connections: usize, max_per_remote: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            listener: listener.to_owned(),
            active: Arc::default(),
            max_connections: AtomicUsize::new(max_connections),
            per_remote: Arc::default(),
            max_per_remote: AtomicUsize::new(max_per_remote.max(1)),
            intake: None,
            metrics,
        }
    }

    /// Also counts against the gateway-wide cap of `intake`.
    pub fn within(mut self, intake: Option<Arc<crate::intake::Intake>>) -> Self {
        self.intake = intake;
        self
    }

    /// New caps for the connections admitted from now on (those already in are kept).
    pub fn resize(&self, max_connections: usize, max_per_remote: usize) {
        self.max_connections.store(max_connections, Ordering::Release);
        self.max_per_remote.store(max_per_remote.max(1), Ordering::Release);
    }

    /// Admits `peer` when the gateway's, its listener's and its address's caps allow.
    pub fn admit(&self, peer: SocketAddr) -> Option<Admitted> {
        let gateway_permit = match &self.intake {
            Some(intake) => match intake.connection() {
                Some(permit) => Some(permit),
                None => {
                    self.refused("gateway_max_connections");
                    return None;
                }
            },
            None => None,
        };
        // Only the listener's accept loop admits, so reading then counting cannot race.
        if self.active.load(Ordering::Acquire) >= self.max_connections.load(Ordering::Acquire) {
            self.refused("max_connections");
            return None;
        }
        let Ok(mut map) = self.per_remote.lock() else { return None };
        let n = map.entry(peer.ip()).or_insert(0);
        if *n >= self.max_per_remote.load(Ordering::Acquire) {
            drop(map);
            self.refused("max_connections_per_remote");
            return None;
        }
        *n += 1;
        self.active.fetch_add(1, Ordering::AcqRel);
        Some(Admitted { active: Arc::clone(&self.active), _gateway_permit: gateway_permit, remote: peer.ip(), per_remote: Arc::clone(&self.per_remote) })
    }

    fn refused(&self, limit: &str) {
        tracing::warn!(listener = %self.listener, limit, "connection refused");
        self.metrics.limits_hit.with_label_values(&[&self.listener, limit]).inc();
    }

    /// The next connection; an accept error (descriptors exhausted…) is counted and waited out.
    pub async fn accept(&self, listener: &TcpListener) -> (TcpStream, SocketAddr) {
        loop {
            match listener.accept().await {
                Ok(accepted) => return accepted,
                Err(e) => {
                    tracing::warn!(listener = %self.listener, error = %e, "accept failed; backing off");
                    self.metrics.limits_hit.with_label_values(&[&self.listener, "accept_error"]).inc();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// An admitted connection, in clear or through TLS.
pub type Connection = tokio_util::either::Either<TcpStream, tokio_rustls::server::TlsStream<TcpStream>>;

/// The accept loop every TCP listener shares (MLLP, HTTP, admin): admission per listener and per
/// remote address, the TLS handshake and client check when configured, then `handle` in its own
/// task with [`REMOTE`] set; at `shutdown`, waits for the connections in flight.
pub async fn serve_connections<F, Fut>(
    listener: TcpListener,
    mut settings: watch::Receiver<ListenerConfig>,
    metrics: Arc<Metrics>,
    tls: Option<Arc<ListenerTls>>,
    intake: Option<Arc<crate::intake::Intake>>,
    shutdown: tokio_util::sync::CancellationToken,
    handle: F,
) where
    F: Fn(Connection, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut config = settings.borrow_and_update().clone();
    let admission = Admission::new(&config.name, config.max_connections, config.max_connections_per_remote, Arc::clone(&metrics)).within(intake);
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            a = admission.accept(&listener) => a,
            () = shutdown.cancelled() => break,
        };
        // A reload's new limits apply from the next connection on.
        if settings.has_changed().unwrap_or(false) {
            config = settings.borrow_and_update().clone();
            admission.resize(config.max_connections, config.max_connections_per_remote);
        }
        let Some(admitted) = admission.admit(peer) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (config, metrics, tls, handle) = (config.clone(), Arc::clone(&metrics), tls.clone(), handle.clone());
        tracker.spawn(REMOTE.scope(peer.ip(), async move {
            let connection = match tls {
                None => Some(tokio_util::either::Either::Left(stream)),
                Some(tls) => handshake(&tls, stream, &config, &metrics).await.map(tokio_util::either::Either::Right),
            };
            if let Some(connection) = connection {
                handle(connection, peer).await;
            }
            drop(admitted);
        }));
    }
    tracker.close();
    tracker.wait().await;
}

/// The TLS handshake of a new connection, within `first_read_timeout_secs`, and the client's
/// admission by its certificate; `None` (counted) when either fails.
async fn handshake(
    tls: &ListenerTls,
    stream: TcpStream,
    config: &ListenerConfig,
    metrics: &crate::metrics::Metrics,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let wait = Duration::from_secs(config.first_read_timeout_secs.max(1));
    let refused = |limit: &str| metrics.limits_hit.with_label_values(&[&config.name, limit]).inc();
    let stream = match tokio::time::timeout(wait, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::warn!(listener = %config.name, error = %e, "tls handshake failed");
            refused("tls_handshake");
            return None;
        }
        Err(_) => {
            refused("tls_handshake");
            return None;
        }
    };
    if !tls.client_allowed(stream.get_ref().1.peer_certificates()) {
        tracing::warn!(listener = %config.name, "tls client certificate not in allowed_clients");
        refused("tls_client_not_allowed");
        return None;
    }
    Some(stream)
}

tokio::task_local! {
    /// The remote address of the connection being served (set by the listeners), so that what is
    /// stored about its input can be bounded per sender.
    pub static REMOTE: IpAddr;
}

/// How many rejected inputs are stored per remote address and minute; beyond, they are still
/// answered (AR / 4xx) but only counted, so a flood of bad frames cannot fill the disk.
pub struct RejectBudget {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl RejectBudget {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::default() }
    }

    /// Whether a reject from the current connection's remote may be stored now; `false` only
    /// when its minute's budget is spent (input not from a connection is always stored).
    pub fn admit(&self, now_ms: i64) -> bool {
        let Ok(remote) = REMOTE.try_with(|r| *r) else { return true };
        let minute = now_ms.div_euclid(60_000);
        let Ok(mut windows) = self.windows.lock() else { return true };
        if windows.len() > 10_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let (window, count) = windows.entry(remote).or_insert((minute, 0));
        if *window != minute {
            (*window, *count) = (minute, 0);
        }
        *count += 1;
        if *count == self.per_minute + 1 {
            tracing::warn!(%remote, per_minute = self.per_minute, "rejects beyond rejects_stored_per_minute are answered but not stored this minute");
        }
        *count <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_fills_its_own_allowance_and_gets_it_back() {
        let admission = Admission::new("t", 10, 2, Arc::new(Metrics::new().expect("metrics")));
        let (a, b): (SocketAddr, SocketAddr) = ("10.0.0.1:1000".parse().expect("addr"), "10.0.0.2:1000".parse().expect("addr"));
        let first = admission.admit(a);
        let second = admission.admit(a);
        assert!(first.is_some() && second.is_some());
        assert!(admission.admit(a).is_none(), "a third from the same address is refused");
        assert!(admission.admit(b).is_some(), "another sender still gets in");
        drop(first);
        assert!(admission.admit(a).is_some(), "a slot comes back when its connection ends");
    }

    #[tokio::test]
    async fn rejects_are_stored_up_to_the_budget_per_remote_and_minute() {
        let budget = RejectBudget::new(3);
        let from = |ip: &str| ip.parse::<IpAddr>().expect("ip");
        let stored = REMOTE.scope(from("10.0.0.1"), async { (0..5).filter(|_| budget.admit(60_000)).count() }).await;
        assert_eq!(stored, 3);
        assert!(REMOTE.scope(from("10.0.0.2"), async { budget.admit(60_000) }).await, "another sender has its own budget");
        assert!(REMOTE.scope(from("10.0.0.1"), async { budget.admit(120_000) }).await, "a new minute, a new budget");
        assert!(budget.admit(60_000), "input from no connection (a file drop) is always stored");
    }
}
