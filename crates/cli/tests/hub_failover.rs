//! A three-node hub on one PostgreSQL (a fresh schema on the local server), the real binary, and a
//! slow receiver (100 ms per message, so that claims are in flight when the kill lands): six
//! senders, one per patient, spread each patient's messages over the three nodes (waiting for
//! each ACK; after a failure, the same message goes to the next node). Node 1 is SIGKILLed mid-run
//! and restarted later. Every acknowledged message reaches the HTTP sink; each patient's messages
//! arrive in acknowledgement order (a lane head taken over after a kill may arrive twice, never
//! out of order); the takeover time of the dead node's lanes is measured against the lease.

mod common;

use common::gateway::{free_port, send};
use passerelle_testkit::PgSchema;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Deliveries = Arc<Mutex<Vec<(String, usize, Instant)>>>;

/// A minimal HTTP/1.1 sink: every POST body's patient and sequence number, with its arrival time.
fn sink(deliveries: Deliveries) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind sink");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let deliveries = Arc::clone(&deliveries);
            std::thread::spawn(move || serve(stream, &deliveries));
        }
    });
    port
}

fn serve(stream: TcpStream, deliveries: &Deliveries) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let text = String::from_utf8_lossy(&body);
        let patient = text.split("PID|1||").nth(1).and_then(|s| s.split('^').next()).unwrap_or("").to_owned();
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).collect::<String>();
        let seq = text.split("^SEQ").nth(1).map(digits).and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
        deliveries.lock().expect("lock").push((patient, seq, Instant::now()));
        // A slow receiver: nodes hold claims in flight most of the time, so the kill lands on some.
        std::thread::sleep(Duration::from_millis(100));
        if writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

/// The node processes, killed when the test ends (also when it fails).
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct Node {
    config: std::path::PathBuf,
    mllp: u16,
}

impl Node {
    fn start(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args(["run", "--config", self.config.to_str().expect("path")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node")
    }
}

fn message(patient: &str, seq: usize) -> Vec<u8> {
    format!(
        "MSH|^~\\&|HUBTEST|CHU-TEST|SIH|CHU-TEST|20261201101500||ADT^A01^ADT_A01|{patient}-{seq}|P|2.5\r\
         PID|1||{patient}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||HUB^SEQ{seq}\rPV1|1|I\r"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_hub_loses_nothing_acknowledged_when_a_node_is_killed() {
    let Some(pg) = PgSchema::create("hub_failover").await else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let deliveries: Deliveries = Arc::default();
    let sink_port = sink(Arc::clone(&deliveries));
    let lease_secs = 3;
    let nodes: Vec<Node> = (0..3)
        .map(|n| {
            let (mllp, admin) = (free_port(), free_port());
            let config = tmp.path().join(format!("node-{n}.toml"));
            std::fs::write(
                &config,
                format!(
                    "[gateway]\nnode_id = \"node-{n}\"\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\npool_size = 8\nlease_secs = {lease_secs}\n\
                     [admin]\nbind = \"127.0.0.1:{admin}\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:{mllp}\"\n\
                     [[destination]]\nname = \"ehr\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{sink_port}/in\"\nformat = \"hl7v2\"\nconcurrency = 4\n\
                     max_attempts = 1000\nbackoff_ms = 20\nmax_backoff_ms = 200\ntimeout_ms = 2000\n[[route]]\nname = \"all\"\nto = [\"ehr\"]\n",
                    url = pg.url
                ),
            )
            .expect("config");
            Node { config, mllp }
        })
        .collect();
    let mut children = Children(nodes.iter().map(Node::start).collect());
    let nodes = Arc::new(nodes);

    let (patients, per_patient) = (6, 60);
    let acked: Arc<Mutex<HashSet<(String, usize)>>> = Arc::default();
    let senders: Vec<_> = (0..patients)
        .map(|p| {
            let (nodes, acked) = (Arc::clone(&nodes), Arc::clone(&acked));
            std::thread::spawn(move || {
                let patient = format!("HUB{p}");
                let mut connections: HashMap<usize, TcpStream> = HashMap::new();
                for seq in 0..per_patient {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    let mut node = (p + seq) % 3;
                    loop {
                        assert!(Instant::now() < deadline, "{patient}-{seq} never acknowledged");
                        let stream = match connections.remove(&node) {
                            Some(s) => Some(s),
                            None => TcpStream::connect(("127.0.0.1", nodes[node].mllp)).ok(),
                        };
                        if let Some(mut stream) = stream {
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                            if let Some((code, _)) = send(&mut stream, &message(&patient, seq)) {
                                connections.insert(node, stream);
                                if code == "AA" {
                                    acked.lock().expect("lock").insert((patient.clone(), seq));
                                    break;
                                }
                            }
                        }
                        node = (node + 1) % 3;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    std::thread::sleep(Duration::from_millis(40));
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    children.0[1].kill().expect("kill");
    children.0[1].wait().expect("wait");
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    children.0[1] = nodes[1].start();
    for s in senders {
        s.join().expect("sender");
    }
    let acked = acked.lock().expect("lock").clone();
    assert_eq!(acked.len(), patients * per_patient, "every message was acknowledged by some node");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: HashSet<(String, usize)> = deliveries.lock().expect("lock").iter().map(|(p, s, _)| (p.clone(), *s)).collect();
        if acked.is_subset(&delivered) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged messages never delivered ({} deliveries, e.g. {:?})",
            acked.difference(&delivered).count(),
            delivered.len(),
            delivered.iter().next()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = deliveries.lock().expect("lock").clone();
    let mut by_patient: HashMap<String, Vec<(usize, Instant)>> = HashMap::new();
    for (p, seq, at) in &deliveries {
        by_patient.entry(p.clone()).or_default().push((*seq, *at));
    }
    let mut takeover = Duration::ZERO;
    for (p, arrivals) in &by_patient {
        let mut seqs: Vec<usize> = arrivals.iter().map(|(s, _)| *s).collect();
        seqs.dedup();
        assert_eq!(seqs, (0..per_patient).collect::<Vec<_>>(), "patient {p}: in order (a repeat only of the message just sent)");
        // The longest wait of this lane across the kill.
        for pair in arrivals.windows(2) {
            if pair[0].1 <= killed_at + Duration::from_millis(500) && pair[1].1 >= killed_at {
                takeover = takeover.max(pair[1].1.saturating_duration_since(killed_at));
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
