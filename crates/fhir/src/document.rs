//! model::Document → FHIR DocumentReference (the PDSm shape): masterIdentifier from the document
//! id, type, security label, subject, author, authenticator, custodian, context (facility type,
//! practice setting), replacement, and the document as the attachment (content type, size,
//! SHA-1 hash, and the data inline or a Binary's url).

use crate::codes::concept;
use crate::types::{
    Attachment, Base64Data, Coding, DocumentReference, DocumentReferenceContent, DocumentReferenceContext, DocumentReferenceRelatesTo, Identifier, Reference,
    Str, b, ob,
};
use passerelle_model as m;
use passerelle_model::TimeZoneRule;
pub use passerelle_model::base64::encode as base64;

/// The bytes a document's renderings carry, and what they are: the CDA itself (`text/xml`) or
/// the document an HL7 v2 OBX carried (`application/pdf`…).
#[derive(Debug, Clone, Copy)]
pub struct DocumentBytes<'a> {
    pub bytes: &'a [u8],
    pub media_type: &'a str,
}

/// An `II` as a FHIR identifier: root as `urn:oid:` system and extension as value, or the root
/// alone as a `urn:oid:` value (FHIR's rule for an OID that is itself the identifier).
pub fn instance_identifier(id: &m::InstanceId) -> Identifier<'_> {
    match &id.extension {
        Some(ext) => Identifier { system: Some(Str::Owned(format!("urn:oid:{}", id.root))), value: Some(b(ext)), ..Identifier::default() },
        None => Identifier { system: Some(b("urn:ietf:rfc:3986")), value: Some(Str::Owned(format!("urn:oid:{}", id.root))), ..Identifier::default() },
    }
}

/// A person of the header as a logical reference: the idNatPS (or other id) and the name.
fn person(p: &m::Participant) -> Option<Reference<'_>> {
    let name = [p.given.as_deref(), p.family.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let display = (!name.is_empty()).then_some(Str::Owned(name)).or_else(|| p.organisation.as_ref().and_then(|o| ob(&o.name)));
    let identifier = p.id.as_ref().map(instance_identifier);
    (identifier.is_some() || display.is_some()).then_some(Reference { identifier, display, ..Reference::default() })
}

fn organisation(o: &m::Organisation) -> Option<Reference<'_>> {
    let reference = Reference { identifier: o.id.as_ref().map(instance_identifier), display: ob(&o.name), ..Reference::default() };
    (reference.identifier.is_some() || reference.display.is_some()).then_some(reference)
}

/// The IHE format code of a level-1 document whose body is `media_type`, when there is one.
fn format_code(doc: &m::Document) -> Option<Coding<'static>> {
    let code = match doc.content.as_ref()?.media_type.as_str() {
        "application/pdf" => "urn:ihe:iti:xds-sd:pdf:2008",
        "text/plain" => "urn:ihe:iti:xds-sd:text:2008",
        _ => return None,
    };
    Some(Coding { system: Some(b("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode")), code: Some(b(code)), display: None })
}

/// The DocumentReference of `doc` for the patient at `subject`. With `binary_url` the attachment
/// points at that Binary; without it the bytes are inline.
pub fn document_reference<'m>(
    doc: &'m m::Document,
    bytes: DocumentBytes<'m>,
    binary_url: Option<String>,
    subject: Option<Reference<'m>>,
    tz: TimeZoneRule,
) -> DocumentReference<'m> {
    let raw = bytes.bytes;
    let attachment = Attachment {
        content_type: Some(Str::Owned(bytes.media_type.to_owned())),
        language: ob(&doc.language),
        data: binary_url.is_none().then_some(Base64Data::Encode(raw)),
        url: binary_url.map(Str::Owned),
        size: Some(raw.len() as u64),
        hash: Some(Str::Owned(base64(&<sha1::Sha1 as sha1::Digest>::digest(raw)))),
        title: ob(&doc.title),
    };
    let context =
        DocumentReferenceContext { facility_type: doc.facility_type.as_ref().map(concept), practice_setting: doc.practice_setting.as_ref().map(concept) };
    DocumentReference {
        master_identifier: (!doc.id.root.is_empty()).then(|| instance_identifier(&doc.id)),
        // A deletion (MDM^T04, OBX-11 D) marks the reference as entered in error.
        status: b(if doc.deleted { "entered-in-error" } else { "current" }),
        type_: doc.type_code.as_ref().map(concept),
        subject,
        date: doc.effective_time.and_then(|t| t.fhir_instant(tz)).map(Str::Owned),
        description: ob(&doc.title),
        security_label: doc.confidentiality.iter().map(concept).collect(),
        author: doc.authors.iter().filter_map(person).collect(),
        authenticator: doc.legal_authenticator.as_ref().and_then(person),
        custodian: doc.custodian.as_ref().and_then(organisation),
        relates_to: doc
            .replaces
            .iter()
            .map(|r| DocumentReferenceRelatesTo { code: b("replaces"), target: Reference { identifier: Some(instance_identifier(r)), ..Reference::default() } })
            .collect(),
        content: vec![DocumentReferenceContent { attachment, format: format_code(doc) }],
        context: (context.facility_type.is_some() || context.practice_setting.is_some()).then_some(context),
    }
}
