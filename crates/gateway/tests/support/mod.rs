//! Test support: configs on port 0, MLLP client, waiting on conditions (never fixed sleeps),
//! and the independent peers of ../shared/verify (http_sink.py, mllp_peer.py).

#![allow(dead_code, unused_imports)]

use futures_util::{SinkExt, StreamExt};
use passerelle_gateway::Config;
use passerelle_hl7v2::MllpCodec;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

pub use passerelle_testkit::{Peer, files_with_ext, free_port, start_peer, verify_dir, workspace_root};

pub async fn wait_for_port(port: u16) {
    wait_until(Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).await;
}

/// Polls `cond` until true; panics after `limit`.
pub async fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the outbox holds at least `count` rows in `status`; returns them. On timeout,
/// panics with the whole outbox, which says why.
pub async fn wait_for_outbox(
    store: &dyn passerelle_store::Store,
    status: passerelle_store::OutboxStatus,
    count: usize,
    limit: Duration,
) -> Vec<passerelle_store::OutboxRow> {
    use passerelle_store::OutboxFilter;
    let deadline = Instant::now() + limit;
    loop {
        let rows = store.list(OutboxFilter { status: Some(status), limit: 1000, ..Default::default() }).await.expect("list");
        if rows.len() >= count {
            return rows;
        }
        if Instant::now() > deadline {
            let all = store.list(OutboxFilter { limit: 1000, ..Default::default() }).await.expect("list");
            panic!("only {} of {count} rows {status:?}: {all:#?}", rows.len());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn config(store: &Path, extra: &str) -> Config {
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\n{extra}",
        store.display()
    );
    Config::parse(&text, "test.toml").expect("test config")
}

pub struct MllpClient(Framed<TcpStream, MllpCodec>);

impl MllpClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self(Framed::new(TcpStream::connect(addr).await.expect("connect"), MllpCodec::default()))
    }
    /// Over a connection already made (from a chosen local address, say).
    pub fn connect_stream(stream: TcpStream) -> Self {
        Self(Framed::new(stream, MllpCodec::default()))
    }
    /// Sends one message and returns (MSA-1, MSA-2, raw ACK).
    pub async fn send(&mut self, msg: &[u8]) -> (String, String, Vec<u8>) {
        self.0.send(msg).await.expect("send");
        let ack = tokio::time::timeout(Duration::from_secs(10), self.0.next()).await.expect("ack in time").expect("open").expect("frame");
        let (code, msa2) = passerelle_hl7v2::read_ack(&ack).expect("ack with MSA");
        (code, msa2, ack.to_vec())
    }
    pub fn framed(&mut self) -> &mut Framed<TcpStream, MllpCodec> {
        &mut self.0
    }
}

/// The patient and sequence number of a delivered [`adt`] (what a test receiver records).
pub fn patient_and_seq(body: &[u8]) -> (String, usize) {
    let text = String::from_utf8_lossy(body);
    let patient = text.split("PID|1||").nth(1).and_then(|s| s.split('^').next()).unwrap_or("").to_owned();
    let seq = text.split("^SEQ").nth(1).and_then(|s| s.split('^').next()).and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
    (patient, seq)
}

/// An ADT^A01 for patient `patient` with control id `control`.
pub fn adt(control: &str, patient: &str, seq: usize) -> Vec<u8> {
    format!(
        "MSH|^~\\&|TESTAPP|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|{control}|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8\r\
EVN||20261123101500\r\
PID|1||{patient}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTORDRE^SEQ{seq}^^^M.^^L||19800101|M\r\
PV1|1|I|UF-MED^101^1^CHU-TEST|||||||||||||||||VN{control}^^^CHU-TEST&1.2.250.1.999.1.3&ISO^VN\r"
    )
    .into_bytes()
}

/// What a recording HTTP receiver got: each body's patient and sequence number ([`adt`]).
#[derive(Default)]
pub struct Recorder {
    pub delivered: std::sync::Mutex<Vec<(String, usize)>>,
}

impl Recorder {
    pub fn delivered(&self) -> Vec<(String, usize)> {
        self.delivered.lock().expect("lock").clone()
    }
    pub fn count(&self) -> usize {
        self.delivered.lock().expect("lock").len()
    }
    /// Distinct messages received (a repeat after a takeover counts once).
    pub fn distinct(&self) -> usize {
        self.delivered.lock().expect("lock").iter().collect::<std::collections::HashSet<_>>().len()
    }
}

/// Serves `POST /in` on `listener`, recording each body and answering 200 after `delay`.
pub fn serve_recorder(listener: tokio::net::TcpListener, delay: Duration) -> std::sync::Arc<Recorder> {
    use axum::extract::State;
    let recorder = std::sync::Arc::new(Recorder::default());
    let app = axum::Router::new()
        .route(
            "/in",
            axum::routing::post(async move |State(r): State<std::sync::Arc<Recorder>>, body: axum::body::Bytes| {
                tokio::time::sleep(delay).await;
                r.delivered.lock().expect("lock").push(patient_and_seq(&body));
                axum::http::StatusCode::OK
            }),
        )
        .with_state(std::sync::Arc::clone(&recorder));
    tokio::spawn(async move { axum::serve(listener, app).await });
    recorder
}

/// A recording receiver on a new port of 127.0.0.1.
pub async fn recording_receiver(delay: Duration) -> (std::sync::Arc<Recorder>, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
    let port = listener.local_addr().expect("addr").port();
    (serve_recorder(listener, delay), port)
}

/// Each of `patients` patients got its messages 0..`per_patient` in order (a message repeated
/// right after itself, as at-least-once allows after a takeover, counts once).
pub fn assert_in_patient_order(delivered: &[(String, usize)], patients: usize, per_patient: usize) {
    let mut by_patient: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (p, seq) in delivered {
        let seqs = by_patient.entry(p.as_str()).or_default();
        if seqs.last() != Some(seq) {
            seqs.push(*seq);
        }
    }
    assert_eq!(by_patient.len(), patients, "every patient delivered");
    for (p, seqs) in &by_patient {
        assert_eq!(seqs, &(0..per_patient).collect::<Vec<_>>(), "patient {p} out of order");
    }
}
