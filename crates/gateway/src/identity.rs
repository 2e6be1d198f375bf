//! The patient's stable identity for FHIR input: created or found by its identifiers (atomic, so
//! concurrent first posts of one person make one identity), or, for an Encounter posted alone,
//! found by its subject reference, never created.

use crate::pipeline::identifier_rows;
use passerelle_fhir::read_input::IDENTITY_SYSTEM;
use passerelle_model::{Authority, Issue, Message, Parsed, apply_identity_rules, classify};
use passerelle_store::{IdentityResolution, Store};

/// The identity and whether it was created now; `None` (with an error diagnostic when it
/// refuses the message) otherwise. Sets the event's trigger to `create` or `update`.
pub async fn resolve(store: &dyn Store, message: &mut Parsed<Message>, now_ms: i64) -> Option<(i64, bool)> {
    if message.value.envelope.event.source.trigger == "reference" {
        return find_referenced(store, message).await;
    }
    let keys: Vec<(String, String)> = identifier_rows(&message.value).into_iter().map(|i| (i.system, i.value)).collect();
    if keys.is_empty() {
        return None;
    }
    let source = &mut message.value.envelope.event.source;
    match store.resolve_identity(keys, now_ms).await {
        Ok(IdentityResolution::Created(id)) => {
            source.trigger = "create".into();
            Some((id, true))
        }
        Ok(IdentityResolution::Known(id)) => {
            source.trigger = "update".into();
            Some((id, false))
        }
        Ok(IdentityResolution::Conflict(ids)) => {
            conflict(message, ids.len());
            None
        }
        Err(e) => {
            unavailable(message, &e.to_string());
            None
        }
    }
}

fn conflict(message: &mut Parsed<Message>, count: usize) {
    let text = format!("the identifiers belong to {count} different identities; they are never merged silently");
    message.issues.push(Issue::error("identity-conflict", text).at_path("Patient.identifier"));
}

fn unavailable(message: &mut Parsed<Message>, why: &str) {
    message.issues.push(Issue::error("identity-unavailable", format!("the identity table cannot be read: {why}")).at_path("Patient.identifier"));
}

/// The person an Encounter's subject names (`Patient/<id>` or `Patient?identifier=…`): found, and
/// the message's patient then carries every identifier that identity holds; unknown, refused.
async fn find_referenced(store: &dyn Store, message: &mut Parsed<Message>) -> Option<(i64, bool)> {
    let ids = message.value.patient.as_ref().map(|p| p.identifiers.clone()).unwrap_or_default();
    let by_id = ids.iter().find(|i| i.namespace.as_deref() == Some(IDENTITY_SYSTEM)).and_then(|i| i.value.parse::<i64>().ok());
    let found = match by_id {
        Some(id) => store.identity_keys(id).await.map(|keys| (!keys.is_empty()).then_some((id, keys))),
        None => {
            let keys: Vec<(String, String)> = identifier_rows(&message.value).into_iter().map(|i| (i.system, i.value)).collect();
            match store.find_identities(keys).await {
                Ok(found) if found.len() > 1 => {
                    conflict(message, found.len());
                    return None;
                }
                Ok(found) => match found.first() {
                    Some(&id) => store.identity_keys(id).await.map(|keys| Some((id, keys))),
                    None => Ok(None),
                },
                Err(e) => Err(e),
            }
        }
    };
    match found {
        Ok(Some((id, keys))) => {
            if let Some(patient) = message.value.patient.as_mut() {
                patient.identifiers = keys.iter().map(|(system, value)| classify(value, Authority::from_fhir_system(Some(system), None)).0).collect();
                // This message says nothing of the identity's trust: an INS is not carried on (the
                // identity rules keep an INS only with a validated identity).
                let rules = apply_identity_rules(patient);
                message.issues.extend(rules.into_iter().map(|i| i.at_path("Encounter.subject")));
            }
            message.value.envelope.event.source.trigger = "update".into();
            Some((id, false))
        }
        Ok(None) => {
            let text = "the Encounter's subject names no patient known here: post the Patient first";
            message.issues.push(Issue::error("patient-unknown", text).at_path("Encounter.subject.reference"));
            None
        }
        Err(e) => {
            unavailable(message, &e.to_string());
            None
        }
    }
}
