//! The `passerelle` binary: subcommands to run and operate the gateway, convert, validate and test a vendor's interface.

mod alloc;
mod conformance;
mod convert;
mod healthcheck;
mod loadgen;
mod outbox;
mod run;
mod send;
mod validate;

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
    /// Run the gateway (the embedded default configuration without --config).
    Run(run::RunArgs),
    /// Convert one message: JSON on stdout, diagnostics on stderr; exit 1 on unusable input.
    Convert(convert::ConvertArgs),
    /// Send HL7 v2 files over MLLP and print each ACK.
    Send(send::SendArgs),
    /// Inspect the outbox, replay dead letters, dead-letter pending rows.
    Outbox(outbox::OutboxArgs),
    /// Load generator: N ADT messages over K MLLP connections; prints throughput and latency.
    Loadgen(loadgen::LoadgenArgs),
    /// Exit 0 when the admin port answers /healthz (container health checks).
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Offline conformance report of HL7 v2, CDA and FHIR files (every pack by default): exit 0 pass, 1 fail, 2 usage.
    Validate(validate::ValidateArgs),
    /// Test a vendor's live interface: `run` a suite against its receiver, `listen` to its sender.
    Conformance(conformance::ConformanceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(&args),
        Command::Run(args) => run::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Send(args) => send::run(&args),
        Command::Outbox(args) => outbox::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Loadgen(args) => loadgen::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Healthcheck(args) => healthcheck::run(&args),
        Command::Validate(args) => Ok(validate::run(&args)),
        Command::Conformance(args) => conformance::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
