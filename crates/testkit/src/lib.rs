//! Dev-only helpers every test crate shares: workspace paths, the fixture walker with
//! `UPDATE_EXPECT=1`, free ports, and the independent validators and peers of ../shared/verify.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod private_postgres;
pub use private_postgres::PrivatePostgres;

/// The workspace root (two levels above any crate of ours).
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

/// ../shared/verify, set up by its setup.sh; `None` with a loud SKIPPED when absent. With
/// PASSERELLE_REQUIRE_VERIFY=1 (set by .ci/run) absence is a failure.
pub fn verify_dir() -> Option<PathBuf> {
    let dir = shared_dir().join("verify");
    if !dir.join("setup.sh").exists() {
        let msg = format!("independent validators not found at {} (set PASSERELLE_VERIFY_DIR)", dir.display());
        assert_ne!(std::env::var("PASSERELLE_REQUIRE_VERIFY").as_deref(), Ok("1"), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    let out = Command::new(dir.join("setup.sh")).output().expect("run setup.sh");
    assert!(out.status.success(), "verify setup failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(dir)
}

/// Runs one validator script of ../shared/verify on `paths`; panics with its report when anything
/// fails. Does nothing (SKIPPED) when the tools are absent.
pub fn run_validator(script: &str, extra: &[&str], paths: &[PathBuf]) {
    let Some(dir) = verify_dir() else { return };
    let out = Command::new(dir.join(".venv/bin/python")).arg(dir.join(script)).args(extra).args(paths).output().expect("run validator");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains(" passed, 0 failed"), "{report}");
}

/// A child process killed when dropped.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts one of the peers of ../shared/verify (`http_sink.py`, `mllp_peer.py`).
pub fn start_peer(dir: &Path, script: &str, args: &[&str]) -> Peer {
    let child =
        Command::new(dir.join(".venv/bin/python")).arg(dir.join(script)).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start peer");
    Peer(child)
}

/// Waits (at most 30 s) until something listens on loopback port `port`.
pub fn wait_for_port(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A TCP port free on loopback right now, for a process that binds it later.
///
/// Taken below the kernel's ephemeral range: a port the kernel hands out for `bind(0)` is also
/// the one it hands the next outgoing connection, so a test flooding connections once took the
/// port chosen for another test's gateway between the choice and the gateway's bind, and that
/// gateway never started (`free_port_was_taken_by_an_outgoing_connection` in this crate's tests).
pub fn free_port() -> u16 {
    use std::hash::BuildHasher;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next().and_then(|low| low.parse::<u64>().ok()))
        .unwrap_or(32768);
    let (low, high) = (10_000u64, ephemeral_low.min(65_536));
    if high <= low + 1_000 {
        return std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    }
    // Randomly keyed per process and per call, so that tests running at once draw apart.
    let random = std::collections::hash_map::RandomState::new();
    for draw in 0..1_000u64 {
        let port = u16::try_from(low + random.hash_one(draw) % (high - low)).expect("port");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range {ephemeral_low}")
}

/// Every file under `dir` (recursively) whose name ends with `.ext`, sorted.
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

/// True when expectations are being regenerated (`UPDATE_EXPECT=1`).
pub fn updating_expectations() -> bool {
    std::env::var("UPDATE_EXPECT").as_deref() == Ok("1")
}

/// Compares `actual` with the expectation file at `path`, or rewrites the file under
/// `UPDATE_EXPECT=1`. Returns what is wrong, if anything, so a walker reports every case at once.
pub fn check_expectation(path: &Path, actual: &str) -> Option<String> {
    if updating_expectations() {
        std::fs::write(path, actual).expect("write expectation");
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(_) => Some(format!("{} differs (UPDATE_EXPECT=1 to regenerate, then review the diff)", path.display())),
        Err(_) => Some(format!("{} is missing (UPDATE_EXPECT=1 to create it)", path.display())),
    }
}

/// The file beside `input` with the same stem and `suffix` (`case.hl7` → `case.fhir.json`).
pub fn expected_path(input: &Path, suffix: &str) -> PathBuf {
    let stem = input.file_stem().and_then(|s| s.to_str()).expect("stem");
    input.with_file_name(format!("{stem}.{suffix}"))
}

/// A fresh, empty PostgreSQL schema on the test server (`PASSERELLE_TEST_PG`, default
/// `host=127.0.0.1 port=5432 user=postgres dbname=test`): `url` connects with it as the search
/// path. Dropped by [`PgSchema::drop_schema`] at the end of a test.
pub struct PgSchema {
    pub url: String,
    pub schema: String,
    pub admin: tokio_postgres::Client,
}

/// The test server's base connection string.
pub fn pg_base_url() -> String {
    std::env::var("PASSERELLE_TEST_PG").unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

impl PgSchema {
    /// A new schema named after `name`; `None` (after saying SKIPPED) when no server is reachable,
    /// and a failure instead when `PASSERELLE_REQUIRE_PG=1` (as `.ci/run` sets).
    pub async fn create(name: &str) -> Option<Self> {
        let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or_default();
        let schema = format!("t_{name}_{}_{micros}", std::process::id());
        match tokio_postgres::connect(&pg_base_url(), tokio_postgres::NoTls).await {
            Ok((admin, connection)) => {
                tokio::spawn(connection);
                admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
                let url = format!("{} options='-c search_path={schema}'", pg_base_url());
                Some(Self { url, schema, admin })
            }
            Err(e) => {
                assert!(std::env::var("PASSERELLE_REQUIRE_PG").as_deref() != Ok("1"), "PostgreSQL required but not reachable at {}: {e}", pg_base_url());
                eprintln!("SKIPPED: PostgreSQL not reachable at {} ({e}); set PASSERELLE_TEST_PG", pg_base_url());
                None
            }
        }
    }

    pub async fn drop_schema(self) {
        self.admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema)).await.expect("drop schema");
    }
}

#[cfg(test)]
mod tests {
    /// A port chosen for a later bind was handed by the kernel to another test's outgoing
    /// connection in between, and the gateway given that port never started.
    #[test]
    fn free_port_was_taken_by_an_outgoing_connection() {
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").expect("the kernel's ephemeral range");
        let low: u16 = range.split_whitespace().next().and_then(|l| l.parse().ok()).expect("low bound");
        let drawn: std::collections::HashSet<u16> = (0..200).map(|_| super::free_port()).collect();
        assert!(drawn.iter().all(|p| *p < low), "a port the kernel may give an outgoing connection: {drawn:?}");
        assert!(drawn.len() > 190, "consecutive draws in one test differ: {}", drawn.len());
    }
}
