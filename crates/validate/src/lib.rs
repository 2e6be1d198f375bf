//! `passerelle validate`: offline, private conformance reports. Each file's format is detected,
//! every selected rule pack that applies to it runs, and the findings follow one model
//! ([`report`]) whatever the format. No network access, ever. HL7 v2 is checked today (packs
//! `hl7v2.5`, `pam-fr`, `ins`); CDA and FHIR files are reported as not checked until their packs join.

pub mod hl7v2;
pub mod output;
pub mod report;

use report::{FileReport, Finding, Location, NotChecked, PackId, Severity, Status};

/// Every pack shipped in the binary.
pub const PACKS: [PackId; 3] = [hl7v2::structure::PACK, hl7v2::pamfr::PACK, hl7v2::ins::PACK];

/// The rules of `pack` with what each checks.
pub fn rules_of(pack: &str) -> Vec<(&'static str, &'static str)> {
    match pack {
        "hl7v2.5" => hl7v2::structure::RULES.to_vec(),
        "pam-fr" => hl7v2::pamfr::RULES.to_vec(),
        "ins" => hl7v2::ins::rules(),
        _ => Vec::new(),
    }
}

/// What a file holds, by its first bytes.
pub fn detect(bytes: &[u8]) -> &'static str {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let trimmed = start.iter().position(|b| !b.is_ascii_whitespace() && *b != 0x0B).map_or(&[][..], |i| &start[i..]);
    if trimmed.starts_with(b"MSH") || trimmed.starts_with(b"FHS") || trimmed.starts_with(b"BHS") {
        "hl7v2"
    } else if trimmed.starts_with(b"<") {
        let head = String::from_utf8_lossy(&trimmed[..trimmed.len().min(4096)]).into_owned();
        if head.contains("ClinicalDocument") { "cda" } else { "unknown" }
    } else if trimmed.starts_with(b"{") {
        "fhir"
    } else {
        "unknown"
    }
}

/// Validates one file's bytes with the packs named in `packs`; judged against `fail_on`.
pub fn validate(path: &str, bytes: &[u8], packs: &[PackId], fail_on: Severity) -> FileReport {
    let format = detect(bytes);
    let mut findings: Vec<Finding> = Vec::new();
    let mut not_checked = Vec::new();
    match format {
        "hl7v2" => findings = hl7v2_findings(bytes, packs),
        "cda" | "fhir" => not_checked.push(NotChecked { rule: "*", reason: format!("no {format} rule pack is shipped yet") }),
        _ => findings.push(Finding::new(
            "format.unknown",
            Severity::Fatal,
            Location { path: "/".into(), ..Location::default() },
            "neither HL7 v2 (MSH, FHS, BHS), CDA (ClinicalDocument) nor FHIR JSON",
            "core",
        )),
    }
    FileReport { path: path.to_owned(), format, status: Status::Pass, findings, not_checked }.judge(fail_on)
}

fn hl7v2_findings(bytes: &[u8], packs: &[PackId]) -> Vec<Finding> {
    let parse = passerelle_hl7v2::ParseOptions::default();
    let normalise = passerelle_hl7v2::NormaliseOptions::default();
    let (normalised, tokens) = match passerelle_hl7v2::decode(bytes, &parse, &normalise) {
        Ok(decoded) => decoded,
        Err(e) => {
            let rule = "hl7v2.structure.required-segment";
            return vec![Finding::new(rule, Severity::Fatal, hl7v2::whole_message(), e.to_string(), hl7v2::structure::PACK.name)];
        }
    };
    let mut findings = Vec::new();
    for pack in packs {
        match pack.name {
            "hl7v2.5" => {
                let mut ctx = hl7v2::Ctx::new(&tokens, pack.name);
                hl7v2::structure::check(&mut ctx);
                findings.append(&mut ctx.findings);
            }
            "pam-fr" => {
                let mut ctx = hl7v2::Ctx::new(&tokens, pack.name);
                hl7v2::pamfr::check(&mut ctx);
                findings.append(&mut ctx.findings);
            }
            "ins" => findings.extend(hl7v2::ins::check(&tokens, &normalised.issues)),
            _ => {}
        }
    }
    findings
}
