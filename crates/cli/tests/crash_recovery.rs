//! SIGKILL in the middle of a run, then restart: every message that was acknowledged AA is
//! delivered; nothing acknowledged is lost; and the journal passes SQLite's integrity check after
//! a loop of kills at random points (while messages are being committed and delivered). Runs the
//! real `passerelle run` binary.

mod common;

use common::gateway::{GatewayFiles, adt, send, terminate};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn sigkill_then_restart_loses_no_acknowledged_message() {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = GatewayFiles::write(tmp.path(), &tmp.path().join("j.db"), "");
    let mut gateway = files.start();
    let mut stream = files.connect_when_up();
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
        match send(&mut stream, &adt(&control, 0)) {
            Some((code, _)) if code == "AA" => {
                acked.insert(control);
            }
            Some((other, err)) => panic!("{control}: {other} {err}"),
            None => {
                assert!(killed, "connection lost before the kill");
                gateway = files.start();
                stream = files.connect_when_up();
                killed = false;
            }
        }
    }
    assert!(acked.len() >= 390, "most messages acknowledged: {}", acked.len());
    files.wait_delivered(&acked);
    assert!(terminate(gateway), "SIGTERM ends the gateway cleanly");
}

/// A small random generator (xorshift), seeded from the clock and printed, so a failing run can
/// be replayed with `CRASH_LOOP_SEED`.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn a_loop_of_sigkills_at_random_points_leaves_an_intact_journal_and_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = Arc::new(GatewayFiles::write(tmp.path(), &tmp.path().join("j.db"), ""));
    let mut seed = std::env::var("CRASH_LOOP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1);
    let initial = seed;
    eprintln!("CRASH_LOOP_SEED={initial}");
    // A sender that never stops: messages of random size (up to 64 KiB, so that kills land in
    // commits, WAL growth and checkpoints), reconnecting after each kill.
    let (acked, sent, stop) = (Arc::new(Mutex::new(HashSet::new())), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let sender = {
        let (files, acked, sent, stop) = (Arc::clone(&files), Arc::clone(&acked), Arc::clone(&sent), Arc::clone(&stop));
        let mut rng = seed;
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", files.mllp)) else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                while !stop.load(Ordering::Relaxed) {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    let control = format!("LOOP-{n}");
                    match send(&mut stream, &adt(&control, (xorshift(&mut rng) % 65_536) as usize)) {
                        Some((code, _)) if code == "AA" => {
                            acked.lock().expect("lock").insert(control);
                        }
                        Some((other, err)) => panic!("{control}: {other} {err}"),
                        None => break,
                    }
                }
            }
        })
    };
    for kill in 0..24 {
        let mut gateway = files.start();
        // Each life lasts a random 50–500 ms: the kill lands wherever the sender and the delivery
        // worker happen to be.
        std::thread::sleep(Duration::from_millis(50 + xorshift(&mut seed) % 450));
        gateway.kill().expect("kill");
        gateway.wait().expect("wait");
        assert_eq!(files.integrity_check(), "ok", "journal intact after kill {kill} (CRASH_LOOP_SEED={initial})");
    }
    let gateway = files.start();
    files.connect_when_up();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("sender");
    let acked = acked.lock().expect("lock").clone();
    let sent = sent.load(Ordering::Relaxed);
    eprintln!("{sent} sent, {} acknowledged across 24 kills", acked.len());
    assert!(acked.len() > 100 && sent > acked.len(), "kills landed while messages were in flight: {sent} sent, {} acknowledged", acked.len());
    files.wait_delivered(&acked);
    assert!(terminate(gateway), "SIGTERM ends the gateway cleanly");
    assert_eq!(files.integrity_check(), "ok");
}
