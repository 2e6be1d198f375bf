//! CDA R2 → model: a streaming reader (quick-xml `NsReader`, namespace-aware) of the document
//! header into `Content::Document`, the patient from `recordTarget` through the model's identity
//! rules, and a reference to the body bytes, which are never copied.
//!
//! Safe by construction: a DOCTYPE is refused (so no entity can be declared, let alone expanded:
//! no XXE, no billion laughs), input size and element depth are bounded, and only UTF-8 is read.

mod header;
mod indent;
mod patient;
mod reader;
mod writer;

pub use indent::indent_xml;
pub use writer::{EncodeError, encode};

use passerelle_model::{Message, Parsed};

/// The CDA R2 namespace.
pub const NS_HL7_V3: &str = "urn:hl7-org:v3";

#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// Larger input is refused before it is read (a level-1 PDF document can reach tens of MB).
    pub max_bytes: usize,
    /// Deeper nesting is refused (CDA narrative rarely passes 30 levels).
    pub max_depth: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self { max_bytes: 64 * 1024 * 1024, max_depth: 256 }
    }
}

/// Why the bytes are not a CDA document that can be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdaError {
    #[error("document of {size} bytes exceeds the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("not utf-8 xml (only utf-8 cda documents are read)")]
    NotUtf8,
    #[error("not well-formed xml at byte {position}: {message}")]
    NotXml { position: u64, message: String },
    #[error("a doctype is refused: cda needs none, and entities are never expanded")]
    Doctype,
    #[error("elements nested deeper than {max}")]
    TooDeep { max: usize },
    #[error("the root element is not ClinicalDocument in the urn:hl7-org:v3 namespace")]
    NotCda,
}

/// Decodes a CDA R2 document: the model message (envelope from the header, the patient, the
/// document metadata and body reference) with diagnostics located by XPath.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Parsed<Message>, CdaError> {
    if bytes.len() > options.max_bytes {
        return Err(CdaError::TooLarge { size: bytes.len(), max: options.max_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CdaError::NotUtf8)?;
    let header = reader::read(text, options)?;
    Ok(header::into_message(header))
}
