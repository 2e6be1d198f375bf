//! Running the real `passerelle run` binary in a test: a config with an MLLP listener and a file
//! destination, start and wait, send over MLLP, read what was delivered, check the journal.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use passerelle_testkit::free_port;

/// A running gateway process, killed when dropped, so that a failing test never leaves one
/// behind (a leftover gateway fed by a runaway sender once filled the disk).
pub struct Gateway(pub Child);

impl std::ops::Deref for Gateway {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Gateway {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A gateway's files: its config, journal and file destination, and its MLLP port.
pub struct GatewayFiles {
    pub config: PathBuf,
    pub journal: PathBuf,
    pub out: PathBuf,
    pub mllp: u16,
    /// The admin port (API, metrics, the console).
    pub admin: u16,
}

impl GatewayFiles {
    /// An MLLP listener, an HTTP listener and an admin port, everything routed to files in `out`.
    pub fn write(dir: &Path, journal: &Path, extra: &str) -> Self {
        let (mllp, http, admin) = (free_port(), free_port(), free_port());
        let out = dir.join("out");
        let config = dir.join("gw.toml");
        std::fs::write(
            &config,
            format!(
                "{extra}[store]\npath = \"{db}\"\n[admin]\nbind = \"127.0.0.1:{admin}\"\n\
                 [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:{mllp}\"\n\
                 [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:{http}\"\n\
                 [[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{out}\"\nformat = \"hl7v2\"\n\
                 [[route]]\nname = \"all\"\nto = [\"files\"]\n",
                db = journal.display(),
                out = out.display()
            ),
        )
        .expect("config");
        Self { config, journal: journal.to_owned(), out, mllp, admin }
    }

    pub fn start(&self) -> Gateway {
        Gateway(
            Command::new(env!("CARGO_BIN_EXE_passerelle"))
                .args(["run", "--config", self.config.to_str().expect("path")])
                .stdout(Stdio::null())
                .stderr(self.log_file())
                .spawn()
                .expect("start gateway"),
        )
    }

    /// Where the gateway's stderr goes (appended across restarts), shown when it does not start.
    pub fn log_path(&self) -> PathBuf {
        self.config.with_extension("log")
    }

    fn log_file(&self) -> Stdio {
        match std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()) {
            Ok(file) => Stdio::from(file),
            Err(_) => Stdio::null(),
        }
    }

    /// A connection to the MLLP listener once it accepts (within 30 s).
    pub fn connect_when_up(&self) -> TcpStream {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", self.mllp)) {
                s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
                return s;
            }
            assert!(Instant::now() < deadline, "gateway did not start; its log:\n{}", std::fs::read_to_string(self.log_path()).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The MSH-10 of every message delivered to `out`.
    pub fn delivered(&self) -> HashSet<String> {
        std::fs::read_dir(&self.out)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|body| body.split('|').nth(9).map(str::to_owned))
            .collect()
    }

    /// Waits (up to 60 s) until every control id in `acked` is delivered.
    pub fn wait_delivered(&self, acked: &HashSet<String>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let delivered = self.delivered();
            let missing: Vec<_> = acked.difference(&delivered).collect();
            if missing.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "{} acknowledged messages never delivered, e.g. {:?}", missing.len(), missing.first());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SQLite's own `PRAGMA integrity_check` of the journal (gateway stopped).
    pub fn integrity_check(&self) -> String {
        let db = rusqlite::Connection::open(&self.journal).expect("open journal");
        db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).expect("integrity_check")
    }
}

/// An ADT^A01 with control id `control`, its NTE padded to about `pad` bytes.
pub fn adt(control: &str, pad: usize) -> Vec<u8> {
    format!(
        "MSH|^~\\&|CRASHTEST|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|{control}|P|2.5\rPID|1||IPP-{control}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTCRASH^A\rPV1|1|I\rNTE|1||{}\r",
        "x".repeat(pad)
    )
    .into_bytes()
}

/// Sends one message framed; returns MSA-1 and the ERR segment's text, or `None` if the connection died.
pub fn send(stream: &mut TcpStream, message: &[u8]) -> Option<(String, String)> {
    let mut framed = vec![0x0b];
    framed.extend_from_slice(message);
    framed.extend_from_slice(b"\x1c\r");
    stream.write_all(&framed).ok()?;
    let mut ack = Vec::new();
    let mut chunk = [0u8; 512];
    while !ack.ends_with(b"\x1c\r") {
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => ack.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&ack).into_owned();
    let code = text.split("MSA|").nth(1).map(|s| s[..2].to_owned())?;
    let err = text.split('\r').find(|s| s.starts_with("ERR|")).unwrap_or_default().to_owned();
    Some((code, err))
}

/// SIGTERM, and whether the gateway then ended cleanly.
pub fn terminate(mut gateway: Gateway) -> bool {
    let _ = Command::new("kill").arg("-TERM").arg(gateway.id().to_string()).status();
    gateway.wait().map(|s| s.success()).unwrap_or(false)
}
