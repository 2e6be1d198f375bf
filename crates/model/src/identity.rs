//! The one identity-rule module every format calls: identifier classification by authority (OID,
//! namespace) and type, and the gating rules of domain-fr-be.md §0 (INS only on a trusted identity,
//! NH never an INS, NIR before NIA, a failed key is never a national identifier, INS and NISS kept apart).

use crate::diagnostics::Issue;
use crate::identifier::{Identifier, IdentifierKind, KeyCheck, OID_BE_SSIN, OID_NIR_BILLING, URI_BE_SSIN};
use crate::patient::Patient;

/// HL7 v2 namespaces (CX-4.1) Belgian senders use for the national register number.
const BELGIAN_NAMESPACES: &[&str] = &["NISS", "INSZ", "SSIN", "INSS", "RRN", "NISS-BE", "BE-NISS", "BE-SSIN"];

/// Identifier type codes that announce an INS: HL7 v2 table 0203 (`INS`) and the FR Core slices.
const INS_TYPE_CODES: &[&str] = &["INS", "INS-NIR", "INS-NIA", "INS-NIR-TEST", "INS-NIR-DEMO"];

/// Who issued an identifier, as the format carries it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Authority<'a> {
    /// OID of the assigning authority (HL7 v2 CX-4.2, CDA `@root`, FHIR `urn:oid:` system).
    pub oid: Option<&'a str>,
    /// Namespace (HL7 v2 CX-4.1) or, for FHIR, a system that is not an OID.
    pub namespace: Option<&'a str>,
    /// Universal id type of the authority (HL7 v2 CX-4.3: ISO, M, N, L, DNS, UUID…).
    pub authority_type: Option<&'a str>,
    /// Identifier type code (HL7 v2 CX-5, FHIR `identifier.type.coding.code`).
    pub type_code: Option<&'a str>,
}

impl<'a> Authority<'a> {
    /// The authority of a FHIR identifier: `urn:oid:` systems give an OID, the BE SSIN naming system
    /// gives the SSIN OID, any other URI is kept as the namespace.
    pub fn from_fhir_system(system: Option<&'a str>, type_code: Option<&'a str>) -> Self {
        match system {
            Some(URI_BE_SSIN) => Self { oid: Some(OID_BE_SSIN), type_code, ..Self::default() },
            Some(s) => match s.strip_prefix("urn:oid:") {
                Some(oid) => Self { oid: Some(oid), type_code, ..Self::default() },
                None => Self { namespace: Some(s), type_code, ..Self::default() },
            },
            None => Self { type_code, ..Self::default() },
        }
    }
}

/// Builds the identifier of `value` under `authority`: the kind is decided by authority and type
/// together, never by one alone. Returns a diagnostic (without location) when the decision is a
/// fallback the sender should hear about.
pub fn classify(value: &str, authority: Authority<'_>) -> (Identifier, Option<Issue>) {
    let ns_upper = authority.namespace.map(str::to_ascii_uppercase);
    let ty = authority.type_code.unwrap_or("");
    let national = authority.oid.and_then(IdentifierKind::ins_for_oid);
    let mut issue = None;
    let is_ins_type = INS_TYPE_CODES.contains(&ty);
    let belgian = authority.oid == Some(OID_BE_SSIN) || ns_upper.as_deref().is_some_and(|n| BELGIAN_NAMESPACES.contains(&n));
    let kind = match (is_ins_type, ty, national) {
        (true, _, Some(k)) => k,
        (true, _, None) => match ns_upper.as_deref() {
            Some("ASIP-SANTE-INS-NIR") => {
                issue = Some(Issue::warning("ins-without-oid", "INS without an OID; kind read from the namespace"));
                IdentifierKind::InsNir
            }
            Some("ASIP-SANTE-INS-NIA") => {
                issue = Some(Issue::warning("ins-without-oid", "INS without an OID; kind read from the namespace"));
                IdentifierKind::InsNia
            }
            _ => {
                issue = Some(Issue::warning("ins-unknown-authority", "identifier typed INS with an unknown authority; not used as an INS"));
                IdentifierKind::Other
            }
        },
        (false, "NH", _) if authority.oid == Some(OID_NIR_BILLING) || ns_upper.as_deref() == Some("ASIP-SANTE-NIR") => IdentifierKind::NirBilling,
        (false, "", Some(IdentifierKind::InsNir)) => {
            issue = Some(Issue::warning("national-oid-without-type", "identifier under the NIR OID without a type: neither INS nor billing NIR"));
            IdentifierKind::Other
        }
        (false, "", Some(k)) => k,
        _ if belgian => {
            let mut id = Identifier::belgian(value);
            id.namespace = authority.namespace.map(str::to_owned);
            id.authority_type = authority.authority_type.map(str::to_owned);
            id.type_code = authority.type_code.map(str::to_owned);
            return (id, None);
        }
        (false, "PI" | "MR" | "PT", _) => IdentifierKind::Ipp,
        (false, "AN", _) => IdentifierKind::Nda,
        (false, "VN", _) => IdentifierKind::VisitNumber,
        _ => IdentifierKind::Other,
    };
    let mut id = Identifier::new(kind, value);
    id.oid = authority.oid.map(str::to_owned);
    id.namespace = authority.namespace.map(str::to_owned);
    id.authority_type = authority.authority_type.map(str::to_owned);
    id.type_code = authority.type_code.map(str::to_owned);
    (id, issue)
}

/// Applies the identity rules to a decoded patient, in place, and returns what was done:
///
/// - an INS is kept only when the identity is trusted for it ([`crate::IdentityTrust::allows_ins`]:
///   validated, neither doubtful nor fictitious) and its key is valid;
/// - INS-NIR wins over INS-NIA: with both, the NIA is dropped;
/// - a NISS or BIS whose key fails is not used as a national identifier;
/// - nothing is merged across countries: an INS and a NISS/BIS both stay.
///
/// The issues carry no location; the caller places them (PID-3, `Patient.identifier`, `recordTarget`).
pub fn apply_identity_rules(p: &mut Patient) -> Vec<Issue> {
    let mut issues = Vec::new();
    for v in p.trust.rniv_violations() {
        issues.push(Issue::warning("rniv-inconsistent", v));
    }
    if p.identifiers.iter().any(|i| i.kind.is_ins()) {
        if !p.trust.is_validated() {
            issues.push(Issue::warning(
                "ins-without-vali",
                "INS without a validated identity (HL7 v2 PID-32 VALI, FHIR QUAL): integrated without the INS (PAM-FR 6.6.15)",
            ));
            p.identifiers.retain(|i| !i.kind.is_ins());
        } else if !p.trust.allows_ins() {
            issues.push(Issue::warning("ins-doubtful-identity", "INS on an identity marked doubtful or fictitious (DOUT, FICT): integrated without the INS"));
            p.identifiers.retain(|i| !i.kind.is_ins());
        } else {
            let before = p.identifiers.len();
            p.identifiers.retain(|i| !i.kind.is_ins() || i.key_check == KeyCheck::Valid);
            if p.identifiers.len() != before {
                issues.push(Issue::warning("ins-key-invalid", "INS with a wrong or malformed check key: not used"));
            }
        }
    }
    let is_nir = |k: IdentifierKind| matches!(k, IdentifierKind::InsNir | IdentifierKind::InsNirTest | IdentifierKind::InsNirDemo);
    if p.identifiers.iter().any(|i| is_nir(i.kind)) && p.identifiers.iter().any(|i| i.kind == IdentifierKind::InsNia) {
        issues.push(Issue::info("ins-nia-superseded", "both an INS-NIR and an INS-NIA: the NIR is used, the NIA dropped"));
        p.identifiers.retain(|i| i.kind != IdentifierKind::InsNia);
    }
    let before = p.identifiers.len();
    p.identifiers.retain(|i| !i.kind.is_belgian() || i.key_check == KeyCheck::Valid);
    if p.identifiers.len() != before {
        issues.push(Issue::warning("key-invalid", "NISS/BIS with a wrong or malformed check key: not used as a national identifier"));
    }
    if p.identifiers.iter().any(|i| i.kind == IdentifierKind::NirBilling && i.key_check != KeyCheck::Valid) {
        issues.push(Issue::warning("key-invalid", "billing NIR with a wrong or malformed check key"));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifier::OID_INS_NIR_TEST;

    fn ins(value: &str) -> Identifier {
        classify(value, Authority { oid: Some(OID_INS_NIR_TEST), namespace: Some("ASIP-SANTE-INS-NIR"), type_code: Some("INS"), ..Authority::default() }).0
    }

    #[test]
    fn the_same_authority_reads_the_same_from_hl7v2_and_fhir() {
        let v2 = classify("279035121518989", Authority { oid: Some(OID_INS_NIR_TEST), type_code: Some("INS"), ..Authority::default() }).0;
        let fhir = classify("279035121518989", Authority::from_fhir_system(Some("urn:oid:1.2.250.1.213.1.4.10"), Some("INS-NIR-TEST"))).0;
        assert_eq!((v2.kind, fhir.kind), (IdentifierKind::InsNirTest, IdentifierKind::InsNirTest));
        let nh = classify("276037510669326", Authority::from_fhir_system(Some("urn:oid:1.2.250.1.213.1.4.8"), Some("NH"))).0;
        assert_eq!(nh.kind, IdentifierKind::NirBilling);
        let ssin = classify("85073003328", Authority::from_fhir_system(Some(URI_BE_SSIN), None)).0;
        assert_eq!(ssin.kind, IdentifierKind::Niss);
        let ipp = classify("000003", Authority { namespace: Some("CHU-X"), type_code: Some("PI"), ..Authority::default() }).0;
        assert_eq!(ipp.kind, IdentifierKind::Ipp);
    }

    #[test]
    fn doubtful_or_fictitious_identities_never_keep_an_ins() {
        for attribute in ["DOUT", "FICT"] {
            let mut p = Patient { identifiers: vec![ins("279035121518989")], ..Patient::default() };
            p.trust.push_code("VALI");
            p.trust.push_code(attribute);
            let issues = apply_identity_rules(&mut p);
            assert!(p.ins().is_none(), "{attribute}");
            assert!(issues.iter().any(|i| i.code == "ins-doubtful-identity"), "{attribute}");
        }
    }
}
