//! A PostgreSQL server of a test's own (its own initdb in a temporary directory, on its own
//! port): for what the shared server cannot do for one test without disturbing the others, such
//! as being stopped and started again, or accepting TLS connections only. PostgreSQL refuses to
//! run as root, so as root its tools run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivatePostgres {
    bin: PathBuf,
    /// The data directory (postgresql.conf, pg_hba.conf; files the server reads go here).
    pub data: PathBuf,
    pub port: u16,
    /// Extra `-c name=value` options for every start.
    pub options: String,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// A new cluster (not started), or `None` when PostgreSQL's server binaries are not installed.
    pub fn init() -> Option<Self> {
        let mut versions: Vec<PathBuf> =
            std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path().join("bin")).filter(|b| b.join("pg_ctl").exists()).collect();
        versions.sort();
        let bin = versions.pop()?;
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("data");
        let server = Self { bin, data, port: crate::free_port(), options: String::new(), _dir: dir };
        server.own(server._dir.path());
        let init = server.tool("initdb").args(["-U", "postgres", "-A", "trust", "--no-sync", "-D"]).arg(&server.data).output().expect("initdb");
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        Some(server)
    }

    /// `tool` of PostgreSQL's binaries, run as the server's user.
    fn tool(&self, tool: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        }
    }

    /// Gives `path` (and what is under it) to the server's user, readable by it only.
    pub fn own(&self, path: &Path) {
        if is_root() {
            let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(path).status();
        }
    }

    pub fn url(&self) -> String {
        format!("host=127.0.0.1 port={} user=postgres dbname=postgres", self.port)
    }

    pub fn start(&self) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {} {}", self.port, self.data.display(), self.options);
        let log = self.data.join("server.log");
        let out = self.tool("pg_ctl").args(["-w", "-D"]).arg(&self.data).args(["-o", &options, "-l"]).arg(&log).arg("start").output().expect("pg_ctl start");
        assert!(out.status.success(), "pg_ctl start: {} {}", String::from_utf8_lossy(&out.stderr), std::fs::read_to_string(&log).unwrap_or_default());
    }

    /// A fast shutdown: every connection cut, as at a server restart.
    pub fn stop(&self) {
        let out = self.tool("pg_ctl").args(["-w", "-m", "fast", "-D"]).arg(&self.data).arg("stop").output().expect("pg_ctl stop");
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl").args(["-w", "-m", "immediate", "-D"]).arg(&self.data).arg("stop").output();
    }
}
