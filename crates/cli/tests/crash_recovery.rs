//! SIGKILL in the middle of a run, then restart: every message that was acknowledged AA is
//! delivered; nothing acknowledged is lost. Runs the real `passerelle run` binary.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn start(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["run", "--config", config.to_str().expect("path")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gateway")
}

fn connect_when_up(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            return s;
        }
        assert!(Instant::now() < deadline, "gateway did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends one framed message; returns MSA-1 or `None` if the connection died.
fn send(stream: &mut TcpStream, control: &str) -> Option<String> {
    let msg = format!(
        "\x0bMSH|^~\\&|CRASHTEST|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|{control}|P|2.5\rPID|1||IPP-{control}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTCRASH^A\rPV1|1|I\r\x1c\r"
    );
    stream.write_all(msg.as_bytes()).ok()?;
    let mut ack = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(1) => {
                ack.push(byte[0]);
                if ack.ends_with(b"\x1c\r") {
                    break;
                }
            }
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&ack);
    text.split("MSA|").nth(1).map(|s| s[..2].to_owned())
}

#[test]
fn sigkill_then_restart_loses_no_acknowledged_message() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mllp, http, admin) = (free_port(), free_port(), free_port());
    let out = tmp.path().join("out");
    let config = tmp.path().join("gw.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{db}\"\n[admin]\nbind = \"127.0.0.1:{admin}\"\n\
             [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:{mllp}\"\n\
             [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:{http}\"\n\
             [[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{out}\"\nformat = \"hl7v2\"\n\
             [[route]]\nname = \"all\"\nto = [\"files\"]\n",
            db = tmp.path().join("j.db").display(),
            out = out.display()
        ),
    )
    .expect("config");
    let mut gateway = start(&config);
    let mut stream = connect_when_up(mllp);
    let mut acked = HashSet::new();
    let mut killed = false;
    for i in 0..400 {
        if i == 150 {
            // SIGKILL: no shutdown hook, no flush. The next sends fail until the restart.
            gateway.kill().expect("kill");
            gateway.wait().expect("wait");
            killed = true;
        }
        let control = format!("CRASH-{i}");
        match send(&mut stream, &control) {
            Some(code) if code == "AA" => {
                acked.insert(control);
            }
            Some(other) => panic!("{control}: {other}"),
            None => {
                assert!(killed, "connection lost before the kill");
                gateway = start(&config);
                stream = connect_when_up(mllp);
                killed = false;
            }
        }
    }
    assert!(acked.len() >= 390, "most messages acknowledged: {}", acked.len());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: HashSet<String> = std::fs::read_dir(&out)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|body| body.split('|').nth(9).map(str::to_owned))
            .collect();
        let missing: Vec<_> = acked.difference(&delivered).collect();
        if missing.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{} acknowledged messages never delivered, e.g. {:?}", missing.len(), missing.first());
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg("-TERM").arg(gateway.id().to_string()).status();
    let status = gateway.wait().expect("wait");
    assert!(status.success(), "SIGTERM ends the gateway cleanly: {status:?}");
}
