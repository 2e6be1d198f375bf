//! The header read by the walk → the model message: envelope, `Content::Document`, the patient,
//! and the CI-SIS minimal-structure diagnostics, each located by XPath.

use crate::patient;
use crate::reader::{Cd, Ii, RawHeader, RawParticipant};
use passerelle_model::{
    Code, Content, ContentRef, Document, EventKind, Format, InstanceId, Issue, Message, Organisation, Parsed, PartialDateTime, Participant, Section,
    SourceEvent,
};

/// templateIds every French CDA header carries (CI-SIS "modèles de contenus", structuration minimale).
const FR_HEADER_TEMPLATES: [&str; 2] = ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1"];
/// The IHE XDS-SD templateId that replaces the volet's in a French level-1 (nonXMLBody) document.
pub const XDS_SD_TEMPLATE: &str = "1.3.6.1.4.1.19376.1.2.20";
/// `idNatPS` root (RPPS/ADELI-prefixed person ids) and `idNatSt` root (organisations).
pub const ID_NAT_PS: &str = "1.2.250.1.71.4.2.1";

/// The CI-SIS minimal-structure rules on a French header beyond the patient: the level-1
/// templateIds, the participants the header requires, and the shape of an idNatPS.
fn french_structure(h: &RawHeader, issues: &mut Vec<Issue>) {
    let level1 = h.body.as_ref().is_some_and(|b| b.media_type.as_deref() != Some("text/xml"));
    if level1 && (h.template_ids.len() != 3 || !h.template_ids.iter().any(|t| t == XDS_SD_TEMPLATE)) {
        issues.push(
            Issue::warning("cda-level1-templates", format!("a French nonXMLBody document has exactly three templateIds, one of them {XDS_SD_TEMPLATE}"))
                .at_path("/ClinicalDocument/templateId"),
        );
    }
    let required = [
        (h.authors.is_empty(), "author", "/ClinicalDocument/author"),
        (h.custodian_id.is_none() && h.custodian.is_none(), "custodian", "/ClinicalDocument/custodian"),
        (h.legal_authenticator.is_none(), "legalAuthenticator", "/ClinicalDocument/legalAuthenticator"),
        (!h.has_encounter, "componentOf/encompassingEncounter", "/ClinicalDocument/componentOf"),
    ];
    for (absent, what, xpath) in required {
        if absent {
            issues.push(Issue::warning("cda-header-incomplete", format!("French header without {what} (CI-SIS minimal structure)")).at_path(xpath));
        }
    }
    for author in &h.authors {
        let Some(id) = author.id.as_ref().filter(|i| i.root == ID_NAT_PS) else { continue };
        let ext = id.extension.as_deref().unwrap_or_default();
        let well_formed = match ext.as_bytes().first() {
            Some(b'8') => ext.len() == 12 && ext.bytes().all(|c| c.is_ascii_digit()),
            Some(b'0') => ext.len() == 10,
            Some(b'3') => ext.contains('/'),
            Some(b'1' | b'4' | b'5' | b'6') => ext.len() > 1,
            _ => false,
        };
        if !well_formed {
            issues.push(
                Issue::warning(
                    "author-id-format",
                    "assignedAuthor/id under the idNatPS root is not a TRE_G08 prefix and identifier (8 + RPPS, 0 + ADELI, 3 + FINESS/id…)",
                )
                .at_path("/ClinicalDocument/author/assignedAuthor/id/@extension"),
            );
        }
    }
}

fn instance(ii: &Ii) -> InstanceId {
    InstanceId { root: ii.root.clone(), extension: ii.extension.clone() }
}

fn code(c: &Cd) -> Code {
    Code { code: c.code.clone(), system: c.system.clone(), display: c.display.clone() }
}

fn date(value: Option<&str>, xpath: &'static str, issues: &mut Vec<Issue>) -> Option<PartialDateTime> {
    let value = value?;
    let parsed = PartialDateTime::parse_hl7(value);
    if parsed.is_none() {
        issues.push(Issue::warning("bad-date", "malformed TS value ignored").at_path(xpath));
    }
    parsed
}

fn participant(p: &RawParticipant, xpath: &'static str, issues: &mut Vec<Issue>) -> Participant {
    let organisation = (p.org_id.is_some() || p.org_name.is_some()).then(|| Organisation { id: p.org_id.as_ref().map(instance), name: p.org_name.clone() });
    Participant {
        id: p.id.as_ref().filter(|i| !i.root.is_empty()).map(instance),
        family: p.family.clone(),
        given: p.given.clone(),
        organisation,
        time: date(p.time.as_deref(), xpath, issues),
    }
}

pub fn into_message(h: RawHeader) -> Parsed<Message> {
    let mut issues = Vec::new();
    let mut msg = Message::new(Format::Cda);
    let envelope = &mut msg.envelope;
    match &h.id {
        Some(id) if !id.root.is_empty() => {
            envelope.message_id = match &id.extension {
                Some(ext) => format!("{}^{ext}", id.root),
                None => id.root.clone(),
            };
        }
        _ => issues.push(Issue::error("missing-document-id", "the document has no id/@root").at_path("/ClinicalDocument/id")),
    }
    let trigger = h.code.as_ref().map(|c| c.code.clone()).unwrap_or_default();
    if trigger.is_empty() {
        issues.push(Issue::warning("missing-document-code", "the document has no type code").at_path("/ClinicalDocument/code"));
    }
    envelope.event.kind = EventKind::Document;
    envelope.event.source = SourceEvent { message_type: "CDA".into(), trigger, structure: "ClinicalDocument".into() };
    envelope.sender.facility = h.custodian.clone();
    envelope.sent_at = date(h.effective_time.as_deref(), "/ClinicalDocument/effectiveTime/@value", &mut issues);
    envelope.french_profile = h.realm.as_deref() == Some("FR");
    if envelope.french_profile {
        for template in FR_HEADER_TEMPLATES {
            if !h.template_ids.iter().any(|t| t == template) {
                issues.push(
                    Issue::warning("cda-template-missing", format!("French header without templateId {template}")).at_path("/ClinicalDocument/templateId"),
                );
            }
        }
        french_structure(&h, &mut issues);
    }
    match &h.patient {
        Some(p) => msg.patient = Some(patient::into_patient(p, &mut issues)),
        None => issues
            .push(Issue::error("missing-record-target", "the document names no patient (recordTarget/patientRole)").at_path("/ClinicalDocument/recordTarget")),
    }
    let content =
        h.body.as_ref().map(|b| ContentRef { media_type: b.media_type.clone().unwrap_or_default(), offset: b.offset, length: b.length, base64: b.base64 });
    if content.is_none() {
        issues.push(Issue::error("missing-body", "the document has neither structuredBody nor nonXMLBody").at_path("/ClinicalDocument/component"));
    }
    let version = h.version.as_deref().and_then(|v| v.trim().parse::<u32>().ok());
    if h.version.is_some() && version.is_none() {
        issues.push(Issue::warning("bad-value", "versionNumber/@value is not a number").at_path("/ClinicalDocument/versionNumber/@value"));
    }
    let document = Document {
        id: h.id.as_ref().map(instance).unwrap_or_default(),
        type_code: h.code.as_ref().map(code),
        title: h.title.clone(),
        effective_time: msg.envelope.sent_at,
        confidentiality: h.confidentiality.as_ref().map(code),
        language: h.language.clone(),
        set_id: h.set_id.as_ref().map(instance),
        version,
        replaces: h.replaces.as_ref().map(instance),
        sections: h.sections.iter().map(|(c, title)| Section { code: c.as_ref().map(code), title: title.clone() }).collect(),
        authors: h.authors.iter().map(|a| participant(a, "/ClinicalDocument/author/time/@value", &mut issues)).collect(),
        custodian: (h.custodian_id.is_some() || h.custodian.is_some())
            .then(|| Organisation { id: h.custodian_id.as_ref().map(instance), name: h.custodian.clone() }),
        legal_authenticator: h.legal_authenticator.as_ref().map(|l| participant(l, "/ClinicalDocument/legalAuthenticator/time/@value", &mut issues)),
        facility_type: h.facility_type.as_ref().map(code),
        practice_setting: h.practice_setting.as_ref().map(code),
        recipients: Vec::new(),
        deleted: false,
        sharing: None,
        content,
        companions: Vec::new(),
    };
    msg.content = Content::Document(document);
    Parsed::new(msg, issues)
}
