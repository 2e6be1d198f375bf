//! Pieces of the multi-node tests: an HTTP sink that records each delivered ADT's patient and
//! sequence number with its arrival time, and the node processes, killed when a test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub type Deliveries = Arc<Mutex<Vec<(String, usize, Instant)>>>;

/// A minimal HTTP/1.1 sink: every POST body's patient and sequence number, with its arrival time.
pub fn sink(deliveries: Deliveries) -> u16 {
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
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A node of the shipped hub configuration (deploy/config/hub.toml), on loopback ports, its
/// destination the sink on `sink_port`, the metrics token `metrics-token`; its log in `log`.
pub struct HubNode {
    pub name: String,
    pub mllp: u16,
    pub http: u16,
    pub admin: u16,
    env: Vec<(String, String)>,
    pub log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl HubNode {
    pub fn new(n: usize, db_url: &str, sink_port: u16, lease_secs: u64) -> Self {
        let env = [
            ("PASSERELLE_NODE_ID", format!("node{n}")),
            ("PASSERELLE_DB_URL", db_url.to_owned()),
            ("PASSERELLE_ADMIN_HOST", "127.0.0.1".to_owned()),
            ("PASSERELLE_METRICS_TOKEN_SHA256", passerelle_gateway::admin_auth::sha256_hex(b"metrics-token")),
            ("PASSERELLE_OPERATOR_TOKEN_SHA256", passerelle_gateway::admin_auth::sha256_hex(b"operator-token")),
            ("PASSERELLE_EHR_URL", format!("http://127.0.0.1:{sink_port}/in")),
            ("PASSERELLE_LEASE_SECS", lease_secs.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let dir = tempfile::tempdir().expect("tmp");
        let mut node = Self { name: format!("node{n}"), mllp: 0, http: 0, admin: 0, env, log: dir.path().join("node.log"), _dir: dir };
        node.pick_ports();
        node
    }

    /// New free ports (after a port another process took between choosing and binding).
    fn pick_ports(&mut self) {
        let free = super::gateway::free_port;
        (self.mllp, self.http, self.admin) = (free(), free(), free());
        self.env.retain(|(k, _)| !k.ends_with("_BIND"));
        for (key, port) in [("PASSERELLE_MLLP_BIND", self.mllp), ("PASSERELLE_HTTP_BIND", self.http), ("PASSERELLE_ADMIN_BIND", self.admin)] {
            self.env.push((key.to_owned(), format!("127.0.0.1:{port}")));
        }
    }

    pub fn start(&self) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("node log");
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args(["run", "--config", super::workspace_root().join("deploy/config/hub.toml").to_str().expect("path")])
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start node")
    }

    /// Starts the node and waits until its admin port answers; a node that exits first (a port
    /// taken meanwhile by another test) is started again on new ports, twice at most.
    pub fn start_ready(&mut self) -> Child {
        for attempt in 0..3 {
            let mut child = self.start();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if TcpStream::connect(("127.0.0.1", self.admin)).is_ok() {
                    return child;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                    assert!(attempt < 2, "{} exited ({status}) three times; its log:\n{log}", self.name);
                    self.pick_ports();
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("{} did not open its admin port in 30 s; its log:\n{}", self.name, std::fs::read_to_string(&self.log).unwrap_or_default());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        unreachable!("returned or panicked above")
    }

    /// A GET on the admin port with the metrics token: the whole HTTP response.
    pub fn admin_get(&self, path: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.admin)).expect("admin");
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer metrics-token\r\nConnection: close\r\n\r\n").expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }
}

/// An ADT^A01 for `patient`, its sequence number in the name (what [`sink`] records); MSH-4
/// CHU-TEST is the shipped config's example sender `chu-exemple`.
pub fn message(patient: &str, seq: usize) -> Vec<u8> {
    format!(
        "MSH|^~\\&|HUBTEST|CHU-TEST|SIH|CHU-TEST|20261201101500||ADT^A01^ADT_A01|{patient}-{seq}|P|2.5\r\
         PID|1||{patient}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||HUB^SEQ{seq}\rPV1|1|I\r"
    )
    .into_bytes()
}

/// What the senders of [`send_load`] saw: the messages acknowledged AA, and the answers that were
/// not AA (AR while the store was away) or no answer at all.
#[derive(Default)]
pub struct LoadOutcome {
    pub acked: Mutex<std::collections::HashSet<(String, usize)>>,
    pub not_acked: std::sync::atomic::AtomicUsize,
}

/// One sender thread per patient, each sending its patient's messages in order, spread over the
/// nodes' MLLP ports, waiting for each ACK; a message not acknowledged AA goes to the next node
/// until it is (60 s at most per message).
pub fn send_load(ports: Vec<u16>, patients: usize, per_patient: usize, pause: Duration) -> (Arc<LoadOutcome>, Vec<std::thread::JoinHandle<()>>) {
    let (ports, outcome) = (Arc::new(ports), Arc::new(LoadOutcome::default()));
    let handles = (0..patients)
        .map(|p| {
            let (ports, outcome) = (Arc::clone(&ports), Arc::clone(&outcome));
            std::thread::spawn(move || {
                let patient = format!("HUB{p}");
                let mut connections: std::collections::HashMap<usize, TcpStream> = std::collections::HashMap::new();
                for seq in 0..per_patient {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    let mut node = (p + seq) % ports.len();
                    loop {
                        assert!(Instant::now() < deadline, "{patient}-{seq} never acknowledged");
                        let stream = match connections.remove(&node) {
                            Some(s) => Some(s),
                            None => TcpStream::connect(("127.0.0.1", ports[node])).ok(),
                        };
                        if let Some(mut stream) = stream {
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                            if let Some((code, _)) = super::gateway::send(&mut stream, &message(&patient, seq)) {
                                connections.insert(node, stream);
                                if code == "AA" {
                                    outcome.acked.lock().expect("lock").insert((patient.clone(), seq));
                                    break;
                                }
                            }
                        }
                        outcome.not_acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        node = (node + 1) % ports.len();
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    std::thread::sleep(pause);
                }
            })
        })
        .collect();
    (outcome, handles)
}

/// Waits (60 s at most) until every acknowledged message reached the sink; then checks each
/// patient's messages arrived in order (a message repeated right after itself, as at-least-once
/// allows after a takeover, counts once) and returns the deliveries.
pub async fn assert_all_delivered_in_order(
    deliveries: &Deliveries,
    acked: &std::collections::HashSet<(String, usize)>,
    per_patient: usize,
) -> Vec<(String, usize, Instant)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: std::collections::HashSet<(String, usize)> = deliveries.lock().expect("lock").iter().map(|(p, s, _)| (p.clone(), *s)).collect();
        if acked.is_subset(&delivered) {
            break;
        }
        assert!(Instant::now() < deadline, "{} acknowledged messages never delivered ({} deliveries)", acked.difference(&delivered).count(), delivered.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = deliveries.lock().expect("lock").clone();
    let mut by_patient: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (p, seq, _) in &deliveries {
        let seqs = by_patient.entry(p.as_str()).or_default();
        if seqs.last() != Some(seq) {
            seqs.push(*seq);
        }
    }
    for (p, seqs) in &by_patient {
        assert_eq!(seqs, &(0..per_patient).collect::<Vec<_>>(), "patient {p}: in order (a repeat only of the message just sent)");
    }
    deliveries
}
