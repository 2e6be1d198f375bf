//! Hand-written FHIR R4 types for only the resources we emit or read (no generated full model).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub use crate::document_types::{
    Attachment, Base64Data, Binary, DocumentReference, DocumentReferenceContent, DocumentReferenceContext, DocumentReferenceRelatesTo, List, ListEntry,
};

/// Text borrowed from the model while rendering (no copy), owned when read from JSON.
pub type Str<'a> = Cow<'a, str>;

/// Borrows a model string.
pub fn b(s: &str) -> Str<'_> {
    Cow::Borrowed(s)
}

/// Borrows an optional model string.
pub fn ob(s: &Option<String>) -> Option<Str<'_>> {
    s.as_deref().map(Cow::Borrowed)
}

/// Borrows a list of model strings.
pub fn vb(v: &[String]) -> Vec<Str<'_>> {
    v.iter().map(|s| Cow::Borrowed(s.as_str())).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<Str<'a>>,
}

impl<'a> Coding<'a> {
    pub fn new(system: impl Into<Str<'a>>, code: impl Into<Str<'a>>) -> Self {
        Self { system: Some(system.into()), code: Some(code.into()), display: None }
    }
    pub fn code_only(code: impl Into<Str<'a>>) -> Self {
        Self { system: None, code: Some(code.into()), display: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Str<'a>>,
}

impl<'a> CodeableConcept<'a> {
    pub fn coding(c: Coding<'a>) -> Self {
        Self { coding: vec![c], text: None }
    }
    pub fn text(t: impl Into<Str<'a>>) -> Self {
        Self { coding: Vec::new(), text: Some(t.into()) }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension<'a> {
    pub url: Str<'a>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_code: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_coding: Option<Coding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_address: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_identifier: Option<Identifier<'a>>,
}

impl<'a> Extension<'a> {
    pub fn new(url: impl Into<Str<'a>>) -> Self {
        Self { url: url.into(), ..Self::default() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier<'a> {
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigner: Option<Box<Reference<'a>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Str<'a>>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<Str<'a>>,
}

impl<'a> Meta<'a> {
    /// The meta of a resource claiming one profile.
    pub fn profiled(url: impl Into<Str<'a>>) -> Self {
        Self { last_updated: None, profile: vec![url.into()] }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientContact<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<HumanName<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientLink<'a> {
    pub other: Reference<'a>,
    #[serde(rename = "type")]
    pub type_: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<PatientContact<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioner: Vec<Reference<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<PatientLink<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterLocation<'a> {
    pub location: Reference<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterParticipant<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "type")]
    pub type_: Vec<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub individual: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hospitalization<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admit_source: Option<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_disposition: Option<CodeableConcept<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encounter<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    pub status: Str<'a>,
    pub class: Coding<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participant: Vec<EncounterParticipant<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_code: Vec<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospitalization: Option<Hospitalization<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<EncounterLocation<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomeIssue<'a> {
    pub severity: Str<'a>,
    pub code: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<Str<'a>>,
    /// FHIRPath of the fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome<'a> {
    pub issue: Vec<OperationOutcomeIssue<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRequest<'a> {
    pub method: String,
    pub url: Str<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_url: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<BundleRequest<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(rename = "type")]
    pub type_: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Str<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry<'a>>,
}

/// The resources we handle, tagged by `resourceType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "resourceType")]
pub enum Resource<'a> {
    Patient(Box<Patient<'a>>),
    Encounter(Box<Encounter<'a>>),
    Bundle(Box<Bundle<'a>>),
    DocumentReference(Box<DocumentReference<'a>>),
    Binary(Box<Binary<'a>>),
    List(Box<List<'a>>),
    OperationOutcome(OperationOutcome<'a>),
    Observation(Box<crate::clinical_types::Observation<'a>>),
    DiagnosticReport(Box<crate::clinical_types::DiagnosticReport<'a>>),
    Specimen(Box<crate::clinical_types::Specimen<'a>>),
    ServiceRequest(Box<crate::clinical_types::ServiceRequest<'a>>),
    Appointment(Box<crate::clinical_types::Appointment<'a>>),
    Immunization(Box<crate::clinical_types::Immunization<'a>>),
}

impl<'a> Bundle<'a> {
    /// The bundle as a top-level resource, so that it serialises with its `resourceType`.
    pub fn into_resource(self) -> Resource<'a> {
        Resource::Bundle(Box::new(self))
    }
}
