//! The PromQL evaluator: a subset of PromQL (the one the alert rules of `system.md` need, and
//! a little more), parsed with the `promql-parser` crate and evaluated over the metric series
//! read from the users' dumps, with the semantics of Prometheus 2.x or 3.x ([`PromCompat`]).
//!
//! This module owns the public surface: [`Storage`] (the series, indexed), [`Engine`]
//! (instant and range evaluation), [`Expr`] / [`parse`] (a parsed expression checked against
//! the supported subset), [`Value`] (a query result) and the errors. The work is split into:
//! - `parse`: parsing and the subset check (unsupported constructs are named);
//! - `rate`: `rate()` and `increase()` exactly as Prometheus computes them, and LogQL's rate;
//! - `eval`: the evaluator core (selectors, offsets, `@`, lookback and staleness, the
//!   step-vectorised evaluation of every node);
//! - `functions`: the functions (`rate`, `*_over_time`, `histogram_quantile`, ...);
//! - `aggregate`: `sum/avg/min/max/count/...` with `by`/`without`;
//! - `binary`: arithmetic, comparison and set operators with vector matching;
//! - `format`: `promtool query`-style text and Prometheus HTTP API JSON;
//! - [`template`]: alert annotations expanded as Prometheus does, with Go's number formatting;
//! - [`testscript`]: Prometheus' PromQL test-script runner (conformance).

mod aggregate;
mod binary;
mod eval;
mod format;
mod functions;
mod parse;
mod rate;
pub mod template;
#[cfg(test)]
mod tests;
pub mod testscript;

use std::collections::HashMap;

use thiserror::Error;

use crate::model::labels::Labels;
use crate::model::metrics::{is_stale, MetricSeries, Resolution, Sample};

pub use format::{format_promtool, format_promtool_range, range_to_api_json, to_api_json};
pub use parse::{parse, reads, Expr, RateRule};
pub use rate::{increase, loki_rate, loki_rate_of_count, rate, rates_at, PromCompat};

/// Prometheus' default lookback delta (`--query.lookback-delta`): 5 minutes.
pub const DEFAULT_LOOKBACK_MS: i64 = 300_000;

/// The most evaluation steps one range evaluation may have (a guard against a mistyped step;
/// Prometheus' HTTP API stops at 11,000 points per series).
pub const MAX_STEPS: i64 = 5_000_000;

/// Why an expression could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PromqlError {
    /// The PromQL parser rejected the text.
    #[error("cannot parse PromQL expression: {0}")]
    Parse(String),
    /// The expression is valid PromQL but uses a construct outside the supported subset; the
    /// message names it (for example "function `predict_linear` is not supported").
    #[error("{0}")]
    Unsupported(String),
}

/// Why an evaluation failed. The messages follow Prometheus' where Prometheus has one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// A construct outside the subset reached the evaluator (only possible for an [`Expr`]
    /// built by hand) or a value of a kind the construct cannot take.
    #[error("{0}")]
    Unsupported(String),
    /// Two elements of one result vector have the same label set at the same time.
    #[error("vector cannot contain metrics with the same labelset")]
    DuplicateLabelset,
    /// Vector matching found more than one partner where only one is allowed.
    #[error("{0}")]
    Matching(String),
    /// A range query of an expression that is not a scalar or an instant vector.
    #[error("invalid expression type \"{0}\" for range query, must be Scalar or instant Vector")]
    BadRangeQueryType(&'static str),
    /// The time range or the step of a range evaluation is invalid.
    #[error("{0}")]
    BadRange(String),
    /// An argument value Prometheus rejects at evaluation time.
    #[error("{0}")]
    BadArgument(String),
}

/// The result of an instant evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    /// An instant vector: one value per label set, in evaluation order (storage order for
    /// selectors, group order for aggregations, value order for `topk`/`sort`).
    Vector(Vec<(Labels, f64)>),
    /// A range vector (an instant query of a range selector such as `metric[5m]`): the raw
    /// samples in the window, staleness markers dropped.
    Matrix(Vec<MetricSeries>),
    String(String),
}

/// The series to query, sorted by labels and indexed by metric name.
///
/// Labels with an empty value are dropped (PromQL does not tell them from absent ones); series
/// with the same label set are then merged into one (samples sorted, one per timestamp, the
/// later one kept); samples are sorted by time.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    series: Vec<MetricSeries>,
    /// Index by `__name__`: the positions (ascending) of the series with that name.
    by_name: HashMap<String, Vec<usize>>,
    /// For each series holding staleness markers, its samples without them (what range
    /// selectors see); `None` when the series has none, so its samples serve as they are.
    clean: Vec<Option<Vec<Sample>>>,
}

impl Storage {
    /// Builds the storage: sorts the series by labels, merges series with equal labels, sorts
    /// and de-duplicates each series' samples by time, and builds the name index.
    pub fn new(series: Vec<MetricSeries>) -> Self {
        let mut series = series;
        for s in &mut series {
            // Prometheus has no empty-valued labels: an empty value is an absent label.
            s.labels.retain(|_, v| !v.is_empty());
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        let mut merged: Vec<MetricSeries> = Vec::with_capacity(series.len());
        for s in series {
            match merged.last_mut() {
                Some(last) if last.labels == s.labels => {
                    last.samples.extend(s.samples);
                    last.resolution = last.resolution.min(s.resolution);
                }
                _ => merged.push(s),
            }
        }
        for s in &mut merged {
            normalize_samples(&mut s.samples);
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in merged.iter().enumerate() {
            by_name.entry(s.name().to_string()).or_default().push(i);
        }
        let clean = merged
            .iter()
            .map(|s| {
                if s.samples.iter().any(|p| is_stale(p.v)) {
                    Some(
                        s.samples
                            .iter()
                            .copied()
                            .filter(|p| !is_stale(p.v))
                            .collect(),
                    )
                } else {
                    None
                }
            })
            .collect();
        Storage {
            series: merged,
            by_name,
            clean,
        }
    }

    /// The series, sorted by labels.
    pub fn series(&self) -> &[MetricSeries] {
        &self.series
    }

    /// Positions of the series named `name`.
    pub(crate) fn with_name(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The samples of series `i` without staleness markers.
    pub(crate) fn clean_samples(&self, i: usize) -> &[Sample] {
        match &self.clean[i] {
            Some(c) => c,
            None => &self.series[i].samples,
        }
    }
}

/// Sorts samples by time and keeps one per timestamp (the last one given).
fn normalize_samples(samples: &mut Vec<Sample>) {
    if samples.windows(2).all(|w| w[0].t_ms < w[1].t_ms) {
        return;
    }
    samples.sort_by_key(|s| s.t_ms);
    let mut out: Vec<Sample> = Vec::with_capacity(samples.len());
    for s in samples.drain(..) {
        match out.last_mut() {
            Some(last) if last.t_ms == s.t_ms => *last = s,
            _ => out.push(s),
        }
    }
    *samples = out;
}

/// Evaluates expressions with one flavour of Prometheus semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Engine {
    pub compat: PromCompat,
    /// How far back an instant selector looks for the latest sample (default 5 minutes).
    pub lookback_ms: i64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            compat: PromCompat::V2,
            lookback_ms: DEFAULT_LOOKBACK_MS,
        }
    }
}

impl Engine {
    /// An engine with the given semantics and the default lookback.
    pub fn new(compat: PromCompat) -> Self {
        Engine {
            compat,
            ..Engine::default()
        }
    }

    /// Evaluates `e` at `t_ms`, like Prometheus' `/api/v1/query?time=t`.
    pub fn instant(&self, st: &Storage, e: &Expr, t_ms: i64) -> Result<Value, EvalError> {
        let ctx = eval::Ctx::new(self, st, t_ms, 1, 1)?;
        let v = ctx.eval_top(e.ast())?;
        Ok(match v {
            eval::Val::Scalar(s) => Value::Scalar(s.first().copied().unwrap_or(f64::NAN)),
            eval::Val::Str(s) => Value::String(s),
            eval::Val::Matrix(m) => Value::Matrix(m),
            eval::Val::Vector(v) => Value::Vector(
                v.into_iter()
                    .filter_map(|s| s.pts.first().map(|&(_, v)| (s.labels, v)))
                    .collect(),
            ),
        })
    }

    /// Evaluates `e` at `start_ms, start_ms + step_ms, ... <= end_ms`, like Prometheus'
    /// `/api/v1/query_range`: one series per label set, with a sample at each step where the
    /// expression had a value for it, sorted by labels. A scalar expression gives one series
    /// without labels.
    pub fn range(
        &self,
        st: &Storage,
        e: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<MetricSeries>, EvalError> {
        if step_ms <= 0 {
            return Err(EvalError::BadRange(
                "zero or negative query resolution step widths are not accepted".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(EvalError::BadRange(
                "end timestamp must not be before start time".into(),
            ));
        }
        let n = end_ms.saturating_sub(start_ms) / step_ms + 1;
        if n > MAX_STEPS {
            return Err(EvalError::BadRange(format!(
                "too many evaluation steps ({n}, at most {MAX_STEPS})"
            )));
        }
        let ctx = eval::Ctx::new(self, st, start_ms, step_ms, n as usize)?;
        let at = |i: u32| start_ms + i64::from(i) * step_ms;
        let resolution = Resolution::Resampled { step_ms };
        let mut out = match ctx.eval_top(e.ast())? {
            eval::Val::Scalar(s) => vec![MetricSeries {
                labels: Labels::new(),
                samples: (0u32..)
                    .zip(s)
                    .map(|(i, v)| Sample { t_ms: at(i), v })
                    .collect(),
                resolution,
            }],
            eval::Val::Vector(v) => v
                .into_iter()
                .filter(|s| !s.pts.is_empty())
                .map(|s| MetricSeries {
                    labels: s.labels,
                    samples: s
                        .pts
                        .into_iter()
                        .map(|(i, v)| Sample { t_ms: at(i), v })
                        .collect(),
                    resolution,
                })
                .collect(),
            eval::Val::Matrix(_) => return Err(EvalError::BadRangeQueryType("range vector")),
            eval::Val::Str(_) => return Err(EvalError::BadRangeQueryType("string")),
        };
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}
