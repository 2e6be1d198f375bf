//! CDA R2 validation: the document goes through the gateway's own reader first (its safety
//! checks, and the identity diagnostics the `ins` pack maps), then the header's element tree
//! ([`crate::xml`]) is read by the CI-SIS pack. Locations are XPaths with their line.

pub mod cisis;

use crate::report::{Finding, Location, NotChecked, Severity};
use crate::xml::Tree;

/// One document being checked by one pack.
pub struct Ctx<'t> {
    pub tree: &'t Tree,
    pub pack: &'static str,
    pub findings: Vec<Finding>,
    pub not_checked: Vec<NotChecked>,
}

impl<'t> Ctx<'t> {
    pub fn new(tree: &'t Tree, pack: &'static str) -> Self {
        Self { tree, pack, findings: Vec::new(), not_checked: Vec::new() }
    }

    pub fn push(&mut self, rule: &'static str, severity: Severity, at: Location, message: impl Into<String>) {
        self.findings.push(Finding::new(rule, severity, at, message, self.pack));
    }

    /// The element's XPath and line.
    pub fn at(&self, id: usize) -> Location {
        Location { path: self.tree.xpath(id), line: Some(self.tree.get(id).line), column: None }
    }

    /// Where a missing `name` under `parent` would be.
    pub fn missing(&self, parent: usize, name: &str) -> Location {
        Location { path: format!("{}/{name}", self.tree.xpath(parent)), line: Some(self.tree.get(parent).line), column: None }
    }
}

/// The rule a document that cannot be read at all raises.
pub const UNREADABLE: &str = "cda.document.readable";

/// A document the CDA reader refuses (not XML, a DOCTYPE, not ClinicalDocument in urn:hl7-org:v3).
pub fn unreadable(message: String) -> Finding {
    Finding::new(UNREADABLE, Severity::Fatal, Location { path: "/".into(), ..Location::default() }, message, cisis::PACK.name)
}
