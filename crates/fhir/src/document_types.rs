//! Hand-written FHIR R4 types of the document resources: DocumentReference, Binary and the List
//! an MHD SubmissionSet is.

use crate::types::{CodeableConcept, Coding, Extension, Identifier, Meta, Reference, Str};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `base64Binary` value: bytes encoded as they are written (never held twice as text), or the
/// text as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Base64Data<'a> {
    Encode(&'a [u8]),
    Text(Str<'a>),
}

impl Serialize for Base64Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Encode(bytes) => s.collect_str(&passerelle_model::base64::Base64Display(bytes)),
            Self::Text(text) => s.serialize_str(text),
        }
    }
}

/// Read borrowed from the input when it holds no JSON escape (a document is never copied then).
impl<'de: 'a, 'a> Deserialize<'de> for Base64Data<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::types::borrowed::string(d).map(Self::Text)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Str<'a>>,
    /// Where the bytes are when not inline (the Binary's fullUrl in a bundle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Str<'a>>,
    /// Base64 of the bytes.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub data: Option<Base64Data<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Base64 of the SHA-1 of the bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReferenceContent<'a> {
    #[serde(borrow)]
    pub attachment: Attachment<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub format: Option<Coding<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReferenceRelatesTo<'a> {
    pub code: Str<'a>,
    #[serde(borrow)]
    pub target: Reference<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub master_identifier: Option<Identifier<'a>>,
    pub status: Str<'a>,
    #[serde(borrow, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Str<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Str<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub security_label: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub author: Vec<Reference<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<Reference<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub custodian: Option<Reference<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub relates_to: Vec<DocumentReferenceRelatesTo<'a>>,
    #[serde(borrow)]
    pub content: Vec<DocumentReferenceContent<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub context: Option<DocumentReferenceContext<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReferenceContext<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub facility_type: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub practice_setting: Option<CodeableConcept<'a>>,
}

/// The document's bytes as their own resource (the attachment then points at it by `url`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binary<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Str<'a>>,
    pub content_type: Str<'a>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub data: Option<Base64Data<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEntry<'a> {
    #[serde(borrow)]
    pub item: Reference<'a>,
}

/// A List: the MHD SubmissionSet of an ITI-65 provide-document bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier<'a>>,
    pub status: Str<'a>,
    pub mode: Str<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Str<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Str<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<ListEntry<'a>>,
}
