//! Renders a decoded message for one destination, once, at ingest: HL7 v2 re-encoded (charset,
//! version) or a FHIR transaction Bundle under the destination's profile; a document as the
//! destination's `rendering` says (cda, mdm, oru, fhir-bundle, mhd). The rendering is stored with
//! the outbox row and is exactly what delivery sends; a message that cannot be rendered validly
//! for a routed destination is not acknowledged.

use crate::codec::DocumentPayload;
use crate::config::{DestinationClass, DestinationConfig, DestinationKind, DocumentRendering, PayloadFormat};
use passerelle_fhir::{DocumentLayout, Profile, RenderOptions};
use passerelle_hl7v2::Charset;
use passerelle_hl7v2::compose::ComposeOptions;
use passerelle_hl7v2::compose::document::{DocumentMessage, compose_document};
use passerelle_model::Message;
use passerelle_store::Rendering;
use std::borrow::Cow;

/// What a renderer reads: the model, and the HL7 v2 structure when the input was HL7 v2.
pub struct Source<'a> {
    pub model: &'a Message,
    pub hl7v2: Option<&'a passerelle_hl7v2::Message<'a>>,
    /// The documents the message carries, in the model's order (a document's renderings attach them).
    pub documents: &'a [DocumentPayload<'a>],
}

/// Why a message cannot be rendered for a destination (the sender gets AE naming it).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Unrepresentable(#[from] passerelle_hl7v2::writer::Unrepresentable),
    #[error("hl7v2 output needs an hl7v2 source or a document")]
    NoHl7v2Source,
    #[error("the fhir bundle would be invalid: {0}")]
    InvalidFhir(String),
    #[error("a {0} rendering cannot carry a deletion (mdm, oru and fhir-bundle can)")]
    Deletion(&'static str),
    #[error("a {rendering} rendering carries one document and this message carries {count} (oru, fhir-bundle and mhd carry them all)")]
    SeveralDocuments { rendering: &'static str, count: usize },
    #[error("a {0} rendering needs a document with its bytes")]
    NotADocument(&'static str),
    #[error("the cda document cannot be written: {0}")]
    Cda(#[from] passerelle_cda::EncodeError),
    #[error("the hl7v2 document message cannot be written: {0}")]
    Compose(#[from] passerelle_hl7v2::compose::document::ComposeError),
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
    #[error("destination {name}: rendering {rendering} does not fit format {format}")]
    RenderingFormat { name: String, rendering: &'static str, format: &'static str },
}

#[derive(Debug, Clone)]
pub struct Renderer {
    format: PayloadFormat,
    rendering: DocumentRendering,
    profile: Profile,
    charset: Option<Charset>,
    version: Option<String>,
    medico_social: bool,
    /// MSH-5 of the HL7 v2 document messages written for this destination.
    receiver: String,
    /// The FHIR server's base: a document's Binary gets a client-assigned id under it.
    base_url: Option<String>,
}

pub const HL7V2_CONTENT_TYPE: &str = "x-application/hl7-v2+er7";
pub const FHIR_CONTENT_TYPE: &str = "application/fhir+json";
pub const CDA_CONTENT_TYPE: &str = "application/hl7-cda+xml";

/// The payload format a document rendering belongs to (`None`: cda, its own).
fn rendering_format(r: DocumentRendering) -> Option<PayloadFormat> {
    match r {
        DocumentRendering::Cda => None,
        DocumentRendering::Mdm | DocumentRendering::Oru => Some(PayloadFormat::Hl7v2),
        DocumentRendering::FhirBundle | DocumentRendering::Mhd => Some(PayloadFormat::Fhir),
    }
}

fn format_name(f: PayloadFormat) -> &'static str {
    match f {
        PayloadFormat::Hl7v2 => "hl7v2",
        PayloadFormat::Fhir => "fhir",
    }
}

impl Renderer {
    pub fn new(config: &DestinationConfig) -> Result<Self, RendererConfigError> {
        let transport_default = match config.kind {
            DestinationKind::Mllp | DestinationKind::File => PayloadFormat::Hl7v2,
            DestinationKind::FhirHttp | DestinationKind::Http => PayloadFormat::Fhir,
        };
        let format = config.format.or_else(|| config.rendering.and_then(rendering_format)).unwrap_or(transport_default);
        let rendering = config.rendering.unwrap_or(match format {
            PayloadFormat::Hl7v2 => DocumentRendering::Mdm,
            PayloadFormat::Fhir => DocumentRendering::FhirBundle,
        });
        if config.format.is_some() && rendering_format(rendering).is_some_and(|f| f != format) {
            return Err(RendererConfigError::RenderingFormat { name: config.name.clone(), rendering: rendering.as_str(), format: format_name(format) });
        }
        let hl7v2_only = config.kind == DestinationKind::Mllp;
        if hl7v2_only && (format != PayloadFormat::Hl7v2 || rendering_format(rendering) != Some(PayloadFormat::Hl7v2)) {
            return Err(RendererConfigError::MllpNeedsHl7v2(config.name.clone()));
        }
        if config.kind == DestinationKind::FhirHttp && (format != PayloadFormat::Fhir || rendering_format(rendering) != Some(PayloadFormat::Fhir)) {
            return Err(RendererConfigError::FhirHttpNeedsFhir(config.name.clone()));
        }
        let charset = match &config.charset {
            Some(c) => {
                Some(Charset::from_msh18(c.as_bytes()).ok_or_else(|| RendererConfigError::UnknownCharset { name: config.name.clone(), charset: c.clone() })?)
            }
            None => None,
        };
        Ok(Self {
            format,
            rendering,
            profile: Profile::parse(&config.profile).unwrap_or_default(),
            charset,
            version: config.version.clone(),
            medico_social: config.class == Some(DestinationClass::MedicoSocial),
            receiver: config.name.clone(),
            base_url: config.fhir_base.clone().or_else(|| (config.kind == DestinationKind::FhirHttp).then(|| config.url.clone()).flatten()),
        })
    }

    /// A renderer outside any destination (`passerelle convert`): `rendering` for documents, its
    /// payload format for other messages, UTF-8, no re-encoding.
    pub fn for_rendering(rendering: DocumentRendering, profile: Profile, base_url: Option<String>) -> Self {
        let format = rendering_format(rendering).unwrap_or(PayloadFormat::Hl7v2);
        Self { format, rendering, profile, charset: None, version: None, medico_social: false, receiver: String::new(), base_url }
    }

    pub fn render(&self, source: &Source<'_>) -> Result<Rendering, RenderError> {
        let reference = source.model.envelope.message_id.clone();
        if source.model.document().is_some() {
            // A written HL7 v2 message has its own MSH-10, which the receiver's MSA-2 must echo.
            return self.render_document(source).map(|(bytes, content_type, control_id)| Rendering {
                bytes: bytes.into(),
                content_type: content_type.into(),
                reference: control_id.unwrap_or(reference),
            });
        }
        match self.format {
            PayloadFormat::Hl7v2 if source.hl7v2.is_some() => {
                Ok(Rendering { bytes: self.reencode(source)?.into(), content_type: HL7V2_CONTENT_TYPE.into(), reference })
            }
            PayloadFormat::Hl7v2 => {
                let (bytes, control_id) = self.adt(source.model)?;
                Ok(Rendering { bytes: bytes.into(), content_type: HL7V2_CONTENT_TYPE.into(), reference: control_id })
            }
            PayloadFormat::Fhir => {
                Ok(Rendering { bytes: self.fhir(source, DocumentLayout::Inline)?.into(), content_type: FHIR_CONTENT_TYPE.into(), reference })
            }
        }
    }

    /// The HL7 v2 source re-encoded for this destination (byte for byte when nothing changes).
    fn reencode(&self, source: &Source<'_>) -> Result<Vec<u8>, RenderError> {
        let tokens = source.hl7v2.ok_or(RenderError::NoHl7v2Source)?;
        if self.charset.is_none() && self.version.is_none() {
            return Ok(tokens.input().to_vec());
        }
        Ok(passerelle_hl7v2::writer::reencode_exact(tokens, self.charset, self.version.as_deref())?)
    }

    fn fhir(&self, source: &Source<'_>, document_layout: DocumentLayout) -> Result<Vec<u8>, RenderError> {
        let documents: Vec<_> = source.documents.iter().map(DocumentPayload::as_fhir).collect();
        let options = RenderOptions {
            profile: self.profile,
            documents: &documents,
            document_layout,
            medico_social: self.medico_social,
            base_url: self.base_url.as_deref(),
            ..RenderOptions::default()
        };
        Ok(passerelle_fhir::encode(source.model, &options).map_err(|e| RenderError::InvalidFhir(e.to_string()))?.value)
    }

    /// The document as a CDA: itself when it is one, else a level-1 CDA around it.
    fn cda<'s>(&self, source: &'s Source<'_>) -> Result<Cow<'s, [u8]>, RenderError> {
        let payload = source.documents.first().ok_or(RenderError::NotADocument("cda"))?;
        self.cda_of(source.model, payload, None)
    }

    /// `payload` as a CDA: itself when it is one, else a level-1 CDA with the header of the
    /// message's document, or of `companion` (then written as a document of its own).
    fn cda_of<'s>(
        &self,
        msg: &Message,
        payload: &'s DocumentPayload<'_>,
        companion: Option<&passerelle_model::Document>,
    ) -> Result<Cow<'s, [u8]>, RenderError> {
        if payload.is_cda {
            return Ok(Cow::Borrowed(&payload.bytes));
        }
        let bytes = match companion {
            None => passerelle_cda::encode(msg, &payload.bytes, &payload.media_type)?,
            Some(companion) => {
                let mut alone = msg.clone();
                alone.content = passerelle_model::Content::Document(passerelle_model::Document { companions: Vec::new(), ..companion.clone() });
                passerelle_cda::encode(&alone, &payload.bytes, &payload.media_type)?
            }
        };
        Ok(Cow::Owned(bytes))
    }

    /// A message from another format (FHIR) as an HL7 v2.5 ADT: PAM-FR for a French profile
    /// (A28/A31, never A08), generic otherwise. Returns the bytes and their MSH-10.
    fn adt(&self, msg: &Message) -> Result<(Vec<u8>, String), RenderError> {
        let french = self.profile.resolve(msg) == Profile::FrCore;
        let control_id = self.control_id(msg);
        let received = msg.envelope.received_at_ms.and_then(passerelle_model::PartialDateTime::from_unix_ms);
        let options = self.compose_options(msg, &control_id, msg.envelope.sent_at.or(received));
        let bytes = passerelle_hl7v2::compose::adt::compose_adt(msg, french, &options)?;
        Ok((bytes, control_id))
    }

    /// The MSH of a message written here: the source's sender (else Passerelle), this destination
    /// as receiving application, its charset.
    fn compose_options<'o>(&'o self, msg: &'o Message, control_id: &'o str, timestamp: Option<passerelle_model::PartialDateTime>) -> ComposeOptions<'o> {
        let envelope = &msg.envelope;
        ComposeOptions {
            sending_application: envelope.sender.application.as_deref().unwrap_or("PASSERELLE"),
            sending_facility: envelope.sender.facility.as_deref().unwrap_or("PASSERELLE"),
            receiving_application: if self.receiver.is_empty() { envelope.receiver.application.as_deref().unwrap_or_default() } else { &self.receiver },
            receiving_facility: envelope.receiver.facility.as_deref().unwrap_or_default(),
            control_id,
            timestamp,
            charset: self.charset.unwrap_or_default(),
        }
    }

    /// MSH-10 of a message written here: unique per destination (its name is hashed in) and
    /// stable across retries (the rendering is stored once).
    fn control_id(&self, msg: &Message) -> String {
        use sha1::Digest;
        let mut sha = sha1::Sha1::new();
        for part in [self.receiver.as_bytes(), msg.envelope.message_id.as_bytes(), &msg.envelope.received_at_ms.unwrap_or_default().to_le_bytes()] {
            sha.update(part);
            sha.update(b"|");
        }
        for id in msg.patient.iter().flat_map(|p| p.identifiers.iter()) {
            sha.update(id.value.as_bytes());
        }
        let hex = passerelle_model::hex::hex(&sha.finalize()[..9]);
        format!("PSR{}", &hex[..17])
    }

    /// Whether this destination's rendering can say what the document message says: a CDA or
    /// an ITI-65 provide cannot carry a deletion; one CDA or one MDM carries one document.
    pub fn check_document(&self, msg: &Message) -> Result<(), RenderError> {
        let deleted = msg.document().is_some_and(|d| d.deleted);
        if deleted && matches!(self.rendering, DocumentRendering::Cda | DocumentRendering::Mhd) {
            return Err(RenderError::Deletion(self.rendering.as_str()));
        }
        let count = msg.document().map_or(0, |d| d.all().count());
        if count > 1 && matches!(self.rendering, DocumentRendering::Cda | DocumentRendering::Mdm) {
            return Err(RenderError::SeveralDocuments { rendering: self.rendering.as_str(), count });
        }
        Ok(())
    }

    /// The document's rendering, its content type, and the MSH-10 of an HL7 v2 message written here.
    fn render_document(&self, source: &Source<'_>) -> Result<(Vec<u8>, &'static str, Option<String>), RenderError> {
        let msg = source.model;
        self.check_document(msg)?;
        match self.rendering {
            DocumentRendering::Cda => Ok((self.cda(source)?.into_owned(), CDA_CONTENT_TYPE, None)),
            DocumentRendering::FhirBundle => Ok((self.fhir(source, DocumentLayout::Binary)?, FHIR_CONTENT_TYPE, None)),
            DocumentRendering::Mhd => Ok((self.fhir(source, DocumentLayout::Mhd)?, FHIR_CONTENT_TYPE, None)),
            DocumentRendering::Mdm | DocumentRendering::Oru => {
                let kind = if self.rendering == DocumentRendering::Mdm { DocumentMessage::Mdm } else { DocumentMessage::Oru };
                // An HL7 v2 source of the same message type goes as it came (re-encoded if asked).
                let same_type =
                    source.hl7v2.is_some_and(|_| msg.envelope.event.source.message_type == if kind == DocumentMessage::Mdm { "MDM" } else { "ORU" });
                if same_type {
                    return Ok((self.reencode(source)?, HL7V2_CONTENT_TYPE, None));
                }
                let mut cdas = vec![self.cda(source)?];
                for (companion, payload) in msg.document().into_iter().flat_map(|d| d.companions.iter()).zip(source.documents.iter().skip(1)) {
                    cdas.push(self.cda_of(source.model, payload, Some(companion))?);
                }
                let envelope = &msg.envelope;
                let id = msg.document().and_then(|d| d.id.extension.clone()).unwrap_or_else(|| envelope.message_id.clone());
                let control_id: String = id.chars().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
                let options = self.compose_options(msg, &control_id, envelope.sent_at.or_else(|| msg.document().and_then(|d| d.effective_time)));
                let cdas: Vec<&[u8]> = cdas.iter().map(|c| c.as_ref()).collect();
                let bytes = compose_document(msg, &cdas, kind, &options)?;
                Ok((bytes, HL7V2_CONTENT_TYPE, Some(control_id)))
            }
        }
    }
}
