//! Two gateway nodes on one PostgreSQL store (a fresh schema on the local server): messages for
//! the same patients arrive at both nodes, both nodes deliver; each message reaches the receiver
//! exactly once and each patient's messages in the order they were acknowledged, although a
//! patient's consecutive messages were journaled by different nodes. Each node lists both in
//! `GET /api/nodes` with their heartbeats.

mod support;

use passerelle_gateway::Config;
use passerelle_testkit::PgSchema;
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn node(pg: &PgSchema, name: &str, port: u16) -> Config {
    let text = format!(
        "[gateway]\nnode_id = \"{name}\"\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\npool_size = 8\nlease_secs = 2\n[admin]\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n\
         [[destination]]\nname = \"ehr\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/in\"\nformat = \"hl7v2\"\nconcurrency = 4\nbackoff_ms = 20\nmax_backoff_ms = 200\n\
         [[route]]\nname = \"all\"\nto = [\"ehr\"]\n",
        url = pg.url
    );
    Config::parse(&text, &format!("{name}.toml")).expect("config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_deliver_each_message_once_in_patient_order() {
    let Some(pg) = PgSchema::create("two_nodes").await else { return };
    // A little latency, so that deliveries from both nodes interleave.
    let (receiver, port) = recording_receiver(Duration::from_millis(2)).await;

    let a = passerelle_gateway::start(node(&pg, "node-a", port)).await.expect("start a");
    let b = passerelle_gateway::start(node(&pg, "node-b", port)).await.expect("start b");
    let mut to_a = MllpClient::connect(a.address("mllp-in").expect("a")).await;
    let mut to_b = MllpClient::connect(b.address("mllp-in").expect("b")).await;
    let (patients, per_patient) = (8, 10);
    for seq in 0..per_patient {
        for p in 0..patients {
            let patient = format!("PG{p}");
            // Alternate nodes: a patient's consecutive messages are journaled by different nodes.
            let client = if (seq + p) % 2 == 0 { &mut to_a } else { &mut to_b };
            let (code, _, _) = client.send(&adt(&format!("{patient}-{seq}"), &patient, seq)).await;
            assert_eq!(code, "AA");
        }
    }
    let total = patients * per_patient;
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(30), move || r.count() >= total).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), total, "each message delivered exactly once");
    assert_in_patient_order(&delivered, patients, per_patient);
    let depth = a.store.depth().await.expect("depth");
    assert!(depth.iter().all(|(_, n)| *n == 0), "nothing left: {depth:?}");

    // Each node sees both nodes' heartbeats, alive, with their configuration versions.
    passerelle_gateway::delivery::install_tls_provider();
    let url = format!("http://{}/api/nodes", b.address("admin").expect("admin"));
    let nodes: Vec<serde_json::Value> = reqwest::get(&url).await.expect("get").json().await.expect("json");
    let names: Vec<&str> = nodes.iter().filter_map(|n| n["node"].as_str()).collect();
    assert_eq!(names, ["node-a", "node-b"], "{nodes:?}");
    assert!(nodes.iter().all(|n| n["alive"] == true && n["config_version"].as_str().is_some_and(|v| v.len() == 12)), "{nodes:?}");
    let metrics = reqwest::get(format!("http://{}/metrics", a.address("admin").expect("admin"))).await.expect("get").text().await.expect("text");
    assert!(metrics.contains("passerelle_node_heartbeat_age_seconds{node=\"node-b\"}"), "{metrics}");
    a.shutdown().await;
    b.shutdown().await;
    pg.drop_schema().await;
}

/// A destination paused from one node of the hub is paused on every node (each follows the store
/// with its heartbeat); resumed from the other, both deliver what waited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_paused_on_one_node_is_paused_on_the_whole_hub() {
    let Some(pg) = PgSchema::create("hub_pause").await else { return };
    let (receiver, port) = recording_receiver(Duration::ZERO).await;
    let a = passerelle_gateway::start(node(&pg, "node-a", port)).await.expect("start a");
    let b = passerelle_gateway::start(node(&pg, "node-b", port)).await.expect("start b");
    passerelle_gateway::delivery::install_tls_provider();
    let http = reqwest::Client::new();
    let admin = |gw: &passerelle_gateway::RunningGateway| gw.address("admin").expect("admin");
    let paused = http.post(format!("http://{}/api/destinations/ehr/pause", admin(&a))).send().await.expect("pause");
    assert_eq!(paused.status().as_u16(), 200);
    // Node b follows within a heartbeat (lease 2 s: every 666 ms).
    let listed_paused = |gw: &passerelle_gateway::RunningGateway| {
        let url = format!("http://{}/api/destinations", admin(gw));
        async move {
            let v: serde_json::Value = reqwest::get(url).await.expect("get").json().await.expect("json");
            v[0]["paused"] == true
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !listed_paused(&b).await {
        assert!(std::time::Instant::now() < deadline, "node b never paused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut to_b = MllpClient::connect(b.address("mllp-in").expect("b")).await;
    let mut to_a = MllpClient::connect(a.address("mllp-in").expect("a")).await;
    for seq in 0..4 {
        let client = if seq % 2 == 0 { &mut to_a } else { &mut to_b };
        let (code, _, _) = client.send(&adt(&format!("HUBP-{seq}"), "HUBP", seq)).await;
        assert_eq!(code, "AA");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.count(), 0, "no node delivers a destination paused on the hub");
    // A node that starts now holds it paused too.
    let c = passerelle_gateway::start(node(&pg, "node-c", port)).await.expect("start c");
    assert!(listed_paused(&c).await, "a node that joins holds the pause at once");
    let resumed = http.post(format!("http://{}/api/destinations/ehr/resume", admin(&b))).send().await.expect("resume");
    assert_eq!(resumed.status().as_u16(), 200);
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(15), move || r.count() >= 4).await;
    assert_in_patient_order(&receiver.delivered(), 1, 4);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while listed_paused(&a).await {
        assert!(std::time::Instant::now() < deadline, "node a never followed the resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for gw in [a, b, c] {
        gw.shutdown().await;
    }
    pg.drop_schema().await;
}
