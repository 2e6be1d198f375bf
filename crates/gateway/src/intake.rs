//! Gateway-wide intake bounds every ingest listener shares: a cap on open connections, kept below
//! the process's descriptor limit so that the admin port, the store and outbound connections
//! always find descriptors; and a budget of bytes in flight (frames and bodies being read plus
//! messages not yet committed), for the gateway and for each remote address, beyond which the
//! read is refused in the listener's protocol (AR, 503) instead of memory growing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Descriptors kept out of the ingest listeners' reach: the admin port's connections (64), the
/// journal's files, outbound connections and what the runtime itself opens.
pub const RESERVED_DESCRIPTORS: usize = 192;

/// What one connection (or request) may hold without being counted: ordinary messages are
/// smaller, so a spent budget refuses only large input. Memory stays bounded by
/// `max_bytes_in_flight` plus this much per admitted connection.
pub const UNCHARGED_PER_MESSAGE: usize = 64 * 1024;

/// The bounds shared by the MLLP and HTTP listeners of one gateway.
pub struct Intake {
    connections: Arc<Semaphore>,
    pub max_connections: usize,
    bytes: Arc<BytesInFlight>,
}

impl Intake {
    /// `max_connections` is lowered to what the descriptor limit leaves after the reserve.
    pub fn new(max_connections: usize, max_bytes: usize, max_bytes_per_remote: usize) -> Self {
        let max_connections = max_connections.min(descriptor_room()).max(1);
        Self {
            connections: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            bytes: Arc::new(BytesInFlight { max_total: max_bytes, max_per_remote: max_bytes_per_remote.min(max_bytes), state: Mutex::default() }),
        }
    }

    /// One of the gateway's connection slots, if any is free.
    pub fn connection(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.connections).try_acquire_owned().ok()
    }

    /// A new account of bytes in flight for input from `remote`.
    pub fn charge(&self, remote: IpAddr) -> Arc<Charge> {
        Arc::new(Charge { budget: Arc::clone(&self.bytes), remote, held: AtomicUsize::new(0) })
    }

    /// Bytes in flight now, gateway-wide.
    pub fn bytes_in_flight(&self) -> usize {
        self.bytes.state.lock().map(|s| s.total).unwrap_or_default()
    }
}

impl Default for Intake {
    fn default() -> Self {
        Self::new(4096, 256 << 20, 64 << 20)
    }
}

/// Raises the soft descriptor limit to the hard one (a no-op when equal) and returns how many
/// connections the ingest listeners may hold: the limit less [`RESERVED_DESCRIPTORS`].
pub fn descriptor_room() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
        limit = getrlimit(Resource::Nofile);
    }
    let current = limit.current.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    current.saturating_sub(RESERVED_DESCRIPTORS).max(16)
}

/// The listeners with their connection caps scaled down, in proportion, when together they
/// would pass `room` (the gateway's cap): a flood on one listener can then never take the
/// descriptors another listener needs.
pub fn share_connections(listeners: &[crate::config::ListenerConfig], room: usize) -> Vec<crate::config::ListenerConfig> {
    let networked = |l: &crate::config::ListenerConfig| l.kind != crate::config::ListenerKind::File;
    let total: usize = listeners.iter().filter(|l| networked(l)).map(|l| l.max_connections).sum();
    let mut shared = listeners.to_vec();
    if total > room {
        for l in shared.iter_mut().filter(|l| networked(l)) {
            let scaled = (l.max_connections * room / total).max(1);
            tracing::warn!(listener = %l.name, configured = l.max_connections, effective = scaled, "listener max_connections scaled down to share [gateway] max_connections");
            l.max_connections = scaled;
        }
    }
    shared
}

#[derive(Default)]
struct Held {
    total: usize,
    per_remote: HashMap<IpAddr, usize>,
}

struct BytesInFlight {
    max_total: usize,
    max_per_remote: usize,
    state: Mutex<Held>,
}

/// Which budget a read would overrun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    #[error("the gateway's bytes in flight are at max_bytes_in_flight")]
    Gateway,
    #[error("this sender's bytes in flight are at max_bytes_in_flight_per_remote")]
    Remote,
}

impl OverBudget {
    /// The `limit` label of `passerelle_limits_hit_total`.
    pub fn limit(self) -> &'static str {
        match self {
            Self::Gateway => "max_bytes_in_flight",
            Self::Remote => "max_bytes_in_flight_per_remote",
        }
    }
}

/// The bytes one connection or request holds in flight; given back as its input is committed
/// ([`Charge::settle`]) or when it is dropped.
pub struct Charge {
    budget: Arc<BytesInFlight>,
    remote: IpAddr,
    held: AtomicUsize,
}

impl Charge {
    /// Takes `n` more bytes, or says which budget is spent (nothing is taken then). The first
    /// [`UNCHARGED_PER_MESSAGE`] bytes a connection holds are not counted against either budget,
    /// so an ordinary message always gets through while large partial input is bounded.
    pub fn grow(&self, n: usize) -> Result<(), OverBudget> {
        let held = self.held.load(Ordering::Relaxed);
        if held + n <= UNCHARGED_PER_MESSAGE {
            self.held.fetch_add(n, Ordering::Relaxed);
            return Ok(());
        }
        let charged = held + n - held.max(UNCHARGED_PER_MESSAGE);
        let Ok(mut state) = self.budget.state.lock() else { return Ok(()) };
        let mine = state.per_remote.get(&self.remote).copied().unwrap_or_default();
        if mine + charged > self.budget.max_per_remote {
            return Err(OverBudget::Remote);
        }
        if state.total + charged > self.budget.max_total {
            return Err(OverBudget::Gateway);
        }
        state.total += charged;
        *state.per_remote.entry(self.remote).or_default() += charged;
        self.held.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Gives back all but `keep` bytes (what is still buffered after a committed message).
    pub fn settle(&self, keep: usize) {
        let held = self.held.load(Ordering::Relaxed);
        if held > keep {
            self.release(held - keep);
        }
    }

    fn release(&self, n: usize) {
        let held = self.held.fetch_sub(n, Ordering::Relaxed);
        // Only what was above the uncharged allowance was counted.
        let n = held.saturating_sub(UNCHARGED_PER_MESSAGE) - (held - n).saturating_sub(UNCHARGED_PER_MESSAGE);
        if n == 0 {
            return;
        }
        let Ok(mut state) = self.budget.state.lock() else { return };
        state.total = state.total.saturating_sub(n);
        if let Some(mine) = state.per_remote.get_mut(&self.remote) {
            *mine = mine.saturating_sub(n);
            if *mine == 0 {
                state.per_remote.remove(&self.remote);
            }
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.settle(0);
    }
}

/// A connection whose reads are charged to a [`Charge`]: a read past the budget fails with an
/// [`OverBudget`] I/O error, which the listener answers (AR) before it closes.
pub struct ChargedStream<S> {
    inner: S,
    charge: Arc<Charge>,
}

impl<S> ChargedStream<S> {
    pub fn new(inner: S, charge: Arc<Charge>) -> Self {
        Self { inner, charge }
    }
}

/// The budget an I/O error from a [`ChargedStream`] overran, if that is what it is.
pub fn over_budget(error: &std::io::Error) -> Option<OverBudget> {
    error.get_ref().and_then(|e| e.downcast_ref::<OverBudget>()).copied()
}

impl<S: AsyncRead + Unpin> AsyncRead for ChargedStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let read = buf.filled().len() - before;
            if let Err(over) = self.charge.grow(read) {
                return Poll::Ready(Err(std::io::Error::other(over)));
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ChargedStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_sender_fills_its_own_share_and_the_gateway_its_total() {
        const FREE: usize = UNCHARGED_PER_MESSAGE;
        let intake = Intake::new(10, 100, 60);
        let (a, b, c) = (intake.charge(ip("10.0.0.1")), intake.charge(ip("10.0.0.2")), intake.charge(ip("10.0.0.3")));
        assert_eq!(c.grow(FREE), Ok(()), "an ordinary message is never counted");
        assert_eq!(intake.bytes_in_flight(), 0);
        assert_eq!(a.grow(FREE + 60), Ok(()));
        assert_eq!(a.grow(1), Err(OverBudget::Remote), "one sender holds at most its share");
        assert_eq!(b.grow(FREE + 40), Ok(()));
        assert_eq!(c.grow(1), Err(OverBudget::Gateway), "the total is spent: only large input is refused");
        a.settle(FREE + 10);
        assert_eq!(intake.bytes_in_flight(), 50);
        assert_eq!(c.grow(50), Ok(()), "settled bytes come back");
        drop((a, b, c));
        assert_eq!(intake.bytes_in_flight(), 0, "a dropped charge gives everything back");
    }

    #[test]
    fn the_connection_cap_is_below_the_descriptor_limit() {
        let intake = Intake::new(usize::MAX, 1, 1);
        assert!(intake.max_connections <= descriptor_room());
        let small = Intake::new(2, 1, 1);
        let (first, second) = (small.connection(), small.connection());
        assert!(first.is_some() && second.is_some() && small.connection().is_none());
    }
}
