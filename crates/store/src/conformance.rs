//! The conformance suite every backend must pass (SQLite and PostgreSQL): call [`run_all`] from
//! the backend's tests with an async function that opens the same fresh, empty store for a given
//! node (id and lease duration), so leases and concurrent claims are tested across nodes.

mod attempts;

use crate::Store;
use crate::types::*;

/// An accepted ADT for `patient` (IPP in CHU-TEST) routed to `destinations`, for backend tests.
pub fn sample_message(control_id: &str, patient: &str, destinations: &[&str]) -> NewMessage {
    message(control_id, patient, destinations)
}

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
        identifiers: vec![NewIdentifier { kind: "ipp".into(), system: "CHU-TEST".into(), value: patient.into() }],
        withheld: None,
        document_type: None,
        routes: None,
        consent: None,
        visit_state: None,
        raw: format!("MSH|{control_id}").into_bytes().into(),
        normalised: Some(b"{}".to_vec()),
        ack: format!("ACK {control_id}").into_bytes(),
        diagnostics: String::new(),
        deliveries: destinations
            .iter()
            .map(|d| NewDelivery {
                destination: (*d).into(),
                partition_key: patient.into(),
                rendering: Rendering {
                    bytes: format!("{d}:{control_id}").into_bytes().into(),
                    content_type: "text/plain".into(),
                    reference: control_id.into(),
                },
            })
            .collect(),
    }
}

async fn stored(store: &impl Store, m: NewMessage) -> i64 {
    match store.append(m).await.expect("append") {
        AppendOutcome::Stored { message_id } => message_id,
        other => panic!("expected a new message, got {other:?}"),
    }
}

/// Runs every check in order on an empty store; `open(node, lease_ms)` opens a handle on it for a node.
pub async fn run_all<S: Store + 'static, F: std::future::Future<Output = S>>(open: impl Fn(&str, i64) -> F) {
    let store = &open("node-a", 60_000).await;
    resend_returns_the_original_ack(store).await;
    concurrent_resends_store_one_message(store).await;
    rejected_messages_are_kept_without_deliveries(store).await;
    per_patient_order_holds_through_retries_and_dead_letters(store).await;
    operator_actions_say_what_happened(store).await;
    a_delivered_message_is_replayed_before_the_patients_later_ones(store).await;
    own_claims_are_released_at_start_up_but_not_other_nodes(&open).await;
    expired_leases_are_taken_over_and_the_late_outcome_ignored(&open).await;
    concurrent_claims_from_two_nodes_never_share_a_row(&open).await;
    search_by_identifier_and_depth(store).await;
    consent_is_remembered_per_identifier_and_withheld_messages_are_found(store).await;
    purge_keeps_undelivered_messages(store).await;
    large_documents_round_trip_byte_for_byte(store).await;
    one_person_is_one_identity_even_when_twenty_clients_race(store).await;
    a_visit_keeps_the_state_its_last_accepted_message_left(store).await;
    the_audit_trail_keeps_every_read_in_order(store).await;
    saved_searches_are_kept_replaced_and_forgotten(store).await;
    a_paused_destination_is_seen_paused_from_every_node(&open).await;
    every_node_is_listed_with_its_last_heartbeat(&open).await;
    attempts::a_rounds_outcomes_are_recorded_in_one_write(&open).await;
}

async fn every_node_is_listed_with_its_last_heartbeat<S: Store, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 60_000).await, open("node-b", 60_000).await);
    let beat = |node: &str, seen_ms: i64, config: &str| NodeBeat {
        node: node.into(),
        started_ms: 1_000,
        seen_ms,
        config_version: config.into(),
        binary_version: "0.1.0".into(),
    };
    a.heartbeat(beat("node-a", 5_000, "c1")).await.expect("beat");
    b.heartbeat(beat("node-b", 5_100, "c1")).await.expect("beat");
    a.heartbeat(beat("node-a", 6_000, "c2")).await.expect("beat");
    let nodes = b.nodes().await.expect("nodes");
    assert_eq!(nodes, vec![beat("node-a", 6_000, "c2"), beat("node-b", 5_100, "c1")], "one row per node, its last beat, seen from any node");
}

async fn a_paused_destination_is_seen_paused_from_every_node<S: Store, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 60_000).await, open("node-b", 60_000).await);
    a.set_destination_paused("dpi".into(), true, 1_000).await.expect("pause");
    a.set_destination_paused("dpi".into(), true, 2_000).await.expect("pause again");
    a.set_destination_paused("labo".into(), true, 1_000).await.expect("pause");
    assert_eq!(b.paused_destinations().await.expect("paused"), ["dpi", "labo"]);
    b.set_destination_paused("dpi".into(), false, 3_000).await.expect("resume");
    assert_eq!(a.paused_destinations().await.expect("paused"), ["labo"]);
    a.set_destination_paused("labo".into(), false, 3_000).await.expect("resume");
    assert!(b.paused_destinations().await.expect("paused").is_empty());
}

async fn saved_searches_are_kept_replaced_and_forgotten(store: &impl Store) {
    let search = |name: &str, query: &str| SavedSearch { name: name.into(), query: query.into(), created_ms: 1_000 };
    store.save_search(search("dead letters of dpi", "destination=dpi&status=dead")).await.expect("save");
    store.save_search(search("a patient", "patient=IPP100234")).await.expect("save");
    store.save_search(search("dead letters of dpi", "destination=dpi&status=rejected")).await.expect("replace");
    let saved = store.saved_searches().await.expect("list");
    assert_eq!(
        saved.iter().map(|s| (s.name.as_str(), s.query.as_str())).collect::<Vec<_>>(),
        [("a patient", "patient=IPP100234"), ("dead letters of dpi", "destination=dpi&status=rejected")]
    );
    assert!(store.delete_search("a patient".into()).await.expect("delete"));
    assert!(!store.delete_search("a patient".into()).await.expect("delete"), "already gone");
    assert_eq!(store.saved_searches().await.expect("list").len(), 1);
}

async fn the_audit_trail_keeps_every_read_in_order(store: &impl Store) {
    let entry =
        |at_ms: i64, target: &str| AuditEntry { at_ms, role: "phi".into(), remote: "127.0.0.1:5000".into(), action: "read".into(), target: target.into() };
    for (at, target) in [(9_000, "message/1"), (9_002, "message/3"), (9_001, "message/2")] {
        store.audit(entry(at, target)).await.expect("audit");
    }
    let trail = store.audit_since(9_001, 10).await.expect("audit");
    assert_eq!(trail.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["message/2", "message/3"], "from `since` on, oldest first");
}

/// A visit's state is the one its latest accepted message left; a rejected message changes nothing.
async fn a_visit_keeps_the_state_its_last_accepted_message_left(store: &impl Store) {
    let visit = ("urn:oid:1.2.250.1.999.1.3".to_owned(), "VN-STATE-1".to_owned());
    assert_eq!(store.visit_state(visit.0.clone(), visit.1.clone()).await.expect("state"), None);
    let moved = |control: &str, at: i64, state: &str| {
        let mut m = message(control, "P-VISIT", &[]);
        m.received_at_ms = at;
        m.visit_state = Some((visit.0.clone(), visit.1.clone(), state.into()));
        m
    };
    stored(store, moved("visit-1", 5_000, "admit")).await;
    stored(store, moved("visit-2", 5_001, "discharge")).await;
    let mut refused = moved("visit-3", 5_002, "admit");
    refused.status = MessageStatus::Rejected;
    store.append(refused).await.expect("append");
    assert_eq!(store.visit_state(visit.0.clone(), visit.1.clone()).await.expect("state").as_deref(), Some("discharge"));
}

/// Twenty concurrent first messages about one new person find one identity; a later message
/// with one more identifier finds it and adds the identifier; identifiers of two identities conflict.
async fn one_person_is_one_identity_even_when_twenty_clients_race(store: &impl Store) {
    let ins = ("urn:oid:1.2.250.1.213.1.4.10".to_owned(), "279035121518989".to_owned());
    let ipp = ("urn:oid:1.2.250.1.999.1.1".to_owned(), "IPP-RACE".to_owned());
    let results = futures_join_all((0..20).map(|i| store.resolve_identity(vec![ins.clone()], 1_000 + i))).await;
    let ids: Vec<i64> = results
        .into_iter()
        .map(|r| match r.expect("resolve") {
            IdentityResolution::Known(id) | IdentityResolution::Created(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one identity for one person: {ids:?}");
    assert_eq!(store.resolve_identity(vec![ipp.clone(), ins.clone()], 2_000).await.expect("resolve"), IdentityResolution::Known(ids[0]));
    assert_eq!(store.resolve_identity(vec![ipp.clone()], 2_001).await.expect("resolve"), IdentityResolution::Known(ids[0]), "the IPP joined it");
    let other = match store.resolve_identity(vec![("urn:oid:1.2.250.1.999.1.1".into(), "IPP-OTHER".into())], 2_002).await.expect("resolve") {
        IdentityResolution::Created(id) => id,
        other => panic!("a new person is created: {other:?}"),
    };
    let conflict = store.resolve_identity(vec![ipp.clone(), ("urn:oid:1.2.250.1.999.1.1".into(), "IPP-OTHER".into())], 2_003).await.expect("resolve");
    assert_eq!(conflict, IdentityResolution::Conflict(vec![ids[0], other]));
    // Looking up never creates: a reference to a patient finds it, or finds nothing.
    assert_eq!(store.find_identities(vec![ipp.clone()]).await.expect("find"), vec![ids[0]]);
    let unknown = ("urn:oid:1.2.250.1.999.1.1".to_owned(), "IPP-NOBODY".to_owned());
    assert!(store.find_identities(vec![unknown.clone()]).await.expect("find").is_empty());
    assert!(store.find_identities(vec![unknown]).await.expect("find").is_empty(), "a lookup does not create");
    let mut keys = vec![ins, ipp];
    keys.sort();
    assert_eq!(store.identity_keys(ids[0]).await.expect("keys"), keys);
    assert!(store.identity_keys(i64::MAX).await.expect("keys").is_empty());
}

/// A document of several MB (raw bytes and renderings) comes back exactly, claimed and read.
async fn large_documents_round_trip_byte_for_byte(store: &impl Store) {
    let mut m = message("big-1", "P-BIG", &["big-dest"]);
    let raw: Vec<u8> = (0..3 * 1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let rendering: Vec<u8> = raw.iter().rev().copied().chain(*b"end").collect();
    m.raw = raw.clone().into();
    m.deliveries[0].rendering.bytes = rendering.clone().into();
    let id = stored(store, m).await;
    let back = store.message(id).await.expect("message").expect("found");
    assert!(back.raw == raw, "the raw bytes come back exactly");
    let claimed = store.claim("big-dest", 10, 2_000).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(claimed[0].rendering.bytes == rendering, "the rendering is claimed exactly");
    let read = store.rendering(claimed[0].id).await.expect("rendering").expect("found");
    assert!(read.bytes == rendering);
    assert!(store.mark_delivered(claimed[0].id, 2_100).await.expect("delivered"));
}

async fn concurrent_resends_store_one_message<S: Store>(store: &S) {
    let sends = (0..8).map(|_| store.append(message("dup-race", "P-race", &["d-race"])));
    let outcomes: Vec<_> = futures_join_all(sends).await;
    let stored = outcomes.iter().filter(|o| matches!(o, Ok(AppendOutcome::Stored { .. }))).count();
    let duplicates = outcomes.iter().filter(|o| matches!(o, Ok(AppendOutcome::Duplicate { .. }))).count();
    assert_eq!((stored, duplicates), (1, 7), "{outcomes:?}");
    let claimed = store.claim("d-race", 10, 2_000).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(store.mark_delivered(claimed[0].id, 2_100).await.expect("delivered"));
}

/// Awaits every future, concurrently, without a runtime-specific join.
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(pinned.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

async fn a_delivered_message_is_replayed_before_the_patients_later_ones<S: Store>(store: &S) {
    let first = stored(store, message("rp-1", "P-replay", &["d-replay"])).await;
    let claimed = store.claim("d-replay", 10, 1_000).await.expect("claim");
    assert!(store.mark_delivered(claimed[0].id, 1_100).await.expect("delivered"));
    let row = claimed[0].id;
    assert_eq!(store.replay(9_999_999, 1_200).await.expect("replay"), Transition::NoSuchRow);
    let second = stored(store, message("rp-2", "P-replay", &["d-replay"])).await;
    assert_eq!(store.replay(row, 1_200).await.expect("replay"), Transition::Done);
    assert_eq!(store.replay(row, 1_200).await.expect("replay"), Transition::WrongStatus(OutboxStatus::Pending), "only a delivered row is replayed");
    let again = store.claim("d-replay", 10, 1_300).await.expect("claim");
    assert_eq!(again.iter().map(|i| i.message_id).collect::<Vec<_>>(), vec![first], "the replay leaves first; the later message waits");
    assert!(store.mark_delivered_answered(again[0].id, 1_400, "MSH|^~\\&|R / MSA|AA|rp-1".into()).await.expect("delivered"));
    let answers: Vec<String> = store.message(first).await.expect("message").expect("first").attempts.into_iter().map(|a| a.detail).collect();
    assert_eq!(answers, ["", "MSH|^~\\&|R / MSA|AA|rp-1"], "the receiver's answer is kept with its attempt");
    let then = store.claim("d-replay", 10, 1_500).await.expect("claim");
    assert_eq!(then.iter().map(|i| i.message_id).collect::<Vec<_>>(), vec![second]);
    assert!(store.mark_delivered(then[0].id, 1_600).await.expect("delivered"));
}

async fn operator_actions_say_what_happened<S: Store>(store: &S) {
    assert_eq!(store.requeue(9_999_999, 1).await.expect("requeue"), Transition::NoSuchRow);
    stored(store, message("op-1", "P-op", &["d-op"])).await;
    let row = store.list(OutboxFilter { destination: Some("d-op".into()), ..Default::default() }).await.expect("list");
    assert_eq!(store.requeue(row[0].id, 1).await.expect("requeue"), Transition::WrongStatus(OutboxStatus::Pending));
    assert_eq!(store.dead_letter(row[0].id, "operator".into(), 1).await.expect("dead-letter"), Transition::Done);
    assert_eq!(store.requeue(row[0].id, 1).await.expect("requeue"), Transition::Done);
    let claimed = store.claim("d-op", 10, 2_000).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(store.mark_delivered(claimed[0].id, 2_100).await.expect("delivered"));
}

async fn own_claims_are_released_at_start_up_but_not_other_nodes<S: Store, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 60_000).await, open("node-b", 60_000).await);
    stored(&a, message("r-1", "R1", &["d-restart"])).await;
    stored(&a, message("r-2", "R2", &["d-restart"])).await;
    assert_eq!(a.claim("d-restart", 1, 2_000).await.expect("claim").len(), 1);
    assert_eq!(b.claim("d-restart", 1, 2_000).await.expect("claim").len(), 1);
    // Node A restarts: only its own claim comes back; B's live claim is not stolen.
    let a = open("node-a", 60_000).await;
    assert!(a.release_own_claims().await.expect("release") >= 1, "its own claim (and any left by earlier checks) is released");
    let again = a.claim("d-restart", 10, 2_000).await.expect("claim");
    assert_eq!(again.len(), 1, "node B's claim stays with node B");
    assert!(a.mark_delivered(again[0].id, 2_100).await.expect("delivered"));
    let b_row = a.list(OutboxFilter { destination: Some("d-restart".into()), status: Some(OutboxStatus::InFlight), ..Default::default() }).await.expect("list");
    assert_eq!(b_row.len(), 1);
    let b_claim = b.claim("d-restart", 10, 2_000).await.expect("claim");
    assert!(b_claim.is_empty(), "a claim is not claimed again while its lease runs");
    assert!(b.mark_delivered(b_row[0].id, 2_200).await.expect("delivered"));
}

async fn expired_leases_are_taken_over_and_the_late_outcome_ignored<S: Store, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 1_000).await, open("node-b", 1_000).await);
    stored(&a, message("l-1", "L", &["d-lease"])).await;
    let claimed = a.claim("d-lease", 10, 2_000).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(b.claim("d-lease", 10, 2_500).await.expect("claim").is_empty(), "lease still running");
    assert_eq!(a.renew(vec![claimed[0].id], 2_800).await.expect("renew"), 1);
    assert!(b.claim("d-lease", 10, 3_500).await.expect("claim").is_empty(), "renewed until 3,800");
    // Node A stops renewing (it died): after expiry node B takes the row over.
    let taken = b.claim("d-lease", 10, 3_900).await.expect("claim");
    assert_eq!(taken.iter().map(|i| i.id).collect::<Vec<_>>(), vec![claimed[0].id]);
    assert_eq!(taken[0].rendering.bytes, &b"d-lease:l-1"[..], "the stored rendering travels with the claim");
    assert_eq!(a.rendering(taken[0].id).await.expect("rendering").map(|r| r.bytes.to_vec()), Some(b"d-lease:l-1".to_vec()));
    assert_eq!(a.rendering(9_999_999).await.expect("rendering"), None);
    assert!(!a.mark_delivered(claimed[0].id, 4_000).await.expect("late outcome"), "a lost lease records nothing");
    assert_eq!(a.renew(vec![claimed[0].id], 4_000).await.expect("renew"), 0);
    assert!(b.mark_delivered(taken[0].id, 4_100).await.expect("delivered"));
}

async fn concurrent_claims_from_two_nodes_never_share_a_row<S: Store + 'static, F: std::future::Future<Output = S>>(open: &impl Fn(&str, i64) -> F) {
    let (a, b) = (open("node-a", 60_000).await, open("node-b", 60_000).await);
    for i in 0..40 {
        stored(&a, message(&format!("c-{i}"), &format!("C{i}"), &["d-concurrent"])).await;
    }
    let mut seen = std::collections::HashSet::new();
    loop {
        let (from_a, from_b) = futures_pair(a.claim("d-concurrent", 7, 2_000), b.claim("d-concurrent", 7, 2_000)).await;
        let (from_a, from_b) = (from_a.expect("claim a"), from_b.expect("claim b"));
        if from_a.is_empty() && from_b.is_empty() {
            break;
        }
        for item in from_a.iter().chain(&from_b) {
            assert!(seen.insert(item.id), "row {} claimed twice", item.id);
        }
        for item in &from_a {
            assert!(a.mark_delivered(item.id, 2_100).await.expect("delivered"));
        }
        for item in &from_b {
            assert!(b.mark_delivered(item.id, 2_100).await.expect("delivered"));
        }
    }
    assert_eq!(seen.len(), 40);
}

async fn futures_pair<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let std::task::Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let std::task::Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (ra.expect("a"), rb.expect("b"))
}

async fn resend_returns_the_original_ack<S: Store>(store: &S) {
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
    bad.raw = vec![0, 1, 2, 0xff].into();
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
    assert!(store.mark_retry(first[0].id, 5_000, "timeout".into()).await.expect("retry"));
    assert!(store.mark_delivered(first[1].id, 2_100).await.expect("delivered"));
    assert!(store.claim("d-order", 10, 3_000).await.expect("claim").is_empty(), "A2 waits behind A1's retry");
    let retried = store.claim("d-order", 10, 5_000).await.expect("claim");
    assert_eq!(retried.iter().map(|i| (i.message_id, i.attempts)).collect::<Vec<_>>(), vec![(a1, 1)]);
    assert!(store.mark_dead(retried[0].id, "rejected by peer".into(), 5_100).await.expect("dead"));
    let next = store.claim("d-order", 10, 5_200).await.expect("claim");
    assert_eq!(next.iter().map(|i| i.message_id).collect::<Vec<_>>(), vec![a2], "a dead letter unblocks the patient");
    assert!(store.mark_delivered(next[0].id, 5_300).await.expect("delivered"));
    let dead = store.list(OutboxFilter { destination: Some("d-order".into()), status: Some(OutboxStatus::Dead), limit: 10 }).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("rejected by peer"));
    assert_eq!(store.requeue(dead[0].id, 6_000).await.expect("requeue"), Transition::Done);
    assert_eq!(store.requeue(dead[0].id, 6_000).await.expect("requeue"), Transition::WrongStatus(OutboxStatus::Pending), "only a dead row can be requeued");
    let replay = store.claim("d-order", 10, 6_000).await.expect("claim");
    assert_eq!(replay.len(), 1);
    assert!(store.mark_delivered(replay[0].id, 6_100).await.expect("delivered"));
    // Every attempt of A1 is in its lineage, oldest first, with its error.
    let lineage = store.message(a1).await.expect("message").expect("a1");
    let attempts: Vec<(&str, &str)> = lineage.attempts.iter().map(|a| (a.outcome.as_str(), a.detail.as_str())).collect();
    assert_eq!(attempts, [("retry", "timeout"), ("dead", "rejected by peer"), ("delivered", "")]);
    assert!(lineage.attempts.iter().all(|a| a.outbox_id == replay[0].id && a.at_ms > 0));
}

async fn search_by_identifier_and_depth(store: &impl Store) {
    let mut m = message("s-1", "IPP-S", &["d-depth", "d-depth-2"]);
    m.patient.ins = Some("279035121518989".into());
    m.identifiers.push(NewIdentifier { kind: "ins-nir-test".into(), system: "urn:oid:1.2.250.1.213.1.4.10".into(), value: "279035121518989".into() });
    stored(store, m).await;
    let by_ins = store.search(MessageQuery { patient: Some("279035121518989".into()), ..Default::default() }).await.expect("search");
    assert_eq!(by_ins.len(), 1);
    assert_eq!(by_ins[0].control_id, "s-1");
    let exact = MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() };
    assert_eq!(store.search(exact).await.expect("search").len(), 1);
    let wrong_system = MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.8".into(), "279035121518989".into())), ..Default::default() };
    assert!(store.search(wrong_system).await.expect("search").is_empty(), "an identifier is its system and value, never the value alone");
    let by_ipp = store.search(MessageQuery { identifier: Some(("CHU-TEST".into(), "IPP-S".into())), ..Default::default() }).await.expect("search");
    assert_eq!(by_ipp.len(), 1);
    let by_control = store.search(MessageQuery { control_id: Some("s-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(by_control.len(), 1);
    let full = store.message(by_control[0].id).await.expect("message").expect("found");
    assert_eq!((full.raw.as_slice(), full.normalised.as_deref()), (&b"MSH|s-1"[..], Some(&b"{}"[..])));
    assert_eq!(full.deliveries.iter().map(|d| d.destination.as_str()).collect::<Vec<_>>(), ["d-depth", "d-depth-2"]);
    assert!(store.message(9_999_999).await.expect("message").is_none());
    let depth = store.depth().await.expect("depth");
    assert!(depth.contains(&("d-depth".to_string(), 1)) && depth.contains(&("d-depth-2".to_string(), 1)), "{depth:?}");
    let oldest = store.oldest_queued().await.expect("oldest");
    assert!(oldest.contains(&("d-depth".to_string(), 1_000)), "the oldest undelivered message's reception time: {oldest:?}");
    // The console's other filters: sender, message type (a type or one event), destination, time.
    let mut other = message("s-2", "IPP-S2", &["d-filter"]);
    (other.sender, other.message_type, other.received_at_ms) = ("LAB|CHU".into(), "ORU^R01".into(), 5_000);
    other.document_type = Some("11502-2".into());
    other.routes = Some("labs,all".into());
    stored(store, other).await;
    let ids = |rows: Vec<MessageSummary>| rows.into_iter().map(|r| r.control_id).collect::<Vec<_>>();
    let by = |q: MessageQuery| async move { ids(store.search(MessageQuery { limit: 100, ..q }).await.expect("search")) };
    assert_eq!(by(MessageQuery { sender: Some("LAB|CHU".into()), ..Default::default() }).await, ["s-2"]);
    assert_eq!(by(MessageQuery { message_type: Some("ORU".into()), ..Default::default() }).await, ["s-2"]);
    assert_eq!(by(MessageQuery { message_type: Some("ORU^R01".into()), ..Default::default() }).await, ["s-2"]);
    assert!(by(MessageQuery { message_type: Some("OR".into()), ..Default::default() }).await.is_empty(), "a type is matched whole, not as a prefix");
    assert_eq!(by(MessageQuery { destination: Some("d-filter".into()), ..Default::default() }).await, ["s-2"]);
    assert_eq!(by(MessageQuery { document_type: Some("11502-2".into()), ..Default::default() }).await, ["s-2"]);
    assert!(by(MessageQuery { document_type: Some("11488-4".into()), ..Default::default() }).await.is_empty());
    let found = store.search(MessageQuery { control_id: Some("s-2".into()), ..Default::default() }).await.expect("search");
    let stored = store.message(found[0].id).await.expect("message").expect("found");
    assert_eq!(stored.routes.as_deref(), Some("labs,all"), "the routes that matched at reception are kept");
    assert_eq!(by(MessageQuery { since_ms: Some(4_000), until_ms: Some(6_000), ..Default::default() }).await, ["s-2"]);
    assert!(by(MessageQuery { since_ms: Some(5_001), sender: Some("LAB|CHU".into()), ..Default::default() }).await.is_empty());
}

async fn consent_is_remembered_per_identifier_and_withheld_messages_are_found(store: &impl Store) {
    let key = |v: &str| vec![("CHU-TEST".to_owned(), v.to_owned())];
    assert_eq!(store.latest_consent(key("P-consent")).await.expect("consent"), None);
    let mut opposed = message("consent-1", "P-consent", &[]);
    opposed.consent = Some("IO".into());
    stored(store, opposed).await;
    assert_eq!(store.latest_consent(key("P-consent")).await.expect("consent").as_deref(), Some("IO"));
    let mut later = message("consent-2", "P-consent", &[]);
    later.received_at_ms = 3_000;
    later.consent = Some("INO".into());
    stored(store, later).await;
    assert_eq!(store.latest_consent(key("P-consent")).await.expect("consent").as_deref(), Some("INO"), "the latest choice wins");
    let mut withheld = message("consent-3", "P-consent", &["d-withheld"]);
    withheld.status = MessageStatus::Withheld;
    withheld.withheld = Some("consent: ZFA-9 IO".into());
    stored(store, withheld.clone()).await;
    assert!(matches!(store.append(withheld).await.expect("append"), AppendOutcome::Duplicate { .. }), "a withheld message deduplicates like an accepted one");
    let found = store.search(MessageQuery { status: Some(MessageStatus::Withheld), ..Default::default() }).await.expect("search");
    assert_eq!(found.iter().map(|m| (m.control_id.as_str(), m.withheld.as_deref())).collect::<Vec<_>>(), [("consent-3", Some("consent: ZFA-9 IO"))]);
    let accepted =
        store.search(MessageQuery { status: Some(MessageStatus::Accepted), control_id: Some("consent-3".into()), ..Default::default() }).await.expect("search");
    assert!(accepted.is_empty(), "withheld is its own status");
}

async fn purge_keeps_undelivered_messages(store: &impl Store) {
    let purged = store.purge(1_500).await.expect("purge");
    assert!(purged >= 1, "delivered and rejected messages older than the horizon go");
    let left = store.search(MessageQuery { control_id: Some("s-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(left.len(), 1, "a message with pending deliveries is kept");
}
