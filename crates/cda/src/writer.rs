//! Model document + content → CDA R2 level 1: the header rebuilt from the model under the French
//! header rules (realmCode FR, the three templateIds of an unstructured document, recordTarget with
//! the INS and its traits, author, custodian, legal authenticator, encounter) around a
//! `nonXMLBody` holding the content as base64. Valid against the normative CDA XSD.

use crate::header::{ID_NAT_PS, XDS_SD_TEMPLATE};
use passerelle_model::{Code, Document, InstanceId, Message, NameUse, Organisation, PartialDateTime, Participant, Patient, Sex};
use std::fmt::Write;

/// Why a message cannot be written as a CDA document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a cda document needs a document message")]
    NotADocument,
    #[error("a cda document needs a patient (recordTarget)")]
    NoPatient,
    #[error("a cda document needs an id (the document has no id root)")]
    NoId,
}

/// Escapes text and attribute values (quotes included, so one function serves both).
fn esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no way to carry other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// Writes `<name attr="value"…/>` for the attributes that have a value.
fn empty(out: &mut String, name: &str, attrs: &[(&str, Option<&str>)]) {
    out.push('<');
    out.push_str(name);
    for (key, value) in attrs {
        if let Some(v) = value {
            let _ = write!(out, " {key}=\"");
            esc(out, v);
            out.push('"');
        }
    }
    out.push_str("/>");
}

fn text_element(out: &mut String, name: &str, attrs: &str, text: &str) {
    let _ = write!(out, "<{name}{attrs}>");
    esc(out, text);
    let _ = write!(out, "</{name}>");
}

fn ii(out: &mut String, name: &str, id: Option<&InstanceId>) {
    match id.filter(|i| !i.root.is_empty()) {
        Some(id) => empty(out, name, &[("root", Some(&id.root)), ("extension", id.extension.as_deref())]),
        None => empty(out, name, &[("nullFlavor", Some("UNK"))]),
    }
}

fn cd(out: &mut String, name: &str, code: Option<&Code>) {
    match code.filter(|c| !c.code.is_empty()) {
        Some(c) => empty(
            out,
            name,
            &[("code", Some(&c.code)), ("codeSystem", (!c.system.is_empty()).then_some(c.system.as_str())), ("displayName", c.display.as_deref())],
        ),
        None => empty(out, name, &[("nullFlavor", Some("UNK"))]),
    }
}

fn ts(out: &mut String, name: &str, t: Option<&PartialDateTime>) {
    match t {
        Some(t) => empty(out, name, &[("value", Some(&t.hl7()))]),
        None => empty(out, name, &[("nullFlavor", Some("UNK"))]),
    }
}

fn person_name(out: &mut String, p: &Participant) {
    if p.family.is_none() && p.given.is_none() {
        return;
    }
    out.push_str("<name>");
    if let Some(g) = &p.given {
        text_element(out, "given", "", g);
    }
    if let Some(f) = &p.family {
        text_element(out, "family", "", f);
    }
    out.push_str("</name>");
}

fn organisation(out: &mut String, name: &str, o: &Organisation) {
    let _ = write!(out, "<{name}>");
    ii(out, "id", o.id.as_ref());
    if let Some(n) = &o.name {
        text_element(out, "name", "", n);
    }
    let _ = write!(out, "</{name}>");
}

fn record_target(out: &mut String, p: &Patient) {
    out.push_str("<recordTarget><patientRole>");
    // The INS the identity rules kept (never one with a wrong key), then the other identifiers.
    let ins = p.ins();
    let ids = ins.into_iter().chain(p.identifiers.iter().filter(|i| !i.kind.is_ins()));
    let mut wrote_id = false;
    for id in ids {
        if let Some(oid) = id.oid.as_deref().filter(|o| !o.is_empty()) {
            empty(out, "id", &[("root", Some(oid)), ("extension", Some(&id.value))]);
            wrote_id = true;
        }
    }
    if !wrote_id {
        empty(out, "id", &[("nullFlavor", Some("UNK"))]);
    }
    out.push_str("<patient><name>");
    // With an INS, the traits as qualified (BR birth names, CL used name); else the model's names.
    let traits = p.ins_traits.as_ref().filter(|_| ins.is_some());
    let birth = p.names.iter().find(|n| n.name_use == Some(NameUse::Birth)).or(p.names.first());
    let used = p.names.iter().find(|n| n.name_use == Some(NameUse::Used));
    match traits {
        Some(t) => {
            text_element(out, "given", " qualifier=\"BR\"", &t.first_birth_given_name);
            if !t.birth_given_names.is_empty() {
                text_element(out, "given", "", &t.birth_given_names);
            }
            text_element(out, "family", " qualifier=\"BR\"", &t.birth_family_name);
        }
        None => {
            if let Some(n) = birth {
                for g in n.given.iter().take(1) {
                    text_element(out, "given", "", g);
                }
                if let Some(f) = &n.family {
                    text_element(out, "family", "", f);
                }
            }
        }
    }
    if let Some(f) = used.and_then(|u| u.family.as_deref()) {
        text_element(out, "family", " qualifier=\"CL\"", f);
    }
    out.push_str("</name>");
    let sex = match p.sex {
        Some(Sex::Male) => Some("M"),
        Some(Sex::Female) => Some("F"),
        Some(Sex::Unknown) => Some("UN"),
        _ => None,
    };
    match sex {
        Some(s) => empty(out, "administrativeGenderCode", &[("code", Some(s)), ("codeSystem", Some("2.16.840.1.113883.5.1"))]),
        None => empty(out, "administrativeGenderCode", &[("nullFlavor", Some("UNK"))]),
    }
    ts(out, "birthTime", p.birth_date.as_ref());
    let cog = traits
        .and_then(|t| t.birth_place_cog.as_deref())
        .or_else(|| p.addresses.iter().find_map(|a| a.cog.as_deref().filter(|_| a.kind.as_deref() == Some("BDL"))));
    if let Some(cog) = cog {
        out.push_str("<birthplace><place><addr>");
        text_element(out, "county", "", cog);
        out.push_str("</addr></place></birthplace>");
    }
    out.push_str("</patient></patientRole></recordTarget>");
}

fn author(out: &mut String, a: Option<&Participant>, fallback_time: Option<&PartialDateTime>, software: &str) {
    out.push_str("<author>");
    ts(out, "time", a.and_then(|a| a.time.as_ref()).or(fallback_time));
    out.push_str("<assignedAuthor>");
    ii(out, "id", a.and_then(|a| a.id.as_ref()));
    match a {
        Some(a) if a.family.is_some() || a.given.is_some() => {
            out.push_str("<assignedPerson>");
            person_name(out, a);
            out.push_str("</assignedPerson>");
        }
        // No person named: the sending system is the author (CDA allows an authoring device).
        _ => {
            out.push_str("<assignedAuthoringDevice>");
            text_element(out, "softwareName", "", software);
            out.push_str("</assignedAuthoringDevice>");
        }
    }
    if let Some(o) = a.and_then(|a| a.organisation.as_ref()) {
        organisation(out, "representedOrganization", o);
    }
    out.push_str("</assignedAuthor></author>");
}

/// Writes `msg` (a document) as a CDA R2 level-1 document around `body` of type `media_type`.
pub fn encode(msg: &Message, body: &[u8], media_type: &str) -> Result<Vec<u8>, EncodeError> {
    let doc: &Document = msg.document().ok_or(EncodeError::NotADocument)?;
    let patient = msg.patient.as_ref().ok_or(EncodeError::NoPatient)?;
    if doc.id.root.is_empty() {
        return Err(EncodeError::NoId);
    }
    let french = msg.envelope.french_profile || patient.ins().is_some();
    let effective = doc.effective_time.as_ref().or(msg.envelope.sent_at.as_ref());
    let mut out = String::with_capacity(body.len().div_ceil(3) * 4 + 4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">");
    if french {
        out.push_str("<realmCode code=\"FR\"/>");
    }
    out.push_str("<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>");
    if french {
        out.push_str("<templateId root=\"2.16.840.1.113883.2.8.2.1\"/><templateId root=\"1.2.250.1.213.1.1.1.1\"/>");
    }
    empty(&mut out, "templateId", &[("root", Some(XDS_SD_TEMPLATE))]);
    ii(&mut out, "id", Some(&doc.id));
    cd(&mut out, "code", doc.type_code.as_ref());
    if let Some(title) = &doc.title {
        text_element(&mut out, "title", "", title);
    }
    ts(&mut out, "effectiveTime", effective);
    let normal = Code { code: "N".into(), system: "2.16.840.1.113883.5.25".into(), display: None };
    cd(&mut out, "confidentialityCode", Some(doc.confidentiality.as_ref().unwrap_or(&normal)));
    let language = doc.language.as_deref().or(french.then_some("fr-FR"));
    if let Some(l) = language {
        empty(&mut out, "languageCode", &[("code", Some(l))]);
    }
    if let Some(set) = &doc.set_id {
        ii(&mut out, "setId", Some(set));
    }
    let _ = write!(out, "<versionNumber value=\"{}\"/>", doc.version.unwrap_or(1));
    record_target(&mut out, patient);
    let software = msg.envelope.sender.application.as_deref().unwrap_or("Passerelle");
    if doc.authors.is_empty() {
        author(&mut out, None, effective, software);
    }
    for a in &doc.authors {
        author(&mut out, Some(a), effective, software);
    }
    out.push_str("<custodian><assignedCustodian>");
    let sender = Organisation { id: None, name: msg.envelope.sender.facility.clone() };
    organisation(&mut out, "representedCustodianOrganization", doc.custodian.as_ref().unwrap_or(&sender));
    out.push_str("</assignedCustodian></custodian>");
    if let Some(l) = &doc.legal_authenticator {
        out.push_str("<legalAuthenticator>");
        ts(&mut out, "time", l.time.as_ref().or(effective));
        out.push_str("<signatureCode code=\"S\"/><assignedEntity>");
        ii(&mut out, "id", l.id.as_ref());
        if l.family.is_some() || l.given.is_some() {
            out.push_str("<assignedPerson>");
            person_name(&mut out, l);
            out.push_str("</assignedPerson>");
        }
        out.push_str("</assignedEntity></legalAuthenticator>");
    }
    if let Some(setting) = &doc.practice_setting {
        out.push_str("<documentationOf><serviceEvent><performer typeCode=\"PRF\"><assignedEntity>");
        ii(&mut out, "id", doc.authors.first().and_then(|a| a.id.as_ref()).filter(|i| i.root == ID_NAT_PS));
        out.push_str("<representedOrganization>");
        cd(&mut out, "standardIndustryClassCode", Some(setting));
        out.push_str("</representedOrganization></assignedEntity></performer></serviceEvent></documentationOf>");
    }
    if let Some(parent) = &doc.replaces {
        out.push_str("<relatedDocument typeCode=\"RPLC\"><parentDocument>");
        ii(&mut out, "id", Some(parent));
        out.push_str("</parentDocument></relatedDocument>");
    }
    if let Some(facility) = &doc.facility_type {
        out.push_str("<componentOf><encompassingEncounter>");
        ts(&mut out, "effectiveTime", effective);
        out.push_str("<location><healthCareFacility>");
        cd(&mut out, "code", Some(facility));
        out.push_str("</healthCareFacility></location></encompassingEncounter></componentOf>");
    }
    out.push_str("<component><nonXMLBody><text");
    empty_attrs(&mut out, &[("mediaType", media_type), ("representation", "B64")]);
    out.push('>');
    let mut bytes = out.into_bytes();
    passerelle_model::base64::encode_into(body, &mut bytes);
    bytes.extend_from_slice(b"</text></nonXMLBody></component></ClinicalDocument>\n");
    Ok(bytes)
}

fn empty_attrs(out: &mut String, attrs: &[(&str, &str)]) {
    for (k, v) in attrs {
        let _ = write!(out, " {k}=\"");
        esc(out, v);
        out.push('"');
    }
}
