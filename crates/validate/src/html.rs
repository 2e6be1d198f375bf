//! The HTML report: one self-contained file (inline style, no script, no link to anything) a
//! vendor can attach to a homologation file: the packs and their versions, the threshold, the
//! summary per rule and per file, then every file's findings and what could not be checked.

use crate::report::{Report, Severity, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}\
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}\
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code{font:12px ui-monospace,monospace}\
#summary{border:2px solid #d0d7de;border-radius:8px;padding:1rem 1.2rem;background:#f6f8fa}\
#summary .verdict{font-size:1.4rem;font-weight:700}.pass{color:#1a7f37}.fail{color:#cf222e}\
.sev-fatal,.sev-error{color:#cf222e;font-weight:600}.sev-warning{color:#9a6700}.sev-info{color:#57606a}\
details{margin:.3rem 0}summary{cursor:pointer}";

/// Renders `report` judged at `fail_on`.
pub fn html(report: &Report, fail_on: Severity) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let verdict = if report.failed() { ("fail", "FAIL") } else { ("pass", "PASS") };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>passerelle validate: {} files, {} failed</title><style>{STYLE}</style></head><body>\n",
        report.summary.files, report.summary.failed
    );
    out.push_str("<h1>Passerelle conformance report</h1>\n<section id=\"summary\">\n");
    let _ = writeln!(
        out,
        "<div class=\"verdict {}\">{}</div><p><b>{}</b> files checked, <b>{}</b> failed at threshold <b>{}</b>.</p>",
        verdict.0,
        verdict.1,
        report.summary.files,
        report.summary.failed,
        fail_on.as_str()
    );
    out.push_str("<p>Rule packs: ");
    let packs: Vec<String> = report.packs.iter().map(|p| format!("<code>{}</code> {}", esc(p.name), esc(p.version))).collect();
    out.push_str(&packs.join(", "));
    out.push_str(".</p>\n");
    let pack_of: BTreeMap<&str, &str> = report.files.iter().flat_map(|f| &f.findings).map(|f| (f.rule, f.pack)).collect();
    if !report.summary.by_rule.is_empty() {
        out.push_str("<table id=\"by-rule\"><tr><th>Rule</th><th>Pack</th><th>Findings</th></tr>\n");
        for (rule, n) in &report.summary.by_rule {
            let pack = pack_of.get(rule).copied().unwrap_or_default();
            let _ = writeln!(out, "<tr><td><code>{}</code></td><td>{}</td><td>{n}</td></tr>", esc(rule), esc(pack));
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n<h2>Files</h2>\n<table id=\"by-file\"><tr><th>File</th><th>Format</th><th>Status</th><th>Findings</th></tr>\n");
    for file in &report.files {
        let (class, word) = if file.status == Status::Pass { ("pass", "pass") } else { ("fail", "fail") };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
            esc(&file.path),
            file.format,
            file.findings.len()
        );
    }
    out.push_str("</table>\n<h2>Findings</h2>\n");
    for file in report.files.iter().filter(|f| !f.findings.is_empty() || !f.not_checked.is_empty()) {
        let open = if file.status == Status::Fail { " open" } else { "" };
        let _ = writeln!(out, "<details{open}><summary><code>{}</code> ({} findings)</summary>", esc(&file.path), file.findings.len());
        if !file.findings.is_empty() {
            out.push_str("<table><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Message</th><th>Pack</th></tr>\n");
            for f in &file.findings {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"sev-{0}\">{0}</td><td><code>{1}</code></td><td><code>{2}</code></td><td>{3}</td><td>{4}</td></tr>",
                    f.severity.as_str(),
                    esc(f.rule),
                    esc(&f.location),
                    esc(&f.message),
                    esc(f.pack)
                );
            }
            out.push_str("</table>\n");
        }
        for n in &file.not_checked {
            let _ = writeln!(out, "<p>Not checked: <code>{}</code>: {}</p>", esc(n.rule), esc(&n.reason));
        }
        out.push_str("</details>\n");
    }
    out.push_str("<p>Written by <code>passerelle validate --format html</code>, offline: nothing was sent anywhere.</p>\n</body></html>\n");
    out
}
