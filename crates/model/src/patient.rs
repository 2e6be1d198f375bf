//! The patient: identifiers by kind, identity trust, byte-exact INS traits, names, addresses, telecoms.

use crate::datetime::PartialDateTime;
use crate::identifier::{Identifier, IdentifierKind};
use crate::trust::IdentityTrust;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
    Other,
    Unknown,
}

/// XPN-7 name type (France allows L, D, S, U).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameUse {
    /// `L`: legal / birth name (nom de naissance).
    Birth,
    /// `D`: used name (nom utilisé).
    Used,
    /// `S`: pseudonym.
    Pseudonym,
    /// `A`: alias.
    Alias,
    /// `M`: maiden name.
    Maiden,
    Unspecified,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HumanName {
    #[serde(rename = "use")]
    pub name_use: Option<NameUse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// XAD-7 address type (H home, BDL birth place, ORI/DST…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// XAD-9 county/parish code: the INSEE COG code in France.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cog: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactPoint {
    /// phone, email, fax, other.
    pub system: String,
    /// home, work, mobile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    pub value: String,
}

/// The strict INS traits (RNIV 1 §3.1.4.1), kept exactly as received: they are never re-cased,
/// trimmed or re-spelled, because the INS is only valid together with them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InsTraits {
    pub birth_family_name: String,
    pub first_birth_given_name: String,
    /// Space-separated list of birth given names, as returned by INSi.
    pub birth_given_names: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Birth place INSEE COG code (commune, or 99xxx for a country).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_place_cog: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Patient {
    /// Every usable identifier. INS identifiers are present only when the trust rules allow.
    pub identifiers: Vec<Identifier>,
    pub trust: IdentityTrust,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ins_traits: Option<InsTraits>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<HumanName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<PartialDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecoms: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased: Option<PartialDateTime>,
    /// NK1: next of kin and contact persons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// PD1-4: the patient's primary care doctor (médecin traitant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub general_practitioner: Option<crate::encounter::AttendingDoctor>,
    /// PAM-FR ZFA: DMP status, opposition to feeding, consent to consultation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmp_consent: Option<crate::consent::DmpConsent>,
}

/// A contact person (HL7 v2 NK1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// NK1-3 relationship code (HL7 table 0063) and NK1-7 contact role (table 0131).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<HumanName>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telecoms: Vec<ContactPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl Patient {
    /// The INS to use: NIR is preferred over NIA during a NIA→NIR transition (PAM-FR §4.4.1).
    pub fn ins(&self) -> Option<&Identifier> {
        let rank = |k: IdentifierKind| match k {
            IdentifierKind::InsNir | IdentifierKind::InsNirTest | IdentifierKind::InsNirDemo => 0,
            _ => 1,
        };
        self.identifiers.iter().filter(|i| i.kind.is_ins()).min_by_key(|i| rank(i.kind))
    }
    pub fn belgian_number(&self) -> Option<&Identifier> {
        self.identifiers.iter().find(|i| i.kind.is_belgian())
    }
    pub fn ipp(&self) -> Option<&Identifier> {
        self.identifiers.iter().find(|i| i.kind == IdentifierKind::Ipp)
    }
    pub fn name(&self, name_use: NameUse) -> Option<&HumanName> {
        self.names.iter().find(|n| n.name_use == Some(name_use))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifier::OID_INS_NIR_TEST;

    #[test]
    fn nir_is_preferred_over_nia_and_both_countries_are_kept() {
        let p = Patient {
            identifiers: vec![
                Identifier::new(IdentifierKind::InsNia, "260058815400244"),
                Identifier::new(IdentifierKind::InsNirTest, "279035121518989").with_oid(OID_INS_NIR_TEST),
                Identifier::belgian("85073003328"),
            ],
            ..Patient::default()
        };
        assert_eq!(p.ins().map(|i| i.kind), Some(IdentifierKind::InsNirTest));
        assert_eq!(p.belgian_number().map(|i| i.value.as_str()), Some("85073003328"));
        assert_eq!(p.identifiers.len(), 3);
    }
}
