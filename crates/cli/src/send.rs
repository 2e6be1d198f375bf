//! `passerelle send --mllp HOST:PORT FILE...`: an MLLP client that sends each file as one message
//! and prints the ACK it gets back. Exit status 1 unless every ACK is AA.

use anyhow::{Context, Result};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{MllpCodec, read_ack};
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

#[derive(Args)]
pub struct SendArgs {
    /// Address of the MLLP listener.
    #[arg(long)]
    mllp: String,
    /// Seconds to wait for each ACK.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Files, one HL7 v2 message each (LF or CRLF terminators are sent as CR).
    #[arg(required = true)]
    files: Vec<String>,
}

/// CR segment terminators, as the wire expects.
pub fn to_wire(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.push(b'\r');
                i += 1;
            }
            b'\n' => out.push(b'\r'),
            b => out.push(b),
        }
        i += 1;
    }
    while out.last() == Some(&b'\r') && out.len() >= 2 && out[out.len() - 2] == b'\r' {
        out.pop();
    }
    out
}

pub fn run(args: &SendArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let stream = TcpStream::connect(&args.mllp).await.with_context(|| format!("cannot connect to {}", args.mllp))?;
        let mut framed = Framed::new(stream, MllpCodec::default());
        let mut all_aa = true;
        for file in &args.files {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
            framed.send(to_wire(&bytes)).await.context("send failed")?;
            let ack = tokio::time::timeout(Duration::from_secs(args.timeout), framed.next())
                .await
                .with_context(|| format!("{file}: no ACK within {}s", args.timeout))?
                .context("connection closed before the ACK")??;
            let (code, msa2) = read_ack(&ack).unwrap_or_else(|| ("??".into(), String::new()));
            all_aa &= code == "AA";
            println!("{file}: {code} {msa2}");
            println!("{}", String::from_utf8_lossy(&ack).replace('\r', "\n").trim_end());
        }
        Ok(if all_aa { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
