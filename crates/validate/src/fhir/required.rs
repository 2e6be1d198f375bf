//! Pack `fhir-r4`, element level: the elements R4 makes required (min 1) in the resources
//! gateways exchange, and the codes of the required bindings every input carries (ContactPoint,
//! HumanName, Identifier, Address uses and types, Bundle.type, Bundle.entry.request.method).
//! A primitive counts as present with its value or only its `_element` extension.

use crate::report::Severity;
use serde_json::Value;

/// (resource type, path of the element holding it within the resource, required element).
/// `[x]` is a choice: any `name` + type (`medicationCodeableConcept`).
const REQUIRED: &[(&str, &str, &str)] = &[
    ("AllergyIntolerance", "", "patient"),
    ("AllergyIntolerance", "reaction", "manifestation"),
    ("Appointment", "", "status"),
    ("Appointment", "", "participant"),
    ("Appointment", "participant", "status"),
    ("Bundle", "", "type"),
    ("Bundle", "entry.request", "method"),
    ("Bundle", "entry.request", "url"),
    ("CarePlan", "", "status"),
    ("CarePlan", "", "intent"),
    ("CarePlan", "", "subject"),
    ("Composition", "", "status"),
    ("Composition", "", "type"),
    ("Composition", "", "date"),
    ("Composition", "", "author"),
    ("Composition", "", "title"),
    ("Condition", "", "subject"),
    ("Consent", "", "status"),
    ("Consent", "", "scope"),
    ("Consent", "", "category"),
    ("Coverage", "", "status"),
    ("Coverage", "", "beneficiary"),
    ("Coverage", "", "payor"),
    ("DiagnosticReport", "", "status"),
    ("DiagnosticReport", "", "code"),
    ("DocumentReference", "", "status"),
    ("DocumentReference", "", "content"),
    ("DocumentReference", "content", "attachment"),
    ("Encounter", "", "status"),
    ("Encounter", "", "class"),
    ("Goal", "", "lifecycleStatus"),
    ("Goal", "", "description"),
    ("Goal", "", "subject"),
    ("Immunization", "", "status"),
    ("Immunization", "", "vaccineCode"),
    ("Immunization", "", "patient"),
    ("Immunization", "", "occurrence[x]"),
    ("MedicationRequest", "", "status"),
    ("MedicationRequest", "", "intent"),
    ("MedicationRequest", "", "medication[x]"),
    ("MedicationRequest", "", "subject"),
    ("MedicationStatement", "", "status"),
    ("MedicationStatement", "", "medication[x]"),
    ("MedicationStatement", "", "subject"),
    ("MessageHeader", "", "event[x]"),
    ("MessageHeader", "", "source"),
    ("MessageHeader", "source", "endpoint"),
    ("MessageHeader", "destination", "endpoint"),
    ("Observation", "", "status"),
    ("Observation", "", "code"),
    ("Observation", "component", "code"),
    ("Patient", "link", "other"),
    ("Patient", "link", "type"),
    ("Patient", "communication", "language"),
    ("Procedure", "", "status"),
    ("Procedure", "", "subject"),
    ("Provenance", "", "target"),
    ("Provenance", "", "recorded"),
    ("Provenance", "", "agent"),
    ("Provenance", "agent", "who"),
    ("RelatedPerson", "", "patient"),
    ("ServiceRequest", "", "status"),
    ("ServiceRequest", "", "intent"),
    ("ServiceRequest", "", "subject"),
    ("Task", "", "status"),
    ("Task", "", "intent"),
];

/// (the element's parent key, the element, its codes): required bindings of common data types.
const CODES: &[(&str, &str, &[&str])] = &[
    ("telecom", "system", &["phone", "fax", "email", "pager", "url", "sms", "other"]),
    ("telecom", "use", &["home", "work", "temp", "old", "mobile"]),
    ("name", "use", &["usual", "official", "temp", "nickname", "anonymous", "old", "maiden"]),
    ("identifier", "use", &["usual", "official", "temp", "secondary", "old"]),
    ("address", "use", &["home", "work", "temp", "old", "billing"]),
    ("address", "type", &["postal", "physical", "both"]),
    ("request", "method", &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]),
];

const BUNDLE_TYPES: &[&str] = &["document", "message", "transaction", "transaction-response", "batch", "batch-response", "history", "searchset", "collection"];

fn present(object: &serde_json::Map<String, Value>, element: &str) -> bool {
    match element.strip_suffix("[x]") {
        Some(choice) => object.keys().any(|k| k.strip_prefix(choice).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))),
        None => object.contains_key(element) || object.contains_key(&format!("_{element}")),
    }
}

/// The objects reached from `resource` by a dotted path (arrays walked), with their FHIRPath.
fn objects_at<'v>(resource: &'v Value, at: &str, path: &str) -> Vec<(String, &'v serde_json::Map<String, Value>)> {
    let mut current: Vec<(String, &Value)> = vec![(at.to_owned(), resource)];
    for step in path.split('.').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for (p, v) in current {
            match v.get(step) {
                Some(Value::Array(items)) => next.extend(items.iter().enumerate().map(|(i, item)| (format!("{p}.{step}[{i}]"), item))),
                Some(item) => next.push((format!("{p}.{step}"), item)),
                None => {}
            }
        }
        current = next;
    }
    current.into_iter().filter_map(|(p, v)| v.as_object().map(|o| (p, o))).collect()
}

/// Required elements and bound codes of one resource at FHIRPath `at`.
pub fn check(resource: &Value, at: &str, push: &mut dyn FnMut(&'static str, Severity, String, String)) {
    let kind = resource.get("resourceType").and_then(Value::as_str).unwrap_or_default();
    for (_, path, element) in REQUIRED.iter().filter(|(k, ..)| *k == kind) {
        for (place, object) in objects_at(resource, at, path) {
            if !present(object, element) {
                push("fhir.element.required", Severity::Error, format!("{place}.{element}"), format!("{kind} requires {element} here (min 1 in R4)"));
            }
        }
    }
    if kind == "Bundle"
        && let Some(t) = resource.get("type").and_then(Value::as_str)
        && !BUNDLE_TYPES.contains(&t)
    {
        push("fhir.code.value", Severity::Error, format!("{at}.type"), format!("{t:?} is not a Bundle.type code"));
    }
}

/// The bound codes wherever their data type appears (`parent` is the key holding the object).
pub fn check_codes(parent: &str, object: &serde_json::Map<String, Value>, path: &str, push: &mut dyn FnMut(&'static str, Severity, String, String)) {
    for (holder, element, codes) in CODES.iter().filter(|(holder, ..)| *holder == parent) {
        if let Some(Value::String(code)) = object.get(*element)
            && !codes.contains(&code.as_str())
        {
            push("fhir.code.value", Severity::Error, format!("{path}.{element}"), format!("{code:?} is not a {holder}.{element} code ({})", codes.join(", ")));
        }
    }
}
