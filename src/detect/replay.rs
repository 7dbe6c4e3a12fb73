//! The runbook's alert replayed on the incident's own series: its rule (of the shape
//! `rate(SELECTOR[W]) OP T`, per series or summed) and the series of its metric (the dumps'
//! raw samples, else the counters the logs give), re-evaluated by the same rate function and
//! state machine under other settings (the what-if table), the rule findings those numbers
//! support, and the ground the promtool regression test stands on ([`super::regression`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::alert::{self, ForSpec};
use super::logs::LogDetection;
use super::plan::EvalPlan;
use crate::config::AlertSettings;
use crate::model::alert::{RateMode, RuleVariant};
use crate::model::labels::Labels;
use crate::model::metrics::{is_stale, Sample};
use crate::model::rules::{RuleKind, RuleSet, RulesSource};
use crate::model::{AlertInstance, AlertSource, Millis};
use crate::promql::{self, PromCompat, RateRule, Storage};

/// What the replayed series are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The dumps' samples of the rule's metric.
    Metrics,
    /// The counters the error records make (what Prometheus would have scraped).
    Logs,
}

/// One series: its labels (with `__name__`) and samples (sorted, no staleness markers),
/// borrowed from the dumps' storage where they can be.
pub type ReplaySeries<'a> = (Cow<'a, Labels>, Cow<'a, [Sample]>);

/// The rule and the series, ready to be evaluated under any variant.
#[derive(Clone, Debug)]
pub struct Replay<'a> {
    pub basis: Basis,
    pub alertname: String,
    /// The group holding the rule, its index in `rules`.
    pub group: usize,
    pub rate: RateRule,
    pub for_ms: Millis,
    pub keep_firing_for_ms: Millis,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub interval_ms: Millis,
    pub offset_ms: Millis,
    /// The evaluation times.
    pub grid: Vec<Millis>,
    /// Each series, sorted by labels.
    pub series: Vec<ReplaySeries<'a>>,
    pub compat: PromCompat,
    /// The usual spacing of the samples (the scrape interval).
    pub scrape_ms: Millis,
    /// The rules evaluated, each group's interval the one used, the runbook's rule as
    /// replayed (what `promtool-test/rules.yml` holds).
    pub rules: RuleSet,
}

/// Why there is nothing to replay.
#[derive(Clone, Debug, PartialEq)]
pub enum NoReplay {
    /// The rules evaluated have no alerting rule of that name.
    NoRule(String),
    /// The rule is not of the shape `rate(SELECTOR[W]) OP T` (its expression).
    Shape(String),
    /// Rates from logs in loki mode are LogQL's, not a counter's.
    LokiMode,
    /// Neither the dumps nor the logs have a series of the rule's metric.
    NoSeries(String),
}

/// Rates per window (outer), per evaluation (inner).
type Rates = Vec<Vec<Option<f64>>>;

/// One setting of the rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    pub for_ms: Millis,
    pub threshold: f64,
    pub window_ms: Millis,
    pub summed: bool,
    pub keep_firing_for_ms: Millis,
}

/// One activation of one alert label set under one setting (compact: the labels are the
/// series', looked up when needed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activation {
    /// The series (index into `Replay::series`), `None` for the sum.
    pub series: Option<u32>,
    pub pending_at: Millis,
    pub firing_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub last_active: Millis,
    pub peak: f64,
    pub peak_at: Millis,
}

impl Activation {
    fn of(e: &alert::Episode, series: Option<u32>) -> Activation {
        Activation {
            series,
            pending_at: e.active_at_ms,
            firing_at: e.firing_at_ms,
            resolved_at: e.resolved_at_ms,
            last_active: e.last_present_ms,
            peak: e.peak,
            peak_at: e.peak_at_ms,
        }
    }
}

impl Replay<'_> {
    /// The labels of an activation's series (without `__name__`; none for the sum).
    pub fn labels_of(&self, a: &Activation) -> Labels {
        let mut l = a
            .series
            .and_then(|i| self.series.get(i as usize))
            .map(|(l, _)| l.clone().into_owned())
            .unwrap_or_default();
        l.remove("__name__");
        l
    }

    /// An activation as the report's alerts are.
    pub fn instance(&self, a: &Activation) -> AlertInstance {
        AlertInstance {
            alertname: self.alertname.clone(),
            source: self.source(),
            labels: self.labels_of(a),
            is_total: a.series.is_none(),
            pending_at: a.pending_at,
            firing_at: a.firing_at,
            resolved_at: a.resolved_at,
            peak_rate: a.peak,
            peak_at: a.peak_at,
            last_active: a.last_active,
        }
    }

    /// The rule's own setting.
    pub fn real(&self) -> Setting {
        Setting {
            for_ms: self.for_ms,
            threshold: self.rate.threshold,
            window_ms: self.rate.window_ms,
            summed: self.rate.summed,
            keep_firing_for_ms: self.keep_firing_for_ms,
        }
    }

    /// The rule's setting with `v`'s changes.
    pub fn with(&self, v: &RuleVariant) -> Setting {
        let r = self.real();
        Setting {
            for_ms: v.for_ms.unwrap_or(r.for_ms),
            threshold: v.threshold.unwrap_or(r.threshold),
            window_ms: v.window_ms.unwrap_or(r.window_ms),
            summed: v.summed.unwrap_or(r.summed),
            keep_firing_for_ms: v.keep_firing_for_ms.unwrap_or(r.keep_firing_for_ms),
        }
    }

    fn source(&self) -> AlertSource {
        match self.basis {
            Basis::Metrics => AlertSource::Metrics,
            Basis::Logs => AlertSource::Logs,
        }
    }

    /// The alerts each setting gives, in time order: one label set per series, or the sum's
    /// (no labels). Series are evaluated in parallel a batch at a time (each window's rates
    /// computed once for every setting) and added to the sums in label order, so the sums are
    /// the same whatever the thread count; memory holds one batch's rates.
    pub fn evaluate(&self, settings: &[Setting]) -> Vec<Vec<Activation>> {
        let mut windows: Vec<Millis> = settings.iter().map(|s| s.window_ms).collect();
        windows.sort_unstable();
        windows.dedup();
        let steps = self.grid.len();
        let mut out: Vec<Vec<Activation>> = vec![Vec::new(); settings.len()];
        let mut totals: Vec<Vec<Option<f64>>> = vec![vec![None; steps]; windows.len()];
        let need_sum: Vec<bool> = windows
            .iter()
            .map(|w| settings.iter().any(|s| s.summed && s.window_ms == *w))
            .collect();
        const BATCH: usize = 256;
        for (b, batch) in self.series.chunks(BATCH).enumerate() {
            let done: Vec<(Rates, Vec<Vec<Activation>>)> = batch
                .par_iter()
                .enumerate()
                .map(|(j, (_, samples))| {
                    let index = Some((b * BATCH + j) as u32);
                    let rates: Vec<Vec<Option<f64>>> = windows
                        .iter()
                        .map(|&w| rates_of(samples, &self.grid, w, self.compat))
                        .collect();
                    let alerts = settings
                        .iter()
                        .map(|s| {
                            if s.summed {
                                return Vec::new();
                            }
                            let w = windows.binary_search(&s.window_ms).unwrap_or(0);
                            self.run(&rates[w], s)
                                .iter()
                                .map(|e| Activation::of(e, index))
                                .collect()
                        })
                        .collect();
                    (rates, alerts)
                })
                .collect();
            for (rates, alerts) in done {
                for (w, r) in rates.iter().enumerate().filter(|(w, _)| need_sum[*w]) {
                    for (t, v) in totals[w].iter_mut().zip(r) {
                        if let Some(v) = v {
                            *t = Some(t.unwrap_or(0.0) + v);
                        }
                    }
                }
                for (o, a) in out.iter_mut().zip(alerts) {
                    o.extend(a);
                }
            }
        }
        for (s, o) in settings.iter().zip(&mut out) {
            if s.summed {
                let w = windows.binary_search(&s.window_ms).unwrap_or(0);
                *o = self
                    .run(&totals[w], s)
                    .iter()
                    .map(|e| Activation::of(e, None))
                    .collect();
            }
            // Series are in label order: by time, then labels.
            o.sort_by_key(|a| (a.pending_at, a.series));
        }
        out
    }

    fn run(&self, rates: &[Option<f64>], s: &Setting) -> Vec<alert::Episode> {
        let spec = ForSpec {
            for_ms: s.for_ms,
            keep_firing_for_ms: s.keep_firing_for_ms,
        };
        alert::run_alert(
            self.grid
                .iter()
                .zip(rates)
                .map(|(&t, r)| (t, r.filter(|&v| self.rate.holds(v, s.threshold)))),
            spec,
        )
    }
}

/// `rate(x[window])` of one series at every time of `grid`.
pub fn rates_of(
    samples: &[Sample],
    grid: &[Millis],
    window_ms: Millis,
    compat: PromCompat,
) -> Vec<Option<f64>> {
    promql::rates_at(samples, grid, window_ms, compat)
}

/// The usual spacing of the samples: the median gap between consecutive samples.
fn median_spacing(series: &[ReplaySeries<'_>], fallback: Millis) -> Millis {
    let mut gaps: Vec<Millis> = series
        .iter()
        .flat_map(|(_, s)| s.windows(2).map(|w| w[1].t_ms - w[0].t_ms))
        .filter(|&g| g > 0)
        .take(100_000)
        .collect();
    if gaps.is_empty() {
        return fallback;
    }
    let mid = gaps.len() / 2;
    *gaps.select_nth_unstable(mid).1
}

/// The runbook's alert and the incident's series of its metric.
pub fn replay<'a>(
    set: &RuleSet,
    source: &RulesSource,
    a: &AlertSettings,
    plan: &EvalPlan,
    storage: Option<&'a Storage>,
    logs: &LogDetection,
) -> Result<Replay<'a>, NoReplay> {
    let found = set.groups.iter().enumerate().find_map(|(gi, g)| {
        g.rules.iter().find_map(|r| match &r.kind {
            RuleKind::Alerting(al) if al.alert == a.name => Some((gi, r, al)),
            _ => None,
        })
    });
    let Some((gi, rule, al)) = found else {
        return Err(NoReplay::NoRule(a.name.clone()));
    };
    let mut rate = promql::parse(&rule.expr)
        .ok()
        .and_then(|e| e.rate_rule())
        .ok_or_else(|| NoReplay::Shape(rule.expr.clone()))?;
    let mut for_ms = al.for_ms;
    if *source == RulesSource::Builtin {
        // The built-in rule is the runbook's, with the flags' settings.
        rate.threshold = a.threshold;
        rate.window_ms = a.window_ms;
        for_ms = a.for_ms;
    }
    let selector = promql::parse(&rate.selector).map_err(|e| NoReplay::Shape(e.to_string()))?;
    let mut rules = set.clone();
    let metric = plan.metrics.as_ref();
    let from_dumps: Vec<ReplaySeries<'a>> = match (storage, metric) {
        (Some(st), Some(_)) => st
            .series()
            .iter()
            .filter(|s| selector.selects(&s.labels))
            .map(|s| {
                let samples = if s.samples.iter().any(|p| is_stale(p.v)) {
                    let clean = s.samples.iter().copied().filter(|p| !is_stale(p.v));
                    Cow::Owned(clean.collect())
                } else {
                    Cow::Borrowed(s.samples.as_slice())
                };
                (Cow::Borrowed(&s.labels), samples)
            })
            .collect(),
        _ => Vec::new(),
    };
    let (basis, series, grid, interval_ms, offset_ms) =
        if let (false, Some(m)) = (from_dumps.is_empty(), metric) {
            let g = m.groups[gi];
            let grid = if m.start <= m.end {
                alert::eval_grid(m.start, m.end, g.interval_ms, g.offset_ms)
            } else {
                Vec::new()
            };
            (Basis::Metrics, from_dumps, grid, g.interval_ms, g.offset_ms)
        } else {
            if a.rate_mode == RateMode::Loki {
                return Err(NoReplay::LokiMode);
            }
            if logs.series.is_empty() || logs.counters.len() != logs.series.len() {
                return Err(NoReplay::NoSeries(rate.selector.clone()));
            }
            let name = selector_name(&rate.selector);
            let series = logs
                .series
                .iter()
                .zip(&logs.counters)
                .map(|(s, c)| {
                    let mut labels = s.labels.clone();
                    labels.insert("__name__".into(), name.clone());
                    (Cow::Owned(labels), Cow::Owned(c.clone()))
                })
                .collect();
            (
                Basis::Logs,
                series,
                logs.grid.clone(),
                plan.logs.interval_ms,
                plan.logs.offset_ms,
            )
        };
    // What promtool-test/rules.yml holds: each group at the interval it was evaluated at,
    // the runbook's rule as replayed.
    for (i, g) in rules.groups.iter_mut().enumerate() {
        g.interval_ms = metric
            .and_then(|m| m.groups.get(i))
            .map(|grid| grid.interval_ms)
            .or(g.interval_ms);
    }
    rules.groups[gi].interval_ms = Some(interval_ms);
    if *source == RulesSource::Builtin {
        if let Some(r) = rules.groups[gi]
            .rules
            .iter_mut()
            .find(|r| r.name() == a.name)
        {
            r.expr = rate.expression();
            if let RuleKind::Alerting(al) = &mut r.kind {
                al.for_ms = for_ms;
            }
        }
    }
    let scrape_ms = match basis {
        Basis::Metrics => median_spacing(&series, a.scrape_interval_ms),
        Basis::Logs => a.scrape_interval_ms,
    };
    Ok(Replay {
        basis,
        alertname: a.name.clone(),
        group: gi,
        rate,
        for_ms,
        keep_firing_for_ms: al.keep_firing_for_ms,
        labels: rule.labels.clone(),
        annotations: al.annotations.clone(),
        interval_ms,
        offset_ms,
        grid,
        series,
        compat: a.compat,
        scrape_ms,
        rules,
    })
}

/// The metric name of a selector's text (`name{...}` or `name`).
fn selector_name(selector: &str) -> String {
    selector
        .split('{')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}
