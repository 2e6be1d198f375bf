//! End to end with real sockets on port 0: MLLP in, journal, route, delivery to an independent
//! FHIR HTTP sink and an independent MLLP peer (../shared/verify), bodies checked by the FHIR
//! validator; retries with a failing sink; dead letter; dedupe; bad input kept.

mod support;

use passerelle_store::{MessageQuery, MessageStatus, OutboxStatus};
use std::process::Command;
use std::time::Duration;
use support::*;

fn destinations(fhir_port: u16, mllp_port: u16, max_attempts: u32) -> String {
    format!(
        "[[destination]]\nname = \"cabinet\"\nkind = \"fhir_http\"\nurl = \"http://127.0.0.1:{fhir_port}/fhir\"\nmax_attempts = {max_attempts}\nbackoff_ms = 20\nmax_backoff_ms = 100\n\
         [[destination]]\nname = \"ehr\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{mllp_port}\"\ncharset = \"8859/15\"\nmax_attempts = {max_attempts}\nbackoff_ms = 20\nmax_backoff_ms = 100\ntimeout_ms = 3000\n\
         [[route]]\nname = \"adt\"\nmatch = {{ message_type = \"ADT^*\" }}\nto = [\"cabinet\", \"ehr\"]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adt_over_mllp_reaches_the_fhir_and_mllp_peers_through_retries() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let (fhir_port, mllp_port) = (free_port(), free_port());
    let (fhir_out, mllp_out) = (tmp.path().join("fhir"), tmp.path().join("mllp"));
    // Both peers fail every 3rd message: the gateway must retry and still deliver everything.
    let _http = start_peer(&verify, "http_sink.py", &["listen", &fhir_port.to_string(), fhir_out.to_str().expect("p"), "--fail-every", "3"]);
    let _mllp = start_peer(
        &verify,
        "mllp_peer.py",
        &["listen", &mllp_port.to_string(), mllp_out.to_str().expect("p"), "--fail-every", "3", "--encoding", "iso-8859-15"],
    );
    wait_for_port(fhir_port).await;
    wait_for_port(mllp_port).await;

    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &destinations(fhir_port, mllp_port, 10))).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");
    let mut sent = 0;
    for f in [
        "fr_a01_ins_qualified_utf8.hl7",
        "fr_a04_outpatient_latin1.hl7",
        "be_a28_niss.hl7",
        "crossborder_a04_ins_and_bis.hl7",
        "fr_a03_discharge.hl7",
        "fr_a40_merge.hl7",
    ] {
        let (code, msa2, _) = client.send(&std::fs::read(fixtures.join(f)).expect("fixture")).await;
        assert_eq!(code, "AA", "{f}");
        assert!(!msa2.is_empty());
        sent += 1;
    }
    // Each peer fails every 3rd request, so it stores more bodies than messages; wait until every
    // message has been delivered once, as the outbox says.
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, sent * 2, Duration::from_secs(30)).await;
    assert_eq!(delivered.len(), sent * 2);
    let retried = gw.metrics.deliveries.with_label_values(&["cabinet", "retried"]).get() + gw.metrics.deliveries.with_label_values(&["ehr", "retried"]).get();
    assert!(retried >= 2, "failing sinks must have caused retries, got {retried}");
    // The MLLP peer stored each message it acknowledged AA once, re-encoded in ISO-8859-15.
    let aa: Vec<_> = std::fs::read_dir(&mllp_out).expect("out").flatten().filter(|e| e.file_name().to_string_lossy().contains("_AA_")).collect();
    assert_eq!(aa.len(), sent);
    for e in &aa {
        let bytes = std::fs::read(e.path()).expect("read");
        assert!(bytes.windows(7).any(|w| w == b"8859/15"), "MSH-18 re-encoded");
    }
    // Every FHIR body the sink received passes the independent R4 validator.
    let bodies: Vec<_> = files_with_ext(&fhir_out, "json");
    assert!(bodies.len() > sent, "the sink also stored the failed attempts");
    let python = verify.join(".venv/bin/python");
    let out = Command::new(python).arg(verify.join("validate_fhir.py")).arg("--type").arg("Bundle").args(&bodies).output().expect("validator");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_always_fails_leads_to_dead_letters_that_can_be_replayed() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Nothing listens on this port: every attempt fails, then the row is dead-lettered.
    let closed = free_port();
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{closed}\"\nmax_attempts = 3\nbackoff_ms = 10\nmax_backoff_ms = 20\ntimeout_ms = 500\n\
         [[route]]\nname = \"adt\"\nmatch = {{ message_type = \"ADT^*\" }}\nto = [\"ehr\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    assert_eq!(client.send(&adt("DL-1", "IPP-DL", 1)).await.0, "AA");
    let store = gw.store.clone();
    let dead = wait_for_outbox(store.as_ref(), OutboxStatus::Dead, 1, Duration::from_secs(5)).await;
    assert_eq!(dead.len(), 1, "dead-lettered after max_attempts");
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].last_error.as_deref().is_some_and(|e| e.contains("gave up after 3 attempts")));
    assert_eq!(store.requeue(dead[0].id, passerelle_gateway::pipeline::now_ms()).await.expect("requeue"), passerelle_store::Transition::Done);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resends_get_the_original_ack_and_bad_input_is_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let extra = format!("[[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{}\"\n[[route]]\nname = \"all\"\nto = [\"files\"]\n", out.display());
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let msg = adt("DUP-1", "IPP-DUP", 1);
    let (code1, _, ack1) = client.send(&msg).await;
    let (code2, _, ack2) = client.send(&msg).await;
    assert_eq!((code1.as_str(), code2.as_str()), ("AA", "AA"));
    assert_eq!(ack1, ack2, "a resend gets the original ACK byte for byte");
    // Garbage between frames and an unreadable frame: AR, the connection survives, bytes kept.
    client.framed().get_mut().try_write(b"noise before a frame").expect("write");
    let (code3, _, ack3) = client.send(b"\x00\x01garbage").await;
    assert_eq!(code3, "AR");
    assert!(String::from_utf8_lossy(&ack3).contains("ERR|||100^"));
    let (code4, _, _) = client.send(&adt("AFTER-GARBAGE", "IPP-DUP", 2)).await;
    assert_eq!(code4, "AA", "one bad frame never takes the connection down");
    wait_until(Duration::from_secs(10), || files_with_ext(&out, "hl7").len() == 2).await;
    let rejected = gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 1);
    assert_eq!(gw.metrics.duplicates.with_label_values(&["mllp-in"]).get(), 1);
    // HL7 over HTTP answers with the ACK too.
    let http = gw.address("http-in").expect("http");
    let reply = http_post(http, "/hl7v2", &adt("HTTP-1", "IPP-H", 1)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("MSA|AA|HTTP-1"));
    gw.shutdown().await;
}

async fn http_post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}
