//! model::Document → FHIR DocumentReference (the PDSm shape): masterIdentifier from the document
//! id, type, security label, subject, replacement, and the document itself as the attachment
//! (content type, size, SHA-1 hash, data).

use crate::types::{
    Attachment, CodeableConcept, Coding, DocumentReference, DocumentReferenceContent, DocumentReferenceRelatesTo, Identifier, Reference, Str, b, ob,
};
use passerelle_model as m;
use passerelle_model::TimeZoneRule;

/// FHIR systems for the code system OIDs documents use most; any other OID becomes `urn:oid:`.
fn code_system(oid: &str) -> Str<'_> {
    match oid {
        "2.16.840.1.113883.6.1" => b("http://loinc.org"),
        "2.16.840.1.113883.5.25" => b("http://terminology.hl7.org/CodeSystem/v3-Confidentiality"),
        _ => Str::Owned(format!("urn:oid:{oid}")),
    }
}

fn coding(c: &m::Code) -> Coding<'_> {
    Coding { system: (!c.system.is_empty()).then(|| code_system(&c.system)), code: Some(b(&c.code)), display: ob(&c.display) }
}

/// An `II` as a FHIR identifier: root as `urn:oid:` system and extension as value, or the root
/// alone as a `urn:oid:` value (FHIR's rule for an OID that is itself the identifier).
fn instance_identifier(id: &m::InstanceId) -> Identifier<'_> {
    match &id.extension {
        Some(ext) => Identifier { system: Some(Str::Owned(format!("urn:oid:{}", id.root))), value: Some(b(ext)), ..Identifier::default() },
        None => Identifier { system: Some(b("urn:ietf:rfc:3986")), value: Some(Str::Owned(format!("urn:oid:{}", id.root))), ..Identifier::default() },
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The DocumentReference of `doc`, whose bytes as received are `raw` (a CDA document: the
/// attachment is the document itself), for the patient at `subject`.
pub fn document_reference<'m>(doc: &'m m::Document, raw: &[u8], subject: Option<Str<'m>>, tz: TimeZoneRule) -> DocumentReference<'m> {
    let attachment = Attachment {
        content_type: Some(b("text/xml")),
        language: ob(&doc.language),
        data: Some(Str::Owned(base64(raw))),
        size: Some(raw.len() as u64),
        hash: Some(Str::Owned(base64(&sha1_smol::Sha1::from(raw).digest().bytes()))),
        title: ob(&doc.title),
    };
    DocumentReference {
        master_identifier: (!doc.id.root.is_empty()).then(|| instance_identifier(&doc.id)),
        status: b("current"),
        type_: doc.type_code.as_ref().map(|c| CodeableConcept::coding(coding(c))),
        subject: subject.map(|r| Reference { reference: Some(r), ..Reference::default() }),
        date: doc.effective_time.and_then(|t| t.fhir_instant(tz)).map(Str::Owned),
        description: ob(&doc.title),
        security_label: doc.confidentiality.iter().map(|c| CodeableConcept::coding(coding(c))).collect(),
        relates_to: doc
            .replaces
            .iter()
            .map(|r| DocumentReferenceRelatesTo { code: b("replaces"), target: Reference { identifier: Some(instance_identifier(r)), ..Reference::default() } })
            .collect(),
        content: vec![DocumentReferenceContent { attachment, format: None }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, expected) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
