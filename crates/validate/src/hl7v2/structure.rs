//! Pack `hl7v2.5`: what HL7 v2.5 itself requires of the messages Passerelle takes: MSH's required
//! fields and their forms, segment names, and for ADT the segments each event's structure
//! requires, in their order.

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
    ("hl7v2.structure.required-segment", "an ADT message has the segments its event's structure requires (EVN, PID, PV1, MRG)"),
    ("hl7v2.structure.order", "MSH first, then EVN before PID, PID before PV1"),
];

/// Segments each ADT trigger's v2.5 structure requires besides MSH (table 0354 structures).
fn required_segments(trigger: &str) -> &'static [&'static str] {
    match trigger {
        "A40" | "A41" | "A42" | "A47" | "A49" => &["EVN", "PID", "MRG"],
        "A44" => &["EVN", "PID", "MRG"],
        t if t.starts_with('A') || t == "Z99" => &["EVN", "PID", "PV1"],
        _ => &["EVN", "PID"],
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
    if ctx.message_type != "ADT" {
        return;
    }
    let trigger = ctx.trigger.clone();
    let position = |name: &str| names.iter().position(|n| n == name);
    for required in required_segments(&trigger) {
        if position(required).is_none() {
            ctx.push("hl7v2.structure.required-segment", Severity::Error, whole_message(), format!("ADT^{trigger} requires a {required} segment"));
        }
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
