//! The `passerelle` binary: subcommands for converting, and later running and operating the gateway.

mod alloc;
mod convert;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "passerelle", version, about = "Interoperability gateway for care systems (HL7 v2, CDA, FHIR)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert one message: JSON on stdout, diagnostics on stderr; exit 1 on unusable input.
    Convert(convert::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
