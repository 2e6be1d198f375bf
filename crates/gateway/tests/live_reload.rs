//! Live reconfiguration through `POST /api/config/reload`: destinations added, changed and
//! removed while messages flow, with every acknowledged message delivered once and in patient
//! order; a removed destination's rows kept and shown until it comes back; an invalid file and a
//! change only a restart can make refused with the running configuration kept; listener limits
//! applied to new connections.

mod support;

use passerelle_gateway::{Config, RunningGateway};
use passerelle_store::{OutboxFilter, OutboxStatus};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// A config file with an MLLP listener (at most `per_remote` connections per address) and one
/// HTTP destination per `(name, port)`, all routed.
fn write_config(path: &Path, journal: &Path, per_remote: usize, destinations: &[(&str, u16)], extra: &str) {
    let mut text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nmax_connections_per_remote = {per_remote}\n",
        journal.display()
    );
    for (name, port) in destinations {
        text.push_str(&format!(
            "[[destination]]\nname = \"{name}\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/in\"\nformat = \"hl7v2\"\nbackoff_ms = 20\nmax_backoff_ms = 100\n{extra}"
        ));
    }
    let to: Vec<String> = destinations.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    text.push_str(&format!("[[route]]\nname = \"all\"\nto = [{}]\n", to.join(", ")));
    std::fs::write(path, text).expect("write config");
}

async fn reload(gw: &RunningGateway) -> (u16, serde_json::Value) {
    let url = format!("http://{}/api/config/reload", gw.address("admin").expect("admin"));
    let response = reqwest::Client::new().post(&url).send().await.expect("post reload");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn admin_get(gw: &RunningGateway, path: &str) -> serde_json::Value {
    let url = format!("http://{}{path}", gw.address("admin").expect("admin"));
    reqwest::get(&url).await.expect("get").json().await.expect("json")
}

fn names(report: &serde_json::Value, key: &str) -> Vec<String> {
    report[key].as_array().expect(key).iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_adds_and_changes_destinations_without_losing_or_repeating_a_message() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let (path, journal) = (dir.path().join("live.toml"), dir.path().join("j.db"));
    let (first, first_port) = recording_receiver(Duration::from_millis(1)).await;
    let (second, second_port) = recording_receiver(Duration::ZERO).await;
    write_config(&path, &journal, 8, &[("ehr-a", first_port)], "");
    let gw = Arc::new(passerelle_gateway::start(Config::load(&path).expect("config")).await.expect("start"));
    let version_before = admin_get(&gw, "/api/config").await["version"].as_str().expect("version").to_owned();

    let (patients, per_patient) = (10, 30);
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let mut sent = 0;
    for seq in 0..per_patient {
        if seq == 10 {
            // A second destination joins: every message acknowledged from here on reaches it too.
            write_config(&path, &journal, 8, &[("ehr-a", first_port), ("ehr-b", second_port)], "");
            let (status, report) = reload(&gw).await;
            assert_eq!(status, 200, "{report}");
            assert_eq!(names(&report, "destinations_added"), ["ehr-b"]);
            assert_eq!(report["previous_version"], version_before.as_str());
        }
        if seq == 20 {
            // Both destinations change (their timeout): each worker is replaced after finishing its sends.
            write_config(&path, &journal, 8, &[("ehr-a", first_port), ("ehr-b", second_port)], "timeout_ms = 5000\n");
            let (status, report) = reload(&gw).await;
            assert_eq!(status, 200, "{report}");
            assert_eq!(names(&report, "destinations_changed"), ["ehr-a", "ehr-b"]);
        }
        for p in 0..patients {
            let patient = format!("LR{p}");
            let (code, _, _) = client.send(&adt(&format!("{patient}-{seq}"), &patient, seq)).await;
            assert_eq!(code, "AA");
            sent += 1;
        }
    }
    let (a, b) = (Arc::clone(&first), Arc::clone(&second));
    wait_until(Duration::from_secs(30), move || a.count() >= sent && b.count() >= patients * 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = first.delivered();
    assert_eq!(delivered.len(), sent, "each message delivered to ehr-a exactly once");
    assert_in_patient_order(&delivered, patients, per_patient);
    let to_second = second.delivered();
    assert_eq!(to_second.len(), patients * 20, "ehr-b got exactly what was acknowledged after it was added");
    assert!(to_second.iter().all(|(_, seq)| *seq >= 10), "nothing from before ehr-b was configured");
    let version_after = admin_get(&gw, "/api/config").await["version"].as_str().expect("version").to_owned();
    assert_ne!(version_before, version_after, "the admin API shows the new version");
    if let Ok(gw) = Arc::try_unwrap(gw) {
        gw.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_destination_keeps_its_rows_visible_until_it_comes_back() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let (path, journal) = (dir.path().join("live.toml"), dir.path().join("j.db"));
    let (kept, kept_port) = recording_receiver(Duration::ZERO).await;
    let closed = free_port();
    write_config(&path, &journal, 8, &[("ehr", kept_port), ("lab", closed)], "");
    let gw = passerelle_gateway::start(Config::load(&path).expect("config")).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    for seq in 0..5 {
        let (code, _, _) = client.send(&adt(&format!("RM-{seq}"), "RM1", seq)).await;
        assert_eq!(code, "AA");
    }
    let k = Arc::clone(&kept);
    wait_until(Duration::from_secs(10), move || k.count() >= 5).await;

    write_config(&path, &journal, 8, &[("ehr", kept_port)], "");
    let (status, report) = reload(&gw).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(names(&report, "destinations_removed"), ["lab"]);
    let lab_rows = || OutboxFilter { destination: Some("lab".into()), limit: 100, ..Default::default() };
    let rows = gw.store.list(lab_rows()).await.expect("list");
    assert_eq!(rows.len(), 5, "the removed destination's rows stay in the outbox");
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Pending), "{rows:?}");
    let listed = admin_get(&gw, "/api/destinations").await;
    let lab = listed.as_array().expect("list").iter().find(|d| d["name"] == "lab").cloned().expect("lab still listed");
    assert_eq!(lab["configured"], false);
    assert_eq!(lab["queued"], 5);
    // Nobody delivers them while lab is not configured: their attempts stop counting.
    let attempts: Vec<u32> = rows.iter().map(|r| r.attempts).collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later: Vec<u32> = gw.store.list(lab_rows()).await.expect("list").iter().map(|r| r.attempts).collect();
    assert_eq!(attempts, later, "no worker sends for a removed destination");

    // lab comes back (at a receiver that answers): its rows are delivered, in order.
    let (lab_receiver, lab_port) = recording_receiver(Duration::ZERO).await;
    write_config(&path, &journal, 8, &[("ehr", kept_port), ("lab", lab_port)], "");
    let (status, report) = reload(&gw).await;
    assert_eq!(status, 200, "{report}");
    let r = Arc::clone(&lab_receiver);
    wait_until(Duration::from_secs(10), move || r.count() >= 5).await;
    assert_in_patient_order(&lab_receiver.delivered(), 1, 5);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_or_a_restart_only_change_is_refused_and_the_running_config_stays() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let (path, journal) = (dir.path().join("live.toml"), dir.path().join("j.db"));
    let (receiver, port) = recording_receiver(Duration::ZERO).await;
    write_config(&path, &journal, 8, &[("ehr", port)], "");
    let gw = passerelle_gateway::start(Config::load(&path).expect("config")).await.expect("start");
    let version = admin_get(&gw, "/api/config").await["version"].clone();

    // A typo: refused with the file and the line.
    let good = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, good.replace("max_backoff_ms = 100", "max_backof_ms = 100")).expect("write");
    let (status, body) = reload(&gw).await;
    assert_eq!(status, 422);
    let error = body["error"].as_str().expect("error");
    let line = good.lines().position(|l| l.starts_with("max_backoff_ms")).expect("line") + 1;
    assert!(error.starts_with(&format!("{}: line {line}: unknown field `max_backof_ms`", path.display())), "{error}");

    // A new bind address needs a restart: refused by name.
    std::fs::write(&path, good.replacen("bind = \"127.0.0.1:0\"\nmax_connections", "bind = \"127.0.0.1:1\"\nmax_connections", 1)).expect("write");
    let (status, body) = reload(&gw).await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().expect("error").contains("listener mllp-in: kind, bind, tls or dir changed: restart the node"), "{body}");

    assert_eq!(admin_get(&gw, "/api/config").await["version"], version, "the running version stays");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&adt("KEEP-1", "KP1", 0)).await;
    assert_eq!(code, "AA", "the running configuration still works");
    let r = Arc::clone(&receiver);
    wait_until(Duration::from_secs(10), move || r.count() >= 1).await;
    gw.shutdown().await;
}

/// Whether a new MLLP connection is admitted: it gets an ACK, or is closed unanswered.
async fn admitted(addr: std::net::SocketAddr, control: &str) -> bool {
    use futures_util::{SinkExt, StreamExt};
    let mut client = MllpClient::connect(addr).await;
    let framed = client.framed();
    if framed.send(adt(control, "LIM1", 0).as_slice()).await.is_err() {
        return false;
    }
    matches!(tokio::time::timeout(Duration::from_secs(5), framed.next()).await, Ok(Some(Ok(_))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_listener_limits_apply_to_new_connections_without_a_restart() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let (path, journal) = (dir.path().join("live.toml"), dir.path().join("j.db"));
    let (_receiver, port) = recording_receiver(Duration::ZERO).await;
    write_config(&path, &journal, 1, &[("ehr", port)], "");
    let gw = passerelle_gateway::start(Config::load(&path).expect("config")).await.expect("start");
    let addr = gw.address("mllp-in").expect("mllp");
    let mut held = MllpClient::connect(addr).await;
    assert_eq!(held.send(&adt("LIM-0", "LIM1", 0)).await.0, "AA");
    assert!(!admitted(addr, "LIM-1").await, "a second connection from this address is over the limit of 1");

    write_config(&path, &journal, 4, &[("ehr", port)], "");
    let (status, report) = reload(&gw).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(names(&report, "listeners_changed"), ["mllp-in"]);
    assert!(admitted(addr, "LIM-2").await, "the new limit of 4 admits a second connection");
    assert_eq!(held.send(&adt("LIM-3", "LIM1", 1)).await.0, "AA", "the connection held across the reload still works");
    gw.shutdown().await;
}
