//! Validation inside the gateway: a listener with `validate = "warn" | "reject"` runs the packs of
//! `passerelle validate` on each message it takes. Findings at error or above become errors under
//! `reject` (AE / 422 naming the rules; kept as rejected) and warnings under `warn` (journaled
//! with the message, the ACK unchanged); each is counted per listener and rule (rule ids are the
//! shipped set, a bounded label).

use crate::listener_config::ValidateMode;
use crate::metrics::Metrics;
use passerelle_model::Issue;
use passerelle_validate::report::Severity;

/// The issues validation adds for `raw` received on `listener`.
pub fn issues(metrics: &Metrics, listener: &str, mode: ValidateMode, raw: &[u8]) -> Vec<Issue> {
    let report = passerelle_validate::validate("", raw, &passerelle_validate::PACKS, Severity::Error);
    report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| {
            metrics.validation_findings.with_label_values(&[listener, f.rule]).inc();
            let text = format!("{} ({} {}): {}", f.rule, f.pack, f.location, f.message);
            match (mode, f.severity >= Severity::Error) {
                (ValidateMode::Reject, true) => Issue::error(f.rule, text),
                _ => Issue::warning(f.rule, text),
            }
        })
        .collect()
}
