//! No patient data in logs or metric labels: the real `passerelle run` at trace level ingests
//! messages with distinctive names and identifiers (accepted, refused and undeliverable ones),
//! serves the admin API, and none of them appears on stderr (plain or JSON lines) or in /metrics.
//! Log lines carry no terminal colour codes when stderr is not a terminal.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use passerelle_testkit::free_port;

const NAMES: [&str; 4] = ["ZORGLUBIUSSE", "QUETZALINE", "IPP-ZX-99317", "279035121518989"];

fn framed(control: &str, pid: &str) -> Vec<u8> {
    format!("\x0bMSH|^~\\&|PHITEST|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|{control}|P|2.5\r{pid}\rPV1|1|I\r\x1c\r").into_bytes()
}

fn run_and_collect(json: bool) -> (String, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mllp, admin, sink) = (free_port(), free_port(), free_port());
    let config = tmp.path().join("phi.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:{admin}\"\n[[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:{mllp}\"\n\
             [[destination]]\nname = \"down\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{sink}\"\nmax_attempts = 2\nbackoff_ms = 10\nmax_backoff_ms = 20\ntimeout_ms = 200\n\
             [[route]]\nname = \"all\"\nto = [\"down\"]\n",
            tmp.path().join("j.db").display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["run", "--config", config.to_str().expect("path")])
        .env("RUST_LOG", "trace")
        .env("PASSERELLE_LOG_FORMAT", if json { "json" } else { "plain" })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", mllp)) {
            break s;
        }
        assert!(Instant::now() < deadline, "gateway did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let good = "PID|1||IPP-ZX-99317^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI~279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS||ZORGLUBIUSSE^QUETZALINE||19790321|F|||||||||||||||||||||||VALI";
    let broken_key = "PID|1||IPP-ZX-99317^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI~279035121518900^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS||ZORGLUBIUSSE^QUETZALINE||19790321|F";
    for (control, pid) in [("PHI-1", good), ("PHI-2", broken_key), ("PHI-3", "PID|1||||ZORGLUBIUSSE^QUETZALINE")] {
        stream.write_all(&framed(control, pid)).expect("send");
        let mut ack = Vec::new();
        let mut byte = [0u8; 1];
        while stream.read(&mut byte).is_ok_and(|n| n == 1) {
            ack.push(byte[0]);
            if ack.ends_with(b"\x1c\r") {
                break;
            }
        }
        assert!(String::from_utf8_lossy(&ack).contains("MSA|"), "{control} answered");
    }
    // Give delivery time to fail against the closed destination (errors are logged), then read /metrics.
    std::thread::sleep(Duration::from_millis(800));
    let mut metrics = String::new();
    let mut http = std::net::TcpStream::connect(("127.0.0.1", admin)).expect("admin");
    http.write_all(b"GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").expect("get");
    http.read_to_string(&mut metrics).expect("metrics");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let mut logs = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut logs).expect("logs");
    (logs, metrics)
}

#[test]
fn no_patient_name_or_identifier_reaches_the_logs_or_the_metrics() {
    for json in [false, true] {
        let (logs, metrics) = run_and_collect(json);
        assert!(logs.lines().count() > 5 && logs.contains("down"), "logs were written:\n{logs}");
        for name in NAMES {
            assert!(!logs.contains(name), "{name} in the logs (json = {json})");
            assert!(!metrics.contains(name), "{name} in the metrics");
        }
        assert!(!logs.contains('\u{1b}'), "no colour codes when stderr is not a terminal");
        if json {
            assert!(logs.lines().filter(|l| l.starts_with('{')).all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "JSON lines");
        }
    }
}
