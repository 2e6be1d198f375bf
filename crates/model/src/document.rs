//! A clinical document's metadata (CDA R2 header, FHIR DocumentReference, MDM/ORU envelope) and a
//! reference to its content bytes, which stay in the journal and are never copied into the model.

use crate::datetime::PartialDateTime;
use serde::{Deserialize, Serialize};

/// An instance identifier: CDA `II` (root OID or UUID, optional extension).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceId {
    pub root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

/// A code with its system and display (CDA `CD`/`CE`, FHIR `Coding`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Code {
    pub code: String,
    /// OID or URI of the code system (LOINC `2.16.840.1.113883.6.1`…).
    pub system: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// Where the document body is: a span of the journaled raw bytes and its media type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentRef {
    /// `text/xml` for a structured body, the declared type of a non-XML body (`application/pdf`…).
    pub media_type: String,
    /// Byte offset and length in the raw message as journaled.
    pub offset: usize,
    pub length: usize,
    /// Base64 inside the raw bytes (nonXMLBody, HL7 v2 ED), to decode on use.
    pub base64: bool,
}

/// A top-level section of a structured body, as listed in the header read (code and title only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Section {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Document {
    pub id: InstanceId,
    /// Document type (LOINC in France).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<PartialDateTime>,
    /// Confidentiality (HL7 `N`, `R`, `V`, or the French masking codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The set the document belongs to and its version (replacements keep the set id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_id: Option<InstanceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The document this one replaces (`relatedDocument typeCode="RPLC"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<InstanceId>,
    /// MetaDMPMSS sharing flags (HL7 v2 documents), when the sender gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<crate::consent::DocumentSharing>,
    /// Top-level sections of a structured body (empty for a non-XML body).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentRef>,
}
