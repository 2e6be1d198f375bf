//! `[[sender]]`: the facilities a hub serves, declared by name with their facility ids (FINESS or
//! local) and the listeners they may use, so that traffic is counted per declared sender with
//! bounded labels and an undeclared sender can be refused (`[gateway] undeclared_senders`).
//!
//! A message's facility is the sender's own statement: HL7 v2 MSH-4 (its first component, else
//! its second), a CDA document's custodian (its id's extension or its name).

use passerelle_model::{Issue, Message};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderConfig {
    /// The label this sender's traffic is counted under.
    pub name: String,
    /// Facility ids its messages carry (MSH-4, CDA custodian): FINESS numbers or local codes.
    pub facilities: Vec<String>,
    /// The listeners it may send to; empty: any.
    #[serde(default)]
    pub listeners: Vec<String>,
}

/// What happens to a message whose facility no `[[sender]]` declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndeclaredSenders {
    /// Accepted and counted as `undeclared`.
    #[default]
    Accept,
    /// Refused (AE, 422) with the facility named.
    Refuse,
}

/// The metric label of messages from no declared sender, and of input too broken to say.
pub const UNDECLARED: &str = "undeclared";
pub const UNIDENTIFIED: &str = "unidentified";

/// The declared senders, indexed by facility id.
#[derive(Debug, Default)]
pub struct Senders {
    senders: Vec<SenderConfig>,
    by_facility: HashMap<String, usize>,
    undeclared: UndeclaredSenders,
}

impl Senders {
    pub fn new(senders: &[SenderConfig], undeclared: UndeclaredSenders) -> Self {
        let mut by_facility = HashMap::new();
        for (i, s) in senders.iter().enumerate() {
            for f in &s.facilities {
                by_facility.insert(f.clone(), i);
            }
        }
        Self { senders: senders.to_vec(), by_facility, undeclared }
    }

    pub fn declared(&self) -> &[SenderConfig] {
        &self.senders
    }

    /// The facility ids `msg` states, in the order they are looked up.
    fn facilities(msg: &Message) -> impl Iterator<Item = &str> {
        let custodian = msg.document().and_then(|d| d.custodian.as_ref());
        let custodian_ids = custodian.into_iter().flat_map(|c| [c.id.as_ref().and_then(|i| i.extension.as_deref()), c.name.as_deref()]);
        std::iter::once(msg.envelope.sender.facility.as_deref()).chain(custodian_ids).flatten()
    }

    /// The sender's label for metrics, and the refusal when it may not send here: a declared
    /// sender on a listener it is not allowed, or an undeclared one under `refuse`.
    pub fn check(&self, msg: &Message, listener: &str) -> (&str, Option<Issue>) {
        let found = Self::facilities(msg).find_map(|f| self.by_facility.get(f).map(|&i| &self.senders[i]));
        match found {
            Some(s) if s.listeners.is_empty() || s.listeners.iter().any(|l| l == listener) => (&s.name, None),
            Some(s) => (&s.name, Some(Issue::error("sender-not-allowed", format!("sender {} is not allowed on listener {listener}", s.name)))),
            None if self.undeclared == UndeclaredSenders::Refuse => {
                let facility = Self::facilities(msg).next().unwrap_or("(none)");
                (UNDECLARED, Some(Issue::error("sender-undeclared", format!("facility {facility} is not a declared sender"))))
            }
            None => (UNDECLARED, None),
        }
    }
}

/// Refuses what would only fail later: a sender named twice, without facilities, a facility
/// claimed by two senders, a listener that does not exist.
pub fn validate(senders: &[SenderConfig], listeners: &[&str]) -> Result<(), (usize, &'static str, String)> {
    let mut names = std::collections::HashSet::new();
    let mut owners: HashMap<&str, &str> = HashMap::new();
    for (i, s) in senders.iter().enumerate() {
        if !names.insert(s.name.as_str()) || s.name == UNDECLARED || s.name == UNIDENTIFIED {
            return Err((i, "name", format!("sender {} is defined twice or uses a reserved name", s.name)));
        }
        if s.facilities.is_empty() || s.facilities.iter().any(|f| f.trim().is_empty()) {
            return Err((i, "facilities", format!("sender {}: facilities must list at least one non-empty id", s.name)));
        }
        for f in &s.facilities {
            if let Some(other) = owners.insert(f, &s.name) {
                return Err((i, "facilities", format!("sender {}: facility {f} is already sender {other}'s", s.name)));
            }
        }
        if let Some(l) = s.listeners.iter().find(|l| !listeners.contains(&l.as_str())) {
            return Err((i, "listeners", format!("sender {}: unknown listener {l}", s.name)));
        }
    }
    Ok(())
}
