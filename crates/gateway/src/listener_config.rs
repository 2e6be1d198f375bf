//! `[[listener]]`: what a listener is (MLLP, HTTP, file drop), where it binds, and the limits,
//! TLS and tokens that protect it.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerKind {
    Mllp,
    Http,
    /// Picks up files dropped in `dir` (HL7 v2 single or batch, CDA, FHIR JSON).
    File,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub name: String,
    pub kind: ListenerKind,
    /// `host:port` for `mllp` and `http`.
    #[serde(default)]
    pub bind: String,
    /// The directory a `file` listener watches; handled files go to `done/` or `error/` in it.
    pub dir: Option<String>,
    /// How often a `file` listener looks (a file is taken once its size held for one period).
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Connections one remote address may hold on this listener.
    #[serde(default = "default_max_per_remote")]
    pub max_connections_per_remote: usize,
    /// Time allowed for a new connection's first frame (MLLP) or a request's headers (HTTP).
    #[serde(default = "default_first_read_timeout")]
    pub first_read_timeout_secs: u64,
    /// Time allowed to receive a whole HTTP body.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: u64,
    /// TLS (and mutual TLS with `client_ca`) for an `mllp` or `http` listener.
    pub tls: Option<crate::tls::TlsConfig>,
    /// Bearer tokens an `http` listener accepts (their SHA-256).
    pub auth: Option<ListenerAuth>,
    /// Conformance validation of what arrives (`passerelle validate`'s packs): `warn` journals
    /// the findings with the message, `reject` answers AE / 422 naming the rules. Reloadable.
    pub validate: Option<ValidateMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidateMode {
    Warn,
    Reject,
}

/// `[listener.auth] tokens = ["sha256:<hex>", …]`: a request must carry one of these tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerAuth {
    pub tokens: Vec<String>,
}

fn default_max_per_remote() -> usize {
    32
}
fn default_first_read_timeout() -> u64 {
    10
}
fn default_body_timeout() -> u64 {
    30
}

fn default_poll_ms() -> u64 {
    1000
}
fn default_max_frame() -> usize {
    4 * 1024 * 1024
}
fn default_max_connections() -> usize {
    256
}
fn default_idle_timeout() -> u64 {
    300
}
