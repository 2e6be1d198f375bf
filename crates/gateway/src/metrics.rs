//! Prometheus metrics. Labels stay bounded (listener, destination, message type, outcome) and
//! never carry patient data.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    pub registry: Registry,
    pub received: IntCounterVec,
    pub acked: IntCounterVec,
    pub rejected: IntCounterVec,
    pub duplicates: IntCounterVec,
    /// Accepted messages no destination gets: no route matched (`unrouted`), or consent kept
    /// them back (`withheld`).
    pub filtered: IntCounterVec,
    pub deliveries: IntCounterVec,
    pub outbox_depth: IntGaugeVec,
    pub ack_latency: HistogramVec,
    pub end_to_end_latency: HistogramVec,
    pub parse_duration: HistogramVec,
    pub mllp_discarded_bytes: IntCounterVec,
    /// A limit that fired: connections refused, timeouts, bodies too large, rejects not stored.
    pub limits_hit: IntCounterVec,
    /// Messages by declared sender (or `undeclared`, `unidentified`), listener and outcome.
    pub sender_messages: IntCounterVec,
    /// Messages each route matched (counted when routed, before the journal's verdict).
    pub route_matches: IntCounterVec,
    /// When the oldest undelivered message of each destination was received, as an age.
    pub outbox_oldest_age: prometheus::GaugeVec,
    /// When each TLS listener's certificate expires (Unix seconds).
    pub tls_certificate_expiry: IntGaugeVec,
    /// Validation findings (`validate = "warn" | "reject"`) by listener and rule.
    pub validation_findings: IntCounterVec,
    /// Seconds since each node of the store last beat (a hub's nodes; one on a single node).
    pub node_heartbeat_age: prometheus::GaugeVec,
    /// Unacknowledged identity alerts by kind, as of the last time they were computed.
    pub identity_alerts: IntGaugeVec,
    /// 1 while an operator has paused a destination on this node.
    pub destination_paused: IntGaugeVec,
    /// 1 for each built-in alert rule firing, by alert and subject (configured names).
    pub alert_firing: IntGaugeVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str], buckets: Vec<f64>) -> prometheus::Result<HistogramVec> {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)?;
    registry.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    /// Registers every metric. Fails only on a definition error (a duplicated name), at startup.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let latency = vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
        let e2e = vec![0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0];
        let outbox_depth = IntGaugeVec::new(Opts::new("passerelle_outbox_depth", "Undelivered outbox rows by destination"), &["destination"])?;
        registry.register(Box::new(outbox_depth.clone()))?;
        let node_heartbeat_age =
            prometheus::GaugeVec::new(Opts::new("passerelle_node_heartbeat_age_seconds", "Seconds since each node of the store last beat"), &["node"])?;
        registry.register(Box::new(node_heartbeat_age.clone()))?;
        let outbox_oldest_age = prometheus::GaugeVec::new(
            Opts::new("passerelle_outbox_oldest_age_seconds", "Age of the oldest undelivered message by destination"),
            &["destination"],
        )?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        let tls_certificate_expiry = IntGaugeVec::new(
            Opts::new("passerelle_tls_certificate_expiry_timestamp_seconds", "When the certificate of each TLS listener (and the admin port) expires"),
            &["listener"],
        )?;
        registry.register(Box::new(tls_certificate_expiry.clone()))?;
        let identity_alerts =
            IntGaugeVec::new(Opts::new("passerelle_identity_alerts", "Unacknowledged identity alerts by kind (identity monitoring)"), &["kind"])?;
        registry.register(Box::new(identity_alerts.clone()))?;
        let destination_paused =
            IntGaugeVec::new(Opts::new("passerelle_destination_paused", "1 while an operator has paused the destination on this node"), &["destination"])?;
        registry.register(Box::new(destination_paused.clone()))?;
        let alert_firing =
            IntGaugeVec::new(Opts::new("passerelle_alert_firing", "Built-in alert rules firing now ([alerts]), by alert and subject"), &["alert", "subject"])?;
        registry.register(Box::new(alert_firing.clone()))?;
        Ok(Self {
            received: counter(
                &registry,
                "passerelle_messages_received_total",
                "Messages received by listener and message type",
                &["listener", "message_type"],
            )?,
            acked: counter(
                &registry,
                "passerelle_messages_acked_total",
                "Acknowledgements sent by listener, message type and code",
                &["listener", "message_type", "code"],
            )?,
            rejected: counter(&registry, "passerelle_messages_rejected_total", "Messages answered AE/AR and kept as rejected", &["listener", "message_type"])?,
            duplicates: counter(&registry, "passerelle_messages_duplicate_total", "Resends answered with the original ACK", &["listener"])?,
            filtered: counter(
                &registry,
                "passerelle_messages_filtered_total",
                "Accepted messages no destination gets, by listener and reason (unrouted, withheld)",
                &["listener", "reason"],
            )?,
            deliveries: counter(
                &registry,
                "passerelle_deliveries_total",
                "Delivery attempts by destination and outcome (delivered, retried, dead_lettered)",
                &["destination", "outcome"],
            )?,
            ack_latency: histogram(&registry, "passerelle_ack_latency_seconds", "From a complete frame to the ACK written", &["listener"], latency)?,
            end_to_end_latency: histogram(&registry, "passerelle_end_to_end_latency_seconds", "From reception to delivery", &["destination"], e2e)?,
            parse_duration: histogram(
                &registry,
                "passerelle_parse_duration_seconds",
                "Decode and normalise time",
                &["format"],
                vec![0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01],
            )?,
            mllp_discarded_bytes: counter(&registry, "passerelle_mllp_discarded_bytes_total", "Bytes dropped before an MLLP start block", &["listener"])?,
            limits_hit: counter(&registry, "passerelle_limits_hit_total", "Times a resource limit fired, by listener and limit", &["listener", "limit"])?,
            sender_messages: counter(
                &registry,
                "passerelle_sender_messages_total",
                "Messages by declared sender (undeclared, unidentified), listener and outcome (accepted, refused, rejected, not_stored)",
                &["sender", "listener", "outcome"],
            )?,
            route_matches: counter(&registry, "passerelle_route_matches_total", "Messages each route matched", &["route"])?,
            validation_findings: counter(&registry, "passerelle_validation_findings_total", "Validation findings by listener and rule", &["listener", "rule"])?,
            outbox_oldest_age,
            tls_certificate_expiry,
            outbox_depth,
            node_heartbeat_age,
            identity_alerts,
            destination_paused,
            alert_firing,
            registry,
        })
    }

    /// The name of every metric this gateway exports (dashboards and alert rules are checked
    /// against it), whether or not it has a sample yet.
    pub fn names(&self) -> Vec<String> {
        use prometheus::core::Collector;
        let collectors: [&dyn Collector; 21] = [
            &self.received,
            &self.filtered,
            &self.acked,
            &self.rejected,
            &self.duplicates,
            &self.deliveries,
            &self.outbox_depth,
            &self.ack_latency,
            &self.end_to_end_latency,
            &self.parse_duration,
            &self.mllp_discarded_bytes,
            &self.limits_hit,
            &self.sender_messages,
            &self.route_matches,
            &self.validation_findings,
            &self.outbox_oldest_age,
            &self.tls_certificate_expiry,
            &self.node_heartbeat_age,
            &self.identity_alerts,
            &self.destination_paused,
            &self.alert_firing,
        ];
        collectors.iter().flat_map(|c| c.desc().into_iter().map(|d| d.fq_name.clone())).collect()
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// A bounded label for a message type: `ADT^A01` shapes only, anything else is `other`.
pub fn message_type_label(code: &str) -> String {
    let ok = code.len() <= 11
        && code.split('^').count() <= 2
        && code.split('^').next().is_some_and(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_uppercase()))
        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'^');
    if ok { code.to_owned() } else { "other".to_owned() }
}
