//! Identity monitoring (identitovigilance, RNIV): alerts computed from the patients of the
//! journaled messages of a window. `diverging-traits`: one INS arriving with different strict
//! traits (birth name, first birth given name, birth date, sex, birth place); `two-ins-same-traits`:
//! the same strict traits under two INS; `wrong-key`: an INS refused for its check key;
//! `ipp-two-ins`: one facility's IPP linked to two INS; `trust-downgrade`: a patient's identity
//! going from qualified (VALI) to a lower status. Each alert names its identifier and its
//! messages; its id is stable (the kind and the key), so an acknowledgement sticks.

use passerelle_model::{Identifier, IdentityStatus, Message};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const KINDS: [&str; 5] = ["diverging-traits", "two-ins-same-traits", "wrong-key", "ipp-two-ins", "trust-downgrade"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertIdentifier {
    pub system: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: String,
    pub kind: &'static str,
    pub identifier: AlertIdentifier,
    pub messages: Vec<i64>,
    pub detail: String,
    pub acknowledged: bool,
}

/// One journaled message's patient, as the monitoring reads it.
pub struct Observed {
    pub id: i64,
    pub received_at_ms: i64,
    pub sender: String,
    pub diagnostics: String,
    pub message: Message,
}

fn system_of(id: &Identifier) -> String {
    id.system_uri().or_else(|| id.namespace.clone()).unwrap_or_default()
}

/// The strict traits, compared without case or surrounding spaces; `None` when any is missing.
type Traits = [String; 5];
const TRAIT_NAMES: [&str; 5] = ["birth name", "first birth given name", "birth date", "sex", "birth place"];

fn traits(m: &Message) -> Option<Traits> {
    let t = m.patient.as_ref()?.ins_traits.as_ref()?;
    let norm = |s: &str| s.trim().to_uppercase();
    Some([
        norm(&t.birth_family_name),
        norm(&t.first_birth_given_name),
        norm(t.birth_date.as_deref().unwrap_or_default()),
        norm(t.sex.as_deref().unwrap_or_default()),
        norm(t.birth_place_cog.as_deref().unwrap_or_default()),
    ])
}

fn ins_of(m: &Message) -> Option<AlertIdentifier> {
    let id = m.patient.as_ref()?.identifiers.iter().find(|i| i.kind.is_ins())?;
    Some(AlertIdentifier { system: system_of(id), value: id.value.clone() })
}

fn ipps_of(m: &Message) -> Vec<AlertIdentifier> {
    m.patient
        .iter()
        .flat_map(|p| &p.identifiers)
        .filter(|i| i.kind == passerelle_model::IdentifierKind::Ipp)
        .map(|i| AlertIdentifier { system: system_of(i), value: i.value.clone() })
        .collect()
}

fn alert(kind: &'static str, identifier: AlertIdentifier, messages: BTreeSet<i64>, detail: String) -> Alert {
    let id = format!("{kind}:{}|{}", identifier.system, identifier.value);
    Alert { id, kind, identifier, messages: messages.into_iter().collect(), detail, acknowledged: false }
}

/// An identifier as (system, value).
type Key = (String, String);
/// The messages of each INS.
type InsMessages = BTreeMap<Key, BTreeSet<i64>>;

/// Every alert the observed messages raise, in a stable order (kind, then identifier).
pub fn compute(observed: &[Observed]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let mut by_ins: BTreeMap<(String, String), Vec<&Observed>> = BTreeMap::new();
    let mut by_traits: BTreeMap<Traits, InsMessages> = BTreeMap::new();
    let mut by_ipp: BTreeMap<Key, InsMessages> = BTreeMap::new();
    for o in observed {
        if let Some(ins) = ins_of(&o.message) {
            let key = (ins.system.clone(), ins.value.clone());
            by_ins.entry(key.clone()).or_default().push(o);
            if let Some(t) = traits(&o.message).filter(|t| t.iter().all(|v| !v.is_empty())) {
                by_traits.entry(t).or_default().entry(key.clone()).or_default().insert(o.id);
            }
            for ipp in ipps_of(&o.message) {
                by_ipp.entry((ipp.system, ipp.value)).or_default().entry(key.clone()).or_default().insert(o.id);
            }
        }
        if o.diagnostics.contains("[ins-key-invalid]") {
            let named = ipps_of(&o.message).into_iter().next().unwrap_or(AlertIdentifier { system: String::new(), value: format!("message {}", o.id) });
            let mut a = alert("wrong-key", named, [o.id].into(), format!("an INS with a wrong check key was sent by {} and not used", o.sender));
            a.id = format!("wrong-key:message/{}", o.id);
            alerts.push(a);
        }
    }
    for ((system, value), messages) in &by_ins {
        let distinct: Vec<(Traits, &Observed)> = messages.iter().filter_map(|o| traits(&o.message).map(|t| (t, *o))).collect();
        let first = distinct.first();
        let differing: BTreeSet<&str> = distinct
            .iter()
            .flat_map(|(t, _)| first.map(|(f, _)| (0..5).filter(|i| f[*i] != t[*i]).map(|i| TRAIT_NAMES[i]).collect::<Vec<_>>()).unwrap_or_default())
            .collect();
        if !differing.is_empty() {
            let senders: BTreeSet<&str> = distinct.iter().map(|(_, o)| o.sender.as_str()).collect();
            let detail = format!(
                "{} differ between messages (senders: {})",
                differing.into_iter().collect::<Vec<_>>().join(", "),
                senders.into_iter().collect::<Vec<_>>().join(", ")
            );
            let ids = distinct.iter().map(|(_, o)| o.id).collect();
            alerts.push(alert("diverging-traits", AlertIdentifier { system: system.clone(), value: value.clone() }, ids, detail));
        }
    }
    // Trust, oldest first, per INS and per IPP (an INS is dropped from a message whose identity is
    // not qualified, so a downgrade is seen on the IPP): qualified, then less than qualified.
    let mut by_key: BTreeMap<(String, String), Vec<&Observed>> = BTreeMap::new();
    for o in observed {
        for key in ins_of(&o.message).into_iter().chain(ipps_of(&o.message)) {
            by_key.entry((key.system, key.value)).or_default().push(o);
        }
    }
    let status = |o: &Observed| o.message.patient.as_ref().map(|p| p.trust.statuses.clone()).unwrap_or_default();
    for ((system, value), mut ordered) in by_key {
        ordered.sort_by_key(|o| (o.received_at_ms, o.id));
        let Some(vali) = ordered.iter().position(|o| status(o).contains(&IdentityStatus::Vali)) else { continue };
        let later = ordered[vali..].iter().find(|o| {
            let s = status(o);
            !s.is_empty() && !s.contains(&IdentityStatus::Vali)
        });
        if let Some(lower) = later {
            let detail = format!("qualified (VALI) in message {}, then {:?} in message {}", ordered[vali].id, status(lower), lower.id);
            alerts.push(alert("trust-downgrade", AlertIdentifier { system, value }, [ordered[vali].id, lower.id].into(), detail));
        }
    }
    for (_, ins_map) in by_traits.iter().filter(|(_, m)| m.len() > 1) {
        let mut keys = ins_map.keys();
        let Some((system, value)) = keys.next() else { continue };
        let ids: BTreeSet<i64> = ins_map.values().flatten().copied().collect();
        let detail = format!("{} INS share the same strict traits", ins_map.len());
        alerts.push(alert("two-ins-same-traits", AlertIdentifier { system: system.clone(), value: value.clone() }, ids, detail));
    }
    for ((system, value), ins_map) in by_ipp.iter().filter(|(_, m)| m.len() > 1) {
        let ids: BTreeSet<i64> = ins_map.values().flatten().copied().collect();
        let detail = format!("this IPP is linked to {} INS", ins_map.len());
        alerts.push(alert("ipp-two-ins", AlertIdentifier { system: system.clone(), value: value.clone() }, ids, detail));
    }
    alerts.sort_by(|a, b| (KINDS.iter().position(|k| *k == a.kind), &a.id).cmp(&(KINDS.iter().position(|k| *k == b.kind), &b.id)));
    alerts
}

/// The action the audit trail records for an acknowledgement (its target is the alert id).
pub const ACKNOWLEDGE: &str = "acknowledge identity alert";

/// The alerts of the messages received since `since_ms` (at most `limit` messages read), marked
/// acknowledged from the audit trail, with the gauge of unacknowledged alerts per kind updated.
pub async fn current(
    store: &dyn passerelle_store::Store,
    metrics: &crate::metrics::Metrics,
    since_ms: i64,
    limit: usize,
) -> passerelle_store::Result<Vec<Alert>> {
    let recent = store.recent_models(since_ms, limit).await?;
    let observed: Vec<Observed> = recent
        .into_iter()
        .filter_map(|r| {
            let message = serde_json::from_slice::<Message>(&r.normalised).ok()?;
            Some(Observed { id: r.id, received_at_ms: r.received_at_ms, sender: r.sender, diagnostics: r.diagnostics, message })
        })
        .collect();
    let mut alerts = compute(&observed);
    let acknowledged: BTreeSet<String> =
        store.audit_since(since_ms, 100_000).await?.into_iter().filter(|e| e.action == ACKNOWLEDGE).map(|e| e.target).collect();
    for a in &mut alerts {
        a.acknowledged = acknowledged.contains(&a.id);
    }
    for kind in KINDS {
        let open = alerts.iter().filter(|a| a.kind == kind && !a.acknowledged).count();
        metrics.identity_alerts.with_label_values(&[kind]).set(open as i64);
    }
    Ok(alerts)
}
