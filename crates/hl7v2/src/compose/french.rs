//! The French Z-segments of a PAM-FR ADT written from the model, in the order PAM-FR §5.2 places
//! them after PV1: ZBE (the movement, when the model holds one: a movement id is the sender's,
//! never invented), ZFA (DMP status and choices) and ZFD (how the identity was collected).

use crate::writer::Er7Writer;
use passerelle_model::{DmpConsent, IdentityTrust, Movement};

/// ZBE-1 id^namespace, 2 start, 4 action, 5 historic, 6 original trigger, 7/8 UF (XON-7 `UF`,
/// XON-10 code), 9 nature.
pub fn write_zbe(w: &mut Er7Writer, m: &Movement) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let start = m.start.map(|t| t.hl7()).unwrap_or_default();
    w.begin_segment("ZBE").components(&[&text(&m.id), &text(&m.id_namespace)]).field(&start).field("");
    w.field(m.action.as_deref().unwrap_or("INSERT")).field(if m.historic { "Y" } else { "N" }).field(&text(&m.original_trigger));
    for unit in [&m.medical_unit, &m.care_unit] {
        match unit {
            Some(code) => w.components(&["", "", "", "", "", "", "UF", "", "", code]),
            None => w.field(""),
        };
    }
    w.field(&text(&m.nature)).end_segment();
}

/// ZFA-1/2 status and its date, ZFA-9/10 feeding choice and date, ZFA-11/12 consultation choice and date.
pub fn write_zfa(w: &mut Er7Writer, c: &DmpConsent) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    w.begin_segment("ZFA").field(&text(&c.status)).field(&text(&c.status_date));
    for _ in 3..=8 {
        w.field("");
    }
    w.field(c.feeding.map(|f| f.code()).unwrap_or_default()).field(&text(&c.feeding_date));
    w.field(c.consultation.map(|f| f.code()).unwrap_or_default()).field(&text(&c.consultation_date)).end_segment();
}

/// Whether the trust says anything ZFD carries.
pub fn has_zfd(t: &IdentityTrust) -> bool {
    t.corrected_birth_date || t.collection_method.is_some() || t.insi_query_date.is_some() || t.proof_type.is_some() || t.proof_expiry.is_some()
}

/// ZFD-4 corrected birth date, 5 collection method, 6 INSi query date, 7 proof, 8 proof expiry.
pub fn write_zfd(w: &mut Er7Writer, t: &IdentityTrust) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    w.begin_segment("ZFD").field("").field("").field("").field(if t.corrected_birth_date { "Y" } else { "N" });
    w.field(&text(&t.collection_method)).field(&text(&t.insi_query_date)).field(&text(&t.proof_type)).field(&text(&t.proof_expiry)).end_segment();
}
