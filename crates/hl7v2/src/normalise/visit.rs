//! PV1, PV2, ZBE and MRG into the model encounter, movement and merge information.

use super::datatypes::{cx, doctor, location, timestamp, xpn};
use crate::tokenizer::{Message as Er7, Segment};
use passerelle_model::{Encounter, IdentifierKind, Issue, IssueLocation, MergeInfo, Movement};

pub fn read_encounter(er7: &Er7<'_>, pid: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Option<Encounter> {
    let mut e = Encounter::default();
    let nda_at = IssueLocation::field("PID", 1, 18);
    e.nda = pid.field(18).repetitions().find_map(|r| cx(r, issues, &nda_at)).map(|mut id| {
        id.kind = IdentifierKind::Nda;
        id
    });
    if let Some(pv1) = er7.segment("PV1") {
        let vn_at = IssueLocation::field("PV1", 1, 19);
        e.visit_number = pv1.field(19).repetitions().find_map(|r| cx(r, issues, &vn_at)).map(|mut id| {
            id.kind = IdentifierKind::VisitNumber;
            id
        });
        e.class = crate::tables::patient_class(&pv1.field(2).component(1).text());
        e.location = location(pv1.field(3));
        e.admission_type = pv1.field(4).component(1).string();
        e.prior_location = location(pv1.field(6));
        e.attending_doctor = doctor(pv1.field(7), issues);
        e.discharge_disposition = pv1.field(36).component(1).string();
        e.admit_time = timestamp(pv1.field(44), "PV1", 44, issues);
        e.discharge_time = timestamp(pv1.field(45), "PV1", 45, issues);
    }
    if let Some(pv2) = er7.segment("PV2") {
        e.reason = pv2.field(3).component(2).string().or_else(|| pv2.field(3).component(1).string());
        e.expected_discharge = timestamp(pv2.field(9), "PV2", 9, issues);
    }
    if let Some(zbe) = er7.segment("ZBE") {
        e.movement = Some(read_zbe(&zbe, issues));
    }
    (e != Encounter::default()).then_some(e)
}

/// ZBE (PAM-FR §6.13): movement id, start, action, historic flag, original trigger, UF, nature.
fn read_zbe(zbe: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Movement {
    let action = zbe.field(4).string();
    if let Some(a) = &action
        && !matches!(a.as_str(), "INSERT" | "UPDATE" | "CANCEL")
    {
        issues.push(Issue::warning("bad-value", "ZBE-4 action is not INSERT, UPDATE or CANCEL").at(IssueLocation::field("ZBE", 1, 4)));
    }
    let m = Movement {
        id: zbe.field(1).component(1).string(),
        id_namespace: zbe.field(1).component(2).string(),
        start: timestamp(zbe.field(2), "ZBE", 2, issues),
        action,
        historic: zbe.field(5).raw() == b"Y",
        original_trigger: zbe.field(6).string(),
        medical_unit: zbe.field(7).component(10).string(),
        care_unit: zbe.field(8).component(10).string(),
        nature: zbe.field(9).component(1).string(),
    };
    if m.action.as_deref().is_some_and(|a| a != "INSERT") && m.original_trigger.is_none() {
        issues.push(Issue::warning("missing-field", "ZBE-6 original trigger is required for UPDATE and CANCEL").at(IssueLocation::field("ZBE", 1, 6)));
    }
    m
}

/// MRG: prior identifiers (MRG-1), prior account (MRG-3), prior visit (MRG-5), prior name (MRG-7).
pub fn read_mrg(mrg: &Segment<'_, '_>, trigger: &str, issues: &mut Vec<Issue>) -> MergeInfo {
    let at = IssueLocation::field("MRG", 1, 1);
    let info = MergeInfo {
        prior_identifiers: mrg.field(1).repetitions().filter_map(|r| cx(r, issues, &at)).collect(),
        ins_deleted: false,
        prior_account: mrg.field(3).repetitions().find_map(|r| cx(r, issues, &at)),
        prior_visit: mrg.field(5).repetitions().find_map(|r| cx(r, issues, &at)),
        prior_name: mrg.field(7).repetitions().find_map(|r| xpn(r, issues)),
    };
    if info.prior_identifiers.is_empty() && matches!(trigger, "A40" | "A47") {
        issues.push(Issue::error("missing-field", "MRG-1 prior patient identifier list is empty").at(at));
    }
    info
}
