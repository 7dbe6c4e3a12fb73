//! The runbook's alert reconstructed from the logs. Error events become one series per label
//! set (`error_type`, `pod`, `namespace`, `container`, mirroring
//! `mcp_generation_errors_total`); each is turned into a counter scraped every scrape interval
//! (or, in loki mode, counted in a sliding window), its rate is evaluated on the rule's
//! evaluation grid, and Prometheus' pending/firing state machine runs per series (what the
//! real alert does) and for the total.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::alert::{self, ForSpec};
use super::plan::Grid;
use crate::classify::{CauseTable, EventTable};
use crate::config::AlertSettings;
use crate::model::alert::RateMode;
use crate::model::event::{CauseIdx, Sym};
use crate::model::metrics::Sample;
use crate::model::{AlertInstance, AlertSource, ErrorEvent, Millis};
use crate::promql;

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
pub struct LogDetection {
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
    /// Each series' counter as Prometheus would have scraped it (its labels, in the order of
    /// `series`), for replaying the rule under other settings; empty in loki mode.
    pub counters: Vec<Vec<Sample>>,
}

impl LogDetection {
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

/// Adds `n` at time `t` to an ascending list of (time, count), merging equal times.
fn bump(list: &mut Vec<(Millis, u64)>, t: Millis, n: u64) {
    match list.last_mut() {
        Some((last, c)) if *last == t => *c += n,
        _ => list.push((t, n)),
    }
}

/// One label set's records, reduced to what the rule needs: counts per scrape (Prometheus
/// mode) or per evaluation step (loki mode), never the records themselves. (A shard's
/// partial carries these between the map step and the merge.)
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAcc {
    /// Cause, pod, container and namespace (interned).
    pub key: (CauseIdx, Sym, Sym, Sym),
    pub records: u64,
    pub events: u64,
    pub first_record: Millis,
    pub last_record: Millis,
    /// Prometheus mode: error events per scrape, keyed by the first scrape at or after them.
    pub scrapes: Vec<(Millis, u64)>,
    /// Loki mode: records entering the window (the first evaluation at or after them) and
    /// leaving it (the first evaluation at least a window after them).
    pub enters: Vec<(Millis, u64)>,
    pub leaves: Vec<(Millis, u64)>,
}

/// Turns the merge's stream of error records (in time order) into per-series counts. Memory
/// grows with series × scrapes of the incident, not with the number of records.
pub struct SeriesBuilder {
    mode: RateMode,
    scrape_ms: Millis,
    eval_ms: Millis,
    offset_ms: Millis,
    window_ms: Millis,
    index: foldhash::HashMap<(CauseIdx, Sym, Sym, Sym), usize>,
    series: Vec<SeriesAcc>,
}

impl SeriesBuilder {
    /// Counts for the alert `a`, evaluated on `grid`.
    pub fn new(a: &AlertSettings, grid: &Grid) -> Self {
        SeriesBuilder {
            mode: a.rate_mode,
            scrape_ms: a.scrape_interval_ms,
            eval_ms: grid.interval_ms,
            offset_ms: grid.offset_ms,
            window_ms: a.window_ms,
            index: foldhash::HashMap::default(),
            series: Vec::new(),
        }
    }

    /// The series built so far, in the order they were first seen.
    pub fn into_series(self) -> Vec<SeriesAcc> {
        self.series
    }

    /// A builder holding `series` (each key once), as if their records had been added.
    pub fn from_series(a: &AlertSettings, grid: &Grid, series: Vec<SeriesAcc>) -> Self {
        let mut b = SeriesBuilder::new(a, grid);
        b.index = series.iter().enumerate().map(|(i, s)| (s.key, i)).collect();
        b.series = series;
        b
    }

    /// Keeps what lies within `lo..=hi` (the range every evaluation stays within), as adding
    /// only the records inside it would have: series wholly outside are dropped; a series
    /// with records on both sides of a bound keeps the buckets inside (its bucket at the
    /// bound may hold records just outside). Returns how many series straddled a bound.
    pub fn retain_within(&mut self, lo: Millis, hi: Millis) -> usize {
        let mut straddling = 0;
        self.series
            .retain(|s| s.last_record >= lo && s.first_record <= hi);
        for s in &mut self.series {
            if s.first_record < lo || s.last_record > hi {
                straddling += 1;
                for list in [&mut s.scrapes, &mut s.enters, &mut s.leaves] {
                    list.retain(|&(t, _)| {
                        (lo..=hi + self.scrape_ms.max(self.eval_ms)).contains(&t)
                    });
                }
                s.first_record = s.first_record.max(lo);
                s.last_record = s.last_record.min(hi);
            }
        }
        self.index = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key, i))
            .collect();
        straddling
    }

    /// Counts one error record; records must come in time order.
    pub fn add(&mut self, r: &ErrorEvent) {
        let key = (r.cause, r.pod, r.container, r.namespace);
        let idx = *self.index.entry(key).or_insert_with(|| {
            self.series.push(SeriesAcc {
                key,
                records: 0,
                events: 0,
                first_record: r.ts,
                last_record: r.ts,
                scrapes: Vec::new(),
                enters: Vec::new(),
                leaves: Vec::new(),
            });
            self.series.len() - 1
        });
        let s = &mut self.series[idx];
        s.records += 1;
        s.last_record = r.ts;
        match self.mode {
            RateMode::Prometheus => {
                if r.counted {
                    s.events += 1;
                    bump(&mut s.scrapes, ceil_to(r.ts, self.scrape_ms, 0), 1);
                }
            }
            RateMode::Loki => {
                s.events += r.counted as u64;
                bump(
                    &mut s.enters,
                    ceil_to(r.ts, self.eval_ms, self.offset_ms),
                    1,
                );
                bump(
                    &mut s.leaves,
                    ceil_to(r.ts + self.window_ms, self.eval_ms, self.offset_ms),
                    1,
                );
            }
        }
    }
}

/// The counter Prometheus would have scraped: from the first scrape at or after the first
/// event (prom-client creates a labelled series on its first increment) to `until`. `scrapes`
/// holds the events per scrape time, ascending.
fn counter_samples(scrapes: &[(Millis, u64)], scrape: Millis, until: Millis) -> Vec<Sample> {
    let Some(&(mut t, _)) = scrapes.first() else {
        return Vec::new();
    };
    let mut samples = Vec::new();
    let (mut i, mut total) = (0, 0u64);
    while t <= until {
        while i < scrapes.len() && scrapes[i].0 <= t {
            total += scrapes[i].1;
            i += 1;
        }
        samples.push(Sample {
            t_ms: t,
            v: total as f64,
        });
        t += scrape;
    }
    samples
}

/// Records in the window `(t - window, t]` at each evaluation time of `grid`.
fn window_counts(enters: &[(Millis, u64)], leaves: &[(Millis, u64)], grid: &[Millis]) -> Vec<u64> {
    let (mut i, mut j, mut inside) = (0, 0, 0u64);
    grid.iter()
        .map(|&t| {
            while i < enters.len() && enters[i].0 <= t {
                inside += enters[i].1;
                i += 1;
            }
            while j < leaves.len() && leaves[j].0 <= t {
                inside -= leaves[j].1;
                j += 1;
            }
            inside
        })
        .collect()
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

/// One series to evaluate: its counts, until when its pod was alive, and its labels.
type SeriesInput = (SeriesAcc, Millis, BTreeMap<String, String>);

/// The series the merge built, with their labels and the time each stays alive until (the
/// pod's last record, else its last error's scrape; capped at `until`), sorted by labels.
fn series_inputs(
    built: SeriesBuilder,
    table: &EventTable,
    causes: &CauseTable,
    scrape_ms: Millis,
    until: Option<Millis>,
) -> Vec<SeriesInput> {
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
    let mut inputs: Vec<SeriesInput> = built
        .series
        .into_iter()
        .map(|s| {
            let (_, p, c, n) = s.key;
            let seen = last_seen
                .get(&(table.syms.get(p), table.syms.get(c), table.syms.get(n)))
                .copied()
                .unwrap_or(Millis::MIN);
            let mut alive_until = seen.max(ceil_to(s.last_record, scrape_ms, 0));
            if let Some(u) = until {
                alive_until = alive_until.min(u);
            }
            let labels = label_of(s.key);
            (s, alive_until, labels)
        })
        .collect();
    inputs.sort_by(|x, y| x.2.cmp(&y.2));
    inputs
}

/// One series' rate at every evaluation of `grid`, and what the rule made of it.
fn evaluate_series(
    (s, alive_until, labels): SeriesInput,
    grid: &[Millis],
    a: &AlertSettings,
    table: &EventTable,
) -> (SeriesResult, Vec<Option<f64>>, Vec<Sample>) {
    let mut counter = Vec::new();
    let rates: Vec<Option<f64>> = match a.rate_mode {
        RateMode::Prometheus => {
            counter = counter_samples(&s.scrapes, a.scrape_interval_ms, alive_until);
            promql::rates_at(&counter, grid, a.window_ms, a.compat)
        }
        RateMode::Loki => window_counts(&s.enters, &s.leaves, grid)
            .into_iter()
            .map(|n| {
                // Loki returns nothing once the stream has no line in the window.
                (n > 0).then(|| promql::loki_rate_of_count(n, a.window_ms))
            })
            .collect(),
    };
    let episodes = alert::run_alert(
        grid.iter()
            .zip(&rates)
            .map(|(&t, r)| (t, r.filter(|v| *v > a.threshold))),
        for_spec(a),
    );
    let peak = peak_of(grid, &rates);
    let alerts = episodes
        .iter()
        .map(|e| e.instance(&a.name, labels.clone(), AlertSource::Logs, false))
        .collect();
    let (cause, p, ..) = s.key;
    (
        SeriesResult {
            labels,
            cause,
            pod: table.syms.get(p).to_owned(),
            records: s.records,
            events: s.events,
            peak,
            alerts,
        },
        rates,
        counter,
    )
}

fn for_spec(a: &AlertSettings) -> ForSpec {
    ForSpec {
        for_ms: a.for_ms,
        keep_firing_for_ms: 0,
    }
}

/// Runs the reconstruction over the series the merge built, on `plan` (the logs' grid).
/// `until` caps the evaluation (the end of what the user asked for).
pub fn detect(
    built: SeriesBuilder,
    table: &EventTable,
    causes: &CauseTable,
    a: &AlertSettings,
    plan: &Grid,
    until: Option<Millis>,
) -> LogDetection {
    let inputs = series_inputs(built, table, causes, a.scrape_interval_ms, until);
    let Some(first) = inputs.iter().map(|(s, ..)| s.first_record).min() else {
        return LogDetection::default();
    };
    let (interval, offset) = (plan.interval_ms, plan.offset_ms);
    let mut end = inputs
        .iter()
        .map(|(_, alive, _)| *alive)
        .max()
        .unwrap_or(first)
        + a.window_ms
        + interval;
    if let Some(u) = until {
        end = end.min(u);
    }
    let grid = alert::eval_grid(floor_to(first, interval, offset), end, interval, offset);

    // Series are evaluated in parallel a batch at a time and added to the total in label
    // order (so the sum is the same whatever the thread count), keeping only one batch of
    // per-series rates in memory however many series and steps there are.
    let mut total_rate: Vec<Option<f64>> = vec![None; grid.len()];
    let mut max_series_rate: Vec<Option<f64>> = vec![None; grid.len()];
    let mut series = Vec::with_capacity(inputs.len());
    let mut counters = Vec::with_capacity(inputs.len());
    let batch = rayon::current_num_threads().max(1) * 4;
    let mut inputs = inputs.into_iter();
    loop {
        let next: Vec<_> = inputs.by_ref().take(batch).collect();
        if next.is_empty() {
            break;
        }
        let computed: Vec<_> = next
            .into_par_iter()
            .map(|x| evaluate_series(x, &grid, a, table))
            .collect();
        for (result, rates, counter) in computed {
            counters.push(counter);
            for (i, r) in rates.iter().enumerate() {
                if let Some(v) = r {
                    total_rate[i] = Some(total_rate[i].unwrap_or(0.0) + v);
                    max_series_rate[i] = Some(max_series_rate[i].map_or(*v, |m: f64| m.max(*v)));
                }
            }
            series.push(result);
        }
    }
    let total_episodes = alert::run_alert(
        grid.iter()
            .zip(&total_rate)
            .map(|(&t, r)| (t, r.filter(|v| *v > a.threshold))),
        for_spec(a),
    );
    let total_alerts = total_episodes
        .iter()
        .map(|e| e.instance(&a.name, BTreeMap::new(), AlertSource::Logs, true))
        .collect();
    let total_peak = peak_of(&grid, &total_rate);
    LogDetection {
        grid,
        total_rate,
        max_series_rate,
        series,
        total_alerts,
        total_peak,
        counters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: Millis, first_of_event: bool) -> ErrorEvent {
        ErrorEvent {
            first_of_event,
            counted: first_of_event,
            ..ErrorEvent::at(ts, 0, 1, 0)
        }
    }

    const GRID: Grid = Grid {
        interval_ms: 15_000,
        offset_ms: 0,
        offset_from: super::super::plan::OffsetFrom::Default,
    };

    fn settings(rate_mode: RateMode) -> AlertSettings {
        AlertSettings {
            name: "HighGenerationErrorRate".into(),
            threshold: 0.1,
            for_ms: 300_000,
            window_ms: 300_000,
            eval_interval: None,
            eval_offset: None,
            scrape_interval_ms: 15_000,
            rate_mode,
            compat: promql::PromCompat::V2,
            dedup_window_ms: 250,
            what_if: Vec::new(),
        }
    }

    #[test]
    fn counter_starts_at_first_scrape_after_first_event() {
        let mut b = SeriesBuilder::new(&settings(RateMode::Prometheus), &GRID);
        for (ts, first) in [(1_000, true), (1_500, false), (2_000, true), (16_000, true)] {
            b.add(&row(ts, first));
        }
        let s = &b.series[0];
        assert_eq!((s.records, s.events), (4, 3));
        let samples = counter_samples(&s.scrapes, 15_000, 45_000);
        let got: Vec<(i64, f64)> = samples.iter().map(|s| (s.t_ms, s.v)).collect();
        assert_eq!(got, vec![(15_000, 2.0), (30_000, 3.0), (45_000, 3.0)]);
    }

    #[test]
    fn loki_counts_match_counting_the_records_in_each_window() {
        let a = settings(RateMode::Loki);
        let records = [
            0, 1_000, 14_999, 15_000, 60_000, 299_999, 300_000, 300_001, 615_000,
        ];
        let mut b = SeriesBuilder::new(&a, &GRID);
        for &ts in &records {
            b.add(&row(ts, true));
        }
        let grid = alert::eval_grid(0, 1_000_000, GRID.interval_ms, GRID.offset_ms);
        let s = &b.series[0];
        let counts = window_counts(&s.enters, &s.leaves, &grid);
        for (&t, &n) in grid.iter().zip(&counts) {
            let want = records
                .iter()
                .filter(|&&ts| ts > t - a.window_ms && ts <= t)
                .count() as u64;
            assert_eq!(n, want, "at {t}");
            assert_eq!(
                promql::loki_rate_of_count(n, a.window_ms),
                promql::loki_rate(&records, t, a.window_ms)
            );
        }
    }

    #[test]
    fn grid_alignment() {
        assert_eq!(floor_to(31_000, 15_000, 0), 30_000);
        assert_eq!(ceil_to(31_000, 15_000, 0), 45_000);
        assert_eq!(ceil_to(30_000, 15_000, 0), 30_000);
        assert_eq!(floor_to(31_000, 15_000, 5_000), 20_000);
    }
}
