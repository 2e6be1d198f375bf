//! Pack `hl7v2.5`: what HL7 v2.5 itself requires of the messages Passerelle takes: MSH's required
//! fields and their forms (encoding characters, message structure), no byte order mark, segment
//! names, the segments each supported structure requires (ADT in their order; ORU, ORM, OML,
//! MDM, VXU, SIU, ACK), and at field level ([`super::fields`]) required fields and component counts.

use super::{Ctx, at, whole_message};
use crate::report::{PackId, Severity};
use crate::values::is_timestamp;

pub const PACK: PackId = PackId { name: "hl7v2.5", version: "2.5" };

/// Rule ids of this pack with what each checks (`passerelle validate --list-rules`).
pub const RULES: &[(&str, &str)] = &[
    ("hl7v2.msh.required", "MSH-7 (date/time), MSH-9 (type), MSH-10 (control id), MSH-11 (processing id) and MSH-12 (version) are present"),
    ("hl7v2.msh.datetime", "MSH-7 is a TS: YYYY[MM[DD[HH[MM[SS[.S…]]]]]] with an optional ±ZZZZ offset"),
    ("hl7v2.msh.control-id-length", "MSH-10 is at most 20 characters (v2.5 length)"),
    ("hl7v2.msh.processing-id", "MSH-11.1 is P, D or T (table 0103)"),
    ("hl7v2.segment.name", "every segment name is three characters, an uppercase letter then uppercase letters or digits"),
    (
        "hl7v2.structure.required-segment",
        "the message has the segments its structure requires (ADT: EVN, PID, PV1, MRG; ORU: OBR; ORM/OML: ORC; MDM: TXA; ACK: MSA; …)",
    ),
    ("hl7v2.structure.order", "MSH first, then EVN before PID, PID before PV1"),
    ("hl7v2.batch.count", "a batch file's BTS-1 and FTS-1 count the messages and batches it holds (each message is validated on its own)"),
    ("hl7v2.encoding.bom", "no byte order mark before MSH (strict receivers do not find the MSH)"),
    ("hl7v2.msh.encoding", "MSH-2 holds four distinct encoding characters (five from v2.7 with truncation), none of them the field separator"),
    ("hl7v2.msh.message-structure", "MSH-9.3 names the message structure (required from v2.5), of the message type of MSH-9.1 (ADT_A01 for ADT)"),
    ("hl7v2.field.required", "the fields v2.5 makes required are present (PID-3, PID-5, EVN-2, PV1-2, OBX-11, OBR-4, ORC-1, TXA-2/12/17, MSA-1/2, …)"),
    ("hl7v2.datatype.components", "a 2.5 field has no more components than its data type (IS/ID/SI: 1, CX: 10, XPN: 14, XTN: 12, XCN: 23)"),
];

/// Segments each message's v2.5 structure requires besides MSH (table 0354 structures).
fn required_segments(kind: &str, trigger: &str) -> &'static [&'static str] {
    match (kind, trigger) {
        ("ADT", "A40" | "A41" | "A42" | "A44" | "A47" | "A49") => &["EVN", "PID", "MRG"],
        ("ADT", t) if t.starts_with('A') || t == "Z99" => &["EVN", "PID", "PV1"],
        ("ADT", _) => &["EVN", "PID"],
        ("ORU", "R01") => &["OBR"],
        ("ORM", "O01") | ("OML", _) => &["ORC"],
        ("MDM", _) => &["EVN", "PID", "PV1", "TXA"],
        ("VXU", "V04") => &["PID"],
        ("SIU", _) => &["SCH"],
        ("ACK", _) => &["MSA"],
        _ => &[],
    }
}

/// `2.5.1` → (2, 5); unreadable versions count as 2.5.
fn version_of(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => (2, 5),
    }
}

fn check_encoding(ctx: &mut Ctx<'_, '_>, msh: &passerelle_hl7v2::Segment<'_, '_>) {
    if ctx.msg.input().starts_with(b"\xEF\xBB\xBF") {
        ctx.push("hl7v2.encoding.bom", Severity::Warning, whole_message(), "a UTF-8 byte order mark precedes MSH");
    }
    let raw = msh.raw();
    let Some(&separator) = raw.get(3) else { return };
    let encoding: Vec<u8> = raw.get(4..).unwrap_or_default().iter().take_while(|b| **b != separator).copied().collect();
    let version = version_of(&ctx.value("MSH", 12, 1));
    let allowed = if version >= (2, 7) { 4..=5 } else { 4..=4 };
    let mut distinct = encoding.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let ok = allowed.contains(&encoding.len()) && distinct.len() == encoding.len() && encoding.iter().all(|b| !b.is_ascii_alphanumeric() && *b != separator);
    if !ok {
        let shown = String::from_utf8_lossy(&encoding).into_owned();
        ctx.push("hl7v2.msh.encoding", Severity::Error, at(msh, 2, 0), format!("MSH-2 {shown:?} is not four distinct encoding characters"));
    }
}

fn check_message_structure(ctx: &mut Ctx<'_, '_>, msh: &passerelle_hl7v2::Segment<'_, '_>) {
    let (kind, structure) = (ctx.message_type.clone(), ctx.structure.clone());
    if kind.is_empty() {
        return;
    }
    if structure.is_empty() {
        let version = ctx.value("MSH", 12, 1);
        let severity = if version_of(&version) >= (2, 5) { Severity::Error } else { Severity::Warning };
        ctx.push("hl7v2.msh.message-structure", severity, at(msh, 9, 0), "MSH-9.3 (message structure) is missing");
        return;
    }
    let b = structure.as_bytes();
    // Table 0354 names structures TYPE_EVENT (ADT_A01), and ACK for the general acknowledgment.
    let general_ack = kind == "ACK" && structure == "ACK";
    let form = general_ack || b.len() == 7 && b[3] == b'_' && b.iter().enumerate().all(|(i, c)| i == 3 || c.is_ascii_uppercase() || c.is_ascii_digit());
    if !form || !structure.starts_with(&kind) {
        ctx.push(
            "hl7v2.msh.message-structure",
            Severity::Error,
            at(msh, 9, 3),
            format!("MSH-9.3 {structure:?} is not a message structure of type {kind} (such as {kind}_A01)"),
        );
    }
}

pub fn check(ctx: &mut Ctx<'_, '_>) {
    let Some(msh) = ctx.segment("MSH") else {
        ctx.push("hl7v2.structure.required-segment", Severity::Fatal, whole_message(), "no MSH segment");
        return;
    };
    for (field, what) in [(7, "date/time of message"), (9, "message type"), (10, "message control id"), (11, "processing id"), (12, "version id")] {
        if msh.field(field).is_empty() {
            ctx.push("hl7v2.msh.required", Severity::Error, at(&msh, field, 0), format!("MSH-{field} ({what}) is required"));
        }
    }
    check_encoding(ctx, &msh);
    check_message_structure(ctx, &msh);
    let time = msh.field(7).string().unwrap_or_default();
    if !time.is_empty() && !is_timestamp(&time) {
        ctx.push("hl7v2.msh.datetime", Severity::Error, at(&msh, 7, 0), "MSH-7 is not a TS (YYYYMMDDHHMMSS with an optional offset)");
    }
    let control = msh.field(10).string().unwrap_or_default();
    if control.chars().count() > 20 {
        ctx.push(
            "hl7v2.msh.control-id-length",
            Severity::Warning,
            at(&msh, 10, 0),
            format!("MSH-10 has {} characters; v2.5 allows 20", control.chars().count()),
        );
    }
    let processing = msh.component(11, 1).string().unwrap_or_default();
    if !processing.is_empty() && !matches!(processing.as_str(), "P" | "D" | "T") {
        ctx.push("hl7v2.msh.processing-id", Severity::Error, at(&msh, 11, 1), "MSH-11.1 is not P, D or T (table 0103)");
    }
    let mut names = Vec::new();
    for segment in ctx.msg.segments() {
        let name = segment.name().into_owned();
        let b = name.as_bytes();
        if !(b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())) {
            ctx.push("hl7v2.segment.name", Severity::Error, at(&segment, 0, 0), "segment name is not three uppercase letters or digits");
        }
        names.push(name);
    }
    if names.first().map(String::as_str) != Some("MSH") {
        ctx.push("hl7v2.structure.order", Severity::Fatal, whole_message(), "the message does not start with MSH");
    }
    let (kind, trigger) = (ctx.message_type.clone(), ctx.trigger.clone());
    let position = |name: &str| names.iter().position(|n| n == name);
    for required in required_segments(&kind, &trigger) {
        if position(required).is_none() {
            ctx.push("hl7v2.structure.required-segment", Severity::Error, whole_message(), format!("{kind}^{trigger} requires a {required} segment"));
        }
    }
    super::fields::check(ctx);
    if kind != "ADT" {
        return;
    }
    for (first, then) in [("EVN", "PID"), ("PID", "PV1")] {
        if let (Some(a), Some(b)) = (position(first), position(then))
            && a > b
        {
            let segment = ctx.msg.segments().nth(a).map(|s| at(&s, 0, 0)).unwrap_or_else(whole_message);
            ctx.push("hl7v2.structure.order", Severity::Error, segment, format!("{first} comes after {then}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::report::Severity;

    /// Regression: the general acknowledgment's structure is `ACK` (table 0354), not `ACK_xxx`;
    /// the first message-structure rule refused every ACK the gateway sends.
    #[test]
    fn the_general_ack_structure_is_a_valid_message_structure() {
        let ack = b"MSH|^~\\&|R|F|S|F|20261120100000||ACK^A01^ACK|A1|P|2.5\rMSA|AA|ID1\r";
        let report = crate::validate("ack", ack, &[super::PACK], Severity::Error);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let wrong = b"MSH|^~\\&|R|F|S|F|20261120100000||ACK^A01^ADT_A01|A1|P|2.5\rMSA|AA|ID1\r";
        let report = crate::validate("ack", wrong, &[super::PACK], Severity::Error);
        assert_eq!(report.findings.iter().map(|f| f.rule).collect::<Vec<_>>(), ["hl7v2.msh.message-structure"]);
    }
}
