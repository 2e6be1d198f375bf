//! Records exchanged with a store: bytes and metadata only.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Journaled with its deliveries; the sender got AA.
    Accepted,
    /// Kept for inspection; the sender got AE/AR.
    Rejected,
    /// Accepted (AA), but kept back from at least one destination by a consent rule (the reason
    /// says which).
    Withheld,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Withheld => "withheld",
        }
    }
}

/// National and local keys a message can be searched by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PatientKeys {
    pub ins: Option<String>,
    pub niss: Option<String>,
    pub ipp: Option<String>,
}

/// Who holds a claim and for how long: a node renews its leases while it sends; when a node dies,
/// its leases expire and another node (or itself, restarted) takes the rows over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The node id (`[gateway] node_id`, by default the host name).
    pub owner: String,
    pub duration_ms: i64,
}

impl Default for Lease {
    fn default() -> Self {
        Self { owner: "local".into(), duration_ms: 30_000 }
    }
}

/// One patient identifier of a message, searchable by system and value (`identifier=SYSTEM|VALUE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewIdentifier {
    /// What it is (`ins-nir`, `niss`, `ipp`…), as the model names it.
    pub kind: String,
    /// The system as rendered in FHIR: `urn:oid:<OID>`, the BE SSIN naming system URI, or the
    /// assigning authority's namespace for a local identifier without an OID.
    pub system: String,
    pub value: String,
}

/// The rendering one destination will receive, made once at ingest and sent as is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendering {
    /// Shared, not copied, by the transports (an HTTP body, a file write).
    pub bytes: bytes::Bytes,
    pub content_type: String,
    /// What the receiver's answer must echo (HL7 v2 MSH-10 of the rendering, for MSA-2).
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub destination: String,
    /// Ordering scope: messages with the same key go out to a destination one after the other.
    pub partition_key: String,
    pub rendering: Rendering,
}

/// What an operator action on one outbox row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Done,
    NoSuchRow,
    /// The row exists but is not in the status the action needs.
    WrongStatus(OutboxStatus),
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub received_at_ms: i64,
    pub listener: String,
    pub format: String,
    pub message_type: String,
    pub control_id: String,
    pub sender: String,
    /// Hash of the raw bytes, part of the deduplication key.
    pub content_hash: String,
    pub status: MessageStatus,
    /// Display keys of the summary (first INS, NISS/BIS and IPP); searches use `identifiers`.
    pub patient: PatientKeys,
    pub identifiers: Vec<NewIdentifier>,
    /// Why a consent rule kept the message back from a destination (status `withheld`).
    pub withheld: Option<String>,
    /// The type code of the document the message carries (LOINC `11488-4`…), if any.
    pub document_type: Option<String>,
    /// The routes that matched at reception, comma-separated (`""`: none did); `None` when the
    /// message was refused before routing.
    pub routes: Option<String>,
    /// The patient's DMP feeding choice this message states (ZFA-9 code), remembered per identifier.
    pub consent: Option<String>,
    /// The visit this message moves, by its identifier (system, value), and the state it leaves
    /// it in (the neutral event: `admit`, `discharge`…), remembered when the message is accepted.
    pub visit_state: Option<(String, String, String)>,
    /// Shared with the listener's buffer, not copied (a document can be tens of MB).
    pub raw: bytes::Bytes,
    /// The normalised message (compact JSON of the model), absent for undecodable input.
    pub normalised: Option<Vec<u8>>,
    /// The acknowledgement returned to the sender (replayed for a resend).
    pub ack: Vec<u8>,
    /// Diagnostics as text (codes and field locations; no patient data).
    pub diagnostics: String,
    pub deliveries: Vec<NewDelivery>,
}

/// One read of patient data through the admin API: who (the token's role), when, from where,
/// what and which message or query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Unix ms.
    pub at_ms: i64,
    pub role: String,
    pub remote: String,
    pub action: String,
    pub target: String,
}

/// Which person a set of identifiers names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityResolution {
    /// An identity already held at least one of the identifiers (the others now belong to it too).
    Known(i64),
    /// None was known: a new identity now holds them all.
    Created(i64),
    /// The identifiers belong to different identities: nothing was changed.
    Conflict(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    Stored { message_id: i64 },
    Duplicate { message_id: i64, ack: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxStatus {
    Pending,
    InFlight,
    Delivered,
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "inflight",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "inflight" | "in-flight" => Some(Self::InFlight),
            "delivered" => Some(Self::Delivered),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// What one delivery attempt concluded, as a worker records it ([`crate::Outbox::record_attempts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptRecord {
    /// Taken, with what the receiver answered.
    Delivered {
        answer: String,
    },
    /// Back to pending until `next_attempt_ms`.
    Retry {
        next_attempt_ms: i64,
        error: String,
    },
    Dead {
        error: String,
    },
}

impl AttemptRecord {
    /// What the attempt makes of its row: the status, the next due time (`now_ms` unless retried
    /// later), and the error or the receiver's answer it keeps.
    pub fn row_update(&self, now_ms: i64) -> (OutboxStatus, i64, Option<&str>, Option<&str>) {
        match self {
            Self::Delivered { answer } => (OutboxStatus::Delivered, now_ms, None, Some(answer)),
            Self::Retry { next_attempt_ms, error } => (OutboxStatus::Pending, *next_attempt_ms, Some(error), None),
            Self::Dead { error } => (OutboxStatus::Dead, now_ms, Some(error), None),
        }
    }
}

/// A claimed delivery with what the worker needs to render it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: i64,
    pub destination: String,
    pub partition_key: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub received_at_ms: i64,
    /// The stored rendering: exactly what is sent.
    pub rendering: Rendering,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: i64,
    pub destination: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub control_id: String,
    pub message_type: String,
}

#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub destination: Option<String>,
    pub status: Option<OutboxStatus>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// Matches the value of any patient identifier (INS, NISS/BIS, IPP…).
    pub patient: Option<String>,
    /// Matches system and value exactly: (`urn:oid:1.2.250.1.213.1.4.10`, `279035121518989`).
    pub identifier: Option<(String, String)>,
    pub control_id: Option<String>,
    pub status: Option<MessageStatus>,
    /// The sender (`application|facility`, as journaled).
    pub sender: Option<String>,
    /// The message type: `ADT` (every event) or `ADT^A01`.
    pub message_type: Option<String>,
    /// The type code of the document carried (CDA, MDM, ORU, FHIR DocumentReference).
    pub document_type: Option<String>,
    /// Messages with at least one outbox row for this destination.
    pub destination: Option<String>,
    /// Received at or after / before these times (Unix ms).
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageSummary {
    pub id: i64,
    pub received_at_ms: i64,
    pub listener: String,
    pub format: String,
    pub message_type: String,
    pub control_id: String,
    pub sender: String,
    pub status: MessageStatus,
    pub patient: PatientKeys,
    pub diagnostics: String,
    /// The consent rule that kept the message back from a destination, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// One journaled message in full: its summary, the bytes as received, the normalised model and
/// the outbox rows made from it (the lineage raw → model → each rendering).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub summary: MessageSummary,
    pub raw: Vec<u8>,
    pub normalised: Option<Vec<u8>>,
    pub ack: Vec<u8>,
    pub deliveries: Vec<OutboxRow>,
    /// The routes that matched at reception (see [`NewMessage::routes`]).
    pub routes: Option<String>,
    /// Every delivery attempt of those rows, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// One delivery attempt of an outbox row: when (the store's clock), `delivered`, `retry` or
/// `dead`, and the error or the receiver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub outbox_id: i64,
    pub at_ms: i64,
    pub outcome: String,
    pub detail: String,
}

/// One node's heartbeat on the store: when it started, when it last beat, which configuration
/// and binary it runs (a hub's nodes are told apart by `node`, the `[gateway] node_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBeat {
    pub node: String,
    pub started_ms: i64,
    pub seen_ms: i64,
    pub config_version: String,
    pub binary_version: String,
}

/// An accepted message's normalised model, for reading patients across messages (identity
/// monitoring): newest first.
#[derive(Debug, Clone)]
pub struct RecentModel {
    pub id: i64,
    pub received_at_ms: i64,
    pub sender: String,
    /// The diagnostics as journaled (`warning[ins-key-invalid] …`).
    pub diagnostics: String,
    pub normalised: Vec<u8>,
}

/// A search an operator saved from the console: its name and the query string of `/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedSearch {
    pub name: String,
    pub query: String,
    pub created_ms: i64,
}
