//! FHIR R4 JSON: hand-written serde types for the resources we emit, model → FHIR (FR Core, BE core,
//! generic) as a transaction Bundle with conditional updates, and FHIR Patient → model.

pub mod bundle;
pub mod clinical_bundle;
pub mod clinical_types;
pub mod codes;
pub mod document;
pub mod document_bundle;
pub mod document_types;
pub mod encounter;
pub mod json;
pub mod json_pretty;
pub mod orders;
pub mod outcome;
pub mod patient;
pub mod read;
pub mod read_clinical;
pub mod read_document;
pub mod read_encounter;
pub mod read_input;
pub mod read_json;
pub mod results;
pub mod tddui;
pub mod types;

pub use bundle::{RenderOptions, render_bundle};
pub use document::DocumentBytes;
pub use document_bundle::DocumentLayout;
pub use json::{JsonError, to_json};
pub use outcome::operation_outcome;
pub use read::{ReadError, read_patient};

use passerelle_model::{IdentifierKind, Issue, Message, Parsed, Severity};

/// FHIR JSON → model, the same shape as every format crate's `decode`: a Patient (or the first
/// Patient of a Bundle) as the message's patient, its request as the event, with diagnostics;
/// `Err` for bytes that are not one.
pub fn decode(json: &[u8]) -> Result<Parsed<Message>, ReadError> {
    read::read_message(json)
}

/// A rendering that would not be valid FHIR.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Json(#[from] JsonError),
}

/// Model → the compact JSON of a transaction Bundle under `options`, with the warnings of the
/// mapping; an error-level diagnostic of the mapping refuses the rendering.
pub fn encode(msg: &Message, options: &RenderOptions) -> Result<Parsed<Vec<u8>>, EncodeError> {
    let (bundle, issues) = render_bundle(msg, options);
    if let Some(error) = issues.iter().find(|i: &&Issue| i.severity == Severity::Error) {
        return Err(EncodeError::Invalid(error.to_string()));
    }
    // A Bundle of one patient and one encounter is 2-4 KB; a document adds its base64 (once inline
    // or in a Binary): one allocation instead of doublings, which for a 30 MB document would
    // briefly hold the old and the new buffer.
    let documents: usize = options.documents.iter().map(|d| d.bytes.len().div_ceil(3) * 4 + 512).sum();
    // Each clinical entry (an Observation with its references) writes about 1 KB.
    let clinical = bundle.entry.len().saturating_sub(2) * 1024;
    Ok(Parsed::new(to_json(&bundle.into_resource(), 4096 + documents + clinical)?, issues))
}

/// Which national profile the output follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// FR Core for patients with a French identifier or a French sender, BE core for Belgian ones.
    #[default]
    Auto,
    FrCore,
    BeCore,
    Generic,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "fr-core" => Some(Self::FrCore),
            "be-core" => Some(Self::BeCore),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }
    /// Resolves `Auto` for one message. A cross-border patient (INS and NISS) gets FR Core with
    /// both identifiers kept.
    pub fn resolve(self, msg: &Message) -> Self {
        if self != Self::Auto {
            return self;
        }
        let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
        let french = msg.envelope.french_profile || ids.iter().any(|i| i.kind.country() == Some(passerelle_model::Country::Fr));
        if french {
            Self::FrCore
        } else if ids.iter().any(|i| matches!(i.kind, IdentifierKind::Niss | IdentifierKind::Bis)) {
            Self::BeCore
        } else {
            Self::Generic
        }
    }
}

pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
