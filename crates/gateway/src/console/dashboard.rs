//! The dashboard (`/`): per listener, destination, declared sender and route, the counters of
//! this node since it started; outbox depth and the age of the oldest queued message per
//! destination; mean ACK latency; the nodes of a hub with their last heartbeat; the built-in
//! alert rules firing now. Bars show the
//! proportions; the page reloads itself every 10 seconds.

use super::page::{Lang, esc, page};
use crate::admin::AdminState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use prometheus::proto::MetricFamily;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Sums of counter `name` by the value of `label`, then by `split` (another label) when given.
fn sums(families: &[MetricFamily], name: &str, label: &str, split: Option<&str>) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for family in families.iter().filter(|f| f.name() == name) {
        for metric in family.get_metric() {
            let value_of = |l: &str| metric.get_label().iter().find(|p| p.name() == l).map(|p| p.value().to_owned()).unwrap_or_default();
            let key = value_of(label);
            let column = split.map(value_of).unwrap_or_default();
            let value = if family.get_field_type() == prometheus::proto::MetricType::COUNTER {
                metric.get_counter().get_value()
            } else {
                metric.get_gauge().get_value()
            };
            *out.entry(key).or_default().entry(column).or_default() += value;
        }
    }
    out
}

/// Mean of histogram `name` by `label`, in milliseconds.
fn mean_ms(families: &[MetricFamily], name: &str, label: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for family in families.iter().filter(|f| f.name() == name) {
        for metric in family.get_metric() {
            let key = metric.get_label().iter().find(|p| p.name() == label).map(|p| p.value().to_owned()).unwrap_or_default();
            let h = metric.get_histogram();
            if h.get_sample_count() > 0 {
                out.insert(key, h.get_sample_sum() / h.get_sample_count() as f64 * 1000.0);
            }
        }
    }
    out
}

fn bar(value: f64, max: f64) -> String {
    if max <= 0.0 || value <= 0.0 {
        return String::new();
    }
    format!("<span class=\"bar\" style=\"width:{:.0}px\"></span>", (value / max * 120.0).max(2.0))
}

/// The state of a destination's delivery on this node, with the button that flips it.
fn pause_button(lang: Lang, destination: &str, paused: bool) -> String {
    let (state, class, verb, label) =
        if paused { (lang.t("Paused"), "warn", "resume", lang.t("Resume")) } else { (lang.t("Running"), "ok", "pause", lang.t("Pause")) };
    format!(
        "<span class=\"{class} state\">{state}</span> <form class=\"inline\" method=\"post\" action=\"/console/destinations/{}/{verb}\"><button type=\"submit\">{label}</button></form>",
        super::identity::url_encode(destination)
    )
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

pub async fn dashboard(State(s): State<AdminState>, headers: HeaderMap) -> Response {
    let lang = Lang::from_headers(&headers);
    let families = s.metrics.registry.gather();
    let mut body = format!("<h1>{}</h1><p>{}</p>", lang.t("Dashboard"), lang.t("Refreshes every 10 s"));
    let firing = s.alerts.read().map(|a| a.clone()).unwrap_or_default();
    let _ = write!(body, "<h2>{}</h2>", lang.t("Alerts"));
    if firing.is_empty() {
        let _ = write!(body, "<p class=\"ok\" id=\"firing\">{}</p>", lang.t("No alert firing"));
    } else {
        body.push_str("<table id=\"firing\">");
        for f in &firing {
            let _ = write!(
                body,
                "<tr class=\"firing\" data-alert=\"{}\"><td class=\"bad\">{}</td><td>{}</td><td>{}</td></tr>",
                f.alert,
                f.alert,
                esc(&f.subject),
                esc(&f.detail)
            );
        }
        body.push_str("</table>");
    }
    // Listeners.
    let received = sums(&families, "passerelle_messages_received_total", "listener", None);
    let acked = sums(&families, "passerelle_messages_acked_total", "listener", None);
    let rejected = sums(&families, "passerelle_messages_rejected_total", "listener", None);
    let duplicates = sums(&families, "passerelle_messages_duplicate_total", "listener", None);
    let latency = mean_ms(&families, "passerelle_ack_latency_seconds", "listener");
    let total = |m: &BTreeMap<String, BTreeMap<String, f64>>, k: &str| m.get(k).map_or(0.0, |c| c.values().sum());
    let max = received.keys().map(|k| total(&received, k)).fold(0.0, f64::max);
    let _ = write!(
        body,
        "<h2>{}</h2><table id=\"listeners\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{} (ms)</th></tr>",
        lang.t("Listener"),
        lang.t("Listener"),
        lang.t("Received"),
        lang.t("Acknowledged"),
        lang.t("Rejected"),
        lang.t("Duplicates"),
        lang.t("ACK latency")
    );
    for listener in received.keys() {
        let r = total(&received, listener);
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(listener),
            count(r),
            bar(r, max),
            count(total(&acked, listener)),
            count(total(&rejected, listener)),
            count(total(&duplicates, listener)),
            latency.get(listener).map_or_else(|| "–".into(), |v| format!("{v:.1}"))
        );
    }
    body.push_str("</table>");
    // Destinations.
    let deliveries = sums(&families, "passerelle_deliveries_total", "destination", Some("outcome"));
    let depth = sums(&families, "passerelle_outbox_depth", "destination", None);
    let oldest = sums(&families, "passerelle_outbox_oldest_age_seconds", "destination", None);
    let mut names: Vec<String> = deliveries.keys().chain(depth.keys()).cloned().collect();
    names.extend(s.live.destinations.read().map(|d| d.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default());
    names.sort();
    names.dedup();
    let _ = write!(
        body,
        "<h2>{}</h2><table id=\"destinations\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{} (s)</th><th>{}</th></tr>",
        lang.t("Destination"),
        lang.t("Destination"),
        lang.t("Delivered"),
        lang.t("Retried"),
        lang.t("Dead letters"),
        lang.t("Queued"),
        lang.t("Oldest queued"),
        lang.t("Delivery")
    );
    let outcome = |d: &str, o: &str| deliveries.get(d).and_then(|c| c.get(o)).copied().unwrap_or(0.0);
    for d in &names {
        let _ = write!(
            body,
            "<tr data-destination=\"{}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(d),
            esc(d),
            count(outcome(d, "delivered")),
            count(outcome(d, "retry")),
            count(outcome(d, "dead")),
            count(total(&depth, d)),
            count(total(&oldest, d)),
            pause_button(lang, d, s.live.is_paused(d))
        );
    }
    body.push_str("</table>");
    for (title, name, label, column) in
        [("Senders", "passerelle_sender_messages_total", "sender", "Sender"), ("Routes", "passerelle_route_matches_total", "route", "Route")]
    {
        let rows = sums(&families, name, label, None);
        let max = rows.keys().map(|k| total(&rows, k)).fold(0.0, f64::max);
        let _ = write!(body, "<h2>{}</h2><table><tr><th>{}</th><th>{}</th></tr>", lang.t(title), lang.t(column), lang.t("Matched"));
        for key in rows.keys() {
            let v = total(&rows, key);
            let _ = write!(body, "<tr><td>{}</td><td class=\"n\">{}{}</td></tr>", esc(key), count(v), bar(v, max));
        }
        body.push_str("</table>");
    }
    if let Ok(nodes) = s.store.nodes().await {
        let now = crate::pipeline::now_ms();
        let _ = write!(
            body,
            "<h2>{}</h2><table id=\"nodes\"><tr><th>{}</th><th>{} (s)</th><th>config</th></tr>",
            lang.t("Nodes"),
            lang.t("Node"),
            lang.t("Last seen")
        );
        for n in nodes {
            let age = (now - n.seen_ms) / 1000;
            let class = if now - n.seen_ms > s.lease_ms { "bad" } else { "ok" };
            let _ = write!(body, "<tr><td>{}</td><td class=\"n {class}\">{age}</td><td><code>{}</code></td></tr>", esc(&n.node), esc(&n.config_version));
        }
        body.push_str("</table>");
    }
    page(lang, lang.t("Dashboard"), &body, true)
}
