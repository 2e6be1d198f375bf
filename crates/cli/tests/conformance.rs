//! `passerelle conformance` end to end. `run` against receivers that answer right and wrong:
//! our own `conformance listen` and the gateway with `validate = "reject"` (every step passes),
//! ../shared/verify/mllp_peer.py answering AA to everything (the deliberately invalid messages
//! are caught as wrongly accepted), AE to everything (the valid ones as wrongly refused, the
//! refusals without ERR), or dropping the connection (no ACK); a port nobody listens on. `listen`
//! against mllp_peer.py's sender: valid messages get AA, invalid ones AE naming the rule. TLS
//! both ways with a test CA.

mod common;

use common::workspace_root;
use passerelle_testkit::{free_port, start_peer, verify_dir, wait_for_port};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child killed when dropped.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `conformance run` with `args`: exit status and the JSON report.
fn run(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .current_dir(workspace_root())
        .args(["conformance", "run", "--format", "json", "--timeout", "3"])
        .args(args)
        .output()
        .expect("run");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// Each step's rules: "scenario/n message" → the rules it failed (empty when it passed).
fn outcomes(report: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let rules = f["findings"].as_array().expect("findings").iter().filter_map(|x| x["rule"].as_str()).map(str::to_owned).collect();
            (f["path"].as_str().expect("path").to_owned(), rules)
        })
        .collect()
}

fn is_reject_step(path: &str) -> bool {
    path.contains("validate/err/")
}

fn listen(suite: &str, port: u16, max: usize, extra: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .current_dir(workspace_root())
        .args(["conformance", "listen", "--suite", suite, "--port", &port.to_string(), "--max-messages", &max.to_string(), "--format", "json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("listen");
    wait_for_port(port);
    Running(child)
}

fn listen_report(mut listener: Running) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    while matches!(listener.0.try_wait(), Ok(None)) {
        assert!(Instant::now() < deadline, "listen did not stop after its messages");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(listener.0.stdout.as_mut().expect("stdout"), &mut out).expect("read");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("listen report not JSON ({e}): {out}"))
}

#[test]
fn run_passes_every_step_against_a_receiver_that_answers_right() {
    for suite in ["pam-fr", "cisis-docs"] {
        let port = free_port();
        let steps = Command::new(env!("CARGO_BIN_EXE_passerelle")).args(["conformance", "show", "--suite", suite]).output().expect("show");
        let count = String::from_utf8_lossy(&steps.stdout).lines().filter(|l| l.starts_with("    ")).count();
        let listener = listen(suite, port, count, &[]);
        let (code, report) = run(&["--suite", suite, "--target", &format!("mllp://127.0.0.1:{port}")]);
        assert_eq!(code, 0, "{suite}: {report}");
        let outcomes = outcomes(&report);
        assert_eq!(outcomes.len(), count);
        assert!(outcomes.values().all(Vec::is_empty), "{outcomes:?}");
        // What the listener saw: the invalid messages refused for the rule the suite names.
        let seen = listen_report(listener);
        assert_eq!(seen["summary"]["files"], count);
        let refused: Vec<&str> = seen["files"].as_array().expect("files").iter().filter(|f| f["status"] == "fail").filter_map(|f| f["path"].as_str()).collect();
        assert_eq!(refused.len(), outcomes.keys().filter(|p| is_reject_step(p)).count(), "{seen}");
    }
}

#[test]
fn run_against_the_gateway_validating_with_reject() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let config = dir.path().join("gw.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:{}\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:{port}\"\nvalidate = \"reject\"\n\
             [[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{}\"\nformat = \"hl7v2\"\n[[route]]\nname = \"all\"\nto = [\"files\"]\n",
            dir.path().join("journal.db").display(),
            free_port(),
            dir.path().join("out").display()
        ),
    )
    .expect("config");
    let _gateway = Running(
        Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gateway"),
    );
    wait_for_port(port);
    let (code, report) = run(&["--suite", "pam-fr", "--target", &format!("mllp://127.0.0.1:{port}")]);
    let outcomes = outcomes(&report);
    assert_eq!(code, 0, "the gateway accepts the conformant messages and refuses the others with ERR: {outcomes:?}");
}

#[test]
fn run_reports_what_a_wrong_receiver_does() {
    let Some(verify) = verify_dir() else { return };
    let target = |port: u16| format!("mllp://127.0.0.1:{port}");
    // AA to everything: the invalid messages were wrongly accepted.
    let (port, out) = (free_port(), tempfile::tempdir().expect("tmp"));
    let _peer = start_peer(&verify, "mllp_peer.py", &["listen", &port.to_string(), out.path().to_str().expect("path")]);
    wait_for_port(port);
    let (code, report) = run(&["--target", &target(port)]);
    assert_eq!(code, 1);
    for (step, rules) in outcomes(&report) {
        if is_reject_step(&step) {
            assert_eq!(rules, ["conformance.ack.code"], "{step}: an invalid message accepted");
        } else {
            assert!(rules.is_empty(), "{step}: {rules:?}");
        }
    }
    // AE to everything: the valid messages were wrongly refused.
    let (port, out) = (free_port(), tempfile::tempdir().expect("tmp"));
    let _peer = start_peer(&verify, "mllp_peer.py", &["listen", &port.to_string(), out.path().to_str().expect("path"), "--fail-every", "1"]);
    wait_for_port(port);
    let (_, report) = run(&["--target", &target(port)]);
    for (step, rules) in outcomes(&report) {
        if !is_reject_step(&step) {
            assert!(rules.contains(&"conformance.ack.code".to_owned()), "{step}: a valid message refused: {rules:?}");
        }
        assert!(!rules.iter().any(|r| r == "conformance.ack.msa2"), "{step}: {rules:?}");
    }
    // The connection dropped instead of an ACK.
    let (port, out) = (free_port(), tempfile::tempdir().expect("tmp"));
    let _peer =
        start_peer(&verify, "mllp_peer.py", &["listen", &port.to_string(), out.path().to_str().expect("path"), "--fail-every", "1", "--fail-mode", "drop"]);
    wait_for_port(port);
    let (code, report) = run(&["--target", &target(port)]);
    assert_eq!(code, 1);
    assert!(outcomes(&report).values().all(|r| r == &["conformance.ack.missing"]), "{report}");
    // Nobody listens.
    let (code, report) = run(&["--target", &target(free_port())]);
    assert_eq!(code, 1);
    assert!(outcomes(&report).values().all(|r| r == &["conformance.connect"]), "{report}");
}

#[test]
fn listen_answers_a_vendor_sender_and_reports_each_message() {
    let Some(verify) = verify_dir() else { return };
    let port = free_port();
    let saved = tempfile::tempdir().expect("tmp");
    let listener = listen("pam-fr", port, 2, &["--save", saved.path().to_str().expect("path")]);
    let send = |file: &str, expect: &str| {
        let out = Command::new(verify.join(".venv/bin/python"))
            .arg(verify.join("mllp_peer.py"))
            .args(["send", "127.0.0.1", &port.to_string()])
            .arg(workspace_root().join(file))
            .args(["--expect", expect])
            .output()
            .expect("mllp_peer send");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("1 passed, 0 failed"), "{file} expected {expect}: {text}");
    };
    send("fixtures/validate/ok/fr_a01_admission.hl7", "AA");
    send("fixtures/validate/err/pamfr.zbe.required.hl7", "AE");
    let report = listen_report(listener);
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["by_rule"]["pamfr.zbe.required"], 1, "{report}");
    assert_eq!(std::fs::read_dir(saved.path()).expect("saved").count(), 2, "every message kept");
}

/// A CA and a server certificate for 127.0.0.1 / localhost, as PEM files in `dir`.
fn test_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Passerelle conformance test CA");
    std::fs::write(dir.join("ca.pem"), ca.self_signed(&ca_key).expect("ca").pem()).expect("write");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.subject_alt_names = vec![SanType::DnsName("localhost".try_into().expect("dns")), SanType::IpAddress("127.0.0.1".parse().expect("ip"))];
    std::fs::write(dir.join("server.pem"), params.signed_by(&key, &issuer).expect("sign").pem()).expect("write");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write");
}

#[test]
fn run_and_listen_over_tls() {
    let pki = tempfile::tempdir().expect("tmp");
    test_pki(pki.path());
    let file = |n: &str| pki.path().join(n).display().to_string();
    let port = free_port();
    let listener = listen("pam-fr", port, 10, &["--tls-cert", &file("server.pem"), "--tls-key", &file("server.key")]);
    let (code, report) = run(&["--target", &format!("mllp://127.0.0.1:{port}"), "--tls", "--ca", &file("ca.pem")]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(listen_report(listener)["summary"]["files"], 10);
    // The same receiver, but a client that trusts another CA: the handshake fails, reported.
    let other = tempfile::tempdir().expect("tmp");
    test_pki(other.path());
    let port = free_port();
    let _listener = listen("pam-fr", port, 10, &["--tls-cert", &file("server.pem"), "--tls-key", &file("server.key")]);
    let (code, report) = run(&["--target", &format!("mllp://127.0.0.1:{port}"), "--tls", "--ca", &other.path().join("ca.pem").display().to_string()]);
    assert_eq!(code, 1);
    assert!(outcomes(&report).values().all(|r| r == &["conformance.connect"]), "{report}");
}
