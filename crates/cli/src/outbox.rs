//! `passerelle outbox list|retry|dead-letter`: operator actions on the outbox of a gateway's store.

use crate::run::load_config;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use passerelle_store::{OutboxFilter, OutboxStatus, Transition};
use std::path::PathBuf;

#[derive(Args)]
pub struct OutboxArgs {
    /// Configuration whose store to open (the embedded default without it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    action: OutboxAction,
}

#[derive(Subcommand)]
enum OutboxAction {
    /// List outbox rows (newest first).
    List {
        #[arg(long)]
        destination: Option<String>,
        /// pending, inflight, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Send a dead-lettered row again.
    Retry { id: i64 },
    /// Move a pending row to the dead letter.
    DeadLetter {
        id: i64,
        #[arg(long, default_value = "dead-lettered by an operator")]
        reason: String,
    },
}

pub fn run(args: &OutboxArgs) -> Result<()> {
    let config = load_config(args.config.as_ref())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = passerelle_gateway::open_store(&config).await?;
        let now = passerelle_gateway::pipeline::now_ms();
        match &args.action {
            OutboxAction::List { destination, status, limit } => {
                let status = match status.as_deref().map(|s| OutboxStatus::parse(s).ok_or(s)) {
                    None => None,
                    Some(Ok(s)) => Some(s),
                    Some(Err(other)) => bail!("unknown status {other} (pending, inflight, delivered, dead)"),
                };
                let rows = store.list(OutboxFilter { destination: destination.clone(), status, limit: *limit }).await?;
                println!("{:>8} {:>8} {:<16} {:<10} {:>8}  {:<12} last error", "id", "message", "destination", "status", "attempts", "type");
                for r in rows {
                    println!(
                        "{:>8} {:>8} {:<16} {:<10} {:>8}  {:<12} {}",
                        r.id,
                        r.message_id,
                        r.destination,
                        r.status.as_str(),
                        r.attempts,
                        r.message_type,
                        r.last_error.unwrap_or_default()
                    );
                }
            }
            OutboxAction::Retry { id } => match store.requeue(*id, now).await? {
                Transition::Done => println!("outbox row {id} requeued"),
                Transition::NoSuchRow => bail!("no outbox row {id}"),
                Transition::WrongStatus(s) => bail!("outbox row {id} is {}, not dead-lettered: only a dead letter can be retried", s.as_str()),
            },
            OutboxAction::DeadLetter { id, reason } => match store.dead_letter(*id, reason.clone(), now).await? {
                Transition::Done => println!("outbox row {id} dead-lettered"),
                Transition::NoSuchRow => bail!("no outbox row {id}"),
                Transition::WrongStatus(s) => bail!("outbox row {id} is {}, not pending: only a pending row can be dead-lettered", s.as_str()),
            },
        }
        Ok(())
    })
}
