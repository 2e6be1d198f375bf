//! Batches and file drops: a batch file dropped in a watched directory comes out as its messages (each
//! journaled and routed on its own), a FHIR file as its patient, and an unreadable file goes to
//! `error/` with a report saying why; files are only taken once they stopped growing.

mod support;

use passerelle_store::{MessageQuery, OutboxStatus};
use std::time::Duration;
use support::*;

async fn wait_for_file(path: &std::path::Path) {
    for _ in 0..200 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} never appeared", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_batch_file_comes_out_as_its_messages() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (inbox, out) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&inbox).expect("inbox");
    let extra = format!(
        "[[listener]]\nname = \"drop\"\nkind = \"file\"\ndir = \"{}\"\npoll_ms = 50\n\
         [[destination]]\nname = \"ehr\"\nkind = \"file\"\nformat = \"hl7v2\"\ndir = \"{}\"\n\
         [[route]]\nname = \"all\"\nto = [\"ehr\"]\n",
        inbox.display(),
        out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");
    let mut batch = b"FHS|^~\\&|LAB|LABO-TEST\rBHS|^~\\&|LAB|LABO-TEST\r".to_vec();
    for f in ["fr_a01_ins_qualified_utf8.hl7", "be_a28_niss.hl7", "fr_a03_discharge.hl7"] {
        batch.extend(std::fs::read(fixtures.join(f)).expect("fixture"));
    }
    batch.extend_from_slice(b"BTS|3\rFTS|1\r");
    std::fs::write(inbox.join("lab-20261201.hl7"), &batch).expect("drop");
    std::fs::write(inbox.join("patient.json"), std::fs::read(fixtures.join("fr_a04_outpatient_latin1.fhir.json")).expect("fixture")).expect("drop");
    std::fs::write(inbox.join("garbage.bin"), b"\x00\x01 not a message").expect("drop");

    wait_for_file(&inbox.join("done/lab-20261201.hl7.report.json")).await;
    wait_for_file(&inbox.join("done/patient.json.report.json")).await;
    wait_for_file(&inbox.join("error/garbage.bin.report.json")).await;
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(inbox.join("done/lab-20261201.hl7.report.json")).expect("read")).expect("json");
    assert_eq!((report["messages"].as_u64(), report["accepted"].as_u64()), (Some(3), Some(3)), "{report}");
    assert!(inbox.join("done/lab-20261201.hl7").exists() && !inbox.join("lab-20261201.hl7").exists(), "moved, not copied");
    // The messages are in original acknowledgement mode (MSH-15/16 empty): a batch of three ACKs.
    let ack = String::from_utf8(std::fs::read(inbox.join("done/lab-20261201.hl7.ack.hl7")).expect("batch ack")).expect("utf8");
    assert!(ack.starts_with("FHS|") && ack.ends_with("BTS|3\rFTS|1\r"), "{ack}");
    assert_eq!(ack.matches("\rMSA|AA|").count(), 3, "{ack}");
    let garbage: serde_json::Value = serde_json::from_slice(&std::fs::read(inbox.join("error/garbage.bin.report.json")).expect("read")).expect("json");
    assert!(garbage["problems"][0].as_str().is_some_and(|p| p.contains("neither")), "{garbage}");

    // Three messages from the batch and one from the FHIR file, each journaled and delivered.
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 4, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 4);
    let journaled = gw.store.search(MessageQuery { limit: 100, ..Default::default() }).await.expect("search");
    assert_eq!(journaled.iter().filter(|m| m.listener == "drop").count(), 4);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_trailer_miscounts_goes_to_error_with_its_messages_still_journaled() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let extra = format!("[[listener]]\nname = \"drop\"\nkind = \"file\"\ndir = \"{}\"\npoll_ms = 50\n", inbox.display());
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut batch = b"BHS|^~\\&|LAB\r".to_vec();
    batch.extend(std::fs::read(workspace_root().join("fixtures/hl7v2/ok/be_a28_niss.hl7")).expect("fixture"));
    batch.extend_from_slice(b"BTS|2\r");
    std::fs::write(inbox.join("short.hl7"), &batch).expect("drop");
    wait_for_file(&inbox.join("error/short.hl7.report.json")).await;
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(inbox.join("error/short.hl7.report.json")).expect("read")).expect("json");
    assert_eq!(report["accepted"].as_u64(), Some(1), "{report}");
    assert!(report["problems"][0].as_str().is_some_and(|p| p.contains("BTS-1 declares 2")), "{report}");
    gw.shutdown().await;
}

/// A batch over MLLP (one frame) or HTTP gets one batch acknowledgement holding the ACKs its
/// messages ask for (MSH-15/16): `AL` answered, `NE` not; over HTTP, no ACK asked is a 204.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_over_mllp_and_http_get_one_batch_acknowledgement() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let message = |control: &str, accept: &str| {
        format!(
            "MSH|^~\\&|LAB|LABO-TEST|PSR|HUB|20261201100000||ADT^A28^ADT_A05|{control}|P|2.5|||{accept}|{accept}\rEVN||20261201100000\rPID|1||{control}^^^LABO-TEST&1.2.250.1.999.7&ISO^PI||BATCH^TEST||19800101|F\r"
        )
    };
    let batch =
        |messages: &[String]| format!("FHS|^~\\&|LAB\rBHS|^~\\&|LAB|LABO-TEST|||20261201||||LAB-B1\r{}BTS|{}\rFTS|1\r", messages.concat(), messages.len());
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let framed = client.framed();
    futures_util::SinkExt::send(framed, bytes::Bytes::from(batch(&[message("B-1", "AL"), message("B-2", "NE")]))).await.expect("send");
    let reply = futures_util::StreamExt::next(framed).await.expect("reply").expect("frame");
    let text = String::from_utf8_lossy(&reply).into_owned();
    assert!(text.starts_with("FHS|") && text.contains("|LAB-B1\r") && text.ends_with("BTS|1\rFTS|1\r"), "{text}");
    assert!(text.contains("MSA|AA|B-1") && !text.contains("B-2"), "only the ACK asked for: {text}");
    let url = format!("http://{}/hl7v2", gw.address("http-in").expect("http"));
    let http = reqwest::Client::new();
    let r = http.post(&url).body(batch(&[message("H-1", "AL"), message("H-2", "AL")])).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("body");
    assert!(text.contains("MSA|AA|H-1") && text.contains("MSA|AA|H-2") && text.ends_with("BTS|2\rFTS|1\r"), "{text}");
    let r = http.post(&url).body(batch(&[message("N-1", "NE")])).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 204, "no ACK asked for");
    let journaled = gw.store.search(MessageQuery { limit: 100, ..Default::default() }).await.expect("search");
    assert_eq!(journaled.len(), 5, "every message of every batch is journaled");
    gw.shutdown().await;
}
