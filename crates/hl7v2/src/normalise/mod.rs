//! HL7 v2 → model: MSH/EVN envelope, ADT events as PAM-FR uses them, then PID/PD1/NK1 and PV1/PV2/ZBE/MRG.

mod clinical;
mod datatypes;
mod document;
mod patient;
mod values;
mod visit;

use crate::tokenizer::{Message as Er7, Segment};
use passerelle_model::{Administrative, Content, EventKind, Format, Issue, IssueLocation, Message, Parsed, SourceEvent};

/// ADT triggers of PAM-FR (ITI-30 and ITI-31) that we map.
pub const ADT_TRIGGERS: &[&str] = &["A01", "A02", "A03", "A04", "A05", "A06", "A07", "A11", "A12", "A13", "A21", "A22", "A28", "A31", "A40", "A47"];

/// Whether the PAM-FR rules apply (A08 forbidden, INS gating is applied in every mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PamFrMode {
    /// French when MSH-12.2 or MSH-17 says `FRA`.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct NormaliseOptions {
    pub pam_fr: PamFrMode,
}

/// Maps a tokenized message into the model. Problems become diagnostics; `Error` ones make the
/// message unfit for delivery (the gateway answers AE).
pub fn normalise(er7: &Er7<'_>, options: &NormaliseOptions) -> Parsed<Message> {
    let mut issues = Vec::new();
    let mut msg = Message::new(Format::Hl7v2);
    let Some(msh) = er7.msh() else {
        issues.push(Issue::error("missing-msh", "no MSH segment"));
        return Parsed::new(msg, issues);
    };
    read_msh(&msh, &mut msg, options, &mut issues);
    if let Some(evn) = er7.segment("EVN") {
        msg.envelope.event_time =
            datatypes::timestamp(evn.field(2), "EVN", 2, &mut issues).or_else(|| datatypes::timestamp(evn.field(6), "EVN", 6, &mut issues));
    }
    check_event(&msg, &mut issues);
    let pid = er7.segment("PID");
    if let Some(pid) = pid {
        let mut patient = patient::read_pid(&pid, &mut issues);
        if let Some(pd1) = er7.segment("PD1") {
            patient.general_practitioner = datatypes::doctor(pd1.field(4), &mut issues);
        }
        patient.contacts = er7.segments_named("NK1").map(|nk1| patient::read_nk1(&nk1, &mut issues)).collect();
        if let Some(zfa) = er7.segment("ZFA") {
            patient.dmp_consent = Some(patient::read_zfa(&zfa, &mut issues));
        }
        if let Some(zfd) = er7.segment("ZFD") {
            patient::read_zfd(&zfd, &mut patient, &mut issues);
        }
        let ins_deleted = patient::apply_ins_rules(&pid, &mut patient, &mut issues);
        let mut administrative = Administrative {
            encounter: visit::read_encounter(er7, &pid, &mut issues),
            merge: er7.segment("MRG").map(|mrg| visit::read_mrg(&mrg, &msg.envelope.event.source.trigger, &mut issues)),
        };
        if ins_deleted {
            administrative.merge.get_or_insert_with(Default::default).ins_deleted = true;
        }
        let source = &msg.envelope.event.source;
        let carries_document = matches!((source.message_type.as_str(), source.trigger.as_str()), ("ORU", "R01") | ("MDM", _));
        let document = if carries_document { document::read_document(er7, &source.trigger, &mut issues) } else { None };
        msg.content = match document {
            Some(doc) => {
                msg.envelope.event.kind = EventKind::Document;
                Content::Document(doc)
            }
            None if clinical::carries_clinical(&source.message_type) => {
                let message_type = source.message_type.clone();
                let mut content = clinical::read_clinical(er7, &message_type, &mut issues);
                content.encounter = administrative.encounter;
                Content::Clinical(content)
            }
            None => Content::Administrative(administrative),
        };
        msg.patient = Some(patient);
    } else if msg.envelope.event.source.message_type == "ADT" {
        issues.push(Issue::error("missing-pid", "ADT message without a PID segment").at(IssueLocation::segment("PID", 1)));
    } else if clinical::carries_clinical(&msg.envelope.event.source.message_type) {
        // Results, orders and immunizations are about a patient: without PID they cannot be delivered.
        let message_type = msg.envelope.event.source.message_type.clone();
        msg.content = Content::Clinical(clinical::read_clinical(er7, &message_type, &mut issues));
        issues.push(Issue::error("missing-pid", "clinical message without a PID segment").at(IssueLocation::segment("PID", 1)));
    }
    if matches!(msg.envelope.event.source.trigger.as_str(), "A40" | "A47") && msg.merge().is_none() {
        issues.push(Issue::error("missing-field", "merge or identifier change without an MRG segment").at(IssueLocation::segment("MRG", 1)));
    }
    Parsed::new(msg, issues)
}

fn read_msh(msh: &Segment<'_, '_>, msg: &mut Message, options: &NormaliseOptions, issues: &mut Vec<Issue>) {
    let hd = |n: usize| {
        let f = msh.field(n);
        f.component(1).string().or_else(|| f.component(2).string())
    };
    let envelope = &mut msg.envelope;
    envelope.sender.application = hd(3);
    envelope.sender.facility = hd(4);
    envelope.receiver.application = hd(5);
    envelope.receiver.facility = hd(6);
    envelope.sent_at = datatypes::timestamp(msh.field(7), "MSH", 7, issues);
    let msh9 = msh.field(9);
    let source = SourceEvent {
        message_type: msh9.component(1).text().into_owned(),
        trigger: msh9.component(2).text().into_owned(),
        structure: msh9.component(3).text().into_owned(),
    };
    envelope.event.kind = event_kind(&source);
    envelope.event.source = source;
    if envelope.event.source.message_type.is_empty() {
        issues.push(Issue::error("missing-msh9", "MSH-9 message type is empty").at(IssueLocation::field("MSH", 1, 9)));
    }
    envelope.message_id = msh.field(10).text().into_owned();
    if envelope.message_id.is_empty() {
        issues.push(Issue::error("missing-msh10", "MSH-10 message control id is empty").at(IssueLocation::field("MSH", 1, 10)));
    }
    envelope.version = msh.field(12).component(1).string();
    let declares_fra = msh.field(12).component(2).raw() == b"FRA" || msh.field(17).raw() == b"FRA";
    envelope.french_profile = match options.pam_fr {
        PamFrMode::Auto => declares_fra,
        PamFrMode::Always => true,
        PamFrMode::Never => false,
    };
}

/// The neutral event of an HL7 v2 message type and trigger (HL7 table 0003 as PAM-FR uses it).
pub fn event_kind(source: &SourceEvent) -> EventKind {
    EventKind::of_hl7v2(&source.message_type, &source.trigger)
}

fn check_event(msg: &Message, issues: &mut Vec<Issue>) {
    let at = IssueLocation { component: 2, ..IssueLocation::field("MSH", 1, 9) };
    let event = &msg.envelope.event.source;
    if event.message_type != "ADT" {
        if !matches!(event.message_type.as_str(), "" | "MDM") && !clinical::carries_clinical(&event.message_type) {
            issues.push(Issue::info("generic-mapping", "not an ADT message: only patient and visit are mapped").at(at));
        }
        return;
    }
    let trigger = event.trigger.as_str();
    if trigger == "A08" {
        if msg.envelope.french_profile {
            issues.push(Issue::error("a08-forbidden-pam-fr", "A08 is forbidden by PAM-FR: use A31 for demographics, Z99 for visit corrections").at(at));
        } else {
            issues.push(Issue::warning("a08-flagged", "A08 accepted from a non-French sender; PAM-FR forbids it").at(at));
        }
    } else if !ADT_TRIGGERS.contains(&trigger) {
        issues.push(Issue::info("event-not-in-pam-fr", "trigger event outside the PAM-FR list: patient and visit mapped generically").at(at));
    }
}
