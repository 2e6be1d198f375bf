//! Diagnostics → FHIR OperationOutcome, the answer HTTP clients get for bad input.

use crate::types::{OperationOutcome, OperationOutcomeIssue};
use passerelle_model::{Issue, Locator, Severity};

pub fn operation_outcome(issues: &[Issue]) -> OperationOutcome<'_> {
    let mut out: Vec<OperationOutcomeIssue> = issues
        .iter()
        .map(|i| OperationOutcomeIssue {
            severity: match i.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "information",
            }
            .into(),
            code: match i.code {
                c if c.starts_with("missing") => "required",
                "a08-forbidden-pam-fr" | "unsupported-message-type" | "unsupported-event" => "not-supported",
                "duplicate" => "duplicate",
                _ if i.severity == Severity::Error => "invalid",
                _ => "informational",
            }
            .into(),
            details: None,
            diagnostics: Some(format!("{}: {}", i.code, i.message).into()),
            location: i.er7().map(|l| if l.field > 0 { format!("{}-{}", l.segment, l.field).into() } else { l.segment.clone() }).into_iter().collect(),
            expression: match &i.location {
                Some(Locator::Path(path)) => vec![path.as_ref().into()],
                _ => Vec::new(),
            },
        })
        .collect();
    if out.is_empty() {
        out.push(OperationOutcomeIssue {
            severity: "information".into(),
            code: "informational".into(),
            diagnostics: Some("no issues".into()),
            ..Default::default()
        });
    }
    OperationOutcome { issue: out }
}
