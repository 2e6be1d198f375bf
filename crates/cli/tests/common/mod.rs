//! Helpers shared by the CLI integration tests: paths, running the binary, the independent validators.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// ../shared beside the project (or the parent of $PASSERELLE_VERIFY_DIR): corpus and validators.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("PASSERELLE_VERIFY_DIR") {
        Some(v) => PathBuf::from(v).join(".."),
        None => workspace_root().join("../shared"),
    }
}

pub fn passerelle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passerelle")).args(args).output().expect("run passerelle")
}

/// The third-party validators in ../shared/verify (or $PASSERELLE_VERIFY_DIR), prepared by setup.sh.
/// Returns the python interpreter and the verify dir, or `None` (with a loud message) when absent.
/// With PASSERELLE_REQUIRE_VERIFY=1 (set by .ci/run) absence is a failure.
pub fn verify_tools() -> Option<(PathBuf, PathBuf)> {
    let dir = shared_dir().join("verify");
    if !dir.join("setup.sh").exists() {
        let msg = format!("independent validators not found at {} (set PASSERELLE_VERIFY_DIR)", dir.display());
        if std::env::var("PASSERELLE_REQUIRE_VERIFY").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    let status = Command::new(dir.join("setup.sh")).output().expect("run setup.sh");
    assert!(status.status.success(), "verify setup failed: {}", String::from_utf8_lossy(&status.stderr));
    Some((dir.join(".venv/bin/python"), dir))
}

/// Runs one validator script on paths; panics with its report when anything fails.
pub fn run_validator(script: &str, extra: &[&str], paths: &[PathBuf]) {
    let Some((python, dir)) = verify_tools() else { return };
    let out = Command::new(python).arg(dir.join(script)).args(extra).args(paths).output().expect("run validator");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains(" passed, 0 failed"), "{report}");
}

pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}
