//! Pack `cisis-docs`: ANS "Transmission de documents CDA en HL7 v2" 2.1 envelopes
//! (../shared/docs/domain-fr-be.md §3.1): ORU^R01 (v2.5) and MDM^T02/T10/T04 (v2.6) carrying a
//! CDA document: the profile id in MSH-21, the version, ORC-1 / OBX-11 / trigger consistency,
//! TXA, the document OBX form, the MetaDMPMSS observations in their order, and the patient's INS
//! in PID-3 being the document's. The embedded document itself is validated by the CDA packs
//! (lib.rs), its findings placed under the OBX that carries it. The pack applies to a message that
//! names the profile in MSH-21 or carries a CDA (an ED OBX of type XML).

use super::{Ctx, at, whole_message};
use crate::report::{Location, PackId, Severity};
use passerelle_hl7v2::Segment;

pub const PACK: PackId = PackId { name: "cisis-docs", version: "2.1" };

pub const RULES: &[(&str, &str)] = &[
    ("cisdoc.msh21.profile", "MSH-21 names the profile 2.1^CISIS_CDA_HL7_V2"),
    ("cisdoc.msh12.version", "MSH-12 is 2.5 for ORU, 2.6 for MDM"),
    ("cisdoc.event", "the message is ORU^R01^ORU_R01 or MDM^T02|T10|T04^MDM_T02"),
    ("cisdoc.status.consistency", "ORC-1, the document OBX-11 and the flow agree: NW/F initial, RO/C replacement (T10), CA/D deletion (T04)"),
    ("cisdoc.txa.required", "MDM: TXA-2 (type), TXA-3 TEXT, TXA-12 (document id) and TXA-17 AU are present"),
    ("cisdoc.txa12.form", "TXA-12 is extension^^root OID^ISO, or an OID alone in TXA-12.1"),
    ("cisdoc.txa13.parent", "a replacement (T10) names the replaced document in TXA-13"),
    ("cisdoc.obx.document", "the document OBX is ED with ^TEXT^XML^Base64^<base64> (MDM: text), the data valid base64"),
    ("cisdoc.meta.order", "MetaDMPMSS observations come after the document, in the fixed order MASQUE_PS … ACK_LECTURE_MSS, CORPSMAIL_PS, CORPSMAIL_PATIENT"),
    ("cisdoc.meta.value", "a MetaDMPMSS observation is CE (ORU) / CWE (MDM) with Y|N^^expandedYes-NoIndicator and OBX-11 F"),
    ("cisdoc.patient.ids-match", "the INS in PID-3 is the INS of the document's recordTarget"),
];

const META_ORDER: &[&str] = &[
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REP_LEGAUX",
    "CONNEXION_SECRETE",
    "MODIF_CONF_CODE",
    "DESTDMP",
    "DESTMSSANTEPS",
    "DESTMSSANTEPAT",
    "ACK_RECEPTION",
    "ACK_LECTURE_MSS",
    "CORPSMAIL_PS",
    "CORPSMAIL_PATIENT",
];

/// A CDA document carried by the message: where (its OBX-5.5) and its bytes.
pub struct Carried {
    pub at: Location,
    pub bytes: Vec<u8>,
}

/// Whether the pack applies: the profile is named or a CDA is carried.
pub fn applies(ctx: &Ctx<'_, '_>) -> bool {
    ctx.value("MSH", 21, 2).contains("CISIS_CDA_HL7_V2") || ctx.msg.segments_named("OBX").any(|obx| is_document(&obx))
}

fn is_document(obx: &Segment<'_, '_>) -> bool {
    obx.component(2, 1).string().as_deref() == Some("ED") && obx.component(5, 3).string().is_some_and(|t| t.eq_ignore_ascii_case("XML"))
}

fn text(s: &Segment<'_, '_>, field: usize, component: usize) -> String {
    s.component(field, component).string().unwrap_or_default()
}

/// Checks the envelope; returns the CDA documents it carries for the CDA packs.
pub fn check(ctx: &mut Ctx<'_, '_>) -> Vec<Carried> {
    let Some(msh) = ctx.segment("MSH") else { return Vec::new() };
    if !ctx.value("MSH", 21, 2).contains("CISIS_CDA_HL7_V2") {
        ctx.push("cisdoc.msh21.profile", Severity::Error, at(&msh, 21, 0), "MSH-21 does not name 2.1^CISIS_CDA_HL7_V2");
    }
    let (kind, trigger) = (ctx.message_type.clone(), ctx.trigger.clone());
    let mdm = kind == "MDM";
    let flow = match (kind.as_str(), trigger.as_str()) {
        ("ORU", "R01") => None,
        ("MDM", "T02") => Some(("NW", "F")),
        ("MDM", "T10") => Some(("RO", "C")),
        ("MDM", "T04") => Some(("CA", "D")),
        _ => {
            ctx.push("cisdoc.event", Severity::Error, at(&msh, 9, 0), format!("{kind}^{trigger} is not an event of the volet (ORU^R01, MDM^T02/T10/T04)"));
            return Vec::new();
        }
    };
    let version = ctx.value("MSH", 12, 1);
    let expected = if mdm { "2.6" } else { "2.5" };
    if version != expected {
        ctx.push("cisdoc.msh12.version", Severity::Error, at(&msh, 12, 1), format!("{kind} in this volet is HL7 v{expected}, not {version:?}"));
    }
    let obx: Vec<Segment<'_, '_>> = ctx.msg.segments_named("OBX").collect();
    let documents: Vec<&Segment<'_, '_>> = obx.iter().filter(|o| o.component(2, 1).string().as_deref() == Some("ED") && !is_meta(o)).collect();
    let orc = ctx.segment("ORC");
    let order_control = orc.as_ref().map(|o| text(o, 1, 1)).unwrap_or_default();
    let result_status = documents.first().map(|d| text(d, 11, 1)).unwrap_or_default();
    let consistent = match flow {
        Some(pair) => (order_control.as_str(), result_status.as_str()) == pair,
        None => matches!((order_control.as_str(), result_status.as_str()), ("NW", "F") | ("RO", "C") | ("CA", "D")),
    };
    if !consistent {
        let place = orc.as_ref().map_or_else(whole_message, |o| at(o, 1, 0));
        let message = format!("ORC-1 {order_control:?} and OBX-11 {result_status:?} do not make one flow (NW/F, RO/C, CA/D) with {kind}^{trigger}");
        ctx.push("cisdoc.status.consistency", Severity::Error, place, message);
    }
    if mdm {
        check_txa(ctx, &trigger);
    }
    let mut carried = Vec::new();
    for document in &documents {
        carried.extend(check_document(ctx, document, mdm));
    }
    check_meta(ctx, &obx, mdm);
    carried
}

fn is_meta(obx: &Segment<'_, '_>) -> bool {
    text(obx, 3, 3) == "MetaDMPMSS"
}

fn check_txa(ctx: &mut Ctx<'_, '_>, trigger: &str) {
    let Some(txa) = ctx.segment("TXA") else {
        ctx.push("cisdoc.txa.required", Severity::Error, whole_message(), "an MDM of this volet has a TXA segment");
        return;
    };
    for (field, what, expected) in
        [(2, "document type", None), (3, "presentation", Some("TEXT")), (12, "unique document id", None), (17, "completion", Some("AU"))]
    {
        let value = text(&txa, field, 1);
        let wrong = value.is_empty() || expected.is_some_and(|e| value != e);
        if wrong {
            let want = expected.map_or_else(String::new, |e| format!(" ({e})"));
            ctx.push("cisdoc.txa.required", Severity::Error, at(&txa, field, 0), format!("TXA-{field} ({what}) is missing or wrong{want}"));
        }
    }
    let (id, root, kind) = (text(&txa, 12, 1), text(&txa, 12, 3), text(&txa, 12, 4));
    let form_ok = if root.is_empty() { crate::values::is_oid(&id) } else { !id.is_empty() && crate::values::is_oid(&root) && kind == "ISO" };
    if !id.is_empty() && !form_ok {
        ctx.push("cisdoc.txa12.form", Severity::Error, at(&txa, 12, 0), "TXA-12 is neither extension^^root OID^ISO nor an OID");
    }
    if trigger == "T10" && txa.field(13).is_empty() {
        ctx.push("cisdoc.txa13.parent", Severity::Error, at(&txa, 13, 0), "a replacement (T10) names the document it replaces in TXA-13");
    }
}

fn check_document(ctx: &mut Ctx<'_, '_>, obx: &Segment<'_, '_>, mdm: bool) -> Option<Carried> {
    let subtype = if mdm { "text" } else { "TEXT" };
    let parts = [text(obx, 5, 1), text(obx, 5, 2), text(obx, 5, 3), text(obx, 5, 4)];
    if !parts[0].is_empty() || parts[1] != subtype || parts[2] != "XML" || parts[3] != "Base64" {
        let message = format!("OBX-5 is ^{}^{}^{}, expected ^{subtype}^XML^Base64", parts[1], parts[2], parts[3]);
        ctx.push("cisdoc.obx.document", Severity::Error, at(obx, 5, 0), message);
        if parts[2] != "XML" {
            return None;
        }
    }
    let data = obx.component(5, 5);
    match passerelle_model::base64::decode(data.raw()) {
        Some(bytes) if !bytes.is_empty() => Some(Carried { at: at(obx, 5, 5), bytes }),
        _ => {
            ctx.push("cisdoc.obx.document", Severity::Error, at(obx, 5, 5), "OBX-5.5 is not base64 data");
            None
        }
    }
}

fn check_meta(ctx: &mut Ctx<'_, '_>, obx: &[Segment<'_, '_>], mdm: bool) {
    let first_document = obx.iter().position(|o| o.component(2, 1).string().as_deref() == Some("ED") && !is_meta(o));
    let mut last_rank = None;
    for (i, o) in obx.iter().enumerate().filter(|(_, o)| is_meta(o)) {
        let code = text(o, 3, 1);
        let Some(rank) = META_ORDER.iter().position(|c| *c == code) else {
            ctx.push("cisdoc.meta.order", Severity::Error, at(o, 3, 1), format!("{code:?} is not a MetaDMPMSS observation"));
            continue;
        };
        if first_document.is_none_or(|d| i < d) || last_rank.is_some_and(|last| rank <= last) {
            ctx.push(
                "cisdoc.meta.order",
                Severity::Error,
                at(o, 3, 1),
                format!("{code} is out of the fixed order (after the document, {})", META_ORDER.join(", ")),
            );
        }
        last_rank = Some(rank);
        if code.starts_with("CORPSMAIL") {
            continue;
        }
        let value_type = if mdm { "CWE" } else { "CE" };
        let answer = (text(o, 5, 1), text(o, 5, 3));
        if text(o, 2, 1) != value_type || !matches!(answer.0.as_str(), "Y" | "N") || answer.1 != "expandedYes-NoIndicator" || text(o, 11, 1) != "F" {
            ctx.push("cisdoc.meta.value", Severity::Error, at(o, 5, 0), format!("{code} is not {value_type} Y|N^^expandedYes-NoIndicator with OBX-11 F"));
        }
    }
}

/// The INS values of PID-3 (CX-4.2 an INS OID).
pub fn pid_ins(ctx: &Ctx<'_, '_>) -> Vec<String> {
    let Some(pid) = ctx.segment("PID") else { return Vec::new() };
    pid.field(3)
        .repetitions()
        .filter(|r| passerelle_model::IdentifierKind::ins_for_oid(&r.component(4).subcomponent(2).string().unwrap_or_default()).is_some())
        .filter_map(|r| r.component(1).string())
        .collect()
}
