//! Pack `ids`: the Luhn keys of RPPS (11 digits) and FINESS (9) numbers wherever they appear:
//! CDA ids under the idNatPS / idNatSt roots, FHIR identifiers of the RPPS, FINESS, idNatPS and
//! idNatSt systems, HL7 v2 XCN typed or assigned RPPS and XON typed FINEG / FINEJ. Warnings only: official
//! ANS examples violate them (../shared/docs/domain-fr-be.md §3.3).

use crate::report::{Finding, Location, PackId, Severity};
use crate::values::luhn_valid;
use crate::xml::Tree;
use serde_json::Value;

pub const PACK: PackId = PackId { name: "ids", version: "2026.12" };

pub const RULES: &[(&str, &str)] = &[
    ("ids.rpps.luhn", "an RPPS number (11 digits, or idNatPS 8 + RPPS) has a valid Luhn key (warning: ANS examples fail it)"),
    ("ids.finess.luhn", "a FINESS number (9 digits, or idNatSt 1 + FINESS) has a valid Luhn key (warning: ANS examples fail it)"),
];

const ID_NAT_PS: &str = "1.2.250.1.71.4.2.1";
const ID_NAT_ST: &str = "1.2.250.1.71.4.2.2";

/// What kind of national number a value under an authority is, and its digits to check.
#[derive(Clone, Copy)]
enum Kind {
    Rpps,
    Finess,
}

/// The RPPS or FINESS inside an idNatPS (8 + RPPS, 3 + FINESS/local) or idNatSt (1 + FINESS).
fn inside_national(authority: &str, value: &str) -> Option<(Kind, String)> {
    let rest = value.get(1..)?;
    match (authority, value.as_bytes().first()) {
        (ID_NAT_PS, Some(b'8')) => Some((Kind::Rpps, rest.to_owned())),
        (ID_NAT_PS, Some(b'3')) => rest.split_once('/').map(|(finess, _)| (Kind::Finess, finess.to_owned())),
        (ID_NAT_ST, Some(b'1')) => Some((Kind::Finess, rest.to_owned())),
        _ => None,
    }
}

fn judge(kind: Kind, digits: &str, at: Location) -> Option<Finding> {
    let (rule, name, len) = match kind {
        Kind::Rpps => ("ids.rpps.luhn", "RPPS", 11),
        Kind::Finess => ("ids.finess.luhn", "FINESS", 9),
    };
    if digits.len() != len || luhn_valid(digits) != Some(false) {
        return None;
    }
    Some(Finding::new(rule, Severity::Warning, at, format!("the {name} number's Luhn key does not match"), PACK.name))
}

/// The pack over a CDA header tree.
pub fn check_cda(tree: &Tree) -> Vec<Finding> {
    tree.descendants(0)
        .into_iter()
        .filter(|id| tree.get(*id).name == "id")
        .filter_map(|id| {
            let (kind, digits) = inside_national(tree.attr(id, "root")?, tree.attr(id, "extension")?)?;
            judge(kind, &digits, Location { path: tree.xpath(id), line: Some(tree.get(id).line), column: None })
        })
        .collect()
}

/// The pack over FHIR JSON: every object with a system and a value, wherever it is.
pub fn check_fhir(root: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut stack = vec![(root.get("resourceType").and_then(Value::as_str).unwrap_or("Resource").to_owned(), root)];
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(system)), Some(Value::String(v))) = (map.get("system"), map.get("value")) {
                    let found = match system.as_str() {
                        "https://rpps.esante.gouv.fr" => Some((Kind::Rpps, v.clone())),
                        "https://finess.esante.gouv.fr" => Some((Kind::Finess, v.clone())),
                        s => s.strip_prefix("urn:oid:").and_then(|oid| inside_national(oid, v)),
                    };
                    findings.extend(found.and_then(|(kind, digits)| judge(kind, &digits, super::fhir::at(format!("{path}.value")))));
                }
                stack.extend(map.iter().rev().map(|(k, v)| (format!("{path}.{k}"), v)));
            }
            Value::Array(items) => stack.extend(items.iter().enumerate().rev().map(|(i, v)| (format!("{path}[{i}]"), v))),
            _ => {}
        }
    }
    findings
}

/// The pack over an HL7 v2 message: XCN with identifier type RPPS (XCN-13), or assigned by
/// RPPS or the idNatPS authority (XCN-9); XON with type FINEG / FINEJ.
pub fn check_hl7v2(msg: &passerelle_hl7v2::Message<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for segment in msg.segments() {
        for n in 1..=segment.field_count() {
            for (r, rep) in segment.field(n).repetitions().enumerate() {
                let text = |c: usize| rep.component(c).string().unwrap_or_default();
                let namespace = rep.component(9).subcomponent(1).string().unwrap_or_default();
                let authority = rep.component(9).subcomponent(2).string().unwrap_or_default();
                let found = if text(13) == "RPPS" || namespace == "RPPS" || authority == ID_NAT_PS {
                    let id = text(1);
                    if id.len() == 11 { Some((Kind::Rpps, id)) } else { inside_national(ID_NAT_PS, &id) }
                } else if matches!(text(7).as_str(), "FINEG" | "FINEJ") {
                    let id = if text(10).is_empty() { text(1) } else { text(10) };
                    if id.len() == 9 { Some((Kind::Finess, id)) } else { inside_national(ID_NAT_ST, &id) }
                } else {
                    None
                };
                if let Some((kind, digits)) = found {
                    let mut at = crate::hl7v2::at(&segment, n, 1);
                    if r > 0 {
                        at.path = format!("{}-{n}[{}]", segment.name(), r + 1);
                    }
                    findings.extend(judge(kind, &digits, at));
                }
            }
        }
    }
    findings
}
