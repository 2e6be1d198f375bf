//! The benchmark scenarios end to end, small: the real binary runs the shipped
//! `config/examples/scenarios.toml` (its ports moved to free ones), `passerelle loadgen` sends the
//! `mix` scenario (ADT over MLLP and FHIR Bundles over HTTP, many senders and patients) and the
//! `oru-cda` one (50 KB documents), and its two sinks receive every message, timed.

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
    let _gateway =
        Peer(Command::new(bin).args(["run", "--config"]).arg(&path).current_dir(dir.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("run"));
    for port in [mllp, http, admin] {
        wait_for_port(port);
    }
    for (scenario, messages) in [("mix", 200), ("oru-cda", 20)] {
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
}
