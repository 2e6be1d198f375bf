//! Consent-aware routing: a document never reaches a `class = "dmp"` destination when the
//! patient's latest known ZFA-9 is IO or the sender says DESTDMP = N; it is journaled as
//! `withheld` with the rule named, and still delivered to the other destinations.

mod support;

use passerelle_store::{MessageQuery, MessageStatus, OutboxStatus};
use std::time::Duration;
use support::*;

fn destinations(dir: &std::path::Path) -> String {
    format!(
        "[[destination]]\nname = \"dmp\"\nkind = \"file\"\nclass = \"dmp\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[destination]]\nname = \"cabinet\"\nkind = \"file\"\nclass = \"city\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"dmp\", \"cabinet\"]\n",
        dir.join("dmp").display(),
        dir.join("cabinet").display()
    )
}

async fn withheld(gw: &passerelle_gateway::RunningGateway) -> Vec<(String, Option<String>)> {
    let rows = gw.store.search(MessageQuery { status: Some(MessageStatus::Withheld), ..Default::default() }).await.expect("search");
    rows.into_iter().map(|m| (m.format, m.withheld)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_for_a_patient_who_opposed_earlier_is_withheld_from_the_dmp_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &destinations(tmp.path()))).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let fixtures = workspace_root().join("fixtures");
    // The admission says the patient was informed and opposed to feeding the DMP (ZFA-9 IO).
    let (code, _, _) = client.send(&std::fs::read(fixtures.join("hl7v2/ok/fr_a01_dmp_opposition.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA");
    // Later, a document for the same patient arrives without any ZFA: the latest known choice holds.
    let (code, _, ack) = client.send(&std::fs::read(fixtures.join("hl7v2/ok/fr_mdm_t02_cda.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA", "withheld is not an error: {}", String::from_utf8_lossy(&ack));
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    assert_eq!(delivered.iter().map(|r| r.destination.as_str()).collect::<Vec<_>>(), ["cabinet"]);
    assert!(files_with_ext(&tmp.path().join("dmp"), "json").is_empty(), "nothing reached the DMP");
    assert_eq!(withheld(&gw).await, [("hl7v2".to_owned(), Some("consent: ZFA-9 IO".to_owned()))]);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_the_sender_marks_destdmp_n_is_withheld_from_the_dmp() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &destinations(tmp.path()))).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let mdm = std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_mdm_t02_cda.hl7")).expect("fixture");
    let mdm = String::from_utf8(mdm).expect("utf8").replace("DESTDMP^Destinataire DMP^MetaDMPMSS||Y", "DESTDMP^Destinataire DMP^MetaDMPMSS||N");
    let (code, _, _) = client.send(mdm.as_bytes()).await;
    assert_eq!(code, "AA");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    assert_eq!(withheld(&gw).await, [("hl7v2".to_owned(), Some("consent: DESTDMP N".to_owned()))]);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_with_no_rule_against_it_reaches_the_dmp() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &destinations(tmp.path()))).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_mdm_t02_cda.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA");
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 2, Duration::from_secs(10)).await;
    let mut names: Vec<&str> = delivered.iter().map(|r| r.destination.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["cabinet", "dmp"]);
    assert!(withheld(&gw).await.is_empty());
    gw.shutdown().await;
}
