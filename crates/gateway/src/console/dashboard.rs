//! The dashboard (`/`): per listener, destination, declared sender and route, this node's
//! counters over the last hour, the last day or since it started (`?window=hour|day|start`,
//! from the minute samples of `counter_history`), with a per-minute sparkline of the last hour;
//! outbox depth and the age of the oldest queued message per destination; mean ACK latency over
//! the window; the nodes of a hub with their last heartbeat; the built-in alert rules firing now.
//! Bars show the proportions; the page reloads itself every 10 seconds.

use super::page::{Lang, esc, page};
use crate::admin::AdminState;
use crate::counter_history::{Reading, read};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Deserialize, Default)]
pub struct DashboardParams {
    /// `hour` (the default), `day` or `start`.
    pub window: Option<String>,
}

/// The windows the dashboard offers: (parameter, label, length).
const WINDOWS: [(&str, &str, Option<i64>); 3] =
    [("hour", "Last hour", Some(3_600_000)), ("day", "Last 24 hours", Some(86_400_000)), ("start", "Since start", None)];

/// Sums of `family` by the value of `label`, then by `split` (another label) when given.
fn sums(readings: &[Reading], family: &str, label: &str, split: Option<&str>) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for r in readings.iter().filter(|r| r.family == family) {
        let column = split.map(|s| r.label(s).to_owned()).unwrap_or_default();
        *out.entry(r.label(label).to_owned()).or_default().entry(column).or_default() += r.value;
    }
    out
}

/// Mean of histogram `family` by `label` over the readings, in milliseconds.
fn mean_ms(readings: &[Reading], family: &str, label: &str) -> BTreeMap<String, f64> {
    let count = sums(readings, &format!("{family}_count"), label, None);
    let sum = sums(readings, &format!("{family}_sum"), label, None);
    let total = |m: &BTreeMap<String, f64>| m.values().sum::<f64>();
    count.iter().filter(|(_, c)| total(c) > 0.0).map(|(k, c)| (k.clone(), sum.get(k).map_or(0.0, total) / total(c) * 1000.0)).collect()
}

fn bar(value: f64, max: f64) -> String {
    if max <= 0.0 || value <= 0.0 {
        return String::new();
    }
    format!("<span class=\"bar\" style=\"width:{:.0}px\"></span>", (value / max * 120.0).max(2.0))
}

/// A small line of per-minute counts (inline SVG: nothing to fetch), titled with its peak.
fn sparkline(points: &[f64], title: &str) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let peak = points.iter().copied().fold(0.0, f64::max);
    let step = 120.0 / (points.len() - 1) as f64;
    let mut line = String::new();
    for (i, v) in points.iter().enumerate() {
        let y = if peak > 0.0 { 21.0 - v / peak * 19.0 } else { 21.0 };
        let _ = write!(line, "{:.1},{:.1} ", i as f64 * step, y);
    }
    format!(
        "<svg class=\"spark\" width=\"120\" height=\"22\" viewBox=\"0 0 120 22\" role=\"img\"><title>{} {peak:.0}</title><polyline fill=\"none\" stroke=\"#2f81f7\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        esc(title),
        line.trim_end()
    )
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

/// A header row of `cells`, translated.
fn header_row(lang: Lang, cells: &[&'static str]) -> String {
    let mut row = String::from("<tr>");
    for c in cells {
        let _ = write!(row, "<th>{}</th>", lang.t(c));
    }
    row.push_str("</tr>");
    row
}

fn alerts_section(s: &AdminState, lang: Lang, body: &mut String) {
    let firing = s.alerts.read().map(|a| a.clone()).unwrap_or_default();
    let _ = write!(body, "<h2>{}</h2>", lang.t("Alerts"));
    if firing.is_empty() {
        let _ = write!(body, "<p class=\"ok\" id=\"firing\">{}</p>", lang.t("No alert firing"));
        return;
    }
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

pub async fn dashboard(State(s): State<AdminState>, headers: HeaderMap, Query(p): Query<DashboardParams>) -> Response {
    let lang = Lang::from_headers(&headers);
    let now_ms = crate::pipeline::now_ms();
    let current = read(&s.metrics.registry.gather());
    let (window, _, length) = WINDOWS.iter().copied().find(|(name, _, _)| Some(*name) == p.window.as_deref()).unwrap_or(WINDOWS[0]);
    let readings = s.history.over(&current, now_ms, length);
    let mut body = format!("<h1>{}</h1><p id=\"windows\">", lang.t("Dashboard"));
    for (name, label, _) in WINDOWS {
        if name == window {
            let _ = write!(body, "<b data-window=\"{name}\">{}</b> · ", lang.t(label));
        } else {
            let _ = write!(body, "<a href=\"/?window={name}\">{}</a> · ", lang.t(label));
        }
    }
    let _ = write!(body, "{}</p>", lang.t("Refreshes every 10 s"));
    alerts_section(&s, lang, &mut body);
    let total = |m: &BTreeMap<String, BTreeMap<String, f64>>, k: &str| m.get(k).map_or(0.0, |c| c.values().sum());
    let spark =
        |family: &str, label: &str, key: &str| sparkline(&s.history.per_interval(&current, family, label, key, 60), lang.t("Per minute, last hour; peak"));
    // Listeners.
    let received = sums(&readings, "passerelle_messages_received_total", "listener", None);
    let acked = sums(&readings, "passerelle_messages_acked_total", "listener", None);
    let rejected = sums(&readings, "passerelle_messages_rejected_total", "listener", None);
    let duplicates = sums(&readings, "passerelle_messages_duplicate_total", "listener", None);
    let filtered = sums(&readings, "passerelle_messages_filtered_total", "listener", Some("reason"));
    let latency = mean_ms(&readings, "passerelle_ack_latency_seconds", "listener");
    let max = received.keys().map(|k| total(&received, k)).fold(0.0, f64::max);
    let _ = write!(
        body,
        "<h2>{}</h2><table id=\"listeners\">{}",
        lang.t("Listener"),
        header_row(lang, &["Listener", "Received", "Last hour", "Acknowledged", "Rejected", "Duplicates", "No route", "Withheld", "ACK latency (ms)"])
    );
    let reason = |l: &str, r: &str| filtered.get(l).and_then(|c| c.get(r)).copied().unwrap_or(0.0);
    for listener in received.keys() {
        let r = total(&received, listener);
        let _ = write!(
            body,
            "<tr data-listener=\"{l}\"><td>{l}</td><td class=\"n received\">{}{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            count(r),
            bar(r, max),
            spark("passerelle_messages_received_total", "listener", listener),
            count(total(&acked, listener)),
            count(total(&rejected, listener)),
            count(total(&duplicates, listener)),
            count(reason(listener, "unrouted")),
            count(reason(listener, "withheld")),
            latency.get(listener).map_or_else(|| "–".into(), |v| format!("{v:.1}")),
            l = esc(listener),
        );
    }
    body.push_str("</table>");
    // Destinations.
    let deliveries = sums(&readings, "passerelle_deliveries_total", "destination", Some("outcome"));
    let depth = sums(&readings, "passerelle_outbox_depth", "destination", None);
    let oldest = sums(&readings, "passerelle_outbox_oldest_age_seconds", "destination", None);
    let mut names: Vec<String> = deliveries.keys().chain(depth.keys()).cloned().collect();
    names.extend(s.live.destinations.read().map(|d| d.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default());
    names.sort();
    names.dedup();
    let _ = write!(
        body,
        "<h2>{}</h2><table id=\"destinations\">{}",
        lang.t("Destination"),
        header_row(lang, &["Destination", "Delivered", "Last hour", "Retried", "Dead letters", "Queued", "Oldest queued (s)", "Delivery"])
    );
    let outcome = |d: &str, o: &str| deliveries.get(d).and_then(|c| c.get(o)).copied().unwrap_or(0.0);
    for d in &names {
        let _ = write!(
            body,
            "<tr data-destination=\"{de}\"><td>{de}</td><td class=\"n delivered\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            count(outcome(d, "delivered")),
            spark("passerelle_deliveries_total", "destination", d),
            count(outcome(d, "retried")),
            count(outcome(d, "dead_lettered")),
            count(total(&depth, d)),
            count(total(&oldest, d)),
            pause_button(lang, d, s.live.is_paused(d)),
            de = esc(d),
        );
    }
    body.push_str("</table>");
    // Declared senders, by outcome.
    let senders = sums(&readings, "passerelle_sender_messages_total", "sender", Some("outcome"));
    let max = senders.keys().map(|k| total(&senders, k)).fold(0.0, f64::max);
    let _ = write!(
        body,
        "<h2>{}</h2><table id=\"senders\">{}",
        lang.t("Senders"),
        header_row(lang, &["Sender", "Received", "Accepted", "Refused", "Rejected", "Not stored"])
    );
    for (sender, by) in &senders {
        let v = |o: &str| count(by.get(o).copied().unwrap_or(0.0));
        let r = total(&senders, sender);
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(sender),
            count(r),
            bar(r, max),
            v("accepted"),
            v("refused"),
            v("rejected"),
            v("not_stored")
        );
    }
    body.push_str("</table>");
    let routes = sums(&readings, "passerelle_route_matches_total", "route", None);
    let max = routes.keys().map(|k| total(&routes, k)).fold(0.0, f64::max);
    let _ = write!(body, "<h2>{}</h2><table id=\"routes\">{}", lang.t("Routes"), header_row(lang, &["Route", "Matched", "Last hour"]));
    for key in routes.keys() {
        let v = total(&routes, key);
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}{}</td><td>{}</td></tr>",
            esc(key),
            count(v),
            bar(v, max),
            spark("passerelle_route_matches_total", "route", key)
        );
    }
    body.push_str("</table>");
    if let Ok(nodes) = s.store.nodes().await {
        let _ = write!(body, "<h2>{}</h2><table id=\"nodes\">{}", lang.t("Nodes"), header_row(lang, &["Node", "Last seen (s)", "Configuration"]));
        for n in nodes {
            let age = (now_ms - n.seen_ms) / 1000;
            let class = if now_ms - n.seen_ms > s.lease_ms { "bad" } else { "ok" };
            let _ = write!(body, "<tr><td>{}</td><td class=\"n {class}\">{age}</td><td><code>{}</code></td></tr>", esc(&n.node), esc(&n.config_version));
        }
        body.push_str("</table>");
    }
    page(lang, lang.t("Dashboard"), &body, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_scales_to_its_peak() {
        let svg = sparkline(&[0.0, 5.0, 10.0], "peak");
        assert!(svg.contains("points=\"0.0,21.0 60.0,11.5 120.0,2.0\""), "{svg}");
        assert!(svg.contains("<title>peak 10</title>"));
        assert_eq!(sparkline(&[3.0], "one point"), "");
    }

    #[test]
    fn the_mean_latency_is_over_the_window() {
        let r = |family: &str, value: f64| Reading { family: family.into(), labels: vec![("listener".into(), "adt".into())], value, cumulative: true };
        let m = mean_ms(
            &[r("passerelle_ack_latency_seconds_count", 4.0), r("passerelle_ack_latency_seconds_sum", 0.01)],
            "passerelle_ack_latency_seconds",
            "listener",
        );
        assert_eq!(m.get("adt").copied(), Some(2.5));
    }
}
