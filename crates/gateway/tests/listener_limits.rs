//! Listener limits: an oversized frame is refused and its connection closed while others carry on;
//! max_connections refuses the surplus; an idle connection is closed after idle_timeout_secs.

mod support;

use passerelle_gateway::Config;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn limited(store: &std::path::Path) -> Config {
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nmax_frame_bytes = 2048\nmax_connections = 2\nidle_timeout_secs = 1\n",
        store.display()
    );
    Config::parse(&text, "limits.toml").expect("config")
}

/// Connects until the listener serves the connection (answers an ADT), returning it.
async fn served_connection(addr: std::net::SocketAddr) -> tokio_util::codec::Framed<tokio::net::TcpStream, passerelle_hl7v2::MllpCodec> {
    use futures_util::{SinkExt, StreamExt};
    for attempt in 0..100 {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut framed = tokio_util::codec::Framed::new(stream, passerelle_hl7v2::MllpCodec::default());
        framed.send(adt(&format!("OK-2-{attempt}"), "IPP-OK2", 1)).await.expect("send");
        if let Ok(Some(Ok(ack))) = tokio::time::timeout(Duration::from_secs(5), framed.next()).await {
            assert!(String::from_utf8_lossy(&ack).contains("MSA|AA|"));
            return framed;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the listener never served a second connection");
}

async fn read_to_close(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await.expect("closed in time");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frames_idle_peers_and_surplus_connections_are_cut_off_alone() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(limited(&tmp.path().join("j.db"))).await.expect("start");
    let addr = gw.address("mllp-in").expect("mllp");

    // A well-behaved client keeps working throughout.
    let mut good = MllpClient::connect(addr).await;
    assert_eq!(good.send(&adt("OK-1", "IPP-OK", 1)).await.0, "AA");

    // Oversized frame: AR, then the connection is closed.
    let mut big = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut frame = vec![0x0b];
    frame.extend(std::iter::repeat_n(b'X', 4096));
    big.write_all(&frame).await.expect("write");
    let answer = read_to_close(&mut big).await;
    assert!(String::from_utf8_lossy(&answer).contains("MSA|AR|"), "oversized frame answered AR");

    // Two connections are the limit: with `good` open, one more is served, the next refused.
    // (The oversized frame's slot is released just after its socket closes: retry until served.)
    let second = served_connection(addr).await;
    let mut third = tokio::net::TcpStream::connect(addr).await.expect("tcp connect succeeds");
    let refused = read_to_close(&mut third).await;
    assert!(refused.is_empty(), "surplus connection closed without an answer");

    // The idle timeout (1 s) closes a silent connection: free a slot, connect, say nothing.
    drop(second);
    drop(good);
    let idle_started = std::time::Instant::now();
    let mut idle = loop {
        let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        // A refused connection (slot not yet released) closes at once; retry until accepted.
        let mut probe = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(200), s.peek(&mut probe)).await {
            Err(_) => break s,
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert!(read_to_close(&mut idle).await.is_empty());
    assert!(idle_started.elapsed() >= Duration::from_millis(900), "closed by the idle timeout, not refused");
    let mut again = MllpClient::connect(addr).await;
    assert_eq!(again.send(&adt("OK-3", "IPP-OK", 2)).await.0, "AA");
    gw.shutdown().await;
}

/// A body that turns out too large while it is read (chunked, no Content-Length): 413 with an AR,
/// and its beginning is kept with the rejection for inspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_refused_413_and_its_start_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\nmax_frame_bytes = 1024\n",
        tmp.path().join("j.db").display()
    );
    let gw = passerelle_gateway::start(Config::parse(&text, "chunked.toml").expect("config")).await.expect("start");
    let mut stream = tokio::net::TcpStream::connect(gw.address("http-in").expect("http")).await.expect("connect");
    let mut chunk = b"MSH|^~\\&|BIG|CHU-TEST|||20261201||ADT^A01|BIG-1|P|2.5\rNTE|".to_vec();
    chunk.resize(3000, b'x');
    let request = [
        b"POST /hl7v2 HTTP/1.1\r\nhost: x\r\ncontent-type: x-application/hl7-v2+er7\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n0\r\n\r\n".to_vec(),
    ]
    .concat();
    stream.write_all(&request).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.expect("answered in time").expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("MSA|AR|"), "{answer}");
    let rejected = gw
        .store
        .search(passerelle_store::MessageQuery { status: Some(passerelle_store::MessageStatus::Rejected), limit: 10, ..Default::default() })
        .await
        .expect("search");
    assert_eq!(rejected.len(), 1);
    let kept = gw.store.message(rejected[0].id).await.expect("message").expect("found");
    assert!(kept.raw.starts_with(b"MSH|^~\\&|BIG|") && kept.raw.len() <= 64 * 1024, "the start of the body is kept: {} bytes", kept.raw.len());
    gw.shutdown().await;
}
