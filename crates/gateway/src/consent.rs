//! Consent rules for DMP-class destinations (`class = "dmp"`): a document is never sent to one
//! when the sender's MetaDMPMSS says DESTDMP = N, or when the patient's latest known PAM-FR ZFA-9
//! is IO (informed and opposed), from this message or, failing that, from an earlier one.

use crate::pipeline::identifier_rows;
use passerelle_model::Message;
use passerelle_store::{Store, StoreError};

/// The ZFA-9 code this message states, remembered per patient identifier by the journal.
pub fn feeding_code(msg: &Message) -> Option<&'static str> {
    Some(msg.patient.as_ref()?.dmp_consent.as_ref()?.feeding?.code())
}

/// Why `msg` must not go to a DMP-class destination, or `None` when it may.
pub async fn dmp_withheld_reason(store: &dyn Store, msg: &Message) -> Result<Option<String>, StoreError> {
    let Some(document) = msg.document() else { return Ok(None) };
    if document.sharing.as_ref().and_then(|s| s.to_dmp) == Some(false) {
        return Ok(Some("consent: DESTDMP N".into()));
    }
    let latest = match feeding_code(msg) {
        Some(code) => Some(code.to_owned()),
        None => {
            let keys = identifier_rows(msg).into_iter().map(|i| (i.system, i.value)).collect();
            store.latest_consent(keys).await?
        }
    };
    Ok((latest.as_deref() == Some("IO")).then(|| "consent: ZFA-9 IO".to_owned()))
}
