//! The one format dispatch: listeners, `passerelle convert` and the coming `validate` decode
//! through [`decode`], so every entry point reads a format with the same code and options.

use passerelle_model::{Format, Issue, Message, Parsed};
use serde::Deserialize;

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
            let tokens = passerelle_hl7v2::parse(raw, &passerelle_hl7v2::ParseOptions::default())?;
            let mut normalised = passerelle_hl7v2::normalise(&tokens.value, &passerelle_hl7v2::NormaliseOptions::default());
            let mut issues = tokens.issues;
            issues.append(&mut normalised.issues);
            Ok(Decoded { message: Parsed::new(normalised.value, issues), hl7v2: Some(tokens.value) })
        }
        InputFormat::Cda => Ok(Decoded { message: passerelle_cda::decode(raw, &passerelle_cda::DecodeOptions::default())?, hl7v2: None }),
        InputFormat::Fhir => Ok(Decoded { message: passerelle_fhir::decode(raw)?, hl7v2: None }),
    }
}
