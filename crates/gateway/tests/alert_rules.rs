//! The built-in alert rules fire and clear: with a paused destination its queue passes
//! `queue_depth` and its oldest message `oldest_queued_secs`; a listener that receives nothing
//! passes `listener_silent_secs`; each shows in GET /api/alerts, on the dashboard and as
//! passerelle_alert_firing; resumed, the queue alerts clear.

mod support;

use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_and_silence_alerts_fire_then_clear() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let extra = format!(
        "[alerts]\nqueue_depth = 2\noldest_queued_secs = 1\nlistener_silent_secs = 1\nevery_secs = 1\n\
         [[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{}\"\nformat = \"hl7v2\"\n[[route]]\nname = \"all\"\nto = [\"files\"]\n",
        out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::new();
    assert_eq!(http.post(format!("http://{admin}/api/destinations/files/pause")).send().await.expect("pause").status().as_u16(), 200);
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    for seq in 0..3 {
        let (code, _, _) = client.send(&adt(&format!("ALERT-{seq}"), "P-ALERT", seq)).await;
        assert_eq!(code, "AA");
    }
    let firing = |http: reqwest::Client| async move {
        let report: serde_json::Value = http.get(format!("http://{admin}/api/alerts")).send().await.expect("alerts").json().await.expect("json");
        report["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| format!("{}:{}", a["alert"].as_str().unwrap_or(""), a["subject"].as_str().unwrap_or("")))
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen = firing(http.clone()).await;
        if ["queue-depth:files", "oldest-queued:files", "listener-silent:http-in"].iter().all(|a| seen.iter().any(|s| s == a)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for expected in ["queue-depth:files", "oldest-queued:files", "listener-silent:http-in"] {
        assert!(seen.iter().any(|s| s == expected), "{expected} in {seen:?}");
    }
    let metrics = http.get(format!("http://{admin}/metrics")).send().await.expect("metrics").text().await.unwrap_or_default();
    assert!(metrics.contains("passerelle_alert_firing{alert=\"queue-depth\",subject=\"files\"} 1"), "{metrics}");
    let dashboard = http.get(format!("http://{admin}/")).send().await.expect("dashboard").text().await.unwrap_or_default();
    assert!(dashboard.contains("data-alert=\"queue-depth\""), "the dashboard lists it");

    assert_eq!(http.post(format!("http://{admin}/api/destinations/files/resume")).send().await.expect("resume").status().as_u16(), 200);
    let mut cleared = false;
    for _ in 0..50 {
        let now = firing(http.clone()).await;
        if !now.iter().any(|s| s.starts_with("queue-depth") || s.starts_with("oldest-queued")) {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(cleared, "the queue alerts clear once delivered");
    gw.shutdown().await;
}
