//! Opening the store: the one function the runtime and the CLI both call, so both see the same
//! backend, path and node identity.

use crate::config::Config;
use passerelle_store::{Lease, SqliteStore, Store, StoreError};
use std::sync::Arc;

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
pub fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    let lease = Lease { owner: node_id(config), duration_ms: i64::try_from(config.store.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX) };
    Ok(Arc::new(SqliteStore::open_as(&config.store.path, lease)?))
}
