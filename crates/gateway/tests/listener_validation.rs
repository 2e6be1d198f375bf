//! Validation inside the gateway: `validate = "reject"` answers AE naming the broken rule and
//! keeps the message as rejected; `validate = "warn"` acknowledges AA and journals the findings;
//! a conformant message passes both; `POST /validate` answers the JSON report of `passerelle
//! validate` and journals nothing; findings are counted per listener and rule.

mod support;

use passerelle_store::MessageQuery;
use support::*;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(workspace_root().join(path)).expect("fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_validate_as_configured_and_post_validate_reports() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let extra = "[[listener]]\nname = \"strict\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nvalidate = \"reject\"\n\
                 [[listener]]\nname = \"lenient\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nvalidate = \"warn\"\n";
    let gw = passerelle_gateway::start(config(&dir.path().join("j.db"), extra)).await.expect("start");
    let broken = fixture("fixtures/validate/err/pamfr.zbe.required.hl7");
    let conformant = fixture("fixtures/validate/ok/fr_a01_admission.hl7");

    let mut strict = MllpClient::connect(gw.address("strict").expect("strict")).await;
    let (code, _, ack) = strict.send(&broken).await;
    assert_eq!(code, "AE");
    let ack = String::from_utf8_lossy(&ack).into_owned();
    assert!(ack.contains("pamfr.zbe.required"), "{ack}");
    let conformant_copy = String::from_utf8(conformant.clone()).expect("utf8").replace("FR-A01-0001", "FR-A01-0002");
    assert_eq!(strict.send(conformant_copy.as_bytes()).await.0, "AA", "a conformant message passes");

    let mut lenient = MllpClient::connect(gw.address("lenient").expect("lenient")).await;
    let lenient_copy = String::from_utf8(broken.clone()).expect("utf8").replace("FR-A01-0001", "FR-A01-0003");
    assert_eq!(lenient.send(lenient_copy.as_bytes()).await.0, "AA", "warn does not refuse");
    let journaled = gw.store.search(MessageQuery { control_id: Some("FR-A01-0003".into()), ..Default::default() }).await.expect("search");
    assert_eq!(journaled.len(), 1);
    assert!(journaled[0].diagnostics.contains("pamfr.zbe.required"), "{}", journaled[0].diagnostics);

    let before = gw.store.search(MessageQuery { limit: 1000, ..Default::default() }).await.expect("search").len();
    let url = format!("http://{}/validate", gw.address("http-in").expect("http"));
    let response = reqwest::Client::new().post(&url).header("content-type", "application/hl7-v2").body(broken).send().await.expect("post");
    assert_eq!(response.status().as_u16(), 200);
    let report: serde_json::Value = response.json().await.expect("json");
    assert_eq!(report["files"][0]["status"], "fail");
    assert!(report["files"][0]["findings"].as_array().expect("findings").iter().any(|f| f["rule"] == "pamfr.zbe.required"), "{report}");
    assert_eq!(report["packs"][1]["name"], "pam-fr");
    let after = gw.store.search(MessageQuery { limit: 1000, ..Default::default() }).await.expect("search").len();
    assert_eq!(before, after, "POST /validate journals nothing");

    let metrics = reqwest::get(format!("http://{}/metrics", gw.address("admin").expect("admin"))).await.expect("metrics").text().await.expect("text");
    for listener in ["strict", "lenient"] {
        let line = format!("passerelle_validation_findings_total{{listener=\"{listener}\",rule=\"pamfr.zbe.required\"}} 1");
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
    gw.shutdown().await;
}
