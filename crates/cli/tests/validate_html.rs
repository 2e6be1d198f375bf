//! The HTML report of `passerelle validate` is one self-contained file that shows its summary:
//! checked as text here (no script, no link to anything), then opened in headless Chromium
//! (Debian's chromium driven by playwright-core, crates/cli/tests/browser): the summary is
//! visible in the first screen with the right verdict and counts, the page makes no request, and
//! a real screenshot of the summary holds the verdict's colour. Without node, the npm packages or
//! chromium the browser part is SKIPPED loudly; a failure where PASSERELLE_REQUIRE_BROWSER=1 (CI).

mod common;

use common::workspace_root;
use std::path::{Path, PathBuf};
use std::process::Command;

fn html_report(target: &str, out: &Path) -> (i32, String) {
    let run =
        Command::new(env!("CARGO_BIN_EXE_passerelle")).current_dir(workspace_root()).args(["validate", "--format", "html", target]).output().expect("run");
    let html = String::from_utf8(run.stdout).expect("utf-8 html");
    std::fs::write(out, &html).expect("write report");
    (run.status.code().unwrap_or(-1), html)
}

fn files_checked(target: &str) -> (u64, u64) {
    let run =
        Command::new(env!("CARGO_BIN_EXE_passerelle")).current_dir(workspace_root()).args(["validate", "--format", "json", target]).output().expect("run");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    (report["summary"]["files"].as_u64().expect("files"), report["summary"]["failed"].as_u64().expect("failed"))
}

/// node, the browser test's npm packages, and chromium, when all are there.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let dir = workspace_root().join("crates/cli/tests/browser");
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let missing = match (node, dir.join("node_modules/playwright-core").is_dir(), chromium.is_file()) {
        (false, _, _) => Some("node"),
        (_, false, _) => Some("playwright-core (npm ci in crates/cli/tests/browser)"),
        (_, _, false) => Some("chromium (apt-get install chromium)"),
        _ => None,
    };
    if let Some(what) = missing {
        assert!(std::env::var("PASSERELLE_REQUIRE_BROWSER").as_deref() != Ok("1"), "{what} is missing and PASSERELLE_REQUIRE_BROWSER=1");
        eprintln!("SKIPPED: the browser check needs {what} (.ci/run installs it)");
        return None;
    }
    Some((dir.join("check_report.js"), chromium))
}

/// What the browser saw of the report (check_report.js).
fn seen_in_chromium(script: &Path, chromium: &Path, report: &Path) -> serde_json::Value {
    let screenshot = report.with_extension("png");
    let out = Command::new("node").arg(script).arg(report).arg(&screenshot).env("CHROMIUM", chromium).output().expect("node");
    assert!(out.status.success(), "the browser check failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("browser json");
    assert!(std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 1000), "a screenshot was written");
    seen
}

#[test]
fn the_html_report_is_self_contained_and_shows_its_summary_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tmp");
    let failing = dir.path().join("failing.html");
    let passing = dir.path().join("passing.html");
    let (code, html) = html_report("fixtures/validate", &failing);
    assert_eq!(code, 1, "the err fixtures fail");
    let (ok_code, ok_html) = html_report("fixtures/validate/ok", &passing);
    assert_eq!(ok_code, 0);
    for page in [&html, &ok_html] {
        assert!(page.starts_with("<!DOCTYPE html>"), "an HTML document");
        for forbidden in ["<script", " src=", " href=", "<link"] {
            assert!(!page.contains(forbidden), "self-contained: no {forbidden}");
        }
    }
    let (files, failed) = files_checked("fixtures/validate");
    assert!(html.contains(&format!("<b>{files}</b> files checked, <b>{failed}</b> failed")), "the summary counts");
    assert!(html.contains("<code>cisdoc.meta.order</code>") && html.contains("<code>pamfr.zbe.required</code>"), "every rule that fired is listed");
    assert!(!html.contains("<b>279035121518989</b>"), "no identifier is set in the summary");

    let Some((script, chromium)) = browser() else { return };
    let seen = seen_in_chromium(&script, &chromium, &failing);
    assert_eq!(seen["visible"], true, "{seen}");
    assert_eq!(seen["inFirstScreen"], true, "the summary is in the first screen: {seen}");
    assert_eq!(seen["verdict"], "FAIL");
    assert!(seen["text"].as_str().is_some_and(|t| t.contains(&format!("{files} files checked, {failed} failed at threshold error"))), "{seen}");
    assert_eq!(seen["requests"], serde_json::json!([]), "the page loads nothing");
    assert!(seen["verdictPixels"].as_u64() > Some(100), "the red verdict is drawn in the screenshot: {seen}");

    let seen = seen_in_chromium(&script, &chromium, &passing);
    assert_eq!(seen["verdict"], "PASS");
    assert_eq!(seen["verdictColour"], "rgb(26, 127, 55)", "a pass is green");
    assert!(seen["verdictPixels"].as_u64() > Some(100), "the green verdict is drawn: {seen}");
}
