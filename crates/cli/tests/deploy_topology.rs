//! The compose topology run natively, on the shipped files: three `passerelle run` nodes on
//! deploy/config/hub.toml (one PostgreSQL schema), HAProxy on deploy/haproxy/haproxy.cfg in front
//! of them. Messages sent to HAProxy's MLLP and HTTP ports are acknowledged, spread over the
//! nodes, counted under their declared sender, and all delivered. Needs PostgreSQL and haproxy:
//! SKIPPED loudly without haproxy unless `PASSERELLE_REQUIRE_DEPLOY_TOOLS=1` (CI).

mod common;

use common::gateway::{free_port, send};
use common::hub::{Children, Deliveries, HubNode, sink};
use passerelle_testkit::PgSchema;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_hub_config_behind_the_shipped_haproxy_config_delivers_everything() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        assert!(std::env::var("PASSERELLE_REQUIRE_DEPLOY_TOOLS").as_deref() != Ok("1"), "haproxy is not installed");
        eprintln!("SKIPPED: haproxy is not installed (.ci/run installs it)");
        return;
    }
    let Some(pg) = PgSchema::create("deploy_topology").await else { return };
    let deliveries: Deliveries = Arc::default();
    let sink_port = sink(Arc::clone(&deliveries));
    let root = common::workspace_root();
    let mut nodes: Vec<HubNode> = (1..=3).map(|n| HubNode::new(n, &pg.url, sink_port, 3)).collect();
    let mut children = Children(nodes.iter_mut().map(HubNode::start_ready).collect());
    let mut haproxy_env: Vec<(String, String)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let n = i + 1;
        let addresses = [
            ("HOST", "127.0.0.1".to_owned()),
            ("MLLP", format!("127.0.0.1:{}", node.mllp)),
            ("HTTP", format!("127.0.0.1:{}", node.http)),
            ("ADMIN_PORT", node.admin.to_string()),
        ];
        haproxy_env.extend(addresses.into_iter().map(|(key, value)| (format!("NODE{n}_{key}"), value)));
    }
    // HAProxy on two new ports (again on others if one was taken meanwhile).
    let log = tempfile::NamedTempFile::new().expect("haproxy log");
    let (mut hub_mllp, mut hub_http) = (0, 0);
    for attempt in 0..3 {
        (hub_mllp, hub_http) = (free_port(), free_port());
        let mut haproxy = Command::new("haproxy")
            .args(["-db", "-f", root.join("deploy/haproxy/haproxy.cfg").to_str().expect("path")])
            .envs(haproxy_env.clone())
            .env("HUB_MLLP_BIND", format!("127.0.0.1:{hub_mllp}"))
            .env("HUB_HTTP_BIND", format!("127.0.0.1:{hub_http}"))
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log"))
            .spawn()
            .expect("start haproxy");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(TcpStream::connect(("127.0.0.1", hub_mllp)).is_ok() && TcpStream::connect(("127.0.0.1", hub_http)).is_ok()) {
            if haproxy.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let running = haproxy.try_wait().ok().flatten().is_none();
        children.0.push(haproxy);
        if running && TcpStream::connect(("127.0.0.1", hub_mllp)).is_ok() {
            break;
        }
        assert!(attempt < 2, "haproxy did not start: {}", std::fs::read_to_string(log.path()).unwrap_or_default());
    }
    // HAProxy marks a node up after two good /readyz checks (2 s apart).
    std::thread::sleep(Duration::from_secs(5));

    let (connections, per_connection) = (6, 15);
    let mut total = 0;
    let mut streams: Vec<TcpStream> = (0..connections).map(|_| TcpStream::connect(("127.0.0.1", hub_mllp)).expect("haproxy mllp")).collect();
    for seq in 0..per_connection {
        for (c, stream) in streams.iter_mut().enumerate() {
            stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            let message = format!(
                "MSH|^~\\&|HUBTEST|CHU-TEST|SIH|CHU-TEST|20261202101500||ADT^A01^ADT_A01|LB{c}-{seq}|P|2.5\rPID|1||LB{c}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||HUB^SEQ{seq}\rPV1|1|I\r"
            );
            let (code, err) = send(stream, message.as_bytes()).expect("an ACK through haproxy");
            assert_eq!(code, "AA", "{err}");
            total += 1;
        }
    }
    drop(streams);
    // HL7 v2 over HTTP through HAProxy's HTTP port.
    {
        use std::io::{Read, Write};
        let body = "MSH|^~\\&|HUBTEST|CHU-TEST|SIH|CHU-TEST|20261202101500||ADT^A01^ADT_A01|LBH-0|P|2.5\rPID|1||LBH^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||HUB^SEQ0\rPV1|1|I\r";
        let mut http = TcpStream::connect(("127.0.0.1", hub_http)).expect("haproxy http");
        write!(
            http,
            "POST /hl7v2 HTTP/1.1\r\nHost: hub\r\nContent-Type: application/hl7-v2\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("post");
        let mut answer = String::new();
        http.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("MSA|AA"), "{answer}");
        total += 1;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while deliveries.lock().expect("lock").len() < total {
        assert!(Instant::now() < deadline, "only {} of {total} delivered", deliveries.lock().expect("lock").len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Spread over the nodes, each message counted under its declared sender on the node that took it.
    let accepted: Vec<u64> = nodes
        .iter()
        .map(|node| {
            // (The message posted over HTTP is counted under listener http-in.)
            let metrics = node.admin_get("/metrics");
            metrics
                .lines()
                .find(|l| l.starts_with("passerelle_sender_messages_total{listener=\"mllp-in\",outcome=\"accepted\",sender=\"chu-exemple\"}"))
                .and_then(|l| l.rsplit(' ').next()?.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(accepted.iter().sum::<u64>(), total as u64 - 1, "{accepted:?}");
    assert!(accepted.iter().filter(|n| **n > 0).count() >= 2, "HAProxy spread the connections over the nodes: {accepted:?}");
    let listed = nodes[0].admin_get("/api/nodes");
    assert!(listed.contains("403"), "the metrics token does not read the operator API: {listed}");
    pg.drop_schema().await;
}
