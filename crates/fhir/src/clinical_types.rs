//! Hand-written FHIR R4 types for clinical content: Observation, DiagnosticReport, Specimen,
//! ServiceRequest, Appointment and Immunization (only the elements we map), and the exact decimal.

use crate::types::{CodeableConcept, Identifier, Period, Reference, Str};
use serde::{Deserialize, Serialize};

/// A FHIR decimal carried as its text: our JSON writer copies it as a number (precision kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FhirDecimal<'a>(pub Str<'a>);

impl Serialize for FhirDecimal<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(crate::json::DECIMAL_TOKEN, self.0.as_ref())
    }
}

/// Read from serde_json as the number's own text (`13.50` stays `13.50`); a string is refused.
impl<'de: 'a, 'a> Deserialize<'de> for FhirDecimal<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: &'de serde_json::value::RawValue = Deserialize::deserialize(deserializer)?;
        let text = raw.get();
        if text.parse::<f64>().is_err() {
            return Err(serde::de::Error::custom(format!("a decimal must be a JSON number, got {text}")));
        }
        Ok(Self(std::borrow::Cow::Borrowed(text)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity<'a> {
    #[serde(borrow)]
    pub value: FhirDecimal<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Range<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub low: Option<Quantity<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub high: Option<Quantity<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratio<'a> {
    #[serde(borrow)]
    pub numerator: Quantity<'a>,
    #[serde(borrow)]
    pub denominator: Quantity<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation<'a> {
    pub text: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceRange<'a> {
    pub text: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    pub status: Str<'a>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub code: CodeableConcept<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date_time: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_range: Option<Range<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub value_ratio: Option<Ratio<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub interpretation: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub note: Vec<Annotation<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub method: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub device: Option<Reference<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub reference_range: Vec<ReferenceRange<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticReport<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub based_on: Vec<Reference<'a>>,
    pub status: Str<'a>,
    #[serde(borrow)]
    pub code: CodeableConcept<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<Str<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub specimen: Vec<Reference<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub result: Vec<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecimenCollection<'a> {
    pub collected_date_time: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Specimen<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    #[serde(borrow, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_time: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub collection: Option<SpecimenCollection<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRequest<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    pub status: Str<'a>,
    pub intent: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub subject: Reference<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored_on: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub requester: Option<Reference<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentParticipant<'a> {
    #[serde(borrow, default, rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub type_: Vec<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Reference<'a>>,
    pub status: Str<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment<'a> {
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    pub status: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub appointment_type: Option<CodeableConcept<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub reason_code: Vec<CodeableConcept<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_duration: Option<u32>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub requested_period: Vec<Period<'a>>,
    #[serde(borrow)]
    pub participant: Vec<AppointmentParticipant<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Immunization<'a> {
    pub status: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<CodeableConcept<'a>>,
    #[serde(borrow)]
    pub vaccine_code: CodeableConcept<'a>,
    #[serde(borrow)]
    pub patient: Reference<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference<'a>>,
    pub occurrence_date_time: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_number: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub site: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub route: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub dose_quantity: Option<Quantity<'a>>,
}
