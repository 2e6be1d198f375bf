//! model::Encounter → FHIR Encounter: status from the ADT trigger, class, period, location, doctor.

use crate::Profile;
use crate::patient::identifier;
use crate::types::{CodeableConcept, Coding, Encounter, EncounterLocation, EncounterParticipant, Hospitalization, Meta, Period, Reference, Str, b};

const FR_CORE_ENCOUNTER: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-encounter";
use passerelle_model as m;

const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// Encounter status implied by the trigger event (and a ZBE CANCEL).
pub fn status(trigger: &str, movement: Option<&m::Movement>) -> &'static str {
    if movement.and_then(|mv| mv.action.as_deref()) == Some("CANCEL") && trigger == "A11" {
        return "cancelled";
    }
    match trigger {
        "A05" | "A14" => "planned",
        "A01" | "A02" | "A04" | "A06" | "A07" | "A12" | "A13" | "A22" => "in-progress",
        "A21" => "onleave",
        "A03" => "finished",
        "A11" | "A38" => "cancelled",
        _ => "unknown",
    }
}

/// HL7 v2 table 0004 code, for classes FHIR's v3 ActCode has no concept for.
fn v2_0004_code(c: Option<&m::PatientClass>) -> &str {
    match c {
        Some(m::PatientClass::NotApplicable) => "N",
        Some(m::PatientClass::Other(code)) => code,
        _ => "U",
    }
}

fn class(c: Option<&m::PatientClass>) -> Coding<'_> {
    let (code, display) = match c {
        Some(m::PatientClass::Inpatient) => ("IMP", "inpatient encounter"),
        Some(m::PatientClass::Emergency) => ("EMER", "emergency"),
        Some(m::PatientClass::Outpatient | m::PatientClass::Recurring) => ("AMB", "ambulatory"),
        Some(m::PatientClass::Preadmit) => ("PRENC", "pre-admission"),
        Some(m::PatientClass::Telemonitoring) => ("VR", "virtual"),
        Some(m::PatientClass::NotApplicable | m::PatientClass::Other(_)) | None => {
            return Coding { system: Some("http://terminology.hl7.org/CodeSystem/v2-0004".into()), code: Some(v2_0004_code(c).into()), display: None };
        }
    };
    Coding { system: Some(V3_ACT_CODE.into()), code: Some(code.into()), display: Some(display.into()) }
}

fn location_display(l: &m::Location) -> Option<String> {
    let parts: Vec<&str> = [&l.facility, &l.point_of_care, &l.room, &l.bed, &l.description].into_iter().filter_map(|p| p.as_deref()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

pub fn encounter<'e>(e: &'e m::Encounter, trigger: &str, patient_ref: Option<Str<'e>>, profile: Profile, tz: m::TimeZoneRule) -> Encounter<'e> {
    let mut out = Encounter {
        identifier: e.visit_number.iter().chain(e.nda.iter()).map(identifier).collect(),
        status: status(trigger, e.movement.as_ref()).into(),
        class: class(e.class.as_ref()),
        subject: patient_ref.map(|r| Reference { reference: Some(r), ..Reference::default() }),
        ..Encounter::default()
    };
    if e.admit_time.is_some() || e.discharge_time.is_some() {
        out.period = Some(Period { start: e.admit_time.map(|t| t.fhir_date_time(tz).into()), end: e.discharge_time.map(|t| t.fhir_date_time(tz).into()) });
    }
    if let Some(l) = e.location.as_ref().and_then(location_display) {
        let start = e.movement.as_ref().and_then(|mv| mv.start).map(|t| t.fhir_date_time(tz).into());
        out.location.push(EncounterLocation {
            location: Reference { display: Some(l.into()), ..Reference::default() },
            status: Some(if out.status == "finished" { "completed" } else { "active" }.into()),
            period: start.map(|s| Period { start: Some(s), end: None }),
        });
    }
    if let Some(l) = e.prior_location.as_ref().and_then(location_display) {
        out.location.push(EncounterLocation {
            location: Reference { display: Some(l.into()), ..Reference::default() },
            status: Some("completed".into()),
            period: None,
        });
    }
    if let Some(d) = &e.attending_doctor {
        let display = [d.given.as_deref(), d.family.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        out.participant.push(EncounterParticipant {
            type_: vec![CodeableConcept::coding(Coding::new("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND"))],
            individual: Some(Reference {
                identifier: d.id.as_ref().map(|v| crate::types::Identifier { value: Some(b(v)), ..Default::default() }),
                display: (!display.is_empty()).then_some(display.into()),
                ..Reference::default()
            }),
        });
    }
    if let Some(r) = &e.reason {
        out.reason_code.push(CodeableConcept::text(r));
    }
    if let Some(d) = &e.discharge_disposition {
        out.hospitalization = Some(Hospitalization {
            discharge_disposition: Some(CodeableConcept::coding(Coding::new("http://terminology.hl7.org/CodeSystem/v2-0112", d))),
            ..Hospitalization::default()
        });
    }
    if profile == Profile::FrCore {
        out.meta = Some(Meta::profiled(FR_CORE_ENCOUNTER));
    }
    out
}
