//! A three-node hub on one PostgreSQL (a fresh schema on the local server), the real binary on the
//! shipped deploy/config/hub.toml, and a slow receiver (100 ms per message, so that claims are in
//! flight when the kill lands): six senders, one per patient, spread each patient's messages over
//! the three nodes (waiting for each ACK; after a failure, the same message goes to the next node).
//! Node 1 is SIGKILLed mid-run and restarted later. Every acknowledged message reaches the HTTP
//! sink; each patient's messages arrive in acknowledgement order (a lane head taken over after a
//! kill may arrive twice, never out of order); the takeover time of the dead node's lanes is
//! measured against the lease.

mod common;

use common::hub::{Children, Deliveries, HubNode, assert_all_delivered_in_order, send_load, sink};
use passerelle_testkit::PgSchema;
use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_hub_loses_nothing_acknowledged_when_a_node_is_killed() {
    let Some(pg) = PgSchema::create("hub_failover").await else { return };
    let deliveries: Deliveries = Arc::default();
    let sink_port = sink(Arc::clone(&deliveries));
    let lease_secs = 3;
    let mut nodes: Vec<HubNode> = (1..=3).map(|n| HubNode::new(n, &pg.url, sink_port, lease_secs)).collect();
    let mut children = Children(nodes.iter_mut().map(HubNode::start_ready).collect());

    let (patients, per_patient) = (6, 60);
    let (outcome, senders) = send_load(nodes.iter().map(|n| n.mllp).collect(), patients, per_patient, Duration::from_millis(40));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    children.0[1].kill().expect("kill");
    children.0[1].wait().expect("wait");
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    children.0[1] = nodes[1].start();
    for s in senders {
        s.join().expect("sender");
    }
    let acked = outcome.acked.lock().expect("lock").clone();
    assert_eq!(acked.len(), patients * per_patient, "every message was acknowledged by some node");
    let deliveries = assert_all_delivered_in_order(&deliveries, &acked, per_patient).await;

    let mut by_patient: HashMap<String, Vec<Instant>> = HashMap::new();
    for (p, _, at) in &deliveries {
        by_patient.entry(p.clone()).or_default().push(*at);
    }
    // The longest wait of a lane across the kill.
    let mut takeover = Duration::ZERO;
    for arrivals in by_patient.values() {
        for pair in arrivals.windows(2) {
            if pair[0] <= killed_at + Duration::from_millis(500) && pair[1] >= killed_at {
                takeover = takeover.max(pair[1].saturating_duration_since(killed_at));
            }
        }
    }
    let repeats = deliveries.len() - acked.len();
    eprintln!(
        "{} acknowledged, {} deliveries ({repeats} repeats after the kill); longest lane stall after the kill {takeover:?} (lease {lease_secs} s)",
        acked.len(),
        deliveries.len()
    );
    assert!(takeover < Duration::from_secs(lease_secs + 10), "lanes taken over within the lease and a claim cycle: {takeover:?}");
    for child in &mut children.0 {
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    pg.drop_schema().await;
}
