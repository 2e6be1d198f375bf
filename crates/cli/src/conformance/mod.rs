//! `passerelle conformance run|listen`: test a vendor's live interface against the suites of
//! fixtures/conformance (data: fixtures plus expected outcomes). `run` sends a suite to the
//! vendor's receiver and checks each ACK; `listen` receives what the vendor's sender sends,
//! validates it and answers. Both write the report formats of `validate` and exit 0 (all passed),
//! 1 (something failed) or 2 (usage, an unreadable suite, an address that cannot be used).

mod listen;
mod run;
mod suite;

use crate::validate::{ReportFormat, render};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use passerelle_validate::report::{Report, Severity};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connection, in clear or TLS.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}
pub type Stream = Box<dyn Connection>;

#[derive(Args)]
pub struct ConformanceArgs {
    #[command(subcommand)]
    command: ConformanceCommand,
}

#[derive(Subcommand)]
enum ConformanceCommand {
    /// Send a suite's scenarios to a vendor's receiver and check each ACK.
    Run(RunArgs),
    /// Receive what a vendor's system sends, validate every message and answer ACKs.
    Listen(ListenArgs),
    /// Print the scenarios of a suite with what each step expects, and exit.
    Show {
        #[arg(long, default_value = "pam-fr")]
        suite: String,
    },
}

#[derive(Args)]
struct RunArgs {
    /// A shipped suite (pam-fr, cisis-docs) or a suite .toml file.
    #[arg(long, default_value = "pam-fr")]
    suite: String,
    /// The receiver: mllp://HOST:PORT.
    #[arg(long)]
    target: String,
    /// Connect with TLS, verifying the receiver's certificate against --ca.
    #[arg(long)]
    tls: bool,
    #[arg(long)]
    ca: Option<String>,
    /// Client certificate and key, for a receiver that wants mutual TLS.
    #[arg(long)]
    cert: Option<String>,
    #[arg(long)]
    key: Option<String>,
    /// The name the receiver's certificate must carry (default: the target's host).
    #[arg(long)]
    server_name: Option<String>,
    /// Seconds to wait for each ACK (and for the connection).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Args)]
struct ListenArgs {
    /// A shipped suite (pam-fr, cisis-docs) or a suite .toml file: its packs validate what comes in.
    #[arg(long, default_value = "pam-fr")]
    suite: String,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
    /// Stop after this many messages.
    #[arg(long)]
    max_messages: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    max_seconds: Option<u64>,
    /// Close a connection idle for this many seconds.
    #[arg(long, default_value_t = 30)]
    idle_seconds: u64,
    /// Serve TLS with this certificate chain and key (PEM).
    #[arg(long)]
    tls_cert: Option<String>,
    #[arg(long)]
    tls_key: Option<String>,
    /// Keep every message received in this directory.
    #[arg(long)]
    save: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

/// Opens a connection to `address` (`host:port`), with TLS when `tls` is given.
pub async fn connect(address: &str, tls: Option<&passerelle_gateway::tls::DestinationTls>, timeout: Duration) -> Result<Stream> {
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
        .await
        .with_context(|| format!("no connection to {address} within {} s", timeout.as_secs()))?
        .with_context(|| format!("cannot connect to {address}"))?;
    tcp.set_nodelay(true)?;
    let Some(tls) = tls else { return Ok(Box::new(tcp)) };
    let config = passerelle_gateway::tls::client_config(tls).map_err(anyhow::Error::msg)?;
    let host = tls.server_name.clone().unwrap_or_else(|| address.rsplit_once(':').map_or(address, |(h, _)| h).to_owned());
    let name = rustls_pki_types::ServerName::try_from(host.clone()).with_context(|| format!("{host} is not a server name"))?;
    let stream = tokio::time::timeout(timeout, tokio_rustls::TlsConnector::from(config).connect(name, tcp))
        .await
        .context("TLS handshake timed out")?
        .context("TLS handshake failed")?;
    Ok(Box::new(stream))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn finish(packs: Vec<passerelle_validate::report::PackId>, files: Vec<passerelle_validate::report::FileReport>, format: ReportFormat) -> ExitCode {
    let report = Report::new(packs, files);
    print!("{}", render(&report, format, Severity::Error));
    if report.failed() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

pub fn run(args: &ConformanceArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match &args.command {
        ConformanceCommand::Show { suite } => {
            let suite = suite::load(suite)?;
            println!("{} {}: {}", suite.name, suite.version, suite.description);
            for scenario in &suite.scenarios {
                println!("  {}: {}", scenario.name, scenario.description);
                for step in &scenario.steps {
                    let why = step.because.as_deref().map_or_else(String::new, |r| format!(" ({r})"));
                    println!("    {:6} {}{why}", format!("{:?}", step.expect).to_lowercase(), step.message_path);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ConformanceCommand::Run(a) => {
            let suite = suite::load(&a.suite)?;
            let address = a.target.strip_prefix("mllp://").with_context(|| format!("--target {} is not mllp://HOST:PORT", a.target))?.to_owned();
            let tls = match (a.tls, &a.ca) {
                (false, _) => None,
                (true, None) => anyhow::bail!("--tls needs --ca (the CA the receiver's certificate chains to)"),
                (true, Some(ca)) => Some(passerelle_gateway::tls::DestinationTls {
                    ca: ca.clone(),
                    cert: a.cert.clone(),
                    key: a.key.clone(),
                    server_name: a.server_name.clone(),
                }),
            };
            let target = run::Target { address, tls, timeout: Duration::from_secs(a.timeout) };
            let files = runtime.block_on(run::run(&suite, &target));
            Ok(finish(vec![passerelle_validate::conformance::PACK], files, a.format))
        }
        ConformanceCommand::Listen(a) => {
            let suite = Arc::new(suite::load(&a.suite)?);
            let tls = match (&a.tls_cert, &a.tls_key) {
                (Some(cert), Some(key)) => {
                    let config = passerelle_gateway::tls::TlsConfig { cert: cert.clone(), key: key.clone(), client_ca: None, allowed_clients: Vec::new() };
                    Some(passerelle_gateway::tls::server_config(&config).map_err(anyhow::Error::msg)?)
                }
                (None, None) => None,
                _ => anyhow::bail!("--tls-cert and --tls-key go together"),
            };
            if let Some(dir) = &a.save {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let options = listen::Options {
                max_messages: a.max_messages,
                max_seconds: a.max_seconds,
                idle: Duration::from_secs(a.idle_seconds),
                tls,
                save: a.save.clone(),
            };
            let files = runtime.block_on(async {
                let listener =
                    tokio::net::TcpListener::bind((a.host.as_str(), a.port)).await.with_context(|| format!("cannot listen on {}:{}", a.host, a.port))?;
                eprintln!("listening on {} (suite {} {})", listener.local_addr()?, suite.name, suite.version);
                anyhow::Ok(listen::listen(listener, suite.clone(), options).await)
            })?;
            Ok(finish(suite.packs.clone(), files, a.format))
        }
    }
}
