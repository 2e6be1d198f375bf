//! The disk filling up under the journal: the real `passerelle run` with its journal on a 3 MiB
//! tmpfs (as root; elsewhere under a 3 MiB file-size limit, `prlimit --fsize`, the same failed
//! writes by another cause). Messages go on until the journal cannot take them: from then on the
//! sender gets AR with ERR 207, never AA. When space returns (the tmpfs remounted larger, the limit
//! lifted) the same process takes messages again without a restart, every message acknowledged
//! AA is delivered, and the journal passes SQLite's integrity check.

mod common;

use common::gateway::{Gateway, GatewayFiles, adt, send, terminate};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How the disk is made to fill up, and how space comes back.
enum Full {
    Tmpfs(PathBuf),
    FileSizeLimit,
}

impl Full {
    fn prepare(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("dir");
        // PASSERELLE_TEST_NO_MOUNT=1 takes the file-size-limit path even as root.
        let mounted = std::env::var_os("PASSERELLE_TEST_NO_MOUNT").map_or_else(
            || Command::new("mount").args(["-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs"]).arg(dir).stderr(Stdio::null()).status(),
            |_| Err(std::io::ErrorKind::Unsupported.into()),
        );
        if mounted.is_ok_and(|s| s.success()) {
            return Self::Tmpfs(dir.to_owned());
        }
        eprintln!("no tmpfs mount (not root, or PASSERELLE_TEST_NO_MOUNT set): the journal's writes are limited by prlimit --fsize instead");
        Self::FileSizeLimit
    }

    fn start(&self, files: &GatewayFiles) -> Gateway {
        match self {
            Self::Tmpfs(_) => files.start(),
            // SIGXFSZ ignored (it would kill the process): writes past the limit fail with EFBIG.
            Self::FileSizeLimit => Gateway(
                Command::new("sh")
                    .args(["-c", "trap '' XFSZ; exec prlimit --fsize=3145728:unlimited -- \"$0\" run --config \"$1\""])
                    .arg(env!("CARGO_BIN_EXE_passerelle"))
                    .arg(&files.config)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start gateway"),
            ),
        }
    }

    fn give_space_back(&self, gateway: &Gateway) {
        let status = match self {
            Self::Tmpfs(dir) => Command::new("mount").args(["-o", "remount,size=256m"]).arg(dir).status(),
            Self::FileSizeLimit => Command::new("prlimit").args(["--pid", &gateway.id().to_string(), "--fsize=unlimited:unlimited"]).status(),
        };
        assert!(status.is_ok_and(|s| s.success()), "space given back");
    }
}

impl Drop for Full {
    fn drop(&mut self) {
        if let Self::Tmpfs(dir) = self {
            let _ = Command::new("umount").arg("-l").arg(dir).status();
        }
    }
}

#[test]
fn a_full_disk_answers_ar_207_never_aa_and_recovers_without_corruption() {
    let tmp = tempfile::tempdir().expect("tmp");
    let full = Full::prepare(&tmp.path().join("journal"));
    let files = GatewayFiles::write(tmp.path(), &tmp.path().join("journal/j.db"), "");
    let mut gateway = full.start(&files);
    let mut stream = files.connect_when_up();

    let (mut acked, mut refused) = (HashSet::new(), 0);
    let mut n = 0;
    // Until well past the point where the journal is full.
    while refused < 50 {
        n += 1;
        assert!(n < 5000, "the journal never filled up");
        let control = format!("FULL-{n}");
        match send(&mut stream, &adt(&control, 8000)) {
            Some((code, _)) if code == "AA" => {
                acked.insert(control);
            }
            Some((code, err)) => {
                assert!(code == "AR" && err.contains("|207"), "{control}: {code} {err}");
                refused += 1;
            }
            None => {
                stream = files.connect_when_up();
            }
        }
    }
    assert!(acked.len() > 10, "messages were taken before the disk filled: {}", acked.len());
    assert!(gateway.try_wait().expect("status").is_none(), "the gateway is still running");

    full.give_space_back(&gateway);
    for i in 0..20 {
        let control = format!("AFTER-{i}");
        let reply = send(&mut stream, &adt(&control, 8000));
        assert!(matches!(&reply, Some((code, _)) if code == "AA"), "{control} once space is back: {reply:?}");
        acked.insert(control);
    }
    files.wait_delivered(&acked);
    eprintln!("{} acknowledged, {refused} refused with AR 207 while full", acked.len());
    assert!(terminate(gateway), "SIGTERM ends the gateway cleanly");
    gateway = full.start(&files);
    files.connect_when_up();
    assert!(terminate(gateway));
    assert_eq!(files.integrity_check(), "ok");
}
