//! FHIR in over HTTP: the same pipeline as HL7 v2 with the format as a parameter, and a reply
//! (status + OperationOutcome) built from the same verdict.

mod support;

use passerelle_store::{MessageQuery, MessageStatus, OutboxStatus};
use std::time::Duration;
use support::*;

async fn post_fhir(gw: &passerelle_gateway::RunningGateway, body: Vec<u8>) -> (u16, serde_json::Value) {
    passerelle_gateway::delivery::install_tls_provider();
    let url = format!("http://{}/fhir", gw.address("http-in").expect("http"));
    let response = reqwest::Client::new().post(url).header("content-type", "application/fhir+json").body(body).send().await.expect("post");
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.expect("body")).expect("operation outcome json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fhir_patient_is_journaled_routed_and_rendered_like_any_message() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (fhir_out, hl7_out) = (tmp.path().join("fhir"), tmp.path().join("hl7"));
    let extra = format!(
        "[[destination]]\nname = \"cabinet\"\nkind = \"file\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[destination]]\nname = \"ehr\"\nkind = \"file\"\nformat = \"hl7v2\"\ndir = \"{}\"\n\
         [[route]]\nname = \"fhir-to-cabinet\"\nmatch = {{ format = \"fhir\" }}\nto = [\"cabinet\"]\n\
         [[route]]\nname = \"be-to-ehr\"\nmatch = {{ format = \"fhir\", national_id = \"be-niss\" }}\nto = [\"ehr\"]\n",
        fhir_out.display(),
        hl7_out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");

    // A French patient (FR Core bundle, qualified INS) goes to the FHIR destination: 201.
    let (status, outcome) = post_fhir(&gw, std::fs::read(fixtures.join("fr_a01_ins_qualified_utf8.fhir.json")).expect("fixture")).await;
    assert_eq!(status, 201, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    let found = gw
        .store
        .search(MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() })
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].format, "fhir");

    // A Belgian patient is also routed to an HL7 v2 destination, which cannot be rendered from
    // FHIR yet: 422, the OperationOutcome names the destination, nothing is delivered, it is kept.
    let (status, outcome) = post_fhir(&gw, std::fs::read(fixtures.join("be_a28_niss.fhir.json")).expect("fixture")).await;
    assert_eq!(status, 422, "{outcome}");
    assert!(outcome.to_string().contains("destination ehr"), "{outcome}");
    let rejected = gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 1);

    // Not FHIR at all: 400 with an OperationOutcome, kept as rejected.
    let (status, outcome) = post_fhir(&gw, b"MSH|^~\\&|not json".to_vec()).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(outcome["issue"][0]["severity"], "error");
    assert_eq!(gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search").len(), 2);
    gw.shutdown().await;
}
