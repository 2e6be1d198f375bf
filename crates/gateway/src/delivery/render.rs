//! Renders a decoded message for one destination, once, at ingest: HL7 v2 re-encoded (charset,
//! version) or a FHIR transaction Bundle under the destination's profile. The rendering is stored
//! with the outbox row and is exactly what delivery sends; a message that cannot be rendered
//! validly for a routed destination is not acknowledged.

use crate::config::{DestinationConfig, DestinationKind, PayloadFormat};
use passerelle_fhir::{Profile, RenderOptions};
use passerelle_hl7v2::Charset;
use passerelle_model::Message;
use passerelle_store::Rendering;

/// What a renderer reads: the model, and the HL7 v2 structure when the input was HL7 v2.
pub struct Source<'a> {
    pub model: &'a Message,
    pub hl7v2: Option<&'a passerelle_hl7v2::Message<'a>>,
    /// The document the message carries, as bytes (a document's renderings attach it).
    pub document: Option<&'a [u8]>,
}

/// Why a message cannot be rendered for a destination (the sender gets AE naming it).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Unrepresentable(#[from] passerelle_hl7v2::writer::Unrepresentable),
    #[error("hl7v2 output needs an hl7v2 source (the fhir to hl7v2 direction is not available yet)")]
    NoHl7v2Source,
    #[error("the fhir bundle would be invalid: {0}")]
    InvalidFhir(String),
}

/// A destination misconfigured for its transport.
#[derive(Debug, thiserror::Error)]
pub enum RendererConfigError {
    #[error("destination {0}: mllp carries hl7v2 only")]
    MllpNeedsHl7v2(String),
    #[error("destination {0}: fhir_http carries fhir only")]
    FhirHttpNeedsFhir(String),
    #[error("destination {name}: unknown charset {charset}")]
    UnknownCharset { name: String, charset: String },
}

#[derive(Debug, Clone)]
pub struct Renderer {
    format: PayloadFormat,
    profile: Profile,
    charset: Option<Charset>,
    version: Option<String>,
}

pub const HL7V2_CONTENT_TYPE: &str = "x-application/hl7-v2+er7";
pub const FHIR_CONTENT_TYPE: &str = "application/fhir+json";

impl Renderer {
    pub fn new(config: &DestinationConfig) -> Result<Self, RendererConfigError> {
        let format = config.format.unwrap_or(match config.kind {
            DestinationKind::Mllp | DestinationKind::File => PayloadFormat::Hl7v2,
            DestinationKind::FhirHttp | DestinationKind::Http => PayloadFormat::Fhir,
        });
        if config.kind == DestinationKind::Mllp && format != PayloadFormat::Hl7v2 {
            return Err(RendererConfigError::MllpNeedsHl7v2(config.name.clone()));
        }
        if config.kind == DestinationKind::FhirHttp && format != PayloadFormat::Fhir {
            return Err(RendererConfigError::FhirHttpNeedsFhir(config.name.clone()));
        }
        let charset = match &config.charset {
            Some(c) => {
                Some(Charset::from_msh18(c.as_bytes()).ok_or_else(|| RendererConfigError::UnknownCharset { name: config.name.clone(), charset: c.clone() })?)
            }
            None => None,
        };
        Ok(Self { format, profile: Profile::parse(&config.profile).unwrap_or_default(), charset, version: config.version.clone() })
    }

    pub fn render(&self, source: &Source<'_>) -> Result<Rendering, RenderError> {
        match self.format {
            PayloadFormat::Hl7v2 => {
                let tokens = source.hl7v2.ok_or(RenderError::NoHl7v2Source)?;
                let bytes = if self.charset.is_none() && self.version.is_none() {
                    tokens.input().to_vec()
                } else {
                    passerelle_hl7v2::writer::reencode_exact(tokens, self.charset, self.version.as_deref())?
                };
                Ok(Rendering { bytes, content_type: HL7V2_CONTENT_TYPE.into(), reference: source.model.envelope.message_id.clone() })
            }
            PayloadFormat::Fhir => {
                let options = RenderOptions { profile: self.profile, document_bytes: source.document, ..RenderOptions::default() };
                let bytes = passerelle_fhir::encode(source.model, &options).map_err(|e| RenderError::InvalidFhir(e.to_string()))?.value;
                Ok(Rendering { bytes, content_type: FHIR_CONTENT_TYPE.into(), reference: source.model.envelope.message_id.clone() })
            }
        }
    }
}
