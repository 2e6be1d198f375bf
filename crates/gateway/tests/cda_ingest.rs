//! CDA in over HTTP: a document is journaled, routed and rendered as a DocumentReference Bundle,
//! with 201 and the journal's Location; what cannot be rendered or read is refused and kept.

mod support;

use passerelle_store::{MessageQuery, MessageStatus, OutboxStatus};
use std::time::Duration;
use support::*;

async fn post_cda(gw: &passerelle_gateway::RunningGateway, body: Vec<u8>) -> (u16, Option<String>, serde_json::Value) {
    passerelle_gateway::delivery::install_tls_provider();
    let url = format!("http://{}/cda", gw.address("http-in").expect("http"));
    let response = reqwest::Client::new().post(url).header("content-type", "application/hl7-cda+xml").body(body).send().await.expect("post");
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, location, serde_json::from_slice(&response.bytes().await.expect("body")).expect("operation outcome json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cda_document_reaches_a_fhir_destination_as_a_document_reference_bundle() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let (fhir_out, hl7_out) = (tmp.path().join("fhir"), tmp.path().join("hl7"));
    let extra = format!(
        "[[destination]]\nname = \"cabinet\"\nkind = \"file\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[destination]]\nname = \"ehr\"\nkind = \"file\"\nformat = \"hl7v2\"\ndir = \"{}\"\n\
         [[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"cabinet\"]\n\
         [[route]]\nname = \"generic-to-ehr\"\nmatch = {{ format = \"cda\", national_id = \"none\" }}\nto = [\"ehr\"]\n",
        fhir_out.display(),
        hl7_out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let fixtures = workspace_root().join("fixtures/cda");

    let (status, location, outcome) = post_cda(&gw, std::fs::read(fixtures.join("ok/fr_cr_bio_structured_ins.xml")).expect("fixture")).await;
    assert_eq!(status, 201, "{outcome}");
    let location = location.expect("Location header");
    assert!(location.starts_with("/api/messages/"), "{location}");
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    assert_eq!(delivered[0].destination, "cabinet");
    let bodies = files_with_ext(&fhir_out, "json");
    assert_eq!(bodies.len(), 1);
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&bodies[0]).expect("read")).expect("json");
    let types: Vec<&str> = bundle["entry"].as_array().expect("entries").iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
    assert_eq!(types, ["Patient", "DocumentReference"]);
    let out = std::process::Command::new(verify.join(".venv/bin/python"))
        .arg(verify.join("validate_fhir.py"))
        .args(["--type", "Bundle"])
        .arg(&bodies[0])
        .output()
        .expect("validator");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let found = gw
        .store
        .search(MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() })
        .await
        .expect("search");
    assert_eq!((found.len(), found[0].format.as_str()), (1, "cda"));

    // A generic document is also routed to an HL7 v2 destination, which a CDA cannot be rendered
    // for yet: refused with the destination named, kept, nothing delivered.
    let (status, _, outcome) = post_cda(&gw, std::fs::read(fixtures.join("ok/generic_ccda_like.xml")).expect("fixture")).await;
    assert_eq!(status, 422, "{outcome}");
    assert!(outcome.to_string().contains("destination ehr"), "{outcome}");

    // An XML attack is refused before anything is expanded, and kept for inspection.
    let (status, _, outcome) = post_cda(&gw, std::fs::read(fixtures.join("err/billion_laughs.xml")).expect("fixture")).await;
    assert_eq!(status, 400, "{outcome}");
    assert!(outcome.to_string().contains("doctype"), "{outcome}");
    let rejected = gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 2);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mdm_carrying_a_cda_is_delivered_as_a_document_and_two_identities_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fhir_out = tmp.path().join("fhir");
    let extra = format!(
        "[[destination]]\nname = \"cabinet\"\nkind = \"file\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"cabinet\"]\n",
        fhir_out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let fixtures = workspace_root().join("fixtures/hl7v2");
    let (code, _, ack) = client.send(&std::fs::read(fixtures.join("ok/fr_mdm_t02_cda.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA", "{}", String::from_utf8_lossy(&ack));
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    let bodies = files_with_ext(&fhir_out, "json");
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&bodies[0]).expect("read")).expect("json");
    let document =
        bundle["entry"].as_array().expect("entries").iter().find(|e| e["resource"]["resourceType"] == "DocumentReference").expect("DocumentReference");
    assert_eq!(document["resource"]["masterIdentifier"]["value"], "CRBIO-2026-0001", "the CDA's id, not the HL7 message's");
    let attached = document["resource"]["content"][0]["attachment"]["size"].as_u64().expect("size");
    let cda = std::fs::read(workspace_root().join("fixtures/cda/ok/fr_cr_bio_structured_ins.xml")).expect("cda");
    assert_eq!(attached, cda.len() as u64, "the attachment is the decoded CDA");

    let (code, _, ack) = client.send(&std::fs::read(fixtures.join("err/mdm_identity_mismatch.hl7")).expect("fixture")).await;
    let ack = String::from_utf8_lossy(&ack);
    assert_eq!(code, "AE", "{ack}");
    assert!(ack.contains("INS of PID-3 and of the CDA recordTarget differ"), "{ack}");
    assert_eq!(gw.store.list(passerelle_store::OutboxFilter { limit: 10, ..Default::default() }).await.expect("list").len(), 1, "nothing more to deliver");
    gw.shutdown().await;
}
