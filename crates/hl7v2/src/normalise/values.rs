//! Coded and typed HL7 v2 values: CE/CWE/CNE into codes with URI systems, OBX-5 by its OBX-2
//! type (NM, SN, CE/CWE, ST/TX/FT, DT/TS/DTM, TM), NM with its OBX-6 unit.

use crate::tokenizer::Field;
use passerelle_model::{Code, Decimal, Issue, IssueLocation, ObservationValue, PartialDateTime, Quantity};

/// The URI of an HL7 v2 coding system name (HL7 table 0396), an OID as `urn:oid:`, or the name
/// as it was sent when it is neither (a local table).
pub fn system_uri(name: &str) -> String {
    let known = match name {
        "LN" | "LOINC" => "http://loinc.org",
        "SCT" | "SNM" | "SNOMED" | "SNM3" => "http://snomed.info/sct",
        "UCUM" | "ANS+" | "ISO+" => "http://unitsofmeasure.org",
        "CVX" | "HL70292" => "http://hl7.org/fhir/sid/cvx",
        "MVX" | "HL70227" => "http://terminology.hl7.org/CodeSystem/MVX",
        "I10" | "ICD10" => "http://hl7.org/fhir/sid/icd-10",
        "I9CDX" | "I9C" => "http://hl7.org/fhir/sid/icd-9-cm",
        "MDC" => "urn:iso:std:iso:11073:10101",
        "NCIT" => "http://ncimeta.nci.nih.gov",
        "NDC" => "http://hl7.org/fhir/sid/ndc",
        "CPT" | "C4" => "http://www.ama-assn.org/go/cpt",
        "CIM10" => "https://smt.esante.gouv.fr/terminologie-cim-10/",
        "CCAM" => "https://smt.esante.gouv.fr/terminologie-ccam/",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    if let Some(table) = name.strip_prefix("HL7").filter(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit())) {
        return format!("http://terminology.hl7.org/CodeSystem/v2-{table}");
    }
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit() || b == b'.') && name.contains('.') {
        return format!("urn:oid:{name}");
    }
    name.to_owned()
}

/// A CE/CWE/CNE: the primary coding (components 1–3), then the alternate one (4–6).
pub fn codes(f: Field<'_>) -> Vec<Code> {
    let c = f.component_array::<9>();
    let mut out = Vec::new();
    for base in [0, 3] {
        let (code, display, system) = (c[base].text(), c[base + 1].string(), c[base + 2].text());
        if !code.is_empty() {
            out.push(Code { code: code.into_owned(), system: system_uri(&system), display });
        } else if let Some(text) = display.filter(|_| base == 0) {
            // Text only: the display carries it (a FHIR CodeableConcept.text).
            out.push(Code { code: String::new(), system: String::new(), display: Some(text) });
        }
    }
    if out.is_empty()
        && let Some(text) = c[8].string()
    {
        out.push(Code { code: String::new(), system: String::new(), display: Some(text) });
    }
    out
}

/// The first coding of a CE/CWE, when it has one.
pub fn code(f: Field<'_>) -> Option<Code> {
    codes(f).into_iter().next()
}

/// OBX-6 as a unit: UCUM when the sender says so or names none.
pub fn unit(f: Field<'_>) -> Option<Code> {
    let code = f.component(1).text();
    if code.is_empty() {
        return None;
    }
    let system = f.component(3).text();
    let system = if system.is_empty() { "http://unitsofmeasure.org".to_owned() } else { system_uri(&system) };
    Some(Code { code: code.into_owned(), system, display: f.component(2).string() })
}

fn quantity(text: &str, comparator: Option<&str>, unit: Option<Code>) -> Option<Quantity> {
    Some(Quantity { value: Decimal::parse(text)?, comparator: comparator.map(str::to_owned), unit })
}

/// `HHMM[SS[.S]]` → `HH:MM:SS`.
fn time(text: &str) -> Option<String> {
    let digits = text.split(['+', '-', '.']).next().unwrap_or("");
    let b = digits.as_bytes();
    if !matches!(b.len(), 2 | 4 | 6) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let part = |i: usize| digits.get(i..i + 2).unwrap_or("00");
    let (h, m, s) = (part(0), part(2), part(4));
    (h < "24" && m < "60" && s < "60").then(|| format!("{h}:{m}:{s}"))
}

/// SN `comparator^num1^separator^num2`: a range, a ratio, or a quantity with its comparator.
fn structured_numeric(f: Field<'_>, unit: Option<Code>) -> Option<ObservationValue> {
    let (comparator, n1, separator, n2) = (f.component(1).text(), f.component(2).text(), f.component(3).text(), f.component(4).text());
    match separator.as_ref() {
        "-" => Some(ObservationValue::Range { low: quantity(&n1, None, unit.clone()), high: quantity(&n2, None, unit) }),
        ":" | "/" => Some(ObservationValue::Ratio { numerator: quantity(&n1, None, unit.clone())?, denominator: quantity(&n2, None, None)? }),
        "" if n2.is_empty() => {
            let comparator = match comparator.as_ref() {
                "" | "=" => None,
                c @ ("<" | "<=" | ">" | ">=") => Some(c),
                _ => return None,
            };
            quantity(&n1, comparator, unit).map(ObservationValue::Quantity)
        }
        _ => None,
    }
}

/// OBX-5 (every repetition for text) read as OBX-2 says, with OBX-6 as the unit of a number. A
/// value that does not fit its declared type is kept as text with a warning, never dropped.
pub fn observation_value(obx2: &str, obx5: Field<'_>, obx6: Field<'_>, at: &IssueLocation, issues: &mut Vec<Issue>) -> ObservationValue {
    if obx5.is_empty() {
        return ObservationValue::None;
    }
    let first = obx5.first_repetition();
    let typed = match obx2 {
        "NM" => quantity(&first.text(), None, unit(obx6)).map(ObservationValue::Quantity),
        "SN" => structured_numeric(first, unit(obx6)),
        "CE" | "CWE" | "CNE" | "CF" => {
            let all: Vec<Code> = obx5.repetitions().flat_map(codes).collect();
            (!all.is_empty()).then_some(ObservationValue::Coded(all))
        }
        "DT" | "TS" | "DTM" => PartialDateTime::parse_hl7(&first.component(1).text()).map(ObservationValue::DateTime),
        "TM" => time(&first.text()).map(ObservationValue::Time),
        _ => None,
    };
    if let Some(v) = typed {
        return v;
    }
    // ST, TX, FT (repetitions are lines), and a value that does not parse as its type.
    let text: Vec<String> = obx5.repetitions().map(|r| r.text_with(issues).into_owned()).collect();
    if !matches!(obx2, "ST" | "TX" | "FT" | "") {
        issues.push(Issue::warning("bad-value", format!("OBX-5 is not a valid {obx2}: kept as text")).at(at.clone()));
    }
    ObservationValue::Text(text.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{ParseOptions, parse};

    fn value(obx: &str) -> (ObservationValue, Vec<Issue>) {
        let raw = format!("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\r{obx}\r");
        let msg = parse(raw.as_bytes(), &ParseOptions::default()).expect("parse").value;
        let seg = msg.segment("OBX").expect("obx");
        let mut issues = Vec::new();
        let v = observation_value(&seg.field(2).text(), seg.field(5), seg.field(6), &IssueLocation::field("OBX", 1, 5), &mut issues);
        (v, issues)
    }

    #[test]
    fn obx_values_keep_their_types() {
        let ObservationValue::Quantity(q) = value("OBX|1|NM|2345-7^Glucose^LN||05.40|mmol/L^^UCUM").0 else { panic!("nm") };
        assert_eq!((q.value.as_str(), q.unit.map(|u| u.system)), ("5.40", Some("http://unitsofmeasure.org".to_owned())));
        let ObservationValue::Quantity(q) = value("OBX|1|SN|x||<^0.5|g/L").0 else { panic!("sn") };
        assert_eq!((q.value.as_str(), q.comparator.as_deref()), ("0.5", Some("<")));
        assert!(matches!(value("OBX|1|SN|x||^1^:^128").0, ObservationValue::Ratio { .. }));
        assert!(matches!(value("OBX|1|SN|x||^10^-^20|mg").0, ObservationValue::Range { low: Some(_), high: Some(_) }));
        let ObservationValue::Coded(c) = value("OBX|1|CWE|x||260373001^Detected^SCT").0 else { panic!("cwe") };
        assert_eq!(c[0].system, "http://snomed.info/sct");
        let ObservationValue::DateTime(t) = value("OBX|1|DTM|x||202403051230+0100").0 else { panic!("dtm") };
        assert_eq!(t.offset_minutes, Some(60));
        assert_eq!(value("OBX|1|TM|x||0930").0, ObservationValue::Time("09:30:00".into()));
        assert_eq!(value("OBX|1|FT|x||line one\\.br\\two~three").0, ObservationValue::Text("line one\ntwo\nthree".into()));
    }

    #[test]
    fn a_value_that_does_not_fit_its_type_is_kept_as_text_with_a_warning() {
        let (v, issues) = value("OBX|1|NM|x||positive");
        assert_eq!(v, ObservationValue::Text("positive".into()));
        assert_eq!(issues[0].code, "bad-value");
    }

    #[test]
    fn coding_systems_become_uris() {
        assert_eq!(system_uri("HL70078"), "http://terminology.hl7.org/CodeSystem/v2-0078");
        assert_eq!(system_uri("1.2.250.1.213.2.5"), "urn:oid:1.2.250.1.213.2.5");
        assert_eq!(system_uri("L"), "L");
    }
}
