//! The document entries of a rendered Bundle, under the layout the destination asked for: the
//! DocumentReference with its bytes inline, DocumentReference + Binary (city-practice transaction),
//! or an IHE MHD ITI-65 provide-document bundle (SubmissionSet List + DocumentReference + Binary).

use crate::document::{DocumentBytes, document_reference};
use crate::types::{
    Base64Data, Binary, Bundle, BundleEntry, CodeableConcept, Coding, Extension, Identifier, List, ListEntry, Meta, Reference, Resource, Str, b,
};
use passerelle_model::{Message, TimeZoneRule};

/// How a document travels in the Bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentLayout {
    /// The DocumentReference carries the bytes in `attachment.data`.
    #[default]
    Inline,
    /// Patient + DocumentReference + Binary in one transaction (`rendering = "fhir-bundle"`).
    Binary,
    /// IHE MHD ITI-65: SubmissionSet List + DocumentReference + Binary (`rendering = "mhd"`).
    Mhd,
}

pub const MHD_PROVIDE_BUNDLE: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle";
const MHD_SUBMISSION_SET: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.SubmissionSet";
const MHD_SOURCE_ID: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId";

fn post<'a>(resource: Resource<'a>, full_url: String, type_name: &'static str) -> BundleEntry<'a> {
    crate::bundle::entry(resource, full_url, None, type_name)
}

/// A UUID as the OID `2.25.<its 128-bit value>` (ITU-T X.667), for identifiers XDS wants as OIDs.
fn uuid_oid(uuid: &str) -> String {
    let hex: String = uuid.trim_start_matches("urn:uuid:").chars().filter(char::is_ascii_hexdigit).collect();
    format!("2.25.{}", u128::from_str_radix(&hex, 16).unwrap_or_default())
}

/// Context the document entries need from the rest of the bundle.
pub struct DocumentContext<'m, 'u> {
    pub msg: &'m Message,
    /// The bytes of the document, then of each companion.
    pub documents: &'m [DocumentBytes<'m>],
    /// The Patient entry's fullUrl, when the bundle holds one.
    pub patient_url: Option<String>,
    /// The patient as a logical reference by identifier (MHD: by INS when there is one).
    pub patient_identifier: Option<Identifier<'m>>,
    pub full_url: &'u dyn Fn(&str, &str) -> String,
    pub base_url: Option<&'u str>,
    pub tz: TimeZoneRule,
}

/// The Binary of one document and where the DocumentReference finds it: under a known base the
/// Binary gets its uuid as id, so that `attachment.url` is an absolute URL.
fn binary_entry<'m>(bytes: DocumentBytes<'m>, uuid: String, base_url: Option<&str>) -> (BundleEntry<'m>, String) {
    let id = uuid.trim_start_matches("urn:uuid:").to_owned();
    let url = match base_url {
        Some(base) => format!("{}/Binary/{id}", base.trim_end_matches('/')),
        None => uuid,
    };
    let binary = Binary {
        id: base_url.map(|_| Str::Owned(id.clone())),
        content_type: Str::Owned(bytes.media_type.to_owned()),
        data: Some(Base64Data::Encode(bytes.bytes)),
    };
    let mut entry = post(Resource::Binary(Box::new(binary)), url.clone(), "Binary");
    if base_url.is_some() {
        entry.request = Some(crate::types::BundleRequest { method: "PUT".into(), url: format!("Binary/{id}").into() });
    }
    (entry, url)
}

/// Appends the documents' entries (the document, then its companions) to `bundle` under `layout`.
pub fn push_document_entries<'m>(bundle: &mut Bundle<'m>, layout: DocumentLayout, ctx: DocumentContext<'m, '_>) {
    let Some(doc) = ctx.msg.document() else { return };
    let literal_subject = ctx.patient_url.map(|r| Reference { reference: Some(Str::Owned(r)), ..Reference::default() });
    let logical_subject = ctx.patient_identifier.map(|id| Reference { identifier: Some(id), ..Reference::default() });
    let mut entries = Vec::new();
    let mut references = Vec::new();
    for (i, (document, &bytes)) in doc.all().zip(ctx.documents).enumerate() {
        let doc_url = (ctx.full_url)("DocumentReference", &(2 + 2 * i).to_string());
        let binary_uuid = (ctx.full_url)("Binary", &(3 + 2 * i).to_string());
        match layout {
            DocumentLayout::Inline | DocumentLayout::Binary => {
                let binary = (layout == DocumentLayout::Binary).then(|| binary_entry(bytes, binary_uuid, ctx.base_url));
                let subject = literal_subject.clone().or_else(|| logical_subject.clone());
                let resource = document_reference(document, bytes, binary.as_ref().map(|(_, url)| url.clone()), subject, ctx.tz);
                // Conditional on the document id: a resend updates instead of duplicating.
                let conditional = resource.master_identifier.as_ref().and_then(|id| {
                    Some(format!(
                        "DocumentReference?identifier={}|{}",
                        crate::bundle::query_escape(id.system.as_deref()?),
                        crate::bundle::query_escape(id.value.as_deref()?)
                    ))
                });
                entries.push(crate::bundle::entry(Resource::DocumentReference(Box::new(resource)), doc_url, conditional, "DocumentReference"));
                entries.extend(binary.map(|(entry, _)| entry));
            }
            DocumentLayout::Mhd => {
                let (binary, binary_url) = binary_entry(bytes, binary_uuid, ctx.base_url);
                let resource = document_reference(document, bytes, Some(binary_url), logical_subject.clone(), ctx.tz);
                references.push(ListEntry { item: Reference { reference: Some(Str::Owned(doc_url.clone())), ..Reference::default() } });
                entries.push(post(Resource::DocumentReference(Box::new(resource)), doc_url, "DocumentReference"));
                entries.push(binary);
            }
        }
    }
    if layout == DocumentLayout::Mhd {
        bundle.meta = Some(Meta::profiled(b(MHD_PROVIDE_BUNDLE)));
        let set_url = (ctx.full_url)("List", "1");
        let source = Some(doc.id.root.as_str()).filter(|r| !r.is_empty()).unwrap_or("2.25");
        let list = List {
            meta: Some(Meta::profiled(b(MHD_SUBMISSION_SET))),
            extension: vec![Extension {
                url: b(MHD_SOURCE_ID),
                value_identifier: Some(Identifier { value: Some(Str::Owned(format!("urn:oid:{source}"))), ..Identifier::default() }),
                ..Extension::default()
            }],
            identifier: vec![
                Identifier {
                    use_: Some(b("usual")),
                    system: Some(b("urn:ietf:rfc:3986")),
                    value: Some(Str::Owned(format!("urn:oid:{}", uuid_oid(&set_url)))),
                    ..Identifier::default()
                },
                Identifier {
                    use_: Some(b("official")),
                    system: Some(b("urn:ietf:rfc:3986")),
                    value: Some(Str::Owned(set_url.clone())),
                    ..Identifier::default()
                },
            ],
            status: b("current"),
            mode: b("working"),
            title: doc.title.as_deref().map(b),
            code: Some(CodeableConcept::coding(Coding {
                system: Some(b("https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes")),
                code: Some(b("submissionset")),
                display: None,
            })),
            subject: logical_subject,
            date: ctx.msg.envelope.sent_at.and_then(|t| t.fhir_instant(ctx.tz)).map(Str::Owned),
            entry: references,
        };
        bundle.entry.push(post(Resource::List(Box::new(list)), set_url, "List"));
    }
    bundle.entry.append(&mut entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_becomes_its_2_25_oid() {
        assert_eq!(uuid_oid("urn:uuid:00000000-0000-0000-0000-000000000001"), "2.25.1");
        assert_eq!(uuid_oid("ffffffff-ffff-ffff-ffff-ffffffffffff"), format!("2.25.{}", u128::MAX));
    }
}
