//! The benchmark scenarios end to end, small: the real binary runs the shipped
//! `config/examples/scenarios.toml` (its ports moved to free ones), `passerelle loadgen` sends the
//! `mix` scenario (ADT over MLLP and FHIR Bundles over HTTP, many senders and patients) and the
//! `adt-cda` one (50 KB documents), and its two sinks receive every message, timed; `--json`
//! prints the one object of the fixed interface, with the gateway's own CPU and peak RSS.

use passerelle_testkit::{Peer, free_port, wait_for_port, workspace_root};
use std::process::{Command, Stdio};

#[test]
fn every_scenario_message_reaches_both_sinks_and_is_timed() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports: Vec<u16> = (0..5).map(|_| free_port()).collect();
    let (mllp, sink, http_sink, http, admin) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
    let shipped = std::fs::read_to_string(workspace_root().join("config/examples/scenarios.toml")).expect("config");
    let config = [("2576", mllp), ("2577", sink), ("2578", http_sink), ("2579", http), ("9191", admin)]
        .iter()
        .fold(shipped, |text, (from, to)| text.replace(&format!("127.0.0.1:{from}"), &format!("127.0.0.1:{to}")));
    let path = dir.path().join("scenarios.toml");
    std::fs::write(&path, config).expect("write config");
    let bin = env!("CARGO_BIN_EXE_passerelle");
    let gateway =
        Peer(Command::new(bin).args(["run", "--config"]).arg(&path).current_dir(dir.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("run"));
    for port in [mllp, http, admin] {
        wait_for_port(port);
    }
    for (scenario, messages) in [("mix", 200), ("adt-cda", 20)] {
        let out = Command::new(bin)
            .args(["loadgen", "--scenario", scenario, "--senders", "100", "--patients", "10000", "--connections", "8"])
            .args(["--messages", &messages.to_string()])
            .args(["--mllp", &format!("127.0.0.1:{mllp}"), "--http", &format!("127.0.0.1:{http}"), "--admin", &format!("127.0.0.1:{admin}")])
            .args(["--sink-port", &sink.to_string(), "--http-sink-port", &http_sink.to_string()])
            .output()
            .expect("loadgen");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{scenario}: {text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("(0 not AA)"), "{scenario}: every message accepted: {text}");
        assert!(text.contains("p99.9"), "{text}");
        for sink in ["mllp sink", "http sink"] {
            assert!(text.contains(&format!("{sink}: {messages} delivered")), "{scenario}: {sink} got each message once: {text}");
        }
    }

    let out = Command::new(bin)
        .args(["loadgen", "--scenario", "adt", "--messages", "300", "--connections", "4", "--json", "--gateway-pid", &gateway.0.id().to_string()])
        .args(["--mllp", &format!("127.0.0.1:{mllp}"), "--http", &format!("127.0.0.1:{http}"), "--admin", &format!("127.0.0.1:{admin}")])
        .args(["--sink-port", &sink.to_string(), "--http-sink-port", &http_sink.to_string()])
        .output()
        .expect("loadgen");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    assert_eq!(report["messages"], 300, "{report}");
    assert_eq!(report["not_accepted"], 0, "{report}");
    for key in ["acked_per_s", "delivered_per_s", "ack_p50_ms", "ack_p99_ms", "ack_p999_ms", "e2e_p99_ms", "gateway_cpu_us_per_msg", "peak_rss_mib"] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} measured: {report}");
    }
    // Messages, not deliveries: each goes to two destinations, yet is counted once.
    let (acked, delivered) = (report["acked_per_s"].as_f64().unwrap_or(0.0), report["delivered_per_s"].as_f64().unwrap_or(0.0));
    assert!(delivered <= acked * 1.05, "{report}");
    assert!(report["ack_p50_ms"].as_f64() <= report["ack_p999_ms"].as_f64(), "{report}");
}
