//! `passerelle validate`: offline, private conformance reports. Each file's format is detected,
//! every selected rule pack that applies to it runs, and the findings follow one model
//! ([`report`]) whatever the format. No network access, ever. HL7 v2 (`hl7v2.5`, `pam-fr`,
//! `cisis-docs` for the CDA documents it carries, which the CDA packs validate in turn), CDA
//! (`ci-sis`) and FHIR (`fhir-r4`, `fr-core`, `be-core`) each have their packs; `ins` and `ids`
//! (identifiers) apply to all three.

pub mod cda;
pub mod conformance;
pub mod fhir;
pub mod hl7v2;
pub mod html;
pub mod ids;
pub mod ins;
pub mod output;
pub mod report;
pub mod values;
pub mod xml;

use report::{FileReport, Finding, Location, NotChecked, PackId, Severity, Status};

/// Every pack shipped in the binary, with the formats it applies to.
pub const PACKS: [PackId; 9] = [
    hl7v2::structure::PACK,
    hl7v2::pamfr::PACK,
    hl7v2::documents::PACK,
    ins::PACK,
    ids::PACK,
    cda::cisis::PACK,
    fhir::PACK,
    fhir::profiles::FR_CORE,
    fhir::profiles::BE_CORE,
];

/// The rules of `pack` with what each checks.
pub fn rules_of(pack: &str) -> Vec<(&'static str, &'static str)> {
    match pack {
        "hl7v2.5" => hl7v2::structure::RULES.to_vec(),
        "pam-fr" => hl7v2::pamfr::RULES.to_vec(),
        "cisis-docs" => hl7v2::documents::RULES.to_vec(),
        "ins" => ins::rules(),
        "ids" => ids::RULES.to_vec(),
        "ci-sis" => cda::cisis::RULES.to_vec(),
        "fhir-r4" => fhir::RULES.to_vec(),
        "fr-core" => fhir::profiles::FR_RULES.to_vec(),
        "be-core" => fhir::profiles::BE_RULES.to_vec(),
        "conformance" => conformance::RULES.to_vec(),
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

fn selected(packs: &[PackId], name: &str) -> bool {
    packs.iter().any(|p| p.name == name)
}

/// Validates one file's bytes with the packs named in `packs`; judged against `fail_on`.
pub fn validate(path: &str, bytes: &[u8], packs: &[PackId], fail_on: Severity) -> FileReport {
    let format = detect(bytes);
    let mut not_checked = Vec::new();
    let findings = match format {
        "hl7v2" => hl7v2_file_findings(bytes, packs, &mut not_checked),
        "cda" => cda_findings(bytes, packs, &mut not_checked),
        "fhir" => fhir_findings(bytes, packs),
        _ => vec![Finding::new(
            "format.unknown",
            Severity::Fatal,
            Location { path: "/".into(), ..Location::default() },
            "neither HL7 v2 (MSH, FHS, BHS), CDA (ClinicalDocument) nor FHIR JSON",
            "core",
        )],
    };
    FileReport { path: path.to_owned(), format, status: Status::Pass, findings, not_checked }.judge(fail_on)
}

/// An HL7 v2 file: one message, or a batch (FHS/BHS … BTS/FTS) or several messages one after the
/// other, each validated on its own with its findings placed by message and by the file's lines.
fn hl7v2_file_findings(bytes: &[u8], packs: &[PackId], not_checked: &mut Vec<NotChecked>) -> Vec<Finding> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let is_segment_start = |i: usize| i == 0 || matches!(body[i - 1], b'\r' | b'\n');
    let messages = body.windows(3).enumerate().filter(|(i, w)| *w == b"MSH" && is_segment_start(*i)).count();
    if !passerelle_hl7v2::batch::is_batch(body) && messages <= 1 {
        return hl7v2_findings(bytes, packs, not_checked);
    }
    let batch = passerelle_hl7v2::batch::split(body);
    let mut findings: Vec<Finding> = batch
        .issues
        .iter()
        .map(|i| {
            Finding::new(
                "hl7v2.batch.count",
                Severity::Error,
                Location { path: "BTS".into(), ..Location::default() },
                i.message.clone(),
                hl7v2::structure::PACK.name,
            )
        })
        .collect();
    for (n, message) in batch.messages.iter().enumerate() {
        let offset = message.as_ptr() as usize - body.as_ptr() as usize;
        // Lines are segments (the tokenizer's numbering), whatever the terminators.
        let lines_before = body[..offset].split(|b| matches!(b, b'\r' | b'\n')).filter(|l| !l.trim_ascii().is_empty()).count();
        for mut f in hl7v2_findings(message, packs, not_checked) {
            f.at = Location { path: format!("message {} » {}", n + 1, f.at.path), line: f.at.line.map(|l| l + lines_before), column: f.at.column };
            f.location = f.at.to_string();
            findings.push(f);
        }
    }
    findings
}

fn hl7v2_findings(bytes: &[u8], packs: &[PackId], not_checked: &mut Vec<NotChecked>) -> Vec<Finding> {
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
            "ins" => findings.extend(ins::check(&normalised.issues, &|issue| ins::hl7v2_location(&tokens, issue))),
            "ids" => findings.extend(ids::check_hl7v2(&tokens)),
            "cisis-docs" => {
                let mut ctx = hl7v2::Ctx::new(&tokens, pack.name);
                if hl7v2::documents::applies(&ctx) {
                    let carried = hl7v2::documents::check(&mut ctx);
                    let pid_ins = hl7v2::documents::pid_ins(&ctx);
                    findings.append(&mut ctx.findings);
                    for document in carried {
                        findings.extend(carried_findings(&document, &pid_ins, packs, not_checked));
                    }
                }
            }
            _ => {}
        }
    }
    findings
}

/// A CDA carried in an HL7 v2 message: its own findings placed under the OBX that carries it, and
/// whether its patient's INS is the one of PID-3.
fn carried_findings(document: &hl7v2::documents::Carried, pid_ins: &[String], packs: &[PackId], not_checked: &mut Vec<NotChecked>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = cda_findings(&document.bytes, packs, not_checked)
        .into_iter()
        .map(|mut f| {
            let inner = match f.at.line {
                Some(line) => format!("{} » {} (document line {line})", document.at.path, f.at.path),
                None => format!("{} » {}", document.at.path, f.at.path),
            };
            f.at = Location { path: inner, ..document.at.clone() };
            f.location = f.at.to_string();
            f
        })
        .collect();
    let text = String::from_utf8_lossy(&document.bytes);
    if let Ok(tree) = xml::Tree::parse(&text) {
        let document_ins: Vec<String> = tree
            .find_all(0, "recordTarget/patientRole/id")
            .into_iter()
            .filter(|id| tree.attr(*id, "root").is_some_and(|r| passerelle_model::IdentifierKind::ins_for_oid(r).is_some()))
            .filter_map(|id| tree.attr(id, "extension").map(str::to_owned))
            .collect();
        if document_ins.iter().any(|ins| !pid_ins.contains(ins)) || pid_ins.iter().any(|ins| !document_ins.contains(ins)) {
            let message = "the INS of PID-3 and of the document's recordTarget differ";
            findings.push(Finding::new("cisdoc.patient.ids-match", Severity::Error, document.at.clone(), message, hl7v2::documents::PACK.name));
        }
    }
    findings
}

fn cda_findings(bytes: &[u8], packs: &[PackId], not_checked: &mut Vec<NotChecked>) -> Vec<Finding> {
    let decoded = match passerelle_cda::decode(bytes, &passerelle_cda::DecodeOptions::default()) {
        Ok(decoded) => decoded,
        Err(e) => return vec![cda::unreadable(e.to_string())],
    };
    let text = String::from_utf8_lossy(bytes);
    let tree = match xml::Tree::parse(&text) {
        Ok(tree) => tree,
        Err(e) => return vec![cda::unreadable(e)],
    };
    let mut findings = Vec::new();
    if selected(packs, "ci-sis") {
        let mut ctx = cda::Ctx::new(&tree, cda::cisis::PACK.name);
        cda::cisis::check(&mut ctx);
        findings.append(&mut ctx.findings);
        not_checked.append(&mut ctx.not_checked);
    }
    if selected(packs, "ins") {
        findings.extend(ins::check(&decoded.issues, &|issue| ins::cda_location(&tree, issue)));
    }
    if selected(packs, "ids") {
        findings.extend(ids::check_cda(&tree));
    }
    findings
}

fn fhir_findings(bytes: &[u8], packs: &[PackId]) -> Vec<Finding> {
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: serde_json::Value = match serde_json::from_slice(json) {
        Ok(root @ serde_json::Value::Object(_)) => root,
        Ok(_) => return vec![fhir::unreadable("the JSON is not an object".into())],
        Err(e) => return vec![fhir::unreadable(format!("not json: {e}"))],
    };
    let read = passerelle_fhir::decode(bytes);
    let mut findings = Vec::new();
    if selected(packs, "fhir-r4") {
        let reader_error = match &read {
            Err(e @ passerelle_fhir::ReadError::Invalid { .. }) => Some((e.to_string(), e.path().map(str::to_owned))),
            _ => None,
        };
        findings.extend(fhir::check_r4(&root, bytes.starts_with(b"\xEF\xBB\xBF"), reader_error.as_ref().map(|(m, p)| (m.as_str(), p.as_deref()))));
    }
    for (path, resource) in fhir::resources(&root) {
        if resource.get("resourceType").and_then(serde_json::Value::as_str) != Some("Patient") {
            continue;
        }
        if selected(packs, "fr-core") {
            findings.extend(fhir::profiles::check_fr(resource, &path));
        }
        if selected(packs, "be-core") {
            findings.extend(fhir::profiles::check_be(resource, &path));
        }
    }
    if selected(packs, "ins")
        && let Ok(read) = &read
    {
        findings.extend(ins::check(&read.issues, &|issue| match &issue.location {
            Some(passerelle_model::Locator::Path(p)) => fhir::at(p.to_string()),
            _ => fhir::at("Patient"),
        }));
    }
    if selected(packs, "ids") {
        findings.extend(ids::check_fhir(&root));
    }
    findings
}
