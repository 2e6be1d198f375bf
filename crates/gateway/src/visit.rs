//! Visit state across messages: each accepted message leaves its visit (by its visit number or
//! NDA) in a state, the neutral event. A FHIR Encounter carries only its current status, so the
//! transition says what happened: back in progress after a discharge is the discharge's
//! cancellation (HL7 v2 A13), not a new admission.

use crate::pipeline::identifier_system;
use passerelle_model::{EventKind, Message, Parsed};
use passerelle_store::Store;

/// The visit's (system, value), when the message has a visit with an identifier that has a system.
fn visit_key(msg: &Message) -> Option<(String, String)> {
    let id = msg.encounter()?.key()?;
    Some((identifier_system(id)?, id.value.clone()))
}

/// The state a movement leaves the visit in; `None` for events that do not move it.
fn state_of(kind: EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::PreAdmit => "pre-admit",
        EventKind::Admit => "admit",
        EventKind::Register => "register",
        EventKind::Transfer => "transfer",
        EventKind::LeaveOfAbsence => "leave-of-absence",
        EventKind::Discharge => "discharge",
        EventKind::Cancel => "cancel",
        _ => return None,
    })
}

/// What the message's visit state will be once it is accepted (recorded with the journal row).
pub fn state(msg: &Message) -> Option<(String, String, String)> {
    let state = state_of(msg.envelope.event.kind)?;
    let (system, value) = visit_key(msg)?;
    Some((system, value, state.to_owned()))
}

/// For FHIR input: an Encounter in progress whose visit was left discharged is the cancellation
/// of that discharge (A13). An unreadable state changes nothing (the status then decides, as it
/// would without a history).
pub async fn apply_transition(store: &dyn Store, message: &mut Parsed<Message>) {
    let msg = &message.value;
    if !matches!(msg.envelope.event.kind, EventKind::Admit | EventKind::Register) {
        return;
    }
    let Some((system, value)) = visit_key(msg) else { return };
    if let Ok(Some(previous)) = store.visit_state(system, value).await
        && previous == "discharge"
    {
        let event = &mut message.value.envelope.event;
        event.kind = EventKind::Cancel;
        event.source.trigger = "A13".into();
    }
}
