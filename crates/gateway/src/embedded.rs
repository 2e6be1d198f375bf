//! The documents an ORU/MDM carries in its document OBX (or a FHIR DocumentReference in its
//! attachment): each decoded from base64, read with the
//! CDA reader and merged into the model. The CDA header is authoritative for a document's
//! metadata; the patient of PID and of every CDA recordTarget must have the same INS, or the
//! message is refused (`identity-mismatch`: never delivered under either identity).

use crate::codec::DocumentPayload;
use passerelle_model::{Content, ContentRef, Document, Issue, Message, Parsed};
use std::borrow::Cow;

/// Decodes every document of `message` (the document, then its companions) from `raw`, merging
/// what each CDA header says; returns their bytes in the same order.
/// `at` names where the documents are (`OBX-5.5`, `DocumentReference.content.attachment`).
pub fn embedded_documents(message: &mut Parsed<Message>, raw: &[u8], pid_ins: &[String], at: &'static str) -> Vec<DocumentPayload<'static>> {
    let Content::Document(doc) = &mut message.value.content else { return Vec::new() };
    let issues = &mut message.issues;
    // The INS every CDA must name: PID-3's, or else the first CDA's.
    let mut known_ins = pid_ins.to_vec();
    let mut payloads = Vec::new();
    let Some(payload) = embedded(doc, raw, &mut known_ins, issues, at) else { return payloads };
    payloads.push(payload);
    for companion in &mut doc.companions {
        match embedded(companion, raw, &mut known_ins, issues, at) {
            Some(payload) => payloads.push(payload),
            None => return Vec::new(),
        }
    }
    payloads
}

/// One document: its bytes, and its CDA header merged into `ours` when it is a CDA.
fn embedded(ours: &mut Document, raw: &[u8], known_ins: &mut Vec<String>, issues: &mut Vec<Issue>, at: &'static str) -> Option<DocumentPayload<'static>> {
    let content: ContentRef = ours.content.clone()?;
    let span = raw.get(content.offset..content.offset + content.length)?;
    let bytes = if content.base64 { passerelle_hl7v2::decode_base64(span) } else { Some(span.to_vec()) };
    let Some(bytes) = bytes else {
        issues.push(Issue::error("document-not-base64", format!("the document ({at}) is not valid base64")).at_path(at));
        return None;
    };
    let opaque = |bytes: Vec<u8>| DocumentPayload { bytes: Cow::Owned(bytes), is_cda: false, media_type: content.media_type.clone() };
    if content.media_type != "text/xml" {
        return Some(opaque(bytes));
    }
    let cda = match passerelle_cda::decode(&bytes, &passerelle_cda::DecodeOptions::default()) {
        Ok(cda) => cda,
        Err(e) => {
            issues.push(Issue::error("document-unreadable", format!("the CDA of the document ({at}) cannot be read: {e}")).at_path(at));
            return Some(opaque(bytes));
        }
    };
    let Parsed { value: cda_message, issues: cda_issues } = cda;
    issues.extend(cda_issues);
    // Compared on what PID-3 says, whether or not its INS could be used: a second identity in
    // the same message is a reason to deliver it under neither.
    let cda_ins = cda_message.patient.as_ref().and_then(|p| p.ins()).map(|i| i.value.clone());
    if let Some(cda) = cda_ins {
        if known_ins.is_empty() {
            known_ins.push(cda);
        } else if !known_ins.contains(&cda) {
            issues.push(Issue::error("identity-mismatch", "the INS of PID-3 and of the CDA recordTarget differ").at_path(at));
        }
    }
    if let Content::Document(theirs) = cda_message.content {
        if !ours.id.root.is_empty() && ours.id != theirs.id && ours.companions.is_empty() {
            issues.push(Issue::warning("document-id-mismatch", "TXA-12 and the CDA id differ; the CDA id is used").at_path(at));
        }
        // The CDA header wins; the HL7 v2 side keeps what only it carries (the body's place in
        // the message, the MetaDMPMSS flags, PRT recipients, a deletion, a TXA-13 replacement the
        // CDA does not state, the sender as author when the CDA names none, the companions).
        let replaces = theirs.replaces.clone().or_else(|| ours.replaces.take());
        let authors = if theirs.authors.is_empty() { std::mem::take(&mut ours.authors) } else { theirs.authors.clone() };
        *ours = Document {
            content: Some(content),
            replaces,
            sharing: ours.sharing.take(),
            deleted: ours.deleted,
            recipients: std::mem::take(&mut ours.recipients),
            companions: std::mem::take(&mut ours.companions),
            authors,
            ..theirs
        };
    }
    Some(DocumentPayload { bytes: Cow::Owned(bytes), is_cda: true, media_type: "text/xml".into() })
}
