//! `recordTarget/patientRole` → the model patient: identifiers classified by root through the
//! model's identity rules, names by CI-SIS qualifier (BR birth, CL/SP used), and the INS traits
//! checked as the CI-SIS minimal-structure rule requires.

use crate::reader::RawPatient;
use passerelle_model::{
    Address, Authority, ContactPoint, HumanName, IdentifierKind, InsTraits, Issue, NameUse, PartialDateTime, Patient, Sex, apply_identity_rules, classify,
};

const PATIENT: &str = "/ClinicalDocument/recordTarget/patientRole/patient";

fn sex(code: &str) -> Option<Sex> {
    match code {
        "M" => Some(Sex::Male),
        "F" => Some(Sex::Female),
        "U" | "UN" => Some(Sex::Unknown),
        _ => None,
    }
}

pub fn into_patient(raw: &RawPatient, issues: &mut Vec<Issue>) -> Patient {
    let mut p = Patient::default();
    for id in &raw.ids {
        let Some(value) = id.extension.as_deref().filter(|v| !v.is_empty()) else {
            issues.push(
                Issue::warning("id-without-extension", "patientRole/id without @extension ignored").at_path("/ClinicalDocument/recordTarget/patientRole/id"),
            );
            continue;
        };
        // An INS root means an INS (the CDA II carries no type code); any other root is the
        // assigning authority of a local identifier, unless the model knows it as national.
        let is_ins_root = IdentifierKind::ins_for_oid(&id.root).is_some();
        let type_code = if is_ins_root { "INS" } else { "PI" };
        let (identifier, issue) =
            classify(value, Authority { oid: Some(&id.root), type_code: Some(type_code), authority_type: Some("ISO"), ..Authority::default() });
        issues.extend(issue.map(|i| i.at_path("/ClinicalDocument/recordTarget/patientRole/id")));
        p.identifiers.push(identifier);
    }
    let part = |family: bool, qualifiers: &[&str]| {
        raw.names.iter().find(|n| n.family == family && n.qualifier.as_deref().is_some_and(|q| qualifiers.contains(&q))).map(|n| n.text.clone())
    };
    let unqualified_given: Vec<&str> = raw.names.iter().filter(|n| !n.family && n.qualifier.is_none()).map(|n| n.text.as_str()).collect();
    let birth_family = part(true, &["BR"]).or_else(|| raw.names.iter().find(|n| n.family && n.qualifier.is_none()).map(|n| n.text.clone()));
    let first_birth_given = part(false, &["BR"]).or_else(|| unqualified_given.first().map(|g| (*g).to_owned()));
    if birth_family.is_some() || first_birth_given.is_some() {
        p.names.push(HumanName {
            name_use: Some(NameUse::Birth),
            family: birth_family.clone(),
            given: first_birth_given.iter().cloned().collect(),
            ..HumanName::default()
        });
    }
    let used_family = part(true, &["CL", "SP"]);
    let used_given = part(false, &["CL"]);
    if used_family.is_some() || used_given.is_some() {
        p.names.push(HumanName { name_use: Some(NameUse::Used), family: used_family, given: used_given.into_iter().collect(), ..HumanName::default() });
    }
    p.sex = raw.gender.as_deref().and_then(sex);
    if raw.gender.is_some() && p.sex.is_none() {
        issues.push(
            Issue::warning("bad-value", "administrativeGenderCode outside M, F, U")
                .at_path("/ClinicalDocument/recordTarget/patientRole/patient/administrativeGenderCode/@code"),
        );
    }
    p.birth_date = raw.birth_time.as_deref().and_then(PartialDateTime::parse_hl7);
    if let Some(cog) = raw.birthplace_county.clone().filter(|c| !c.is_empty()) {
        p.addresses.push(Address { kind: Some("BDL".into()), cog: Some(cog), ..Address::default() });
    }
    for (usage, value) in &raw.telecoms {
        let (system, value) = match value.split_once(':') {
            Some(("tel", v)) => ("phone", v),
            Some(("fax", v)) => ("fax", v),
            Some(("mailto", v)) => ("email", v),
            _ => ("other", value.as_str()),
        };
        let usage = match usage.as_deref() {
            Some("HP" | "H") => Some("home"),
            Some("WP") => Some("work"),
            Some("MC") => Some("mobile"),
            _ => None,
        };
        p.telecoms.push(ContactPoint { system: system.into(), usage: usage.map(str::to_owned), value: value.to_owned() });
    }
    // CDA carries no identity reliability: an INS in the header is read as validated, as ANS's
    // CDA → FHIR mapping does; the key and the rules of the model still apply.
    if p.identifiers.iter().any(|i| i.kind.is_ins()) {
        p.trust.push_code("VALI");
    }
    issues.extend(apply_identity_rules(&mut p).into_iter().map(|i| i.at_path("/ClinicalDocument/recordTarget/patientRole/id")));
    if p.ins().is_some() {
        let traits = InsTraits {
            birth_family_name: part(true, &["BR"]).unwrap_or_default(),
            first_birth_given_name: part(false, &["BR"]).unwrap_or_default(),
            birth_given_names: unqualified_given.join(" "),
            birth_date: raw.birth_time.clone(),
            sex: raw.gender.clone(),
            birth_place_cog: raw.birthplace_county.clone(),
        };
        let missing = [
            (traits.birth_family_name.is_empty(), "name/family[@qualifier='BR']"),
            (traits.first_birth_given_name.is_empty(), "name/given[@qualifier='BR']"),
            (traits.birth_given_names.is_empty(), "name/given (the list of birth given names)"),
            (traits.birth_date.is_none(), "birthTime"),
            (traits.sex.is_none(), "administrativeGenderCode"),
            (traits.birth_place_cog.is_none(), "birthplace/place/addr/county"),
        ];
        for (absent, what) in missing {
            if absent {
                issues.push(Issue::warning("ins-traits-incomplete", format!("INS without its trait {what} (CI-SIS minimal structure)")).at_path(PATIENT));
            }
        }
        p.ins_traits = Some(traits);
    }
    p
}
