//! FHIR R4 Patient JSON → model::Patient (FR Core and BE core identifiers, identity reliability),
//! the base of the FHIR → HL7 v2 direction. The same INS rules apply as for HL7 v2 input.

use crate::patient::{CS_IDENTITY_STATUS, EXT_BIRTH_LIST_GIVEN, EXT_BIRTH_PLACE, EXT_IDENTITY_RELIABILITY, EXT_INSEE_CODE};
use crate::types::{Patient, Str};
use passerelle_model as m;
use passerelle_model::Parsed;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("expected a Patient resource or a Bundle containing one")]
    NoPatient,
    /// Well-formed JSON that is not a resource we read, or a value of the wrong type (a string
    /// "true" is not a boolean), with the FHIRPath of the fault.
    #[error("not a valid fhir patient or bundle: {message}")]
    Invalid { message: String, path: Option<String> },
}

impl ReadError {
    pub fn invalid(message: String, path: String) -> Self {
        Self::Invalid { message, path: Some(path) }
    }
    /// The FHIRPath of the fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Invalid { path, .. } => path.as_deref(),
            _ => None,
        }
    }
}

fn os(s: &Option<Str<'_>>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

fn vs(v: &[Str<'_>]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Reads a Patient (or the first Patient of a Bundle) into the model.
pub fn read_patient(json: &[u8]) -> Result<Parsed<m::Patient>, ReadError> {
    read(json).map(|r| r.patient)
}

/// How the sender asked for the patient: `create` (a Patient posted alone, or `POST` in a
/// Bundle) or `update` (`PUT`, a conditional update).
/// What a FHIR input says: the patient, how it was asked for, when, and an encounter of a Bundle.
struct Read {
    patient: Parsed<m::Patient>,
    intent: &'static str,
    sent_at: Option<m::PartialDateTime>,
    /// Bundle.identifier's value, the sender's message id (empty without one).
    message_id: String,
    encounter: Option<(m::Encounter, m::EventKind)>,
    /// The Patient declares an FR Core profile: a French sender (PAM-FR on the HL7 v2 side).
    fr_core: bool,
    /// What the Patient says it replaces: records merged into it (`link` `replaces`, A40) or
    /// identifiers it no longer has (`use` `old`, A47).
    merge: Option<(m::MergeInfo, m::EventKind)>,
    /// A message Bundle's event coded in HL7 table 0003 (`A04`), which then says the event.
    hl7_event: Option<String>,
    /// The Bundle's results (DiagnosticReports with their Observations).
    reports: Vec<m::Report>,
    /// The Bundle's document (its DocumentReferences: the first, the others its companions).
    document: Option<m::Document>,
}

const V2_0003: &str = "http://terminology.hl7.org/CodeSystem/v2-0003";

/// A model identifier from a FHIR one, classified by the model's identity rules.
/// `at` is the identifier's FHIRPath (`Patient.identifier[1]`), named by a classification issue.
fn model_identifier(id: &crate::types::Identifier<'_>, at: &str, issues: &mut Vec<m::Issue>) -> Option<m::Identifier> {
    let value = os(&id.value)?;
    let type_code = id.type_.as_ref().and_then(|t| t.coding.first()).and_then(|c| os(&c.code));
    let (mid, issue) = m::classify(&value, m::Authority::from_fhir_system(id.system.as_deref(), type_code.as_deref()));
    issues.extend(issue.map(|i| i.at_path(at.to_owned())));
    Some(mid)
}

fn merge_of(p: &Patient<'_>) -> Option<(m::MergeInfo, m::EventKind)> {
    let mut ignored = Vec::new();
    let merged: Vec<m::Identifier> = p
        .link
        .iter()
        .filter(|l| l.type_ == "replaces")
        .filter_map(|l| l.other.identifier.as_ref())
        .filter_map(|i| model_identifier(i, "Patient.link.other.identifier", &mut ignored))
        .collect();
    if !merged.is_empty() {
        return Some((m::MergeInfo { prior_identifiers: merged, ..m::MergeInfo::default() }, m::EventKind::Merge));
    }
    let old: Vec<m::Identifier> =
        p.identifier.iter().filter(|i| i.use_.as_deref() == Some("old")).filter_map(|i| model_identifier(i, "Patient.identifier", &mut ignored)).collect();
    (!old.is_empty()).then(|| (m::MergeInfo { prior_identifiers: old, ..m::MergeInfo::default() }, m::EventKind::IdentifierChange))
}

fn read(json: &[u8]) -> Result<Read, ReadError> {
    let json = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    let text = std::str::from_utf8(json).map_err(|e| ReadError::Invalid { message: format!("not utf-8: {e}"), path: None })?;
    let crate::read_input::InputParts { patient, method, timestamp, message_id, encounter, message_event, patient_by_reference, results, documents, .. } =
        crate::read_input::parse_input(text)?;
    let reports = if results.is_empty() { Vec::new() } else { crate::read_clinical::to_model(&results)? };
    let document = read_documents(&documents, json, text)?;
    // When it was sent: Bundle.timestamp, else the resource's meta.lastUpdated.
    let sent_at = timestamp.or_else(|| patient.meta.as_ref().and_then(|m| m.last_updated.clone())).as_deref().and_then(m::PartialDateTime::parse_fhir);
    // An Encounter alone refers to a person who must exist (`reference`); a Patient is created or updated.
    let intent = match (patient_by_reference, method.as_deref()) {
        (true, _) => "reference",
        (false, Some("PUT")) => "update",
        (false, _) => "create",
    };
    let fr_core = patient.meta.iter().flat_map(|m| m.profile.iter()).any(|url| url.starts_with("https://hl7.fr/ig/fhir/core/"));
    let encounter = encounter.map(|e| crate::read_encounter::to_model(&e));
    let merge = merge_of(&patient);
    let hl7_event = message_event.filter(|(system, code)| system == V2_0003 && !code.is_empty()).map(|(_, code)| code);
    let message_id = message_id.map(|id| id.into_owned()).unwrap_or_default();
    Ok(Read { patient: to_model(&patient), intent, sent_at, message_id, encounter, fr_core, merge, hl7_event, reports, document })
}

/// The DocumentReferences as one model document (the first) and its companions, their content
/// located in `json` (the input as received, BOM included).
fn read_documents(documents: &crate::read_input::Documents<'_>, json: &[u8], text: &str) -> Result<Option<m::Document>, ReadError> {
    let shift = text.as_ptr() as usize - json.as_ptr() as usize;
    let mut all = Vec::with_capacity(documents.references.len());
    for (i, d) in &documents.references {
        let mut doc = crate::read_document::to_model(d, &format!("Bundle.entry[{i}].resource"), text, &documents.binaries)?;
        if let Some(content) = doc.content.as_mut() {
            content.offset += shift;
        }
        all.push(doc);
    }
    let mut all = all.into_iter();
    Ok(all.next().map(|mut first| {
        first.companions = all.collect();
        first
    }))
}

/// FHIR JSON → a model message: the patient, and the event its request says (`create` is a new
/// person, HL7 v2 A28; `update` a person update, A31).
pub fn read_message(json: &[u8]) -> Result<Parsed<m::Message>, ReadError> {
    let Read { patient, intent, sent_at, message_id, encounter, fr_core, merge, hl7_event, reports, document } = read(json)?;
    let mut msg = m::Message::new(m::Format::Fhir);
    let (mut kind, structure) = match (&merge, &encounter) {
        _ if document.is_some() => (m::EventKind::Document, "DocumentReference"),
        _ if !reports.is_empty() => (m::EventKind::Results, "DiagnosticReport"),
        (Some((_, kind)), _) => (*kind, "Patient"),
        (None, Some((_, kind))) => (*kind, "Encounter"),
        (None, None) => (m::EventKind::PatientUpdate, "Patient"),
    };
    // A message Bundle says its event in its MessageHeader: that, not the resources' state, decides.
    let trigger = match hl7_event {
        Some(code) if m::EventKind::of_hl7v2("", &code) != m::EventKind::Other => {
            kind = m::EventKind::of_hl7v2("", &code);
            code
        }
        _ => intent.to_owned(),
    };
    msg.envelope.event = m::Event { kind, source: m::SourceEvent { message_type: "FHIR".into(), trigger, structure: structure.into() } };
    if let Some(document) = document {
        msg.content = m::Content::Document(document);
    } else if !reports.is_empty() {
        msg.content = m::Content::Clinical(m::Clinical { encounter: encounter.map(|(e, _)| e), reports, ..m::Clinical::default() });
    } else if encounter.is_some() || merge.is_some() {
        msg.content = m::Content::Administrative(m::Administrative { encounter: encounter.map(|(e, _)| e), merge: merge.map(|(m, _)| m) });
    }
    msg.envelope.sent_at = sent_at;
    msg.envelope.message_id = message_id;
    msg.envelope.french_profile = fr_core || patient.value.identifiers.iter().any(|i| i.kind.country() == Some(m::Country::Fr));
    msg.patient = Some(patient.value);
    Ok(Parsed::new(msg, patient.issues))
}

fn to_model(p: &Patient<'_>) -> Parsed<m::Patient> {
    let mut issues = Vec::new();
    let mut out = m::Patient::default();
    for ext in p.extension.iter().filter(|e| e.url == EXT_IDENTITY_RELIABILITY) {
        for sub in &ext.extension {
            let code = sub.value_coding.as_ref().and_then(|c| os(&c.code));
            match (sub.url.as_ref(), code) {
                ("identityStatus", Some(c)) => {
                    let system_ok =
                        sub.value_coding.as_ref().and_then(|c| c.system.as_deref()).is_none_or(|s| s == CS_IDENTITY_STATUS || s.contains("fr-core-cs"));
                    let v2 = match c.as_str() {
                        "QUAL" | "VALI" if system_ok => "VALI",
                        _ => "PROV",
                    };
                    out.trust.push_code(v2);
                }
                ("methodCollection", Some(c)) => out.trust.collection_method = Some(c),
                ("validationMode", Some(c)) => out.trust.proof_type = Some(c),
                ("dateInterrogationINSi", _) => out.trust.insi_query_date = sub.value_date.as_ref().map(|d| d.replace('-', "")),
                ("comment", _) => {
                    for c in sub.value_codeable_concept.iter().flat_map(|cc| cc.coding.iter()).filter_map(|c| c.code.as_deref()) {
                        out.trust.push_code(c);
                    }
                }
                _ => {}
            }
        }
    }
    // An `old` identifier is one the patient no longer has (an A47): not a current identifier.
    for (i, id) in p.identifier.iter().enumerate().filter(|(_, i)| i.use_.as_deref() != Some("old")) {
        out.identifiers.extend(model_identifier(id, &format!("Patient.identifier[{i}]"), &mut issues));
    }
    issues.extend(m::apply_identity_rules(&mut out).into_iter().map(|i| i.at_path("Patient.identifier")));
    for n in &p.name {
        let name_use = match n.use_.as_deref() {
            Some("official") => Some(m::NameUse::Birth),
            Some("usual") => Some(m::NameUse::Used),
            Some("maiden") => Some(m::NameUse::Maiden),
            Some("nickname") => Some(m::NameUse::Alias),
            _ => None,
        };
        out.names.push(m::HumanName {
            name_use,
            family: os(&n.family),
            given: vs(&n.given),
            prefix: n.prefix.first().map(|s| s.to_string()),
            suffix: n.suffix.first().map(|s| s.to_string()),
        });
    }
    out.sex = p.gender.as_deref().and_then(|g| match g {
        "male" => Some(m::Sex::Male),
        "female" => Some(m::Sex::Female),
        "other" => Some(m::Sex::Other),
        "unknown" => Some(m::Sex::Unknown),
        _ => None,
    });
    out.birth_date = p.birth_date.as_deref().and_then(m::PartialDateTime::parse_fhir);
    out.deceased = p.deceased_date_time.as_deref().and_then(m::PartialDateTime::parse_fhir);
    out.addresses = p
        .address
        .iter()
        .map(|a| m::Address {
            kind: None,
            lines: vs(&a.line),
            city: os(&a.city),
            state: os(&a.state),
            postal_code: os(&a.postal_code),
            country: os(&a.country),
            cog: None,
        })
        .collect();
    out.telecoms = p
        .telecom
        .iter()
        .filter_map(|t| Some(m::ContactPoint { system: os(&t.system).unwrap_or_else(|| "other".into()), usage: os(&t.use_), value: os(&t.value)? }))
        .collect();
    // FR Core birth place: the INSEE code (COG) of the commune or country of birth.
    let cog = p
        .extension
        .iter()
        .filter(|e| e.url == EXT_BIRTH_PLACE)
        .filter_map(|e| e.value_address.as_ref())
        .flat_map(|a| a.extension.iter())
        .find(|e| e.url == EXT_INSEE_CODE)
        .and_then(|e| e.value_coding.as_ref())
        .and_then(|c| os(&c.code));
    if let Some(cog) = &cog {
        out.addresses.push(m::Address { kind: Some("BDL".into()), cog: Some(cog.clone()), ..m::Address::default() });
    }
    // With a kept INS, the traits are read back exactly as FR Core carries them: the official
    // name (family, first birth given name, the list of birth given names in its extension).
    if out.ins().is_some()
        && let Some(official) = p.name.iter().find(|n| n.use_.as_deref() == Some("official"))
    {
        let list = official.extension.iter().find(|e| e.url == EXT_BIRTH_LIST_GIVEN).and_then(|e| os(&e.value_string));
        let first = official.given.first().map(|g| g.to_string()).unwrap_or_default();
        out.ins_traits = Some(m::InsTraits {
            birth_family_name: os(&official.family).unwrap_or_default(),
            birth_given_names: list.unwrap_or_else(|| first.clone()),
            first_birth_given_name: first,
            birth_date: out.birth_date.map(|d| d.hl7()),
            sex: out.sex.map(|s| match s {
                m::Sex::Male => "M".to_owned(),
                m::Sex::Female => "F".to_owned(),
                m::Sex::Other => "O".to_owned(),
                m::Sex::Unknown => "U".to_owned(),
            }),
            birth_place_cog: cog,
        });
    }
    Parsed::new(out, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found while building the load scenarios (issue 14): FHIR input was journaled without a
    /// control id, so the console could not find it by its message id; Bundle.identifier is it.
    #[test]
    fn a_fhir_bundle_was_journaled_without_its_message_id() {
        let bundle = br#"{"resourceType":"Bundle","type":"transaction","identifier":{"system":"urn:ietf:rfc:3986","value":"MSG-42"},
            "entry":[{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP1"}]},
            "request":{"method":"POST","url":"Patient"}}]}"#;
        let msg = read_message(bundle).map(|p| p.value).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(msg.envelope.message_id, "MSG-42");
        let alone = br#"{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP1"}]}"#;
        assert_eq!(read_message(alone).map(|p| p.value.envelope.message_id).unwrap_or_else(|e| panic!("{e:?}")), "");
    }
}
