//! The header read by the walk → the model message: envelope, `Content::Document`, the patient,
//! and the CI-SIS minimal-structure diagnostics, each located by XPath.

use crate::patient;
use crate::reader::{Cd, Ii, RawHeader};
use passerelle_model::{Code, Content, ContentRef, Document, EventKind, Format, InstanceId, Issue, Message, Parsed, PartialDateTime, Section, SourceEvent};

/// templateIds every French CDA header carries (CI-SIS "modèles de contenus", structuration minimale).
const FR_HEADER_TEMPLATES: [&str; 2] = ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1"];

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
        sharing: None,
        content,
    };
    msg.content = Content::Document(document);
    Parsed::new(msg, issues)
}
