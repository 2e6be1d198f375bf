//! `[store]` and opening it: the one function the runtime and the CLI both call, so both see the
//! same backend (embedded SQLite, or PostgreSQL for several nodes), place and node identity.

use crate::config::Config;
use passerelle_store::{Lease, PostgresStore, SqliteStore, Store, StoreError};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// One file beside the gateway (`path`): the embedded default.
    #[default]
    Sqlite,
    /// A PostgreSQL database (`url`) that several gateway nodes share.
    Postgres,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default)]
    pub kind: StoreKind,
    /// SQLite database file.
    #[serde(default)]
    pub path: String,
    /// PostgreSQL connection (`postgres://user:password@host:5432/db` or `host=… user=… dbname=…`;
    /// `${PASSERELLE_DB_URL}` keeps the password out of the file).
    #[serde(default)]
    pub url: String,
    /// PostgreSQL connections this node keeps at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Delivered messages older than this are purged (0 keeps everything).
    #[serde(default)]
    pub retention_days: u32,
    /// Keep the normalised model (JSON) beside the raw bytes. It can always be derived again from
    /// the raw bytes; turning it off raised durable ingest from ~9.5k to ~11.4k msg/s (README).
    #[serde(default = "default_true")]
    pub keep_normalised: bool,
    /// How long a node's claim on an outbox row lasts without renewal; a node renews its claims
    /// every third of it while it sends, so only a dead node's claims expire.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
    /// `[store.tls]`: TLS to PostgreSQL, required once given (`ca`: the CA of the server's
    /// certificate, whose name or address must be the URL's host; `cert` and `key`: ours).
    pub tls: Option<StoreTls>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTls {
    pub ca: String,
    pub cert: Option<String>,
    pub key: Option<String>,
}

fn default_pool_size() -> usize {
    16
}
fn default_lease_secs() -> u64 {
    30
}
fn default_true() -> bool {
    true
}

impl StoreConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.lease_secs == 0 {
            return Err("lease_secs must be at least 1".to_owned());
        }
        if let Some(tls) = &self.tls {
            if self.kind != StoreKind::Postgres {
                return Err("[store.tls] is for kind = \"postgres\"".to_owned());
            }
            if tls.cert.is_some() != tls.key.is_some() {
                return Err("[store.tls] cert and key go together".to_owned());
            }
        } else if self.kind == StoreKind::Postgres && self.url.contains("sslmode=require") {
            return Err("url asks for sslmode=require: give [store.tls] ca (the CA of the server's certificate)".to_owned());
        }
        match self.kind {
            StoreKind::Sqlite if self.path.trim().is_empty() => Err("kind = \"sqlite\" needs `path`".to_owned()),
            StoreKind::Postgres if self.url.trim().is_empty() => Err("kind = \"postgres\" needs `url`".to_owned()),
            StoreKind::Postgres if self.pool_size == 0 => Err("pool_size must be at least 1".to_owned()),
            StoreKind::Postgres => passerelle_store::postgres::check_url(&self.url).map_err(|e| format!("url: {e}")),
            StoreKind::Sqlite => Ok(()),
        }
    }
}

/// This node's name: `[gateway] node_id`, else the host name, else `local`.
pub fn node_id(config: &Config) -> String {
    if !config.gateway.node_id.trim().is_empty() {
        return config.gateway.node_id.trim().to_owned();
    }
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// Opens (creating and migrating if needed) the configured store for this node.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    let lease = Lease { owner: node_id(config), duration_ms: i64::try_from(config.store.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX) };
    Ok(match config.store.kind {
        StoreKind::Sqlite => Arc::new(SqliteStore::open_as(&config.store.path, lease)?),
        StoreKind::Postgres => {
            let tls = config.store.tls.as_ref().map(|t| passerelle_store::postgres::PgTlsFiles { ca: t.ca.clone(), cert: t.cert.clone(), key: t.key.clone() });
            Arc::new(PostgresStore::open_with_tls(&config.store.url, config.store.pool_size, lease, tls.as_ref()).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn tls_to_postgresql_is_checked_at_load() {
        let base = "[store]\nkind = \"postgres\"\nurl = \"host=db.example user=passerelle sslmode=require\"\n";
        let err = Config::parse(base, "hub.toml").expect_err("no ca").to_string();
        assert!(err.contains("sslmode=require: give [store.tls] ca"), "{err}");
        let with_ca = format!("{base}[store.tls]\nca = \"/etc/passerelle/db-ca.pem\"\n");
        let config = Config::parse(&with_ca, "hub.toml").expect("with a ca");
        assert_eq!(config.store.tls.map(|t| t.ca), Some("/etc/passerelle/db-ca.pem".to_owned()));
        let half = format!("{with_ca}cert = \"/etc/passerelle/node.pem\"\n");
        assert!(Config::parse(&half, "hub.toml").expect_err("cert without key").to_string().contains("cert and key go together"));
        let sqlite = "[store]\npath = \"x.db\"\n[store.tls]\nca = \"ca.pem\"\n";
        assert!(Config::parse(sqlite, "hub.toml").expect_err("sqlite").to_string().contains("is for kind = \"postgres\""));
    }
}
