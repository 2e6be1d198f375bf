//! Hostile peers do not stop intake. From 127.0.0.1, a flood of idle connections, a body sent too
//! slowly, an oversized body and a wrong Content-Type; meanwhile a legitimate sender on 127.0.0.2
//! keeps getting AA within a second. The flood is capped per remote address and idle connections
//! give their slot back after `first_read_timeout_secs`; each refusal answers in the endpoint's
//! protocol (HL7 AR for /hl7v2) and is counted in `passerelle_limits_hit_total`. A flood of bad
//! frames is answered but stored only up to `rejects_stored_per_minute`.

mod support;

use passerelle_gateway::Config;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn hardened(store: &std::path::Path) -> Config {
    let limits = "max_connections = 64\nmax_connections_per_remote = 4\nfirst_read_timeout_secs = 1\nbody_timeout_secs = 1\nmax_frame_bytes = 65536\n";
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"0.0.0.0:0\"\n{limits}\
         [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"0.0.0.0:0\"\n{limits}",
        store.display()
    );
    Config::parse(&text, "hostile.toml").expect("config")
}

/// A connection from `from` to `port` on loopback.
async fn connect_from(from: &str, port: u16) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from.parse().expect("ip"), 0)).expect("bind");
    socket.connect(SocketAddr::new("127.0.0.1".parse().expect("ip"), port)).await.expect("connect")
}

/// Whether the server closed `stream` within `limit` (reads EOF or a reset).
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(limit, stream.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

async fn post(http: &reqwest::Client, url: &str, content_type: &str, body: Vec<u8>) -> (u16, String, Duration) {
    let started = Instant::now();
    let r = http.post(url).header("content-type", content_type).body(body).send().await.expect("post");
    (r.status().as_u16(), r.text().await.unwrap_or_default(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_slow_bodies_and_oversized_input_never_stop_a_legitimate_sender() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(hardened(&tmp.path().join("j.db"))).await.expect("start");
    let (mllp_port, http_port) = (gw.address("mllp-in").expect("mllp").port(), gw.address("http-in").expect("http").port());
    let legit = reqwest::Client::builder().local_address("127.0.0.2".parse::<IpAddr>().expect("ip")).build().expect("client");
    let url = format!("http://127.0.0.1:{http_port}/hl7v2");
    let message = |n: usize| adt(&format!("LEGIT-{n}"), &format!("IPP-LEGIT-{n}"), n);

    // 40 idle connections from one address on each listener: 4 are held, the rest refused.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(connect_from("127.0.0.1", mllp_port).await);
        idle.push(connect_from("127.0.0.1", http_port).await);
    }
    let (status, ack, took) = post(&legit, &url, "x-application/hl7-v2+er7", message(1)).await;
    assert_eq!(status, 200);
    assert!(ack.contains("MSA|AA|LEGIT-1") && took < Duration::from_secs(1), "{ack} in {took:?}");
    let mut mllp = MllpClient::connect_stream(connect_from("127.0.0.2", mllp_port).await);
    let started = Instant::now();
    let (code, _, _) = mllp.send(&message(2)).await;
    assert!(code == "AA" && started.elapsed() < Duration::from_secs(1), "{code} in {:?}", started.elapsed());
    // Idle connections give their slot back after first_read_timeout_secs (1 s), not idle_timeout (300 s).
    for stream in idle.iter_mut().take(8) {
        assert!(closed_within(stream, Duration::from_secs(5)).await, "an idle connection is closed");
    }

    // A body sent too slowly: 408 in HL7 v2 (an AR), not a slot held forever.
    let mut slow = connect_from("127.0.0.1", http_port).await;
    slow.write_all(b"POST /hl7v2 HTTP/1.1\r\nhost: x\r\ncontent-type: x-application/hl7-v2+er7\r\ncontent-length: 5000\r\n\r\nMSH|").await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains("MSA|AR|"), "{answer}");

    // Too large, and not HL7 v2 at all: refused in the endpoint's protocol, legit traffic unaffected.
    let (status, ack, _) = post(&legit, &url, "x-application/hl7-v2+er7", vec![b'A'; 70_000]).await;
    assert!(status == 413 && ack.contains("MSA|AR|"), "{status} {ack}");
    let (status, ack, _) = post(&legit, &url, "image/png", message(3)).await;
    assert!(status == 415 && ack.contains("MSA|AR|"), "{status} {ack}");
    let fhir = format!("http://127.0.0.1:{http_port}/fhir");
    let (status, outcome, _) = post(&legit, &fhir, "application/fhir+json", vec![b' '; 70_000]).await;
    assert!(status == 413 && outcome.contains("OperationOutcome"), "{status} {outcome}");
    let (status, ack, took) = post(&legit, &url, "x-application/hl7-v2+er7", message(4)).await;
    assert!(status == 200 && ack.contains("MSA|AA|LEGIT-4") && took < Duration::from_secs(1), "{ack} in {took:?}");

    let metrics = gw.metrics.render();
    for limit in ["max_connections_per_remote", "read_timeout", "body_timeout", "max_body_bytes", "content_type"] {
        assert!(metrics.contains(&format!("limit=\"{limit}\"")), "{limit} counted:\n{metrics}");
    }
    gw.shutdown().await;
}

/// A flood of bad frames: every one is answered AR, but only `rejects_stored_per_minute` of them
/// are stored (they were each a journal row: 74 MB of WAL in 7 s); the rest are counted, and a
/// legitimate message from the same sender is still journaled AA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reject_flood_is_answered_but_stored_only_up_to_its_budget() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!(
        "[gateway]\nrejects_stored_per_minute = 20\n[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n",
        tmp.path().join("j.db").display()
    );
    let gw = passerelle_gateway::start(Config::parse(&text, "flood.toml").expect("config")).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    for i in 0..300 {
        let (code, _, _) = client.send(format!("garbage {i}").as_bytes()).await;
        assert_eq!(code, "AR", "frame {i} is answered");
    }
    let (code, _, _) = client.send(&adt("AFTER-FLOOD", "IPP-FLOOD", 1)).await;
    assert_eq!(code, "AA");
    let rejected = gw
        .store
        .search(passerelle_store::MessageQuery { status: Some(passerelle_store::MessageStatus::Rejected), limit: 1000, ..Default::default() })
        .await
        .expect("search");
    assert_eq!(rejected.len(), 20, "the budget, not the flood, is stored");
    let metrics = gw.metrics.render();
    assert!(metrics.contains("limit=\"rejects_not_stored\",listener=\"mllp-in\"} 280"), "the rest is counted:\n{metrics}");
    gw.shutdown().await;
}
