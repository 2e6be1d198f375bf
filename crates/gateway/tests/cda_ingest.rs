//! CDA in over HTTP: a document is journaled, routed and rendered for each destination (FHIR
//! bundle, MDM, MHD), with 201 and the journal's Location; consent withholds it from the DMP;
//! what cannot be read is refused and kept.

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

fn validator(verify: &std::path::Path, tool: &str, args: &[&str], file: &std::path::Path) {
    let out = std::process::Command::new(verify.join(".venv/bin/python")).arg(verify.join(tool)).args(args).arg(file).output().expect("validator");
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_cda_reaches_the_city_as_a_fhir_bundle_the_hospital_as_mdm_and_not_the_dmp_of_a_patient_who_opposed() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let out = |d: &str| tmp.path().join(d);
    let extra = format!(
        "[[destination]]\nname = \"cabinet\"\nkind = \"file\"\nclass = \"city\"\nrendering = \"fhir-bundle\"\nfhir_base = \"https://cabinet.example.org/fhir\"\ndir = \"{}\"\n\
         [[destination]]\nname = \"ehr\"\nkind = \"file\"\nclass = \"hospital\"\nrendering = \"mdm\"\ndir = \"{}\"\n\
         [[destination]]\nname = \"dmp\"\nkind = \"file\"\nclass = \"dmp\"\nrendering = \"mhd\"\ndir = \"{}\"\n\
         [[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"cabinet\", \"ehr\", \"dmp\"]\n",
        out("fhir").display(),
        out("hl7").display(),
        out("dmp").display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let fixtures = workspace_root().join("fixtures");
    // The patient's admission said ZFA-9 IO (opposed to feeding the DMP).
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&std::fs::read(fixtures.join("hl7v2/ok/fr_a01_dmp_opposition.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA");

    let (status, location, outcome) = post_cda(&gw, std::fs::read(fixtures.join("cda/ok/fr_cr_bio_structured_ins.xml")).expect("fixture")).await;
    assert_eq!(status, 201, "{outcome}");
    let location = location.expect("Location header");
    assert!(location.starts_with("/api/messages/"), "{location}");
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 2, Duration::from_secs(10)).await;
    let mut names: Vec<&str> = delivered.iter().map(|d| d.destination.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["cabinet", "ehr"], "withheld from the dmp, delivered to the others");
    assert!(files_with_ext(&out("dmp"), "json").is_empty());

    let bodies = files_with_ext(&out("fhir"), "json");
    assert_eq!(bodies.len(), 1);
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&bodies[0]).expect("read")).expect("json");
    let types: Vec<&str> = bundle["entry"].as_array().expect("entries").iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
    assert_eq!(types, ["Patient", "DocumentReference", "Binary"]);
    let attachment = &bundle["entry"][1]["resource"]["content"][0]["attachment"];
    assert_eq!(attachment["url"], bundle["entry"][2]["fullUrl"], "the attachment names the Binary");
    validator(&verify, "validate_fhir.py", &["--type", "Bundle"], &bodies[0]);

    let mdm = files_with_ext(&out("hl7"), "hl7");
    assert_eq!(mdm.len(), 1);
    let text = std::fs::read(&mdm[0]).expect("read");
    assert!(text.windows(16).any(|w| w == b"|MDM^T02^MDM_T02"), "{}", String::from_utf8_lossy(&text[..200]));
    validator(&verify, "validate_hl7v2.py", &["--strict", "--version", "2.6"], &mdm[0]);

    let found = gw
        .store
        .search(MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() })
        .await
        .expect("search");
    let cda = found.iter().find(|m| m.format == "cda").expect("the cda is journaled");
    assert_eq!(cda.withheld.as_deref(), Some("consent: ZFA-9 IO"));

    // An XML attack is refused before anything is expanded, and kept for inspection.
    let (status, _, outcome) = post_cda(&gw, std::fs::read(fixtures.join("cda/err/billion_laughs.xml")).expect("fixture")).await;
    assert_eq!(status, 400, "{outcome}");
    assert!(outcome.to_string().contains("doctype"), "{outcome}");
    let rejected = gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 1);
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

/// Real peers: a CDA posted to the gateway reaches an MLLP EHR as MDM^T02 (acknowledged AA by the
/// peer, so MSA-2 matched the MSH-10 we wrote) and an HTTP FHIR server as an ITI-65 bundle whose
/// Binary lives under the server's base.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_cda_is_delivered_as_mdm_over_mllp_and_as_an_mhd_bundle_over_http() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let (http_port, mllp_port) = (free_port(), free_port());
    let (http_out, mllp_out) = (tmp.path().join("http"), tmp.path().join("mllp"));
    let _http = start_peer(&verify, "http_sink.py", &["listen", &http_port.to_string(), http_out.to_str().expect("p")]);
    let _mllp = start_peer(&verify, "mllp_peer.py", &["listen", &mllp_port.to_string(), mllp_out.to_str().expect("p")]);
    wait_for_port(http_port).await;
    wait_for_port(mllp_port).await;
    let extra = format!(
        "[[destination]]\nname = \"pdsm\"\nkind = \"fhir_http\"\nclass = \"city\"\nrendering = \"mhd\"\nurl = \"http://127.0.0.1:{http_port}/fhir\"\ntimeout_ms = 5000\n\
         [[destination]]\nname = \"dpi\"\nkind = \"mllp\"\nclass = \"hospital\"\nrendering = \"mdm\"\naddress = \"127.0.0.1:{mllp_port}\"\ntimeout_ms = 5000\n\
         [[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"pdsm\", \"dpi\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let cda = std::fs::read(workspace_root().join("fixtures/cda/ok/fr_level1_pdf_replacement.xml")).expect("fixture");
    let (status, _, outcome) = post_cda(&gw, cda).await;
    assert_eq!(status, 201, "{outcome}");
    let delivered = wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 2, Duration::from_secs(20)).await;
    assert_eq!(delivered.len(), 2);
    let aa: Vec<_> =
        std::fs::read_dir(&mllp_out).expect("out").flatten().filter(|e| e.file_name().to_string_lossy().contains("_AA_")).map(|e| e.path()).collect();
    assert_eq!(aa.len(), 1, "the EHR acknowledged one MDM");
    let mdm = std::fs::read(&aa[0]).expect("read");
    assert!(mdm.windows(16).any(|w| w == b"|MDM^T10^MDM_T02"), "a replacement is a T10");
    validator(&verify, "validate_hl7v2.py", &["--strict", "--version", "2.6"], &aa[0]);
    let bodies = files_with_ext(&http_out, "json");
    assert_eq!(bodies.len(), 1);
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&bodies[0]).expect("read")).expect("json");
    assert_eq!(bundle["meta"]["profile"][0], passerelle_fhir::document_bundle::MHD_PROVIDE_BUNDLE);
    let url = bundle["entry"][1]["resource"]["content"][0]["attachment"]["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("http://127.0.0.1:{http_port}/fhir/Binary/")), "{url}");
    validator(&verify, "validate_fhir.py", &["--type", "Bundle"], &bodies[0]);
    gw.shutdown().await;
}
