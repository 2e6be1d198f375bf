//! `passerelle loadgen`: sends N messages of a scenario (ADT over MLLP, FHIR Bundles over HTTP,
//! or a mix from many senders and patients) over K connections to a running gateway and reports
//! acknowledged msg/s, delivered msg/s, ACK latency and, through its own sinks, end-to-end latency
//! (p50/p99/p99.9), and the gateway's own CPU per message and peak RSS, as text or as one JSON
//! object (`--json`, see `report`). A measuring tool, not a test.

mod messages;
mod report;
mod sinks;

use messages::{Scenario, Transport};
use report::{Quantiles, Report, SinkFigures};
use sinks::Tracker;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::MllpCodec;
use std::time::{Duration, Instant};
use tokio::io::BufReader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

#[derive(Args, Clone)]
pub struct LoadgenArgs {
    /// MLLP address of the gateway, or several separated by commas (the nodes of a hub): the
    /// connections are spread over them in turn.
    #[arg(long, default_value = "")]
    mllp: String,
    /// HTTP address of the gateway's HTTP listener (the `fhir` and `mix` scenarios post there).
    #[arg(long)]
    http: Option<String>,
    #[arg(long, value_enum, default_value_t = Scenario::Adt)]
    scenario: Scenario,
    /// Number of distinct declared senders (MSH-3 `LOADGEN<k>`, the Bundle's source endpoint).
    #[arg(long, default_value_t = 1)]
    senders: usize,
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
    /// Gateway process id, to report its CPU seconds per message (from /proc, that process only)
    /// and its peak RSS (VmHWM).
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Print one JSON object (`acked_per_s`, `delivered_per_s`, `ack_p50_ms`, `ack_p99_ms`,
    /// `ack_p999_ms`, `e2e_p99_ms`, `gateway_cpu_us_per_msg`, `peak_rss_mib`, ...) instead of text.
    #[arg(long)]
    json: bool,
    /// Also run a minimal MLLP receiver on this port that answers AA to everything (the
    /// downstream system of config/examples/loadtest.toml).
    #[arg(long)]
    sink_port: Option<u16>,
    /// Also run a minimal HTTP (FHIR) receiver on this port answering 200 to every request.
    #[arg(long)]
    http_sink_port: Option<u16>,
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

/// What one connection saw: ACK latencies (µs) and answers that were not AA (201 for HTTP).
type Sent = (Vec<u64>, usize);

/// Sends every `conns`-th message from `c` on one connection, paced to `rate` overall.
async fn connection(args: Arc<LoadgenArgs>, c: usize, addr: String, run: u128, tracker: Arc<Tracker>) -> Result<Sent> {
    let (total, conns, rate) = (args.messages, args.connections, args.rate);
    let stream = TcpStream::connect(&addr).await.with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let transport = args.scenario.transport(c);
    let (mut mllp, mut http) = match transport {
        Transport::Mllp => (Some(Framed::new(stream, MllpCodec::default())), None),
        Transport::Http => (None, Some(BufReader::new(stream))),
    };
    let mut latencies = Vec::new();
    let mut refused = 0usize;
    let interval = (rate > 0).then(|| Duration::from_secs_f64(conns as f64 / rate as f64));
    let t0 = Instant::now();
    for (k, n) in (c..total).step_by(conns).enumerate() {
        if let Some(iv) = interval {
            tokio::time::sleep_until((t0 + iv * k as u32).into()).await;
        }
        let sent = Instant::now();
        tracker.sent(n);
        let accepted = if let Some(framed) = mllp.as_mut() {
            framed.send(messages::mllp_message(args.scenario, run, n, args.patients, args.senders)).await?;
            let ack = framed.next().await.ok_or_else(|| anyhow::anyhow!("connection closed"))??;
            ack.windows(7).any(|w| w == b"MSA|AA|")
        } else if let Some(stream) = http.as_mut() {
            sinks::post(stream, &addr, "/fhir", &messages::fhir_bundle(run, n, args.patients, args.senders)).await? == 201
        } else {
            false
        };
        latencies.push(sent.elapsed().as_micros() as u64);
        refused += usize::from(!accepted);
    }
    Ok((latencies, refused))
}

pub fn run(args: &LoadgenArgs) -> Result<()> {
    if args.connections == 0 || args.messages == 0 || args.patients == 0 {
        bail!("messages, connections and patients must be at least 1");
    }
    let needs_http = (0..args.connections).any(|c| args.scenario.transport(c) == Transport::Http);
    let needs_mllp = (0..args.connections).any(|c| args.scenario.transport(c) == Transport::Mllp);
    if needs_http && args.http.is_none() {
        bail!("the {:?} scenario posts FHIR Bundles: give the gateway's HTTP listener with --http", args.scenario);
    }
    if needs_mllp && args.mllp.trim().is_empty() {
        bail!("the {:?} scenario sends over MLLP: give the gateway's MLLP listener with --mllp", args.scenario);
    }
    let args = Arc::new(args.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let tracker = Arc::new(Tracker::new(args.messages));
        if let Some(port) = args.sink_port {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("cannot bind the sink port")?;
            tokio::spawn(sinks::mllp_sink(listener, Arc::clone(&tracker)));
        }
        if let Some(port) = args.http_sink_port {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("cannot bind the HTTP sink port")?;
            tokio::spawn(sinks::http_sink(listener, Arc::clone(&tracker)));
        }
        warn_about_file_destinations(args.admin.as_deref()).await;
        let delivered_before = match &args.admin {
            Some(a) => delivered_count(a).await.context("cannot read the admin metrics")?,
            None => 0,
        };
        let cpu_before = args.gateway_pid.and_then(report::cpu_seconds);
        let start = Instant::now();
        let mllp: Vec<String> = args.mllp.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        let http: Vec<String> = args.http.iter().flat_map(|h| h.split(',')).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        let mut tasks = Vec::new();
        for c in 0..args.connections {
            let pool = if args.scenario.transport(c) == Transport::Http { &http } else { &mllp };
            let addr = pool.get(c % pool.len().max(1)).cloned().unwrap_or_default();
            tasks.push(tokio::spawn(connection(Arc::clone(&args), c, addr, run_id, Arc::clone(&tracker))));
        }
        let mut latencies = Vec::with_capacity(args.messages);
        let mut not_accepted = 0;
        for t in tasks {
            let (l, bad) = t.await??;
            latencies.extend(l);
            not_accepted += bad;
        }
        let acked_in = start.elapsed();
        let n = latencies.len();
        let deadline = Instant::now() + Duration::from_secs(300);
        let sinks: Vec<(&'static str, &std::sync::Mutex<Vec<u64>>)> =
            [("mllp sink", args.sink_port.map(|_| &tracker.mllp)), ("http sink", args.http_sink_port.map(|_| &tracker.http))]
                .into_iter()
                .filter_map(|(name, s)| s.map(|s| (name, s)))
                .collect();
        // Every message reaches every sink (the scenario configuration routes each to both).
        while sinks.iter().any(|(_, s)| Tracker::count(s) < n) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut delivered_in = (!sinks.is_empty()).then(|| start.elapsed());
        let sinks: Vec<SinkFigures> = sinks
            .into_iter()
            .map(|(name, s)| {
                let mut e2e = s.lock().map(|v| v.clone()).unwrap_or_default();
                SinkFigures { name, received: e2e.len(), latency: Quantiles::of(&mut e2e) }
            })
            .collect();
        let destinations = sinks.len().max(1);
        let mut deliveries_counted = None;
        if let Some(admin) = &args.admin {
            loop {
                let delivered = delivered_count(admin).await? - delivered_before;
                if delivered >= (n * destinations) as u64 || Instant::now() > deadline {
                    deliveries_counted = Some(delivered);
                    delivered_in = Some(delivered_in.unwrap_or_else(|| start.elapsed()));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let gateway_cpu_seconds = args.gateway_pid.and_then(report::cpu_seconds).zip(cpu_before).map(|(after, before)| after - before);
        let report = Report {
            scenario: clap::ValueEnum::to_possible_value(&args.scenario).map(|v| v.get_name().to_owned()).unwrap_or_default(),
            connections: args.connections,
            messages: n,
            not_accepted,
            acked_in,
            ack: Quantiles::of(&mut latencies),
            sinks,
            delivered_in,
            deliveries_counted,
            destinations,
            gateway_cpu_seconds,
            gateway_pid: args.gateway_pid,
            gateway_peak_rss_kib: args.gateway_pid.and_then(report::peak_rss_kib),
        };
        if args.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.text());
        }
        Ok(())
    })
}
