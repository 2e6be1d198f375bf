//! The one format dispatch: listeners, `passerelle convert` and the coming `validate` decode
//! through [`decode`], so every entry point reads a format with the same code and options.

use passerelle_model::{Format, Issue, Message, Parsed};
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
    /// The documents the message carries, in the model's order (the document, then its
    /// companions): the CDA itself for CDA input, the decoded base64 of each document OBX for an
    /// ORU/MDM; renderings attach them.
    pub documents: Vec<DocumentPayload<'a>>,
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
            Self::Fhir(e) => match e.path() {
                Some(path) => Issue::error("not-fhir", e.to_string()).at_path(path.to_owned()),
                None => Issue::error("not-fhir", e.to_string()),
            },
        }
    }
}

/// Decodes and normalises `raw` once. HL7 v2 diagnostics of tokenizing and mapping come together.
pub fn decode(format: InputFormat, raw: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match format {
        InputFormat::Hl7v2 => {
            let (mut message, tokens) = passerelle_hl7v2::decode(raw, &passerelle_hl7v2::ParseOptions::default(), &Default::default())?;
            let pid_ins = pid_ins_values(&tokens);
            let documents = crate::embedded::embedded_documents(&mut message, raw, &pid_ins, "OBX-5.5");
            Ok(Decoded { message, hl7v2: Some(tokens), documents })
        }
        InputFormat::Cda => {
            let message = passerelle_cda::decode(raw, &passerelle_cda::DecodeOptions::default())?;
            let document = DocumentPayload { bytes: Cow::Borrowed(raw), is_cda: true, media_type: "text/xml".into() };
            Ok(Decoded { message, hl7v2: None, documents: vec![document] })
        }
        InputFormat::Fhir => {
            let mut message = passerelle_fhir::decode(raw)?;
            // A DocumentReference's bytes are decoded (and a CDA's header read and checked against
            // the Patient) exactly as an MDM's document OBX.
            let ins: Vec<String> = message.value.patient.as_ref().and_then(|p| p.ins()).map(|i| vec![i.value.clone()]).unwrap_or_default();
            let documents = crate::embedded::embedded_documents(&mut message, raw, &ins, "DocumentReference.content.attachment");
            Ok(Decoded { message, hl7v2: None, documents })
        }
    }
}

/// The values PID-3 types as INS, as sent (before the identity rules decide whether to use them).
fn pid_ins_values(tokens: &passerelle_hl7v2::Message<'_>) -> Vec<String> {
    let Some(pid) = tokens.segment("PID") else { return Vec::new() };
    pid.field(3).repetitions().filter(|r| r.component(5).raw() == b"INS").map(|r| r.component(1).text().into_owned()).filter(|v| !v.is_empty()).collect()
}
