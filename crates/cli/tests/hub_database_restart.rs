//! The hub's PostgreSQL server itself stopped mid-run and started again: a private server (its
//! own initdb, on its own port, so the shared one stays up for the other tests), three nodes on
//! the shipped deploy/config/hub.toml, six senders spreading each patient's messages over them.
//! While the server is down the nodes answer AR (ERR 207) and a message so answered is never
//! delivered; when it is back they acknowledge again without a restart; every acknowledged
//! message is delivered, each patient's in order. Needs PostgreSQL's server binaries (pg_ctl):
//! SKIPPED loudly without them, a failure when `PASSERELLE_REQUIRE_PG=1` (CI).

mod common;

use common::gateway::send;
use common::hub::{Children, Deliveries, HubNode, assert_all_delivered_in_order, send_load, sink};
use passerelle_testkit::PrivatePostgres;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_server_restarted_mid_run_loses_nothing_acknowledged() {
    let Some(server) = PrivatePostgres::init() else {
        assert!(std::env::var("PASSERELLE_REQUIRE_PG").as_deref() != Ok("1"), "PostgreSQL's server binaries (pg_ctl) are not installed");
        eprintln!("SKIPPED: PostgreSQL's server binaries (pg_ctl) are not installed");
        return;
    };
    server.start();
    let deliveries: Deliveries = Arc::default();
    let sink_port = sink(Arc::clone(&deliveries));
    let mut nodes: Vec<HubNode> = (1..=3).map(|n| HubNode::new(n, &server.url(), sink_port, 3)).collect();
    let mut children = Children(nodes.iter_mut().map(HubNode::start_ready).collect());
    let (patients, per_patient) = (6, 40);
    let (outcome, senders) = send_load(nodes.iter().map(|n| n.mllp).collect(), patients, per_patient, Duration::from_millis(40));
    tokio::time::sleep(Duration::from_millis(1500)).await;

    server.stop();
    let stopped_at = Instant::now();
    // While it is down: AR with ERR 207 (not stored, send again later), never AA.
    let mut probe = TcpStream::connect(("127.0.0.1", nodes[0].mllp)).expect("node 1");
    probe.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let down = b"MSH|^~\\&|HUBTEST|CHU-TEST|SIH|CHU-TEST|20261202101500||ADT^A01^ADT_A01|PROBE-1|P|2.5\rPID|1||PROBE^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||HUB^SEQ0\rPV1|1|I\r";
    let (code, err) = send(&mut probe, down).expect("an answer while the database is down");
    assert_eq!(code, "AR", "{err}");
    assert!(err.contains("207"), "{err}");
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(stopped_at.elapsed())).await;
    server.start();
    let restarted_at = Instant::now();

    for s in senders {
        s.join().expect("sender");
    }
    let acked = outcome.acked.lock().expect("lock").clone();
    assert_eq!(acked.len(), patients * per_patient, "every message was acknowledged once the database was back");
    let refused = outcome.not_acked.load(std::sync::atomic::Ordering::Relaxed);
    assert!(refused > 0, "the senders saw refusals while the database was down");
    for child in &mut children.0 {
        assert!(matches!(child.try_wait(), Ok(None)), "no node stopped or was restarted");
    }
    // PROBE never appears: a message answered AR was not journaled.
    let delivered = assert_all_delivered_in_order(&deliveries, &acked, per_patient).await;
    eprintln!(
        "{} acknowledged, {} delivered, {refused} answers not AA while the server was down ({:?}), back {:?} after its restart",
        acked.len(),
        delivered.len(),
        restarted_at - stopped_at,
        restarted_at.elapsed()
    );
}
