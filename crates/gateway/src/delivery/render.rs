//! Renders a journaled message for one destination: HL7 v2 re-encoded (charset, version) or a
//! FHIR transaction Bundle under the destination's profile. Rendering re-decodes the raw bytes
//! with the same code the listener used, so the journal keeps only one source of truth.

use crate::config::{DestinationConfig, DestinationKind, PayloadFormat};
use passerelle_fhir::{Profile, RenderOptions, render_bundle};
use passerelle_hl7v2::{Charset, NormaliseOptions, ParseOptions};
use passerelle_store::OutboxItem;

#[derive(Debug, Clone)]
pub struct Payload {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// MSH-10 of an HL7 v2 payload (to match the peer's MSA-2).
    pub control_id: String,
    pub extension: &'static str,
}

#[derive(Debug, Clone)]
pub struct Renderer {
    format: PayloadFormat,
    profile: Profile,
    charset: Option<Charset>,
    version: Option<String>,
}

impl Renderer {
    pub fn new(config: &DestinationConfig) -> Result<Self, String> {
        let format = config.format.unwrap_or(match config.kind {
            DestinationKind::Mllp | DestinationKind::File => PayloadFormat::Hl7v2,
            DestinationKind::FhirHttp | DestinationKind::Http => PayloadFormat::Fhir,
        });
        if config.kind == DestinationKind::Mllp && format != PayloadFormat::Hl7v2 {
            return Err(format!("destination {}: mllp carries hl7v2 only", config.name));
        }
        if config.kind == DestinationKind::FhirHttp && format != PayloadFormat::Fhir {
            return Err(format!("destination {}: fhir_http carries fhir only", config.name));
        }
        let charset = match &config.charset {
            Some(c) => Some(Charset::from_msh18(c.as_bytes()).ok_or_else(|| format!("destination {}: unknown charset {c}", config.name))?),
            None => None,
        };
        Ok(Self { format, profile: Profile::parse(&config.profile).unwrap_or_default(), charset, version: config.version.clone() })
    }

    pub fn render(&self, item: &OutboxItem) -> Result<Payload, String> {
        let tokens = passerelle_hl7v2::parse(&item.raw, &ParseOptions::default()).map_err(|e| format!("journaled message no longer decodes: {e}"))?;
        let msh10 = tokens.value.msh().map(|m| m.field(10).text().into_owned()).unwrap_or_default();
        match self.format {
            PayloadFormat::Hl7v2 => {
                let bytes = if self.charset.is_none() && self.version.is_none() {
                    item.raw.clone()
                } else {
                    passerelle_hl7v2::writer::reencode(&tokens.value, self.charset, self.version.as_deref())
                };
                Ok(Payload { bytes, content_type: "x-application/hl7-v2+er7", control_id: msh10, extension: "hl7" })
            }
            PayloadFormat::Fhir => {
                let msg = passerelle_hl7v2::normalise(&tokens.value, &NormaliseOptions::default()).value;
                let (bundle, _) = render_bundle(&msg, &RenderOptions { profile: self.profile, ..RenderOptions::default() });
                let bytes = serde_json::to_vec(&bundle.into_resource()).map_err(|e| format!("cannot serialise the bundle: {e}"))?;
                Ok(Payload { bytes, content_type: "application/fhir+json", control_id: msh10, extension: "json" })
            }
        }
    }
}
