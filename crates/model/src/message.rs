//! The format-neutral message every listener, journal, router and renderer handles:
//! `Message { envelope, patient, content }`, whatever the wire format.

use crate::clinical::Clinical;
use crate::datetime::PartialDateTime;
use crate::document::Document;
use crate::encounter::Encounter;
use crate::identifier::Identifier;
use crate::patient::{HumanName, Patient};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// What happened, in neutral terms every format maps to (routing matches on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Inpatient admission (HL7 v2 A01).
    Admit,
    /// Outpatient or emergency registration (A04).
    Register,
    /// Pre-admission (A05).
    PreAdmit,
    /// Transfer or change of patient class (A02, A06, A07).
    Transfer,
    /// Discharge or end of visit (A03).
    Discharge,
    /// Leave of absence and return (A21, A22).
    LeaveOfAbsence,
    /// A cancellation of an earlier event (A11, A12, A13).
    Cancel,
    /// Patient created or demographics updated, no visit (A28, A31, A08).
    PatientUpdate,
    /// Two patient records merged (A40).
    Merge,
    /// A patient identifier changed (A47: INS change or deletion in PAM-FR).
    IdentifierChange,
    /// A clinical document was sent (CDA, ORU/MDM carrying one, FHIR DocumentReference).
    Document,
    /// Results were reported (ORU^R01 with observations, FHIR Observation/DiagnosticReport).
    Results,
    /// An order was placed or changed (ORM^O01, OML^O21, FHIR ServiceRequest).
    Order,
    /// An appointment was booked, changed or cancelled (SIU^S12–S26, FHIR Appointment).
    Appointment,
    /// A vaccination was recorded (VXU^V04, FHIR Immunization).
    Immunization,
    /// Anything else: the source's own code says what.
    #[default]
    Other,
}

impl EventKind {
    /// The neutral event of an HL7 v2 message type and trigger (HL7 table 0003 as PAM-FR uses
    /// it); a FHIR message Bundle whose MessageHeader codes its event in v2-0003 gives the same.
    pub fn of_hl7v2(message_type: &str, trigger: &str) -> Self {
        match (message_type, trigger) {
            ("ADT" | "", "A01") => Self::Admit,
            ("ADT" | "", "A04") => Self::Register,
            ("ADT" | "", "A05") => Self::PreAdmit,
            ("ADT" | "", "A02" | "A06" | "A07") => Self::Transfer,
            ("ADT" | "", "A03") => Self::Discharge,
            ("ADT" | "", "A21" | "A22") => Self::LeaveOfAbsence,
            ("ADT" | "", "A11" | "A12" | "A13") => Self::Cancel,
            ("ADT" | "", "A08" | "A28" | "A31") => Self::PatientUpdate,
            ("ADT" | "", "A40") => Self::Merge,
            ("ADT" | "", "A47") => Self::IdentifierChange,
            ("MDM", _) => Self::Document,
            ("ORU", _) | ("", "R01") => Self::Results,
            ("ORM" | "OML", _) | ("", "O01" | "O21") => Self::Order,
            ("SIU", _) => Self::Appointment,
            ("VXU", _) | ("", "V04") => Self::Immunization,
            _ => Self::Other,
        }
    }
}

/// The event as the source coded it (HL7 v2 MSH-9), kept beside the neutral kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceEvent {
    pub message_type: String,
    pub trigger: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub structure: String,
}

impl SourceEvent {
    /// `ADT^A01`, the form routing globs match against.
    pub fn code(&self) -> String {
        if self.trigger.is_empty() { self.message_type.clone() } else { format!("{}^{}", self.message_type, self.trigger) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    pub kind: EventKind,
    pub source: SourceEvent,
}

/// A sending or receiving system: application and facility (HL7 v2 HD, CDA custodian/author org).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Party {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
}

/// Who sent what, when, in which format: the same for every content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub format: Format,
    #[serde(default)]
    pub sender: Party,
    #[serde(default)]
    pub receiver: Party,
    /// The sender's message id (HL7 v2 MSH-10, CDA `id`, FHIR `Bundle.identifier`).
    #[serde(default)]
    pub message_id: String,
    #[serde(default)]
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the sender created the message (MSH-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<PartialDateTime>,
    /// The event's own time (EVN-2 / EVN-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<PartialDateTime>,
    /// When the gateway received it (Unix ms); set by the gateway, absent in offline conversions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at_ms: Option<i64>,
    /// True when the sender declares the French national extension (MSH-12.2 or MSH-17 = FRA).
    #[serde(default)]
    pub french_profile: bool,
}

/// Patient identity change carried by MRG (A40 merge, A47 identifier change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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

/// An administrative event: a visit and its movement, a merge or an identifier change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Administrative {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Encounter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeInfo>,
}

/// What the message carries besides the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
// One Content per message in flight, never in bulk: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Content {
    Administrative(Administrative),
    Document(Document),
    Clinical(Clinical),
}

impl Default for Content {
    fn default() -> Self {
        Self::Administrative(Administrative::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub envelope: Envelope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    #[serde(default)]
    pub content: Content,
}

impl Message {
    /// An empty administrative message of `format`; the bytes as received stay with the journal.
    pub fn new(format: Format) -> Self {
        let envelope = Envelope {
            format,
            sender: Party::default(),
            receiver: Party::default(),
            message_id: String::new(),
            event: Event::default(),
            version: None,
            sent_at: None,
            event_time: None,
            received_at_ms: None,
            french_profile: false,
        };
        Self { envelope, patient: None, content: Content::default() }
    }

    /// The administrative content, when that is what the message carries.
    pub fn administrative(&self) -> Option<&Administrative> {
        match &self.content {
            Content::Administrative(a) => Some(a),
            _ => None,
        }
    }
    pub fn administrative_mut(&mut self) -> Option<&mut Administrative> {
        match &mut self.content {
            Content::Administrative(a) => Some(a),
            _ => None,
        }
    }
    /// The visit, whether the message is administrative or clinical.
    pub fn encounter(&self) -> Option<&Encounter> {
        match &self.content {
            Content::Administrative(a) => a.encounter.as_ref(),
            Content::Clinical(c) => c.encounter.as_ref(),
            Content::Document(_) => None,
        }
    }
    pub fn clinical(&self) -> Option<&Clinical> {
        match &self.content {
            Content::Clinical(c) => Some(c),
            _ => None,
        }
    }
    pub fn merge(&self) -> Option<&MergeInfo> {
        self.administrative().and_then(|a| a.merge.as_ref())
    }
    pub fn document(&self) -> Option<&Document> {
        match &self.content {
            Content::Document(d) => Some(d),
            _ => None,
        }
    }
}
