//! The message envelope every listener, journal and router handles, whatever the wire format.

use crate::datetime::PartialDateTime;
use crate::encounter::Encounter;
use crate::identifier::Identifier;
use crate::patient::{HumanName, Patient};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Hl7v2,
    Cda,
    Fhir,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hl7v2 => "hl7v2",
            Self::Cda => "cda",
            Self::Fhir => "fhir",
        }
    }
}

/// Message type, trigger event and structure (HL7 v2 MSH-9; synthesised for other formats).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageEvent {
    pub message_type: String,
    pub trigger: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub structure: String,
}

impl MessageEvent {
    /// `ADT^A01`, the form routing globs match against.
    pub fn code(&self) -> String {
        if self.trigger.is_empty() { self.message_type.clone() } else { format!("{}^{}", self.message_type, self.trigger) }
    }
}

/// Patient identity change carried by MRG (A40 merge, A47 identifier change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeInfo {
    /// MRG-1: the prior identifiers.
    pub prior_identifiers: Vec<Identifier>,
    /// A47 deletion of the INS: a PID-3 INS repetition with the value `""` (PAM-FR §4.4).
    pub ins_deleted: bool,
    /// MRG-3 prior patient account number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_account: Option<Identifier>,
    /// MRG-5 prior visit number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_visit: Option<Identifier>,
    /// MRG-7 prior patient name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_name: Option<HumanName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub format: Format,
    pub event: MessageEvent,
    pub control_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_facility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_facility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<PartialDateTime>,
    /// The event's own time (EVN-2 / EVN-6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<PartialDateTime>,
    /// True when the sender declares the French national extension (MSH-12.2 or MSH-17 = FRA).
    pub french_profile: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Encounter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeInfo>,
}

impl Message {
    /// An empty message of `format`; the bytes as received stay with the journal, not the model.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            event: MessageEvent::default(),
            control_id: String::new(),
            version: None,
            sending_application: None,
            sending_facility: None,
            receiving_application: None,
            receiving_facility: None,
            timestamp: None,
            event_time: None,
            french_profile: false,
            patient: None,
            encounter: None,
            merge: None,
        }
    }
}
