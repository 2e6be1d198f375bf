//! Model codes → FHIR Coding and CodeableConcept: OIDs to their FHIR URIs (or `urn:oid:`), URIs
//! as they are, a local table name (not a URI) left out rather than sent as a fake system.

use crate::types::{CodeableConcept, Coding, Str, b, ob};
use passerelle_model as m;

/// The FHIR system of a model code system: a URI as it is, an OID by its FHIR URI when it has a
/// well-known one, `urn:oid:` otherwise; `None` for a local table name.
pub fn code_system(system: &str) -> Option<Str<'_>> {
    if system.contains(':') {
        return Some(b(system));
    }
    let is_oid = system.contains('.') && system.split('.').all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    match system {
        "2.16.840.1.113883.6.1" => Some(b("http://loinc.org")),
        "2.16.840.1.113883.5.25" => Some(b("http://terminology.hl7.org/CodeSystem/v3-Confidentiality")),
        _ if is_oid => Some(Str::Owned(format!("urn:oid:{system}"))),
        _ => None,
    }
}

pub fn coding(c: &m::Code) -> Coding<'_> {
    Coding { system: code_system(&c.system), code: (!c.code.is_empty()).then(|| b(&c.code)), display: ob(&c.display) }
}

pub fn concept(c: &m::Code) -> CodeableConcept<'_> {
    concept_of(std::slice::from_ref(c))
}

/// The codings of a CE/CWE (primary, alternate); a text-only value becomes `text`.
pub fn concept_of(codes: &[m::Code]) -> CodeableConcept<'_> {
    let coding: Vec<Coding<'_>> = codes.iter().filter(|c| !c.code.is_empty()).map(coding).collect();
    let text = if coding.is_empty() { codes.iter().find_map(|c| ob(&c.display)) } else { None };
    CodeableConcept { coding, text }
}
