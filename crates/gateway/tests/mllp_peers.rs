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

/// A receiver that refuses: AE first (retried), then AR (dead-lettered). Each attempt of the
/// lineage keeps the receiver's whole ACK, its ERR segment included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_receivers_ack_is_kept_with_each_attempt() {
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = peer.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut answered = 0;
        while let Ok((stream, _)) = peer.accept().await {
            let mut framed = Framed::new(stream, MllpCodec::default());
            while let Some(Ok(frame)) = framed.next().await {
                let text = String::from_utf8_lossy(&frame).into_owned();
                let control = text.split('|').nth(9).unwrap_or("").to_owned();
                let code = if answered == 0 { "AE" } else { "AR" };
                answered += 1;
                let ack = format!(
                    "MSH|^~\\&|PEER|X|||20261123||ACK^A01^ACK|P{answered}|P|2.5\rMSA|{code}|{control}\rERR|||207^Application internal error^HL70357|E||||PV1-3 unknown unit\r"
                );
                if framed.send(ack.into_bytes()).await.is_err() {
                    break;
                }
            }
        }
    });
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{port}\"\ntimeout_ms = 500\nbackoff_ms = 10\nmax_backoff_ms = 20\n\
         [[route]]\nname = \"all\"\nto = [\"ehr\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    assert_eq!(client.send(&adt("REFUSED-1", "IPP-REFUSED", 1)).await.0, "AA");
    let dead = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Dead, 1, Duration::from_secs(5)).await;
    let message = gw.store.message(dead[0].message_id).await.expect("message").expect("found");
    let attempts: Vec<(&str, &str)> = message.attempts.iter().map(|a| (a.outcome.as_str(), a.detail.as_str())).collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].0, "retry");
    assert!(attempts[0].1.starts_with("peer answered AE: MSH|") && attempts[0].1.contains("ERR|||207"), "{attempts:?}");
    assert_eq!(attempts[1].0, "dead");
    assert!(attempts[1].1.contains("MSA|AR|REFUSED-1") && attempts[1].1.contains("PV1-3 unknown unit"), "{attempts:?}");
    gw.shutdown().await;
}
