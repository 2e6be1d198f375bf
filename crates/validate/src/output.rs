//! Report formats: `text` for a terminal, `json` (the fixed interface), `junit` (one test case per
//! file, a failure per finding at or above the threshold, for CI pipelines).

use crate::report::{Report, Severity, Status};
use std::fmt::Write;

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let packs: Vec<String> = report.packs.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
    let _ = writeln!(out, "packs: {}", packs.join(", "));
    for file in &report.files {
        let status = if file.status == Status::Pass { "pass" } else { "FAIL" };
        let _ = writeln!(out, "{status} {} ({})", file.path, file.format);
        for f in &file.findings {
            let _ = writeln!(out, "  {:7} {:32} {}: {}", f.severity.as_str(), f.rule, f.location, f.message);
        }
        for n in &file.not_checked {
            let _ = writeln!(out, "  not checked {}: {}", n.rule, n.reason);
        }
    }
    let _ = writeln!(out, "{} files, {} failed", report.summary.files, report.summary.failed);
    for (rule, n) in &report.summary.by_rule {
        let _ = writeln!(out, "  {n:5} {rule}");
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JUnit XML: a test suite per run, a test case per file, its findings at or above `fail_on` as
/// one failure, the others in `system-out`.
pub fn junit(report: &Report, fail_on: Severity) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"passerelle validate\" tests=\"{}\" failures=\"{}\">", report.summary.files, report.summary.failed);
    let _ = writeln!(out, "  <testsuite name=\"passerelle validate\" tests=\"{}\" failures=\"{}\">", report.summary.files, report.summary.failed);
    for file in &report.files {
        let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\">", file.format, xml_escape(&file.path));
        let line = |f: &crate::report::Finding| format!("{} {} {}: {}\n", f.severity.as_str(), f.rule, f.location, f.message);
        let failing: String = file.findings.iter().filter(|f| f.severity >= fail_on).map(line).collect();
        let other: String = file.findings.iter().filter(|f| f.severity < fail_on).map(line).collect();
        if !failing.is_empty() {
            let count = file.findings.iter().filter(|f| f.severity >= fail_on).count();
            let _ = write!(out, "\n      <failure message=\"{count} findings at or above {}\">{}</failure>", fail_on.as_str(), xml_escape(&failing));
        }
        if !other.is_empty() {
            let _ = write!(out, "\n      <system-out>{}</system-out>", xml_escape(&other));
        }
        out.push_str(if failing.is_empty() && other.is_empty() { "</testcase>\n" } else { "\n    </testcase>\n" });
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// SARIF 2.1.0: one run, the rules of the packs used, a result per finding with its file, line
/// and column, and the ER7 path as a logical location.
pub fn sarif(report: &Report) -> String {
    let rules: Vec<serde_json::Value> = report
        .packs
        .iter()
        .flat_map(|p| crate::rules_of(p.name).into_iter().map(move |(id, what)| (p, id, what)))
        .map(|(pack, id, what)| serde_json::json!({ "id": id, "shortDescription": { "text": what }, "properties": { "pack": pack.name, "packVersion": pack.version } }))
        .collect();
    let level = |s: Severity| match s {
        Severity::Fatal | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let results: Vec<serde_json::Value> = report
        .files
        .iter()
        .flat_map(|file| file.findings.iter().map(move |f| (file, f)))
        .map(|(file, f)| {
            let mut region = serde_json::Map::new();
            if let Some(line) = f.at.line {
                region.insert("startLine".into(), line.into());
            }
            if let Some(column) = f.at.column {
                region.insert("startColumn".into(), column.into());
            }
            let mut physical = serde_json::json!({ "artifactLocation": { "uri": file.path } });
            if !region.is_empty() {
                physical["region"] = serde_json::Value::Object(region);
            }
            serde_json::json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{ "physicalLocation": physical, "logicalLocations": [{ "fullyQualifiedName": f.at.path }] }],
                "properties": { "severity": f.severity.as_str(), "pack": f.pack },
            })
        })
        .collect();
    let sarif = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "passerelle validate", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}
