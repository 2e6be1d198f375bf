//! Conformance: a round's outcomes recorded in one write, as the delivery workers record them.

use super::{message, stored};
use crate::Store;
use crate::types::*;

/// Delivered, retried and dead-lettered rows of one round, and a row whose lease another node
/// took over meanwhile: each recorded as its own `mark_*` would, the lost one left alone.
pub async fn a_rounds_outcomes_are_recorded_in_one_write<S: Store, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 1_000).await, open("node-b", 1_000).await);
    let ids: Vec<i64> = stored_in_order(&a, &["ra-1", "ra-2", "ra-3", "ra-4"]).await;
    let claimed = a.claim("d-round", 10, 10_000).await.expect("claim");
    assert_eq!(claimed.iter().map(|i| i.message_id).collect::<Vec<_>>(), ids);
    assert!(claimed.iter().all(|i| i.received_at_ms == 1_000), "a claim carries its message's reception time (end-to-end latency)");
    // The fourth row's lease runs out and node B takes it over before A records its outcome.
    let taken = b.claim("d-round", 10, 11_500).await.expect("claim");
    assert_eq!(taken.iter().map(|i| i.id).collect::<Vec<_>>(), claimed.iter().map(|i| i.id).collect::<Vec<_>>(), "every lease expired");
    for row in &taken[..3] {
        assert!(b.mark_retry(row.id, 11_600, "handed back".into()).await.expect("retry"));
    }
    let again = a.claim("d-round", 10, 11_600).await.expect("claim");
    assert_eq!(again.len(), 3, "node A claims the three rows B handed back, not the one B holds");
    let round = vec![
        (again[0].id, AttemptRecord::Delivered { answer: "MSA|AA|ra-1".into() }),
        (again[1].id, AttemptRecord::Retry { next_attempt_ms: 99_000, error: "timeout".into() }),
        (again[2].id, AttemptRecord::Dead { error: "refused".into() }),
        (taken[3].id, AttemptRecord::Delivered { answer: "late".into() }),
    ];
    assert_eq!(a.record_attempts(round, 11_700).await.expect("record"), [true, true, true, false], "the lost lease records nothing");
    let rows = a.list(OutboxFilter { destination: Some("d-round".into()), status: None, limit: 10 }).await.expect("list");
    let status_of = |id: i64| rows.iter().find(|r| r.id == id).map(|r| (r.status, r.attempts, r.last_error.clone()));
    assert_eq!(status_of(again[0].id), Some((OutboxStatus::Delivered, 2, Some("handed back".into()))));
    assert_eq!(status_of(again[1].id), Some((OutboxStatus::Pending, 2, Some("timeout".into()))));
    assert_eq!(status_of(again[2].id), Some((OutboxStatus::Dead, 2, Some("refused".into()))));
    assert_eq!(status_of(taken[3].id).map(|s| s.0), Some(OutboxStatus::InFlight), "still node B's");
    let lineage = a.message(ids[0]).await.expect("message").expect("ra-1");
    let attempts: Vec<(&str, &str)> = lineage.attempts.iter().map(|t| (t.outcome.as_str(), t.detail.as_str())).collect();
    assert_eq!(attempts, [("retry", "handed back"), ("delivered", "MSA|AA|ra-1")]);
    assert!(b.mark_delivered(taken[3].id, 11_800).await.expect("delivered"));
    assert_eq!(a.record_attempts(Vec::new(), 11_900).await.expect("nothing to record"), Vec::<bool>::new());
}

async fn stored_in_order(store: &impl Store, controls: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (n, control) in controls.iter().enumerate() {
        ids.push(stored(store, message(control, &format!("P-round-{n}"), &["d-round"])).await);
    }
    ids
}
