//! `passerelle healthcheck [--url http://127.0.0.1:9090/healthz]`: exit 0 when the admin port
//! answers 200 within the timeout, 1 otherwise. For container health checks (the runtime image
//! carries no curl); plain HTTP only, as a check from inside the container reaches loopback.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct HealthcheckArgs {
    /// The URL to ask (http only).
    #[arg(long, default_value = "http://127.0.0.1:9090/healthz")]
    url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

pub fn run(args: &HealthcheckArgs) -> Result<ExitCode> {
    let Some(rest) = args.url.strip_prefix("http://") else { bail!("healthcheck: the url must start with http://") };
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".to_owned()));
    let timeout = Duration::from_secs(args.timeout.max(1));
    let address = authority.to_socket_addrs().with_context(|| format!("cannot resolve {authority}"))?.next().context("no address")?;
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&address, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(head) if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") => Ok(ExitCode::SUCCESS),
        Ok(head) => {
            eprintln!("unhealthy: {}", head.lines().next().unwrap_or(""));
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("unhealthy: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
