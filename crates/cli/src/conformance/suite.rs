//! Conformance suites as data (fixtures/conformance/*.toml, see its README): scenarios of steps,
//! each a message with the outcome a conformant receiver gives it, and the packs `listen`
//! validates with. The shipped suites and their messages are compiled in, so the binary needs no
//! files; `--suite FILE.toml` loads one from disk, its message paths relative to the file.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::Path;

/// What a step expects of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// MSA-1 AA (or CA in enhanced mode).
    Accept,
    /// MSA-1 AE or AR (or CE, CR), with at least one ERR.
    Reject,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    pub message: String,
    pub expect: Expect,
    /// The rule the message breaks (documentation for the vendor; named in the report).
    pub because: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    pub description: String,
    pub steps: Vec<StepFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: String,
    version: String,
    description: String,
    packs: Vec<String>,
    scenario: Vec<ScenarioFile>,
}

/// A step with its message loaded.
#[derive(Debug, Clone)]
pub struct Step {
    pub message_path: String,
    pub bytes: Vec<u8>,
    pub expect: Expect,
    pub because: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub version: String,
    pub description: String,
    pub packs: Vec<passerelle_validate::report::PackId>,
    pub scenarios: Vec<Scenario>,
}

const SUITES: &[(&str, &str)] = &[
    ("pam-fr", include_str!("../../../../fixtures/conformance/pam-fr.toml")),
    ("cisis-docs", include_str!("../../../../fixtures/conformance/cisis-docs.toml")),
];

macro_rules! messages {
    ($($path:literal),* $(,)?) => { &[$(($path, include_bytes!(concat!("../../../../fixtures/", $path)) as &[u8])),*] };
}

/// The messages the shipped suites name, by their path relative to fixtures/.
const MESSAGES: &[(&str, &[u8])] = messages![
    "validate/ok/fr_a01_admission.hl7",
    "validate/ok/fr_a02_transfer.hl7",
    "validate/ok/fr_a03_discharge.hl7",
    "validate/ok/fr_a31_identity_update.hl7",
    "validate/ok/fr_a40_merge.hl7",
    "validate/ok/fr_a47_identifier_change.hl7",
    "validate/err/pamfr.zbe.required.hl7",
    "validate/err/pamfr.a08.forbidden.hl7",
    "validate/err/ins.pid32.qualified.hl7",
    "validate/err/ins.key.hl7",
    "validate/ok/cisdoc_mdm_t02.hl7",
    "validate/ok/cisdoc_oru_r01.hl7",
    "validate/err/cisdoc.status.consistency.hl7",
    "validate/err/cisdoc.txa13.parent.hl7",
    "validate/err/cisdoc.patient.ids-match.hl7",
];

/// The names of the shipped suites.
pub fn builtin_names() -> Vec<&'static str> {
    SUITES.iter().map(|(name, _)| *name).collect()
}

/// A shipped suite by name, or a suite file.
pub fn load(name_or_path: &str) -> Result<Suite> {
    if let Some((_, text)) = SUITES.iter().find(|(name, _)| *name == name_or_path) {
        return parse(text, name_or_path, &|path| {
            MESSAGES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| bytes.to_vec()).with_context(|| format!("{path} is not compiled in"))
        });
    }
    let file = Path::new(name_or_path);
    if !file.is_file() {
        bail!("unknown suite {name_or_path} (shipped: {}; or give a .toml file)", builtin_names().join(", "));
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name_or_path}"))?;
    let base = file.parent().unwrap_or(Path::new("."));
    parse(&text, name_or_path, &|path| std::fs::read(base.join(path)).with_context(|| format!("cannot read {}", base.join(path).display())))
}

fn parse(text: &str, origin: &str, read: &dyn Fn(&str) -> Result<Vec<u8>>) -> Result<Suite> {
    let file: SuiteFile = toml::from_str(text).with_context(|| format!("{origin}: not a suite"))?;
    let mut packs = Vec::new();
    for name in &file.packs {
        match passerelle_validate::PACKS.iter().find(|p| p.name == name) {
            Some(p) => packs.push(*p),
            None => bail!("{origin}: unknown pack {name}"),
        }
    }
    let mut scenarios = Vec::new();
    for s in file.scenario {
        let mut steps = Vec::new();
        for step in s.steps {
            let bytes = read(&step.message)?;
            steps.push(Step { message_path: step.message, bytes, expect: step.expect, because: step.because });
        }
        scenarios.push(Scenario { name: s.name, description: s.description, steps });
    }
    Ok(Suite { name: file.name, version: file.version, description: file.description, packs, scenarios })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_suites_load_with_every_message_compiled_in() {
        for name in builtin_names() {
            let suite = load(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert!(!suite.scenarios.is_empty(), "{name}");
            for step in suite.scenarios.iter().flat_map(|s| &s.steps) {
                assert!(step.bytes.starts_with(b"MSH"), "{}", step.message_path);
                assert_eq!(step.expect == Expect::Reject, step.because.is_some(), "a reject names its rule: {}", step.message_path);
            }
        }
    }

    #[test]
    fn each_reject_step_breaks_the_rule_it_names_and_each_accept_step_breaks_none() {
        for name in builtin_names() {
            let suite = load(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            for step in suite.scenarios.iter().flat_map(|s| &s.steps) {
                let report = passerelle_validate::validate(&step.message_path, &step.bytes, &suite.packs, passerelle_validate::report::Severity::Error);
                let failing: Vec<&str> =
                    report.findings.iter().filter(|f| f.severity >= passerelle_validate::report::Severity::Error).map(|f| f.rule).collect();
                match &step.because {
                    Some(rule) => assert!(failing.contains(&rule.as_str()), "{}: {rule} not raised ({failing:?})", step.message_path),
                    None => assert!(failing.is_empty(), "{}: {failing:?}", step.message_path),
                }
            }
        }
    }
}
