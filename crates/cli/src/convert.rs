//! `passerelle convert`: the same decode and mapping code the gateway uses, one message in, one out.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use passerelle_fhir::{Profile, RenderOptions, render_bundle};
use passerelle_gateway::codec::{self, InputFormat};
use passerelle_model::{Issue, Severity};
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum From {
    Hl7v2,
    Cda,
    Fhir,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum To {
    Fhir,
    Model,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProfileArg {
    Auto,
    FrCore,
    BeCore,
    Generic,
}

#[derive(Args)]
pub struct ConvertArgs {
    #[arg(long, value_enum)]
    from: From,
    #[arg(long, value_enum)]
    to: To,
    /// National profile of the FHIR output (auto: FR Core for French patients, BE core for Belgian ones).
    #[arg(long, value_enum, default_value = "auto")]
    profile: ProfileArg,
    /// Input file, or `-` for standard input.
    input: String,
}

fn read_input(path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    }
    Ok(bytes)
}

fn report(issues: &[Issue]) {
    let mut err = std::io::stderr().lock();
    for i in issues {
        let _ = writeln!(err, "{i}");
    }
}

/// Converts bytes through the gateway's own decode dispatch; returns the JSON document, the
/// diagnostics and whether the input was usable.
pub fn convert_bytes(bytes: &[u8], from: From, to: To, profile: Profile) -> (Option<String>, Vec<Issue>, bool) {
    let format = match from {
        From::Hl7v2 => InputFormat::Hl7v2,
        From::Cda => InputFormat::Cda,
        From::Fhir => InputFormat::Fhir,
    };
    match codec::decode(format, bytes) {
        Err(e) => (None, vec![e.issue()], false),
        Ok(decoded) => {
            let parsed = decoded.message;
            let usable = !parsed.has_errors();
            let mut issues = parsed.issues;
            let json = match to {
                To::Model => serde_json::to_string_pretty(&parsed.value),
                To::Fhir => {
                    let options = RenderOptions { profile, document_bytes: decoded.document.as_deref(), ..RenderOptions::default() };
                    let (bundle, mut more) = render_bundle(&parsed.value, &options);
                    issues.append(&mut more);
                    serde_json::to_string_pretty(&bundle.into_resource())
                }
            };
            (json.ok(), issues, usable)
        }
    }
}

pub fn run(args: &ConvertArgs) -> Result<ExitCode> {
    let bytes = read_input(&args.input)?;
    let profile = match args.profile {
        ProfileArg::Auto => Profile::Auto,
        ProfileArg::FrCore => Profile::FrCore,
        ProfileArg::BeCore => Profile::BeCore,
        ProfileArg::Generic => Profile::Generic,
    };
    let (json, issues, usable) = convert_bytes(&bytes, args.from, args.to, profile);
    report(&issues);
    if !usable || issues.iter().any(|i| i.severity == Severity::Error) {
        return Ok(ExitCode::from(1));
    }
    let json = json.context("cannot serialise the output")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}")?;
    Ok(ExitCode::SUCCESS)
}
