//! Built-in alert rules (`[alerts]`), evaluated by each node every `every_secs` and exported as
//! `passerelle_alert_firing{alert, subject}` (1 firing, 0 clear; subjects are configured names,
//! never patient data), listed by `GET /api/alerts` and on the console's dashboard: a
//! destination's queue over `queue_depth`, its oldest queued message older than
//! `oldest_queued_secs`, more than `dead_letters_per_hour` dead letters in the last hour, a
//! listener or a declared sender silent for longer than `listener_silent_secs` /
//! `sender_silent_secs` (0: not watched), a TLS certificate expiring within `certificate_days`.

use crate::metrics::Metrics;
use passerelle_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    pub queue_depth: u64,
    pub oldest_queued_secs: u64,
    pub dead_letters_per_hour: u64,
    pub listener_silent_secs: u64,
    pub sender_silent_secs: u64,
    pub certificate_days: u64,
    pub every_secs: u64,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            queue_depth: 1000,
            oldest_queued_secs: 900,
            dead_letters_per_hour: 10,
            listener_silent_secs: 0,
            sender_silent_secs: 0,
            certificate_days: 14,
            every_secs: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Firing {
    pub alert: &'static str,
    pub subject: String,
    pub detail: String,
}

/// What is firing now, shared with the admin port.
pub type Current = Arc<RwLock<Vec<Firing>>>;

/// The rules' memory between rounds: when each counter last moved, the dead letters of the hour.
pub struct Evaluator {
    rules: AlertRules,
    moved: HashMap<(&'static str, String), (f64, i64)>,
    dead: VecDeque<(i64, f64)>,
    started_ms: i64,
}

/// The sum of counter `name` per value of `label`.
fn totals(metrics: &Metrics, name: &str, label: &str, only: Option<(&str, &str)>) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for family in metrics.registry.gather().iter().filter(|f| f.name() == name) {
        for m in family.get_metric() {
            let value_of = |l: &str| m.get_label().iter().find(|p| p.name() == l).map(|p| p.value().to_owned()).unwrap_or_default();
            if only.is_some_and(|(l, v)| value_of(l) != v) {
                continue;
            }
            *out.entry(value_of(label)).or_insert(0.0) += m.get_counter().get_value();
        }
    }
    out
}

impl Evaluator {
    pub fn new(rules: AlertRules, now_ms: i64) -> Self {
        Self { rules, moved: HashMap::new(), dead: VecDeque::new(), started_ms: now_ms }
    }

    /// Silent subjects of `kind`: the counters per subject, the subjects that must be watched.
    fn silent(&mut self, kind: &'static str, counts: &HashMap<String, f64>, watched: &[String], secs: u64, now_ms: i64, out: &mut Vec<Firing>) {
        if secs == 0 {
            return;
        }
        for subject in watched {
            let value = counts.get(subject).copied().unwrap_or(0.0);
            let entry = self.moved.entry((kind, subject.clone())).or_insert((value, self.started_ms));
            if entry.0 != value {
                *entry = (value, now_ms);
            }
            let quiet = (now_ms - entry.1) / 1000;
            if quiet > secs as i64 {
                out.push(Firing { alert: kind, subject: subject.clone(), detail: format!("nothing received for {quiet} s (threshold {secs} s)") });
            }
        }
    }

    /// One round: what fires now.
    pub async fn evaluate(&mut self, store: &dyn Store, metrics: &Metrics, listeners: &[String], senders: &[String], now_ms: i64) -> Vec<Firing> {
        let r = self.rules.clone();
        let mut out = Vec::new();
        if let Ok(depth) = store.depth().await {
            for (destination, n) in depth.into_iter().filter(|(_, n)| *n > r.queue_depth) {
                out.push(Firing { alert: "queue-depth", subject: destination, detail: format!("{n} queued (threshold {})", r.queue_depth) });
            }
        }
        if let Ok(oldest) = store.oldest_queued().await {
            for (destination, received_ms) in oldest {
                let age = (now_ms - received_ms) / 1000;
                if age > r.oldest_queued_secs as i64 {
                    out.push(Firing {
                        alert: "oldest-queued",
                        subject: destination,
                        detail: format!("oldest queued for {age} s (threshold {} s)", r.oldest_queued_secs),
                    });
                }
            }
        }
        // Dead letters of the last hour, per destination, from the counter's samples.
        let dead = totals(metrics, "passerelle_deliveries_total", "destination", Some(("outcome", "dead_lettered")));
        let total: f64 = dead.values().sum();
        self.dead.push_back((now_ms, total));
        while self.dead.front().is_some_and(|(t, _)| now_ms - t > 3_600_000) {
            self.dead.pop_front();
        }
        let in_hour = total - self.dead.front().map_or(0.0, |(_, v)| *v);
        if in_hour > r.dead_letters_per_hour as f64 {
            out.push(Firing {
                alert: "dead-letters",
                subject: "all".into(),
                detail: format!("{in_hour:.0} dead letters in the last hour (threshold {})", r.dead_letters_per_hour),
            });
        }
        let received = totals(metrics, "passerelle_messages_received_total", "listener", None);
        self.silent("listener-silent", &received, listeners, r.listener_silent_secs, now_ms, &mut out);
        let by_sender = totals(metrics, "passerelle_sender_messages_total", "sender", None);
        self.silent("sender-silent", &by_sender, senders, r.sender_silent_secs, now_ms, &mut out);
        for family in metrics.registry.gather().iter().filter(|f| f.name() == "passerelle_tls_certificate_expiry_timestamp_seconds") {
            for m in family.get_metric() {
                let subject = m.get_label().iter().find(|p| p.name() == "listener").map(|p| p.value().to_owned()).unwrap_or_default();
                let days = (m.get_gauge().get_value() as i64 - now_ms / 1000) / 86_400;
                if days < r.certificate_days as i64 {
                    out.push(Firing {
                        alert: "certificate-expiry",
                        subject,
                        detail: format!("the certificate expires in {days} days (threshold {})", r.certificate_days),
                    });
                }
            }
        }
        metrics.alert_firing.reset();
        for f in &out {
            metrics.alert_firing.with_label_values(&[f.alert, &f.subject]).set(1);
        }
        out
    }
}
