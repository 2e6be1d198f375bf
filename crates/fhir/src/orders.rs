//! Orders, appointments and immunizations → FHIR (HL7 v2-to-FHIR IG maps, minimal but valid):
//! ORC/OBR → ServiceRequest, SCH → Appointment (status from SCH-25 or the trigger), RXA → Immunization.

use crate::clinical_types::{Appointment, AppointmentParticipant, Immunization, ServiceRequest};
use crate::codes::{concept, concept_of};
use crate::results::{Subject, order_identifiers, quantity, typed_identifiers};
use crate::types::{Identifier, Period, Reference, Str, b};
use passerelle_model as m;
use passerelle_model::TimeZoneRule;

/// ORC-5 (HL7 table 0038), else ORC-1 (table 0119) → ServiceRequest.status.
pub fn request_status(order: &m::Order) -> &'static str {
    match order.status.as_deref() {
        Some("CM") => return "completed",
        Some("CA" | "DC") => return "revoked",
        Some("HD") => return "on-hold",
        Some("ER") => return "entered-in-error",
        Some("A" | "IP" | "SC") => return "active",
        _ => {}
    }
    match order.control.as_deref() {
        Some("NW" | "XO" | "SC" | "SN" | "OK" | "RP" | "RO" | "RE") => "active",
        Some("CA" | "OC" | "CR" | "DC" | "OD" | "DR") => "revoked",
        Some("HD" | "OH") => "on-hold",
        _ => "unknown",
    }
}

fn doctor_reference(d: &m::AttendingDoctor) -> Reference<'_> {
    let display: Vec<&str> = [d.given.as_deref(), d.family.as_deref()].into_iter().flatten().collect();
    Reference {
        identifier: d.id.as_deref().map(|id| Identifier { value: Some(b(id)), ..Identifier::default() }),
        display: (!display.is_empty()).then(|| Str::Owned(display.join(" "))),
        ..Reference::default()
    }
}

pub fn service_request<'m>(order: &'m m::Order, subject: &Subject<'m>, tz: TimeZoneRule) -> Option<ServiceRequest<'m>> {
    Some(ServiceRequest {
        identifier: order_identifiers(order),
        status: request_status(order).into(),
        intent: "order".into(),
        code: (!order.code.is_empty()).then(|| concept_of(&order.code)),
        subject: subject.patient()?,
        encounter: subject.encounter(),
        authored_on: order.authored.map(|t| t.fhir_date_time(tz).into()),
        requester: order.requester.as_ref().map(doctor_reference),
    })
}

/// SCH-25 filler status (HL7 table 0278) or, without one, the trigger → Appointment.status.
pub fn appointment_status(filler_status: Option<&str>, trigger: &str) -> &'static str {
    match filler_status.map(str::to_ascii_lowercase).as_deref() {
        Some("booked") => return "booked",
        Some("cancelled") => return "cancelled",
        Some("complete") => return "fulfilled",
        Some("noshow") => return "noshow",
        Some("pending") => return "pending",
        Some("waitlist") => return "waitlist",
        Some("started") => return "arrived",
        Some("deleted") => return "entered-in-error",
        _ => {}
    }
    match trigger {
        "S12" | "S13" | "S14" => "booked",
        "S15" | "S16" => "cancelled",
        "S17" => "entered-in-error",
        "S26" => "noshow",
        _ => "pending",
    }
}

pub fn appointment<'m>(a: &'m m::Appointment, trigger: &str, subject: &Subject<'m>, tz: TimeZoneRule) -> Appointment<'m> {
    let status = appointment_status(a.filler_status.as_deref(), trigger);
    let mut participant: Vec<AppointmentParticipant<'m>> =
        subject.patient().map(|p| AppointmentParticipant { actor: Some(p), status: "accepted".into(), ..Default::default() }).into_iter().collect();
    for p in &a.participants {
        participant.push(AppointmentParticipant {
            actor: Some(Reference { display: Some(b(&p.display)), ..Reference::default() }),
            status: "accepted".into(),
            ..Default::default()
        });
    }
    // FHIR wants start and end together (app-2): an end from SCH-11 or from start + duration.
    let start = a.start.and_then(|t| t.fhir_instant(tz));
    let end = a.end.and_then(|t| t.fhir_instant(tz)).or_else(|| {
        let (start, minutes) = (a.start?, a.minutes?);
        plus_minutes(start, minutes).and_then(|t| t.fhir_instant(tz))
    });
    let (start, end, requested) = match (start, end) {
        (Some(s), Some(e)) => (Some(s.into()), Some(e.into()), Vec::new()),
        (Some(s), None) => (None, None, vec![Period { start: Some(s.into()), end: None }]),
        _ => (None, None, Vec::new()),
    };
    Appointment {
        identifier: typed_identifiers([(&a.placer_id, "PLAC"), (&a.filler_id, "FILL")]),
        status: status.into(),
        appointment_type: a.appointment_type.as_ref().map(concept),
        reason_code: a.reason.as_ref().map(concept).into_iter().collect(),
        start,
        end,
        minutes_duration: a.minutes.filter(|m| *m > 0),
        requested_period: requested,
        participant,
    }
}

/// `t` plus `minutes`, when `t` has a time to the minute; carried through days with the civil
/// calendar (a 30-minute slot at 23:45 ends the next day).
pub fn plus_minutes(t: m::PartialDateTime, minutes: u32) -> Option<m::PartialDateTime> {
    // Computed in the local time the value was given in (its offset applied back afterwards).
    let local = m::PartialDateTime { offset_minutes: None, millis: None, ..t };
    let mut out = m::PartialDateTime::from_unix_ms(local.to_unix_ms()? + i64::from(minutes) * 60_000)?;
    out.offset_minutes = t.offset_minutes;
    Some(out)
}

/// RXA-20 completion (CP/PA given, NA/RE not) and RXA-21 D (deleted) → Immunization.status.
pub fn immunization_status(i: &m::Immunization) -> &'static str {
    match (i.action.as_deref(), i.completion.as_deref()) {
        (Some("D"), _) => "entered-in-error",
        (_, Some("NA" | "RE")) => "not-done",
        _ => "completed",
    }
}

pub fn immunization<'m>(i: &'m m::Immunization, subject: &Subject<'m>, tz: TimeZoneRule) -> Option<Immunization<'m>> {
    Some(Immunization {
        status: immunization_status(i).into(),
        status_reason: i.refusal_reason.as_ref().map(concept),
        vaccine_code: concept_of(&i.vaccine),
        patient: subject.patient()?,
        encounter: subject.encounter(),
        occurrence_date_time: i.occurrence?.fhir_date_time(tz).into(),
        manufacturer: i.manufacturer.as_deref().map(|m| Reference { display: Some(b(m)), ..Reference::default() }),
        lot_number: i.lot_number.as_deref().map(b),
        expiration_date: i.expiration.map(|t| t.fhir_date().into()),
        site: i.site.as_ref().map(concept),
        route: i.route.as_ref().map(concept),
        dose_quantity: i.dose.as_ref().map(quantity),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_that_crosses_midnight_ends_the_next_day() {
        let start = m::PartialDateTime::parse_hl7("202412312345").expect("dtm");
        let end = plus_minutes(start, 30).expect("end");
        assert_eq!(end.hl7(), "20250101001500");
    }
}
