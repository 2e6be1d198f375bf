//! A SIGTERM sent the moment the gateway's port accepts stops it cleanly (exit 0, journal intact):
//! its handler used to be installed only after every listener was bound, and a SIGTERM in that
//! window killed the process outright (seen as a flaky disk-full test in CI).

mod common;

use common::gateway::{GatewayFiles, terminate};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn a_sigterm_as_soon_as_the_port_accepted_killed_the_gateway() {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = GatewayFiles::write(tmp.path(), &tmp.path().join("j.db"), "");
    for round in 0..20 {
        let gateway = files.start();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", files.mllp)).is_err() {
            assert!(Instant::now() < deadline, "round {round}: the gateway never listened");
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(terminate(gateway), "round {round}: SIGTERM right after the port accepted must stop the gateway cleanly");
    }
    assert_eq!(files.integrity_check(), "ok");
}
