//! Pausing a destination from the admin port: its worker claims nothing while paused (messages
//! are acknowledged and wait in the outbox, in order), the dashboard says so, the gauge is 1;
//! resumed, everything that waited is delivered. The action is audited; an unknown destination
//! answers 404.

mod support;

use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_destination_holds_its_messages_until_resumed() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let extra = format!(
        "[[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{}\"\nformat = \"hl7v2\"\n[[route]]\nname = \"all\"\nto = [\"files\"]\n",
        out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::new();
    let post = |path: &str| http.post(format!("http://{admin}{path}")).send();
    let paused = post("/api/destinations/files/pause").await.expect("pause");
    assert_eq!(paused.status().as_u16(), 200);
    assert_eq!(post("/api/destinations/nowhere/pause").await.expect("pause").status().as_u16(), 404);
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    for seq in 0..3 {
        let (code, _, _) = client.send(&adt(&format!("PAUSE-{seq}"), "P-PAUSE", seq)).await;
        assert_eq!(code, "AA");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let delivered = || std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    assert_eq!(delivered(), 0, "nothing leaves a paused destination");
    let dashboard = http.get(format!("http://{admin}/")).send().await.expect("dashboard").text().await.unwrap_or_default();
    assert!(dashboard.contains("state\">Paused</span>") && dashboard.contains("/console/destinations/files/resume"), "the dashboard shows it");
    let metrics = http.get(format!("http://{admin}/metrics")).send().await.expect("metrics").text().await.unwrap_or_default();
    assert!(metrics.contains("passerelle_destination_paused{destination=\"files\"} 1"), "{metrics}");
    let listed: serde_json::Value = http.get(format!("http://{admin}/api/destinations")).send().await.expect("list").json().await.expect("json");
    assert_eq!(listed[0]["paused"], true, "{listed}");
    assert_eq!(listed[0]["queued"], 3, "{listed}");

    assert_eq!(post("/api/destinations/files/resume").await.expect("resume").status().as_u16(), 200);
    wait_until(Duration::from_secs(10), || delivered() == 3).await;
    let audit = http.get(format!("http://{admin}/api/audit?since=2020-01-01T00:00:00Z")).send().await.expect("audit").text().await.unwrap_or_default();
    assert!(audit.contains("pause destination") && audit.contains("resume destination"), "{audit}");
    gw.shutdown().await;
}
