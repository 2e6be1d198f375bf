//! The ingest pipeline shared by every listener: decode and normalise once, route, render once per
//! routed destination, journal + outbox (with each rendering) in one transaction, and only then the
//! reply. A commit failure never yields AA; a message that cannot be rendered for a routed
//! destination is refused (AE naming it), never acknowledged.

use crate::codec::{self, InputFormat};
use crate::consent;
use crate::delivery::render::{Renderer, Source};
use crate::metrics::{Metrics, message_type_label};
use crate::routing::{RouteConfig, route_counted};
use bytes::Bytes;
use passerelle_hl7v2::{AckCode, AckOptions, ErrorCondition, build_ack, build_reject};
use passerelle_model::{IdentifierKind, Issue, Message, Severity};
use passerelle_store::{AppendOutcome, MessageStatus, NewDelivery, NewIdentifier, NewMessage, PatientKeys, Store};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// What a reload replaces: the routes, one renderer per destination, and which destinations are
/// the DMP.
#[derive(Default)]
pub struct Routing {
    pub routes: Vec<RouteConfig>,
    /// One renderer per destination, by name: every routed destination's rendering is made here.
    pub renderers: HashMap<String, Renderer>,
    /// Destinations declared `class = "dmp"`: the consent rules apply to them.
    pub dmp_destinations: HashSet<String>,
    /// `[[sender]]`: who may send, counted by name.
    pub senders: crate::senders::Senders,
    /// Listeners whose input is validated (`validate = "warn" | "reject"`), by name.
    pub validation: HashMap<String, crate::listener_config::ValidateMode>,
}

pub struct Pipeline {
    pub store: Arc<dyn Store>,
    /// Routes and renderers, replaced whole by a configuration reload (a message in flight keeps
    /// the set it started with).
    routing: std::sync::RwLock<Arc<Routing>>,
    pub metrics: Arc<Metrics>,
    pub application: String,
    pub facility: String,
    pub log_phi: bool,
    /// Store the normalised model beside the raw bytes.
    pub keep_normalised: bool,
    /// Rejected input stored per remote address and minute.
    pub reject_budget: crate::limits::RejectBudget,
    /// The connection cap and the bytes-in-flight budget the listeners share.
    pub intake: Arc<crate::intake::Intake>,
    ack_counter: AtomicU64,
    new_work: Option<Arc<Notify>>,
}

/// The format-neutral outcome a listener turns into its reply (an ACK code, an HTTP status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Journaled with every routed rendering: AA / 2xx.
    Accepted,
    /// Read, but unusable as sent or not renderable for a routed destination: AE / 422. Kept.
    Refused,
    /// Not the format at all: AR / 400. Kept.
    Rejected,
    /// The journal could not take it: AR / 503; the sender should try again later.
    NotStored,
}

impl Verdict {
    /// The metric label: accepted, refused, rejected, not_stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::Rejected => "rejected",
            Self::NotStored => "not_stored",
        }
    }

    pub fn ack_code(self) -> AckCode {
        match self {
            Self::Accepted => AckCode::Aa,
            Self::Refused => AckCode::Ae,
            Self::Rejected | Self::NotStored => AckCode::Ar,
        }
    }
}

/// What a listener sends back.
#[derive(Debug, Clone)]
pub struct IngestResult {
    /// The reply in the listener's protocol (the HL7 v2 ACK).
    pub reply: Vec<u8>,
    pub verdict: Verdict,
    pub duplicate: bool,
    /// The journal's id for the message (the original one for a resend); `None` when not stored.
    pub message_id: Option<i64>,
    /// The stable identity of the patient a FHIR message is about (`/fhir/Patient/<id>`).
    pub identity_id: Option<i64>,
    /// That identity was created by this message (a new person: 201 rather than 200 to a PUT).
    pub identity_created: bool,
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// HL7 DTM of the current UTC time, with its offset.
pub fn hl7_now() -> String {
    passerelle_model::PartialDateTime::from_unix_ms(now_ms()).map(|t| t.hl7()).unwrap_or_default()
}

/// Hex SHA-1 of the content: the content part of the deduplication key. Line endings do not count:
/// CR, LF and CRLF hash alike, and trailing terminators are ignored, so a resend that differs only
/// there (with or without the final segment terminator, through a client that rewrites CR as LF)
/// is recognised.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    let end = bytes.iter().rposition(|&b| b != b'\r' && b != b'\n').map_or(0, |i| i + 1);
    let mut rest = &bytes[..end];
    while let Some(at) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
        hasher.update(&rest[..at]);
        hasher.update(b"\r");
        let skip = if rest[at] == b'\r' && rest.get(at + 1) == Some(&b'\n') { 2 } else { 1 };
        rest = &rest[at + skip..];
    }
    hasher.update(rest);
    passerelle_model::hex::hex(&hasher.finalize())
}

/// Ordering scope for deliveries: the sender's IPP, else the INS, else the NISS/BIS, else the
/// message itself (no patient: no ordering constraint).
pub fn partition_key(msg: &Message) -> String {
    let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
    let pick = |pred: &dyn Fn(IdentifierKind) -> bool| ids.iter().find(|i| pred(i.kind));
    if let Some(ipp) = pick(&|k| k == IdentifierKind::Ipp) {
        return format!("ipp:{}:{}", ipp.oid.as_deref().or(ipp.namespace.as_deref()).unwrap_or(""), ipp.value);
    }
    if let Some(ins) = pick(&|k| k.is_ins()) {
        return format!("ins:{}", ins.value);
    }
    if let Some(be) = pick(&|k| k.is_belgian()) {
        return format!("niss:{}", be.value);
    }
    format!("msg:{}:{}", msg.envelope.sender.application.as_deref().unwrap_or(""), msg.envelope.message_id)
}

/// The type code of the document a message carries (the console searches by it).
pub fn document_type(msg: &Message) -> Option<String> {
    match &msg.content {
        passerelle_model::Content::Document(d) => d.type_code.as_ref().map(|c| c.code.clone()).filter(|c| !c.is_empty()),
        _ => None,
    }
}

pub fn patient_keys(msg: &Message) -> PatientKeys {
    let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
    PatientKeys {
        ins: ids.iter().find(|i| i.kind.is_ins()).map(|i| i.value.clone()),
        niss: ids.iter().find(|i| i.kind.is_belgian()).map(|i| i.value.clone()),
        ipp: ids.iter().find(|i| i.kind == IdentifierKind::Ipp).map(|i| i.value.clone()),
    }
}

/// The FHIR reply: an OperationOutcome of the diagnostics (`information` when there are none).
pub(crate) fn outcome_json(issues: &[Issue]) -> Vec<u8> {
    let outcome = passerelle_fhir::types::Resource::OperationOutcome(passerelle_fhir::operation_outcome(issues));
    serde_json::to_vec(&outcome).unwrap_or_else(|_| br#"{"resourceType":"OperationOutcome","issue":[]}"#.to_vec())
}

/// Identifiers as the journal indexes them: kind, the system as rendered in FHIR (`urn:oid:…`, the
/// BE SSIN naming system) or, for a local identifier without an OID, its authority's namespace.
pub fn identifier_rows(msg: &Message) -> Vec<NewIdentifier> {
    let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
    ids.iter().filter_map(|i| Some(NewIdentifier { kind: i.kind.as_str().to_owned(), system: identifier_system(i)?, value: i.value.clone() })).collect()
}

/// The system exactly as the FHIR renderings carry it, else the authority's namespace.
pub fn identifier_system(i: &passerelle_model::Identifier) -> Option<String> {
    passerelle_fhir::patient::system_of(i).map(|s| s.into_owned()).or_else(|| i.namespace.clone())
}

impl Pipeline {
    pub fn new(store: Arc<dyn Store>, routing: Routing, metrics: Arc<Metrics>, application: String, facility: String, log_phi: bool) -> Self {
        Self {
            store,
            routing: std::sync::RwLock::new(Arc::new(routing)),
            metrics,
            application,
            facility,
            log_phi,
            keep_normalised: true,
            reject_budget: crate::limits::RejectBudget::new(120),
            intake: Arc::default(),
            ack_counter: AtomicU64::new(0),
            new_work: None,
        }
    }

    /// The routing new messages use from now on.
    pub fn set_routing(&self, routing: Routing) {
        if let Ok(mut current) = self.routing.write() {
            *current = Arc::new(routing);
        }
    }

    pub fn routing(&self) -> Arc<Routing> {
        self.routing.read().map(|r| Arc::clone(&r)).unwrap_or_default()
    }

    pub fn with_keep_normalised(mut self, keep: bool) -> Self {
        self.keep_normalised = keep;
        self
    }

    /// Rejected inputs stored per remote address and minute (`[gateway] rejects_stored_per_minute`).
    pub fn with_reject_budget(mut self, per_minute: u32) -> Self {
        self.reject_budget = crate::limits::RejectBudget::new(per_minute);
        self
    }

    pub fn with_intake(mut self, intake: Arc<crate::intake::Intake>) -> Self {
        self.intake = intake;
        self
    }

    /// Wakes delivery workers after each commit that created outbox rows.
    pub fn with_new_work(mut self, notify: Arc<Notify>) -> Self {
        self.new_work = Some(notify);
        self
    }

    fn ack_control_id(&self) -> String {
        format!("PSR{}-{}", now_ms(), self.ack_counter.fetch_add(1, Ordering::Relaxed))
    }

    /// Handles one message of `format` from `listener`: decode and normalise once, route, render
    /// for every routed destination, journal, and only then answer in the listener's protocol.
    pub async fn ingest(&self, listener: &str, format: InputFormat, raw_bytes: Bytes) -> IngestResult {
        // The journal shares the listener's buffer (no copy of a document of tens of MB).
        let raw: &[u8] = &raw_bytes;
        let started = Instant::now();
        let received_at_ms = now_ms();
        let ts = hl7_now();
        let control = self.ack_control_id();
        let ack_options = AckOptions { timestamp: &ts, control_id: &control, application: &self.application, facility: &self.facility };
        let routing = self.routing();
        let mut sender = crate::senders::UNIDENTIFIED;
        let mut decoded = codec::decode(format, raw);
        let mut identity = None;
        if let Ok(d) = &mut decoded {
            d.message.value.envelope.received_at_ms = Some(received_at_ms);
            if format == InputFormat::Fhir {
                identity = crate::identity::resolve(self.store.as_ref(), &mut d.message, received_at_ms).await;
                crate::visit::apply_transition(self.store.as_ref(), &mut d.message).await;
            }
        }
        self.metrics.parse_duration.with_label_values(&[format.as_str()]).observe(started.elapsed().as_secs_f64());
        let (reply, verdict, record) = match &mut decoded {
            Err(e) => {
                let reply = match format {
                    InputFormat::Hl7v2 => build_reject(raw, &[ErrorCondition::new(e.hl7_error_code(), e.to_string())], &ack_options),
                    InputFormat::Cda | InputFormat::Fhir => outcome_json(&[e.issue()]),
                };
                let record = self.record(listener, format, received_at_ms, raw_bytes.clone(), None, MessageStatus::Rejected, &reply, e.to_string(), Vec::new());
                (reply, Verdict::Rejected, record)
            }
            Ok(decoded) => {
                let mut issues: Vec<Issue> = std::mem::take(&mut decoded.message.issues);
                let msg = &decoded.message.value;
                let (declared, refusal) = routing.senders.check(msg, listener);
                sender = declared;
                issues.extend(refusal);
                if let Some(mode) = routing.validation.get(listener) {
                    issues.extend(crate::validation::issues(&self.metrics, listener, *mode, raw));
                }
                let tokens = decoded.hl7v2.as_ref();
                let mut deliveries = Vec::new();
                let mut withheld: Option<String> = None;
                let mut matched_routes: Option<String> = None;
                if !issues.iter().any(|i| i.severity == Severity::Error) {
                    let key = partition_key(msg);
                    let source = Source { model: msg, hl7v2: tokens, documents: &decoded.documents };
                    let mut names = String::new();
                    let routed = route_counted(&routing.routes, msg, |name| {
                        self.metrics.route_matches.with_label_values(&[name]).inc();
                        if !names.is_empty() {
                            names.push(',');
                        }
                        names.push_str(name);
                    });
                    matched_routes = Some(names);
                    if routed.iter().any(|d| routing.dmp_destinations.contains(d)) {
                        match consent::dmp_withheld_reason(self.store.as_ref(), msg).await {
                            Ok(reason) => withheld = reason,
                            // Unknown consent is not consent: keep it back, and say why.
                            Err(e) => withheld = Some(format!("consent: unknown ({e})")),
                        }
                    }
                    for destination in routed {
                        if withheld.is_some() && routing.dmp_destinations.contains(&destination) {
                            continue;
                        }
                        let rendered = match routing.renderers.get(&destination) {
                            Some(renderer) => renderer.render(&source).map_err(|e| e.to_string()),
                            None => Err("no renderer for this destination".to_owned()),
                        };
                        match rendered {
                            Ok(rendering) => deliveries.push(NewDelivery { destination, partition_key: key.clone(), rendering }),
                            // Never acknowledge what cannot be delivered: the refusal names the destination.
                            Err(reason) => issues.push(Issue::error("render-failed", format!("cannot be rendered for destination {destination}: {reason}"))),
                        }
                    }
                }
                let refused = issues.iter().any(|i| i.severity == Severity::Error);
                let (verdict, status) = match (refused, &withheld) {
                    (true, _) => (Verdict::Refused, MessageStatus::Rejected),
                    (false, Some(_)) => (Verdict::Accepted, MessageStatus::Withheld),
                    (false, None) => (Verdict::Accepted, MessageStatus::Accepted),
                };
                if refused {
                    deliveries.clear();
                }
                let reply = match format {
                    InputFormat::Hl7v2 => {
                        let errors: Vec<ErrorCondition> = issues.iter().filter(|i| i.severity == Severity::Error).map(ErrorCondition::from_issue).collect();
                        build_ack(tokens, verdict.ack_code(), &errors, &ack_options)
                    }
                    InputFormat::Cda | InputFormat::Fhir => outcome_json(&issues),
                };
                let diagnostics = issues.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n");
                let mut record = self.record(listener, format, received_at_ms, raw_bytes.clone(), Some(msg), status, &reply, diagnostics, deliveries);
                record.withheld = withheld.filter(|_| !refused);
                record.routes = matched_routes;
                record.consent = consent::feeding_code(msg).map(str::to_owned);
                record.visit_state = crate::visit::state(msg);
                (reply, verdict, record)
            }
        };
        let not_stored_reply = || {
            let text = "message not stored; resend later";
            match (format, decoded.as_ref().ok().and_then(|d| d.hl7v2.as_ref())) {
                (InputFormat::Hl7v2, Some(tokens)) => build_ack(Some(tokens), AckCode::Ar, &[ErrorCondition::new("207", text)], &ack_options),
                (InputFormat::Hl7v2, None) => build_reject(raw, &[ErrorCondition::new("207", text)], &ack_options),
                (InputFormat::Cda | InputFormat::Fhir, _) => outcome_json(&[Issue::error("not-stored", text)]),
            }
        };
        let filtered = match (&record.withheld, record.deliveries.is_empty()) {
            _ if verdict != Verdict::Accepted => None,
            (Some(_), _) => Some("withheld"),
            (None, true) => Some("unrouted"),
            (None, false) => None,
        };
        let mut result = self.journal_and_answer(listener, started, reply, verdict, record, not_stored_reply).await;
        if let Some(reason) = filtered.filter(|_| result.verdict == Verdict::Accepted && !result.duplicate) {
            self.metrics.filtered.with_label_values(&[listener, reason]).inc();
        }
        self.metrics.sender_messages.with_label_values(&[sender, listener, result.verdict.as_str()]).inc();
        if let Some((id, created)) = identity.filter(|_| result.verdict == Verdict::Accepted) {
            (result.identity_id, result.identity_created) = (Some(id), created);
        }
        result
    }

    /// Answers input that could not even be framed (an MLLP frame over `max_frame_bytes`, whose
    /// bytes the codec had to drop): AR with an ERR, journaled as rejected with the reason.
    /// `kept`: what could be kept of the input (an unterminated frame's bytes; empty when the
    /// input was too large to hold).
    pub async fn reject_unframed(&self, listener: &str, reason: &str, kept: Bytes) -> IngestResult {
        let started = Instant::now();
        let (ts, control) = (hl7_now(), self.ack_control_id());
        let ack_options = AckOptions { timestamp: &ts, control_id: &control, application: &self.application, facility: &self.facility };
        let ack = build_ack(None, AckCode::Ar, &[ErrorCondition::new("100", reason)], &ack_options);
        let record = self.record(listener, InputFormat::Hl7v2, now_ms(), kept, None, MessageStatus::Rejected, &ack, reason.to_owned(), Vec::new());
        let retry_ack = ack.clone();
        self.journal_and_answer(listener, started, ack, Verdict::Rejected, record, move || retry_ack).await
    }

    /// The AR for input refused before it was read whole because too many bytes are in flight
    /// (HL7 error 207; nothing is stored: there is nothing whole to keep, and the sender retries).
    pub fn busy_reply(&self, reason: &str) -> Vec<u8> {
        let (ts, control) = (hl7_now(), self.ack_control_id());
        let ack_options = AckOptions { timestamp: &ts, control_id: &control, application: &self.application, facility: &self.facility };
        build_ack(None, AckCode::Ar, &[ErrorCondition::new("207", reason)], &ack_options)
    }

    /// Commits the record, then returns the ACK: the prepared one, the original one for a resend,
    /// or `not_stored_ack()` (AR) when the commit fails. Counts and times it.
    async fn journal_and_answer(
        &self,
        listener: &str,
        started: Instant,
        ack: Vec<u8>,
        verdict: Verdict,
        record: NewMessage,
        not_stored_ack: impl FnOnce() -> Vec<u8>,
    ) -> IngestResult {
        let message_type = message_type_label(&record.message_type);
        self.metrics.received.with_label_values(&[listener, &message_type]).inc();
        if record.status == MessageStatus::Rejected && !self.reject_budget.admit(record.received_at_ms) {
            // Answered, counted, not stored: a flood of bad input cannot fill the journal.
            self.metrics.limits_hit.with_label_values(&[listener, "rejects_not_stored"]).inc();
            return IngestResult { reply: ack, verdict, duplicate: false, message_id: None, identity_id: None, identity_created: false };
        }
        let has_deliveries = !record.deliveries.is_empty();
        let control_id = if self.log_phi { record.control_id.clone() } else { String::new() };
        let result = match self.store.append(record).await {
            Ok(AppendOutcome::Stored { message_id }) => {
                if has_deliveries && let Some(n) = &self.new_work {
                    n.notify_waiters();
                }
                IngestResult { reply: ack, verdict, duplicate: false, message_id: Some(message_id), identity_id: None, identity_created: false }
            }
            Ok(AppendOutcome::Duplicate { ack, message_id }) => {
                self.metrics.duplicates.with_label_values(&[listener]).inc();
                IngestResult {
                    reply: ack,
                    verdict: Verdict::Accepted,
                    duplicate: true,
                    message_id: Some(message_id),
                    identity_id: None,
                    identity_created: false,
                }
            }
            Err(e) => {
                // Not journaled: the sender must not believe it was accepted.
                tracing::error!(listener, error = %e, "journal commit failed; answering AR");
                IngestResult {
                    reply: not_stored_ack(),
                    verdict: Verdict::NotStored,
                    duplicate: false,
                    message_id: None,
                    identity_id: None,
                    identity_created: false,
                }
            }
        };
        let code = result.verdict.ack_code().as_str();
        if result.verdict != Verdict::Accepted {
            self.metrics.rejected.with_label_values(&[listener, &message_type]).inc();
        }
        self.metrics.acked.with_label_values(&[listener, &message_type, code]).inc();
        self.metrics.ack_latency.with_label_values(&[listener]).observe(started.elapsed().as_secs_f64());
        if self.log_phi {
            tracing::info!(listener, code, control_id = %control_id, "message acknowledged");
        } else {
            tracing::debug!(listener, code, "message acknowledged");
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        listener: &str,
        format: InputFormat,
        received_at_ms: i64,
        raw: Bytes,
        msg: Option<&Message>,
        status: MessageStatus,
        ack: &[u8],
        diagnostics: String,
        deliveries: Vec<NewDelivery>,
    ) -> NewMessage {
        NewMessage {
            received_at_ms,
            listener: listener.to_owned(),
            format: format.as_str().into(),
            message_type: msg.map(|m| m.envelope.event.source.code()).unwrap_or_default(),
            control_id: msg.map(|m| m.envelope.message_id.clone()).unwrap_or_default(),
            sender: msg
                .map(|m| {
                    let sender = &m.envelope.sender;
                    format!("{}|{}", sender.application.as_deref().unwrap_or(""), sender.facility.as_deref().unwrap_or(""))
                })
                .unwrap_or_default(),
            content_hash: content_hash(&raw),
            status,
            patient: msg.map(patient_keys).unwrap_or_default(),
            identifiers: msg.map(identifier_rows).unwrap_or_default(),
            withheld: None,
            document_type: msg.and_then(document_type),
            routes: None,
            consent: None,
            visit_state: None,
            raw,
            normalised: msg.filter(|_| self.keep_normalised).and_then(|m| serde_json::to_vec(m).ok()),
            ack: ack.to_vec(),
            diagnostics,
            deliveries,
        }
    }
}
