//! Identity trust: PID-32 status and attributes (PAM-FR table 0445), ZFD collection details, RNIV gating of the INS.

use serde::{Deserialize, Serialize};

/// Identity status codes of HL7 table 0445 as specialised by IHE France (PAM-FR 2.11.1 §6.6.15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IdentityStatus {
    Vide,
    Prov,
    Vali,
    Doub,
    Desa,
    Dpot,
    Doua,
    Colp,
    Colv,
    Fili,
    Cach,
    Anom,
    Idver,
    Recd,
    Idra,
    Usur,
    Homd,
    Inva,
    /// A code outside table 0445, kept as received.
    Other(String),
}

impl IdentityStatus {
    /// Maps a status code; attribute codes (HOMA, DOUT, FICT) are not statuses and return `None`.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "VIDE" => Self::Vide,
            "PROV" => Self::Prov,
            "VALI" => Self::Vali,
            "DOUB" => Self::Doub,
            "DESA" => Self::Desa,
            "DPOT" => Self::Dpot,
            "DOUA" => Self::Doua,
            "COLP" => Self::Colp,
            "COLV" => Self::Colv,
            "FILI" => Self::Fili,
            "CACH" => Self::Cach,
            "ANOM" => Self::Anom,
            "IDVER" => Self::Idver,
            "RECD" => Self::Recd,
            "IDRA" => Self::Idra,
            "USUR" => Self::Usur,
            "HOMD" => Self::Homd,
            "INVA" => Self::Inva,
            "HOMA" | "DOUT" | "FICT" | "" => return None,
            other => Self::Other(other.to_owned()),
        })
    }
    pub fn code(&self) -> &str {
        match self {
            Self::Vide => "VIDE",
            Self::Prov => "PROV",
            Self::Vali => "VALI",
            Self::Doub => "DOUB",
            Self::Desa => "DESA",
            Self::Dpot => "DPOT",
            Self::Doua => "DOUA",
            Self::Colp => "COLP",
            Self::Colv => "COLV",
            Self::Fili => "FILI",
            Self::Cach => "CACH",
            Self::Anom => "ANOM",
            Self::Idver => "IDVER",
            Self::Recd => "RECD",
            Self::Idra => "IDRA",
            Self::Usur => "USUR",
            Self::Homd => "HOMD",
            Self::Inva => "INVA",
            Self::Other(c) => c,
        }
    }
}

/// Identity attributes carried in extra PID-32 repetitions (RNIV: homonym, doubtful, fictitious).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IdentityAttribute {
    Homa,
    Dout,
    Fict,
}

impl IdentityAttribute {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "HOMA" => Some(Self::Homa),
            "DOUT" => Some(Self::Dout),
            "FICT" => Some(Self::Fict),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Homa => "HOMA",
            Self::Dout => "DOUT",
            Self::Fict => "FICT",
        }
    }
}

/// Everything the sender told about how far the identity can be trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityTrust {
    /// Statuses in PID-32 (normally one).
    pub statuses: Vec<IdentityStatus>,
    pub attributes: Vec<IdentityAttribute>,
    /// ZFD-5 mode of collection (SM, CV, INSI, CB, RFID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection_method: Option<String>,
    /// ZFD-6 date of the INSi query, as received (HL7 TS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insi_query_date: Option<String>,
    /// ZFD-7 type of identity proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_type: Option<String>,
    /// ZFD-8 expiry of the identity proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_expiry: Option<String>,
    /// ZFD-4 = Y: the birth date was corrected (an INS cannot then be sent).
    pub corrected_birth_date: bool,
}

impl IdentityTrust {
    /// PID-32 carries VALI: the only case in which an INS may be used (PAM-FR §6.6.1, §6.6.15).
    pub fn is_validated(&self) -> bool {
        self.statuses.contains(&IdentityStatus::Vali)
    }
    /// The identity may carry an INS: validated (VALI) and neither doubtful (DOUT) nor fictitious
    /// (FICT). RNIV forbids both attributes on a validated identity; when a sender sends them anyway,
    /// the safe reading wins.
    pub fn allows_ins(&self) -> bool {
        self.is_validated() && !self.has_attribute(IdentityAttribute::Dout) && !self.has_attribute(IdentityAttribute::Fict)
    }
    pub fn has_attribute(&self, a: IdentityAttribute) -> bool {
        self.attributes.contains(&a)
    }
    /// Reads PID-32 repetitions: statuses and attributes are told apart by code.
    pub fn push_code(&mut self, code: &str) -> bool {
        if let Some(a) = IdentityAttribute::from_code(code) {
            if !self.attributes.contains(&a) {
                self.attributes.push(a);
            }
            true
        } else if let Some(s) = IdentityStatus::from_code(code) {
            let known = !matches!(s, IdentityStatus::Other(_));
            self.statuses.push(s);
            known
        } else {
            true
        }
    }
    /// RNIV consistency: DOUT/FICT require a provisional status; DOUT and FICT are exclusive.
    pub fn rniv_violations(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let dout = self.has_attribute(IdentityAttribute::Dout);
        let fict = self.has_attribute(IdentityAttribute::Fict);
        if dout && fict {
            v.push("attributes DOUT and FICT cannot both be set");
        }
        if (dout || fict) && self.is_validated() {
            v.push("attributes DOUT or FICT require a provisional identity, not VALI");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid32_codes_split_into_status_and_attributes() {
        let mut t = IdentityTrust::default();
        for c in ["VALI", "HOMA"] {
            assert!(t.push_code(c));
        }
        assert!(t.is_validated());
        assert_eq!(t.attributes, vec![IdentityAttribute::Homa]);
        assert!(t.rniv_violations().is_empty());
        let mut bad = IdentityTrust::default();
        for c in ["VALI", "DOUT", "FICT"] {
            bad.push_code(c);
        }
        assert_eq!(bad.rniv_violations().len(), 2);
        let mut unknown = IdentityTrust::default();
        assert!(!unknown.push_code("DOUTE"));
        assert!(!unknown.is_validated());
    }
}
