//! Hand-written FHIR R4 types for only the resources we emit or read (no generated full model).

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub use crate::document_types::{
    Attachment, Base64Data, Binary, DocumentReference, DocumentReferenceContent, DocumentReferenceContext, DocumentReferenceRelatesTo, List, ListEntry,
};

/// Text borrowed from the model while rendering (no copy), owned when read from JSON.
pub type Str<'a> = Cow<'a, str>;

/// Deserializers that borrow text from the JSON input when it holds no escape (serde's own
/// `Cow` impl always copies): reading a Bundle then allocates only for what it keeps.
pub mod borrowed {
    use super::Str;
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use std::borrow::Cow;

    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }

    struct Wrapped<'de>(Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Wrapped<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(Text).map(Wrapped)
        }
    }

    pub fn string<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Str<'a>, D::Error> {
        d.deserialize_str(Text)
    }
    pub fn option<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Str<'a>>, D::Error> {
        <Option<Wrapped<'de>> as serde::Deserialize>::deserialize(d).map(|o| o.map(|w| w.0))
    }
    pub fn list<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<Str<'a>>, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Vec<Cow<'de, str>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(Wrapped(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(List)
    }
}

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
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub code: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
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
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
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
    #[serde(borrow, deserialize_with = "borrowed::string")]
    pub url: Str<'a>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub value_string: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub value_code: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub value_date: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_coding: Option<Coding<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_address: Option<Address<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, borrow, deserialize_with = "borrowed::option", rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(borrow, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub value: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub assigner: Option<Box<Reference<'a>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub reference: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub display: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub family: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub city: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub district: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub state: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub country: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub value: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub start: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub end: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
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
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub relationship: Vec<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub name: Option<HumanName<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientLink<'a> {
    #[serde(borrow)]
    pub other: Reference<'a>,
    #[serde(borrow, deserialize_with = "borrowed::string", rename = "type")]
    pub type_: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub gender: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<Str<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<PatientContact<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioner: Vec<Reference<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<PatientLink<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterLocation<'a> {
    #[serde(borrow)]
    pub location: Reference<'a>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub status: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterParticipant<'a> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(borrow, rename = "type")]
    pub type_: Vec<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub individual: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hospitalization<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub admit_source: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub discharge_disposition: Option<CodeableConcept<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encounter<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, deserialize_with = "borrowed::string")]
    pub status: Str<'a>,
    #[serde(borrow)]
    pub class: Coding<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub participant: Vec<EncounterParticipant<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub reason_code: Vec<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub hospitalization: Option<Hospitalization<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<EncounterLocation<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomeIssue<'a> {
    #[serde(borrow, deserialize_with = "borrowed::string")]
    pub severity: Str<'a>,
    #[serde(borrow, deserialize_with = "borrowed::string")]
    pub code: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableConcept<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<Str<'a>>,
    /// FHIRPath of the fault.
    #[serde(default, borrow, deserialize_with = "borrowed::list", skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome<'a> {
    #[serde(borrow)]
    pub issue: Vec<OperationOutcomeIssue<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRequest<'a> {
    pub method: String,
    #[serde(borrow, deserialize_with = "borrowed::string")]
    pub url: Str<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub full_url: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub request: Option<BundleRequest<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(borrow, deserialize_with = "borrowed::string", rename = "type")]
    pub type_: Str<'a>,
    #[serde(default, borrow, deserialize_with = "borrowed::option", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Str<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry<'a>>,
}

/// The resources we handle, tagged by `resourceType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "resourceType", bound(deserialize = "'de: 'a"))]
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
