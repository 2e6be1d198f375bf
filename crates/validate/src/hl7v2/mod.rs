//! HL7 v2 validation: the message is tokenized and normalised once (the gateway's own decode),
//! then each pack's rules read the tokens; identifier rules map the normaliser's diagnostics to
//! their rule ids. Locations are ER7 paths (`PID-3[2].4`) with the line (segment) and column.

pub mod documents;
pub mod fields;
pub mod pamfr;
pub mod structure;

use crate::report::{Finding, Location, Severity};
use passerelle_hl7v2::{Message, Segment};

/// One message being checked by one pack.
pub struct Ctx<'m, 'a> {
    pub msg: &'m Message<'a>,
    pub pack: &'static str,
    pub findings: Vec<Finding>,
    /// MSH-9.1, MSH-9.2, MSH-9.3.
    pub message_type: String,
    pub trigger: String,
    pub structure: String,
}

impl<'m, 'a> Ctx<'m, 'a> {
    pub fn new(msg: &'m Message<'a>, pack: &'static str) -> Self {
        let msh9 = |c: usize| msg.msh().map(|m| m.component(9, c).string().unwrap_or_default()).unwrap_or_default();
        Self { msg, pack, findings: Vec::new(), message_type: msh9(1), trigger: msh9(2), structure: msh9(3) }
    }

    pub fn push(&mut self, rule: &'static str, severity: Severity, at: Location, message: impl Into<String>) {
        self.findings.push(Finding::new(rule, severity, at, message, self.pack));
    }

    /// The first segment named `name`.
    pub fn segment(&self, name: &str) -> Option<Segment<'m, 'a>> {
        self.msg.segment(name)
    }

    /// A field's value as text (empty when absent).
    pub fn value(&self, segment: &str, field: usize, component: usize) -> String {
        self.segment(segment).map(|s| s.component(field, component).string().unwrap_or_default()).unwrap_or_default()
    }
}

/// `SEG-f` (or `SEG-f.c`) of the segment's occurrence, with its line and, when the field was
/// sent, its column.
pub fn at(segment: &Segment<'_, '_>, field: usize, component: usize) -> Location {
    let name = segment.name();
    let path = match (field, component) {
        (0, _) => name.to_string(),
        (f, 0 | 1) => format!("{name}-{f}"),
        (f, c) => format!("{name}-{f}.{c}"),
    };
    let line = segment.index() + 1;
    let raw = segment.raw();
    let value = segment.field(field).raw();
    let start = raw.as_ptr() as usize;
    let offset = (value.as_ptr() as usize).wrapping_sub(start);
    let column = (field > 0 && !value.is_empty() && offset <= raw.len()).then_some(offset + 1);
    Location { path, line: Some(line), column }
}

/// Where a segment that is missing would be: the message itself.
pub fn whole_message() -> Location {
    Location { path: "MSH".into(), line: Some(1), column: None }
}
