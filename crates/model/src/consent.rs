//! What the patient and the sender said about sharing: the DMP status and choices of PAM-FR ZFA,
//! and the per-document sharing flags of the CDA volet's MetaDMPMSS OBX. Captured for routing.

use serde::{Deserialize, Serialize};

/// ZFA-9: information of the patient and opposition to feeding the DMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedingChoice {
    /// `NA`: not collected.
    NotCollected,
    /// `IO`: informed and opposed.
    Opposed,
    /// `INO`: informed, not opposed.
    NotOpposed,
}

/// ZFA-11: information of the patient and consent to consultation of the DMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsultationChoice {
    /// `NA`: not collected.
    NotCollected,
    /// `INC`: does not consent.
    Refuses,
    /// `IC`: consents.
    Consents,
}

/// PAM-FR ZFA (DMP status), as the sender last knew it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DmpConsent {
    /// ZFA-1: `ACTIF`, `FERME`, `INEXISTANT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feeding: Option<FeedingChoice>,
    /// ZFA-10, as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feeding_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultation: Option<ConsultationChoice>,
    /// ZFA-12, as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultation_date: Option<String>,
}

impl FeedingChoice {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "NA" => Some(Self::NotCollected),
            "IO" => Some(Self::Opposed),
            "INO" => Some(Self::NotOpposed),
            _ => None,
        }
    }
}

impl ConsultationChoice {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "NA" => Some(Self::NotCollected),
            "INC" => Some(Self::Refuses),
            "IC" => Some(Self::Consents),
            _ => None,
        }
    }
}

/// MetaDMPMSS flags of one document (`Y`/`N`; absent when the sender did not say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentSharing {
    /// `MASQUE_PS`: hidden from professionals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_from_professionals: Option<bool>,
    /// `INVISIBLE_PATIENT`: not visible to the patient yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invisible_to_patient: Option<bool>,
    /// `INVISIBLE_REP_LEGAUX`: not visible to the legal representatives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invisible_to_legal_representatives: Option<bool>,
    /// `DESTDMP`: to be sent to the DMP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_dmp: Option<bool>,
    /// `DESTMSSANTEPS`: to be sent to professionals' MSSanté mailboxes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_mssante_professionals: Option<bool>,
    /// `DESTMSSANTEPAT`: to be sent to the patient's MSSanté mailbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_mssante_patient: Option<bool>,
}

impl DocumentSharing {
    /// The value of one MetaDMPMSS flag by its code, when the sender gave it.
    pub fn get(&self, code: &str) -> Option<bool> {
        match code {
            "MASQUE_PS" => self.hidden_from_professionals,
            "INVISIBLE_PATIENT" => self.invisible_to_patient,
            "INVISIBLE_REP_LEGAUX" => self.invisible_to_legal_representatives,
            "DESTDMP" => self.to_dmp,
            "DESTMSSANTEPS" => self.to_mssante_professionals,
            "DESTMSSANTEPAT" => self.to_mssante_patient,
            _ => None,
        }
    }

    /// Records one MetaDMPMSS flag; false when the code is not one we keep.
    pub fn set(&mut self, code: &str, value: bool) -> bool {
        let slot = match code {
            "MASQUE_PS" => &mut self.hidden_from_professionals,
            "INVISIBLE_PATIENT" => &mut self.invisible_to_patient,
            "INVISIBLE_REP_LEGAUX" => &mut self.invisible_to_legal_representatives,
            "DESTDMP" => &mut self.to_dmp,
            "DESTMSSANTEPS" => &mut self.to_mssante_professionals,
            "DESTMSSANTEPAT" => &mut self.to_mssante_patient,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}
