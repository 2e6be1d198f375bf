//! MLLP edge cases: pipelined frames are answered in order; an outbound ACK that comes too late or
//! names another message is never taken as this message's ACK.

mod support;

use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::MllpCodec;
use passerelle_store::OutboxStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::Framed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_frames_on_one_connection_are_answered_in_order() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let mut stream = tokio::net::TcpStream::connect(gw.address("mllp-in").expect("mllp")).await.expect("connect");
    let mut burst = Vec::new();
    for i in 0..5 {
        burst.push(0x0b);
        burst.extend(adt(&format!("PIPE-{i}"), "IPP-PIPE", i));
        burst.extend([0x1c, 0x0d]);
    }
    stream.write_all(&burst).await.expect("write all frames at once");
    let mut framed = Framed::new(stream, MllpCodec::default());
    for i in 0..5 {
        let ack = tokio::time::timeout(Duration::from_secs(10), framed.next()).await.expect("ack").expect("open").expect("frame");
        assert!(String::from_utf8_lossy(&ack).contains(&format!("MSA|AA|PIPE-{i}\r")), "ack {i} out of order");
    }
    gw.shutdown().await;
}

/// A peer whose first connection answers too late, second answers for another message, third is right.
async fn tricky_peer(listener: tokio::net::TcpListener, connections: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        let n = connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut framed = Framed::new(stream, MllpCodec::default());
            while let Some(Ok(frame)) = framed.next().await {
                let text = String::from_utf8_lossy(&frame).into_owned();
                let control = text.split('|').nth(9).unwrap_or("").to_owned();
                let msa2 = match n {
                    0 => {
                        tokio::time::sleep(Duration::from_millis(800)).await;
                        control
                    }
                    1 => "SOMETHING-ELSE".to_owned(),
                    _ => control,
                };
                let ack = format!("MSH|^~\\&|PEER|X|||20261123||ACK^A01^ACK|P1|P|2.5\rMSA|AA|{msa2}\r");
                if framed.send(ack.into_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_or_mismatched_acks_are_never_matched() {
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = peer.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    tokio::spawn(tricky_peer(peer, Arc::clone(&connections)));
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{port}\"\ntimeout_ms = 300\nbackoff_ms = 10\nmax_backoff_ms = 20\n\
         [[route]]\nname = \"all\"\nto = [\"ehr\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    assert_eq!(client.send(&adt("LATE-1", "IPP-LATE", 1)).await.0, "AA");
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(5)).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].attempts, 3, "timeout, then mismatched MSA-2, then the right ACK");
    assert_eq!(connections.load(Ordering::SeqCst), 3, "each failure reconnects");
    gw.shutdown().await;
}
