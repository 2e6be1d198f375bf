//! Who may use the admin port, and for what: `[admin]` `allowed_hosts` (the Host header is
//! checked, against DNS rebinding) and `[[admin.token]]` bearer tokens, stored as their SHA-256,
//! each with a role. `metrics` reads /metrics, /healthz and /readyz; `operator` also reads message
//! metadata and the outbox, without patient data; `phi` also reads patient identifiers and message
//! bodies, every such read written to the audit trail first. Without tokens the port is open, which
//! the configuration allows only on a loopback address.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// What a caller may read, each role including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Metrics,
    Operator,
    Phi,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metrics => "metrics",
            Self::Operator => "operator",
            Self::Phi => "phi",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    pub role: Role,
    /// Hex SHA-256 of the token (`${ENV}` allowed): the token itself is never in the file.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default = "default_admin_bind")]
    pub bind: String,
    /// Host header values (without port) the admin port answers; default: the loopback names and
    /// the bound address.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub token: Vec<AdminToken>,
    /// TLS for the admin port (`[admin.tls]`, the listener's keys, mutual TLS included).
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { bind: default_admin_bind(), allowed_hosts: Vec::new(), token: Vec::new(), tls: None }
    }
}

fn default_admin_bind() -> String {
    "127.0.0.1:9090".into()
}

fn is_loopback(bind: &str) -> bool {
    bind.parse::<SocketAddr>().is_ok_and(|a| a.ip().is_loopback()) || bind.starts_with("localhost:")
}

impl AdminConfig {
    /// A reachable admin port needs tokens; token hashes are 64 hex digits.
    pub fn validate(&self) -> Result<(), String> {
        if self.token.is_empty() && !is_loopback(&self.bind) {
            return Err(format!("admin bind {} is reachable beyond this machine: configure [[admin.token]] (roles metrics, operator, phi)", self.bind));
        }
        for t in &self.token {
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("admin token sha256 must be 64 hex digits (sha256sum of the token)".into());
            }
        }
        Ok(())
    }
}

/// The admin port's access rules, ready to check requests.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    tokens: Vec<(Role, String)>,
    hosts: Vec<String>,
    /// The admin port serves TLS: the session cookie is then `Secure`.
    pub tls: bool,
}

/// The caller of a request that passed: its role and where it came from (for the audit trail).
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub remote: String,
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    passerelle_model::hex::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

impl AdminAuth {
    pub fn new(config: &AdminConfig, bound: SocketAddr) -> Self {
        // Loopback names are always allowed (a rebinding attack needs a name of the attacker's):
        // probes and health checks from inside a container or pod use them.
        let mut hosts: Vec<String> = config.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        hosts.extend(["localhost".into(), "127.0.0.1".into(), "[::1]".into(), bound.ip().to_string()]);
        Self { tokens: config.token.iter().map(|t| (t.role, t.sha256.to_ascii_lowercase())).collect(), hosts, tls: config.tls.is_some() }
    }

    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        let name = if host.starts_with('[') { host.split_inclusive(']').next().unwrap_or(host) } else { host.split(':').next().unwrap_or(host) };
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// The caller's role: its token's (a bearer token, or the console's session cookie), or every
    /// role when no token is configured (loopback only).
    fn role(&self, authorization: Option<&str>, cookie: Option<&str>) -> Option<Role> {
        if self.tokens.is_empty() {
            return Some(Role::Phi);
        }
        let token = authorization.and_then(|a| a.strip_prefix("Bearer ")).map(str::trim).or_else(|| cookie.and_then(session_cookie))?;
        self.role_of_token(token)
    }

    /// The role `token` carries, if it is one of the configured tokens.
    pub fn role_of_token(&self, token: &str) -> Option<Role> {
        if self.tokens.is_empty() {
            return Some(Role::Phi);
        }
        let digest = sha256_hex(token.as_bytes());
        // Every configured hash is compared, so timing does not tell which matched.
        self.tokens.iter().fold(None, |found, (role, hash)| if constant_time_eq(hash.as_bytes(), digest.as_bytes()) { Some(*role) } else { found })
    }
}

/// The console's session cookie: the token itself, HttpOnly and SameSite=Strict (a cross-site
/// request never carries it), set by `POST /login`.
pub const SESSION_COOKIE: &str = "passerelle_admin";

/// The session token in a Cookie header.
fn session_cookie(header: &str) -> Option<&str> {
    header.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(SESSION_COOKIE).and_then(|v| v.strip_prefix('='))).filter(|v| !v.is_empty())
}

/// Equal bytes, compared in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The role a request needs: patient data (a message, a rendering, the audit trail, a search by
/// patient) is `phi`, the rest of the API `operator`, the probes `metrics`.
fn required(path: &str, query: Option<&str>) -> Role {
    let by_patient = query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("patient=") || kv.starts_with("identifier=")));
    match path {
        "/metrics" | "/healthz" | "/readyz" => Role::Metrics,
        "/api/audit" => Role::Phi,
        p if p.starts_with("/api/identity/") || p == "/identity" || p.starts_with("/console/identity/") => Role::Phi,
        "/api/messages" | "/messages" | "/api/messages/bulk" | "/console/messages/bulk" if by_patient => Role::Phi,
        // A bulk action by sender, type, destination or time touches no patient data.
        "/api/messages/bulk" | "/console/messages/bulk" => Role::Operator,
        p if p.starts_with("/api/messages/") || p.starts_with("/messages/") || p.ends_with("/rendering") => Role::Phi,
        _ => Role::Operator,
    }
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], format!("{{\"error\":\"{why}\"}}")).into_response()
}

/// The middleware: Host, then token and role; the caller goes to the handler as an extension.
pub async fn check(State(auth): State<Arc<AdminAuth>>, ConnectInfo(remote): ConnectInfo<SocketAddr>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    if !auth.host_allowed(headers.get(header::HOST).and_then(|h| h.to_str().ok())) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "host not allowed on the admin port");
    }
    // Liveness and readiness answer anyone who passed the Host check: they say up or not, nothing
    // else; the console's login page is where a browser gets its session.
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/login") {
        request.extensions_mut().insert(Caller { role: Role::Metrics, remote: remote.to_string() });
        return next.run(request).await;
    }
    let cookie = headers.get(header::COOKIE).and_then(|h| h.to_str().ok());
    let Some(role) = auth.role(headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()), cookie) else {
        // A browser asking for a page is sent to the login form.
        let wants_page = headers.get(header::ACCEPT).and_then(|h| h.to_str().ok()).is_some_and(|a| a.contains("text/html"));
        if wants_page && request.method() == axum::http::Method::GET {
            return axum::response::Redirect::to("/login").into_response();
        }
        let mut response = refuse(StatusCode::UNAUTHORIZED, "a bearer token is required");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return response;
    };
    let needed = required(request.uri().path(), request.uri().query());
    if role < needed {
        return refuse(StatusCode::FORBIDDEN, &format!("role {} cannot read this: it needs {}", role.as_str(), needed.as_str()));
    }
    request.extensions_mut().insert(Caller { role, remote: remote.to_string() });
    next.run(request).await
}
