//! If the journal cannot commit, the sender never gets AA.

use passerelle_gateway::codec::InputFormat;
use passerelle_gateway::metrics::Metrics;
use passerelle_gateway::pipeline::{Pipeline, Verdict};
use passerelle_hl7v2::AckCode;
use passerelle_store::*;
use std::sync::Arc;

/// A store whose commits always fail.
struct BrokenStore;

fn fail<T: Send + 'static>() -> BoxFuture<'static, Result<T>> {
    Box::pin(async { Err(StoreError::Database("disk I/O error".into())) })
}

impl Journal for BrokenStore {
    fn append(&self, _: NewMessage) -> BoxFuture<'_, Result<AppendOutcome>> {
        fail()
    }
    fn search(&self, _: MessageQuery) -> BoxFuture<'_, Result<Vec<MessageSummary>>> {
        fail()
    }
    fn latest_consent(&self, _: Vec<(String, String)>) -> BoxFuture<'_, Result<Option<String>>> {
        fail()
    }
    fn resolve_identity(&self, _: Vec<(String, String)>, _: i64) -> BoxFuture<'_, Result<IdentityResolution>> {
        fail()
    }
    fn find_identities(&self, _: Vec<(String, String)>) -> BoxFuture<'_, Result<Vec<i64>>> {
        fail()
    }
    fn audit(&self, _: AuditEntry) -> BoxFuture<'_, Result<()>> {
        fail()
    }
    fn audit_since(&self, _: i64, _: usize) -> BoxFuture<'_, Result<Vec<AuditEntry>>> {
        fail()
    }
    fn visit_state(&self, _: String, _: String) -> BoxFuture<'_, Result<Option<String>>> {
        fail()
    }
    fn identity_keys(&self, _: i64) -> BoxFuture<'_, Result<Vec<(String, String)>>> {
        fail()
    }
    fn message(&self, _: i64) -> BoxFuture<'_, Result<Option<StoredMessage>>> {
        fail()
    }
    fn recent_models(&self, _: i64, _: usize) -> BoxFuture<'_, Result<Vec<RecentModel>>> {
        fail()
    }
    fn save_search(&self, _: SavedSearch) -> BoxFuture<'_, Result<()>> {
        fail()
    }
    fn saved_searches(&self) -> BoxFuture<'_, Result<Vec<SavedSearch>>> {
        fail()
    }
    fn delete_search(&self, _: String) -> BoxFuture<'_, Result<bool>> {
        fail()
    }
    fn set_destination_paused(&self, _: String, _: bool, _: i64) -> BoxFuture<'_, Result<()>> {
        fail()
    }
    fn paused_destinations(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        fail()
    }
    fn purge(&self, _: i64) -> BoxFuture<'_, Result<u64>> {
        fail()
    }
}

impl Outbox for BrokenStore {
    fn claim(&self, _: &str, _: usize, _: i64) -> BoxFuture<'_, Result<Vec<OutboxItem>>> {
        fail()
    }
    fn renew(&self, _: Vec<i64>, _: i64) -> BoxFuture<'_, Result<u64>> {
        fail()
    }
    fn mark_delivered(&self, _: i64, _: i64) -> BoxFuture<'_, Result<bool>> {
        fail()
    }
    fn mark_retry(&self, _: i64, _: i64, _: String) -> BoxFuture<'_, Result<bool>> {
        fail()
    }
    fn mark_dead(&self, _: i64, _: String, _: i64) -> BoxFuture<'_, Result<bool>> {
        fail()
    }
    fn requeue(&self, _: i64, _: i64) -> BoxFuture<'_, Result<Transition>> {
        fail()
    }
    fn replay(&self, _: i64, _: i64) -> BoxFuture<'_, Result<Transition>> {
        fail()
    }
    fn dead_letter(&self, _: i64, _: String, _: i64) -> BoxFuture<'_, Result<Transition>> {
        fail()
    }
    fn release_own_claims(&self) -> BoxFuture<'_, Result<u64>> {
        fail()
    }
    fn list(&self, _: OutboxFilter) -> BoxFuture<'_, Result<Vec<OutboxRow>>> {
        fail()
    }
    fn rendering(&self, _: i64) -> BoxFuture<'_, Result<Option<Rendering>>> {
        fail()
    }
    fn depth(&self) -> BoxFuture<'_, Result<Vec<(String, u64)>>> {
        fail()
    }
    fn oldest_queued(&self) -> BoxFuture<'_, Result<Vec<(String, i64)>>> {
        fail()
    }
    fn heartbeat(&self, _: NodeBeat) -> BoxFuture<'_, Result<()>> {
        fail()
    }
    fn nodes(&self) -> BoxFuture<'_, Result<Vec<NodeBeat>>> {
        fail()
    }
}

#[tokio::test]
async fn a_failed_commit_is_answered_ar_never_aa() {
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let pipeline = Pipeline::new(Arc::new(BrokenStore), Default::default(), metrics, "GW".into(), "FAC".into(), false);
    let msg = b"MSH|^~\\&|APP|FAC|GW|FAC|20261123||ADT^A01^ADT_A01|C-1|P|2.5\rPID|1||42^^^H&1.2.3&ISO^PI||DOE^J\r";
    let result = pipeline.ingest("mllp-in", InputFormat::Hl7v2, bytes::Bytes::from_static(msg)).await;
    assert_eq!(result.verdict, Verdict::NotStored);
    assert_eq!(result.verdict.ack_code(), AckCode::Ar);
    let ack = String::from_utf8_lossy(&result.reply);
    assert!(ack.contains("MSA|AR|C-1"), "{ack}");
    assert!(ack.contains("message not stored"), "{ack}");
}
