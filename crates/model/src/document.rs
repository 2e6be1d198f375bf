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

/// An organisation of the document's header (author's organisation, custodian): its national id
/// (`idNatSt`, root `1.2.250.1.71.4.2.2` in France) and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Organisation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<InstanceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A person acting on the document (author, legal authenticator, recipient): `idNatPS` (root
/// `1.2.250.1.71.4.2.1`, `8` + RPPS or `0` + ADELI) or another id, the name, the organisation,
/// and the time of the act.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Participant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<InstanceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<Organisation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<PartialDateTime>,
}

/// A recipient named by the sender (HL7 v2 PRT `RCT`/`REPLY`): the person or organisation and
/// its MSSanté address, when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recipient {
    /// PRT-4: `RCT` (copy to), `REPLY`, or `SB` (sent by).
    pub role: String,
    #[serde(flatten)]
    pub who: Participant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
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
    /// The sender deletes the document (MDM^T04, OBX-11 `D`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The document this one replaces (`relatedDocument typeCode="RPLC"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<InstanceId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<Participant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custodian: Option<Organisation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_authenticator: Option<Participant>,
    /// The encounter's facility type (`healthCareFacility/code`, TRE_R02 in France).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility_type: Option<Code>,
    /// The practice setting (`serviceEvent` performer's organisation `standardIndustryClassCode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practice_setting: Option<Code>,
    /// Recipients the sender named (HL7 v2 PRT), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// MetaDMPMSS sharing flags (HL7 v2 documents), when the sender gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<crate::consent::DocumentSharing>,
    /// Top-level sections of a structured body (empty for a non-XML body).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentRef>,
    /// The other documents the same message carries, each with its own id and content (an ORU
    /// with the N1 and N3 forms of one report). Renderings give each its own reference.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<Document>,
}

impl Document {
    /// This document, then its companions.
    pub fn all(&self) -> impl Iterator<Item = &Document> {
        std::iter::once(self).chain(self.companions.iter())
    }
}
