//! The medico-social (TDDUI) patient identifier rule: without an INS, the patient's local id is
//! `3` + the structure's FINESS + `/` + the local id (TRE_G08 prefix 3), in the PI identifier.

use crate::types::{Patient, Str};
use passerelle_model::{Issue, Message};

/// idNatSt root; an extension `1` + FINESS names a FINESS structure.
const ID_NAT_ST: &str = "1.2.250.1.71.4.2.2";

/// The FINESS of the structure that assigned the local id: the document custodian's idNatSt,
/// else a sending facility that is itself a FINESS (nine characters, digits or 2A/2B).
fn finess(msg: &Message) -> Option<String> {
    let custodian = msg.document().and_then(|d| d.custodian.as_ref()).and_then(|c| c.id.as_ref()).filter(|id| id.root == ID_NAT_ST);
    if let Some(ext) = custodian.and_then(|id| id.extension.as_deref()).and_then(|e| e.strip_prefix('1')) {
        return Some(ext.to_owned());
    }
    let facility = msg.envelope.sender.facility.as_deref()?;
    let looks_like_finess = facility.len() == 9 && facility.bytes().enumerate().all(|(i, c)| c.is_ascii_digit() || (i == 1 && matches!(c, b'A' | b'B')));
    looks_like_finess.then(|| facility.to_owned())
}

/// Rewrites the PI identifier of `patient` under the TDDUI rule, or warns why it cannot.
pub fn apply_local_id_rule(patient: &mut Patient<'_>, msg: &Message, issues: &mut Vec<Issue>) {
    let is_pi = |t: &Option<crate::types::CodeableConcept<'_>>| t.as_ref().is_some_and(|t| t.coding.iter().any(|c| c.code.as_deref() == Some("PI")));
    let Some(local) = patient.identifier.iter_mut().find(|i| is_pi(&i.type_)) else {
        issues.push(Issue::warning("tddui-no-local-id", "medico-social destination: the patient has neither INS nor local identifier"));
        return;
    };
    let Some(finess) = finess(msg) else {
        issues.push(Issue::warning("tddui-no-finess", "medico-social destination: no FINESS (custodian idNatSt or sending facility) for the local id rule"));
        return;
    };
    let value = local.value.as_deref().unwrap_or_default();
    if !value.starts_with('3') || !value.contains('/') {
        local.value = Some(Str::Owned(format!("3{finess}/{value}")));
    }
}
