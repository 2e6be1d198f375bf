//! HTTP ingest: `POST /hl7v2`, `/fhir`, `/fhir/Patient` (and `PUT` conditional update),
//! `/fhir/Encounter` and `/cda`. Each body is read within the listener's `max_frame_bytes` and
//! `body_timeout_secs`, with its Content-Type checked, and a refusal answers in the endpoint's own
//! protocol (an HL7 v2 AR with ERR for `/hl7v2`, an OperationOutcome for the others), counted and
//! journaled as rejected.

use crate::codec::InputFormat;
use crate::config::ListenerConfig;
use crate::intake::{Charge, OverBudget};
use crate::pipeline::{IngestResult, Pipeline, Verdict};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// What the HTTP handlers share: the listener's name and limits (as last reloaded), and the pipeline.
pub struct HttpIngest {
    name: String,
    pipeline: Arc<Pipeline>,
    settings: tokio::sync::watch::Receiver<ListenerConfig>,
}

#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    Hl7v2,
    Fhir,
    Cda,
    /// `POST /validate`: any of the three, refusals as JSON errors.
    Validate,
}

impl Protocol {
    fn accepts(self, content_type: &str) -> bool {
        let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match self {
            Self::Hl7v2 => matches!(
                media.as_str(),
                "x-application/hl7-v2+er7" | "application/hl7-v2" | "application/hl7-v2+er7" | "text/plain" | "application/octet-stream"
            ),
            Self::Fhir => matches!(media.as_str(), "application/fhir+json" | "application/json"),
            Self::Cda => matches!(media.as_str(), "application/xml" | "text/xml" | "application/hl7-cda+xml" | "application/hl7-v3+xml"),
            Self::Validate => Self::Hl7v2.accepts(content_type) || Self::Fhir.accepts(content_type) || Self::Cda.accepts(content_type),
        }
    }
}

impl HttpIngest {
    fn max_body_bytes(&self) -> usize {
        self.settings.borrow().max_frame_bytes
    }

    fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.settings.borrow().body_timeout_secs.max(1))
    }

    /// The body and its charge against the bytes-in-flight budget (hold it until answered), or
    /// the refusal in this endpoint's protocol: a Content-Type it does not take (415), a body over
    /// the limit (413), not received in time (408), too many bytes in flight (503).
    async fn read(&self, headers: &HeaderMap, body: Body, protocol: Protocol) -> Result<(Bytes, Arc<Charge>), Response> {
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let remote = crate::limits::REMOTE.try_with(|r| *r).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let charge = self.pipeline.intake.charge(remote);
        let refused = match self.check_headers(headers, declared, protocol).await {
            Some(refused) => refused,
            None => match tokio::time::timeout(self.body_timeout(), read_body(body, self.max_body_bytes(), &charge)).await {
                Ok(Ok(bytes)) => return Ok((bytes, charge)),
                // What is left unread is not read, and the connection closes.
                Ok(Err(BodyRefusal::TooLarge(start))) => return Err(self.too_large(protocol, start).await),
                Ok(Err(BodyRefusal::Busy(over))) => {
                    let mut busy = self.refuse(protocol, StatusCode::SERVICE_UNAVAILABLE, over.limit(), &over.to_string()).await;
                    busy.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                    return Err(busy);
                }
                Ok(Err(BodyRefusal::Broken)) => return Err((StatusCode::BAD_REQUEST, "the request body could not be read").into_response()),
                Err(_) => {
                    return Err(self.refuse(protocol, StatusCode::REQUEST_TIMEOUT, "body_timeout", "the body was not received within body_timeout_secs").await);
                }
            },
        };
        // A refusal before the body is read: a body of moderate size is read and discarded first,
        // so that the client (which sends its whole body before reading) gets the answer rather
        // than a reset connection.
        if declared.is_some_and(|n| n <= DRAIN_CAP) {
            let _ = tokio::time::timeout(self.body_timeout(), drain(body, DRAIN_CAP)).await;
        }
        Err(refused)
    }

    /// The refusal the headers already decide: no token, a Content-Type not taken, a declared
    /// length over the limit.
    async fn check_headers(&self, headers: &HeaderMap, declared: Option<usize>, protocol: Protocol) -> Option<Response> {
        if !self.authorised(headers) {
            self.pipeline.metrics.limits_hit.with_label_values(&[&self.name, "unauthorised"]).inc();
            let mut refused = match protocol {
                Protocol::Hl7v2 => (StatusCode::UNAUTHORIZED, "a bearer token is required").into_response(),
                Protocol::Fhir | Protocol::Cda | Protocol::Validate => {
                    let outcome = crate::pipeline::outcome_json(&[passerelle_model::Issue::error("unauthorised", "a bearer token is required")]);
                    (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "application/fhir+json")], outcome).into_response()
                }
            };
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return Some(refused);
        }
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if let Some(ct) = content_type.filter(|ct| !protocol.accepts(ct)) {
            return Some(self.refuse(protocol, StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type", &format!("content type {ct} is not taken here")).await);
        }
        if declared.is_some_and(|n| n > self.max_body_bytes()) {
            return Some(self.too_large(protocol, Bytes::new()).await);
        }
        None
    }

    /// No token configured, or the request's bearer token is one of them (compared as SHA-256).
    fn authorised(&self, headers: &HeaderMap) -> bool {
        // Hex SHA-256 of the accepted bearer tokens; none configured: no token required.
        let tokens: Vec<String> =
            self.settings.borrow().auth.iter().flat_map(|a| a.tokens.iter()).map(|t| t.trim_start_matches("sha256:").to_ascii_lowercase()).collect();
        if tokens.is_empty() {
            return true;
        }
        let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) else { return false };
        let digest = crate::admin_auth::sha256_hex(token.trim().as_bytes());
        tokens.iter().fold(false, |found, t| found | crate::admin_auth::constant_time_eq(t.as_bytes(), digest.as_bytes()))
    }

    /// 413; `start` (the first [`KEPT_OF_REFUSED`] bytes read, if any) is kept with the rejection.
    async fn too_large(&self, protocol: Protocol, start: Bytes) -> Response {
        let why = format!("the body exceeds max_frame_bytes ({})", self.max_body_bytes());
        self.refuse_keeping(protocol, StatusCode::PAYLOAD_TOO_LARGE, "max_body_bytes", &why, start).await
    }

    /// Counted, journaled as rejected (the reason, not the unread body), answered in `protocol`.
    async fn refuse(&self, protocol: Protocol, status: StatusCode, limit: &str, why: &str) -> Response {
        self.refuse_keeping(protocol, status, limit, why, Bytes::new()).await
    }

    async fn refuse_keeping(&self, protocol: Protocol, status: StatusCode, limit: &str, why: &str, kept: Bytes) -> Response {
        self.pipeline.metrics.limits_hit.with_label_values(&[&self.name, limit]).inc();
        let result = self.pipeline.reject_unframed(&self.name, why, kept).await;
        match protocol {
            Protocol::Hl7v2 => (status, [(header::CONTENT_TYPE, HL7V2_CONTENT_TYPE)], result.reply).into_response(),
            Protocol::Fhir | Protocol::Cda | Protocol::Validate => {
                let outcome = crate::pipeline::outcome_json(&[passerelle_model::Issue::error("body-refused", why.to_owned())]);
                (status, [(header::CONTENT_TYPE, "application/fhir+json")], outcome).into_response()
            }
        }
    }
}

/// Why a body was not read whole.
enum BodyRefusal {
    /// Over the limit; the first bytes read, to keep for inspection.
    TooLarge(Bytes),
    Busy(OverBudget),
    Broken,
}

/// Reads `body` chunk by chunk, each charged before it is kept, up to `max` bytes.
async fn read_body(body: Body, max: usize, charge: &Charge) -> Result<Bytes, BodyRefusal> {
    let mut chunks = body.into_data_stream();
    let mut bytes = bytes::BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| BodyRefusal::Broken)?;
        if bytes.len() + chunk.len() > max {
            let room = KEPT_OF_REFUSED.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..room.min(chunk.len())]);
            bytes.truncate(KEPT_OF_REFUSED);
            return Err(BodyRefusal::TooLarge(bytes.freeze()));
        }
        charge.grow(chunk.len()).map_err(BodyRefusal::Busy)?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Reads and discards up to `cap` bytes of `body` (nothing is kept in memory).
async fn drain(body: Body, cap: usize) {
    let mut chunks = body.into_data_stream();
    let mut seen = 0;
    while let Some(Ok(chunk)) = chunks.next().await {
        seen += chunk.len();
        if seen > cap {
            break;
        }
    }
}

const HL7V2_CONTENT_TYPE: &str = "x-application/hl7-v2+er7; charset=utf-8";

/// How much of a body refused as too large is kept with its rejection (64 KiB).
const KEPT_OF_REFUSED: usize = 64 * 1024;

/// The largest refused body read and discarded so that its sender gets the answer (8 MiB).
const DRAIN_CAP: usize = 8 * 1024 * 1024;

/// HTTP ingest: `POST /hl7v2` (an HL7 v2 message in, its ACK out), `POST /fhir` (a FHIR Patient
/// or a Bundle holding one), `POST /fhir/Patient`, `PUT /fhir/Patient?identifier=system|value`
/// (conditional update), `POST /fhir/Encounter` (a visit of a known patient, its subject
/// `Patient/<identity>` or `Patient?identifier=system|value`) and `POST /cda` (a CDA R2 document): an OperationOutcome out, 201 (200
/// for a PUT of a known person) when journaled and deliverable, with `Location:
/// /fhir/Patient/<identity>` for a patient and `/api/messages/{id}` for a document.
/// Bodies over the listener's `max_frame_bytes` are refused with 413 in the endpoint's protocol.
pub fn http_router(settings: tokio::sync::watch::Receiver<ListenerConfig>, pipeline: Arc<Pipeline>) -> Router {
    let name = settings.borrow().name.clone();
    let ingest = Arc::new(HttpIngest { name, pipeline, settings });
    Router::new()
        .route("/hl7v2", post(post_hl7v2))
        .route("/fhir", post(post_fhir))
        .route("/fhir/Patient", post(post_fhir_patient).put(put_fhir_patient))
        .route("/fhir/Encounter", post(post_fhir_encounter))
        .route("/cda", post(post_cda))
        .route("/validate", post(post_validate))
        // Bodies are read by `HttpIngest::read`, which answers in the endpoint's protocol.
        .layer(DefaultBodyLimit::disable())
        .with_state(ingest)
}

async fn post_hl7v2(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Hl7v2).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    if passerelle_hl7v2::batch::is_batch(&body) {
        // A batch: 200 with the batch acknowledgement, 204 when no message asked for its ACK.
        let batch = crate::batch_ingest::ingest_batch(pipeline, name, body).await;
        let status = if batch.ack.is_some() { StatusCode::OK } else { StatusCode::NO_CONTENT };
        return Ok((status, [(header::CONTENT_TYPE, HL7V2_CONTENT_TYPE)], batch.ack.unwrap_or_default()).into_response());
    }
    let result = pipeline.ingest(name, InputFormat::Hl7v2, body).await;
    let status = http_status(result.verdict, StatusCode::OK);
    Ok((status, [(header::CONTENT_TYPE, HL7V2_CONTENT_TYPE)], result.reply).into_response())
}

/// The HTTP status of a verdict; `accepted` is what an accepted message gets (200 for the
/// HL7 v2 endpoint, whose ACK says the rest, 201 for the resource-style ones).
fn http_status(verdict: Verdict, accepted: StatusCode) -> StatusCode {
    match verdict {
        Verdict::Accepted => accepted,
        Verdict::Refused => StatusCode::UNPROCESSABLE_ENTITY,
        Verdict::Rejected => StatusCode::BAD_REQUEST,
        Verdict::NotStored => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The reply of the resource-style endpoints: status from the verdict, the OperationOutcome, and
/// where the journaled message can be read.
fn outcome_response(result: IngestResult) -> Response {
    let status = http_status(result.verdict, StatusCode::CREATED);
    let mut response = (status, [(header::CONTENT_TYPE, "application/fhir+json")], result.reply).into_response();
    // A FHIR patient is located by its stable identity; the journal entry by Content-Location
    // (and by Location for a CDA document, which has no identity of its own here).
    let journal = result.message_id.map(|id| format!("/api/messages/{id}"));
    let location = result.identity_id.map(|id| format!("/fhir/Patient/{id}")).or_else(|| journal.clone());
    for (name, value) in [(header::LOCATION, location), (header::CONTENT_LOCATION, journal)] {
        if let Some(value) = value.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn post_fhir(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Fhir).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    let shape = serde_json::from_slice::<BundleShape>(&body).ok().filter(|b| b.resource_type == "Bundle" && b.type_.as_deref() == Some("transaction"));
    let result = pipeline.ingest(name, InputFormat::Fhir, body).await;
    Ok(match shape {
        Some(bundle) if result.verdict == Verdict::Accepted => transaction_response(&bundle, &result),
        _ => outcome_response(result),
    })
}

/// Just enough of a posted Bundle to answer it entry by entry.
#[derive(serde::Deserialize)]
struct BundleShape {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    entry: Vec<EntryShape>,
}

#[derive(serde::Deserialize)]
struct EntryShape {
    resource: Option<ResourceShape>,
}

#[derive(serde::Deserialize)]
struct ResourceShape {
    #[serde(rename = "resourceType")]
    resource_type: String,
}

/// A transaction answers a transaction-response Bundle, one entry per entry posted: the Patient
/// at its stable identity (201 for a new person, 200 for a known one), the other entries at the
/// journaled message that carries them.
fn transaction_response(bundle: &BundleShape, result: &IngestResult) -> Response {
    let journal = result.message_id.map(|id| format!("/api/messages/{id}"));
    let entries: Vec<serde_json::Value> = bundle
        .entry
        .iter()
        .map(|e| {
            let patient = e.resource.as_ref().is_some_and(|r| r.resource_type == "Patient");
            let (status, location) = match (patient, result.identity_id) {
                (true, Some(id)) => (if result.identity_created { "201 Created" } else { "200 OK" }, Some(format!("Patient/{id}"))),
                _ => ("201 Created", journal.clone()),
            };
            serde_json::json!({ "response": { "status": status, "location": location } })
        })
        .collect();
    let body = serde_json::json!({ "resourceType": "Bundle", "type": "transaction-response", "entry": entries });
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/fhir+json")], serde_json::to_vec(&body).unwrap_or_default()).into_response();
    if let Some(value) = journal.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::CONTENT_LOCATION, value);
    }
    response
}

async fn post_fhir_patient(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Fhir).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    if !is_resource(&body, "Patient") {
        return Ok(bad_request("POST /fhir/Patient takes a Patient resource"));
    }
    Ok(outcome_response(pipeline.ingest(name, InputFormat::Fhir, body).await))
}

/// Whether the body is a `resource_type` resource (its `resourceType` read, the rest skipped).
fn is_resource(body: &[u8], resource_type: &str) -> bool {
    std::str::from_utf8(body).ok().and_then(|text| passerelle_fhir::read_json::resource_type(text, "").ok()).is_some_and(|t| t == resource_type)
}

/// `POST /fhir/Encounter`: 201 with `Location: /api/messages/<id>` (the journaled visit event),
/// 422 when the subject names no patient known here.
async fn post_fhir_encounter(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Fhir).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    if !is_resource(&body, "Encounter") {
        return Ok(bad_request("POST /fhir/Encounter takes an Encounter resource"));
    }
    let mut result = pipeline.ingest(name, InputFormat::Fhir, body).await;
    // The Location is the visit event's, not the patient's.
    result.identity_id = None;
    Ok(outcome_response(result))
}

fn bad_request(text: &str) -> Response {
    let outcome = crate::pipeline::outcome_json(&[passerelle_model::Issue::error("bad-request", text)]);
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/fhir+json")], outcome).into_response()
}

#[derive(serde::Deserialize)]
struct ConditionalQuery {
    identifier: Option<String>,
}

/// `PUT /fhir/Patient?identifier=system|value`: the Patient must carry that identifier (the
/// condition names the person the body describes); 200 for a known person, 201 for a new one.
async fn put_fhir_patient(
    State(ingest): State<Arc<HttpIngest>>,
    axum::extract::Query(query): axum::extract::Query<ConditionalQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Fhir).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    let Some((system, value)) = query.identifier.as_deref().and_then(|i| i.split_once('|')) else {
        return Ok(bad_request("a conditional update needs ?identifier=system|value"));
    };
    let carries = passerelle_fhir::read_patient(&body)
        .map(|p| p.value.identifiers.iter().any(|i| i.value == value && passerelle_fhir::patient::system_of(i).as_deref() == Some(system)))
        .unwrap_or(false);
    if !carries {
        return Ok(bad_request("the Patient does not carry the identifier of the condition"));
    }
    let result = pipeline.ingest(name, InputFormat::Fhir, body).await;
    let known = result.identity_id.is_some() && !result.identity_created;
    let mut response = outcome_response(result);
    if known && response.status() == StatusCode::CREATED {
        *response.status_mut() = StatusCode::OK;
    }
    Ok(response)
}

async fn post_cda(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Cda).await?;
    let (name, pipeline) = (&ingest.name, &ingest.pipeline);
    Ok(outcome_response(pipeline.ingest(name, InputFormat::Cda, body).await))
}

/// `POST /validate`: the `passerelle validate --format json` report of the body (HL7 v2, CDA or
/// FHIR, detected), with every shipped pack; nothing is journaled or delivered.
async fn post_validate(State(ingest): State<Arc<HttpIngest>>, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let (body, _charge) = ingest.read(&headers, body, Protocol::Validate).await?;
    let packs = passerelle_validate::PACKS.to_vec();
    let file = passerelle_validate::validate("body", &body, &packs, passerelle_validate::report::Severity::Error);
    let report = passerelle_validate::report::Report::new(packs, vec![file]);
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], passerelle_validate::output::json(&report)).into_response())
}
