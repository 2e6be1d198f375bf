//! Per-patient FIFO under concurrency: a flaky, slow HTTP receiver (random delays, every 4th
//! request 503) still sees each patient's messages in the order they were acknowledged, while
//! different patients are delivered in parallel.

mod support;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

#[derive(Default)]
struct Receiver {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delivered: Mutex<Vec<(String, usize)>>,
}

async fn receive(State(r): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let now = r.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    r.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis((n * 7 % 5) as u64)).await;
    r.in_flight.fetch_sub(1, Ordering::SeqCst);
    if n % 4 == 3 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    r.delivered.lock().expect("lock").push(patient_and_seq(&body));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_patient_is_delivered_in_order_while_patients_go_in_parallel() {
    let receiver = Arc::new(Receiver::default());
    let app = Router::new().route("/in", post(receive)).with_state(Arc::clone(&receiver));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"esms\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/in\"\nformat = \"hl7v2\"\nconcurrency = 8\nmax_attempts = 50\nbackoff_ms = 5\nmax_backoff_ms = 20\n\
         [[route]]\nname = \"all\"\nto = [\"esms\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let addr = gw.address("mllp-in").expect("mllp");
    let (connections, patients_per_connection, per_patient) = (6, 4, 8);
    let mut tasks = Vec::new();
    for c in 0..connections {
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(addr).await;
            for seq in 0..per_patient {
                for p in 0..patients_per_connection {
                    let patient = format!("P{c}x{p}");
                    let (code, _, _) = client.send(&adt(&format!("{patient}-{seq}"), &patient, seq)).await;
                    assert_eq!(code, "AA");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client");
    }
    let total = connections * patients_per_connection * per_patient;
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(60), move || r.delivered.lock().expect("lock").len() >= total).await;
    let delivered = receiver.delivered.lock().expect("lock").clone();
    assert_eq!(delivered.len(), total, "each message delivered exactly once");
    let mut by_patient: HashMap<String, Vec<usize>> = HashMap::new();
    for (p, seq) in delivered {
        by_patient.entry(p).or_default().push(seq);
    }
    assert_eq!(by_patient.len(), connections * patients_per_connection);
    for (p, seqs) in &by_patient {
        assert_eq!(seqs, &(0..per_patient).collect::<Vec<_>>(), "patient {p} out of order");
    }
    assert!(receiver.max_in_flight.load(Ordering::SeqCst) > 1, "different patients should be delivered in parallel");
    assert!(receiver.requests.load(Ordering::SeqCst) > total, "the 503s forced retries");
    gw.shutdown().await;
}
