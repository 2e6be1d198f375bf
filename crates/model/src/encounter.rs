//! The encounter: NDA (PID-18) apart from the visit number (PV1-19), class, location, doctor, times, ZBE movement.

use crate::datetime::PartialDateTime;
use crate::identifier::Identifier;
use serde::{Deserialize, Serialize};

/// PV1-2 patient class (PAM-FR §6.10.1 adds R and V).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatientClass {
    Emergency,
    Inpatient,
    Outpatient,
    Preadmit,
    Recurring,
    Telemonitoring,
    NotApplicable,
    Other(String),
}

/// PV1-3: point of care (in France PV1-3.1 = UF d'hébergement), room, bed, facility.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_of_care: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    /// Free text (PL-9; a FHIR Encounter.location display, which names the place as one string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttendingDoctor {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    /// Assigning authority of the id (XCN-9), e.g. RPPS or ASIP-SANTE-PS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

/// ZBE: the movement the message acts on (PAM-FR §6.13).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Movement {
    /// ZBE-1.1 movement id and ZBE-1.2 its namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<PartialDateTime>,
    /// ZBE-4: INSERT, UPDATE or CANCEL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// ZBE-5 = Y: historic movement.
    pub historic: bool,
    /// ZBE-6: trigger of the original movement (UPDATE / CANCEL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_trigger: Option<String>,
    /// ZBE-7.10: UF médicale code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medical_unit: Option<String>,
    /// ZBE-8.10: UF de soins code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_unit: Option<String>,
    /// ZBE-9: nature of the movement (S, H, M, L, D, SM, SH, MH, LD, HMS, C).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nature: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Encounter {
    /// PID-18 numéro de dossier administratif (type AN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nda: Option<Identifier>,
    /// PV1-19 visit number (type VN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit_number: Option<Identifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<PatientClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attending_doctor: Option<AttendingDoctor>,
    /// PV1-4 admission type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admit_time: Option<PartialDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_time: Option<PartialDateTime>,
    /// PV1-36 discharge disposition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub movement: Option<Movement>,
    /// PV2-3 admit reason (code or text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// PV2-9 expected discharge date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_discharge: Option<PartialDateTime>,
}

impl Encounter {
    /// The identifier that names this encounter: the visit number, else the NDA.
    pub fn key(&self) -> Option<&Identifier> {
        self.visit_number.as_ref().or(self.nda.as_ref())
    }
}
