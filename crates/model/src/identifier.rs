//! National and local patient identifiers, typed by kind, with their system (OID / URI) and key-check result.

use crate::checksum::{self, BelgianNumberKind, KeyOutcome};
use serde::{Deserialize, Serialize};

pub const OID_INS_NIR: &str = "1.2.250.1.213.1.4.8";
pub const OID_INS_NIA: &str = "1.2.250.1.213.1.4.9";
pub const OID_INS_NIR_TEST: &str = "1.2.250.1.213.1.4.10";
pub const OID_INS_NIR_DEMO: &str = "1.2.250.1.213.1.4.11";
/// The billing NIR shares the INS-NIR OID; only the identifier type (`NH`) tells them apart.
pub const OID_NIR_BILLING: &str = OID_INS_NIR;
pub const OID_BE_SSIN: &str = "2.16.840.1.113883.3.6777.5.1";
pub const URI_BE_SSIN: &str = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Country {
    Fr,
    Be,
}

/// What an identifier is. The kind, not the value or the OID alone, decides how it may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifierKind {
    /// INS matricule, production NIR (OID …4.8, type INS).
    InsNir,
    /// INS matricule, temporary NIA (OID …4.9, type INS).
    InsNia,
    /// INS matricule under the test OID …4.10 (all ANS samples, our fixtures).
    InsNirTest,
    /// INS matricule under the demo OID …4.11.
    InsNirDemo,
    /// Billing NIR (type NH, OID …4.8): never an INS.
    NirBilling,
    /// Belgian national register number (NISS / INSZ / SSIN).
    Niss,
    /// Belgian BIS number.
    Bis,
    /// Local patient identifier (IPP, type PI) of an assigning authority.
    Ipp,
    /// Administrative file number (NDA, type AN).
    Nda,
    /// Visit number (type VN).
    VisitNumber,
    /// Anything else, kept with its type code.
    Other,
}

impl IdentifierKind {
    /// The kind's name, as serialised (`ins-nir-test`, `ipp`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsNir => "ins-nir",
            Self::InsNia => "ins-nia",
            Self::InsNirTest => "ins-nir-test",
            Self::InsNirDemo => "ins-nir-demo",
            Self::NirBilling => "nir-billing",
            Self::Niss => "niss",
            Self::Bis => "bis",
            Self::Ipp => "ipp",
            Self::Nda => "nda",
            Self::VisitNumber => "visit-number",
            Self::Other => "other",
        }
    }
    pub fn is_ins(self) -> bool {
        matches!(self, Self::InsNir | Self::InsNia | Self::InsNirTest | Self::InsNirDemo)
    }
    pub fn is_belgian(self) -> bool {
        matches!(self, Self::Niss | Self::Bis)
    }
    pub fn country(self) -> Option<Country> {
        match self {
            Self::InsNir | Self::InsNia | Self::InsNirTest | Self::InsNirDemo | Self::NirBilling => Some(Country::Fr),
            Self::Niss | Self::Bis => Some(Country::Be),
            _ => None,
        }
    }
    /// The INS kind a national OID denotes when the identifier type is `INS`.
    pub fn ins_for_oid(oid: &str) -> Option<Self> {
        match oid {
            OID_INS_NIR => Some(Self::InsNir),
            OID_INS_NIA => Some(Self::InsNia),
            OID_INS_NIR_TEST => Some(Self::InsNirTest),
            OID_INS_NIR_DEMO => Some(Self::InsNirDemo),
            _ => None,
        }
    }
    pub fn ins_oid(self) -> Option<&'static str> {
        match self {
            Self::InsNir => Some(OID_INS_NIR),
            Self::InsNia => Some(OID_INS_NIA),
            Self::InsNirTest => Some(OID_INS_NIR_TEST),
            Self::InsNirDemo => Some(OID_INS_NIR_DEMO),
            _ => None,
        }
    }
}

/// Result of the identifier's key check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum KeyCheck {
    Valid,
    WrongKey {
        expected: u8,
    },
    Malformed,
    /// The kind has no key (IPP, NDA…).
    NotApplicable,
}

impl From<KeyOutcome> for KeyCheck {
    fn from(o: KeyOutcome) -> Self {
        match o {
            KeyOutcome::Valid => Self::Valid,
            KeyOutcome::WrongKey { expected } => Self::WrongKey { expected },
            KeyOutcome::Malformed => Self::Malformed,
        }
    }
}

/// One identifier: kind + system + value, never the value alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: IdentifierKind,
    /// OID of the assigning authority (HL7 v2 CX-4.2 when CX-4.3 = ISO, CDA `id@root`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Namespace of the assigning authority (CX-4.1), such as `ASIP-SANTE-INS-NIR` or a facility code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Universal id type of the authority (CX-4.3: ISO, M, N, L, DNS, UUID…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority_type: Option<String>,
    /// HL7 table 0203 identifier type as received (INS, NH, PI, AN, VN, SB…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    pub value: String,
    pub key_check: KeyCheck,
}

impl Identifier {
    /// Builds an identifier of `kind` and runs the key check that kind calls for.
    pub fn new(kind: IdentifierKind, value: impl Into<String>) -> Self {
        let value = value.into();
        let key_check = key_check_for(kind, &value);
        Self { kind, oid: None, namespace: None, authority_type: None, type_code: None, value, key_check }
    }
    pub fn with_oid(mut self, oid: impl Into<String>) -> Self {
        self.oid = Some(oid.into());
        self
    }
    /// Belgian number classified as NISS or BIS from its month digits.
    pub fn belgian(value: impl Into<String>) -> Self {
        let value = value.into();
        let kind = match checksum::belgian_number_kind(&value) {
            Some(BelgianNumberKind::Bis) => IdentifierKind::Bis,
            _ => IdentifierKind::Niss,
        };
        Self::new(kind, value).with_oid(OID_BE_SSIN)
    }
    /// The system as a URI: the BE SSIN naming system, else `urn:oid:<oid>` when an OID is known.
    pub fn system_uri(&self) -> Option<String> {
        if self.kind.is_belgian() {
            return Some(URI_BE_SSIN.to_owned());
        }
        self.oid.as_ref().map(|o| format!("urn:oid:{o}"))
    }
}

fn key_check_for(kind: IdentifierKind, value: &str) -> KeyCheck {
    match kind {
        k if k.is_ins() => checksum::check_nir(value).into(),
        IdentifierKind::NirBilling => checksum::check_nir(value).into(),
        IdentifierKind::Niss | IdentifierKind::Bis => checksum::check_niss(value).into(),
        _ => KeyCheck::NotApplicable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_nir_shares_the_oid_but_is_never_an_ins() {
        let nh = Identifier::new(IdentifierKind::NirBilling, "276037510669326").with_oid(OID_NIR_BILLING);
        assert!(!nh.kind.is_ins());
        assert_eq!(nh.key_check, KeyCheck::Valid);
        assert_eq!(IdentifierKind::ins_for_oid(OID_NIR_BILLING), Some(IdentifierKind::InsNir));
    }

    #[test]
    fn belgian_numbers_are_classified_and_checked() {
        let bis = Identifier::belgian("98472899765");
        assert_eq!((bis.kind, bis.key_check), (IdentifierKind::Bis, KeyCheck::Valid));
        let wrong = Identifier::belgian("79121137740");
        assert_eq!((wrong.kind, wrong.key_check), (IdentifierKind::Niss, KeyCheck::WrongKey { expected: 66 }));
        assert_eq!(wrong.system_uri().as_deref(), Some(URI_BE_SSIN));
    }

    #[test]
    fn kind_names_are_the_serialised_names() {
        use IdentifierKind::*;
        for kind in [InsNir, InsNia, InsNirTest, InsNirDemo, NirBilling, Niss, Bis, Ipp, Nda, VisitNumber, Other] {
            assert_eq!(serde_json::to_value(kind).expect("json"), kind.as_str());
        }
    }
}
