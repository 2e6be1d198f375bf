//! The one format dispatch: listeners, `passerelle convert` and the coming `validate` decode
//! through [`decode`], so every entry point reads a format with the same code and options.

use passerelle_model::{Content, Document, Format, Issue, Message, Parsed};
use serde::Deserialize;
use std::borrow::Cow;

/// The formats Passerelle reads (a closed set: adding one is a compile error everywhere it matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    Hl7v2,
    Cda,
    Fhir,
}

impl InputFormat {
    pub fn model_format(self) -> Format {
        match self {
            Self::Hl7v2 => Format::Hl7v2,
            Self::Cda => Format::Cda,
            Self::Fhir => Format::Fhir,
        }
    }
    pub fn as_str(self) -> &'static str {
        self.model_format().as_str()
    }
}

/// A decoded message: the model with its diagnostics, and the format's own structure when a
/// renderer or the reply needs it (the HL7 v2 tokens, for ACKs and HL7 v2 re-encoding).
pub struct Decoded<'a> {
    pub message: Parsed<Message>,
    pub hl7v2: Option<passerelle_hl7v2::Message<'a>>,
    /// The document the message carries: the CDA itself for CDA input, the decoded base64 of
    /// the document OBX for an ORU/MDM; renderings attach it.
    pub document: Option<DocumentPayload<'a>>,
}

/// A document's bytes and what they are.
#[derive(Debug, Clone)]
pub struct DocumentPayload<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// The bytes are a CDA document (else the document itself: a PDF…).
    pub is_cda: bool,
    /// `text/xml` for a CDA, else the declared media type.
    pub media_type: String,
}

impl DocumentPayload<'_> {
    pub fn as_fhir(&self) -> passerelle_fhir::DocumentBytes<'_> {
        passerelle_fhir::DocumentBytes { bytes: &self.bytes, media_type: &self.media_type }
    }
}

/// The bytes are not the format at all (nothing to normalise); the reply is AR / 400.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not hl7v2: {0}")]
    Hl7v2(#[from] passerelle_hl7v2::Error),
    #[error("not cda: {0}")]
    Cda(#[from] passerelle_cda::CdaError),
    #[error("not fhir: {0}")]
    Fhir(#[from] passerelle_fhir::ReadError),
}

impl DecodeError {
    /// HL7 v2 table 0357 code for an ERR segment.
    pub fn hl7_error_code(&self) -> &'static str {
        match self {
            Self::Hl7v2(e) => e.hl7_error_code(),
            Self::Cda(_) | Self::Fhir(_) => "100",
        }
    }
    /// The diagnostic (its code already says which format the bytes are not).
    pub fn issue(&self) -> Issue {
        match self {
            Self::Hl7v2(e) => Issue::error("not-hl7v2", e.to_string()),
            Self::Cda(e) => Issue::error("not-cda", e.to_string()),
            Self::Fhir(e) => Issue::error("not-fhir", e.to_string()),
        }
    }
}

/// Decodes and normalises `raw` once. HL7 v2 diagnostics of tokenizing and mapping come together.
pub fn decode(format: InputFormat, raw: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match format {
        InputFormat::Hl7v2 => {
            let (mut message, tokens) = passerelle_hl7v2::decode(raw, &passerelle_hl7v2::ParseOptions::default(), &Default::default())?;
            let pid_ins = pid_ins_values(&tokens);
            let document = embedded_document(&mut message, raw, &pid_ins);
            Ok(Decoded { message, hl7v2: Some(tokens), document })
        }
        InputFormat::Cda => {
            let message = passerelle_cda::decode(raw, &passerelle_cda::DecodeOptions::default())?;
            let document = DocumentPayload { bytes: Cow::Borrowed(raw), is_cda: true, media_type: "text/xml".into() };
            Ok(Decoded { message, hl7v2: None, document: Some(document) })
        }
        InputFormat::Fhir => Ok(Decoded { message: passerelle_fhir::decode(raw)?, hl7v2: None, document: None }),
    }
}

/// The CDA an ORU/MDM carries in its document OBX: decoded from base64, read with the CDA reader,
/// and merged into the message. The CDA header is authoritative for the document's metadata; the
/// patient of PID and of the CDA recordTarget must have the same INS, or the message is refused
/// (`identity-mismatch`: never delivered under either identity).
fn embedded_document(message: &mut Parsed<Message>, raw: &[u8], pid_ins: &[String]) -> Option<DocumentPayload<'static>> {
    let content = message.value.document()?.content.clone()?;
    let at = "OBX-5.5";
    let span = raw.get(content.offset..content.offset + content.length)?;
    let bytes = if content.base64 { passerelle_hl7v2::decode_base64(span) } else { Some(span.to_vec()) };
    let Some(bytes) = bytes else {
        message.issues.push(Issue::error("document-not-base64", "the document OBX-5.5 is not valid base64").at_path(at));
        return None;
    };
    let opaque = |bytes: Vec<u8>| DocumentPayload { bytes: Cow::Owned(bytes), is_cda: false, media_type: content.media_type.clone() };
    if content.media_type != "text/xml" {
        return Some(opaque(bytes));
    }
    let cda = match passerelle_cda::decode(&bytes, &passerelle_cda::DecodeOptions::default()) {
        Ok(cda) => cda,
        Err(e) => {
            message.issues.push(Issue::error("document-unreadable", format!("the CDA in the document OBX cannot be read: {e}")).at_path(at));
            return Some(opaque(bytes));
        }
    };
    let Parsed { value: cda_message, issues: cda_issues } = cda;
    message.issues.extend(cda_issues);
    // Compared on what PID-3 says, whether or not its INS could be used: a second identity in
    // the same message is a reason to deliver it under neither.
    let cda_ins = cda_message.patient.as_ref().and_then(|p| p.ins()).map(|i| i.value.clone());
    if let Some(cda) = &cda_ins
        && !pid_ins.is_empty()
        && !pid_ins.contains(cda)
    {
        message.issues.push(Issue::error("identity-mismatch", "the INS of PID-3 and of the CDA recordTarget differ").at_path(at));
    }
    if let (Content::Document(ours), Content::Document(theirs)) = (&mut message.value.content, cda_message.content) {
        if !ours.id.root.is_empty() && ours.id != theirs.id {
            message.issues.push(Issue::warning("document-id-mismatch", "TXA-12 and the CDA id differ; the CDA id is used").at_path(at));
        }
        // The CDA header wins; the HL7 v2 side keeps what only it carries (the body's place in
        // the message, the MetaDMPMSS flags, PRT recipients, a deletion, a TXA-13 replacement the
        // CDA does not state).
        let replaces = theirs.replaces.clone().or_else(|| ours.replaces.take());
        let recipients = std::mem::take(&mut ours.recipients);
        let authors = if theirs.authors.is_empty() { std::mem::take(&mut ours.authors) } else { theirs.authors.clone() };
        *ours = Document { content: Some(content), replaces, sharing: ours.sharing.take(), deleted: ours.deleted, recipients, authors, ..theirs };
    }
    Some(DocumentPayload { bytes: Cow::Owned(bytes), is_cda: true, media_type: "text/xml".into() })
}

/// The values PID-3 types as INS, as sent (before the identity rules decide whether to use them).
fn pid_ins_values(tokens: &passerelle_hl7v2::Message<'_>) -> Vec<String> {
    let Some(pid) = tokens.segment("PID") else { return Vec::new() };
    pid.field(3).repetitions().filter(|r| r.component(5).raw() == b"INS").map(|r| r.component(1).text().into_owned()).filter(|v| !v.is_empty()).collect()
}
