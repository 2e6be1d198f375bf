//! `passerelle run` reloads its configuration file on SIGHUP: a destination added to the file
//! receives what is acknowledged after the signal, the process keeps running, and a file that
//! does not parse is refused while the running configuration goes on delivering.

mod common;

use common::gateway::{GatewayFiles, send, terminate};
use std::time::{Duration, Instant};

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn hangup(pid: u32) {
    let status = std::process::Command::new("kill").arg("-HUP").arg(pid.to_string()).status().expect("kill");
    assert!(status.success());
}

#[test]
fn sighup_reloads_the_file_and_a_broken_file_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let files = GatewayFiles::write(dir.path(), &dir.path().join("j.db"), "");
    let mut gateway = files.start();
    let mut stream = files.connect_when_up();
    assert_eq!(send(&mut stream, &common::gateway::adt("BEFORE-1", 0)).expect("ack").0, "AA");

    let copies = dir.path().join("copies");
    let original = std::fs::read_to_string(&files.config).expect("read");
    let with_copies = original.replace("to = [\"files\"]", "to = [\"files\", \"copies\"]")
        + &format!("[[destination]]\nname = \"copies\"\nkind = \"file\"\ndir = \"{}\"\nformat = \"hl7v2\"\n", copies.display());
    std::fs::write(&files.config, &with_copies).expect("write");
    hangup(gateway.id());
    // The reload is applied asynchronously: messages sent until the copy appears.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while files_in(&copies) == 0 {
        assert!(Instant::now() < deadline, "the added destination never received anything");
        n += 1;
        assert_eq!(send(&mut stream, &common::gateway::adt(&format!("AFTER-{n}"), 0)).expect("ack").0, "AA");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(matches!(gateway.try_wait(), Ok(None)), "SIGHUP does not stop the gateway");

    // A broken file: refused, the running configuration (both destinations) stays.
    std::fs::write(&files.config, with_copies.replace("[[route]]", "[[route]\n")).expect("write");
    hangup(gateway.id());
    std::thread::sleep(Duration::from_millis(300));
    let before = files_in(&copies);
    assert_eq!(send(&mut stream, &common::gateway::adt("KEPT-1", 0)).expect("ack").0, "AA");
    let deadline = Instant::now() + Duration::from_secs(20);
    while files_in(&copies) == before {
        assert!(Instant::now() < deadline, "the running configuration stopped delivering after a refused reload");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(matches!(gateway.try_wait(), Ok(None)), "a refused reload does not stop the gateway");
    drop(stream);
    assert!(terminate(gateway), "clean stop after reloads");
}
