//! `passerelle loadgen`: sends N ADT^A01 messages over K MLLP connections to a running gateway and
//! reports acknowledged msg/s, delivered msg/s (from the admin metrics), p50/p99 ACK latency and
//! the gateway's peak RSS. A measuring tool, not a test.

use anyhow::{Context, Result, bail};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::MllpCodec;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

#[derive(Args)]
pub struct LoadgenArgs {
    /// MLLP address of the gateway, or several separated by commas (the nodes of a hub): the
    /// connections are spread over them in turn.
    #[arg(long)]
    mllp: String,
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Target rate in messages/s over all connections (0 = as fast as ACKs come back).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Number of distinct patients the messages cycle through.
    #[arg(long, default_value_t = 1000)]
    patients: usize,
    /// Admin address of the gateway (several, comma-separated, for a hub), to wait for
    /// deliveries via /metrics.
    #[arg(long)]
    admin: Option<String>,
    /// Gateway process id, to report its peak RSS (VmHWM).
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Also run a minimal MLLP receiver on this port that answers AA to everything (the
    /// downstream system of config/examples/loadtest.toml).
    #[arg(long)]
    sink_port: Option<u16>,
}

/// A downstream MLLP system that acknowledges every message AA, echoing its MSH-10.
async fn run_sink(listener: tokio::net::TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut framed = Framed::new(stream, MllpCodec::default());
            while let Some(Ok(frame)) = framed.next().await {
                let control = passerelle_hl7v2::parse(&frame, &Default::default())
                    .ok()
                    .and_then(|p| p.value.msh().map(|m| m.field(10).text().into_owned()))
                    .unwrap_or_default();
                let ack = format!("MSH|^~\\&|SINK|SINK|||20261123000000||ACK^A01^ACK|S{control}|P|2.5\rMSA|AA|{control}\r");
                if framed.send(ack.into_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn message(run: u128, n: usize, patients: usize) -> Vec<u8> {
    let p = n % patients;
    format!(
        "MSH|^~\\&|LOADGEN|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|LG{run}-{n}|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8\r\
EVN||20261123101500\r\
PID|1||IPP{p:07}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTCHARGE^PATIENT{p}^^^M.^^L||19800101|M|||1 rue du Test^^Lyon^^69001^FRA^H||||||||NDA{n:09}^^^CHU-TEST&1.2.250.1.999.1.2&ISO^AN\r\
PV1|1|I|UF-MED^101^1^CHU-TEST||||123^DOCTEUR^TEST||||||||||||VN{n:09}^^^CHU-TEST&1.2.250.1.999.1.3&ISO^VN|||||||||||||||||||||||||20261123101000\r\
ZBE|MVT{n}^CHU-TEST|20261123101000||INSERT|N||||S\r"
    )
    .into_bytes()
}

/// The whole HTTP/1.1 response (headers and body) to a GET on the admin port.
async fn admin_get(admin: &str, path: &str) -> Result<String> {
    let mut s = TcpStream::connect(admin).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut response = String::new();
    s.read_to_string(&mut response).await?;
    Ok(response)
}

/// Says, before sending, where the messages will end up when that is a file drop: against the
/// embedded default every message becomes a FHIR file under ./data/out.
async fn warn_about_file_destinations(admin: Option<&str>) {
    let Some(admin) = admin else {
        eprintln!(
            "loadgen: the gateway routes these messages as its config says; against the embedded default each one becomes a file in ./data/out (use config/examples/loadtest.toml for throughput runs)"
        );
        return;
    };
    let admin = admin.split(',').next().unwrap_or(admin).trim();
    let Ok(response) = admin_get(admin, "/api/destinations").await else { return };
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let Ok(destinations) = serde_json::from_str::<Vec<serde_json::Value>>(body) else { return };
    for d in destinations.iter().filter(|d| d["kind"] == "file") {
        eprintln!(
            "loadgen: warning: destination {} is a file drop: every message it is routed becomes one file (use config/examples/loadtest.toml for throughput runs)",
            d["name"].as_str().unwrap_or("?")
        );
    }
}

/// Deliveries so far, summed over the admin addresses given (comma-separated: every node of a hub).
async fn delivered_count(admins: &str) -> Result<u64> {
    let mut total = 0.0;
    for admin in admins.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let body = admin_get(admin, "/metrics").await?;
        total += body
            .lines()
            .filter(|l| l.starts_with("passerelle_deliveries_total") && l.contains("outcome=\"delivered\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
    }
    Ok(total as u64)
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(args: &LoadgenArgs) -> Result<()> {
    if args.connections == 0 || args.messages == 0 {
        bail!("messages and connections must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        if let Some(port) = args.sink_port {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("cannot bind the sink port")?;
            tokio::spawn(run_sink(listener));
        }
        warn_about_file_destinations(args.admin.as_deref()).await;
        let delivered_before = match &args.admin {
            Some(a) => delivered_count(a).await.context("cannot read the admin metrics")?,
            None => 0,
        };
        let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let start = Instant::now();
        let mut tasks = Vec::new();
        let addresses: Vec<String> = args.mllp.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        for c in 0..args.connections {
            let addr = addresses.get(c % addresses.len().max(1)).cloned().unwrap_or_default();
            let (total, conns, patients, rate) = (args.messages, args.connections, args.patients, args.rate);
            tasks.push(tokio::spawn(async move {
                let stream = TcpStream::connect(&addr).await?;
                stream.set_nodelay(true)?;
                let mut framed = Framed::new(stream, MllpCodec::default());
                let mut latencies = Vec::new();
                let mut not_aa = 0usize;
                let interval = (rate > 0).then(|| Duration::from_secs_f64(conns as f64 / rate as f64));
                let t0 = Instant::now();
                for (k, n) in (c..total).step_by(conns).enumerate() {
                    if let Some(iv) = interval {
                        let due = t0 + iv * k as u32;
                        tokio::time::sleep_until(due.into()).await;
                    }
                    let sent = Instant::now();
                    framed.send(message(run_id, n, patients)).await?;
                    let ack = framed.next().await.ok_or_else(|| anyhow::anyhow!("connection closed"))??;
                    latencies.push(sent.elapsed().as_micros() as u64);
                    if !ack.windows(7).any(|w| w == b"MSA|AA|") {
                        not_aa += 1;
                    }
                }
                anyhow::Ok((latencies, not_aa))
            }));
        }
        let mut latencies = Vec::with_capacity(args.messages);
        let mut not_aa = 0;
        for t in tasks {
            let (l, bad) = t.await??;
            latencies.extend(l);
            not_aa += bad;
        }
        let acked_elapsed = start.elapsed();
        latencies.sort_unstable();
        let n = latencies.len();
        println!("sent {n} messages over {} connections in {:.2}s", args.connections, acked_elapsed.as_secs_f64());
        println!("acknowledged: {:.0} msg/s ({} not AA)", n as f64 / acked_elapsed.as_secs_f64(), not_aa);
        println!(
            "ack latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&latencies, 0.50) as f64 / 1000.0,
            percentile(&latencies, 0.99) as f64 / 1000.0,
            latencies.last().copied().unwrap_or(0) as f64 / 1000.0
        );
        if let Some(admin) = &args.admin {
            let deadline = Instant::now() + Duration::from_secs(300);
            loop {
                let delivered = delivered_count(admin).await? - delivered_before;
                if delivered >= n as u64 || Instant::now() > deadline {
                    let secs = start.elapsed().as_secs_f64();
                    println!("delivered: {delivered} in {secs:.2}s = {:.0} msg/s end to end", delivered as f64 / secs);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if let Some(pid) = args.gateway_pid {
            match peak_rss_kib(pid) {
                Some(kib) => println!("gateway peak RSS: {:.1} MiB", kib as f64 / 1024.0),
                None => println!("gateway peak RSS: unavailable for pid {pid}"),
            }
        }
        Ok(())
    })
}
