//! MLLP and HTTP listeners. They frame bytes and hand them to the pipeline; they never parse.
//! One bad peer only ever loses its own connection.

use crate::codec::InputFormat;
use crate::config::ListenerConfig;
use crate::pipeline::{IngestResult, Pipeline, Verdict};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{MllpCodec, MllpError};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Accepts MLLP connections until `shutdown`, then waits for in-flight messages to be answered.
pub async fn serve_mllp(listener: TcpListener, config: ListenerConfig, pipeline: Arc<Pipeline>, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shutdown.cancelled() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(listener = %config.name, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(listener = %config.name, "connection refused: max_connections reached");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (config, pipeline, shutdown) = (config.clone(), Arc::clone(&pipeline), shutdown.clone());
        tracker.spawn(async move {
            handle_connection(stream, &config, &pipeline, &shutdown).await;
            drop(permit);
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn handle_connection(stream: TcpStream, config: &ListenerConfig, pipeline: &Pipeline, shutdown: &CancellationToken) {
    let mut framed = Framed::new(stream, MllpCodec::new(config.max_frame_bytes));
    let idle = Duration::from_secs(config.idle_timeout_secs.max(1));
    let mut discarded_reported = 0;
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(idle, framed.next()) => n,
            () = shutdown.cancelled() => break,
        };
        let discarded = framed.codec().discarded_bytes();
        if discarded > discarded_reported {
            pipeline.metrics.mllp_discarded_bytes.with_label_values(&[&config.name]).inc_by(discarded - discarded_reported);
            discarded_reported = discarded;
        }
        match next {
            Err(_) => break,   // idle timeout
            Ok(None) => break, // peer closed
            Ok(Some(Err(MllpError::FrameTooLarge { max }))) => {
                tracing::warn!(listener = %config.name, max, "frame over max_frame_bytes; connection closed");
                let result = pipeline.reject_unframed(&config.name, &format!("mllp frame exceeds max_frame_bytes ({max})")).await;
                let _ = framed.send(result.reply).await;
                break;
            }
            Ok(Some(Err(MllpError::Io(_)))) => break,
            // Frames on one connection are answered strictly in order: the next frame is read
            // only once this one's ACK is written.
            Ok(Some(Ok(frame))) => {
                // A batch in one frame gets one batch acknowledgement (possibly of no ACK: an
                // MLLP sender always waits for a reply).
                let reply = if passerelle_hl7v2::batch::is_batch(&frame) {
                    let batch = crate::batch_ingest::ingest_batch(pipeline, &config.name, frame).await;
                    batch.ack.unwrap_or_else(|| {
                        passerelle_hl7v2::batch::ack_batch(&pipeline.application, &pipeline.facility, &crate::pipeline::hl7_now(), "", "", &[])
                    })
                } else {
                    pipeline.ingest(&config.name, InputFormat::Hl7v2, frame).await.reply
                };
                if framed.send(reply).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// HTTP ingest: `POST /hl7v2` (an HL7 v2 message in, its ACK out), `POST /fhir` (a FHIR Patient
/// or a Bundle holding one), `POST /fhir/Patient`, `PUT /fhir/Patient?identifier=system|value`
/// (conditional update), `POST /fhir/Encounter` (a visit of a known patient, its subject
/// `Patient/<identity>` or `Patient?identifier=system|value`) and `POST /cda` (a CDA R2 document): an OperationOutcome out, 201 (200
/// for a PUT of a known person) when journaled and deliverable, with `Location:
/// /fhir/Patient/<identity>` for a patient and `/api/messages/{id}` for a document.
/// Bodies over `max_body_bytes` (the listener's `max_frame_bytes`) are refused with 413.
pub fn http_router(name: String, pipeline: Arc<Pipeline>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/hl7v2", post(post_hl7v2))
        .route("/fhir", post(post_fhir))
        .route("/fhir/Patient", post(post_fhir_patient).put(put_fhir_patient))
        .route("/fhir/Encounter", post(post_fhir_encounter))
        .route("/cda", post(post_cda))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state((name, pipeline))
}

async fn post_hl7v2(State((name, pipeline)): State<(String, Arc<Pipeline>)>, body: Bytes) -> impl IntoResponse {
    if passerelle_hl7v2::batch::is_batch(&body) {
        // A batch: 200 with the batch acknowledgement, 204 when no message asked for its ACK.
        let batch = crate::batch_ingest::ingest_batch(&pipeline, &name, body).await;
        let status = if batch.ack.is_some() { StatusCode::OK } else { StatusCode::NO_CONTENT };
        return (status, [(header::CONTENT_TYPE, "x-application/hl7-v2+er7; charset=utf-8")], batch.ack.unwrap_or_default());
    }
    let result = pipeline.ingest(&name, InputFormat::Hl7v2, body).await;
    let status = http_status(result.verdict, StatusCode::OK);
    (status, [(header::CONTENT_TYPE, "x-application/hl7-v2+er7; charset=utf-8")], result.reply)
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

async fn post_fhir(State((name, pipeline)): State<(String, Arc<Pipeline>)>, body: Bytes) -> Response {
    let shape = serde_json::from_slice::<BundleShape>(&body).ok().filter(|b| b.resource_type == "Bundle" && b.type_.as_deref() == Some("transaction"));
    let result = pipeline.ingest(&name, InputFormat::Fhir, body).await;
    match shape {
        Some(bundle) if result.verdict == Verdict::Accepted => transaction_response(&bundle, &result),
        _ => outcome_response(result),
    }
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

async fn post_fhir_patient(State((name, pipeline)): State<(String, Arc<Pipeline>)>, body: Bytes) -> Response {
    if !is_resource(&body, "Patient") {
        return bad_request("POST /fhir/Patient takes a Patient resource");
    }
    outcome_response(pipeline.ingest(&name, InputFormat::Fhir, body).await)
}

fn is_resource(body: &[u8], resource_type: &str) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("resourceType").and_then(|t| t.as_str()).map(|t| t == resource_type))
        .unwrap_or(false)
}

/// `POST /fhir/Encounter`: 201 with `Location: /api/messages/<id>` (the journaled visit event),
/// 422 when the subject names no patient known here.
async fn post_fhir_encounter(State((name, pipeline)): State<(String, Arc<Pipeline>)>, body: Bytes) -> Response {
    if !is_resource(&body, "Encounter") {
        return bad_request("POST /fhir/Encounter takes an Encounter resource");
    }
    let mut result = pipeline.ingest(&name, InputFormat::Fhir, body).await;
    // The Location is the visit event's, not the patient's.
    result.identity_id = None;
    outcome_response(result)
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
    State((name, pipeline)): State<(String, Arc<Pipeline>)>,
    axum::extract::Query(query): axum::extract::Query<ConditionalQuery>,
    body: Bytes,
) -> Response {
    let Some((system, value)) = query.identifier.as_deref().and_then(|i| i.split_once('|')) else {
        return bad_request("a conditional update needs ?identifier=system|value");
    };
    let carries = passerelle_fhir::read_patient(&body)
        .map(|p| p.value.identifiers.iter().any(|i| i.value == value && passerelle_fhir::patient::system_of(i).as_deref() == Some(system)))
        .unwrap_or(false);
    if !carries {
        return bad_request("the Patient does not carry the identifier of the condition");
    }
    let result = pipeline.ingest(&name, InputFormat::Fhir, body).await;
    let known = result.identity_id.is_some() && !result.identity_created;
    let mut response = outcome_response(result);
    if known && response.status() == StatusCode::CREATED {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

async fn post_cda(State((name, pipeline)): State<(String, Arc<Pipeline>)>, body: Bytes) -> Response {
    outcome_response(pipeline.ingest(&name, InputFormat::Cda, body).await)
}
