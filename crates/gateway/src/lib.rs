//! The gateway runtime: config, MLLP and HTTP listeners, the ingest pipeline (journal + outbox
//! before any ACK), declarative routing, delivery workers, metrics and the admin API.
//!
//! This is the only crate that opens sockets, reads config or the environment, or emits metrics.

pub mod admin;
pub mod admin_auth;
pub mod alert_rules;
pub mod batch_ingest;
pub mod codec;
pub mod config;
pub mod config_values;
pub mod consent;
pub mod console;
pub mod counter_history;
pub mod delivery;
pub mod embedded;
pub mod file_listener;
pub mod http_ingest;
pub mod http_server;
pub mod identity;
pub mod identity_alerts;
pub mod intake;
pub mod limits;
pub mod listener_config;
pub mod listeners;
pub mod metrics;
pub mod pipeline;
pub mod reload;
pub mod routing;
pub mod runtime;
pub mod senders;
pub mod store;
pub mod tls;
pub mod validation;
pub mod visit;

pub use config::Config;
pub use runtime::{RunningGateway, StartError, start};
pub use store::open_store;
