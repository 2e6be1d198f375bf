//! Pack `hl7v2.5`, field level: the fields HL7 v2.5 makes required (R) in the segments Passerelle
//! takes, and the component counts of the data types of common fields (a field of a
//! single-component type such as IS or ID sent with components, an XPN with more than 14). The
//! component rule applies to messages that declare 2.5 or 2.5.1 (later versions add components).

use super::{Ctx, at};
use crate::report::Severity;

/// (segment, field, what): required in v2.5 (chapters 2, 3, 4, 6, 7, 9).
const REQUIRED: &[(&str, usize, &str)] = &[
    ("EVN", 2, "recorded date/time"),
    ("PID", 3, "patient identifier list"),
    ("PID", 5, "patient name"),
    ("PV1", 2, "patient class"),
    ("NK1", 1, "set id"),
    ("AL1", 1, "set id"),
    ("AL1", 3, "allergen"),
    ("DG1", 1, "set id"),
    ("DG1", 6, "diagnosis type"),
    ("MRG", 1, "prior patient identifier list"),
    ("ORC", 1, "order control"),
    ("OBR", 4, "universal service identifier"),
    ("OBX", 11, "observation result status"),
    ("TXA", 1, "set id"),
    ("TXA", 2, "document type"),
    ("TXA", 12, "unique document number"),
    ("TXA", 17, "document completion status"),
    ("MSA", 1, "acknowledgment code"),
    ("MSA", 2, "message control id"),
];

/// (segment, field, data type, components the type has in v2.5).
const COMPONENTS: &[(&str, usize, &str, usize)] = &[
    ("PID", 1, "SI", 1),
    ("PID", 3, "CX", 10),
    ("PID", 5, "XPN", 14),
    ("PID", 8, "IS", 1),
    ("PID", 11, "XAD", 14),
    ("PID", 13, "XTN", 12),
    ("PID", 14, "XTN", 12),
    ("PID", 24, "ID", 1),
    ("PID", 30, "ID", 1),
    ("PV1", 2, "IS", 1),
    ("PV1", 7, "XCN", 23),
    ("PV1", 8, "XCN", 23),
    ("PV1", 17, "XCN", 23),
    ("NK1", 2, "XPN", 14),
    ("NK1", 5, "XTN", 12),
    ("ORC", 1, "ID", 1),
    ("ORC", 12, "XCN", 23),
    ("OBR", 16, "XCN", 23),
    ("OBX", 1, "SI", 1),
    ("OBX", 2, "ID", 1),
    ("OBX", 10, "ID", 1),
    ("OBX", 11, "ID", 1),
    ("MSA", 1, "ID", 1),
];

pub fn check(ctx: &mut Ctx<'_, '_>) {
    for (name, field, what) in REQUIRED {
        for segment in ctx.msg.segments_named(name).collect::<Vec<_>>() {
            if segment.field(*field).is_empty() {
                ctx.push("hl7v2.field.required", Severity::Error, at(&segment, *field, 0), format!("{name}-{field} ({what}) is required"));
            }
        }
    }
    let version = ctx.value("MSH", 12, 1);
    if version != "2.5" && version != "2.5.1" {
        return;
    }
    let components = ctx.msg.delimiters().component;
    for (name, field, kind, max) in COMPONENTS {
        for segment in ctx.msg.segments_named(name).collect::<Vec<_>>() {
            let most = segment.field(*field).repetitions().map(|r| r.raw().split(|b| *b == components).count()).max().unwrap_or(0);
            if most > *max {
                let message = format!("{name}-{field} ({kind}) has {max} component{} in v2.5; {most} were sent", if *max == 1 { "" } else { "s" });
                ctx.push("hl7v2.datatype.components", Severity::Error, at(&segment, *field, 0), message);
            }
        }
    }
}
