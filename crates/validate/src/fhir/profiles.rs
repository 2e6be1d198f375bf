//! Packs `fr-core` (FR Core 2.1.0, profile fr-core-patient-ins; ../shared/docs/domain-fr-be.md
//! §1.5) and `be-core` (BE core 2.1.2, BePatient SSIN slice; §5): the Patient rules a French or
//! Belgian receiver depends on. A Patient with an INS identifier is held to the INS profile.

use crate::report::{Finding, PackId, Severity};
use serde_json::Value;

pub const FR_CORE: PackId = PackId { name: "fr-core", version: "2.1.0" };
pub const BE_CORE: PackId = PackId { name: "be-core", version: "2.1.2" };

pub const FR_RULES: &[(&str, &str)] = &[
    (
        "frcore.patient.ins-identifier",
        "an INS identifier's system (urn:oid:1.2.250.1.213.1.4.8/.9/.10/.11) and type (fr-core-cs-v2-0203 INS-NIR, INS-NIA, INS-NIR-TEST, INS-NIR-DEMO; NH for an NSS) agree",
    ),
    ("frcore.patient.identity-reliability", "a Patient with an INS has the fr-core-identity-reliability extension"),
    (
        "frcore.patient.ins-traits",
        "a Patient with an INS has birthDate, gender, an official name with exactly one given and the birth list of given names, and a birthPlace with its INSEE code",
    ),
];

pub const BE_RULES: &[(&str, &str)] = &[
    (
        "becore.patient.ssin-system",
        "an SSIN (the NISS OID 2.16.840.1.113883.3.6777.5.1, an ehealth.fgov.be system, or type SB on a BePatient) uses the BE core NamingSystem ssin as system",
    ),
    ("becore.patient.ssin-format", "an SSIN value is 11 digits without punctuation (be-inv-SSIN)"),
];

const FR_CS_0203: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const EXT_IDENTITY_RELIABILITY: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability";
const EXT_BIRTH_LIST_GIVEN: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name";
const EXT_BIRTH_PLACE: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";
const EXT_INSEE_CODE: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";
const SSIN_SYSTEM: &str = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin";
const BE_PATIENT: &str = "https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/be-patient";
const SSIN_OID: &str = "urn:oid:2.16.840.1.113883.3.6777.5.1";

/// INS system → the type codes FR Core allows for it.
const INS_SYSTEMS: &[(&str, &[&str])] = &[
    ("urn:oid:1.2.250.1.213.1.4.8", &["INS-NIR", "NH"]),
    ("urn:oid:1.2.250.1.213.1.4.9", &["INS-NIA"]),
    ("urn:oid:1.2.250.1.213.1.4.10", &["INS-NIR-TEST"]),
    ("urn:oid:1.2.250.1.213.1.4.11", &["INS-NIR-DEMO"]),
];

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn codes(identifier: &Value) -> Vec<(&str, &str)> {
    identifier
        .get("type")
        .map_or(&[][..], |t| array(t, "coding"))
        .iter()
        .map(|c| (str_of(c, "system").unwrap_or_default(), str_of(c, "code").unwrap_or_default()))
        .collect()
}

fn has_extension(v: &Value, url: &str) -> Option<usize> {
    array(v, "extension").iter().position(|e| str_of(e, "url") == Some(url))
}

/// Pack `fr-core` over one Patient at FHIRPath `path`.
pub fn check_fr(patient: &Value, path: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push = |rule, at: String, message: String| findings.push(Finding::new(rule, Severity::Error, super::at(at), message, FR_CORE.name));
    let mut has_ins = false;
    for (i, id) in array(patient, "identifier").iter().enumerate() {
        let at = format!("{path}.identifier[{i}]");
        let system = str_of(id, "system").unwrap_or_default();
        let typed: Vec<&str> = codes(id).into_iter().filter(|(s, c)| *s == FR_CS_0203 || (*s == V2_0203 && *c == "NH")).map(|(_, c)| c).collect();
        let ins_type = typed.iter().find(|c| c.starts_with("INS-"));
        match INS_SYSTEMS.iter().find(|(s, _)| *s == system) {
            Some((_, allowed)) => {
                if !typed.iter().any(|c| allowed.contains(c)) {
                    push("frcore.patient.ins-identifier", format!("{at}.type"), format!("system {system} needs type {} of {FR_CS_0203}", allowed[0]));
                }
                // A deactivated INS (`old`, after an A47) does not make the Patient an INS patient.
                has_ins |= ins_type.is_some() && str_of(id, "use") != Some("old");
            }
            None if ins_type.is_some() => {
                let code = ins_type.copied().unwrap_or_default();
                push("frcore.patient.ins-identifier", format!("{at}.system"), format!("type {code} with system {system:?}, not an INS OID"));
                has_ins = true;
            }
            None => {}
        }
    }
    if !has_ins {
        return findings;
    }
    if has_extension(patient, EXT_IDENTITY_RELIABILITY).is_none() {
        push("frcore.patient.identity-reliability", format!("{path}.extension"), "an INS without the identity-reliability extension".into());
    }
    let mut missing = Vec::new();
    if str_of(patient, "birthDate").is_none() {
        missing.push("birthDate");
    }
    if str_of(patient, "gender").is_none() {
        missing.push("gender");
    }
    match array(patient, "name").iter().find(|n| str_of(n, "use") == Some("official")) {
        None => missing.push("an official name"),
        Some(name) => {
            if array(name, "given").len() != 1 {
                missing.push("exactly one given in the official name");
            }
            if has_extension(name, EXT_BIRTH_LIST_GIVEN).is_none() {
                missing.push("the birth list of given names");
            }
        }
    }
    let insee =
        has_extension(patient, EXT_BIRTH_PLACE).and_then(|i| array(patient, "extension")[i].get("valueAddress")).and_then(|a| has_extension(a, EXT_INSEE_CODE));
    if insee.is_none() {
        missing.push("a birthPlace with its INSEE code");
    }
    if !missing.is_empty() {
        push("frcore.patient.ins-traits", path.to_owned(), format!("an INS is given without {}", missing.join(", ")));
    }
    findings
}

/// Pack `be-core` over one Patient at FHIRPath `path`.
pub fn check_be(patient: &Value, path: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let be_patient = patient.get("meta").map_or(&[][..], |m| array(m, "profile")).iter().any(|p| p.as_str().is_some_and(|p| p.starts_with(BE_PATIENT)));
    for (i, id) in array(patient, "identifier").iter().enumerate() {
        let at = format!("{path}.identifier[{i}]");
        let system = str_of(id, "system").unwrap_or_default();
        // Type SB means an SSIN only on a Patient that claims BePatient (other realms use SB too).
        let typed_sb = be_patient && codes(id).iter().any(|(s, c)| *s == V2_0203 && *c == "SB");
        let looks_belgian = system == SSIN_OID || system.contains("fgov.be") || system.to_ascii_lowercase().contains("ssin");
        if system != SSIN_SYSTEM && (typed_sb || looks_belgian) {
            let message = format!("an SSIN with system {system:?}; BE core uses {SSIN_SYSTEM}");
            findings.push(Finding::new("becore.patient.ssin-system", Severity::Error, super::at(format!("{at}.system")), message, BE_CORE.name));
        }
        if system == SSIN_SYSTEM {
            let value = str_of(id, "value").unwrap_or_default();
            if value.len() != 11 || !value.bytes().all(|b| b.is_ascii_digit()) {
                let message = format!("an SSIN of {} characters, not 11 digits", value.chars().count());
                findings.push(Finding::new("becore.patient.ssin-format", Severity::Error, super::at(format!("{at}.value")), message, BE_CORE.name));
            }
        }
    }
    findings
}
