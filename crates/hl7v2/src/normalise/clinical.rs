//! ORU^R01 results (OBR → report, OBX → typed observations with their NTE, SPM → specimen),
//! ORM^O01/OML^O21 orders (ORC with its OBR), SIU^S12–S26 appointments (SCH, AIS/AIG/AIL/AIP) and
//! VXU^V04 immunizations (RXA with RXR), read in one pass over the segments in message order.

use super::datatypes::{doctor, timestamp};
use super::values::{code, codes, observation_value, unit};
use crate::tokenizer::{Message as Er7, Segment};
use passerelle_model::{
    Appointment, AppointmentParticipant, Clinical, Decimal, Immunization, Issue, IssueLocation, Observation, Order, Quantity, Report, Specimen,
};

/// Which clinical content a message type carries, if any.
pub fn carries_clinical(message_type: &str) -> bool {
    matches!(message_type, "ORU" | "ORM" | "OML" | "SIU" | "VXU")
}

fn entity_id(seg: &Segment<'_, '_>, field: usize) -> Option<String> {
    seg.field(field).component(1).string()
}

/// ORC: the order's numbers, control, status, time and requester.
fn read_orc(orc: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Order {
    Order {
        placer_number: entity_id(orc, 2),
        filler_number: entity_id(orc, 3),
        control: orc.field(1).string(),
        status: orc.field(5).string(),
        code: Vec::new(),
        authored: timestamp(orc.field(9), "ORC", 9, issues),
        requester: doctor(orc.field(12).first_repetition(), issues),
    }
}

/// OBR into the order it belongs to (an ORC before it, or none) and the report it heads.
fn read_obr(obr: &Segment<'_, '_>, mut order: Order, issues: &mut Vec<Issue>) -> Report {
    order.placer_number = entity_id(obr, 2).or(order.placer_number);
    order.filler_number = entity_id(obr, 3).or(order.filler_number);
    order.code = codes(obr.field(4));
    if order.requester.is_none() {
        order.requester = doctor(obr.field(16).first_repetition(), issues);
    }
    let mut report = Report {
        order,
        status: obr.field(25).string(),
        effective: timestamp(obr.field(7), "OBR", 7, issues),
        issued: timestamp(obr.field(22), "OBR", 22, issues),
        ..Report::default()
    };
    // Before v2.5 the specimen is OBR-15 (SPS: source^additives^…) with OBR-14 its receipt.
    if let Some(source) = sps_source(obr.field(15)) {
        report.specimens.push(Specimen { specimen_type: Some(source), received: timestamp(obr.field(14), "OBR", 14, issues), ..Specimen::default() });
    }
    report
}

/// OBR-15.1 specimen source: a CWE in subcomponents.
fn sps_source(f: crate::tokenizer::Field<'_>) -> Option<passerelle_model::Code> {
    let c = f.component(1);
    let (code, display, system) = (c.subcomponent(1).text(), c.subcomponent(2).string(), c.subcomponent(3).text());
    (!code.is_empty()).then(|| passerelle_model::Code { code: code.into_owned(), system: super::values::system_uri(&system), display })
}

fn read_obx(obx: &Segment<'_, '_>, sequence: usize, issues: &mut Vec<Issue>) -> Observation {
    let at = IssueLocation::field("OBX", sequence, 5);
    let value_type = obx.field(2).text();
    Observation {
        code: codes(obx.field(3)),
        sub_id: obx.field(4).string(),
        value: observation_value(&value_type, obx.field(5), obx.field(6), &at, issues),
        reference_range: obx.field(7).string(),
        interpretation: obx.field(8).repetitions().filter_map(|r| r.component(1).string()).collect(),
        status: obx.field(11).string(),
        effective: timestamp(obx.field(14), "OBX", 14, issues),
        method: code(obx.field(17)),
        device: obx.field(18).component(1).string(),
        notes: Vec::new(),
    }
}

fn read_spm(spm: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Specimen {
    let id = spm.field(2);
    Specimen {
        id: id.component(1).subcomponent(1).string().or_else(|| id.component(2).subcomponent(1).string()),
        specimen_type: code(spm.field(4)),
        collected: timestamp(spm.field(17), "SPM", 17, issues),
        received: timestamp(spm.field(18), "SPM", 18, issues),
    }
}

/// SCH: ids, reason, type, timing (SCH-11 TQ start and end), duration in minutes, filler status.
fn read_sch(sch: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Appointment {
    let timing = sch.field(11);
    let minutes = match (sch.field(9).text().parse::<u32>().ok(), sch.field(10).component(1).text().to_ascii_lowercase().as_str()) {
        (Some(n), "min" | "minutes" | "") => Some(n),
        (Some(n), "h" | "hr" | "hour" | "hours") => Some(n * 60),
        _ => None,
    };
    Appointment {
        placer_id: entity_id(sch, 1),
        filler_id: entity_id(sch, 2),
        filler_status: sch.field(25).component(1).string(),
        reason: code(sch.field(7)),
        appointment_type: code(sch.field(8)),
        start: timestamp(timing.component(4), "SCH", 11, issues),
        end: timestamp(timing.component(5), "SCH", 11, issues),
        minutes,
        participants: Vec::new(),
    }
}

/// AIS-3 / AIG-3 / AIL-3 / AIP-3: a resource, location or person the appointment needs.
fn read_resource(seg: &Segment<'_, '_>, name: &str, appointment: &mut Appointment, issues: &mut Vec<Issue>) {
    let f = seg.field(3).first_repetition();
    let (role, display) = match name {
        "AIP" => ("practitioner", doctor(f, issues).and_then(|d| [d.given, d.family].into_iter().flatten().reduce(|a, b| format!("{a} {b}")).or(d.id))),
        "AIL" => (
            "location",
            [f.component(1).string(), f.component(2).string(), f.component(4).subcomponent(1).string()].into_iter().flatten().reduce(|a, b| format!("{a} {b}")),
        ),
        _ => ("resource", f.component(2).string().or_else(|| f.component(1).string())),
    };
    if let Some(display) = display.filter(|d| !d.is_empty()) {
        appointment.participants.push(AppointmentParticipant { role: role.into(), display });
    }
    // Without a time in SCH-11 (v2.6+), the first resource's start (AIS-4 … AIP-6) times it.
    if appointment.start.is_none() {
        let start = if name == "AIS" { 4 } else { 6 };
        appointment.start = timestamp(seg.field(start), "SCH", 11, issues);
    }
}

fn read_rxa(rxa: &Segment<'_, '_>, issues: &mut Vec<Issue>) -> Immunization {
    let amount = rxa.field(6).text();
    let dose = (amount != "999").then(|| Decimal::parse(&amount)).flatten().map(|value| Quantity { value, comparator: None, unit: unit(rxa.field(7)) });
    Immunization {
        vaccine: codes(rxa.field(5)),
        occurrence: timestamp(rxa.field(3), "RXA", 3, issues),
        dose,
        lot_number: rxa.field(15).first_repetition().string(),
        expiration: timestamp(rxa.field(16).first_repetition(), "RXA", 16, issues),
        manufacturer: rxa.field(17).first_repetition().component(2).string().or_else(|| rxa.field(17).first_repetition().component(1).string()),
        completion: rxa.field(20).string(),
        action: rxa.field(21).string(),
        refusal_reason: code(rxa.field(18).first_repetition()),
        route: None,
        site: None,
    }
}

/// The clinical content of an ORU, ORM, OML, SIU or VXU message (its visit is set by the caller).
pub fn read_clinical(er7: &Er7<'_>, message_type: &str, issues: &mut Vec<Issue>) -> Clinical {
    let mut clinical = Clinical::default();
    let mut pending_order: Option<Order> = None;
    let (mut obx_count, mut last) = (0, "");
    for seg in er7.segments() {
        let name_bytes = seg.name_bytes();
        let name = std::str::from_utf8(name_bytes).unwrap_or("");
        match name {
            "ORC" => {
                if let Some(order) = pending_order.take() {
                    clinical.orders.push(order);
                }
                pending_order = Some(read_orc(&seg, issues));
            }
            "OBR" => {
                let report = read_obr(&seg, pending_order.take().unwrap_or_default(), issues);
                match message_type {
                    "ORU" => clinical.reports.push(report),
                    _ => clinical.orders.push(report.order),
                }
            }
            "OBX" => {
                obx_count += 1;
                if let ("ORU", Some(report)) = (message_type, clinical.reports.last_mut()) {
                    report.observations.push(read_obx(&seg, obx_count, issues));
                }
            }
            "NTE" if last == "OBX" || last == "NTE" => {
                if let Some(obs) = clinical.reports.last_mut().and_then(|r| r.observations.last_mut())
                    && let Some(text) = seg.field(3).string()
                {
                    obs.notes.push(text);
                }
            }
            "SPM" => {
                if let Some(report) = clinical.reports.last_mut() {
                    report.specimens.retain(|s| s.id.is_some());
                    report.specimens.push(read_spm(&seg, issues));
                }
            }
            "SCH" => clinical.appointment = Some(read_sch(&seg, issues)),
            "AIS" | "AIG" | "AIL" | "AIP" => {
                if let Some(appointment) = clinical.appointment.as_mut() {
                    read_resource(&seg, name, appointment, issues);
                }
            }
            "RXA" => {
                pending_order = None;
                clinical.immunizations.push(read_rxa(&seg, issues));
            }
            "RXR" => {
                if let Some(imm) = clinical.immunizations.last_mut() {
                    imm.route = code(seg.field(1));
                    imm.site = code(seg.field(2));
                }
            }
            _ => {}
        }
        if name != "NTE" {
            last = match name {
                "OBX" => "OBX",
                _ => "",
            };
        }
    }
    clinical.orders.extend(pending_order.filter(|_| matches!(message_type, "ORM" | "OML")));
    check(&clinical, message_type, issues);
    clinical
}

fn check(clinical: &Clinical, message_type: &str, issues: &mut Vec<Issue>) {
    match message_type {
        "ORU" if clinical.reports.is_empty() => issues.push(Issue::error("missing-segment", "ORU without an OBR").at(IssueLocation::segment("OBR", 1))),
        "SIU" if clinical.appointment.is_none() => issues.push(Issue::error("missing-segment", "SIU without an SCH").at(IssueLocation::segment("SCH", 1))),
        "VXU" if clinical.immunizations.is_empty() => issues.push(Issue::error("missing-segment", "VXU without an RXA").at(IssueLocation::segment("RXA", 1))),
        "ORM" | "OML" if clinical.orders.is_empty() => {
            issues.push(Issue::error("missing-segment", "order without an ORC or OBR").at(IssueLocation::segment("ORC", 1)))
        }
        _ => {}
    }
    for (i, imm) in clinical.immunizations.iter().enumerate() {
        if imm.occurrence.is_none() {
            issues.push(Issue::error("missing-field", "RXA-3 administration time is required").at(IssueLocation::field("RXA", i + 1, 3)));
        }
        if imm.vaccine.is_empty() {
            issues.push(Issue::error("missing-field", "RXA-5 administered code is required").at(IssueLocation::field("RXA", i + 1, 5)));
        }
    }
}
