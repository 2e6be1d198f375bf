//! The admin port: `/metrics`, `/healthz`, `/readyz`, `/api/messages` (by `patient=`,
//! `identifier=SYSTEM|VALUE`, `control_id=`, `status=`, `sender=`, `message_type=`,
//! `destination=`, `since=`, `until=`), `/api/outbox` and `/api/audit` (JSON for
//! operators and the console, crate::console), behind [`crate::admin_auth`]: an `operator` sees
//! messages without their patient, a `phi` reader sees them whole, each read audited first.

use crate::admin_auth::{AdminAuth, Caller, Role};
use crate::metrics::Metrics;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use passerelle_store::{AuditEntry, MessageQuery, MessageStatus, OutboxFilter, OutboxStatus, PatientKeys, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone)]
pub struct AdminState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// The running configuration: its destinations, its version, and its reload.
    pub live: Arc<crate::reload::LiveConfig>,
    /// How long a claim lasts: a node silent for longer is reported gone.
    pub lease_ms: i64,
    /// The built-in alert rules firing now (`[alerts]`).
    pub alerts: crate::alert_rules::Current,
    /// This node's counters sampled each minute over the last day (the dashboard's windows).
    pub history: Arc<crate::counter_history::CounterHistory>,
    /// The bulk actions run from the console on this node, with their progress.
    pub jobs: Arc<crate::console::Jobs>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DestinationInfo {
    pub name: String,
    pub kind: &'static str,
}

pub fn router(state: AdminState, auth: Arc<AdminAuth>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/messages", get(messages))
        .route("/api/messages/{id}", get(message))
        .route("/api/destinations", get(destinations))
        .route("/api/outbox", get(outbox))
        .route("/api/outbox/{id}/rendering", get(rendering))
        .route("/api/audit", get(audit_trail))
        .route("/api/nodes", get(nodes))
        .route("/api/senders", get(senders))
        .route("/api/config", get(config_version))
        .route("/api/config/reload", axum::routing::post(reload))
        .route("/api/alerts", get(firing_alerts))
        .route("/api/identity/alerts", get(identity_alerts))
        .route("/api/identity/alerts/acknowledge", axum::routing::post(acknowledge_alert))
        .merge(crate::console::routes())
        .layer(axum::middleware::from_fn_with_state(auth.clone(), crate::admin_auth::check))
        .layer(Extension(auth))
        .with_state(state)
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
}

/// Writes the read of patient data to the audit trail; the data is returned only once it is.
pub(crate) async fn audited(s: &AdminState, caller: &Caller, action: &str, target: String) -> Result<(), Response> {
    let entry =
        AuditEntry { at_ms: crate::pipeline::now_ms(), role: caller.role.as_str().into(), remote: caller.remote.clone(), action: action.into(), target };
    s.store.audit(entry).await.map_err(|e| unavailable(format!("audit trail unavailable, nothing returned: {e}")))
}

#[derive(Deserialize)]
struct AuditParams {
    /// RFC 3339 (`2026-12-01T10:00:00Z`).
    since: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/audit?since=<RFC 3339>` (role `phi`): `{at, role, remote, action, target}`.
async fn audit_trail(State(s): State<AdminState>, Query(p): Query<AuditParams>) -> Response {
    let since = match p.since.as_deref() {
        None => 0,
        Some(t) => match passerelle_model::PartialDateTime::parse_fhir(t).and_then(|d| d.to_unix_ms()) {
            Some(ms) => ms,
            None => return bad_request(format!("since must be an RFC 3339 time with its offset, got {t}")),
        },
    };
    match s.store.audit_since(since, p.limit.unwrap_or(1000).min(10_000)).await {
        Ok(entries) => {
            let rows: Vec<serde_json::Value> = entries
                .into_iter()
                .map(|e| {
                    let at = passerelle_model::PartialDateTime::from_unix_ms(e.at_ms).and_then(|t| t.fhir_instant(passerelle_model::TimeZoneRule::Utc));
                    serde_json::json!({ "at": at, "role": e.role, "remote": e.remote, "action": e.action, "target": e.target })
                })
                .collect();
            Json(rows).into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /api/nodes` (role `operator`): every node on this store with its last heartbeat, its
/// configuration and binary versions, and whether it is alive (beat within a lease).
async fn nodes(State(s): State<AdminState>) -> Response {
    let now = crate::pipeline::now_ms();
    let at = |ms: i64| passerelle_model::PartialDateTime::from_unix_ms(ms).and_then(|t| t.fhir_instant(passerelle_model::TimeZoneRule::Utc));
    match s.store.nodes().await {
        Ok(nodes) => Json(
            nodes
                .into_iter()
                .map(|n| {
                    let age_ms = (now - n.seen_ms).max(0);
                    serde_json::json!({
                        "node": n.node, "started_at": at(n.started_ms), "last_heartbeat": at(n.seen_ms),
                        "age_secs": age_ms as f64 / 1000.0, "alive": age_ms < s.lease_ms,
                        "config_version": n.config_version, "binary_version": n.binary_version,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => unavailable(e),
    }
}

async fn metrics(State(s): State<AdminState>) -> Response {
    if let Ok(depth) = s.store.depth().await {
        s.metrics.outbox_depth.reset();
        for (destination, n) in depth {
            s.metrics.outbox_depth.with_label_values(&[&destination]).set(n as i64);
        }
    }
    if let Ok(oldest) = s.store.oldest_queued().await {
        let now = crate::pipeline::now_ms();
        s.metrics.outbox_oldest_age.reset();
        for (destination, received_ms) in oldest {
            s.metrics.outbox_oldest_age.with_label_values(&[&destination]).set((now - received_ms).max(0) as f64 / 1000.0);
        }
    }
    // Node ids are the hub's own configuration (bounded), never patient data.
    if let Ok(nodes) = s.store.nodes().await {
        let now = crate::pipeline::now_ms();
        s.metrics.node_heartbeat_age.reset();
        for n in nodes {
            s.metrics.node_heartbeat_age.with_label_values(&[&n.node]).set((now - n.seen_ms).max(0) as f64 / 1000.0);
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()).into_response()
}

/// Ready when the store answers.
async fn readyz(State(s): State<AdminState>) -> Response {
    match s.store.depth().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            // Anyone may ask (probes carry no token): the reason goes to the log only.
            tracing::warn!(error = %e, "not ready: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

/// The search parameters of `/api/messages` and of the console's `/messages`.
#[derive(Deserialize, Default)]
pub(crate) struct MessagesParams {
    pub patient: Option<String>,
    /// `SYSTEM|VALUE`, the system as Passerelle renders it in FHIR (`urn:oid:…`, the BE SSIN
    /// naming system, or an IPP authority's namespace).
    pub identifier: Option<String>,
    pub control_id: Option<String>,
    pub status: Option<String>,
    pub sender: Option<String>,
    /// `ADT` or `ADT^A01`.
    pub message_type: Option<String>,
    /// The type code of the document carried (LOINC `11488-4`).
    pub document_type: Option<String>,
    pub destination: Option<String>,
    /// RFC 3339 bounds of the reception time.
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<usize>,
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": message }))).into_response()
}

impl MessagesParams {
    /// Whether the search names a patient (the `phi` role sees it; each such view is audited).
    pub(crate) fn by_patient(&self) -> bool {
        [&self.patient, &self.identifier].iter().any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }

    /// The store's query (an empty parameter is no condition), `limit=` rows or `default_limit`,
    /// never more than `max_limit`, or what is wrong with a parameter.
    pub(crate) fn query(self, default_limit: usize, max_limit: usize) -> Result<MessageQuery, String> {
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let status = match given(self.status).as_deref() {
            None => None,
            Some("accepted") => Some(MessageStatus::Accepted),
            Some("rejected") => Some(MessageStatus::Rejected),
            Some("withheld") => Some(MessageStatus::Withheld),
            Some(other) => return Err(format!("unknown status {other} (accepted, rejected, withheld)")),
        };
        let identifier = match given(self.identifier).as_deref().map(|v| v.split_once('|')) {
            None => None,
            Some(Some((system, value))) if !system.is_empty() && !value.is_empty() => Some((system.to_owned(), value.to_owned())),
            Some(_) => return Err("identifier must be SYSTEM|VALUE, e.g. urn:oid:1.2.250.1.213.1.4.10|279035121518989".into()),
        };
        let time = |t: Option<String>| given(t).map(|t| passerelle_model::PartialDateTime::parse_fhir(&t).and_then(|d| d.to_unix_ms()).ok_or(t)).transpose();
        let bad_time = |t: String| format!("since and until are RFC 3339 times with their offset, got {t}");
        Ok(MessageQuery {
            patient: given(self.patient),
            identifier,
            control_id: given(self.control_id),
            status,
            sender: given(self.sender),
            message_type: given(self.message_type),
            document_type: given(self.document_type),
            destination: given(self.destination),
            since_ms: time(self.since).map_err(bad_time)?,
            until_ms: time(self.until).map_err(bad_time)?,
            limit: self.limit.unwrap_or(default_limit).min(max_limit),
        })
    }
}

async fn messages(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<MessagesParams>) -> Response {
    let by_patient = p.by_patient();
    let query = match p.query(100, 1000) {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    let target = if by_patient { "messages by patient".to_owned() } else { "messages".to_owned() };
    match s.store.search(query).await {
        Ok(mut rows) if caller.role < Role::Phi => {
            // Message metadata without the patient.
            rows.iter_mut().for_each(|r| r.patient = PatientKeys::default());
            Json(rows).into_response()
        }
        Ok(rows) => match audited(&s, &caller, "search", format!("{target} ({} found)", rows.len())).await {
            Ok(()) => Json(rows).into_response(),
            Err(refused) => refused,
        },
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct OutboxParams {
    destination: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
}

async fn outbox(State(s): State<AdminState>, Query(p): Query<OutboxParams>) -> Response {
    let status = match p.status.as_deref().map(|v| OutboxStatus::parse(v).ok_or(v)) {
        None => None,
        Some(Ok(st)) => Some(st),
        Some(Err(other)) => return bad_request(format!("unknown status {other} (pending, inflight, delivered, dead)")),
    };
    let filter = OutboxFilter { destination: p.destination, status, limit: p.limit.unwrap_or(100).min(1000) };
    match s.store.list(filter).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": e.to_string() }))).into_response(),
    }
}

/// The bytes a destination receives for one outbox row, with their content type: the lineage
/// raw → model → rendering an operator inspects.
async fn rendering(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Path(id): Path<i64>) -> Response {
    if let Err(refused) = audited(&s, &caller, "read rendering", format!("outbox/{id}")).await {
        return refused;
    }
    match s.store.rendering(id).await {
        Ok(Some(r)) => ([(header::CONTENT_TYPE, r.content_type)], r.bytes).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no outbox row {id}") }))).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": e.to_string() }))).into_response(),
    }
}

/// One message in full: summary, the model read back from the journal, the deliveries made from it.
/// The raw bytes are in `raw` as text (lossy for non-UTF-8 input) for inspection.
async fn message(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Path(id): Path<i64>) -> Response {
    if let Err(refused) = audited(&s, &caller, "read message", format!("message/{id}")).await {
        return refused;
    }
    match s.store.message(id).await {
        Ok(Some(m)) => {
            let model = match m.normalised.as_deref().map(serde_json::from_slice::<passerelle_model::Message>) {
                None => serde_json::Value::Null,
                Some(Ok(model)) => serde_json::to_value(model).unwrap_or_default(),
                Some(Err(e)) => serde_json::json!({ "error": format!("journaled model unreadable: {e}") }),
            };
            Json(serde_json::json!({
                "summary": m.summary,
                "model": model,
                "raw": String::from_utf8_lossy(&m.raw),
                "ack": String::from_utf8_lossy(&m.ack),
                "deliveries": m.deliveries,
                "attempts": m.attempts,
            }))
            .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no message {id}") }))).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "error": e.to_string() }))).into_response(),
    }
}

/// `GET /api/destinations`: the configured destinations with their queued rows, and any
/// destination a reload removed that still has rows in the outbox (`configured: false`) until an
/// operator retries or dead-letters them.
async fn destinations(State(s): State<AdminState>) -> Response {
    let configured = s.live.destinations.read().map(|d| d.clone()).unwrap_or_default();
    let depth: std::collections::HashMap<String, u64> = match s.store.depth().await {
        Ok(depth) => depth.into_iter().collect(),
        Err(e) => return unavailable(e),
    };
    let mut rows: Vec<serde_json::Value> = configured
        .iter()
        .map(|d| {
            let queued = depth.get(&d.name).copied().unwrap_or(0);
            serde_json::json!({ "name": d.name, "kind": d.kind, "configured": true, "queued": queued, "paused": s.live.is_paused(&d.name) })
        })
        .collect();
    let mut removed: Vec<(&String, &u64)> = depth.iter().filter(|(name, n)| **n > 0 && !configured.iter().any(|d| &d.name == *name)).collect();
    removed.sort();
    rows.extend(removed.into_iter().map(|(name, n)| serde_json::json!({ "name": name, "kind": null, "configured": false, "queued": n })));
    Json(rows).into_response()
}

/// `GET /api/senders` (role `operator`): each declared sender with its facilities and listeners,
/// then `undeclared` and `unidentified`, with this node's message counts by outcome since it started.
async fn senders(State(s): State<AdminState>) -> Response {
    use prometheus::core::Collector;
    let mut counts: std::collections::HashMap<String, std::collections::BTreeMap<String, u64>> = std::collections::HashMap::new();
    for family in s.metrics.sender_messages.collect() {
        for m in family.get_metric() {
            let label = |name: &str| m.get_label().iter().find(|l| l.name() == name).map(|l| l.value().to_owned()).unwrap_or_default();
            *counts.entry(label("sender")).or_default().entry(label("outcome")).or_default() += m.get_counter().get_value() as u64;
        }
    }
    let mut rows: Vec<serde_json::Value> = s
        .live
        .senders()
        .into_iter()
        .map(|d| {
            let messages = counts.remove(&d.name).unwrap_or_default();
            serde_json::json!({ "name": d.name, "declared": true, "facilities": d.facilities, "listeners": d.listeners, "messages": messages })
        })
        .collect();
    for label in [crate::senders::UNDECLARED, crate::senders::UNIDENTIFIED] {
        let messages = counts.remove(label).unwrap_or_default();
        rows.push(serde_json::json!({ "name": label, "declared": false, "messages": messages }));
    }
    Json(rows).into_response()
}

/// `GET /api/config`: the version (first 12 hex digits of the file's SHA-256) this node runs.
async fn config_version(State(s): State<AdminState>) -> Response {
    let version = s.live.version.read().map(|v| v.clone()).unwrap_or_default();
    Json(serde_json::json!({ "version": version })).into_response()
}

/// `POST /api/config/reload` (role `operator`): the file read again and applied, or refused
/// (422, with the file-and-line error) while the running configuration stays.
async fn reload(State(s): State<AdminState>) -> Response {
    match s.live.reload().await {
        Ok(report) => Json(report).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "configuration reload refused; the running configuration stays");
            (StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
        }
    }
}

#[derive(Deserialize)]
struct AlertParams {
    /// The window read, in days back from now (default 30).
    days: Option<i64>,
    /// At most this many messages read (default 50,000, newest first).
    limit: Option<usize>,
}

/// `GET /api/identity/alerts` (role `phi`, audited): `{"alerts": [{"id", "kind", "identifier":
/// {"system", "value"}, "messages", "detail", "acknowledged"}]}`.
async fn identity_alerts(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<AlertParams>) -> Response {
    if let Err(refused) = audited(&s, &caller, "read identity alerts", "identity alerts".into()).await {
        return refused;
    }
    let since = crate::pipeline::now_ms() - p.days.unwrap_or(30).clamp(1, 3650) * 86_400_000;
    match crate::identity_alerts::current(s.store.as_ref(), &s.metrics, since, p.limit.unwrap_or(50_000).min(1_000_000)).await {
        Ok(alerts) => Json(serde_json::json!({ "alerts": alerts })).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct AcknowledgeParams {
    id: String,
}

/// `POST /api/identity/alerts/acknowledge?id=<alert id>` (role `phi`): recorded in the audit trail.
async fn acknowledge_alert(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<AcknowledgeParams>) -> Response {
    match audited(&s, &caller, crate::identity_alerts::ACKNOWLEDGE, p.id.clone()).await {
        Ok(()) => Json(serde_json::json!({ "acknowledged": p.id })).into_response(),
        Err(refused) => refused,
    }
}

/// `GET /api/alerts` (role `operator`): the built-in alert rules firing now, `{"alerts": [{"alert",
/// "subject", "detail"}]}`.
async fn firing_alerts(State(s): State<AdminState>) -> Response {
    let firing = s.alerts.read().map(|a| a.clone()).unwrap_or_default();
    Json(serde_json::json!({ "alerts": firing })).into_response()
}
