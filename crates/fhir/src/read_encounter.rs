//! FHIR R4 Encounter → model::Encounter and the event its status says (planned: pre-admission,
//! in-progress: admission or registration by class, finished: discharge, cancelled, on leave),
//! the base of FHIR → ADT A05/A01/A04/A03/A11/A21.

use crate::types::Encounter;
use passerelle_model as m;

/// The model encounter and the neutral event of a FHIR Encounter.
pub fn to_model(e: &Encounter<'_>) -> (m::Encounter, m::EventKind) {
    let class = match e.class.code.as_deref() {
        Some("IMP" | "ACUTE" | "NONAC") => Some(m::PatientClass::Inpatient),
        Some("EMER") => Some(m::PatientClass::Emergency),
        Some("AMB") => Some(m::PatientClass::Outpatient),
        Some("PRENC") => Some(m::PatientClass::Preadmit),
        Some("VR") => Some(m::PatientClass::Telemonitoring),
        Some("N") => Some(m::PatientClass::NotApplicable),
        Some("R") => Some(m::PatientClass::Recurring),
        Some(other) => Some(m::PatientClass::Other(other.to_owned())),
        None => None,
    };
    let visit_number = e.identifier.iter().find_map(|id| {
        let value = id.value.as_deref()?;
        let oid = id.system.as_deref().and_then(|s| s.strip_prefix("urn:oid:")).map(str::to_owned);
        Some(m::Identifier { oid, type_code: Some("VN".into()), ..m::Identifier::new(m::IdentifierKind::VisitNumber, value) })
    });
    let period = e.period.as_ref();
    let time = |t: Option<&str>| t.and_then(m::PartialDateTime::parse_fhir);
    let location = e.location.iter().find(|l| l.status.as_deref() != Some("completed")).or(e.location.first());
    let encounter = m::Encounter {
        visit_number,
        class: class.clone(),
        location: location.and_then(|l| l.location.display.as_deref()).map(|d| m::Location { description: Some(d.to_owned()), ..m::Location::default() }),
        admit_time: time(period.and_then(|p| p.start.as_deref())),
        discharge_time: time(period.and_then(|p| p.end.as_deref())),
        reason: e.reason_code.iter().find_map(|r| r.text.as_deref()).map(str::to_owned),
        ..m::Encounter::default()
    };
    let kind = match e.status.as_ref() {
        "planned" | "arrived" | "triaged" => m::EventKind::PreAdmit,
        "in-progress" if class == Some(m::PatientClass::Inpatient) => m::EventKind::Admit,
        "in-progress" => m::EventKind::Register,
        "onleave" => m::EventKind::LeaveOfAbsence,
        "finished" => m::EventKind::Discharge,
        "cancelled" | "entered-in-error" => m::EventKind::Cancel,
        _ => m::EventKind::PatientUpdate,
    };
    (encounter, kind)
}
