//! HL7 v2 code tables read into model values and back: 0001 sex, 0200 name type (XPN-7), 0004
//! patient class.

use passerelle_model::{NameUse, PatientClass, Sex};

/// HL7 table 0001 (F, M, O, U, A, N).
pub fn sex(code: &str) -> Option<Sex> {
    match code {
        "M" => Some(Sex::Male),
        "F" => Some(Sex::Female),
        "O" | "A" => Some(Sex::Other),
        "U" | "N" => Some(Sex::Unknown),
        _ => None,
    }
}

/// XPN-7 name type (HL7 table 0200; France allows L, D, S, U).
pub fn name_use(code: &str) -> NameUse {
    match code {
        "L" => NameUse::Birth,
        "D" => NameUse::Used,
        "S" => NameUse::Pseudonym,
        "A" => NameUse::Alias,
        "M" => NameUse::Maiden,
        _ => NameUse::Unspecified,
    }
}

/// PV1-2 patient class (HL7 table 0004; PAM-FR §6.10.1 adds R and V).
pub fn patient_class(code: &str) -> Option<PatientClass> {
    Some(match code {
        "" => return None,
        "E" => PatientClass::Emergency,
        "I" => PatientClass::Inpatient,
        "O" => PatientClass::Outpatient,
        "P" => PatientClass::Preadmit,
        "R" => PatientClass::Recurring,
        "V" => PatientClass::Telemonitoring,
        "N" => PatientClass::NotApplicable,
        other => PatientClass::Other(other.to_owned()),
    })
}

/// Table 0001 code of a model sex.
pub fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "M",
        Sex::Female => "F",
        Sex::Other => "O",
        Sex::Unknown => "U",
    }
}

/// Table 0004 code of a model patient class.
pub fn patient_class_code(class: &PatientClass) -> &str {
    match class {
        PatientClass::Emergency => "E",
        PatientClass::Inpatient => "I",
        PatientClass::Outpatient => "O",
        PatientClass::Preadmit => "P",
        PatientClass::Recurring => "R",
        PatientClass::Telemonitoring => "V",
        PatientClass::NotApplicable => "N",
        PatientClass::Other(code) => code,
    }
}
