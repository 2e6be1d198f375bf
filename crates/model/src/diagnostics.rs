//! Diagnostics returned beside every decoded value: decoding is total, problems are reported, not thrown.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How bad a diagnostic is. `Error` means the value is unusable for delivery (the sender gets AE/AR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Where in the input a diagnostic points: an HL7 v2 position, or a path (XPath for CDA, FHIRPath
/// for FHIR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locator {
    Er7(IssueLocation),
    Path(Cow<'static, str>),
}

/// A position in an HL7 v2 message (ERL semantics; 1-based, 0 = not applicable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IssueLocation {
    pub segment: Cow<'static, str>,
    /// 1-based occurrence of the segment in the message (ERL-2).
    pub sequence: usize,
    pub field: usize,
    pub repetition: usize,
    pub component: usize,
    pub subcomponent: usize,
}

impl IssueLocation {
    pub fn field(segment: &'static str, sequence: usize, field: usize) -> Self {
        Self { segment: Cow::Borrowed(segment), sequence, field, ..Self::default() }
    }
    pub fn segment(segment: &'static str, sequence: usize) -> Self {
        Self { segment: Cow::Borrowed(segment), sequence, ..Self::default() }
    }
}

/// One diagnostic. `message` never contains patient data: it names fields, not their values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    /// Stable machine code, such as `ins-without-vali` or `segment-terminator-lf`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Locator>,
}

impl Issue {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self { severity, code, message: message.into(), location: None }
    }
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }
    /// Located at an HL7 v2 position.
    pub fn at(mut self, location: IssueLocation) -> Self {
        self.location = Some(Locator::Er7(location));
        self
    }
    /// Located by a path: XPath (CDA) or FHIRPath (FHIR).
    pub fn at_path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.location = Some(Locator::Path(path.into()));
        self
    }
    /// The HL7 v2 position, when the issue has one.
    pub fn er7(&self) -> Option<&IssueLocation> {
        match &self.location {
            Some(Locator::Er7(l)) => Some(l),
            _ => None,
        }
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{severity}[{}]", self.code)?;
        match &self.location {
            Some(Locator::Er7(loc)) => {
                write!(f, " {}", loc.segment)?;
                if loc.field > 0 {
                    write!(f, "-{}", loc.field)?;
                }
                if loc.component > 0 {
                    write!(f, ".{}", loc.component)?;
                }
            }
            Some(Locator::Path(path)) => write!(f, " {path}")?,
            None => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// A decoded value plus everything worth telling about it.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub value: T,
    pub issues: Vec<Issue>,
}

impl<T> Parsed<T> {
    pub fn new(value: T, issues: Vec<Issue>) -> Self {
        Self { value, issues }
    }
    /// True when an issue of severity `Error` makes the value unfit for delivery.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parsed<U> {
        Parsed { value: f(self.value), issues: self.issues }
    }
}
