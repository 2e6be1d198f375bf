//! Records exchanged with a store: bytes and metadata only.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Journaled with its deliveries; the sender got AA.
    Accepted,
    /// Kept for inspection; the sender got AE/AR.
    Rejected,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub destination: String,
    /// Ordering scope: messages with the same key go out to a destination one after the other.
    pub partition_key: String,
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
    pub patient: PatientKeys,
    pub raw: Vec<u8>,
    /// The normalised message (JSON), absent for undecodable input.
    pub normalised: Option<Vec<u8>>,
    /// The acknowledgement returned to the sender (replayed for a resend).
    pub ack: Vec<u8>,
    /// Diagnostics as text (codes and field locations; no patient data).
    pub diagnostics: String,
    pub deliveries: Vec<NewDelivery>,
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
    pub raw: Vec<u8>,
    pub normalised: Option<Vec<u8>>,
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
    /// Matches the INS, NISS/BIS or IPP.
    pub patient: Option<String>,
    pub control_id: Option<String>,
    pub status: Option<MessageStatus>,
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
}
