//! Results, appointments and vaccinations end to end: ORU, SIU and VXU over MLLP are acknowledged
//! AA, routed on what they carry (`resource_type`), and reach two independent FHIR sinks as
//! transaction Bundles the R4 validator accepts, each with the resources its route asked for.

mod support;

use passerelle_store::OutboxStatus;
use std::process::Command;
use std::time::Duration;
use support::*;

fn resource_types(body: &[u8]) -> Vec<String> {
    let bundle: serde_json::Value = serde_json::from_slice(body).expect("json");
    bundle["entry"].as_array().into_iter().flatten().filter_map(|e| e["resource"]["resourceType"].as_str().map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_go_to_the_lab_system_and_appointments_and_vaccinations_to_city_software() {
    let Some(verify) = verify_dir() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let (lis_port, city_port) = (free_port(), free_port());
    let (lis_out, city_out) = (tmp.path().join("lis"), tmp.path().join("city"));
    let _lis = start_peer(&verify, "http_sink.py", &["listen", &lis_port.to_string(), lis_out.to_str().expect("p")]);
    let _city = start_peer(&verify, "http_sink.py", &["listen", &city_port.to_string(), city_out.to_str().expect("p")]);
    wait_for_port(lis_port).await;
    wait_for_port(city_port).await;
    let destinations = format!(
        "[[destination]]\nname = \"lis\"\nkind = \"fhir_http\"\nurl = \"http://127.0.0.1:{lis_port}/fhir\"\nbackoff_ms = 20\n\
         [[destination]]\nname = \"city\"\nkind = \"fhir_http\"\nurl = \"http://127.0.0.1:{city_port}/fhir\"\nbackoff_ms = 20\n\
         [[route]]\nname = \"results\"\nmatch = {{ resource_type = [\"Observation\"] }}\nto = [\"lis\"]\n\
         [[route]]\nname = \"city\"\nmatch = {{ resource_type = [\"Appointment\", \"Immunization\"], format = \"hl7v2\" }}\nto = [\"city\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &destinations)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");
    let cases = ["fr_oru_r01_lab_results.hl7", "oru_r01_telemonitoring.hl7", "fr_siu_s12_booking.hl7", "vxu_v04_vaccination.hl7", "fr_a03_discharge.hl7"];
    for f in cases {
        let (code, _, _) = client.send(&std::fs::read(fixtures.join(f)).expect("fixture")).await;
        assert_eq!(code, "AA", "{f}");
    }
    // Results posted as FHIR (a transaction of Patient, Observations, DiagnosticReport) route the same way.
    passerelle_gateway::delivery::install_tls_provider();
    let url = format!("http://{}/fhir", gw.address("http-in").expect("http"));
    let bundle = std::fs::read(fixtures.join("fr_oru_r01_lab_results.fhir.json")).expect("fixture");
    let r = reqwest::Client::new().post(url).header("content-type", "application/fhir+json").body(bundle).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());
    // Three results to the lab system, the appointment and the vaccination to city software; the
    // discharge matches no route.
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 5, Duration::from_secs(30)).await;
    let lis: Vec<_> = files_with_ext(&lis_out, "json");
    let city: Vec<_> = files_with_ext(&city_out, "json");
    assert_eq!((lis.len(), city.len()), (3, 2));
    for body in &lis {
        let types = resource_types(&std::fs::read(body).expect("read"));
        assert!(types.contains(&"DiagnosticReport".to_owned()) && types.iter().filter(|t| *t == "Observation").count() >= 6, "{types:?}");
    }
    let mut city_types: Vec<String> = city.iter().flat_map(|b| resource_types(&std::fs::read(b).expect("read"))).collect();
    city_types.retain(|t| t == "Appointment" || t == "Immunization");
    city_types.sort();
    assert_eq!(city_types, ["Appointment", "Immunization", "Immunization"]);
    // The lab values keep the precision they were reported with.
    let labs: Vec<String> = lis.iter().map(|b| std::fs::read_to_string(b).expect("read")).filter(|b| b.contains("718-7")).collect();
    assert_eq!(labs.len(), 2, "from HL7 v2 and from FHIR");
    assert!(labs.iter().all(|lab| lab.contains(r#""value":13.50"#)), "decimal precision kept both ways");
    let python = verify.join(".venv/bin/python");
    let out = Command::new(python).arg(verify.join("validate_fhir.py")).arg("--type").arg("Bundle").args(&lis).args(&city).output().expect("validator");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    gw.shutdown().await;
}
