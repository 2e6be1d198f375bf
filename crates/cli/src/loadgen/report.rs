//! What a load run reports: throughput, ACK and end-to-end latency quantiles, and what the
//! gateway process itself spent (CPU seconds and peak RSS from /proc), as text lines or as the
//! one JSON object of `--json` (figures count messages, not deliveries).

use std::time::Duration;

/// Linux reports a process's times in /proc in USER_HZ, 100 per second on every architecture it
/// exposes to user space (the kernel converts from its own tick).
const USER_HZ: f64 = 100.0;

/// The gateway's user + system CPU seconds so far (all its threads, living or ended).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses): state is the first,
    // utime the 12th and stime the 13th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / USER_HZ)
}

/// The gateway's peak resident set (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// p50, p99, p99.9 and max of a set of latencies, in ms.
#[derive(Clone, Copy, Default)]
pub struct Quantiles {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Quantiles {
    /// From latencies in µs (sorted in place).
    pub fn of(latencies: &mut [u64]) -> Self {
        latencies.sort_unstable();
        let ms = |p: f64| match latencies.len() {
            0 => 0.0,
            len => latencies[((len - 1) as f64 * p).round() as usize] as f64 / 1000.0,
        };
        Self { p50: ms(0.50), p99: ms(0.99), p999: ms(0.999), max: ms(1.0) }
    }
}

impl std::fmt::Display for Quantiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms", self.p50, self.p99, self.p999, self.max)
    }
}

/// What one sink received: how many messages, and their end-to-end latency.
pub struct SinkFigures {
    pub name: &'static str,
    pub received: usize,
    pub latency: Quantiles,
}

/// The figures of one run.
pub struct Report {
    pub scenario: String,
    pub connections: usize,
    pub messages: usize,
    pub not_accepted: usize,
    pub acked_in: Duration,
    pub ack: Quantiles,
    pub sinks: Vec<SinkFigures>,
    /// When every sink had every message (or the admin count was reached, or the wait ended).
    pub delivered_in: Option<Duration>,
    /// Deliveries counted by the gateway's /metrics during the run (all destinations).
    pub deliveries_counted: Option<u64>,
    /// Destinations each message goes to (for the messages-per-second figure from /metrics).
    pub destinations: usize,
    pub gateway_cpu_seconds: Option<f64>,
    /// The process whose CPU and RSS were read (`--gateway-pid`), if one was given.
    pub gateway_pid: Option<u32>,
    pub gateway_peak_rss_kib: Option<u64>,
}

impl Report {
    fn acked_per_s(&self) -> f64 {
        self.messages as f64 / self.acked_in.as_secs_f64()
    }

    /// Messages (not deliveries) delivered per second: the slowest sink's, else /metrics' count
    /// divided by the destinations each message goes to.
    fn delivered_per_s(&self) -> Option<f64> {
        let secs = self.delivered_in?.as_secs_f64();
        match self.sinks.iter().map(|s| s.received).min() {
            Some(received) => Some(received as f64 / secs),
            None => self.deliveries_counted.map(|d| d as f64 / self.destinations.max(1) as f64 / secs),
        }
    }

    fn e2e(&self) -> Option<Quantiles> {
        let worst = |f: fn(&Quantiles) -> f64| self.sinks.iter().map(|s| f(&s.latency)).fold(0.0, f64::max);
        (!self.sinks.is_empty()).then(|| Quantiles { p50: worst(|q| q.p50), p99: worst(|q| q.p99), p999: worst(|q| q.p999), max: worst(|q| q.max) })
    }

    fn cpu_us_per_msg(&self) -> Option<f64> {
        self.gateway_cpu_seconds.map(|s| s * 1e6 / self.messages as f64)
    }

    /// The text lines a person reads (and benches/hub_load.py parses).
    pub fn text(&self) -> String {
        let mut out = format!(
            "sent {} {} messages over {} connections in {:.2}s\nacknowledged: {:.0} msg/s ({} not AA)\nack latency: {}\n",
            self.messages,
            self.scenario,
            self.connections,
            self.acked_in.as_secs_f64(),
            self.acked_per_s(),
            self.not_accepted,
            self.ack
        );
        let secs = self.delivered_in.map_or(f64::NAN, |d| d.as_secs_f64());
        for s in &self.sinks {
            out += &format!("{}: {} delivered, {:.0} msg/s end to end; latency {}\n", s.name, s.received, s.received as f64 / secs, s.latency);
        }
        if let Some(d) = self.deliveries_counted {
            out += &format!("delivered: {d} in {secs:.2}s = {:.0} msg/s end to end\n", d as f64 / secs / self.destinations.max(1) as f64);
        }
        if let Some(us) = self.cpu_us_per_msg() {
            out += &format!("gateway CPU: {us:.0} µs/msg in and out\n");
        }
        match (self.gateway_peak_rss_kib, self.gateway_pid) {
            (Some(kib), _) => out += &format!("gateway peak RSS: {:.1} MiB\n", kib as f64 / 1024.0),
            (None, Some(pid)) => out += &format!("gateway peak RSS: unavailable for pid {pid}\n"),
            (None, None) => {}
        }
        out
    }

    /// The one JSON object of `--json` (a figure it could not measure is null).
    pub fn json(&self) -> serde_json::Value {
        let e2e = self.e2e();
        serde_json::json!({
            "scenario": self.scenario,
            "messages": self.messages,
            "connections": self.connections,
            "not_accepted": self.not_accepted,
            "acked_per_s": self.acked_per_s(),
            "delivered_per_s": self.delivered_per_s(),
            "ack_p50_ms": self.ack.p50,
            "ack_p99_ms": self.ack.p99,
            "ack_p999_ms": self.ack.p999,
            "e2e_p50_ms": e2e.map(|q| q.p50),
            "e2e_p99_ms": e2e.map(|q| q.p99),
            "e2e_p999_ms": e2e.map(|q| q.p999),
            "gateway_cpu_us_per_msg": self.cpu_us_per_msg(),
            "peak_rss_mib": self.gateway_peak_rss_kib.map(|k| k as f64 / 1024.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_of_this_process_is_read_from_proc() {
        // Spinning adds CPU seconds to this process (however loaded the machine is): the reading
        // must follow, by at least a tenth of a second, within a generous wall-clock bound.
        let before = cpu_seconds(std::process::id()).expect("own /proc/PID/stat");
        let bound = std::time::Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        while cpu_seconds(std::process::id()).unwrap_or(before) - before < 0.1 {
            assert!(std::time::Instant::now() < bound, "the CPU read from /proc did not move");
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
    }

    #[test]
    fn quantiles_are_taken_from_sorted_latencies() {
        let mut l: Vec<u64> = (1..=1000).rev().map(|v| v * 1000).collect();
        let q = Quantiles::of(&mut l);
        assert_eq!((q.p50, q.p99, q.max), (501.0, 990.0, 1000.0));
        assert_eq!(Quantiles::of(&mut []).p99, 0.0);
    }

    #[test]
    fn the_json_report_counts_messages_not_deliveries() {
        let r = Report {
            scenario: "adt".into(),
            connections: 2,
            messages: 1000,
            not_accepted: 0,
            acked_in: Duration::from_secs(1),
            ack: Quantiles::default(),
            sinks: vec![],
            delivered_in: Some(Duration::from_secs(2)),
            deliveries_counted: Some(2000),
            destinations: 2,
            gateway_cpu_seconds: Some(0.2),
            gateway_pid: Some(1),
            gateway_peak_rss_kib: Some(2048),
        };
        let j = r.json();
        assert_eq!(j["acked_per_s"], 1000.0);
        assert_eq!(j["delivered_per_s"], 500.0);
        assert_eq!(j["gateway_cpu_us_per_msg"], 200.0);
        assert_eq!(j["peak_rss_mib"], 2.0);
        assert!(j["e2e_p99_ms"].is_null());
    }
}
