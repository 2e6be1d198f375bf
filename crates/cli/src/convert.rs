//! `passerelle convert`: the same decode and mapping code the gateway uses, one message in, one out.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use passerelle_fhir::{DocumentLayout, Profile, RenderOptions, render_bundle};
use passerelle_gateway::codec::{self, InputFormat};
use passerelle_gateway::config::DocumentRendering;
use passerelle_gateway::delivery::render::{Renderer, Source};
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
    /// FHIR transaction Bundle (a document's DocumentReference carries its bytes inline).
    Fhir,
    /// The normalised model as JSON.
    Model,
    /// HL7 v2: a document as MDM^T02/T10/T04 (v2.6); HL7 v2 input re-written as it came.
    Hl7v2,
    /// ORU^R01 (v2.5) carrying the document.
    Oru,
    /// The CDA document (a level-1 CDA around a document that was not one).
    Cda,
    /// IHE MHD ITI-65 provide-document bundle.
    Mhd,
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
    /// FHIR server base URL: a document's Binary is created under it, with a client-assigned id.
    #[arg(long)]
    fhir_base: Option<String>,
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

/// Now, or `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), in Unix ms.
fn conversion_time_ms() -> i64 {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok());
    epoch
        .map(|s| s * 1000)
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default())
}

/// Converts bytes through the gateway's own decode dispatch and renderers; returns the output,
/// the diagnostics and whether the input was usable.
pub fn convert_bytes(bytes: &[u8], from: From, to: To, profile: Profile, base_url: Option<&str>) -> (Option<Vec<u8>>, Vec<Issue>, bool) {
    let format = match from {
        From::Hl7v2 => InputFormat::Hl7v2,
        From::Cda => InputFormat::Cda,
        From::Fhir => InputFormat::Fhir,
    };
    match codec::decode(format, bytes) {
        Err(e) => (None, vec![e.issue()], false),
        Ok(decoded) => {
            let mut parsed = decoded.message;
            // Without a time of its own (no Bundle.timestamp, no meta.lastUpdated), the message is
            // dated by its conversion, as the gateway dates it by its receipt; SOURCE_DATE_EPOCH
            // (seconds) makes the output reproducible.
            if parsed.value.envelope.sent_at.is_none() {
                parsed.value.envelope.received_at_ms = Some(conversion_time_ms());
            }
            let usable = !parsed.has_errors();
            let mut issues = parsed.issues;
            let documents: Vec<_> = decoded.documents.iter().map(|d| d.as_fhir()).collect();
            let output = match to {
                To::Model => serde_json::to_string_pretty(&parsed.value).ok().map(String::into_bytes),
                To::Mhd if let Err(e) = Renderer::for_rendering(DocumentRendering::Mhd, profile, None).check_document(&parsed.value) => {
                    issues.push(Issue::error("not-renderable", e.to_string()));
                    None
                }
                To::Fhir | To::Mhd => {
                    let document_layout = if matches!(to, To::Mhd) { DocumentLayout::Mhd } else { DocumentLayout::Inline };
                    let options = RenderOptions { profile, documents: &documents, document_layout, base_url, ..RenderOptions::default() };
                    let (bundle, mut more) = render_bundle(&parsed.value, &options);
                    issues.append(&mut more);
                    // Our writer keeps decimals exactly as sent (`5.40`); serde_json would re-read them as floats.
                    passerelle_fhir::to_json(&bundle.into_resource(), 4096).ok().map(|json| passerelle_fhir::json_pretty::pretty(&json))
                }
                To::Hl7v2 | To::Oru | To::Cda => {
                    let rendering = match to {
                        To::Oru => DocumentRendering::Oru,
                        To::Cda => DocumentRendering::Cda,
                        _ => DocumentRendering::Mdm,
                    };
                    let source = Source { model: &parsed.value, hl7v2: decoded.hl7v2.as_ref(), documents: &decoded.documents };
                    match Renderer::for_rendering(rendering, profile, base_url.map(str::to_owned)).render(&source) {
                        Ok(rendering) => Some(rendering.bytes.to_vec()),
                        Err(e) => {
                            issues.push(Issue::error("not-renderable", e.to_string()));
                            None
                        }
                    }
                }
            };
            (output, issues, usable)
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
    let (output, issues, usable) = convert_bytes(&bytes, args.from, args.to, profile, args.fhir_base.as_deref());
    report(&issues);
    if !usable || issues.iter().any(|i| i.severity == Severity::Error) {
        return Ok(ExitCode::from(1));
    }
    let output = output.context("cannot serialise the output")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&output)?;
    if output.last() != Some(&b'\n') && output.last() != Some(&b'\r') {
        out.write_all(b"\n")?;
    }
    Ok(ExitCode::SUCCESS)
}
