//! A downstream destination down for a minute (nothing listening: every attempt refused), then
//! back. Meanwhile senders keep getting AA at once; once it is back the backlog drains, each
//! message is delivered exactly once, and each patient's messages arrive in the order they were
//! acknowledged. `PASSERELLE_OUTAGE_SECS` shortens the outage for a quick local run (default 60).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_down_for_a_minute_gets_its_backlog_in_order_when_it_returns() {
    let outage = Duration::from_secs(std::env::var("PASSERELLE_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60));
    // The destination's port, with nothing listening on it until the outage ends.
    let port = passerelle_testkit::free_port();
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/in\"\nformat = \"hl7v2\"\nconcurrency = 4\n\
         max_attempts = 1000\nbackoff_ms = 200\nmax_backoff_ms = 2000\ntimeout_ms = 1000\n\
         [[route]]\nname = \"all\"\nto = [\"ehr\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;

    let (patients, per_patient) = (10, 12);
    let total = patients * per_patient;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for seq in 0..per_patient {
        for p in 0..patients {
            let patient = format!("OUT{p}");
            let sent = Instant::now();
            let (code, _, _) = client.send(&adt(&format!("{patient}-{seq}"), &patient, seq)).await;
            assert_eq!(code, "AA", "intake goes on while the destination is down");
            slowest = slowest.max(sent.elapsed());
            // Spread over the outage: the last messages queue behind a long-failing head.
            tokio::time::sleep(outage.mul_f64(0.9) / total as u32).await;
        }
    }
    assert!(slowest < Duration::from_secs(1), "slowest ACK during the outage: {slowest:?}");
    tokio::time::sleep(outage.saturating_sub(started.elapsed())).await;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the destination comes back on its port");
    let receiver = serve_recorder(listener, Duration::ZERO);
    let back = Instant::now();
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(60), move || r.count() >= total).await;
    eprintln!("outage {outage:?}: {total} messages queued, drained {:?} after the destination came back", back.elapsed());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), total, "each message delivered exactly once");
    assert_in_patient_order(&delivered, patients, per_patient);
    gw.shutdown().await;
}
