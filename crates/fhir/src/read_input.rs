//! A FHIR input (a Patient, or a Bundle of entries) parsed into the resources we read, checked
//! strictly. Fast path: one serde pass that dispatches each resource on its leading
//! `resourceType` (no buffered tree, other resources skipped). Anything unusual (a fault, a
//! `resourceType` that is not first, an unknown type) takes the located path of `read_json`,
//! which gives the same result or the FHIRPath of the fault.

use crate::ReadError;
use crate::read_json::{RawBundle, is_r4_resource_type, resource_type, typed};
use crate::types::{Encounter, Patient, Str};
use passerelle_model as m;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor, value::MapAccessDeserializer};
use std::borrow::Cow;

/// What the input holds for the model: the (first) Patient and how it was asked for, the
/// (first) Encounter, the Bundle's timestamp.
pub struct InputParts<'a> {
    pub patient: Box<Patient<'a>>,
    pub method: Option<String>,
    pub timestamp: Option<Str<'a>>,
    /// The Bundle's business identifier (its value): the sender's message id.
    pub message_id: Option<Str<'a>>,
    pub encounter: Option<Box<Encounter<'a>>>,
    /// A message Bundle's MessageHeader.eventCoding (system, code).
    pub message_event: Option<(String, String)>,
    /// Observations, DiagnosticReports and Specimens of the Bundle.
    pub results: crate::read_clinical::Results<'a>,
    /// DocumentReferences (with their entry index) and the Binaries they may point at.
    pub documents: Documents<'a>,
    /// An Encounter posted alone: the Patient stands for its subject reference (an identifier,
    /// or Passerelle's identity id under [`IDENTITY_SYSTEM`]) and must name a known person.
    pub patient_by_reference: bool,
    /// FHIRPath of the Patient and of the Encounter (`Patient`, `Bundle.entry[1].resource`).
    patient_at: String,
    encounter_at: String,
}

/// The document resources of a Bundle.
#[derive(Default)]
pub struct Documents<'a> {
    pub references: Vec<(usize, Box<crate::document_types::DocumentReference<'a>>)>,
    pub binaries: Vec<(Option<Cow<'a, str>>, Box<crate::document_types::Binary<'a>>)>,
}

/// MessageHeader.eventCoding, all a message Bundle needs to say which event it is.
#[derive(serde::Deserialize)]
struct MessageHeader<'a> {
    #[serde(default, borrow, rename = "eventCoding")]
    event_coding: Option<crate::types::Coding<'a>>,
}

/// The entries of a Bundle as they are read: the first Patient and Encounter, and any second one
/// (refused: a Bundle is one message about one person, nothing in it is dropped silently).
/// A Bundle's Patient entry: the resource, its request, its index and fullUrl.
type PatientEntry<'a> = (Box<Patient<'a>>, Option<crate::read_json::RawRequest<'a>>, usize, Option<Cow<'a, str>>);

#[derive(Default)]
struct Collector<'a> {
    patient: Option<PatientEntry<'a>>,
    encounter: Option<(Box<Encounter<'a>>, usize)>,
    second: Option<(usize, &'static str)>,
    message_event: Option<(String, String)>,
    results: crate::read_clinical::Results<'a>,
    documents: Documents<'a>,
}

impl<'a> Collector<'a> {
    fn patient(&mut self, i: usize, p: Box<Patient<'a>>, request: Option<crate::read_json::RawRequest<'a>>, full_url: Option<Cow<'a, str>>) {
        match self.patient {
            None => self.patient = Some((p, request, i, full_url)),
            Some(_) => {
                self.second.get_or_insert((i, "Patient"));
            }
        }
    }
    fn encounter(&mut self, i: usize, e: Box<Encounter<'a>>) {
        match self.encounter {
            None => self.encounter = Some((e, i)),
            Some(_) => {
                self.second.get_or_insert((i, "Encounter"));
            }
        }
    }
    fn observation(&mut self, i: usize, full_url: Option<Cow<'a, str>>, o: Box<crate::clinical_types::Observation<'a>>) {
        self.results.observations.push((i, full_url, o));
    }
    fn report(&mut self, i: usize, r: Box<crate::clinical_types::DiagnosticReport<'a>>) {
        self.results.reports.push((i, r));
    }
    fn specimen(&mut self, i: usize, full_url: Option<Cow<'a, str>>, s: Box<crate::clinical_types::Specimen<'a>>) {
        self.results.specimens.push((i, full_url, s));
    }
    fn document(&mut self, i: usize, d: Box<crate::document_types::DocumentReference<'a>>) {
        self.documents.references.push((i, d));
    }
    fn binary(&mut self, full_url: Option<Cow<'a, str>>, b: Box<crate::document_types::Binary<'a>>) {
        self.documents.binaries.push((full_url, b));
    }
    fn message_header(&mut self, h: MessageHeader<'_>) {
        if let Some(c) = h.event_coding {
            self.message_event = Some((c.system.unwrap_or_default().into_owned(), c.code.unwrap_or_default().into_owned()));
        }
    }

    /// The parts, once the Bundle's entries are consistent: one Patient (and at most one
    /// Encounter) whose conditional update and references all name that person.
    fn finish(self, bundle_type: Option<&str>, timestamp: Option<Str<'a>>, message_id: Option<Str<'a>>) -> Result<InputParts<'a>, ReadError> {
        if let Some(t) = bundle_type.filter(|t| !matches!(*t, "transaction" | "batch" | "message" | "collection")) {
            return Err(ReadError::invalid(format!("a {t} Bundle is not ingested: post a transaction, batch or message"), "Bundle.type".into()));
        }
        if let Some((i, what)) = self.second {
            let why = match what {
                "Patient" => {
                    "a second Patient: a Bundle is about one person (two entries for one identity, or two people, are never merged or dropped); post one Patient per Bundle"
                }
                _ => "a second Encounter: a Bundle carries one visit event; post one Encounter per Bundle",
            };
            return Err(ReadError::invalid(why.into(), entry_at(i)));
        }
        let (patient, request, p, full_url) = self.patient.ok_or(ReadError::NoPatient)?;
        let carries = |condition: &str| {
            condition.strip_prefix("Patient?identifier=").and_then(|c| c.split_once('|')).is_some_and(|(system, value)| {
                patient.identifier.iter().any(|id| id.system.as_deref() == Some(&unescape_query(system)) && id.value.as_deref() == Some(&unescape_query(value)))
            })
        };
        if let Some(url) = request.as_ref().and_then(|r| r.url.as_deref()).filter(|u| u.starts_with("Patient?") && !carries(u)) {
            return Err(ReadError::invalid(
                format!("the Patient does not carry the identifier of its conditional update {url:?}"),
                format!("Bundle.entry[{p}].request.url"),
            ));
        }
        if let Some((e, i)) = &self.encounter
            && let Some(reference) = e.subject.as_ref().and_then(|s| s.reference.as_deref())
        {
            let same = full_url.as_deref() == Some(reference) || carries(reference) || reference.starts_with("Patient/");
            if !same {
                return Err(ReadError::invalid("the Encounter's subject is not the Bundle's Patient".into(), format!("{}.subject.reference", entry_at(*i))));
            }
        }
        let encounter_at = self.encounter.as_ref().map(|(_, i)| entry_at(*i)).unwrap_or_default();
        Ok(InputParts {
            patient,
            method: request.map(|r| r.method.into_owned()),
            timestamp,
            message_id,
            encounter: self.encounter.map(|(e, _)| e),
            message_event: self.message_event,
            results: self.results,
            documents: self.documents,
            patient_by_reference: false,
            patient_at: entry_at(p),
            encounter_at,
        })
    }
}

/// `%7C` and the like in a conditional URL, decoded.
fn unescape_query(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The identifier system of Passerelle's own identity ids (`Patient/<id>` references).
pub const IDENTITY_SYSTEM: &str = "urn:passerelle:identity";

/// An Encounter posted alone, its subject as the Patient: `Patient?identifier=system|value` or
/// `Patient/<identity id>` (the Location Passerelle answered).
fn referenced(encounter: Box<Encounter<'_>>) -> Result<InputParts<'_>, ReadError> {
    let reference = encounter.subject.as_ref().and_then(|s| s.reference.as_deref()).unwrap_or_default();
    let (system, value) = if let Some((system, value)) = reference.strip_prefix("Patient?identifier=").and_then(|c| c.split_once('|')) {
        (unescape_query(system), unescape_query(value))
    } else if let Some(id) = reference.strip_prefix("Patient/").filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) {
        (IDENTITY_SYSTEM.to_owned(), id.to_owned())
    } else {
        let why = "an Encounter posted alone names its patient as Patient?identifier=system|value or Patient/<id>";
        return Err(ReadError::invalid(why.into(), "Encounter.subject.reference".into()));
    };
    let identifier = crate::types::Identifier { system: Some(system.into()), value: Some(value.into()), ..Default::default() };
    let patient = Box::new(Patient { identifier: vec![identifier], ..Patient::default() });
    Ok(InputParts {
        patient,
        method: None,
        timestamp: None,
        message_id: None,
        encounter: Some(encounter),
        message_event: None,
        results: Default::default(),
        documents: Default::default(),
        patient_by_reference: true,
        patient_at: "Patient".into(),
        encounter_at: "Encounter".into(),
    })
}

fn entry_at(i: usize) -> String {
    format!("Bundle.entry[{i}].resource")
}

enum FastResource<'a> {
    Patient(Box<Patient<'a>>),
    Encounter(Box<Encounter<'a>>),
    Bundle(FastBundle<'a>),
    MessageHeader(MessageHeader<'a>),
    Observation(Box<crate::clinical_types::Observation<'a>>),
    DiagnosticReport(Box<crate::clinical_types::DiagnosticReport<'a>>),
    Specimen(Box<crate::clinical_types::Specimen<'a>>),
    DocumentReference(Box<crate::document_types::DocumentReference<'a>>),
    Binary(Box<crate::document_types::Binary<'a>>),
    /// Another R4 resource, skipped.
    Skipped,
}

#[derive(serde::Deserialize)]
struct FastBundle<'a> {
    #[serde(default, borrow, rename = "type")]
    bundle_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    identifier: Option<crate::read_json::BundleIdentifier<'a>>,
    #[serde(default, borrow)]
    entry: Vec<FastEntry<'a>>,
}

#[derive(serde::Deserialize)]
struct FastEntry<'a> {
    #[serde(default, borrow, rename = "fullUrl")]
    full_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    resource: Option<FastResource<'a>>,
    #[serde(default, borrow)]
    request: Option<crate::read_json::RawRequest<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for FastResource<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Dispatch<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Dispatch<'a> {
            type Value = FastResource<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a fhir resource starting with resourceType")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                if map.next_key::<Cow<'de, str>>()?.as_deref() != Some("resourceType") {
                    return Err(de::Error::custom("resourceType is not the first member"));
                }
                let name: Cow<'de, str> = map.next_value()?;
                let rest = MapAccessDeserializer::new(map);
                Ok(match name.as_ref() {
                    "Patient" => FastResource::Patient(Box::new(Patient::deserialize(rest)?)),
                    "Encounter" => FastResource::Encounter(Box::new(Encounter::deserialize(rest)?)),
                    "Bundle" => FastResource::Bundle(FastBundle::deserialize(rest)?),
                    "MessageHeader" => FastResource::MessageHeader(MessageHeader::deserialize(rest)?),
                    "Observation" => FastResource::Observation(Box::new(Deserialize::deserialize(rest)?)),
                    "DiagnosticReport" => FastResource::DiagnosticReport(Box::new(Deserialize::deserialize(rest)?)),
                    "Specimen" => FastResource::Specimen(Box::new(Deserialize::deserialize(rest)?)),
                    "DocumentReference" => FastResource::DocumentReference(Box::new(Deserialize::deserialize(rest)?)),
                    "Binary" => FastResource::Binary(Box::new(Deserialize::deserialize(rest)?)),
                    known if is_r4_resource_type(known) => {
                        IgnoredAny::deserialize(rest)?;
                        FastResource::Skipped
                    }
                    _ => return Err(de::Error::custom("unknown resource type")),
                })
            }
        }
        deserializer.deserialize_map(Dispatch(std::marker::PhantomData))
    }
}

/// One pass; `None` when the located path must decide.
fn fast(text: &str) -> Option<Result<InputParts<'_>, ReadError>> {
    let parts = match serde_json::from_str::<FastResource<'_>>(text).ok()? {
        FastResource::Patient(p) => InputParts::alone(p),
        FastResource::Bundle(bundle) => {
            let mut collected = Collector::default();
            for (i, entry) in bundle.entry.into_iter().enumerate() {
                match entry.resource {
                    Some(FastResource::Patient(p)) => collected.patient(i, p, entry.request, entry.full_url),
                    Some(FastResource::Encounter(e)) => collected.encounter(i, e),
                    Some(FastResource::MessageHeader(h)) => collected.message_header(h),
                    Some(FastResource::Observation(o)) => collected.observation(i, entry.full_url, o),
                    Some(FastResource::DiagnosticReport(r)) => collected.report(i, r),
                    Some(FastResource::Specimen(sp)) => collected.specimen(i, entry.full_url, sp),
                    Some(FastResource::DocumentReference(d)) => collected.document(i, d),
                    Some(FastResource::Binary(b)) => collected.binary(entry.full_url, b),
                    Some(FastResource::Bundle(_)) => return None,
                    _ => {}
                }
            }
            return Some(collected.finish(bundle.bundle_type.as_deref(), bundle.timestamp, bundle.identifier.and_then(|i| i.value)));
        }
        FastResource::Encounter(e) => return Some(referenced(e)),
        _ => return Some(Err(ReadError::NoPatient)),
    };
    Some(Ok(parts))
}

/// Every resource typed one by one from its raw text, so that a fault is located.
fn located(text: &str) -> Result<InputParts<'_>, ReadError> {
    match resource_type(text, "")?.as_ref() {
        "Patient" => Ok(InputParts::alone(Box::new(typed(text, "Patient")?))),
        "Bundle" => {
            let bundle: RawBundle<'_> = typed(text, "Bundle")?;
            let mut collected = Collector::default();
            for (i, entry) in bundle.entry.into_iter().enumerate() {
                let Some(raw) = entry.resource else { continue };
                let at = entry_at(i);
                match resource_type(raw.get(), &at)?.as_ref() {
                    "Patient" => collected.patient(i, Box::new(typed(raw.get(), &at)?), entry.request, entry.full_url),
                    "Encounter" => collected.encounter(i, Box::new(typed(raw.get(), &at)?)),
                    "MessageHeader" => collected.message_header(typed(raw.get(), &at)?),
                    "Observation" => collected.observation(i, entry.full_url, Box::new(typed(raw.get(), &at)?)),
                    "DiagnosticReport" => collected.report(i, Box::new(typed(raw.get(), &at)?)),
                    "Specimen" => collected.specimen(i, entry.full_url, Box::new(typed(raw.get(), &at)?)),
                    "DocumentReference" => collected.document(i, Box::new(typed(raw.get(), &at)?)),
                    "Binary" => collected.binary(entry.full_url, Box::new(typed(raw.get(), &at)?)),
                    known if is_r4_resource_type(known) => {}
                    unknown => return Err(ReadError::invalid(format!("unknown resource type {unknown:?}"), format!("{at}.resourceType"))),
                }
            }
            collected.finish(bundle.bundle_type.as_deref(), bundle.timestamp, bundle.identifier.and_then(|i| i.value))
        }
        "Encounter" => referenced(Box::new(typed(text, "Encounter")?)),
        other if is_r4_resource_type(other) => Err(ReadError::NoPatient),
        unknown => Err(ReadError::invalid(format!("unknown resource type {unknown:?}"), "resourceType".into())),
    }
}

/// Parses and checks `text`: JSON types, then the values FHIR constrains beyond them.
pub fn parse_input(text: &str) -> Result<InputParts<'_>, ReadError> {
    let parts = match fast(text) {
        Some(result) => result?,
        None => located(text)?,
    };
    check_patient(&parts.patient, &parts.patient_at)?;
    if let Some(period) = parts.encounter.as_ref().and_then(|e| e.period.as_ref()) {
        let at = &parts.encounter_at;
        check_temporal(period.start.as_deref(), Temporal::DateTime, &format!("{at}.period.start"))?;
        check_temporal(period.end.as_deref(), Temporal::DateTime, &format!("{at}.period.end"))?;
    }
    check_temporal(parts.timestamp.as_deref(), Temporal::Instant, "Bundle.timestamp")?;
    Ok(parts)
}

#[derive(Clone, Copy, PartialEq)]
enum Temporal {
    Date,
    DateTime,
    Instant,
}

/// A FHIR date, dateTime or instant exactly as FHIR writes it, or the fault at `at`.
fn check_temporal(value: Option<&str>, kind: Temporal, at: &str) -> Result<(), ReadError> {
    let Some(text) = value else { return Ok(()) };
    let ok = match m::PartialDateTime::parse_fhir(text) {
        None => false,
        Some(t) => match kind {
            Temporal::Date => t.hour.is_none(),
            Temporal::DateTime => true,
            Temporal::Instant => t.second.is_some() && t.offset_minutes.is_some(),
        },
    };
    let name = match kind {
        Temporal::Date => "date",
        Temporal::DateTime => "dateTime",
        Temporal::Instant => "instant",
    };
    if ok { Ok(()) } else { Err(ReadError::invalid(format!("{text:?} is not a fhir {name}"), at.to_owned())) }
}

/// The Patient's values FHIR constrains beyond their JSON type: dates and the gender code.
fn check_patient(p: &Patient<'_>, at: &str) -> Result<(), ReadError> {
    check_temporal(p.birth_date.as_deref(), Temporal::Date, &format!("{at}.birthDate"))?;
    check_temporal(p.deceased_date_time.as_deref(), Temporal::DateTime, &format!("{at}.deceasedDateTime"))?;
    check_temporal(p.meta.as_ref().and_then(|m| m.last_updated.as_deref()), Temporal::Instant, &format!("{at}.meta.lastUpdated"))?;
    match p.gender.as_deref() {
        None | Some("male" | "female" | "other" | "unknown") => Ok(()),
        Some(g) => Err(ReadError::invalid(format!("{g:?} is not an administrative gender (male, female, other, unknown)"), format!("{at}.gender"))),
    }
}

impl<'a> InputParts<'a> {
    fn alone(patient: Box<Patient<'a>>) -> Self {
        Self {
            patient,
            method: None,
            timestamp: None,
            message_id: None,
            encounter: None,
            message_event: None,
            results: Default::default(),
            documents: Default::default(),
            patient_by_reference: false,
            patient_at: "Patient".into(),
            encounter_at: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_reads_our_own_bundles() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.fhir.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let err = serde_json::from_str::<FastResource<'_>>(&text).err();
        assert!(err.is_none(), "{err:?}");
        assert!(matches!(fast(&text), Some(Ok(InputParts { encounter: Some(_), .. }))));
    }
}
