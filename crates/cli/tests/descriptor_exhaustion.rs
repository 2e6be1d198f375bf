//! Descriptors never run out for the admin port or the other listeners: the real `passerelle run`
//! under `ulimit -n 300` gets a flood of 400 idle HTTP connections from 20 addresses. The
//! gateway-wide connection cap is lowered to the limit less the reserve and shared between the
//! listeners (their default 256 each would not fit), so the excess is refused at accept; the admin port's /healthz and a legitimate MLLP sender
//! still answer at once, no accept fails with "Too many open files", and the process's open
//! descriptors stay under its limit.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use passerelle_testkit::free_port;

async fn connect_from(from: &str, port: u16) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse().expect("ip"), 0))?;
    socket.connect(SocketAddr::new("127.0.0.1".parse().expect("ip"), port)).await
}

/// One HTTP/1.1 GET; the whole answer.
async fn get(port: u16, path: &str) -> String {
    let mut stream = connect_from("127.0.0.1", port).await.expect("connect admin");
    stream.write_all(format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n\r\n").as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `port` accepts now.
async fn up(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).await.is_ok()
}

/// The gateway under `ulimit -n 300`, its HTTP and admin ports answering: the process and its
/// [mllp, http, admin] ports.
/// Regression: free ports are picked before the gateway binds them, and under a loaded test run
/// another test took one in between; the gateway then exited and the test waited 30 s for
/// nothing ("gateway did not start"). A gateway that exits is started again on other ports.
async fn start_under_300_descriptors(dir: &std::path::Path) -> (std::process::Child, [u16; 3]) {
    for _ in 0..5 {
        let (mllp, http, admin) = (free_port(), free_port(), free_port());
        let config = dir.join("fd.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\npath = \"{db}\"\n[admin]\nbind = \"127.0.0.1:{admin}\"\n\
                 [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"0.0.0.0:{mllp}\"\n\
                 [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"0.0.0.0:{http}\"\nfirst_read_timeout_secs = 120\n",
                db = dir.join("j.db").display()
            ),
        )
        .expect("config");
        let script = format!("ulimit -n 300 && exec {} run --config {}", env!("CARGO_BIN_EXE_passerelle"), config.display());
        let mut child = Command::new("sh").args(["-c", &script]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start gateway");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if up(admin).await && up(http).await {
                return (child, [mllp, http, admin]);
            }
            if matches!(child.try_wait(), Ok(Some(_))) {
                break;
            }
            assert!(Instant::now() < deadline, "gateway did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("the gateway exited at start five times (ports taken?)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_flood_leaves_descriptors_for_admin_and_mllp() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut child, [mllp, http, admin]) = start_under_300_descriptors(tmp.path()).await;

    let mut flood = Vec::new();
    for i in 0..400 {
        if let Ok(stream) = connect_from(&format!("127.0.0.{}", 10 + i % 20), http).await {
            flood.push(stream);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let health = get(admin, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200") && started.elapsed() < Duration::from_secs(1), "{health}");
    let mut sender = connect_from("127.0.0.2", mllp).await.expect("connect mllp");
    let started = Instant::now();
    sender
        .write_all(b"\x0bMSH|^~\\&|FDTEST|CHU-TEST|SIH|CHU-TEST|20261201101500||ADT^A01^ADT_A01|FD-1|P|2.5\rPID|1||IPP-FD-1^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||FDTEST^A\rPV1|1|I\r\x1c\r")
        .await
        .expect("send");
    let mut ack = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(2), sender.read(&mut ack)).await.expect("ack in time").expect("read");
    let ack = String::from_utf8_lossy(&ack[..n]).into_owned();
    assert!(ack.contains("MSA|AA|FD-1") && started.elapsed() < Duration::from_secs(1), "{ack} in {:?}", started.elapsed());

    let open = std::fs::read_dir(format!("/proc/{}/fd", child.id())).map(|d| d.count()).unwrap_or_default();
    assert!(open > 50 && open < 300, "{open} descriptors open under a limit of 300");
    let metrics = get(admin, "/metrics").await;
    assert!(metrics.contains("limit=\"max_connections\",listener=\"http-in\""), "the flood is refused at accept:\n{metrics}");
    assert!(!metrics.contains("accept_error"), "no accept ran out of descriptors:\n{metrics}");
    drop(flood);
    let _ = child.kill();
    let _ = child.wait();
}
