//! The evaluator core. Every node is evaluated once for all the steps of a query (an instant
//! query is a range query of one step), the way Prometheus' engine does it: an instant vector
//! is a list of series, each with its values at the steps where it has one; a scalar has one
//! value per step. Range selectors are never materialised per step: range functions slide a
//! window (two moving indices) over each series' samples.
//!
//! This module owns selection (matchers, the name index), the time arithmetic of `offset` and
//! `@`, lookback and staleness for instant selectors, the window bounds of range selectors
//! (closed in 2.x, left-open in 3.x) and the check that a result has no two elements with
//! the same labels.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::parser::{AtModifier, Expr as Ast, MatrixSelector, Offset, VectorSelector};

use super::{aggregate, binary, functions, EvalError, PromCompat, Storage};
use crate::model::labels::Labels;
use crate::model::metrics::{is_stale, MetricSeries, Resolution, Sample};

/// Values of one series at some steps: `(step index, value)`, ascending by step.
pub(crate) type Pts = Vec<(u32, f64)>;

/// A transformation applied to each series of an intermediate result as it is produced.
pub(crate) type Post<'p> = &'p (dyn Fn(Ser) -> Option<Ser> + Sync);

/// One series of an instant-vector result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ser {
    pub labels: Labels,
    pub pts: Pts,
}

/// The value of a node over all steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    Vector(Vec<Ser>),
    /// Only for a range selector evaluated on its own at one instant.
    Matrix(Vec<MetricSeries>),
    Str(String),
}

impl Val {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Vector(_) => "instant vector",
            Val::Matrix(_) => "range vector",
            Val::Str(_) => "string",
        }
    }

    pub(crate) fn into_vector(self, what: &str) -> Result<Vec<Ser>, EvalError> {
        match self {
            Val::Vector(v) => Ok(v),
            other => Err(EvalError::Unsupported(format!(
                "{what}: expected an instant vector, got a {}",
                other.kind()
            ))),
        }
    }

    pub(crate) fn into_scalar(self, what: &str) -> Result<Vec<f64>, EvalError> {
        match self {
            Val::Scalar(s) => Ok(s),
            other => Err(EvalError::Unsupported(format!(
                "{what}: expected a scalar, got a {}",
                other.kind()
            ))),
        }
    }
}

/// One evaluation: the data, the semantics and the steps `start + i * step`, `i < n`.
pub(crate) struct Ctx<'a> {
    pub st: &'a Storage,
    pub compat: PromCompat,
    pub lookback: i64,
    pub start: i64,
    pub step: i64,
    pub n: usize,
}

/// Milliseconds in a duration, saturating.
pub(crate) fn duration_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(d),
        Some(Offset::Neg(d)) => duration_ms(d).saturating_neg(),
    }
}

fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => duration_ms(&d),
        Err(e) => duration_ms(&e.duration()).saturating_neg(),
    }
}

/// A label's value, "" when absent (PromQL does not tell the two apart).
pub(crate) fn label<'l>(labels: &'l Labels, name: &str) -> &'l str {
    labels.get(name).map_or("", String::as_str)
}

/// `labels` without `__name__`.
pub(crate) fn drop_name(labels: &Labels) -> Labels {
    let mut l = labels.clone();
    l.remove("__name__");
    l
}

/// Whether `labels` satisfies every matcher of `vs` (regular expressions fully anchored; an
/// absent label matches as the empty string; `{a="1" or b="2"}` groups are alternatives).
pub(crate) fn selector_matches(vs: &VectorSelector, labels: &Labels) -> bool {
    if let Some(name) = &vs.name {
        if label(labels, "__name__") != name {
            return false;
        }
    }
    if !vs
        .matchers
        .matchers
        .iter()
        .all(|m| m.is_match(label(labels, &m.name)))
    {
        return false;
    }
    let ors = &vs.matchers.or_matchers;
    ors.is_empty()
        || ors
            .iter()
            .any(|g| g.iter().all(|m| m.is_match(label(labels, &m.name))))
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        engine: &super::Engine,
        st: &'a Storage,
        start: i64,
        step: i64,
        n: usize,
    ) -> Result<Self, EvalError> {
        if n == 0 || step <= 0 || u32::try_from(n).is_err() {
            return Err(EvalError::BadRange("invalid evaluation steps".into()));
        }
        Ok(Ctx {
            st,
            compat: engine.compat,
            lookback: engine.lookback_ms.max(0),
            start,
            step,
            n,
        })
    }

    /// The time of step `i`.
    pub(crate) fn t(&self, i: usize) -> i64 {
        self.start
            .saturating_add((i as i64).saturating_mul(self.step))
    }

    /// The last step's time (the query's end, for `@ end()`).
    pub(crate) fn end(&self) -> i64 {
        self.t(self.n - 1)
    }

    fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.start),
            Some(AtModifier::End) => Some(self.end()),
            Some(AtModifier::At(t)) => Some(system_time_ms(t)),
        }
    }

    /// The data time a selector reads at step `i`: the step's time (or the `@` time) minus
    /// the offset.
    fn data_time(&self, at: Option<i64>, offset: i64, i: usize) -> i64 {
        at.unwrap_or_else(|| self.t(i)).saturating_sub(offset)
    }

    pub(crate) fn eval_top(&self, e: &Ast) -> Result<Val, EvalError> {
        self.eval(e)
    }

    pub(crate) fn eval(&self, e: &Ast) -> Result<Val, EvalError> {
        match e {
            Ast::NumberLiteral(n) => Ok(Val::Scalar(vec![n.val; self.n])),
            Ast::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Ast::Paren(p) => self.eval(&p.expr),
            Ast::Unary(u) => match self.eval(&u.expr)? {
                Val::Scalar(s) => Ok(Val::Scalar(s.into_iter().map(|v| -v).collect())),
                Val::Vector(v) => {
                    let v = v
                        .into_iter()
                        .map(|s| Ser {
                            labels: drop_name(&s.labels),
                            pts: s.pts.into_iter().map(|(i, v)| (i, -v)).collect(),
                        })
                        .collect();
                    Ok(Val::Vector(dedup(v, false)?))
                }
                other => Err(EvalError::Unsupported(format!(
                    "unary minus is not defined on a {}",
                    other.kind()
                ))),
            },
            Ast::VectorSelector(vs) => Ok(Val::Vector(self.instant_selector(vs, None))),
            Ast::MatrixSelector(ms) => {
                if self.n != 1 {
                    return Err(EvalError::BadRangeQueryType("range vector"));
                }
                Ok(Val::Matrix(self.raw_range(ms)))
            }
            Ast::Call(c) => functions::call(self, c),
            Ast::Aggregate(a) => aggregate::aggregate(self, a),
            Ast::Binary(b) => binary::binary(self, b),
            Ast::Subquery(_) => Err(EvalError::Unsupported(
                "subqueries are not supported".into(),
            )),
            Ast::Extension(_) => Err(EvalError::Unsupported(
                "extension expressions are not supported".into(),
            )),
        }
    }

    /// Positions (in storage order) of the series `vs` selects.
    pub(crate) fn select(&self, vs: &VectorSelector) -> Vec<usize> {
        let series = self.st.series();
        let name = vs.name.as_deref().or_else(|| {
            vs.matchers
                .matchers
                .iter()
                .find(|m| {
                    m.name == "__name__" && matches!(m.op, promql_parser::label::MatchOp::Equal)
                })
                .map(|m| m.value.as_str())
        });
        match name {
            Some(name) => self
                .st
                .with_name(name)
                .iter()
                .copied()
                .filter(|&i| selector_matches(vs, &series[i].labels))
                .collect(),
            None => (0..series.len())
                .filter(|&i| selector_matches(vs, &series[i].labels))
                .collect(),
        }
    }

    /// An instant vector selector at every step: the latest sample at or before the data
    /// time within the lookback (2.x: `t - lookback <= T`, 3.x: `t - lookback < T`), unless
    /// that sample is a staleness marker.
    fn instant_selector(&self, vs: &VectorSelector, post: Option<Post<'_>>) -> Vec<Ser> {
        let at = self.at_ms(&vs.at);
        let offset = offset_ms(&vs.offset);
        let mut out = Vec::new();
        let mut buf: Pts = Vec::with_capacity(self.n);
        for i in self.select(vs) {
            let series = &self.st.series()[i];
            let samples = &series.samples;
            buf.clear();
            let first_t = self.data_time(at, offset, 0);
            let mut hi = samples.partition_point(|s| s.t_ms <= first_t);
            for step in 0..self.n {
                let t = self.data_time(at, offset, step);
                while hi < samples.len() && samples[hi].t_ms <= t {
                    hi += 1;
                }
                let Some(s) = hi.checked_sub(1).map(|h| samples[h]) else {
                    continue;
                };
                let oldest = t.saturating_sub(self.lookback);
                let fresh = match self.compat {
                    PromCompat::V2 => s.t_ms >= oldest,
                    PromCompat::V3 => s.t_ms > oldest,
                };
                if fresh && !is_stale(s.v) {
                    buf.push((step as u32, s.v));
                }
            }
            if !buf.is_empty() {
                let ser = Ser {
                    labels: series.labels.clone(),
                    pts: buf.to_vec(),
                };
                match post {
                    None => out.push(ser),
                    Some(post) => out.extend(post(ser)),
                }
            }
        }
        out
    }

    /// A range selector evaluated on its own at the single step: the samples in the window.
    fn raw_range(&self, ms: &MatrixSelector) -> Vec<MetricSeries> {
        let mut out = Vec::new();
        let range = duration_ms(&ms.range);
        let t = self.data_time(self.at_ms(&ms.vs.at), offset_ms(&ms.vs.offset), 0);
        for i in self.select(&ms.vs) {
            let w = window(self.st.clean_samples(i), t, range, self.compat);
            if !w.is_empty() {
                out.push(MetricSeries {
                    labels: self.st.series()[i].labels.clone(),
                    samples: w.to_vec(),
                    resolution: Resolution::Raw,
                });
            }
        }
        out
    }

    /// Applies `f` to the window of every selected series at every step, sliding the window
    /// bounds forward (each sample is passed over a bounded number of times, and nothing per
    /// step is allocated; `f` gets a scratch buffer). `f(window, window_end, step, scratch)`
    /// gives the step's value or `None` for no element. The result's labels are the series'
    /// without `__name__` unless `keep_name`; two results with the same labels are an error, as
    /// in Prometheus. `post`, when given, is applied to each result series as soon as it is
    /// computed (so that a filter such as `> 0.1` never holds the whole intermediate vector).
    /// Large selections are split over the available cores.
    pub(crate) fn range_eval<F>(
        &self,
        ms: &MatrixSelector,
        keep_name: bool,
        post: Option<Post<'_>>,
        f: F,
    ) -> Result<Vec<Ser>, EvalError>
    where
        F: Fn(&[Sample], i64, usize, &mut Vec<f64>) -> Option<f64> + Sync,
    {
        let range = duration_ms(&ms.range);
        let at = self.at_ms(&ms.vs.at);
        let offset = offset_ms(&ms.vs.offset);
        let selected = self.select(&ms.vs);
        let run = |chunk: &[usize]| -> (Vec<Ser>, Vec<Labels>) {
            let mut out = Vec::new();
            let mut produced = Vec::new();
            let mut buf: Pts = Vec::with_capacity(self.n);
            let mut scratch: Vec<f64> = Vec::new();
            for &i in chunk {
                let samples = self.st.clean_samples(i);
                buf.clear();
                let (mut lo, mut hi) = (0usize, 0usize);
                for step in 0..self.n {
                    let t = self.data_time(at, offset, step);
                    let start = t.saturating_sub(range);
                    if step == 0 {
                        lo = first_in_window(samples, start, self.compat);
                        hi = samples.partition_point(|s| s.t_ms <= t);
                    } else {
                        while hi < samples.len() && samples[hi].t_ms <= t {
                            hi += 1;
                        }
                        while lo < samples.len()
                            && before_window(samples[lo].t_ms, start, self.compat)
                        {
                            lo += 1;
                        }
                    }
                    let w = &samples[lo.min(hi)..hi];
                    if let Some(v) = f(w, t, step, &mut scratch) {
                        buf.push((step as u32, v));
                    }
                }
                if buf.is_empty() {
                    continue;
                }
                let labels = &self.st.series()[i].labels;
                let ser = Ser {
                    labels: if keep_name {
                        labels.clone()
                    } else {
                        drop_name(labels)
                    },
                    pts: buf.to_vec(),
                };
                match post {
                    None => out.push(ser),
                    Some(post) => {
                        produced.push(ser.labels.clone());
                        out.extend(post(ser));
                    }
                }
            }
            (out, produced)
        };
        let parts = self.split_work(&selected, &run)?;
        let mut out = Vec::new();
        let mut produced = Vec::new();
        for (o, p) in parts {
            out.extend(o);
            produced.extend(p);
        }
        match post {
            None => dedup(out, true),
            Some(_) => {
                let mut seen: HashSet<&Labels> = HashSet::with_capacity(produced.len());
                if produced.iter().all(|l| seen.insert(l)) {
                    Ok(out)
                } else {
                    Err(EvalError::DuplicateLabelset)
                }
            }
        }
    }

    /// Runs `run` over `items`, split into contiguous chunks over the available cores when
    /// there is enough work; the results come back in order.
    fn split_work<T: Send>(
        &self,
        items: &[usize],
        run: &(dyn Fn(&[usize]) -> T + Sync),
    ) -> Result<Vec<T>, EvalError> {
        let work = items.len().saturating_mul(self.n);
        let threads = if work >= 200_000 {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8)
                .min(items.len())
        } else {
            1
        };
        if threads <= 1 {
            return Ok(vec![run(items)]);
        }
        let chunk = items.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|c| s.spawn(move || run(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join())
                .collect::<Result<Vec<T>, _>>()
        })
        .map_err(|_| EvalError::Unsupported("an evaluation worker thread failed".into()))
    }

    /// Evaluates an instant-vector expression, applying `post` to each result series (as it is
    /// produced, for selectors and range functions).
    pub(crate) fn eval_post(&self, e: &Ast, post: Post<'_>) -> Result<Vec<Ser>, EvalError> {
        match e {
            Ast::Paren(p) => self.eval_post(&p.expr, post),
            Ast::VectorSelector(vs) => Ok(self.instant_selector(vs, Some(post))),
            Ast::Call(c) if super::parse::RANGE_FUNCTIONS.contains(&c.func.name) => {
                functions::call_post(self, c, post)
            }
            _ => Ok(self
                .eval(e)?
                .into_vector("operand")?
                .into_iter()
                .filter_map(post)
                .collect()),
        }
    }
}

/// Whether a sample at `t` lies before the window starting at `start`.
fn before_window(t: i64, start: i64, compat: PromCompat) -> bool {
    match compat {
        PromCompat::V2 => t < start,
        PromCompat::V3 => t <= start,
    }
}

fn first_in_window(samples: &[Sample], start: i64, compat: PromCompat) -> usize {
    samples.partition_point(|s| before_window(s.t_ms, start, compat))
}

/// The samples of a range selector `[range]` read at `t`.
pub(crate) fn window(samples: &[Sample], t: i64, range: i64, compat: PromCompat) -> &[Sample] {
    let lo = first_in_window(samples, t.saturating_sub(range), compat);
    let hi = samples.partition_point(|s| s.t_ms <= t);
    &samples[lo.min(hi)..hi]
}

/// Merges result series with equal labels. Prometheus forbids two elements with the same
/// labels at one step (`whole_series == false`, the check of its per-step evaluation) or,
/// for range-vector functions, two result series with the same labels at all
/// (`whole_series == true`); either is [`EvalError::DuplicateLabelset`].
pub(crate) fn dedup(v: Vec<Ser>, whole_series: bool) -> Result<Vec<Ser>, EvalError> {
    {
        let mut seen: HashSet<&Labels> = HashSet::with_capacity(v.len());
        if v.iter().all(|s| seen.insert(&s.labels)) {
            return Ok(v);
        }
    }
    if whole_series {
        return Err(EvalError::DuplicateLabelset);
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Ser> = Vec::new();
    for s in v {
        match index.get(&s.labels) {
            Some(&j) => {
                let merged = merge_pts(&out[j].pts, &s.pts)?;
                out[j].pts = merged;
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}

fn merge_pts(a: &[(u32, f64)], b: &[(u32, f64)]) -> Result<Pts, EvalError> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => return Err(EvalError::DuplicateLabelset),
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    Ok(out)
}

/// `rate`/`increase` of one window, from the alert engine (Prometheus-exact).
pub(crate) fn counter_rate(
    w: &[Sample],
    t: i64,
    range: i64,
    compat: PromCompat,
    per_second: bool,
) -> Option<f64> {
    if per_second {
        super::rate(w, t, range, compat)
    } else {
        super::increase(w, t, range, compat)
    }
}
