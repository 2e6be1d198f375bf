//! Gateway configuration: TOML, unknown keys are errors naming the file and line, `${ENV_VAR}`
//! expands secrets. The embedded default is config/passerelle.toml.

use crate::config_values::{check_url, host_port, line_of};
use crate::routing::RouteConfig;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The annotated default that runs out of the box (`passerelle run` with no flag).
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../config/passerelle.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub gateway: GatewayConfig,
    #[serde(default, rename = "listener")]
    pub listeners: Vec<ListenerConfig>,
    #[serde(default, rename = "destination")]
    pub destinations: Vec<DestinationConfig>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    /// `[[sender]]`: the facilities this gateway serves, counted by name.
    #[serde(default, rename = "sender")]
    pub senders: Vec<crate::senders::SenderConfig>,
    /// `[alerts]`: the thresholds of the built-in alert rules.
    #[serde(default)]
    pub alerts: crate::alert_rules::AlertRules,
    /// The first 12 hex digits of the SHA-256 of the file as written (before `${ENV}` expansion,
    /// so the nodes of a hub reading one file show one version).
    #[serde(skip)]
    pub version: String,
    /// The file this was loaded from (none for the embedded default): what a reload reads again.
    #[serde(skip)]
    pub source: Option<std::path::PathBuf>,
}

pub use crate::store::{StoreConfig, StoreKind};

pub use crate::admin_auth::AdminConfig;

/// Identity the gateway uses in ACKs to unreadable input, and logging switches.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    #[serde(default = "default_application")]
    pub application: String,
    #[serde(default = "default_facility")]
    pub facility: String,
    /// Named PHI switch: only when true may logs carry control ids or identifiers.
    #[serde(default)]
    pub log_phi: bool,
    /// This node's name on a shared store (owner of its delivery leases); the host name when empty.
    /// A node that restarts under the same name takes its own unfinished claims back at once.
    #[serde(default)]
    pub node_id: String,
    /// Rejected inputs stored per remote address and minute; beyond, answered and counted only.
    #[serde(default = "default_rejects_stored")]
    pub rejects_stored_per_minute: u32,
    /// Connections all MLLP and HTTP listeners together may hold (lowered to fit the descriptor limit).
    #[serde(default = "default_gateway_connections")]
    pub max_connections: usize,
    /// Bytes being read or not yet committed, gateway-wide; beyond, reads are refused (AR, 503).
    #[serde(default = "default_bytes_in_flight")]
    pub max_bytes_in_flight: usize,
    /// The share of `max_bytes_in_flight` one remote address may hold.
    #[serde(default = "default_bytes_in_flight_per_remote")]
    pub max_bytes_in_flight_per_remote: usize,
    /// A message whose facility no `[[sender]]` declares: `accept` (counted as `undeclared`) or
    /// `refuse` (AE / 422). Reloadable.
    #[serde(default)]
    pub undeclared_senders: crate::senders::UndeclaredSenders,
}

fn default_gateway_connections() -> usize {
    4096
}
fn default_bytes_in_flight() -> usize {
    256 << 20
}
fn default_bytes_in_flight_per_remote() -> usize {
    64 << 20
}

fn default_rejects_stored() -> u32 {
    120
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            application: default_application(),
            facility: default_facility(),
            log_phi: false,
            node_id: String::new(),
            rejects_stored_per_minute: default_rejects_stored(),
            max_connections: default_gateway_connections(),
            max_bytes_in_flight: default_bytes_in_flight(),
            max_bytes_in_flight_per_remote: default_bytes_in_flight_per_remote(),
            undeclared_senders: Default::default(),
        }
    }
}

fn default_application() -> String {
    "PASSERELLE".into()
}
fn default_facility() -> String {
    "GATEWAY".into()
}

pub use crate::listener_config::{ListenerAuth, ListenerConfig, ListenerKind};

/// `[destination.auth]`: a fixed `bearer = "${TOKEN}"`, or `oauth2 = { token_url, client_id,
/// client_secret }` (client credentials grant; the token is cached until it expires).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationAuth {
    pub bearer: Option<String>,
    pub oauth2: Option<OAuth2Config>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated scopes to ask for.
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Mllp,
    FhirHttp,
    Http,
    File,
}

impl DestinationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mllp => "mllp",
            Self::FhirHttp => "fhir_http",
            Self::Http => "http",
            Self::File => "file",
        }
    }
}

/// What kind of receiver a destination is; consent rules apply to `dmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestinationClass {
    Hospital,
    City,
    MedicoSocial,
    Dmp,
}

/// What a destination receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    Hl7v2,
    Fhir,
}

/// How a destination receives documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentRendering {
    /// The CDA R2 document itself (a level-1 CDA around a document that was not one).
    Cda,
    /// MDM^T02/T10/T04 (v2.6) with the CDA in OBX-5.
    Mdm,
    /// ORU^R01 (v2.5) with the CDA in OBX-5.
    Oru,
    /// FHIR transaction Bundle: Patient + DocumentReference + Binary.
    FhirBundle,
    /// IHE MHD ITI-65 provide-document bundle: SubmissionSet List + DocumentReference + Binary.
    Mhd,
}

impl DocumentRendering {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cda => "cda",
            Self::Mdm => "mdm",
            Self::Oru => "oru",
            Self::FhirBundle => "fhir-bundle",
            Self::Mhd => "mhd",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub name: String,
    pub kind: DestinationKind,
    /// `hospital`, `city`, `medico-social` or `dmp` (documents reach a `dmp` destination only
    /// with the patient's and the sender's consent).
    pub class: Option<DestinationClass>,
    /// `host:port` for `mllp`.
    pub address: Option<String>,
    /// Base URL for `fhir_http`, endpoint for `http`.
    pub url: Option<String>,
    /// Directory for `file`.
    pub dir: Option<String>,
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Payload for `http` and `file` (default: hl7v2 for file, fhir for http).
    pub format: Option<PayloadFormat>,
    /// What documents become: cda | mdm | oru | fhir-bundle | mhd (default: mdm for an hl7v2
    /// destination, fhir-bundle for a fhir one).
    pub rendering: Option<DocumentRendering>,
    /// The FHIR base URL a document's Binary is created under (default: `url` of a fhir_http
    /// destination); without one the Binary is referenced by its `urn:uuid` fullUrl.
    pub fhir_base: Option<String>,
    /// Patients delivered in parallel (MLLP always sends one at a time).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// HL7 v2 re-encoding for this destination: MSH-18 charset and MSH-12 version.
    pub charset: Option<String>,
    pub version: Option<String>,
    /// First retry delay; doubles each attempt up to `max_backoff_ms`, with jitter.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    #[serde(default = "default_max_backoff")]
    pub max_backoff_ms: u64,
    /// TLS to the destination: its CA, our client certificate, the name to verify.
    pub tls: Option<crate::tls::DestinationTls>,
    /// Credentials sent to an `http` / `fhir_http` destination.
    pub auth: Option<DestinationAuth>,
}

fn default_profile() -> String {
    "auto".into()
}
fn default_max_attempts() -> u32 {
    10
}
fn default_concurrency() -> usize {
    8
}
fn default_timeout() -> u64 {
    10_000
}
fn default_backoff() -> u64 {
    500
}
fn default_max_backoff() -> u64 {
    60_000
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Replaces `${NAME}` with the environment variable's value; a missing variable is an error.
/// Comments are left alone.
pub fn expand_env(text: &str, env: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let code_end = comment_start(line).unwrap_or(line.len());
        let (code, comment) = line.split_at(code_end);
        let mut rest = code;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("line {}: unterminated ${{", n + 1))?;
            let name = &after[..end];
            let value = env.get(name).ok_or_else(|| format!("line {}: environment variable {name} is not set", n + 1))?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out.push_str(comment);
    }
    Ok(out)
}

/// Byte offset of a `#` that starts a TOML comment (outside quotes).
fn comment_start(line: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') => return Some(i),
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    None
}

impl Config {
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let invalid = |message: String| ConfigError::Invalid { path: origin.to_owned(), message };
        let expanded = expand_env(text, &env).map_err(invalid)?;
        let mut config: Config = toml::from_str(&expanded).map_err(|e| {
            let line = e.span().and_then(|s| expanded.get(..s.start)).map(|before| before.matches('\n').count() + 1);
            let msg = e.message().to_owned();
            invalid(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })?;
        config.validate(&expanded).map_err(invalid)?;
        config.version = crate::admin_auth::sha256_hex(text.as_bytes())[..12].to_owned();
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    pub fn embedded_default() -> Result<Self, ConfigError> {
        Self::parse(EMBEDDED_DEFAULT, "embedded config/passerelle.toml")
    }

    /// Refuses what would only fail later (unusable URLs and addresses, zero limits, unknown
    /// destinations), naming the line of the offending key in `text`.
    fn validate(&self, text: &str) -> Result<(), String> {
        let at = |table: &str, index: usize, key: &str, message: String| match line_of(text, table, index, key) {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        };
        self.store.validate().map_err(|e| format!("store: {e}"))?;
        self.admin.validate().map_err(|e| format!("admin: {e}"))?;
        let mut listener_names = std::collections::HashSet::new();
        for (i, l) in self.listeners.iter().enumerate() {
            let name = &l.name;
            if !listener_names.insert(name.as_str()) {
                return Err(at("listener", i, "name", format!("listener {name} is defined twice")));
            }
            let bad_token = |t: &String| {
                let hex = t.strip_prefix("sha256:").unwrap_or("");
                hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            };
            if l.auth.as_ref().is_some_and(|a| a.tokens.is_empty() || a.tokens.iter().any(bad_token)) {
                return Err(at("listener", i, "name", format!("listener {name}: auth tokens are \"sha256:<64 hex digits>\" (sha256sum of the token)")));
            }
            if l.kind == ListenerKind::File {
                if l.dir.as_deref().is_none_or(str::is_empty) {
                    return Err(at("listener", i, "kind", format!("listener {name} needs `dir`")));
                }
            } else if host_port(&l.bind).is_none() {
                return Err(at("listener", i, "bind", format!("listener {name}: bind must be host:port, not {:?}", l.bind)));
            }
            for (key, value) in
                [("max_connections", l.max_connections as u64), ("max_frame_bytes", l.max_frame_bytes as u64), ("idle_timeout_secs", l.idle_timeout_secs)]
            {
                if value == 0 {
                    return Err(at("listener", i, key, format!("listener {name}: {key} must be at least 1")));
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, d) in self.destinations.iter().enumerate() {
            let name = &d.name;
            if !names.insert(name.as_str()) {
                return Err(at("destination", i, "name", format!("destination {name} is defined twice")));
            }
            let (key, present) = match d.kind {
                DestinationKind::Mllp => ("address", d.address.is_some()),
                DestinationKind::FhirHttp | DestinationKind::Http => ("url", d.url.is_some()),
                DestinationKind::File => ("dir", d.dir.as_deref().is_some_and(|dir| !dir.trim().is_empty())),
            };
            if !present {
                return Err(at("destination", i, "kind", format!("destination {name} needs `{key}`")));
            }
            if let Some(url) = d.url.as_deref().filter(|_| matches!(d.kind, DestinationKind::FhirHttp | DestinationKind::Http)) {
                check_url(url).map_err(|e| at("destination", i, "url", format!("destination {name}: url {e}")))?;
            }
            if let Some(address) = d.address.as_deref().filter(|_| d.kind == DestinationKind::Mllp)
                && host_port(address).is_none_or(|(_, port)| port == 0)
            {
                return Err(at("destination", i, "address", format!("destination {name}: address must be host:port, not {address:?}")));
            }
            if passerelle_fhir::Profile::parse(&d.profile).is_none() {
                return Err(at("destination", i, "profile", format!("destination {name}: unknown profile {} (auto, fr-core, be-core, generic)", d.profile)));
            }
            for (key, value) in
                [("max_attempts", u64::from(d.max_attempts)), ("concurrency", d.concurrency as u64), ("timeout_ms", d.timeout_ms), ("backoff_ms", d.backoff_ms)]
            {
                if value == 0 {
                    return Err(at("destination", i, key, format!("destination {name}: {key} must be at least 1")));
                }
            }
            if d.max_backoff_ms < d.backoff_ms {
                return Err(at("destination", i, "max_backoff_ms", format!("destination {name}: max_backoff_ms must not be below backoff_ms")));
            }
        }
        let listener_names: Vec<&str> = listener_names.into_iter().collect();
        crate::senders::validate(&self.senders, &listener_names).map_err(|(i, key, message)| at("sender", i, key, message))?;
        for (i, r) in self.routes.iter().enumerate() {
            for to in &r.to {
                if !names.contains(to.as_str()) {
                    return Err(at("route", i, "to", format!("route {} sends to unknown destination {to}", r.name)));
                }
            }
            for flag in r.matches.sharing_flags.iter().flatten() {
                if !passerelle_model::DocumentSharing::default().set(flag, true) {
                    return Err(at("route", i, "match", format!("route {}: unknown MetaDMPMSS flag {flag}", r.name)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_is_valid() {
        let c = Config::embedded_default().expect("default config");
        assert!(c.listeners.iter().any(|l| l.kind == ListenerKind::Mllp && l.bind == "127.0.0.1:2575"));
        assert!(c.listeners.iter().any(|l| l.kind == ListenerKind::Http && l.bind == "127.0.0.1:8080"));
        assert!(c.destinations.iter().any(|d| d.kind == DestinationKind::File));
    }

    #[test]
    fn unknown_keys_name_the_file_and_line() {
        let text = "[store]\npath = \"x.db\"\n\n[[listener]]\nname = \"a\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nbindd = 1\n";
        let err = Config::parse(text, "site.toml").expect_err("unknown key").to_string();
        assert!(err.starts_with("site.toml: line 8: unknown field `bindd`"), "{err}");
    }

    #[test]
    fn env_vars_expand_and_missing_ones_are_errors() {
        let env = HashMap::from([("TOKEN".to_string(), "s3cret".to_string())]);
        assert_eq!(expand_env("a = \"${TOKEN}\"", &env).expect("expand"), "a = \"s3cret\"");
        assert_eq!(expand_env("x\ny = \"${NOPE}\"", &env).expect_err("missing"), "line 2: environment variable NOPE is not set");
        assert_eq!(expand_env("# use ${NOPE} here\nk = \"#${TOKEN}\" # ${NOPE}\n", &env).expect("comments"), "# use ${NOPE} here\nk = \"#s3cret\" # ${NOPE}\n");
    }

    #[test]
    fn routes_must_name_known_destinations() {
        let text = "[store]\npath = \"x.db\"\n[[route]]\nname = \"r\"\nto = [\"ghost\"]\n";
        assert!(Config::parse(text, "c.toml").expect_err("ghost").to_string().contains("unknown destination ghost"));
    }
}
