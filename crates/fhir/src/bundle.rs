//! A message as a FHIR transaction Bundle: conditional update by identifier, deterministic and
//! collision-free `urn:uuid` fullUrls (name-based SHA-1 UUIDs of sender, control id, type and index).

use crate::Profile;
use crate::document::DocumentBytes;
use crate::document_bundle::{DocumentContext, DocumentLayout, push_document_entries};
use crate::encounter::encounter;
use crate::patient::{identifier, patient, system_of};
use crate::types::{Bundle, BundleEntry, BundleRequest, Resource};
use passerelle_model::{Identifier, IdentifierKind, Issue, Message, TimeZoneRule};

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    pub profile: Profile,
    pub time_zone: TimeZoneRule,
    /// The documents' bytes, for a document message (the document, then its companions): each
    /// DocumentReference carries its own.
    pub documents: &'a [DocumentBytes<'a>],
    pub document_layout: DocumentLayout,
    /// A medico-social (TDDUI) receiver: a patient without INS gets the local id `3` + FINESS + `/` + id.
    pub medico_social: bool,
    /// The receiving server's base URL: the document's Binary then gets a client-assigned id
    /// (`PUT Binary/<uuid>`, fullUrl under the base) that `attachment.url` names absolutely.
    pub base_url: Option<&'a str>,
}

/// Name-based UUID from SHA-1 of the parts joined by `|`, without building the joined string.
pub fn uuid_from_parts(parts: &[&[u8]]) -> String {
    use sha1::Digest;
    let mut sha = sha1::Sha1::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            sha.update(b"|");
        }
        sha.update(p);
    }
    let digest = sha.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 0x0f)]));
    }
    out
}

pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '&' => out.push_str("%26"),
            '#' => out.push_str("%23"),
            '+' => out.push_str("%2B"),
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            _ => out.push(c),
        }
    }
    out
}

/// `identifier=system|value` for the first identifier that has a system, by preference order.
fn conditional_url(resource: &str, ids: &[&Identifier]) -> Option<String> {
    ids.iter().find_map(|id| {
        let system = system_of(id)?;
        Some(format!("{resource}?identifier={}|{}", query_escape(&system), query_escape(&id.value)))
    })
}

/// Patient match key: the sender's IPP (stable across INS changes), then the INS, then NISS/BIS.
fn patient_keys(ids: &[Identifier]) -> Vec<&Identifier> {
    let rank = |k: IdentifierKind| match k {
        IdentifierKind::Ipp => 0,
        k if k.is_ins() => 1,
        IdentifierKind::Niss | IdentifierKind::Bis => 2,
        IdentifierKind::NirBilling => 9,
        _ => 3,
    };
    let mut v: Vec<&Identifier> = ids.iter().filter(|i| rank(i.kind) < 9).collect();
    v.sort_by_key(|i| rank(i.kind));
    v
}

pub(crate) fn entry<'a>(resource: Resource<'a>, full_url: String, conditional: Option<String>, type_name: &'static str) -> BundleEntry<'a> {
    let request = match conditional {
        Some(url) => BundleRequest { method: "PUT".into(), url: url.into() },
        None => BundleRequest { method: "POST".into(), url: type_name.into() },
    };
    BundleEntry { full_url: Some(full_url.into()), resource: Some(resource), request: Some(request) }
}

/// Renders the message as a transaction Bundle (Patient, then Encounter), with diagnostics.
pub fn render_bundle<'m>(msg: &'m Message, options: &RenderOptions<'m>) -> (Bundle<'m>, Vec<Issue>) {
    let mut issues = Vec::new();
    let profile = options.profile.resolve(msg);
    let tz = options.time_zone;
    let envelope = &msg.envelope;
    let event = envelope.event.source.code();
    let sent_at = envelope.sent_at.map(|t| t.hl7()).unwrap_or_default();
    let scope: [&[u8]; 5] = [
        envelope.sender.application.as_deref().unwrap_or("").as_bytes(),
        envelope.sender.facility.as_deref().unwrap_or("").as_bytes(),
        envelope.message_id.as_bytes(),
        event.as_bytes(),
        sent_at.as_bytes(),
    ];
    let full_url = |resource: &str, index: &str| {
        let mut s = String::with_capacity(45);
        s.push_str("urn:uuid:");
        s.push_str(&uuid_from_parts(&[scope[0], scope[1], scope[2], scope[3], scope[4], resource.as_bytes(), index.as_bytes()]));
        s
    };
    let mut bundle = Bundle { type_: "transaction".into(), timestamp: envelope.sent_at.and_then(|t| t.fhir_instant(tz)).map(Into::into), ..Bundle::default() };
    let mut patient_ref = None;
    // ITI-65 references the patient the recipient already knows: an MHD bundle carries no Patient.
    let mhd = options.document_layout == DocumentLayout::Mhd && msg.document().is_some();
    if let Some(p) = msg.patient.as_ref().filter(|_| !mhd) {
        let mut resource = patient(p, msg.merge(), &envelope.event.source.trigger, profile, tz);
        if options.medico_social && p.ins().is_none() {
            crate::tddui::apply_local_id_rule(&mut resource, msg, &mut issues);
        }
        let full_url = full_url("Patient", "0");
        let conditional = conditional_url("Patient", &patient_keys(&p.identifiers));
        if conditional.is_none() {
            issues.push(Issue::warning("fhir-no-conditional-key", "no patient identifier with a system: the Patient is created, not updated"));
        }
        bundle.entry.push(entry(Resource::Patient(Box::new(resource)), full_url.clone(), conditional, "Patient"));
        patient_ref = Some(full_url);
    }
    let mut encounter_ref = None;
    if let Some(e) = msg.encounter().filter(|_| !mhd) {
        let meaningful = e.key().is_some() || !matches!(e.class, None | Some(passerelle_model::PatientClass::NotApplicable));
        if meaningful {
            let resource = encounter(e, &envelope.event.source.trigger, patient_ref.clone().map(crate::types::Str::Owned), profile, tz);
            let full_url = full_url("Encounter", "1");
            let keys: Vec<&Identifier> = e.visit_number.iter().chain(e.nda.iter()).collect();
            let conditional = conditional_url("Encounter", &keys);
            bundle.entry.push(entry(Resource::Encounter(Box::new(resource)), full_url.clone(), conditional, "Encounter"));
            encounter_ref = Some(full_url);
        }
    }
    if let Some(clinical) = msg.clinical() {
        let subject = crate::results::Subject { patient: patient_ref.clone().map(Into::into), encounter: encounter_ref.map(Into::into) };
        let trigger = envelope.event.source.trigger.as_str();
        crate::clinical_bundle::push_clinical_entries(&mut bundle, clinical, trigger, &subject, &full_url, tz, &mut issues);
    }
    if let Some(doc) = msg.document() {
        match options.documents.len() == doc.all().count() {
            true => {
                let bytes = options.documents;
                let layout = options.document_layout;
                let patient_identifier = msg.patient.as_ref().and_then(|p| p.ins().or_else(|| patient_keys(&p.identifiers).first().copied())).map(identifier);
                let patient_url = patient_ref.clone();
                push_document_entries(
                    &mut bundle,
                    layout,
                    DocumentContext { msg, documents: bytes, patient_url, patient_identifier, full_url: &full_url, base_url: options.base_url, tz },
                );
            }
            false => issues.push(Issue::error("document-bytes-missing", "a document's DocumentReference needs the document's bytes")),
        }
    }
    (bundle, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_deterministic_distinct_and_well_formed() {
        let a = uuid_from_parts(&[b"APP", b"FAC", b"1", b"10", b"Patient", b"0"]);
        assert_eq!(a, uuid_from_parts(&[b"APP|FAC|1|10|Patient|0"]), "parts are joined by |");
        assert_ne!(a, uuid_from_parts(&[b"APP", b"FAC", b"1", b"10", b"Encounter", b"1"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
    }
}
