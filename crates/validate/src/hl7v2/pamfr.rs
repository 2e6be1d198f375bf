//! Pack `pam-fr` (IHE PAM France 2.11.1, ../shared/docs/domain-fr-be.md §2): the events France
//! allows (no A08), MSH-12/17/18 conventions, ZBE where ITI-31 requires it and its forms, the UF
//! in PV1-3, the NDA in PID-18, fields PAM-FR forbids, ZFA and ZFD value sets.

use super::{Ctx, at, whole_message};
use crate::report::{PackId, Severity};

pub const PACK: PackId = PackId { name: "pam-fr", version: "2.11.1" };

pub const RULES: &[(&str, &str)] = &[
    ("pamfr.event.allowed", "the trigger is an ITI-30 or ITI-31 event of PAM-FR §2 (A08 has its own rule)"),
    ("pamfr.a08.forbidden", "A08 is excluded in France: demographics go in A31, visit corrections in Z99 (§2.2)"),
    ("pamfr.msh12.version", "MSH-12 is 2.5^FRA^2.11 (version, FRA, profile version; §6.5)"),
    ("pamfr.msh17.country", "MSH-17 is FRA"),
    ("pamfr.msh18.charset", "MSH-18 is 8859/15 or UNICODE UTF-8 (8859/1 is seen in legacy traffic; §6.1)"),
    ("pamfr.zbe.required", "ITI-31 events carry a ZBE (movement) segment (§2.4)"),
    ("pamfr.zbe.required-field", "ZBE-1 (movement id), ZBE-2 (start), ZBE-4 (action), ZBE-5 (historic) and ZBE-9 (nature) are present"),
    ("pamfr.zbe.action", "ZBE-4 is INSERT, UPDATE or CANCEL; UPDATE only on Z99"),
    ("pamfr.zbe.original-trigger", "ZBE-6 (original trigger) is present when ZBE-4 is UPDATE or CANCEL"),
    ("pamfr.zbe.nature", "ZBE-9 is one of S, H, M, L, D, SM, SH, MH, LD, HMS, C"),
    ("pamfr.pv1.uf-required", "PV1-3.1 (UF d'hébergement) is present on the events §5.1.1 lists"),
    ("pamfr.pid18.nda-required", "PID-18 (NDA) is present on ITI-31 events"),
    ("pamfr.field.forbidden", "PID-10, PID-17 and PID-22 are not sent (§6.3; receivers ignore them)"),
    ("pamfr.zfa.values", "ZFA-1 ACTIF|FERME|INEXISTANT, ZFA-9 NA|IO|INO, ZFA-11 NA|INC|IC"),
    ("pamfr.zfd.values", "ZFD-3 and ZFD-4 Y|N, ZFD-5 SM|CV|INSI|CB|RFID, ZFD-7 AN|CC|CE|CM|CN|CS|LE|PA|PC|TC"),
];

const ITI30: &[&str] = &["A28", "A31", "A47", "A40"];
const ITI31: &[&str] = &[
    "A05", "A38", "A01", "A11", "A14", "A27", "A04", "A06", "A07", "A54", "A55", "A02", "A12", "A15", "A26", "A03", "A13", "A16", "A25", "A21", "A52", "A22",
    "A53", "A44", "Z99",
];
const UF_REQUIRED: &[&str] = &["A01", "A04", "A11", "A03", "A13", "A02", "A12", "A14", "A27", "A15", "A26", "A16", "A25", "A21", "A22", "A06", "A07"];

fn one_of(value: &str, allowed: &[&str]) -> bool {
    allowed.contains(&value)
}

pub fn check(ctx: &mut Ctx<'_, '_>) {
    let Some(msh) = ctx.segment("MSH") else { return };
    if ctx.message_type != "ADT" {
        return;
    }
    let trigger = ctx.trigger.clone();
    if trigger == "A08" {
        ctx.push("pamfr.a08.forbidden", Severity::Error, at(&msh, 9, 2), "A08 is excluded in France: use A31 (identity) or Z99 (visit, movement)");
    } else if !ITI30.contains(&trigger.as_str()) && !ITI31.contains(&trigger.as_str()) {
        ctx.push("pamfr.event.allowed", Severity::Error, at(&msh, 9, 2), format!("ADT^{trigger} is not a PAM-FR event"));
    }
    let (version, country, profile) = (ctx.value("MSH", 12, 1), ctx.value("MSH", 12, 2), ctx.value("MSH", 12, 3));
    if version != "2.5" {
        ctx.push("pamfr.msh12.version", Severity::Error, at(&msh, 12, 1), format!("MSH-12.1 is {version:?}; PAM-FR is HL7 v2.5"));
    } else if country != "FRA" || profile.is_empty() {
        ctx.push("pamfr.msh12.version", Severity::Warning, at(&msh, 12, 0), "MSH-12 should be 2.5^FRA^2.11 (FRA and the profile version)");
    }
    if ctx.value("MSH", 17, 1) != "FRA" {
        ctx.push("pamfr.msh17.country", Severity::Warning, at(&msh, 17, 0), "MSH-17 should be FRA");
    }
    let charset = ctx.value("MSH", 18, 1);
    if !one_of(&charset, &["8859/15", "UNICODE UTF-8", "8859/1"]) {
        ctx.push("pamfr.msh18.charset", Severity::Warning, at(&msh, 18, 0), format!("MSH-18 {charset:?} is not 8859/15 or UNICODE UTF-8"));
    }
    if let Some(pid) = ctx.segment("PID") {
        for field in [10, 17, 22] {
            if !pid.field(field).is_empty() {
                ctx.push("pamfr.field.forbidden", Severity::Warning, at(&pid, field, 0), format!("PID-{field} is forbidden by PAM-FR (§6.3)"));
            }
        }
        if ITI31.contains(&trigger.as_str()) && pid.field(18).is_empty() {
            ctx.push("pamfr.pid18.nda-required", Severity::Error, at(&pid, 18, 0), "PID-18 (NDA) is required on ITI-31 events");
        }
    }
    if UF_REQUIRED.contains(&trigger.as_str())
        && let Some(pv1) = ctx.segment("PV1")
        && pv1.component(3, 1).is_empty()
    {
        ctx.push("pamfr.pv1.uf-required", Severity::Error, at(&pv1, 3, 1), format!("PV1-3.1 (UF) is required on {trigger}"));
    }
    check_zbe(ctx, &trigger);
    check_zfa_zfd(ctx);
}

fn check_zbe(ctx: &mut Ctx<'_, '_>, trigger: &str) {
    let Some(zbe) = ctx.segment("ZBE") else {
        // A44 moves an account: no movement.
        if ITI31.contains(&trigger) && trigger != "A44" {
            ctx.push("pamfr.zbe.required", Severity::Error, whole_message(), format!("{trigger} requires a ZBE segment (movement)"));
        }
        return;
    };
    for (field, what) in [(1, "movement id"), (2, "movement start"), (4, "action"), (5, "historic indicator"), (9, "nature")] {
        if zbe.field(field).is_empty() {
            ctx.push("pamfr.zbe.required-field", Severity::Error, at(&zbe, field, 0), format!("ZBE-{field} ({what}) is required"));
        }
    }
    let action = zbe.field(4).string().unwrap_or_default();
    if !action.is_empty() && !one_of(&action, &["INSERT", "UPDATE", "CANCEL"]) {
        ctx.push("pamfr.zbe.action", Severity::Error, at(&zbe, 4, 0), format!("ZBE-4 {action:?} is not INSERT, UPDATE or CANCEL"));
    } else if action == "UPDATE" && trigger != "Z99" {
        ctx.push("pamfr.zbe.action", Severity::Error, at(&zbe, 4, 0), "ZBE-4 UPDATE is for Z99 only");
    }
    if matches!(action.as_str(), "UPDATE" | "CANCEL") && zbe.field(6).is_empty() {
        ctx.push("pamfr.zbe.original-trigger", Severity::Error, at(&zbe, 6, 0), format!("ZBE-6 (original trigger) is required with ZBE-4 {action}"));
    }
    let nature = zbe.component(9, 1).string().unwrap_or_default();
    if !nature.is_empty() && !one_of(&nature, &["S", "H", "M", "L", "D", "SM", "SH", "MH", "LD", "HMS", "C"]) {
        ctx.push("pamfr.zbe.nature", Severity::Error, at(&zbe, 9, 1), format!("ZBE-9 {nature:?} is not a PAM-FR movement nature"));
    }
}

fn check_zfa_zfd(ctx: &mut Ctx<'_, '_>) {
    let sets: [(&str, &'static str, usize, &[&str]); 7] = [
        ("ZFA", "pamfr.zfa.values", 1, &["ACTIF", "FERME", "INEXISTANT"]),
        ("ZFA", "pamfr.zfa.values", 9, &["NA", "IO", "INO"]),
        ("ZFA", "pamfr.zfa.values", 11, &["NA", "INC", "IC"]),
        ("ZFD", "pamfr.zfd.values", 3, &["Y", "N"]),
        ("ZFD", "pamfr.zfd.values", 4, &["Y", "N"]),
        ("ZFD", "pamfr.zfd.values", 5, &["SM", "CV", "INSI", "CB", "RFID"]),
        ("ZFD", "pamfr.zfd.values", 7, &["AN", "CC", "CE", "CM", "CN", "CS", "LE", "PA", "PC", "TC"]),
    ];
    for (name, rule, field, allowed) in sets {
        let Some(segment) = ctx.segment(name) else { continue };
        let value = segment.field(field).string().unwrap_or_default();
        if !value.is_empty() && !one_of(&value, allowed) {
            ctx.push(rule, Severity::Error, at(&segment, field, 0), format!("{name}-{field} {value:?} is not one of {}", allowed.join(", ")));
        }
    }
}
