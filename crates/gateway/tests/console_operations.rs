//! The console's search by document type, the lineage of a document indented for reading, and
//! the dashboard's count of accepted messages no destination gets (no route matched), over the
//! last hour as over the day.

mod support;

use passerelle_store::OutboxStatus;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_found_by_its_type_and_an_unrouted_admission_is_counted() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"file\"\nrendering = \"mdm\"\ndir = \"{}\"\n[[route]]\nname = \"documents\"\nmatch = {{ event = [\"document\"] }}\nto = [\"ehr\"]\n",
        tmp.path().join("out").display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let fixtures = workspace_root().join("fixtures");
    let http = reqwest::Client::new();
    let document = std::fs::read(fixtures.join("cda/ok/fr_cr_bio_structured_ins.xml")).expect("fixture");
    let posted = http
        .post(format!("http://{}/cda", gw.address("http-in").expect("http")))
        .header("content-type", "application/hl7-cda+xml")
        .body(document)
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 201);
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    // An admission no route takes: accepted, journaled, and counted as going nowhere.
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&adt("NOWHERE-1", "P-NOWHERE", 0)).await;
    assert_eq!(code, "AA");

    let admin = gw.address("admin").expect("admin");
    let get = |path: String| {
        let http = http.clone();
        async move { http.get(format!("http://{admin}{path}")).send().await.expect("get").text().await.unwrap_or_default() }
    };
    let found: serde_json::Value = serde_json::from_str(&get("/api/messages?document_type=11502-2".into()).await).expect("json");
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["format"], "cda", "{found}");
    let other: serde_json::Value = serde_json::from_str(&get("/api/messages?document_type=11488-4".into()).await).expect("json");
    assert_eq!(other.as_array().map(Vec::len), Some(0), "{other}");
    let page = get("/messages?document_type=11502-2".into()).await;
    assert!(
        page.contains("name=\"document_type\" value=\"11502-2\"") && page.contains(&format!("/messages/{}", found[0]["id"])),
        "the console searches by it too"
    );

    let lineage = get(format!("/messages/{}", found[0]["id"])).await;
    assert!(lineage.contains("\n  &lt;id root="), "the document is indented under its root: {}", &lineage[..lineage.len().min(3000)]);
    let bad = get("/messages?since=yesterday".into()).await;
    assert!(bad.contains("id=\"error\"") && bad.contains("RFC 3339"), "a bad parameter is said, not ignored");

    let metrics = get("/metrics".into()).await;
    assert!(metrics.contains("passerelle_messages_filtered_total{listener=\"mllp-in\",reason=\"unrouted\"} 1"), "{metrics}");
    for window in ["hour", "day", "start"] {
        let dashboard = get(format!("/?window={window}")).await;
        let row = dashboard.split("<tr data-listener=\"mllp-in\">").nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_default().to_owned();
        let cells: Vec<&str> = row.split("<td class=\"n\">").skip(1).map(|c| c.split('<').next().unwrap_or_default()).collect();
        // Acknowledged, rejected, duplicates, no route, withheld, latency.
        assert_eq!(cells.get(..5), Some(&["1", "0", "0", "1", "0"][..]), "{window}: {row}");
        assert!(dashboard.contains(&format!("data-window=\"{window}\"")), "{window}");
    }
    gw.shutdown().await;
}

/// Found while extending the dashboard: its destination table looked for outcomes `retry` and
/// `dead`, but the counter's labels are `retried` and `dead_lettered`, so it always said 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_counted_no_retries_nor_dead_letters() {
    passerelle_gateway::delivery::install_tls_provider();
    let port = passerelle_testkit::free_port();
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"down\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/in\"\nformat = \"hl7v2\"\nmax_attempts = 2\nbackoff_ms = 50\nmax_backoff_ms = 100\ntimeout_ms = 500\n\
         [[route]]\nname = \"all\"\nto = [\"down\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&adt("DOWN-1", "P-DOWN", 0)).await;
    assert_eq!(code, "AA");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Dead, 1, Duration::from_secs(10)).await;
    let admin = gw.address("admin").expect("admin");
    let dashboard = reqwest::get(format!("http://{admin}/")).await.expect("dashboard").text().await.unwrap_or_default();
    let row = dashboard.split("<tr data-destination=\"down\">").nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_default().to_owned();
    let cells: Vec<&str> = row.split("<td class=\"n\">").skip(1).map(|c| c.split('<').next().unwrap_or_default()).collect();
    // Retried, dead letters, queued, oldest queued.
    assert_eq!(cells.get(..3), Some(&["1", "1", "0"][..]), "{row}");
    gw.shutdown().await;
}
