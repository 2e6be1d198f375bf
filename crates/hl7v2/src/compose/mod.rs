//! Model → HL7 v2 segments written from the model (not re-encoded from a parsed message): the
//! PID of a patient under the PAM-FR conventions, and the document messages (MDM, ORU) built on it.

pub mod adt;
pub mod document;
pub mod french;

use crate::charset::Charset;
use crate::writer::Er7Writer;
use passerelle_model::{Identifier, IdentifierKind, NameUse, PartialDateTime, Patient};

/// The envelope of a written message (what MSH says).
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions<'a> {
    pub sending_application: &'a str,
    pub sending_facility: &'a str,
    pub receiving_application: &'a str,
    pub receiving_facility: &'a str,
    pub control_id: &'a str,
    /// MSH-7 and EVN-2.
    pub timestamp: Option<PartialDateTime>,
    pub charset: Charset,
}

/// An HD namespace id (MSH-3 to MSH-6) within its 20 characters: a CDA custodian's name is
/// often longer.
fn namespace_id(name: &str) -> &str {
    name.char_indices().nth(20).map_or(name, |(i, _)| &name[..i])
}

/// MSH up to MSH-12, then MSH-17 country, MSH-18 charset and MSH-21 `profile` when given.
pub fn write_msh(w: &mut Er7Writer, o: &ComposeOptions<'_>, message_type: &[&str; 3], version: &str, french: bool, profile: Option<[&str; 2]>) {
    let timestamp = o.timestamp.map(|t| t.hl7()).unwrap_or_default();
    w.begin_msh()
        .field(namespace_id(o.sending_application))
        .field(namespace_id(o.sending_facility))
        .field(namespace_id(o.receiving_application))
        .field(namespace_id(o.receiving_facility))
        .field(&timestamp)
        .field("")
        .components(message_type)
        .field(o.control_id)
        .field("P")
        .field(version);
    for _ in 13..=16 {
        w.field("");
    }
    w.field(if french { "FRA" } else { "" }).field(o.charset.msh18());
    if let Some(profile) = profile {
        w.field("").field("").components(&profile);
    }
    w.end_segment();
}

/// The PAM-FR assigning-authority namespace of an INS.
fn ins_namespace(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::InsNia => "ASIP-SANTE-INS-NIA",
        _ => "ASIP-SANTE-INS-NIR",
    }
}

/// One PID-3 repetition: `value^^^namespace&oid&ISO^type`.
pub(crate) fn cx(id: &Identifier) -> Vec<Vec<&str>> {
    let ins = id.kind.is_ins();
    let namespace = id.namespace.as_deref().unwrap_or(if ins { ins_namespace(id.kind) } else { "" });
    let oid = id.oid.as_deref().or(id.kind.ins_oid()).unwrap_or_default();
    let authority = if oid.is_empty() { vec![namespace] } else { vec![namespace, oid, "ISO"] };
    // PAM-FR types every INS `INS` (FHIR's INS-NIR-TEST and the like are its slices, not v2 codes).
    let type_code = if ins { "INS" } else { id.type_code.as_deref().unwrap_or("PI") };
    vec![vec![id.value.as_str()], vec![], vec![], authority, vec![type_code]]
}

/// PID from the model: the INS the identity rules kept (never one with a wrong key) and the
/// other identifiers in PID-3, birth name (`L`) with the INS traits when there are, used name
/// (`D`), birth date, sex, birthplace COG (PID-11 `BDL`) and the PID-32 identity statuses.
pub fn write_pid(w: &mut Er7Writer, p: &Patient) {
    let ins = p.ins();
    let ids: Vec<Vec<Vec<&str>>> = ins.into_iter().chain(p.identifiers.iter().filter(|i| !i.kind.is_ins())).map(cx).collect();
    w.begin_segment("PID").field("1").field("").nested(&ids).field("");
    let traits = p.ins_traits.as_ref().filter(|_| ins.is_some());
    let mut names: Vec<Vec<Vec<&str>>> = Vec::with_capacity(2);
    let birth = p.names.iter().find(|n| n.name_use == Some(NameUse::Birth)).or(p.names.first());
    let rest = birth.filter(|_| traits.is_none()).map(|n| n.given.get(1..).unwrap_or_default().join(" ")).unwrap_or_default();
    match (traits, birth) {
        (Some(t), _) => names.push(name(&t.birth_family_name, &t.first_birth_given_name, &t.birth_given_names, "L")),
        (None, Some(n)) => names.push(name(n.family.as_deref().unwrap_or_default(), n.given.first().map_or("", String::as_str), &rest, "L")),
        (None, None) => {}
    }
    if let Some(used) = p.names.iter().find(|n| n.name_use == Some(NameUse::Used)) {
        names.push(name(used.family.as_deref().unwrap_or_default(), used.given.first().map_or("", String::as_str), "", "D"));
    }
    w.nested(&names).field("");
    w.field(&p.birth_date.map(|d| d.hl7()).unwrap_or_default());
    w.field(p.sex.map(crate::tables::sex_code).unwrap_or_default()).field("").field("");
    let cog = traits
        .and_then(|t| t.birth_place_cog.as_deref())
        .or_else(|| p.addresses.iter().find(|a| a.kind.as_deref() == Some("BDL")).and_then(|a| a.cog.as_deref()));
    match cog {
        Some(cog) => w.components(&["", "", "", "", "", "", "BDL", "", cog]),
        None => w.field(""),
    };
    // PID-12 … PID-31 empty, then PID-32.
    for _ in 12..32 {
        w.field("");
    }
    let statuses: Vec<Vec<Vec<&str>>> = p.trust.statuses.iter().map(|s| vec![vec![s.code()]]).collect();
    w.nested(&statuses).end_segment();
}

/// An XPN: family, first given name, further given names (PAM-FR: for a birth name with an INS,
/// PID-5.3 is the whole list of birth given names, the first included), name type.
fn name<'a>(family: &'a str, first: &'a str, further: &'a str, type_code: &'a str) -> Vec<Vec<&'a str>> {
    vec![vec![family], vec![first], vec![further], vec![], vec![], vec![], vec![type_code]]
}
