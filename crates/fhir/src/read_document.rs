//! FHIR DocumentReference → model document: masterIdentifier as the document id (`urn:oid:` root
//! and extension), type, date, confidentiality, replaced document, entered-in-error as a
//! deletion, and the bytes located in the input, inline (`attachment.data`) or in the Bundle's
//! Binary the attachment's `url` names; the gateway then decodes them (and reads a CDA's header)
//! as it does for an MDM's document OBX.

use crate::ReadError;
use crate::document_types::{Base64Data, Binary, DocumentReference};
use crate::types::{Identifier, Str};
use passerelle_model as m;
use std::borrow::Cow;

/// The OID of a FHIR system (`urn:oid:` stripped; LOINC and the confidentiality codes by theirs).
fn oid_of(system: &str) -> String {
    match system {
        "http://loinc.org" => "2.16.840.1.113883.6.1".into(),
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality" => "2.16.840.1.113883.5.25".into(),
        other => other.strip_prefix("urn:oid:").unwrap_or(other).into(),
    }
}

/// An identifier as an instance id: `urn:oid:R` + value E is `R`/`E`; an `urn:ietf:rfc:3986`
/// value `urn:oid:R` is the root alone.
fn instance_id(id: &Identifier<'_>) -> Option<m::InstanceId> {
    let value = id.value.as_deref()?;
    match id.system.as_deref() {
        Some("urn:ietf:rfc:3986") | None => Some(m::InstanceId { root: value.strip_prefix("urn:oid:").unwrap_or(value).into(), extension: None }),
        Some(system) => Some(m::InstanceId { root: oid_of(system), extension: Some(value.into()) }),
    }
}

fn code(c: &crate::types::CodeableConcept<'_>) -> Option<m::Code> {
    let k = c.coding.first()?;
    Some(m::Code {
        code: k.code.as_deref()?.into(),
        system: k.system.as_deref().map(oid_of).unwrap_or_default(),
        display: k.display.as_deref().map(str::to_owned),
    })
}

/// Where base64 text sits in `input` (it must be borrowed from it: JSON escapes inside base64
/// would need a copy of a document of tens of MB, and base64 never needs them).
fn span_in(input: &str, text: &Str<'_>, at: &str) -> Result<(usize, usize), ReadError> {
    let Cow::Borrowed(borrowed) = text else {
        return Err(ReadError::invalid("base64 data holding JSON escapes (such as \\/) is not read: send it unescaped".into(), at.to_owned()));
    };
    let offset = borrowed.as_ptr() as usize - input.as_ptr() as usize;
    Ok((offset, borrowed.len()))
}

/// The model document of `d` (entry `at`), its bytes located in `input`; `binaries` are the
/// Bundle's Binary resources by fullUrl.
pub fn to_model(d: &DocumentReference<'_>, at: &str, input: &str, binaries: &[(Option<Cow<'_, str>>, Box<Binary<'_>>)]) -> Result<m::Document, ReadError> {
    let attachment =
        d.content.first().map(|c| &c.attachment).ok_or_else(|| ReadError::invalid("a DocumentReference without content".into(), format!("{at}.content")))?;
    let data_at = format!("{at}.content[0].attachment.data");
    let (data, media_type, data_at) = match (&attachment.data, attachment.url.as_deref()) {
        (Some(Base64Data::Text(text)), _) => (text, attachment.content_type.as_deref().unwrap_or("application/octet-stream").to_owned(), data_at),
        (_, Some(url)) => {
            let found = binaries.iter().find(|(full_url, _)| full_url.as_deref() == Some(url));
            let Some((_, binary)) = found else {
                return Err(ReadError::invalid(
                    format!("the attachment url {url:?} names no Binary of this Bundle"),
                    format!("{at}.content[0].attachment.url"),
                ));
            };
            let Some(Base64Data::Text(text)) = &binary.data else {
                return Err(ReadError::invalid("the Binary holds no data".into(), format!("{at}.content[0].attachment.url")));
            };
            (text, binary.content_type.to_string(), "Binary.data".to_owned())
        }
        _ => return Err(ReadError::invalid("the document's bytes are neither inline nor in a Binary of this Bundle".into(), data_at)),
    };
    let (offset, length) = span_in(input, data, &data_at)?;
    // The gateway reads a CDA's header from `text/xml` (as for an MDM's XML document).
    let media_type = if matches!(media_type.as_str(), "text/xml" | "application/xml" | "application/hl7-v3+xml" | "application/hl7-cda+xml") {
        "text/xml".to_owned()
    } else {
        media_type
    };
    let date = d
        .date
        .as_deref()
        .map(|t| m::PartialDateTime::parse_fhir(t).ok_or_else(|| ReadError::invalid(format!("{t:?} is not a fhir instant"), format!("{at}.date"))))
        .transpose()?;
    Ok(m::Document {
        id: d.master_identifier.as_ref().and_then(instance_id).unwrap_or_default(),
        type_code: d.type_.as_ref().and_then(code),
        title: attachment.title.as_deref().or(d.description.as_deref()).map(str::to_owned),
        effective_time: date,
        confidentiality: d.security_label.first().and_then(code),
        replaces: d.relates_to.iter().find(|r| r.code == "replaces").and_then(|r| r.target.identifier.as_ref()).and_then(instance_id),
        deleted: d.status == "entered-in-error",
        content: Some(m::ContentRef { media_type, offset, length, base64: true }),
        ..m::Document::default()
    })
}
