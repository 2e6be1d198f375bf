//! `passerelle run`: starts the gateway (the embedded default without `--config`), reloads its
//! file on SIGHUP, and stops it cleanly on SIGTERM or Ctrl-C, after answering in-flight messages.

use anyhow::{Context, Result};
use clap::Args;
use passerelle_gateway::Config;
use std::path::PathBuf;

#[derive(Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Without it, the embedded config/passerelle.toml is used.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn load_config(path: Option<&PathBuf>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::embedded_default()?,
    })
}

/// Logs on stderr: plain lines (colours only on a terminal), or one JSON object per line with
/// `PASSERELLE_LOG_FORMAT=json` for log shippers. `RUST_LOG` sets the level (default `info`).
fn init_logs() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("PASSERELLE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    init_logs();
    let config = load_config(args.config.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        // Before anything binds: a SIGTERM sent as soon as a port accepts stops the gateway
        // cleanly (it used to arrive before the handler and kill the process outright).
        let stop = StopSignals::install()?;
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let gateway = passerelle_gateway::start(config).await?;
        let mut names: Vec<_> = gateway.addresses.iter().collect();
        names.sort();
        for (name, addr) in names {
            eprintln!("passerelle: {name} listening on {addr}");
        }
        let gateway = std::sync::Arc::new(gateway);
        let reloads = tokio::spawn(reload_on_sighup(std::sync::Arc::clone(&gateway), hangups));
        stop.wait().await;
        reloads.abort();
        let _ = reloads.await;
        let Ok(gateway) = std::sync::Arc::try_unwrap(gateway) else { anyhow::bail!("the gateway is still in use at shutdown") };
        eprintln!("passerelle: stopping (finishing in-flight messages)");
        gateway.shutdown().await;
        eprintln!("passerelle: stopped");
        Ok(())
    })
}

/// Each SIGHUP reads the configuration file again; a refused one is logged and the running one stays.
async fn reload_on_sighup(gateway: std::sync::Arc<passerelle_gateway::RunningGateway>, mut hangups: tokio::signal::unix::Signal) {
    while hangups.recv().await.is_some() {
        match gateway.reload().await {
            Ok(report) => eprintln!(
                "passerelle: configuration {} reloaded (was {}): destinations +{:?} -{:?} ~{:?}, {} routes, listeners changed {:?}",
                report.version,
                report.previous_version,
                report.destinations_added,
                report.destinations_removed,
                report.destinations_changed,
                report.routes,
                report.listeners_changed
            ),
            Err(e) => eprintln!("passerelle: reload refused, the running configuration stays: {e}"),
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C), handled from the moment they are installed.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}
