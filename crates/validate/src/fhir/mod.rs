//! FHIR R4 JSON validation: pack `fhir-r4` (the file is a resource of a known R4 type, Bundle
//! entries too, with its required elements, bound codes and primitive forms, and whether the
//! gateway's own reader accepts it), then FR Core and BE core rules
//! on every Patient ([`profiles`]). Locations are FHIRPaths (`Bundle.entry[1].resource.identifier[0]`).

pub mod primitives;
pub mod profiles;
pub mod required;

use crate::report::{Finding, Location, PackId, Severity};
use serde_json::Value;

pub const PACK: PackId = PackId { name: "fhir-r4", version: "4.0.1" };

pub const RULES: &[(&str, &str)] = &[
    ("fhir.json.readable", "the file is UTF-8 JSON holding one object"),
    ("fhir.resource.type", "resourceType names an R4 resource type (the file and each Bundle entry)"),
    ("fhir.json.bom", "no byte order mark before the JSON (RFC 8259; strict readers refuse it)"),
    ("fhir.element.required", "the elements R4 requires are present (Observation.status and code, Encounter.class, MessageHeader.source.endpoint, …)"),
    (
        "fhir.code.value",
        "codes of required bindings are of their value set (telecom system and use, name use, identifier use, address use and type, Bundle.type, request.method)",
    ),
    ("fhir.json.empty", "no null, empty string, empty array or empty object (R4 JSON leaves such elements out)"),
    ("fhir.value.type", "id, birthDate, gender, instants, dateTimes, booleans, integers, strings and urls have their R4 primitive forms"),
    ("fhir.gateway.accepts", "the gateway's FHIR reader takes the input (warning: it names what Passerelle would refuse and where)"),
];

/// A FHIRPath location (JSON carries no lines the reader keeps).
pub fn at(path: impl Into<String>) -> Location {
    Location { path: path.into(), ..Location::default() }
}

fn finding(rule: &'static str, severity: Severity, path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::new(rule, severity, at(path), message, PACK.name)
}

/// Every resource of the file with its FHIRPath: the file's own, and each Bundle entry's (nested Bundles too).
pub fn resources(root: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.get("resourceType").and_then(Value::as_str).unwrap_or("Resource").to_owned(), root)];
    while let Some((path, resource)) = stack.pop() {
        if let Some(entries) = resource.get("entry").and_then(Value::as_array)
            && resource.get("resourceType").and_then(Value::as_str) == Some("Bundle")
        {
            for (i, entry) in entries.iter().enumerate().rev() {
                if let Some(inner) = entry.get("resource") {
                    stack.push((format!("{path}.entry[{i}].resource"), inner));
                }
            }
        }
        out.push((path, resource));
    }
    out
}

/// Pack `fhir-r4` over the parsed file; `reader_error` is the gateway reader's complaint, if any.
pub fn check_r4(root: &Value, bom: bool, reader_error: Option<(&str, Option<&str>)>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if bom {
        findings.push(finding("fhir.json.bom", Severity::Warning, "/", "a UTF-8 byte order mark precedes the JSON"));
    }
    for (path, resource) in resources(root) {
        required::check(resource, &path, &mut |rule, severity, at, message| findings.push(finding(rule, severity, at, message)));
        match resource.get("resourceType") {
            Some(Value::String(t)) if passerelle_fhir::read_json::is_r4_resource_type(t) => {}
            Some(Value::String(t)) => findings.push(finding("fhir.resource.type", Severity::Error, path, format!("{t:?} is not an R4 resource type"))),
            _ => findings.push(finding("fhir.resource.type", Severity::Error, path, "no resourceType")),
        }
    }
    primitives::check(root, &mut |rule, severity, path, message| findings.push(finding(rule, severity, path, message)));
    if let Some((message, path)) = reader_error {
        findings.push(finding("fhir.gateway.accepts", Severity::Warning, path.unwrap_or("/"), format!("the gateway would refuse it: {message}")));
    }
    findings
}

/// The finding for bytes that are not one JSON object.
pub fn unreadable(message: String) -> Finding {
    finding("fhir.json.readable", Severity::Fatal, "/", message)
}
