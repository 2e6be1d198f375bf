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
    /// ZFA-2, as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_date: Option<String>,
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
    /// The ZFA-9 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotCollected => "NA",
            Self::Opposed => "IO",
            Self::NotOpposed => "INO",
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
    /// The ZFA-11 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotCollected => "NA",
            Self::Refuses => "INC",
            Self::Consents => "IC",
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

/// The MetaDMPMSS flags we keep, in the volet's order, with their labels (`meta-dmp-mss.md`).
pub const SHARING_FLAGS: [(&str, &str); 6] = [
    ("MASQUE_PS", "Masque aux professionnels de sante"),
    ("INVISIBLE_PATIENT", "Document non visible par le patient"),
    ("INVISIBLE_REP_LEGAUX", "Non visible par les representants legaux"),
    ("DESTDMP", "Destinataire DMP"),
    ("DESTMSSANTEPS", "Destinataire MSSante PS"),
    ("DESTMSSANTEPAT", "Destinataire MSSante patient"),
];

impl DocumentSharing {
    fn slots(&self) -> [Option<bool>; 6] {
        [
            self.hidden_from_professionals,
            self.invisible_to_patient,
            self.invisible_to_legal_representatives,
            self.to_dmp,
            self.to_mssante_professionals,
            self.to_mssante_patient,
        ]
    }

    fn slots_mut(&mut self) -> [&mut Option<bool>; 6] {
        [
            &mut self.hidden_from_professionals,
            &mut self.invisible_to_patient,
            &mut self.invisible_to_legal_representatives,
            &mut self.to_dmp,
            &mut self.to_mssante_professionals,
            &mut self.to_mssante_patient,
        ]
    }

    fn index(code: &str) -> Option<usize> {
        SHARING_FLAGS.iter().position(|(c, _)| *c == code)
    }

    /// The value of one MetaDMPMSS flag by its code, when the sender gave it.
    pub fn get(&self, code: &str) -> Option<bool> {
        Self::index(code).and_then(|i| self.slots()[i])
    }

    /// Records one MetaDMPMSS flag; false when the code is not one we keep.
    pub fn set(&mut self, code: &str, value: bool) -> bool {
        let Some(i) = Self::index(code) else { return false };
        *self.slots_mut()[i] = Some(value);
        true
    }

    /// The flags the sender gave, in the volet's order: (code, label, value).
    pub fn given(&self) -> impl Iterator<Item = (&'static str, &'static str, bool)> {
        SHARING_FLAGS.into_iter().zip(self.slots()).filter_map(|((code, label), v)| v.map(|v| (code, label, v)))
    }
}
