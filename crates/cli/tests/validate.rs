//! `passerelle validate`, data-driven: every rule of every shipped pack has a failing fixture in
//! fixtures/validate/err (named after the rule, `rule__variant.ext` for more; HL7 v2 `.hl7`, CDA
//! `.xml`, FHIR `.json`) that raises it, and
//! none of them fires on the conformant messages of fixtures/validate/ok (the passing fixtures);
//! each fixture's text report is kept beside it (`.report.txt`, UPDATE_EXPECT=1 regenerates). The
//! JSON report has the fixed shape; exit statuses are 0, 1 and 2 as documented.

mod common;

use common::workspace_root;
use passerelle_testkit::{check_expectation, expected_path, files_with_ext};
use std::collections::BTreeSet;
use std::process::Command;

/// Exit status, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_passerelle")).current_dir(workspace_root()).arg("validate").args(args).output().expect("run");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Exit status and everything printed.
fn validate(args: &[&str]) -> (i32, String) {
    let (code, stdout, stderr) = run(args);
    (code, stdout + &stderr)
}

fn json_report(path: &str) -> (i32, serde_json::Value) {
    let (code, out, _) = run(&["--format", "json", path]);
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {out}")))
}

fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(workspace_root()).expect("inside the workspace").display().to_string()
}

fn all_rules() -> BTreeSet<String> {
    let (code, out) = validate(&["--list-rules"]);
    assert_eq!(code, 0, "{out}");
    out.lines().filter(|l| l.starts_with("  ")).filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect()
}

/// The fixtures of a directory: HL7 v2 messages, CDA documents and FHIR resources.
fn inputs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["hl7", "xml", "json"].iter().flat_map(|ext| files_with_ext(dir, ext)).collect()
}

#[test]
fn every_rule_fails_its_fixture_and_passes_the_conformant_messages() {
    let root = workspace_root().join("fixtures/validate");
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for input in inputs(&root.join("err")) {
        let path = relative(&input);
        let stem = input.file_stem().and_then(|s| s.to_str()).expect("stem");
        let rule = stem.split("__").next().expect("rule").to_owned();
        let (code, report) = json_report(&path);
        let findings = report["files"][0]["findings"].as_array().cloned().unwrap_or_default();
        let raised: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] == rule.as_str()).collect();
        if raised.is_empty() {
            problems.push(format!("{path}: {rule} not raised: {findings:?}"));
        }
        let failing = raised.iter().any(|f| matches!(f["severity"].as_str(), Some("error" | "fatal")));
        if failing && code != 1 {
            problems.push(format!("{path}: exit {code}, expected 1 for an error"));
        }
        covered.insert(rule);
        let (_, text) = validate(&[&path]);
        problems.extend(check_expectation(&expected_path(&input, "report.txt"), &text));
    }
    for input in inputs(&root.join("ok")) {
        let path = relative(&input);
        let (code, report) = json_report(&path);
        let findings = report["files"][0]["findings"].as_array().cloned().unwrap_or_default();
        if code != 0 || !findings.is_empty() {
            problems.push(format!("{path}: a conformant message raised {findings:?} (exit {code})"));
        }
        let (_, text) = validate(&[&path]);
        problems.extend(check_expectation(&expected_path(&input, "report.txt"), &text));
    }
    let missing: Vec<String> = all_rules().difference(&covered).cloned().collect();
    if !missing.is_empty() {
        problems.push(format!("rules without a failing fixture: {missing:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_json_report_has_the_documented_shape_over_a_directory() {
    let (code, report) = json_report("fixtures/validate");
    assert_eq!(code, 1, "the err fixtures fail");
    let (_, _, stderr) = run(&["fixtures/validate"]);
    assert!(stderr.contains("files skipped: neither HL7 v2, CDA nor FHIR"), "the reports beside the fixtures are skipped: {stderr}");
    let packs: Vec<&str> = report["packs"].as_array().expect("packs").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(packs, ["hl7v2.5", "pam-fr", "cisis-docs", "ins", "ids", "ci-sis", "fhir-r4", "fr-core", "be-core"]);
    assert!(report["packs"][0]["version"].is_string());
    let files = report["files"].as_array().expect("files");
    assert!(files.len() >= 40, "every file of the directory: {}", files.len());
    for file in files {
        for key in ["path", "format", "status", "findings"] {
            assert!(!file[key].is_null(), "{key} in {file}");
        }
        assert!(matches!(file["status"].as_str(), Some("pass" | "fail")));
        for f in file["findings"].as_array().expect("findings") {
            for key in ["rule", "severity", "location", "message", "pack"] {
                assert!(f[key].is_string(), "{key} in {f}");
            }
            assert!(matches!(f["severity"].as_str(), Some("fatal" | "error" | "warning" | "info")), "{f}");
        }
    }
    let summary = &report["summary"];
    assert_eq!(summary["files"], files.len());
    assert_eq!(summary["failed"], files.iter().filter(|f| f["status"] == "fail").count());
    assert!(summary["by_rule"]["pamfr.zbe.required"].as_u64() >= Some(1));
}

#[test]
fn exit_status_is_zero_one_or_two_and_fail_on_sets_the_threshold() {
    assert_eq!(validate(&["fixtures/validate/ok"]).0, 0);
    // A warning only: passes at the default threshold, fails with --fail-on warning.
    assert_eq!(validate(&["fixtures/validate/err/pamfr.msh17.country.hl7"]).0, 0);
    assert_eq!(validate(&["--fail-on", "warning", "fixtures/validate/err/pamfr.msh17.country.hl7"]).0, 1);
    assert_eq!(validate(&["fixtures/validate/err/pamfr.zbe.required.hl7"]).0, 1);
    assert_eq!(validate(&["no/such/file.hl7"]).0, 2);
    assert_eq!(validate(&["--pack", "nope", "fixtures/validate/ok"]).0, 2);
    assert_eq!(validate(&[]).0, 2);
    // One pack only: the PAM-FR rule is not run.
    let (code, out) = validate(&["--pack", "hl7v2.5", "--format", "json", "fixtures/validate/err/pamfr.zbe.required.hl7"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("pamfr.zbe.required\""), "{out}");
}

#[test]
fn the_junit_report_has_one_test_case_per_file_and_a_failure_per_failing_file() {
    let (code, out) = validate(&["--format", "junit", "fixtures/validate/err/pamfr.zbe.required.hl7", "fixtures/validate/ok/fr_a01_admission.hl7"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("<?xml"), "{out}");
    assert_eq!(out.matches("<testcase ").count(), 2, "{out}");
    assert_eq!(out.matches("<failure ").count(), 1, "{out}");
    assert!(out.contains("pamfr.zbe.required"), "{out}");
}

#[test]
fn the_sarif_report_names_each_rule_and_places_each_result() {
    let (code, out, _) = run(&["--format", "sarif", "fixtures/validate/err/pamfr.zbe.nature.hl7", "fixtures/validate/ok/fr_a01_admission.hl7"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&out).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"].as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(rule_ids.len(), all_rules().len(), "every rule of the packs used is described");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{results:?}");
    let result = &results[0];
    assert_eq!(result["ruleId"], "pamfr.zbe.nature");
    assert_eq!(result["level"], "error");
    assert!(rule_ids.contains(&"pamfr.zbe.nature"));
    let location = &result["locations"][0];
    assert_eq!(location["physicalLocation"]["artifactLocation"]["uri"], "fixtures/validate/err/pamfr.zbe.nature.hl7");
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 8);
    assert_eq!(location["physicalLocation"]["region"]["startColumn"], 97);
    assert_eq!(location["logicalLocations"][0]["fullyQualifiedName"], "ZBE-9");
}

/// The Python of the offline checkers (.ci/run makes it): junitparser and sarif-pydantic.
fn consumers_python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("PASSERELLE_TOOLS_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/passerelle-deploy-venv/bin/python")))?;
    let usable = Command::new(&python).args(["-c", "import junitparser, sarif_pydantic"]).output().is_ok_and(|o| o.status.success());
    if !usable {
        assert!(
            std::env::var("PASSERELLE_REQUIRE_DEPLOY_TOOLS").as_deref() != Ok("1"),
            "junitparser and sarif-pydantic are not installed for {}",
            python.display()
        );
        eprintln!("SKIPPED: junitparser and sarif-pydantic are not installed (.ci/run installs them)");
        return None;
    }
    Some(python)
}

/// What an independent consumer read of a report (`report_consumers.py`).
fn consumed(python: &std::path::Path, kind: &str, report: &str) -> serde_json::Value {
    let file = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(file.path(), report).expect("write");
    let script = workspace_root().join("crates/cli/tests/support/report_consumers.py");
    let out = Command::new(python).arg(script).arg(kind).arg(file.path()).output().expect("python");
    assert!(out.status.success(), "{kind} consumer rejected the report: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("consumer json")
}

#[test]
fn junit_and_sarif_reports_are_read_by_independent_consumers() {
    let Some(python) = consumers_python() else { return };
    let (_, junit, _) = run(&["--format", "junit", "fixtures/validate"]);
    let read = consumed(&python, "junit", &junit);
    let (_, report) = json_report("fixtures/validate");
    let files = report["files"].as_array().expect("files");
    assert_eq!(read["cases"], files.len(), "{read}");
    let failing: BTreeSet<&str> = read["failing"].as_array().expect("failing").iter().filter_map(|v| v.as_str()).collect();
    let expected: BTreeSet<&str> = files.iter().filter(|f| f["status"] == "fail").filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(failing, expected, "JUnit failures are the failing files");

    let (_, sarif, _) = run(&["--format", "sarif", "fixtures/validate/err"]);
    let read = consumed(&python, "sarif", &sarif);
    assert_eq!(read["version"], "2.1.0");
    assert_eq!(read["rules"], all_rules().len());
    let findings: usize =
        files.iter().filter(|f| f["path"].as_str().is_some_and(|p| p.contains("/err/"))).map(|f| f["findings"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(read["results"].as_array().map(Vec::len), Some(findings), "one SARIF result per finding");
}

#[test]
fn every_fixture_and_corpus_file_gets_a_report_with_documented_rule_ids() {
    let mut dirs = vec!["fixtures".to_owned()];
    let corpus = passerelle_testkit::shared_dir().join("corpus");
    if corpus.is_dir() {
        dirs.push(corpus.display().to_string());
    } else {
        assert_ne!(std::env::var("PASSERELLE_REQUIRE_VERIFY").as_deref(), Ok("1"), "the shared corpus is missing at {}", corpus.display());
        eprintln!("SKIPPED: the shared corpus is not at {}", corpus.display());
    }
    let rules = all_rules();
    for dir in dirs {
        let (code, out, stderr) = run(&["--format", "json", &dir]);
        assert!(code == 0 || code == 1, "{dir}: exit {code}: {stderr}");
        let report: serde_json::Value = serde_json::from_str(&out).expect("json");
        let files = report["files"].as_array().expect("files");
        assert!(files.len() > 100, "{dir}: {} files", files.len());
        for file in files {
            assert!(matches!(file["format"].as_str(), Some("hl7v2" | "cda" | "fhir")), "{file}");
            for f in file["findings"].as_array().expect("findings") {
                let rule = f["rule"].as_str().expect("rule");
                assert!(rules.contains(rule), "{}: {rule} is not a documented rule", file["path"]);
            }
        }
    }
}
