//! The one issue model of `passerelle validate`, for every format: a finding names its rule (a
//! stable id), severity, location (an ER7 path with line and column for HL7 v2), message and the
//! rule pack that produced it; a file passes when nothing reaches the threshold. "Not checked"
//! (a rule that could not be applied, e.g. a terminology that is not shipped) is its own list,
//! never a finding.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Fatal,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Fatal => "fatal",
        }
    }
}

/// A rule pack, named with its version in every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PackId {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// `PID-3[2].4.2 (line 3, column 18)` for HL7 v2; `/` for the whole file.
    pub location: String,
    pub message: String,
    pub pack: &'static str,
    /// The same place for tools (SARIF): the path alone, its line and column when known.
    #[serde(skip)]
    pub at: Location,
}

/// Where a finding points: an ER7 path (`ZBE-9`) or XPath/FHIRPath, with its line and column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{} (line {line}, column {column})", self.path),
            (Some(line), None) => write!(f, "{} (line {line})", self.path),
            _ => f.write_str(&self.path),
        }
    }
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, at: Location, message: impl Into<String>, pack: &'static str) -> Self {
        Self { rule, severity, location: at.to_string(), message: message.into(), pack, at }
    }
}

/// A rule that applies but could not be checked here, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    pub rule: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    /// `hl7v2`, `cda`, `fhir`, or `unknown`.
    pub format: &'static str,
    pub status: Status,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
}

impl FileReport {
    /// Sets `status` from the findings at or above `fail_on`.
    pub fn judge(mut self, fail_on: Severity) -> Self {
        self.status = if self.findings.iter().any(|f| f.severity >= fail_on) { Status::Fail } else { Status::Pass };
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub files: usize,
    pub failed: usize,
    /// Findings per rule id.
    pub by_rule: BTreeMap<&'static str, usize>,
}

/// The whole report: `{"packs", "files", "summary"}` (the interface of `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub packs: Vec<PackId>,
    pub files: Vec<FileReport>,
    pub summary: Summary,
}

impl Report {
    pub fn new(packs: Vec<PackId>, files: Vec<FileReport>) -> Self {
        let mut by_rule = BTreeMap::new();
        for f in files.iter().flat_map(|f| &f.findings) {
            *by_rule.entry(f.rule).or_insert(0) += 1;
        }
        let failed = files.iter().filter(|f| f.status == Status::Fail).count();
        Self { packs, summary: Summary { files: files.len(), failed, by_rule }, files }
    }

    pub fn failed(&self) -> bool {
        self.summary.failed > 0
    }
}
