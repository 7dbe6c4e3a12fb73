//! Detect: when was the alert threshold breached? Error events become one series per label set
//! (`error_type`, `pod`, `namespace`, `container`, mirroring `mcp_generation_errors_total`);
//! each is turned into a counter scraped every scrape interval (or, in loki mode, counted in a
//! sliding window), its rate is evaluated on the rule's evaluation grid, and Prometheus'
//! pending/firing state machine runs per series (what the real alert does) and for the total.

pub mod engine;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::classify::{CauseTable, EventTable};
use crate::config::{AlertSettings, RateMode};
use crate::model::event::{CauseIdx, Sym};
use crate::model::{AlertInstance, AlertSource, Millis};
use engine::{ForSpec, Sample};

/// One label set's error series and what the rule made of it.
#[derive(Clone, Debug)]
pub struct SeriesResult {
    pub labels: BTreeMap<String, String>,
    pub cause: CauseIdx,
    pub pod: String,
    pub records: u64,
    pub events: u64,
    /// Highest rate seen on the evaluation grid, and when (None when never computable).
    pub peak: Option<(f64, Millis)>,
    pub alerts: Vec<AlertInstance>,
}

/// The whole reconstruction.
#[derive(Clone, Debug, Default)]
pub struct Detection {
    /// Evaluation times.
    pub grid: Vec<Millis>,
    /// `sum(rate(...))` over every series at each evaluation (None where no series had data).
    pub total_rate: Vec<Option<f64>>,
    /// The highest single-series rate at each evaluation.
    pub max_series_rate: Vec<Option<f64>>,
    pub series: Vec<SeriesResult>,
    /// The alert as `sum(rate(...)) > threshold` would see it.
    pub total_alerts: Vec<AlertInstance>,
    pub total_peak: Option<(f64, Millis)>,
}

impl Detection {
    /// Every per-series alert, in time order.
    pub fn series_alerts(&self) -> Vec<&AlertInstance> {
        let mut all: Vec<&AlertInstance> =
            self.series.iter().flat_map(|s| s.alerts.iter()).collect();
        all.sort_by(|a, b| (a.pending_at, &a.labels).cmp(&(b.pending_at, &b.labels)));
        all
    }

    /// Whether any single series fired (what the real, unsummed alert does).
    pub fn series_fired(&self) -> bool {
        self.series
            .iter()
            .any(|s| s.alerts.iter().any(|a| a.firing_at.is_some()))
    }

    pub fn total_fired(&self) -> bool {
        self.total_alerts.iter().any(|a| a.firing_at.is_some())
    }
}

struct SeriesInput {
    key: (CauseIdx, Sym, Sym, Sym),
    records: Vec<Millis>,
    events: Vec<Millis>,
    alive_until: Millis,
}

fn floor_to(t: Millis, step: Millis, offset: Millis) -> Millis {
    (t - offset).div_euclid(step) * step + offset
}

fn ceil_to(t: Millis, step: Millis, offset: Millis) -> Millis {
    let f = floor_to(t, step, offset);
    if f == t {
        t
    } else {
        f + step
    }
}

/// The counter Prometheus would have scraped: from the first scrape at or after the first
/// event (prom-client creates a labelled series on its first increment) to `until`.
fn counter_samples(events: &[Millis], scrape: Millis, until: Millis) -> Vec<Sample> {
    let Some(&first) = events.first() else {
        return Vec::new();
    };
    let mut samples = Vec::new();
    let mut t = ceil_to(first, scrape, 0);
    let mut i = 0;
    while t <= until {
        while i < events.len() && events[i] <= t {
            i += 1;
        }
        samples.push(Sample {
            t_ms: t,
            v: i as f64,
        });
        t += scrape;
    }
    samples
}

/// The highest value and its (first) time.
fn peak_of(grid: &[Millis], values: &[Option<f64>]) -> Option<(f64, Millis)> {
    grid.iter()
        .zip(values)
        .filter_map(|(&t, v)| v.map(|v| (v, t)))
        .fold(None, |best, (v, t)| match best {
            Some((bv, _)) if bv >= v => best,
            _ => Some((v, t)),
        })
}

fn instance(
    ep: &engine::Episode,
    labels: BTreeMap<String, String>,
    alertname: &str,
    is_total: bool,
) -> AlertInstance {
    AlertInstance {
        alertname: alertname.to_owned(),
        source: AlertSource::Logs,
        labels,
        is_total,
        pending_at: ep.active_at_ms,
        firing_at: ep.firing_at_ms,
        resolved_at: ep.resolved_at_ms,
        peak_rate: ep.peak,
        peak_at: ep.peak_at_ms,
        last_active: ep.last_present_ms,
    }
}

/// Runs the reconstruction. `until` caps the evaluation (the end of what the user asked for).
pub fn detect(
    table: &EventTable,
    causes: &CauseTable,
    a: &AlertSettings,
    until: Option<Millis>,
) -> Detection {
    // Group rows into series.
    let mut by_key: HashMap<(CauseIdx, Sym, Sym, Sym), SeriesInput> = HashMap::new();
    for r in &table.rows {
        let key = (r.cause, r.pod, r.container, r.namespace);
        let s = by_key.entry(key).or_insert_with(|| SeriesInput {
            key,
            records: Vec::new(),
            events: Vec::new(),
            alive_until: Millis::MIN,
        });
        s.records.push(r.ts);
        if r.first_of_event {
            s.events.push(r.ts);
        }
    }
    let last_seen: HashMap<(&str, &str, &str), Millis> = table
        .pods
        .iter()
        .map(|p| {
            (
                (p.pod.as_str(), p.container.as_str(), p.namespace.as_str()),
                p.last,
            )
        })
        .collect();
    let mut inputs: Vec<SeriesInput> = by_key.into_values().collect();
    for s in &mut inputs {
        let (_, p, c, n) = s.key;
        let seen = last_seen
            .get(&(table.syms.get(p), table.syms.get(c), table.syms.get(n)))
            .copied()
            .unwrap_or(Millis::MIN);
        let last_event = *s.records.last().expect("a series has records");
        s.alive_until = seen.max(ceil_to(last_event, a.scrape_interval_ms, 0));
        if let Some(u) = until {
            s.alive_until = s.alive_until.min(u);
        }
    }
    let label_of = |key: (CauseIdx, Sym, Sym, Sym)| {
        let (cause, p, c, n) = key;
        let mut labels = BTreeMap::new();
        labels.insert("error_type".to_owned(), causes.id(cause).to_owned());
        for (name, sym) in [("pod", p), ("container", c), ("namespace", n)] {
            let v = table.syms.get(sym);
            if !v.is_empty() {
                labels.insert(name.to_owned(), v.to_owned());
            }
        }
        labels
    };
    inputs.sort_by_key(|s| label_of(s.key));
    let Some(first) = inputs
        .iter()
        .filter_map(|s| s.records.first())
        .min()
        .copied()
    else {
        return Detection::default();
    };
    let mut end = inputs.iter().map(|s| s.alive_until).max().unwrap_or(first)
        + a.window_ms
        + a.eval_interval_ms;
    if let Some(u) = until {
        end = end.min(u);
    }
    let grid = engine::eval_grid(
        floor_to(first, a.eval_interval_ms, a.eval_offset_ms),
        end,
        a.eval_interval_ms,
        a.eval_offset_ms,
    );
    let spec = ForSpec {
        for_ms: a.for_ms,
        keep_firing_for_ms: 0,
    };

    let computed: Vec<(SeriesResult, Vec<Option<f64>>)> = inputs
        .par_iter()
        .map(|s| {
            let rates: Vec<Option<f64>> = match a.rate_mode {
                RateMode::Prometheus => {
                    let samples = counter_samples(&s.events, a.scrape_interval_ms, s.alive_until);
                    grid.iter()
                        .map(|&t| engine::rate(&samples, t, a.window_ms, a.compat))
                        .collect()
                }
                RateMode::Loki => grid
                    .iter()
                    .map(|&t| {
                        // Loki returns nothing once the stream has no line in the window.
                        let r = engine::loki_rate(&s.records, t, a.window_ms);
                        (r > 0.0).then_some(r)
                    })
                    .collect(),
            };
            let labels = label_of(s.key);
            let episodes = engine::run_alert(
                grid.iter()
                    .zip(&rates)
                    .map(|(&t, r)| (t, r.filter(|v| *v > a.threshold))),
                spec,
            );
            let peak = peak_of(&grid, &rates);
            let alerts = episodes
                .iter()
                .map(|e| instance(e, labels.clone(), &a.name, false))
                .collect();
            let (cause, p, ..) = s.key;
            (
                SeriesResult {
                    labels,
                    cause,
                    pod: table.syms.get(p).to_owned(),
                    records: s.records.len() as u64,
                    events: s.events.len() as u64,
                    peak,
                    alerts,
                },
                rates,
            )
        })
        .collect();

    let mut total_rate: Vec<Option<f64>> = vec![None; grid.len()];
    let mut max_series_rate: Vec<Option<f64>> = vec![None; grid.len()];
    let mut series = Vec::with_capacity(computed.len());
    for (result, rates) in computed {
        for (i, r) in rates.iter().enumerate() {
            if let Some(v) = r {
                total_rate[i] = Some(total_rate[i].unwrap_or(0.0) + v);
                max_series_rate[i] = Some(max_series_rate[i].map_or(*v, |m: f64| m.max(*v)));
            }
        }
        series.push(result);
    }
    let total_episodes = engine::run_alert(
        grid.iter()
            .zip(&total_rate)
            .map(|(&t, r)| (t, r.filter(|v| *v > a.threshold))),
        spec,
    );
    let total_alerts = total_episodes
        .iter()
        .map(|e| instance(e, BTreeMap::new(), &a.name, true))
        .collect();
    let total_peak = peak_of(&grid, &total_rate);
    Detection {
        grid,
        total_rate,
        max_series_rate,
        series,
        total_alerts,
        total_peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_starts_at_first_scrape_after_first_event() {
        let s = counter_samples(&[1_000, 2_000, 16_000], 15_000, 45_000);
        let got: Vec<(i64, f64)> = s.iter().map(|s| (s.t_ms, s.v)).collect();
        assert_eq!(got, vec![(15_000, 2.0), (30_000, 3.0), (45_000, 3.0)]);
    }

    #[test]
    fn grid_alignment() {
        assert_eq!(floor_to(31_000, 15_000, 0), 30_000);
        assert_eq!(ceil_to(31_000, 15_000, 0), 45_000);
        assert_eq!(ceil_to(30_000, 15_000, 0), 30_000);
        assert_eq!(floor_to(31_000, 15_000, 5_000), 20_000);
    }
}
