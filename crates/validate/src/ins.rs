//! Pack `ins`: identifiers and identity trust (../shared/docs/domain-fr-be.md §0, §1, §5), for
//! every format: the gateway's readers already classify every identifier (HL7 v2 PID-3 and
//! PID-32, CDA patientRole/id, FHIR Patient.identifier) with the model's identity rules and
//! accept with warnings; here their diagnostics become rules with the severity conformance asks for.

use crate::report::{Finding, Location, PackId, Severity};
use passerelle_hl7v2::Message;
use passerelle_model::{Issue, Locator};

pub const PACK: PackId = PackId { name: "ins", version: "2026.12" };

/// (normaliser code, rule, severity, what the rule checks).
const MAPPING: &[(&str, &str, Severity, &str)] = &[
    ("ins-key-invalid", "ins.key", Severity::Error, "an INS-NIR/NIA has a valid check key (97 − NIR mod 97; 2A/2B counted as 19/18)"),
    ("key-invalid", "ins.niss-key", Severity::Error, "a NISS/BIS (or billing NIR) has a valid check key"),
    ("ins-unknown-authority", "ins.oid", Severity::Error, "an identifier typed INS carries one of the INS OIDs (1.2.250.1.213.1.4.8/.9/.10/.11)"),
    ("ins-without-oid", "ins.oid", Severity::Warning, "an INS names its authority by OID (CX-4.2 with CX-4.3 ISO), not only by namespace"),
    ("national-oid-without-type", "ins.cx-type", Severity::Warning, "an identifier under the NIR OID has its CX-5 type (INS or NH)"),
    ("rniv-inconsistent", "ins.pid32.consistency", Severity::Error, "PID-32 is consistent with the INS sent (VALI only with a qualified INS)"),
    ("ins-without-vali", "ins.pid32.qualified", Severity::Error, "an INS is sent only with a qualified identity (PID-32 VALI; PAM-FR §6.6.15)"),
    ("identity-code-unknown", "ins.pid32.code", Severity::Error, "PID-32 codes are from PAM-FR table 0445"),
    ("ins-doubtful-identity", "ins.pid32.doubtful", Severity::Warning, "no INS on an identity marked doubtful or fictitious (DOUT, FICT)"),
    ("ins-traits-incomplete", "ins.traits", Severity::Error, "a qualified INS comes with its strict traits: birth name (L), first given name, birth date, sex"),
    ("ins-birth-place-missing", "ins.traits.birth-place", Severity::Warning, "a qualified INS comes with its birth place (INSEE code)"),
];

pub fn rules() -> Vec<(&'static str, &'static str)> {
    let mut rules: Vec<(&str, &str)> = MAPPING.iter().map(|(_, rule, _, what)| (*rule, *what)).collect();
    rules.dedup_by_key(|(rule, _)| *rule);
    rules
}

/// The findings of this pack among a reader's diagnostics, each placed by `locate`.
pub fn check(issues: &[Issue], locate: &dyn Fn(&Issue) -> Location) -> Vec<Finding> {
    issues
        .iter()
        .filter_map(|issue| {
            let (_, rule, severity, _) = MAPPING.iter().find(|(code, ..)| *code == issue.code)?;
            Some(Finding::new(rule, *severity, locate(issue), issue.message.clone(), PACK.name))
        })
        .collect()
}

/// A CDA issue's XPath with the line of the element it names (first match of each step).
pub fn cda_location(tree: &crate::xml::Tree, issue: &Issue) -> Location {
    let path = match &issue.location {
        Some(Locator::Path(p)) => p.to_string(),
        _ => "/ClinicalDocument/recordTarget/patientRole".into(),
    };
    let steps = path.trim_start_matches("/ClinicalDocument").trim_start_matches('/');
    let elements: String = steps.split('/').take_while(|s| !s.starts_with('@')).collect::<Vec<_>>().join("/");
    let line = if elements.is_empty() { Some(tree.get(0).line) } else { tree.find(0, &elements).map(|e| tree.get(e).line) };
    Location { path, line, column: None }
}

/// An HL7 v2 issue's ER7 path with its line (the segment's position in the message).
pub fn hl7v2_location(msg: &Message<'_>, issue: &Issue) -> Location {
    match &issue.location {
        Some(Locator::Er7(l)) => {
            let mut path = l.segment.to_string();
            if l.field > 0 {
                path.push_str(&format!("-{}", l.field));
                if l.repetition > 1 {
                    path.push_str(&format!("[{}]", l.repetition));
                }
                if l.component > 0 {
                    path.push_str(&format!(".{}", l.component));
                }
            }
            let line = msg.segments_named(&l.segment).nth(l.sequence.saturating_sub(1)).map(|s| s.index() + 1);
            Location { path, line, column: None }
        }
        Some(Locator::Path(p)) => Location { path: p.to_string(), ..Location::default() },
        None => Location { path: "PID".into(), ..Location::default() },
    }
}
