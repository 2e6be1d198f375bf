//! Results → FHIR following the HL7 v2-to-FHIR IG's ORU maps: OBR → DiagnosticReport, OBX →
//! Observation with its value type kept, SPM → Specimen; statuses from HL7 tables 0085 and 0123.

use crate::clinical_types::{Annotation, DiagnosticReport, FhirDecimal, Observation, Quantity, Range, Ratio, ReferenceRange, Specimen, SpecimenCollection};
use crate::codes::{code_system, concept, concept_of};
use crate::types::{CodeableConcept, Coding, Identifier, Reference, Str, b};
use passerelle_model as m;
use passerelle_model::TimeZoneRule;

const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// OBX-11 (HL7 table 0085) → Observation.status.
pub fn observation_status(code: Option<&str>) -> &'static str {
    match code {
        Some("F" | "U") => "final",
        Some("C") => "corrected",
        Some("P" | "R" | "S") => "preliminary",
        Some("I" | "O") => "registered",
        Some("D" | "W") => "entered-in-error",
        Some("X") => "cancelled",
        Some("A") => "amended",
        _ => "unknown",
    }
}

/// OBR-25 (HL7 table 0123) → DiagnosticReport.status.
pub fn report_status(code: Option<&str>) -> &'static str {
    match code {
        Some("O" | "I") => "registered",
        Some("S" | "A" | "R") => "partial",
        Some("P") => "preliminary",
        Some("C") => "corrected",
        Some("F") => "final",
        Some("X") => "cancelled",
        Some("M") => "amended",
        _ => "unknown",
    }
}

/// HL7 table 0078 flags that v3 ObservationInterpretation defines with the same code.
fn interpretation(flag: &str) -> CodeableConcept<'_> {
    let known = matches!(flag, "L" | "H" | "LL" | "HH" | "N" | "A" | "AA" | "S" | "R" | "I" | "<" | ">" | "U" | "D" | "B" | "W" | "POS" | "NEG" | "IND");
    if known { CodeableConcept::coding(Coding::new(INTERPRETATION, flag)) } else { CodeableConcept::text(flag) }
}

pub fn quantity(q: &m::Quantity) -> Quantity<'_> {
    let unit = q.unit.as_ref();
    Quantity {
        value: FhirDecimal(b(q.value.as_str())),
        comparator: q.comparator.as_deref().map(b),
        unit: unit.map(|u| u.display.as_deref().unwrap_or(&u.code)).map(b),
        system: unit.and_then(|u| code_system(&u.system)),
        code: unit.filter(|u| code_system(&u.system).is_some()).map(|u| b(&u.code)),
    }
}

/// An order number as an identifier typed PLAC or FILL (HL7 table 0203).
pub fn order_identifiers(order: &m::Order) -> Vec<Identifier<'_>> {
    typed_identifiers([(&order.placer_number, "PLAC"), (&order.filler_number, "FILL")])
}

/// Values as identifiers typed by HL7 table 0203 codes, the absent ones left out.
pub fn typed_identifiers<'m, const N: usize>(values: [(&'m Option<String>, &'static str); N]) -> Vec<Identifier<'m>> {
    let typed = |(value, code): (&'m Option<String>, &'static str)| {
        value.as_deref().map(|v| Identifier {
            type_: Some(CodeableConcept::coding(Coding::new(crate::V2_0203, code))),
            value: Some(b(v)),
            ..Identifier::default()
        })
    };
    values.into_iter().filter_map(typed).collect()
}

/// The references every clinical resource carries: the patient and the visit.
#[derive(Clone, Default)]
pub struct Subject<'a> {
    pub patient: Option<Str<'a>>,
    pub encounter: Option<Str<'a>>,
}

impl<'a> Subject<'a> {
    pub fn patient(&self) -> Option<Reference<'a>> {
        self.patient.clone().map(|r| Reference { reference: Some(r), ..Reference::default() })
    }
    pub fn encounter(&self) -> Option<Reference<'a>> {
        self.encounter.clone().map(|r| Reference { reference: Some(r), ..Reference::default() })
    }
}

pub fn observation<'m>(o: &'m m::Observation, subject: &Subject<'m>, tz: TimeZoneRule, laboratory: bool) -> Observation<'m> {
    let mut out = Observation {
        status: observation_status(o.status.as_deref()).into(),
        category: if laboratory { vec![CodeableConcept::coding(Coding::new(OBSERVATION_CATEGORY, "laboratory"))] } else { Vec::new() },
        code: concept_of(&o.code),
        subject: subject.patient(),
        encounter: subject.encounter(),
        effective_date_time: o.effective.map(|t| t.fhir_date_time(tz).into()),
        interpretation: o.interpretation.iter().map(|f| interpretation(f)).collect(),
        note: o.notes.iter().map(|n| Annotation { text: b(n) }).collect(),
        method: o.method.as_ref().map(concept),
        device: o.device.as_deref().map(|d| Reference { display: Some(b(d)), ..Reference::default() }),
        reference_range: o.reference_range.as_deref().map(|r| ReferenceRange { text: b(r) }).into_iter().collect(),
        ..Observation::default()
    };
    if out.code.coding.is_empty() && out.code.text.is_none() {
        out.code.text = Some("unknown".into());
    }
    match &o.value {
        m::ObservationValue::None => {}
        m::ObservationValue::Quantity(q) => out.value_quantity = Some(quantity(q)),
        m::ObservationValue::Coded(codes) => out.value_codeable_concept = Some(concept_of(codes)),
        m::ObservationValue::Text(t) => out.value_string = Some(b(t)),
        m::ObservationValue::DateTime(t) => out.value_date_time = Some(t.fhir_date_time(tz).into()),
        m::ObservationValue::Time(t) => out.value_time = Some(b(t)),
        m::ObservationValue::Range { low, high } => out.value_range = Some(Range { low: low.as_ref().map(quantity), high: high.as_ref().map(quantity) }),
        m::ObservationValue::Ratio { numerator, denominator } => {
            out.value_ratio = Some(Ratio { numerator: quantity(numerator), denominator: quantity(denominator) })
        }
    }
    out
}

pub fn specimen<'m>(s: &'m m::Specimen, subject: &Subject<'m>, tz: TimeZoneRule) -> Specimen<'m> {
    Specimen {
        identifier: s.id.as_deref().map(|id| Identifier { value: Some(b(id)), ..Identifier::default() }).into_iter().collect(),
        type_: s.specimen_type.as_ref().map(concept),
        subject: subject.patient(),
        received_time: s.received.and_then(|t| t.fhir_instant(tz)).map(Into::into),
        collection: s.collected.map(|t| SpecimenCollection { collected_date_time: t.fhir_date_time(tz).into() }),
    }
}

/// The DiagnosticReport of one OBR, referring to its observations' and specimens' fullUrls.
pub fn diagnostic_report<'m>(
    r: &'m m::Report,
    subject: &Subject<'m>,
    results: Vec<Str<'m>>,
    specimens: Vec<Str<'m>>,
    tz: TimeZoneRule,
) -> DiagnosticReport<'m> {
    let reference = |r: Str<'m>| Reference { reference: Some(r), ..Reference::default() };
    let mut code = concept_of(&r.order.code);
    if code.coding.is_empty() && code.text.is_none() {
        code.text = Some("unknown".into());
    }
    DiagnosticReport {
        identifier: order_identifiers(&r.order),
        based_on: Vec::new(),
        status: report_status(r.status.as_deref()).into(),
        code,
        subject: subject.patient(),
        encounter: subject.encounter(),
        effective_date_time: r.effective.map(|t| t.fhir_date_time(tz).into()),
        issued: r.issued.and_then(|t| t.fhir_instant(tz)).map(Into::into),
        specimen: specimens.into_iter().map(reference).collect(),
        result: results.into_iter().map(reference).collect(),
    }
}
