//! `passerelle validate FILE|DIR... [--format text|json|junit|sarif|html] [--pack NAME]... [--fail-on
//! error|warning] [--list-rules]`: offline conformance reports. Exit 0 when nothing reaches the
//! threshold, 1 when something does, 2 for usage or internal errors (unreadable path).

use clap::{Args, ValueEnum};
use passerelle_validate::report::{Report, Severity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Junit,
    Sarif,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Threshold {
    Error,
    Warning,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Files or directories (walked; every file's format is detected).
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Rule packs to run (default: all): hl7v2.5, pam-fr, cisis-docs, ins, ids, ci-sis, fhir-r4, fr-core, be-core.
    #[arg(long = "pack")]
    packs: Vec<String>,
    /// The lowest severity that fails a file.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: Threshold,
    /// Print every rule of the selected packs with what it checks, and exit.
    #[arg(long)]
    list_rules: bool,
}

/// The files to check: those named, and every file under the directories named (sorted).
fn files_under(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let hidden = entry.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if !hidden {
                files_under(&entry, out)?;
            }
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_owned());
    }
    Ok(())
}

pub fn run(args: &ValidateArgs) -> ExitCode {
    let packs: Vec<_> = if args.packs.is_empty() {
        passerelle_validate::PACKS.to_vec()
    } else {
        let mut chosen = Vec::new();
        for name in &args.packs {
            match passerelle_validate::PACKS.iter().find(|p| p.name == name) {
                Some(p) => chosen.push(*p),
                None => {
                    let known: Vec<&str> = passerelle_validate::PACKS.iter().map(|p| p.name).collect();
                    eprintln!("error: unknown pack {name} (known: {})", known.join(", "));
                    return ExitCode::from(2);
                }
            }
        }
        chosen
    };
    if args.list_rules {
        for pack in &packs {
            println!("{} {}", pack.name, pack.version);
            for (rule, what) in passerelle_validate::rules_of(pack.name) {
                println!("  {rule:32} {what}");
            }
        }
        return ExitCode::SUCCESS;
    }
    if args.paths.is_empty() {
        eprintln!("error: give at least one file or directory");
        return ExitCode::from(2);
    }
    // (path, named on the command line): a file found in a directory that is no message at all
    // (a README, a report beside its fixture) is skipped, a named one is reported.
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for path in &args.paths {
        let mut found = Vec::new();
        if let Err(e) = files_under(path, &mut found) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
        let named = !path.is_dir();
        files.extend(found.into_iter().map(|f| (f, named)));
    }
    let fail_on = match args.fail_on {
        Threshold::Error => Severity::Error,
        Threshold::Warning => Severity::Warning,
    };
    let mut reports = Vec::with_capacity(files.len());
    let mut skipped = 0;
    for (file, named) in &files {
        match std::fs::read(file) {
            Ok(bytes) if !named && passerelle_validate::detect(&bytes) == "unknown" => skipped += 1,
            Ok(bytes) => reports.push(passerelle_validate::validate(&file.display().to_string(), &bytes, &packs, fail_on)),
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    if skipped > 0 {
        eprintln!("{skipped} files skipped: neither HL7 v2, CDA nor FHIR");
    }
    let report = Report::new(packs, reports);
    print!("{}", render(&report, args.format, fail_on));
    if report.failed() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// The report in `format`, judged at `fail_on` (shared with `conformance`).
pub fn render(report: &Report, format: ReportFormat, fail_on: Severity) -> String {
    match format {
        ReportFormat::Text => passerelle_validate::output::text(report),
        ReportFormat::Json => passerelle_validate::output::json(report),
        ReportFormat::Junit => passerelle_validate::output::junit(report, fail_on),
        ReportFormat::Sarif => passerelle_validate::output::sarif(report),
        ReportFormat::Html => passerelle_validate::html::html(report, fail_on),
    }
}
