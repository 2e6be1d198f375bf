//! Model → HL7 v2.5 ADT as PAM-FR requires: A28 (new person) and A31 (person update; A08 only
//! for a generic receiver, never for PAM-FR), A01/A03/A04/A05/A02/A11/A21 from the encounter's
//! event, A40 for a merge and A47 for an INS change (MRG), with the PID of [`super::write_pid`]
//! and a PV1 from the encounter.

use super::document::ComposeError;
use super::{ComposeOptions, cx, write_msh, write_pid};
use crate::delimiters::Delimiters;
use crate::writer::Er7Writer;
use passerelle_model::{Content, EventKind, Message};

/// The ADT event and message structure for `msg` (`french`: a PAM-FR receiver).
pub fn adt_event(msg: &Message, french: bool) -> (&'static str, &'static str) {
    let source = &msg.envelope.event.source;
    let created = matches!(source.trigger.as_str(), "create" | "A28");
    match msg.envelope.event.kind {
        EventKind::Admit => ("A01", "ADT_A01"),
        EventKind::Register => ("A04", "ADT_A01"),
        EventKind::PreAdmit => ("A05", "ADT_A05"),
        EventKind::Transfer => ("A02", "ADT_A02"),
        EventKind::Discharge => ("A03", "ADT_A03"),
        EventKind::LeaveOfAbsence => ("A21", "ADT_A21"),
        // A visit back in progress after its discharge (the gateway knows the visit's history).
        EventKind::Cancel if source.trigger == "A13" => ("A13", "ADT_A01"),
        EventKind::Cancel => ("A11", "ADT_A09"),
        EventKind::Merge => ("A40", "ADT_A39"),
        EventKind::IdentifierChange => ("A47", "ADT_A30"),
        EventKind::PatientUpdate | EventKind::Other | EventKind::Document if created => ("A28", "ADT_A05"),
        _ if french => ("A31", "ADT_A05"),
        _ => ("A08", "ADT_A01"),
    }
}

/// Writes `msg` as an HL7 v2.5 ADT for a PAM-FR (`french`) or generic receiver.
pub fn compose_adt(msg: &Message, french: bool, o: &ComposeOptions<'_>) -> Result<Vec<u8>, ComposeError> {
    let Content::Administrative(admin) = &msg.content else { return Err(ComposeError::NotAdministrative) };
    let patient = msg.patient.as_ref().ok_or(ComposeError::NoPatient)?;
    if o.timestamp.is_none() {
        return Err(ComposeError::NoTimestamp);
    }
    let (trigger, structure) = adt_event(msg, french);
    let mut w = Er7Writer::new(Delimiters::default(), o.charset);
    write_msh(&mut w, o, &["ADT", trigger, structure], "2.5", french, None);
    let timestamp = o.timestamp.map(|t| t.hl7()).unwrap_or_default();
    let occurred = msg.envelope.event_time.map(|t| t.hl7()).unwrap_or_default();
    w.begin_segment("EVN").field("").field(&timestamp).field("").field("").field("").field(&occurred).end_segment();
    write_pid(&mut w, patient);
    match trigger {
        "A40" | "A47" => {
            let merge = admin.merge.as_ref();
            let prior: Vec<Vec<Vec<&str>>> = merge.map(|m| m.prior_identifiers.iter().map(cx).collect()).unwrap_or_default();
            w.begin_segment("MRG").nested(&prior).end_segment();
        }
        _ => {
            let e = admin.encounter.as_ref();
            let class = e.and_then(|e| e.class.as_ref()).map(crate::tables::patient_class_code).unwrap_or("N");
            w.begin_segment("PV1").field("1").field(class);
            let location = e.and_then(|e| e.location.as_ref());
            match location {
                Some(l) => {
                    fn text(v: &Option<String>) -> &str {
                        v.as_deref().unwrap_or_default()
                    }
                    w.components(&[text(&l.point_of_care), text(&l.room), text(&l.bed), text(&l.facility), "", "", "", "", text(&l.description)])
                }
                None => w.field(""),
            };
            // PV1-4 … PV1-18 empty, PV1-19 visit number, PV1-20 … PV1-43 empty, PV1-44/45.
            for _ in 4..=18 {
                w.field("");
            }
            let visit = e.and_then(|e| e.visit_number.as_ref().or(e.nda.as_ref())).map(cx);
            match visit {
                Some(v) => w.nested(&[v]),
                None => w.field(""),
            };
            for _ in 20..=43 {
                w.field("");
            }
            w.field(&e.and_then(|e| e.admit_time).map(|t| t.hl7()).unwrap_or_default());
            w.field(&e.and_then(|e| e.discharge_time).map(|t| t.hl7()).unwrap_or_default());
            w.end_segment();
            if let Some(movement) = e.and_then(|e| e.movement.as_ref()).filter(|_| french) {
                super::french::write_zbe(&mut w, movement);
            }
        }
    }
    // PAM-FR §6.14 and §6.18 place ZFA and ZFD on these events only.
    if french && matches!(trigger, "A01" | "A04" | "A05" | "A14" | "A28" | "A31") {
        if let Some(consent) = &patient.dmp_consent {
            super::french::write_zfa(&mut w, consent);
        }
        if super::french::has_zfd(&patient.trust) {
            super::french::write_zfd(&mut w, &patient.trust);
        }
    }
    Ok(trim_empty_fields(w.finish()))
}

/// Drops the empty fields at the end of each segment (`PV1|1|N|||…|` → `PV1|1|N`), in place.
fn trim_empty_fields(mut er7: Vec<u8>) -> Vec<u8> {
    let (mut read, mut write) = (0, 0);
    while read < er7.len() {
        let end = er7[read..].iter().position(|&b| b == b'\r').map_or(er7.len(), |i| read + i);
        let keep = er7[read..end].iter().rposition(|&b| b != b'|').map_or(0, |i| i + 1);
        if keep > 0 {
            er7.copy_within(read..read + keep, write);
            write += keep;
            er7[write] = b'\r';
            write += 1;
        }
        read = end + 1;
    }
    er7.truncate(write);
    er7
}
