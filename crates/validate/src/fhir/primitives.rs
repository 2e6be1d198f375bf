//! R4 JSON rules on values (https://hl7.org/fhir/R4/json.html, datatypes.html): no null, empty
//! string, empty array or empty object anywhere; the elements most inputs carry have their
//! primitive type (a resource `id`, `birthDate`, `gender`, `active`, instants, dateTimes, booleans,
//! integers, and the strings `system`, `display`, `family`, `unit`, `reference`, `url`, `status`).

use crate::report::Severity;
use serde_json::Value;

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    match b.len() {
        4 => digits(0..4),
        7 => digits(0..4) && b[4] == b'-' && digits(5..7),
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        _ => false,
    }
}

/// `YYYY[-MM[-DD[Thh:mm:ss[.s…](Z|±hh:mm)]]]`; `instant` needs the time and zone.
fn is_date_time(s: &str, instant: bool) -> bool {
    let Some((date, time)) = s.split_once('T') else { return !instant && is_date(s) };
    if date.len() != 10 || !is_date(date) {
        return false;
    }
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => return false,
    };
    let c = clock.as_bytes();
    let hms = c.len() >= 8 && c[2] == b':' && c[5] == b':' && [0, 1, 3, 4, 6, 7].iter().all(|i| c[*i].is_ascii_digit());
    let fraction = c.len() == 8 || (c.len() > 9 && c[8] == b'.' && c[9..].iter().all(u8::is_ascii_digit));
    let z = zone.as_bytes();
    let zone_ok = zone == "Z" || (z.len() == 6 && z[3] == b':' && [1, 2, 4, 5].iter().all(|i| z[*i].is_ascii_digit()));
    hms && fraction && zone_ok
}

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The type an element of this name has wherever it appears in R4, and its check.
/// A primitive type's name and its check.
type Primitive = (&'static str, fn(&Value) -> bool);

fn expected(key: &str) -> Option<Primitive> {
    Some(match key {
        "birthDate" => ("date", |v| v.as_str().is_some_and(is_date)),
        "gender" => ("code (male, female, other, unknown)", |v| matches!(v.as_str(), Some("male" | "female" | "other" | "unknown"))),
        "lastUpdated" | "issued" | "timestamp" => ("instant", |v| v.as_str().is_some_and(|s| is_date_time(s, true))),
        "deceasedDateTime" | "effectiveDateTime" | "valueDateTime" | "recordedDate" | "authoredOn" | "onsetDateTime" => {
            ("dateTime", |v| v.as_str().is_some_and(|s| is_date_time(s, false)))
        }
        "active" | "deceasedBoolean" | "multipleBirthBoolean" | "valueBoolean" | "experimental" => ("boolean", Value::is_boolean),
        "multipleBirthInteger" | "valueInteger" | "sequence" | "rank" => ("integer", |v| v.as_i64().is_some()),
        "valueDecimal" => ("decimal", Value::is_number),
        "valueId" => ("id", |v| v.as_str().is_some_and(is_id)),
        "system" | "display" | "family" | "unit" | "reference" | "url" | "status" => ("string", Value::is_string),
        _ => return None,
    })
}

/// Attachment holders: their `url` is a `url` (with a scheme), where an Extension's is a `uri`.
const ATTACHMENTS: &[&str] = &["attachment", "presentedForm", "photo", "content"];

/// A URL (RFC 1738): `scheme://…`, or `mailto:` / `tel:`; a URN (`urn:oid:…`) is a uri, not a url.
fn is_url(s: &str) -> bool {
    let scheme_ok = |scheme: &str| !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    s.split_once("://").is_some_and(|(scheme, rest)| scheme_ok(scheme) && !rest.is_empty()) || s.starts_with("mailto:") || s.starts_with("tel:")
}

/// The pack's value rules over the whole file.
pub fn check(root: &Value, push: &mut dyn FnMut(&'static str, Severity, String, String)) {
    let start = root.get("resourceType").and_then(Value::as_str).unwrap_or("Resource").to_owned();
    // (FHIRPath, key of the value, key of the object holding it, value)
    let mut stack: Vec<(String, &str, &str, &Value)> = vec![(start, "", "", root)];
    while let Some((path, key, parent, value)) = stack.pop() {
        let empty = match value {
            Value::Null => Some("null"),
            Value::String(s) if s.trim().is_empty() => Some("an empty string"),
            Value::Array(a) if a.is_empty() => Some("an empty array"),
            Value::Object(o) if o.is_empty() => Some("an empty object"),
            _ => None,
        };
        if let Some(what) = empty {
            push("fhir.json.empty", Severity::Error, path, format!("{what}: R4 JSON leaves out an element that has no value"));
            continue;
        }
        if let Some((type_name, ok)) = expected(key)
            && !matches!(value, Value::Array(_))
            && !ok(value)
        {
            push("fhir.value.type", Severity::Error, path.clone(), format!("{key} is not a valid {type_name}"));
        }
        let url_typed = key == "endpoint" || (key == "url" && ATTACHMENTS.contains(&parent));
        if url_typed && value.as_str().is_some_and(|s| !is_url(s)) {
            push("fhir.value.type", Severity::Error, path.clone(), format!("{key} is a url (scheme://…), not a uri such as urn:oid:"));
        }
        match value {
            Value::Object(map) => {
                // A resource's id is an `id`; an element's id is any string.
                if map.contains_key("resourceType")
                    && let Some(id) = map.get("id")
                    && !id.as_str().is_some_and(is_id)
                {
                    push("fhir.value.type", Severity::Error, format!("{path}.id"), "the resource id is not a valid id ([A-Za-z0-9-.]{1,64})".into());
                }
                super::required::check_codes(key, map, &path, push);
                stack.extend(map.iter().rev().map(|(k, v)| (format!("{path}.{k}"), k.as_str(), key, v)));
            }
            // Elements of an array keep the array's name, so `given[0]` is checked as `given`.
            Value::Array(items) => stack.extend(items.iter().enumerate().rev().map(|(i, v)| (format!("{path}[{i}]"), key, parent, v))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants() {
        assert!(is_date("1979") && is_date("1979-03") && is_date("1979-03-21"));
        assert!(!is_date("19790321") && !is_date("1979-3-21"));
        assert!(is_date_time("2026-11-20T09:30:00+01:00", true));
        assert!(is_date_time("2026-11-20T09:30:00.123Z", true));
        assert!(!is_date_time("2026-11-20", true) && is_date_time("2026-11-20", false));
        assert!(!is_date_time("2026-11-20T09:30", false));
    }
}
