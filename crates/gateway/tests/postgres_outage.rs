//! The database goes away under a running node and comes back: the gateway on PostgreSQL through
//! a TCP proxy the test cuts (every connection reset, new ones refused, as when the server
//! restarts or the network drops). While it is down, senders get AR (207), never AA, and nothing
//! hangs; once it is back the same process, without a restart, acknowledges again, and every
//! acknowledged message is delivered in patient order.

mod support;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use passerelle_gateway::Config;
use passerelle_testkit::PgSchema;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to PostgreSQL that can be cut: `up` false resets every connection and refuses new ones.
async fn proxy(up: Arc<AtomicBool>, cut: Arc<tokio::sync::Notify>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if !up.load(Ordering::SeqCst) {
                continue; // dropped: the connection is refused
            }
            let cut = Arc::clone(&cut);
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    () = cut.notified() => {}
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_ar_and_the_node_recovers_without_a_restart() {
    let Some(pg) = PgSchema::create("outage").await else { return };
    let db = CutDatabase::new(&pg).await;
    let (receiver, port) = recording_receiver(Duration::ZERO).await;
    let gw = passerelle_gateway::start(db.node("outage", port, "")).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let mut acked = Vec::new();
    let send = async |client: &mut MllpClient, seq: usize| {
        let patient = format!("OUT{}", seq % 3);
        let (code, _, ack) = client.send(&adt(&format!("{patient}-{seq}"), &patient, seq / 3)).await;
        (code, String::from_utf8_lossy(&ack).into_owned(), (patient, seq / 3))
    };
    for seq in 0..30 {
        let (code, _, key) = send(&mut client, seq).await;
        assert_eq!(code, "AA");
        acked.push(key);
    }

    db.cut();
    let mut refused = 0;
    for seq in 30..45 {
        let started = Instant::now();
        let (code, ack, _) = send(&mut client, seq).await;
        assert!(code == "AR" && ack.contains("|207"), "while the database is down: {code} {ack}");
        assert!(started.elapsed() < Duration::from_secs(5), "answered, not hung: {:?}", started.elapsed());
        refused += 1;
    }

    db.restore();
    // The refused messages are sent again (as a sender does after AR), then new ones.
    for seq in 30..60 {
        let (code, ack, key) = send(&mut client, seq).await;
        assert_eq!(code, "AA", "after the database came back: {ack}");
        acked.push(key);
    }
    let (r, total) = (Arc::clone(&receiver), acked.len());
    // A send whose outcome could not be recorded while the database was down is sent again once
    // its lease expires: wait for every distinct message, not a count of deliveries.
    wait_until(Duration::from_secs(30), move || r.distinct() >= total).await;
    assert_in_patient_order(&receiver.delivered(), 3, 20);
    eprintln!("{refused} refused with AR 207 while the database was down; {total} acknowledged and delivered");
    gw.shutdown().await;
    pg.drop_schema().await;
}

/// The database behind a cuttable proxy, and a node on it delivering to `receiver_port`.
struct CutDatabase {
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
    url: String,
}

impl CutDatabase {
    async fn new(pg: &PgSchema) -> Self {
        let (up, cut) = (Arc::new(AtomicBool::new(true)), Arc::new(tokio::sync::Notify::new()));
        let proxy_port = proxy(Arc::clone(&up), Arc::clone(&cut)).await;
        Self { up, cut, url: pg.url.replace("port=5432", &format!("port={proxy_port}")) }
    }

    /// A node `name` with a 2 s lease whose one HTTP destination (`extra` keys added) gets everything.
    fn node(&self, name: &str, receiver_port: u16, extra: &str) -> Config {
        let text = format!(
            "[gateway]\nnode_id = \"{name}\"\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\nlease_secs = 2\n[admin]\nbind = \"127.0.0.1:0\"\n\
             [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n\
             [[destination]]\nname = \"ehr\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{receiver_port}/in\"\nformat = \"hl7v2\"\n{extra}backoff_ms = 20\nmax_backoff_ms = 200\nmax_attempts = 1000\n\
             [[route]]\nname = \"all\"\nto = [\"ehr\"]\n",
            url = self.url
        );
        Config::parse(&text, &format!("{name}.toml")).expect("config")
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct SlowReceiver {
    delivered: Mutex<Vec<(String, usize)>>,
    /// The first request waits for this, so that the other rows pile up into one next batch.
    release: tokio::sync::Notify,
    first: AtomicBool,
}

async fn receive_slowly(State(r): State<Arc<SlowReceiver>>, body: Bytes) -> StatusCode {
    if !r.first.swap(true, Ordering::SeqCst) {
        r.release.notified().await;
    } else {
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    r.delivered.lock().expect("lock").push(patient_and_seq(&body));
    StatusCode::OK
}

/// Fencing: a node that cannot renew its leases (the database is cut while it sends a batch)
/// stops sending the rest of the batch, so that no row is sent after another node could have
/// taken it over; once the database is back, everything is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_renew_its_leases_stops_sending() {
    let Some(pg) = PgSchema::create("fencing").await else { return };
    let db = CutDatabase::new(&pg).await;
    let receiver = Arc::new(SlowReceiver::default());
    let app = Router::new().route("/in", post(receive_slowly)).with_state(Arc::clone(&receiver));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let gw = passerelle_gateway::start(db.node("fenced", port, "concurrency = 1\n")).await.expect("start");
    // The first message's send is held while seven more are journaled; once it is released the
    // next claim takes the seven into one lane (seven sends of 400 ms, one after the other).
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    assert_eq!(client.send(&adt("FENCE0-0", "FENCE0", 0)).await.0, "AA");
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(10), move || r.first.load(Ordering::SeqCst)).await;
    for p in 1..8 {
        let patient = format!("FENCE{p}");
        assert_eq!(client.send(&adt(&format!("{patient}-0"), &patient, 0)).await.0, "AA");
    }
    receiver.release.notify_one();
    tokio::time::sleep(Duration::from_millis(200)).await;
    db.cut();
    // The next renewal (a third of the 2 s lease) fails: the lane stops after the send under way.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let sent_while_cut = receiver.delivered.lock().expect("lock").len();
    assert!(sent_while_cut <= 4, "sending stopped once the leases could not be renewed: {sent_while_cut} of 8 sent");
    assert!(gw.metrics.render().contains("outcome=\"fenced\""), "{}", gw.metrics.render());
    db.restore();
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(30), move || {
        let mut seen: Vec<String> = r.delivered.lock().expect("lock").iter().map(|(p, _)| p.clone()).collect();
        seen.sort();
        seen.dedup();
        seen.len() == 8
    })
    .await;
    gw.shutdown().await;
    pg.drop_schema().await;
}
