//! model::Patient → FHIR Patient, following FR Core (INS, identity reliability, birth place) or BE core.

use crate::types::{
    Address, CodeableConcept, Coding, ContactPoint, Extension, HumanName, Identifier, Meta, Patient, PatientContact, PatientLink, Reference, Str, b, ob, vb,
};
use crate::{Profile, V2_0203};
use passerelle_model as m;
use passerelle_model::{IdentifierKind, NameUse};

const FR_CORE_PATIENT: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient";
const FR_CORE_PATIENT_INS: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins";
const BE_PATIENT: &str = "https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/be-patient";
const FR_CS_0203: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
pub const EXT_IDENTITY_RELIABILITY: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability";
pub const CS_IDENTITY_STATUS: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status";
pub const EXT_BIRTH_LIST_GIVEN: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name";
pub const EXT_BIRTH_PLACE: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";
pub const EXT_INSEE_CODE: &str = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";
const TRE_R13: &str = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM";
const TRE_R20: &str = "https://mos.esante.gouv.fr/NOS/TRE_R20-Pays/FHIR/TRE-R20-Pays";

/// FHIR identifier for a model identifier: use and type by kind, system from the authority.
pub fn identifier(id: &m::Identifier) -> Identifier<'_> {
    let fr_type = |code: &'static str| Some(CodeableConcept::coding(Coding::new(FR_CS_0203, code)));
    let v2_type = |code: &'static str| Some(CodeableConcept::coding(Coding::new(V2_0203, code)));
    let (use_, type_) = match id.kind {
        IdentifierKind::InsNir => ("official", fr_type("INS-NIR")),
        IdentifierKind::InsNia => ("temp", fr_type("INS-NIA")),
        IdentifierKind::InsNirTest => ("official", fr_type("INS-NIR-TEST")),
        IdentifierKind::InsNirDemo => ("official", fr_type("INS-NIR-DEMO")),
        IdentifierKind::NirBilling => ("official", v2_type("NH")),
        IdentifierKind::Niss | IdentifierKind::Bis => ("official", v2_type("SB")),
        IdentifierKind::Ipp => ("usual", v2_type("PI")),
        IdentifierKind::Nda => ("official", v2_type("AN")),
        IdentifierKind::VisitNumber => ("official", v2_type("VN")),
        IdentifierKind::Other => ("secondary", id.type_code.as_deref().map(|c| CodeableConcept::coding(Coding::new(V2_0203, c)))),
    };
    let system = system_of(id);
    let assigner = match (&system, &id.namespace) {
        (None, Some(ns)) => Some(Box::new(Reference { display: Some(b(ns)), ..Reference::default() })),
        _ => None,
    };
    Identifier { use_: Some(use_.into()), type_, system, value: Some(b(&id.value)), assigner }
}

/// The identifier system: BE SSIN naming system, `urn:oid:` for an ISO authority, a URI as sent.
pub fn system_of(id: &m::Identifier) -> Option<Str<'_>> {
    if id.kind.is_belgian() {
        return id.system_uri().map(Str::Owned);
    }
    let oid = id.oid.as_deref()?;
    let iso = id.authority_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("ISO"));
    let looks_like_oid = oid.split('.').count() >= 3 && oid.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if looks_like_oid && (iso || id.kind.country().is_some()) {
        let mut s = String::with_capacity(8 + oid.len());
        s.push_str("urn:oid:");
        s.push_str(oid);
        Some(Str::Owned(s))
    } else if oid.contains("://") || oid.starts_with("urn:") {
        Some(b(oid))
    } else {
        None
    }
}

fn name_use(u: Option<NameUse>) -> Option<Str<'static>> {
    let s = match u? {
        NameUse::Birth => "official",
        NameUse::Used => "usual",
        NameUse::Pseudonym | NameUse::Alias => "nickname",
        NameUse::Maiden => "maiden",
        NameUse::Unspecified => return None,
    };
    Some(s.into())
}

fn human_name(n: &m::HumanName) -> HumanName<'_> {
    HumanName {
        use_: name_use(n.name_use),
        family: ob(&n.family),
        given: vb(&n.given),
        prefix: n.prefix.iter().map(|s| b(s)).collect(),
        suffix: n.suffix.iter().map(|s| b(s)).collect(),
        ..HumanName::default()
    }
}

fn address(a: &m::Address) -> Address<'_> {
    let use_ = match a.kind.as_deref() {
        Some("H") => Some("home"),
        Some("O" | "B") => Some("work"),
        Some("C") => Some("temp"),
        Some("OLD") => Some("old"),
        _ => None,
    };
    Address {
        use_: use_.map(Str::Borrowed),
        line: vb(&a.lines),
        city: ob(&a.city),
        state: ob(&a.state),
        postal_code: ob(&a.postal_code),
        country: ob(&a.country),
        ..Address::default()
    }
}

fn telecom(t: &m::ContactPoint) -> ContactPoint<'_> {
    ContactPoint { system: Some(b(&t.system)), value: Some(b(&t.value)), use_: ob(&t.usage) }
}

fn gender(s: m::Sex) -> &'static str {
    match s {
        m::Sex::Male => "male",
        m::Sex::Female => "female",
        m::Sex::Other => "other",
        m::Sex::Unknown => "unknown",
    }
}

/// FR Core identity reliability: v2 VALI + INS → QUAL, VALI without INS → VALI, otherwise PROV (a doubtful or fictitious identity is never VALI nor QUAL).
fn identity_reliability(p: &m::Patient) -> Option<Extension<'_>> {
    if p.trust.statuses.is_empty() && p.trust.attributes.is_empty() {
        return None;
    }
    let status = match (p.trust.allows_ins(), p.ins().is_some()) {
        (true, true) => "QUAL",
        (true, false) => "VALI",
        _ => "PROV",
    };
    let mut ext = Extension::new(EXT_IDENTITY_RELIABILITY);
    let mut sub = Extension::new("identityStatus");
    sub.value_coding = Some(Coding::new(CS_IDENTITY_STATUS, status));
    ext.extension.push(sub);
    if let Some(method) = &p.trust.collection_method {
        let mut sub = Extension::new("methodCollection");
        sub.value_coding = Some(Coding::code_only(method));
        ext.extension.push(sub);
    }
    if let Some(date) = p.trust.insi_query_date.as_deref().and_then(m::PartialDateTime::parse_hl7) {
        let mut sub = Extension::new("dateInterrogationINSi");
        sub.value_date = Some(date.fhir_date().into());
        ext.extension.push(sub);
    }
    if let Some(proof) = &p.trust.proof_type {
        let mut sub = Extension::new("validationMode");
        sub.value_coding = Some(Coding::code_only(proof));
        ext.extension.push(sub);
    }
    for a in &p.trust.attributes {
        let mut sub = Extension::new("comment");
        sub.value_codeable_concept = Some(CodeableConcept::coding(Coding::code_only(a.code())));
        ext.extension.push(sub);
    }
    Some(ext)
}

fn birth_place(cog: Str<'_>) -> Extension<'_> {
    let system = if cog.starts_with("99") { TRE_R20 } else { TRE_R13 };
    let mut insee = Extension::new(EXT_INSEE_CODE);
    insee.value_coding = Some(Coding::new(system, cog));
    let mut ext = Extension::new(EXT_BIRTH_PLACE);
    ext.value_address = Some(Address { extension: vec![insee], ..Address::default() });
    ext
}

/// Builds the FHIR Patient; `merge` adds A40 links and A47 prior identifiers as `old`.
pub fn patient<'p>(p: &'p m::Patient, merge: Option<&'p m::MergeInfo>, trigger: &str, profile: Profile, tz: m::TimeZoneRule) -> Patient<'p> {
    let mut out = Patient {
        identifier: p.identifiers.iter().map(identifier).collect(),
        telecom: p.telecoms.iter().map(telecom).collect(),
        gender: p.sex.map(|s| gender(s).into()),
        birth_date: p.birth_date.map(|d| d.fhir_date().into()),
        deceased_date_time: p.deceased.map(|d| d.fhir_date_time(tz).into()),
        address: p.addresses.iter().filter(|a| a.kind.as_deref() != Some("BDL")).map(address).collect(),
        ..Patient::default()
    };
    for n in &p.names {
        let mut name = human_name(n);
        if profile == Profile::FrCore
            && n.name_use == Some(NameUse::Birth)
            && let Some(traits) = &p.ins_traits
        {
            // FR Core official name: exactly the first birth given name, the list in an extension.
            name.family = Some(b(&traits.birth_family_name));
            name.given = vec![b(&traits.first_birth_given_name)];
            if !traits.birth_given_names.is_empty() {
                let mut ext = Extension::new(EXT_BIRTH_LIST_GIVEN);
                ext.value_string = Some(b(&traits.birth_given_names));
                name.extension.push(ext);
            }
        }
        out.name.push(name);
    }
    out.contact = p
        .contacts
        .iter()
        .map(|c| PatientContact {
            relationship: c
                .role
                .iter()
                .map(|r| CodeableConcept::coding(Coding::new("http://terminology.hl7.org/CodeSystem/v2-0131", r)))
                .chain(c.relationship.iter().map(CodeableConcept::text))
                .collect(),
            name: c.name.as_ref().map(human_name),
            telecom: c.telecoms.iter().map(telecom).collect(),
            address: c.address.as_ref().map(address),
        })
        .collect();
    if let Some(gp) = &p.general_practitioner {
        let display = [gp.given.as_deref(), gp.family.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        out.general_practitioner.push(Reference {
            identifier: gp.id.as_ref().map(|v| Identifier { value: Some(b(v)), ..Identifier::default() }),
            display: (!display.is_empty()).then_some(display.into()),
            ..Reference::default()
        });
    }
    if let Some(merge) = merge {
        for prior in &merge.prior_identifiers {
            let mut id = identifier(prior);
            if trigger == "A40" {
                out.link.push(PatientLink { other: Reference { identifier: Some(id), ..Reference::default() }, type_: "replaces".into() });
            } else if !p.identifiers.iter().any(|i| i.value == prior.value && i.oid == prior.oid) {
                id.use_ = Some("old".into());
                out.identifier.push(id);
            }
        }
    }
    match profile {
        Profile::FrCore => {
            let ins = p.ins().is_some();
            let prof = if ins { FR_CORE_PATIENT_INS } else { FR_CORE_PATIENT };
            out.meta = Some(Meta::profiled(prof));
            out.extension.extend(identity_reliability(p));
            let cog = p
                .ins_traits
                .as_ref()
                .and_then(|t| ob(&t.birth_place_cog))
                .or_else(|| p.addresses.iter().find(|a| a.kind.as_deref() == Some("BDL")).and_then(|a| ob(&a.cog)));
            out.extension.extend(cog.map(birth_place));
        }
        Profile::BeCore => {
            out.meta = Some(Meta::profiled(BE_PATIENT));
        }
        Profile::Generic | Profile::Auto => {}
    }
    out
}
