//! What this node's counters read over the last day: a sample of every counter (and each
//! histogram's count and sum) once a minute, so the dashboard shows the last hour and the last
//! day, not only the total since the node started, and draws per-minute sparklines. Nothing is
//! added to the hot path: the sampler reads the Prometheus registry.

use prometheus::proto::{MetricFamily, MetricType};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How often the sampler reads the registry.
pub const SAMPLE_EVERY_MS: i64 = 60_000;
/// A day of samples, and the one before it (the baseline of the day's window).
const KEPT_SAMPLES: usize = 24 * 60 + 2;

/// One time series as read now: a counter, a gauge, or a histogram's `_count` or `_sum`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub family: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Counters (and histogram counts and sums) have a window; gauges are read as they are.
    pub cumulative: bool,
}

impl Reading {
    pub fn label(&self, name: &str) -> &str {
        self.labels.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn key(&self) -> String {
        let mut key = self.family.clone();
        for (k, v) in &self.labels {
            key.push('\u{1}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        key
    }
}

/// The registry's families as flat readings.
pub fn read(families: &[MetricFamily]) -> Vec<Reading> {
    let mut out = Vec::new();
    for family in families {
        for metric in family.get_metric() {
            let labels: Vec<(String, String)> = metric.get_label().iter().map(|p| (p.name().to_owned(), p.value().to_owned())).collect();
            let mut push = |family: String, value: f64, cumulative: bool| out.push(Reading { family, labels: labels.clone(), value, cumulative });
            match family.get_field_type() {
                MetricType::COUNTER => push(family.name().to_owned(), metric.get_counter().get_value(), true),
                MetricType::GAUGE => push(family.name().to_owned(), metric.get_gauge().get_value(), false),
                MetricType::HISTOGRAM => {
                    let h = metric.get_histogram();
                    push(format!("{}_count", family.name()), h.get_sample_count() as f64, true);
                    push(format!("{}_sum", family.name()), h.get_sample_sum(), true);
                }
                _ => {}
            }
        }
    }
    out
}

#[derive(Default)]
struct Samples {
    /// Series key → its position in each sample.
    index: HashMap<String, usize>,
    /// (family, labels) of each position.
    series: Vec<(String, Vec<(String, String)>)>,
    /// (when, values by position); a sample taken before a series existed is shorter (0).
    taken: VecDeque<(i64, Vec<f64>)>,
}

/// The samples of the last day.
#[derive(Default)]
pub struct CounterHistory {
    samples: Mutex<Samples>,
}

impl CounterHistory {
    /// Records what the cumulative readings are at `at_ms`.
    pub fn record(&self, at_ms: i64, readings: &[Reading]) {
        let Ok(mut s) = self.samples.lock() else { return };
        let mut values = vec![0.0; s.series.len()];
        for r in readings.iter().filter(|r| r.cumulative) {
            let key = r.key();
            let at = match s.index.get(&key) {
                Some(&at) => at,
                None => {
                    let at = s.series.len();
                    s.index.insert(key, at);
                    s.series.push((r.family.clone(), r.labels.clone()));
                    values.push(0.0);
                    at
                }
            };
            values[at] = r.value;
        }
        s.taken.push_back((at_ms, values));
        while s.taken.len() > KEPT_SAMPLES {
            s.taken.pop_front();
        }
    }

    /// `now` over the last `window_ms`: each cumulative reading less what it was at the last
    /// sample taken at or before the window's start (nothing: the node is younger than the
    /// window, and the whole count is in it). `None` is everything since the node started.
    pub fn over(&self, now: &[Reading], now_ms: i64, window_ms: Option<i64>) -> Vec<Reading> {
        let Some(window_ms) = window_ms else { return now.to_vec() };
        let Ok(s) = self.samples.lock() else { return now.to_vec() };
        let start = now_ms - window_ms;
        let baseline = s.taken.iter().rev().find(|(at, _)| *at <= start).map(|(_, v)| v);
        now.iter()
            .map(|r| {
                let before = match (r.cumulative, baseline) {
                    (true, Some(values)) => s.index.get(&r.key()).and_then(|&at| values.get(at)).copied().unwrap_or(0.0),
                    _ => 0.0,
                };
                // A counter that went down was reset (not here, but a registry could): count anew.
                let value = if r.value >= before { r.value - before } else { r.value };
                Reading { value, ..r.clone() }
            })
            .collect()
    }

    /// The increase of `family` (summed over the series whose `label` is `value`) in each of
    /// the last `minutes` sample intervals, the oldest first, the last one ending now (always
    /// `minutes` points: the intervals before the node started count nothing).
    pub fn per_interval(&self, now: &[Reading], family: &str, label: &str, value: &str, minutes: usize) -> Vec<f64> {
        let Ok(s) = self.samples.lock() else { return Vec::new() };
        let positions: Vec<usize> = s
            .series
            .iter()
            .enumerate()
            .filter(|(_, (f, labels))| f == family && labels.iter().any(|(k, v)| k == label && v == value))
            .map(|(i, _)| i)
            .collect();
        let total_of = |values: &[f64]| positions.iter().map(|&p| values.get(p).copied().unwrap_or(0.0)).sum::<f64>();
        let current: f64 = now.iter().filter(|r| r.family == family && r.label(label) == value).map(|r| r.value).sum();
        let mut totals: Vec<f64> = s.taken.iter().rev().take(minutes).map(|(_, v)| total_of(v)).collect();
        totals.reverse();
        totals.push(current);
        let increases: Vec<f64> = totals.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
        // Before the node started, nothing arrived: a young node's line starts flat.
        let mut points = vec![0.0; minutes.saturating_sub(increases.len())];
        points.extend(increases);
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(listener: &str, value: f64) -> Reading {
        Reading { family: "passerelle_messages_received_total".into(), labels: vec![("listener".into(), listener.into())], value, cumulative: true }
    }

    #[test]
    fn a_window_subtracts_the_sample_at_its_start() {
        let h = CounterHistory::default();
        let minute = SAMPLE_EVERY_MS;
        // A node that started 2 h ago and received 10 messages a minute on `adt`.
        for m in 0..=120 {
            h.record(m * minute, &[received("adt", 10.0 * m as f64)]);
        }
        let now = [received("adt", 1210.0), received("new", 3.0)];
        let hour = h.over(&now, 121 * minute, Some(60 * minute));
        assert_eq!(hour[0].value, 1210.0 - 610.0);
        assert_eq!(hour[1].value, 3.0, "a series born inside the window counts whole");
        let day = h.over(&now, 121 * minute, Some(24 * 60 * minute));
        assert_eq!(day[0].value, 1210.0, "a node younger than the window counts since it started");
        assert_eq!(h.over(&now, 121 * minute, None)[0].value, 1210.0);
    }

    #[test]
    fn gauges_are_read_as_they_are() {
        let h = CounterHistory::default();
        let depth = Reading { family: "passerelle_outbox_depth".into(), labels: vec![], value: 7.0, cumulative: false };
        h.record(0, std::slice::from_ref(&depth));
        h.record(SAMPLE_EVERY_MS, std::slice::from_ref(&depth));
        assert_eq!(h.over(std::slice::from_ref(&depth), 2 * SAMPLE_EVERY_MS, Some(SAMPLE_EVERY_MS))[0].value, 7.0);
    }

    #[test]
    fn per_interval_increases_end_now() {
        let h = CounterHistory::default();
        for (m, v) in [(0, 0.0), (1, 5.0), (2, 5.0), (3, 12.0)] {
            h.record(m * SAMPLE_EVERY_MS, &[received("adt", v), received("other", 100.0 * v)]);
        }
        let points = h.per_interval(&[received("adt", 13.0)], "passerelle_messages_received_total", "listener", "adt", 60);
        assert_eq!(points.len(), 60);
        assert_eq!(points[56..], [5.0, 0.0, 7.0, 1.0]);
        assert!(points[..56].iter().all(|p| *p == 0.0));
        let last_two = h.per_interval(&[received("adt", 13.0)], "passerelle_messages_received_total", "listener", "adt", 2);
        assert_eq!(last_two, vec![7.0, 1.0]);
    }

    #[test]
    fn a_day_is_kept_and_no_more() {
        let h = CounterHistory::default();
        for m in 0..3000 {
            h.record(m * SAMPLE_EVERY_MS, &[received("adt", m as f64)]);
        }
        assert_eq!(h.samples.lock().map(|s| s.taken.len()).unwrap_or(0), KEPT_SAMPLES);
    }
}
