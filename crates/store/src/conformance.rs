//! The conformance suite every backend must pass (SQLite now, PostgreSQL next): call
//! [`run_all`] from the backend's tests on a fresh, empty store.

use crate::Store;
use crate::types::*;

fn message(control_id: &str, patient: &str, destinations: &[&str]) -> NewMessage {
    NewMessage {
        received_at_ms: 1_000,
        listener: "mllp".into(),
        format: "hl7v2".into(),
        message_type: "ADT^A01".into(),
        control_id: control_id.into(),
        sender: "APP|FAC".into(),
        content_hash: format!("hash-{control_id}"),
        status: MessageStatus::Accepted,
        patient: PatientKeys { ins: None, niss: None, ipp: Some(patient.into()) },
        raw: format!("MSH|{control_id}").into_bytes(),
        normalised: Some(b"{}".to_vec()),
        ack: format!("ACK {control_id}").into_bytes(),
        diagnostics: String::new(),
        deliveries: destinations.iter().map(|d| NewDelivery { destination: (*d).into(), partition_key: patient.into() }).collect(),
    }
}

async fn stored(store: &impl Store, m: NewMessage) -> i64 {
    match store.append(m).await.expect("append") {
        AppendOutcome::Stored { message_id } => message_id,
        other => panic!("expected a new message, got {other:?}"),
    }
}

/// Runs every check in order on an empty store.
pub async fn run_all(store: &impl Store) {
    resend_returns_the_original_ack(store).await;
    rejected_messages_are_kept_without_deliveries(store).await;
    per_patient_order_holds_through_retries_and_dead_letters(store).await;
    in_flight_rows_are_recovered(store).await;
    search_and_depth(store).await;
    purge_keeps_undelivered_messages(store).await;
}

async fn resend_returns_the_original_ack(store: &impl Store) {
    let id = stored(store, message("dup-1", "P-dup", &["d-dup"])).await;
    let again = store.append(message("dup-1", "P-dup", &["d-dup"])).await.expect("append");
    assert_eq!(again, AppendOutcome::Duplicate { message_id: id, ack: b"ACK dup-1".to_vec() });
    let mut changed = message("dup-1", "P-dup", &["d-dup"]);
    changed.content_hash = "other-content".into();
    assert!(matches!(store.append(changed).await.expect("append"), AppendOutcome::Stored { .. }), "same id, other content is a new message");
    let claimed = store.claim("d-dup", 10, 2_000).await.expect("claim");
    assert_eq!(claimed.len(), 1, "a resend must not be delivered twice (the changed one waits behind the first)");
}

async fn rejected_messages_are_kept_without_deliveries(store: &impl Store) {
    let mut bad = message("", "", &[]);
    bad.status = MessageStatus::Rejected;
    bad.raw = vec![0, 1, 2, 0xff];
    stored(store, bad.clone()).await;
    // Rejected input is never deduplicated: each arrival is kept.
    stored(store, bad).await;
    let found = store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(found.len(), 2);
}

async fn per_patient_order_holds_through_retries_and_dead_letters(store: &impl Store) {
    let a1 = stored(store, message("o-1", "A", &["d-order"])).await;
    let b1 = stored(store, message("o-2", "B", &["d-order"])).await;
    let a2 = stored(store, message("o-3", "A", &["d-order"])).await;
    let first = store.claim("d-order", 10, 2_000).await.expect("claim");
    let ids: Vec<i64> = first.iter().map(|i| i.message_id).collect();
    assert_eq!(ids, vec![a1, b1], "only the oldest row of each patient is eligible");
    assert!(store.claim("d-order", 10, 2_000).await.expect("claim").is_empty(), "in-flight rows are not claimed twice");
    // A1 fails: it is retried later and keeps blocking A2.
    store.mark_retry(first[0].id, 5_000, "timeout".into()).await.expect("retry");
    store.mark_delivered(first[1].id, 2_100).await.expect("delivered");
    assert!(store.claim("d-order", 10, 3_000).await.expect("claim").is_empty(), "A2 waits behind A1's retry");
    let retried = store.claim("d-order", 10, 5_000).await.expect("claim");
    assert_eq!(retried.iter().map(|i| (i.message_id, i.attempts)).collect::<Vec<_>>(), vec![(a1, 1)]);
    store.mark_dead(retried[0].id, "rejected by peer".into(), 5_100).await.expect("dead");
    let next = store.claim("d-order", 10, 5_200).await.expect("claim");
    assert_eq!(next.iter().map(|i| i.message_id).collect::<Vec<_>>(), vec![a2], "a dead letter unblocks the patient");
    store.mark_delivered(next[0].id, 5_300).await.expect("delivered");
    let dead = store.list(OutboxFilter { destination: Some("d-order".into()), status: Some(OutboxStatus::Dead), limit: 10 }).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("rejected by peer"));
    assert!(store.requeue(dead[0].id, 6_000).await.expect("requeue"));
    assert!(!store.requeue(dead[0].id, 6_000).await.expect("requeue"), "only a dead row can be requeued");
    let replay = store.claim("d-order", 10, 6_000).await.expect("claim");
    assert_eq!(replay.len(), 1);
    store.mark_delivered(replay[0].id, 6_100).await.expect("delivered");
}

async fn in_flight_rows_are_recovered(store: &impl Store) {
    stored(store, message("r-1", "R", &["d-recover"])).await;
    assert_eq!(store.claim("d-recover", 10, 2_000).await.expect("claim").len(), 1);
    assert!(store.recover_in_flight().await.expect("recover") >= 1);
    let again = store.claim("d-recover", 10, 2_000).await.expect("claim");
    assert_eq!(again.len(), 1, "a crash mid-delivery leaves the row to be sent again");
    assert!(store.dead_letter(again[0].id, "operator".into(), 2_500).await.is_ok());
}

async fn search_and_depth(store: &impl Store) {
    let mut m = message("s-1", "IPP-S", &["d-depth", "d-depth-2"]);
    m.patient.ins = Some("279035121518989".into());
    stored(store, m).await;
    let by_ins = store.search(MessageQuery { patient: Some("279035121518989".into()), ..Default::default() }).await.expect("search");
    assert_eq!(by_ins.len(), 1);
    assert_eq!(by_ins[0].control_id, "s-1");
    let by_ipp = store.search(MessageQuery { patient: Some("IPP-S".into()), ..Default::default() }).await.expect("search");
    assert_eq!(by_ipp.len(), 1);
    let by_control = store.search(MessageQuery { control_id: Some("s-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(by_control.len(), 1);
    let depth = store.depth().await.expect("depth");
    assert!(depth.contains(&("d-depth".to_string(), 1)) && depth.contains(&("d-depth-2".to_string(), 1)), "{depth:?}");
}

async fn purge_keeps_undelivered_messages(store: &impl Store) {
    let purged = store.purge(1_500).await.expect("purge");
    assert!(purged >= 1, "delivered and rejected messages older than the horizon go");
    let left = store.search(MessageQuery { control_id: Some("s-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(left.len(), 1, "a message with pending deliveries is kept");
}
