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

    // A French patient (FR Core transaction Bundle, qualified INS) goes to the FHIR destination:
    // a transaction-response Bundle, one entry per entry, the Patient at its stable identity.
    let (status, response) = post_fhir(&gw, std::fs::read(fixtures.join("fr_a01_ins_qualified_utf8.fhir.json")).expect("fixture")).await;
    assert_eq!(status, 200, "{response}");
    assert_eq!((response["resourceType"].as_str(), response["type"].as_str()), (Some("Bundle"), Some("transaction-response")), "{response}");
    assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
    assert!(response["entry"][0]["response"]["location"].as_str().is_some_and(|l| l.starts_with("Patient/")), "{response}");
    assert_eq!(response["entry"].as_array().map(Vec::len), Some(2), "Patient and Encounter");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    let found = gw
        .store
        .search(MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() })
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].format, "fhir");

    // A Belgian patient is also routed to an HL7 v2 destination: a person seen for the first
    // time is an ADT^A28, both delivered.
    let (status, outcome) = post_fhir(&gw, std::fs::read(fixtures.join("be_a28_niss.fhir.json")).expect("fixture")).await;
    assert_eq!(status, 200, "{outcome}");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 3, Duration::from_secs(10)).await;
    let adt = files_with_ext(&hl7_out, "hl7");
    assert_eq!(adt.len(), 1);
    let text = String::from_utf8(std::fs::read(&adt[0]).expect("read")).expect("utf8");
    assert!(text.contains("|ADT^A28^ADT_A05|") && text.contains("85073003328^^^"), "{text}");

    // Not FHIR at all: 400 with an OperationOutcome, kept as rejected.
    let (status, outcome) = post_fhir(&gw, b"MSH|^~\\&|not json".to_vec()).await;
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(outcome["issue"][0]["severity"], "error");
    assert_eq!(gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search").len(), 1);
    // Strict JSON: every fixtures/fhir/err case is refused with the FHIRPath of its fault, and kept.
    let err_dir = workspace_root().join("fixtures/fhir/err");
    let cases = files_with_ext(&err_dir, "json");
    for case in &cases {
        let expected = std::fs::read_to_string(case.with_extension("diagnostics")).expect("diagnostics");
        let path = expected.lines().nth(1).and_then(|l| l.strip_prefix("error[not-fhir] ")).and_then(|l| l.split(':').next());
        let (status, outcome) = post_fhir(&gw, std::fs::read(case).expect("case")).await;
        assert_eq!(status, 400, "{}: {outcome}", case.display());
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        if let Some(path) = path {
            assert_eq!(outcome["issue"][0]["expression"][0], path, "{}: {outcome}", case.display());
        }
    }
    let rejected = gw.store.search(MessageQuery { status: Some(MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 1 + cases.len(), "every refused body is kept");
    gw.shutdown().await;
}

/// City software posts FHIR; the hospital EHR (the independent MLLP peer) receives PAM-FR ADT:
/// A28 for a person Passerelle has not seen, A01 for an admission (Encounter in progress), A31
/// for a known person, never A08, valid under `--strict`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhir_posted_by_city_software_reaches_a_hospital_mllp_peer_as_pam_fr_adt() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let mllp_port = free_port();
    let mllp_out = tmp.path().join("mllp");
    let _mllp = start_peer(&verify, "mllp_peer.py", &["listen", &mllp_port.to_string(), mllp_out.to_str().expect("p")]);
    wait_for_port(mllp_port).await;
    let extra = format!(
        "[[destination]]\nname = \"dpi\"\nkind = \"mllp\"\nclass = \"hospital\"\naddress = \"127.0.0.1:{mllp_port}\"\ntimeout_ms = 5000\n\
         [[route]]\nname = \"city-to-dpi\"\nmatch = {{ format = \"fhir\" }}\nto = [\"dpi\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let bundle = std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.fhir.json")).expect("fixture");
    let patient: serde_json::Value = serde_json::from_slice(&bundle).expect("json");
    let created = serde_json::to_vec(&patient["entry"][0]["resource"]).expect("patient");
    let mut again = patient["entry"][0]["resource"].clone();
    again["active"] = serde_json::Value::Bool(true);
    let again = serde_json::to_vec(&again).expect("patient");
    for (body, expected) in [(created, 201), (bundle, 200), (again, 201)] {
        let (status, outcome) = post_fhir(&gw, body).await;
        assert_eq!(status, expected, "a Patient is created (201), a transaction answered (200): {outcome}");
    }
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 3, Duration::from_secs(20)).await;
    let mut received: Vec<_> =
        std::fs::read_dir(&mllp_out).expect("out").flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains("_AA_")).collect();
    received.sort();
    assert_eq!(received.len(), 3, "the peer acknowledged each (MSA-2 matched our MSH-10)");
    let texts: Vec<String> = received.iter().map(|p| String::from_utf8(std::fs::read(p).expect("read")).expect("utf8")).collect();
    assert!(texts[0].contains("|ADT^A28^ADT_A05|"), "a new person is A28: {}", texts[0]);
    assert!(texts[1].contains("|ADT^A01^ADT_A01|"), "an in-progress inpatient Encounter is A01: {}", texts[1]);
    assert!(texts[2].contains("|ADT^A31^ADT_A05|"), "the same person again is A31: {}", texts[2]);
    for (text, path) in texts.iter().zip(&received) {
        assert!(text.contains("279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"), "{text}");
        assert!(!text.contains("ADT^A08"));
        let out = std::process::Command::new(verify.join(".venv/bin/python"))
            .arg(verify.join("validate_hl7v2.py"))
            .arg("--strict")
            .arg(path)
            .output()
            .expect("validator");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    gw.shutdown().await;
}

async fn post_patient(client: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, Option<String>) {
    let response = client.post(url).header("content-type", "application/fhir+json").body(body).send().await.expect("post");
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (response.status().as_u16(), location)
}

/// The race FHIR servers lose (HAPI FHIR 3141/4597, Microsoft fhir-server 1382): twenty clients
/// post the same new patient at once; Passerelle finds one identity, so every answer has the
/// same `Location: /fhir/Patient/<id>`; a patient whose identifiers belong to two identities is
/// refused, never merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_posts_of_one_new_patient_make_one_identity() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let url = format!("http://{}/fhir", gw.address("http-in").expect("http"));
    let client = reqwest::Client::new();
    let patient = |ipp: &str, extra: &str| {
        format!(
            r#"{{"resourceType":"Patient","identifier":[{{"system":"urn:oid:1.2.250.1.999.1.1","value":"{ipp}","type":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PI"}}]}}}}{extra}],"name":[{{"family":"RACE","given":["UN"]}}],"gender":"male","birthDate":"1980-01-02"}}"#
        )
        .into_bytes()
    };
    let posts = (0..20).map(|i| {
        let (client, url, body) =
            (client.clone(), url.clone(), patient("IPP-RACE-1", &format!(r#",{{"system":"urn:oid:1.2.250.1.999.9","value":"post-{i}"}}"#)));
        tokio::spawn(async move { post_patient(&client, &url, body).await })
    });
    let mut locations = Vec::new();
    for p in posts.collect::<Vec<_>>() {
        let (status, location) = p.await.expect("join");
        assert_eq!(status, 201);
        locations.push(location.expect("Location"));
    }
    assert!(locations[0].starts_with("/fhir/Patient/"), "{}", locations[0]);
    assert!(locations.iter().all(|l| *l == locations[0]), "one identity: {locations:?}");
    let (status, other) = post_patient(&client, &url, patient("IPP-RACE-2", "")).await;
    assert_eq!(status, 201);
    assert_ne!(other.as_deref(), Some(locations[0].as_str()), "another person, another identity");
    let both = patient("IPP-RACE-1", r#",{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP-RACE-2"}"#);
    let (status, _) = post_patient(&client, &url, both).await;
    assert_eq!(status, 422, "identifiers of two identities are refused");
    gw.shutdown().await;
}

/// The resource endpoints: `POST /fhir/Patient` takes a Patient only; `PUT /fhir/Patient?identifier=`
/// answers 201 for a new person and 200 for a known one, at the same Location, and refuses a body
/// that does not carry the condition's identifier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_endpoints_create_then_update_one_identity() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let base = format!("http://{}/fhir/Patient", gw.address("http-in").expect("http"));
    let client = reqwest::Client::new();
    let patient = |given: &str| {
        format!(
            r#"{{"resourceType":"Patient","identifier":[{{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP-PUT-1"}}],"name":[{{"family":"PUT","given":["{given}"]}}]}}"#
        )
    };
    let put = |body: String, query: &str| {
        let (client, url) = (client.clone(), format!("{base}?identifier={query}"));
        async move {
            let r = client.put(url).header("content-type", "application/fhir+json").body(body).send().await.expect("put");
            (r.status().as_u16(), r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned))
        }
    };
    let (created, at) = put(patient("ANNE"), "urn:oid:1.2.250.1.999.1.1|IPP-PUT-1").await;
    let (updated, again) = put(patient("ANNE-MARIE"), "urn:oid:1.2.250.1.999.1.1|IPP-PUT-1").await;
    assert_eq!((created, updated), (201, 200));
    assert_eq!(at, again, "one identity, one Location");
    let (wrong, _) = put(patient("X"), "urn:oid:1.2.250.1.999.1.1|SOMEONE-ELSE").await;
    assert_eq!(wrong, 400, "the body must carry the condition's identifier");
    let bundle = std::fs::read(workspace_root().join("fixtures/hl7v2/ok/be_a28_niss.fhir.json")).expect("fixture");
    let r = client.post(&base).header("content-type", "application/fhir+json").body(bundle).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 400, "POST /fhir/Patient takes a Patient, not a Bundle");
    let r =
        client.post(&base).header("content-type", "application/fhir+json").body(patient("BOB").replace("IPP-PUT-1", "IPP-POST-1")).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    gw.shutdown().await;
}

/// A gateway whose one destination writes HL7 v2 files into `<tmp>/hl7`, routed by `matches`.
async fn gateway_to_hl7v2_files(tmp: &std::path::Path, matches: &str) -> (passerelle_gateway::RunningGateway, std::path::PathBuf) {
    let hl7_out = tmp.join("hl7");
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"file\"\nformat = \"hl7v2\"\ndir = \"{}\"\n[[route]]\nname = \"r\"\nmatch = {{ {matches} }}\nto = [\"ehr\"]\n",
        hl7_out.display()
    );
    (passerelle_gateway::start(config(&tmp.join("j.db"), &extra)).await.expect("start"), hl7_out)
}

/// `POST /fhir/Encounter`: a visit of a patient Passerelle knows, named by the Location it answered
/// (`Patient/<identity>`) or by a conditional reference, reaches the hospital as ADT^A01 with that
/// patient's identifiers; a subject nobody posted is refused (422) at `Encounter.subject.reference`,
/// and no identity is created for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encounter_posted_alone_is_the_visit_of_a_known_patient() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let (gw, hl7_out) = gateway_to_hl7v2_files(tmp.path(), r#"resource_type = ["Encounter"]"#).await;
    let base = format!("http://{}/fhir", gw.address("http-in").expect("http"));
    let client = reqwest::Client::new();
    let post = |path: &str, body: String| {
        let (client, url) = (client.clone(), format!("{base}/{path}"));
        async move {
            let r = client.post(url).header("content-type", "application/fhir+json").body(body).send().await.expect("post");
            let (status, location) = (r.status().as_u16(), r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned));
            (status, location, r.json::<serde_json::Value>().await.expect("json"))
        }
    };
    let patient = r#"{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP-ENC-1"}],"name":[{"family":"VISITE","given":["ANNE"]}],"meta":{"lastUpdated":"2026-11-20T10:00:00+01:00"}}"#;
    let (status, location, _) = post("Patient", patient.into()).await;
    assert_eq!(status, 201);
    let identity = location.expect("Location").trim_start_matches("/fhir/").to_owned();
    let encounter = |subject: &str| {
        format!(
            r#"{{"resourceType":"Encounter","status":"in-progress","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}},"subject":{{"reference":"{subject}"}},"period":{{"start":"2026-11-20T10:30:00+01:00"}}}}"#
        )
    };
    for subject in [identity.as_str(), "Patient?identifier=urn:oid:1.2.250.1.999.1.1|IPP-ENC-1"] {
        let (status, location, outcome) = post("Encounter", encounter(subject)).await;
        assert_eq!(status, 201, "{subject}: {outcome}");
        assert!(location.is_some_and(|l| l.starts_with("/api/messages/")), "the visit event is located in the journal");
    }
    let (status, _, outcome) = post("Encounter", encounter("Patient?identifier=urn:oid:1.2.250.1.999.1.1|IPP-NOBODY")).await;
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(outcome["issue"][0]["expression"][0], "Encounter.subject.reference", "{outcome}");
    let (status, _, _) = post("Encounter", encounter("Patient/999999")).await;
    assert_eq!(status, 422, "an unknown identity id");
    assert!(gw.store.find_identities(vec![("urn:oid:1.2.250.1.999.1.1".into(), "IPP-NOBODY".into())]).await.expect("find").is_empty(), "no identity created");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 2, Duration::from_secs(10)).await;
    let adts = files_with_ext(&hl7_out, "hl7");
    assert_eq!(adts.len(), 2);
    for adt in adts {
        let text = String::from_utf8(std::fs::read(&adt).expect("read")).expect("utf8");
        assert!(text.contains("|ADT^A01^ADT_A01|") && text.contains("IPP-ENC-1^^^"), "{text}");
    }
    gw.shutdown().await;
}

/// A FHIR DocumentReference (its CDA inline) posted by city software reaches a hospital as an MDM
/// whose OBX carries the very CDA, read and checked against the Patient like an MDM's document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fhir_document_reaches_a_hospital_as_mdm_with_the_same_cda() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (gw, hl7_out) = gateway_to_hl7v2_files(tmp.path(), r#"event = ["document"], format = "fhir""#).await;
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");
    let (status, response) = post_fhir(&gw, std::fs::read(fixtures.join("fr_mdm_t02_cda.fhir.json")).expect("fixture")).await;
    assert_eq!(status, 200, "{response}");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    let mdm = files_with_ext(&hl7_out, "hl7");
    assert_eq!(mdm.len(), 1);
    let text = String::from_utf8(std::fs::read(&mdm[0]).expect("read")).expect("utf8");
    assert!(text.contains("|MDM^T02^MDM_T02|"), "{text}");
    let source = String::from_utf8(std::fs::read(fixtures.join("fr_mdm_t02_cda.hl7")).expect("fixture")).expect("utf8");
    let cda_b64 =
        |er7: &str| er7.split('\r').find(|s| s.starts_with("OBX|1|ED|")).and_then(|s| s.split('|').nth(5)).and_then(|f| f.split('^').nth(4)).map(str::to_owned);
    assert_eq!(cda_b64(&text), cda_b64(&source), "the same CDA, byte for byte");
    gw.shutdown().await;
}

/// Encounter status transitions: a visit in progress (A01), then finished (A03), then in progress
/// again is the cancellation of the discharge (A13), not a second admission; every ADT is strict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encounter_back_in_progress_after_its_discharge_is_an_a13() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (gw, hl7_out) = gateway_to_hl7v2_files(tmp.path(), r#"resource_type = ["Encounter"]"#).await;
    let fixture = std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.fhir.json")).expect("fixture");
    let base: serde_json::Value = serde_json::from_slice(&fixture).expect("json");
    let mut triggers = Vec::new();
    for (i, status) in ["in-progress", "finished", "in-progress"].into_iter().enumerate() {
        let mut bundle = base.clone();
        bundle["entry"][1]["resource"]["status"] = status.into();
        bundle["timestamp"] = format!("2026-11-20T10:0{i}:00+01:00").into();
        let (code, response) = post_fhir(&gw, serde_json::to_vec(&bundle).expect("json")).await;
        assert_eq!(code, 200, "{status}: {response}");
        wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, i + 1, Duration::from_secs(10)).await;
        let mut files = files_with_ext(&hl7_out, "hl7");
        files.sort_by_key(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
        let text = String::from_utf8(std::fs::read(files.last().expect("adt")).expect("read")).expect("utf8");
        triggers.push(text.split('|').nth(8).unwrap_or_default().to_owned());
    }
    assert_eq!(triggers, ["ADT^A01^ADT_A01", "ADT^A03^ADT_A03", "ADT^A13^ADT_A01"]);
    if let Some(verify) = verify_dir() {
        let out = std::process::Command::new(verify.join(".venv/bin/python"))
            .arg(verify.join("validate_hl7v2.py"))
            .arg("--strict")
            .args(files_with_ext(&hl7_out, "hl7"))
            .output()
            .expect("validator");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    gw.shutdown().await;
}
