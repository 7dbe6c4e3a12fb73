//! The supported PromQL functions, with Prometheus' arithmetic (same operations in the same
//! order, so results are bit-identical where it matters for a threshold):
//! - over a range selector: `rate`, `increase` (from the alert engine), `irate`, `idelta`,
//!   `delta`, `changes`, `resets` and the `*_over_time` family;
//! - over an instant vector: `histogram_quantile` (classic `le` buckets), `abs`, `ceil`,
//!   `floor`, `round`, `sqrt`, `exp`, `ln`, `log2`, `log10`, `sgn`, `clamp*`, `sort*`;
//! - `vector`, `scalar`, `time`.
//!
//! Where 2.x and 3.x differ (Kahan summation details, `avg_over_time`'s algorithm, the
//! precision correction of `histogram_quantile`), [`PromCompat`] decides.

use std::collections::HashMap;

use promql_parser::parser::{Call, Expr as Ast};

use super::eval::{counter_rate, dedup, drop_name, duration_ms, Ctx, Post, Ser, Val};
use super::parse::{unparen, RANGE_FUNCTIONS};
use super::{EvalError, PromCompat};
use crate::model::labels::Labels;
use crate::model::metrics::Sample;

/// Evaluates a function call.
pub(crate) fn call(ctx: &Ctx, c: &Call) -> Result<Val, EvalError> {
    let name = c.func.name;
    let args: Vec<&Ast> = c.args.args.iter().map(|a| a.as_ref()).collect();
    if RANGE_FUNCTIONS.contains(&name) {
        return range_function(ctx, name, &args, None).map(Val::Vector);
    }
    let arg = |i: usize| -> Result<&Ast, EvalError> {
        args.get(i).copied().ok_or_else(|| {
            EvalError::Unsupported(format!("function `{name}` is missing argument {}", i + 1))
        })
    };
    let vector_arg = |i: usize| -> Result<Vec<Ser>, EvalError> {
        ctx.eval(arg(i)?)?
            .into_vector(&format!("argument {} of `{name}`", i + 1))
    };
    let scalar_arg = |i: usize| -> Result<Vec<f64>, EvalError> {
        ctx.eval(arg(i)?)?
            .into_scalar(&format!("argument {} of `{name}`", i + 1))
    };
    let out = match name {
        "time" => {
            return Ok(Val::Scalar(
                (0..ctx.n).map(|i| ctx.t(i) as f64 / 1000.0).collect(),
            ))
        }
        "vector" => {
            let s = scalar_arg(0)?;
            return Ok(Val::Vector(vec![Ser {
                labels: Labels::new(),
                pts: (0u32..).zip(s).collect(),
            }]));
        }
        "scalar" => {
            let v = vector_arg(0)?;
            let mut per_step: Vec<(u32, f64)> = vec![(0, f64::NAN); ctx.n];
            for s in &v {
                for &(i, x) in &s.pts {
                    let slot = &mut per_step[i as usize];
                    slot.0 += 1;
                    slot.1 = x;
                }
            }
            return Ok(Val::Scalar(
                per_step
                    .into_iter()
                    .map(|(n, x)| if n == 1 { x } else { f64::NAN })
                    .collect(),
            ));
        }
        "abs" => map_values(vector_arg(0)?, |_, v| Some(v.abs())),
        "ceil" => map_values(vector_arg(0)?, |_, v| Some(v.ceil())),
        "floor" => map_values(vector_arg(0)?, |_, v| Some(v.floor())),
        "sqrt" => map_values(vector_arg(0)?, |_, v| Some(v.sqrt())),
        "exp" => map_values(vector_arg(0)?, |_, v| Some(v.exp())),
        "ln" => map_values(vector_arg(0)?, |_, v| Some(v.ln())),
        "log2" => map_values(vector_arg(0)?, |_, v| Some(v.log2())),
        "log10" => map_values(vector_arg(0)?, |_, v| Some(v.log10())),
        "sgn" => map_values(vector_arg(0)?, |_, v| {
            Some(if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            })
        }),
        "round" => {
            let v = vector_arg(0)?;
            let to_nearest = if args.len() > 1 {
                scalar_arg(1)?
            } else {
                vec![1.0; ctx.n]
            };
            map_values(v, |i, x| {
                // Prometheus rounds with the inverse, ties up.
                let inverse = 1.0 / to_nearest[i];
                Some((x * inverse + 0.5).floor() / inverse)
            })
        }
        "clamp" => {
            let v = vector_arg(0)?;
            let (lo, hi) = (scalar_arg(1)?, scalar_arg(2)?);
            map_values(v, |i, x| {
                (hi[i] >= lo[i] || lo[i].is_nan() || hi[i].is_nan())
                    .then(|| lo[i].max_go(hi[i].min_go(x)))
            })
        }
        "clamp_min" => {
            let v = vector_arg(0)?;
            let lo = scalar_arg(1)?;
            map_values(v, |i, x| Some(lo[i].max_go(x)))
        }
        "clamp_max" => {
            let v = vector_arg(0)?;
            let hi = scalar_arg(1)?;
            map_values(v, |i, x| Some(hi[i].min_go(x)))
        }
        "sort" | "sort_desc" => {
            let mut v = vector_arg(0)?;
            if ctx.n == 1 {
                let desc = name == "sort_desc";
                v.sort_by(|a, b| {
                    let (x, y) = (a.pts[0].1, b.pts[0].1);
                    match (x.is_nan(), y.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if desc => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                        _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                    }
                });
            }
            return Ok(Val::Vector(v));
        }
        "histogram_quantile" => {
            let q = scalar_arg(0)?;
            let v = vector_arg(1)?;
            histogram_quantile(ctx, &q, v)?
        }
        other => {
            return Err(EvalError::Unsupported(format!(
                "function `{other}` is not supported"
            )))
        }
    };
    Ok(Val::Vector(out))
}

/// Go's `math.Max`/`math.Min`: NaN wins.
trait GoMinMax {
    fn max_go(self, other: f64) -> f64;
    fn min_go(self, other: f64) -> f64;
}

impl GoMinMax for f64 {
    fn max_go(self, other: f64) -> f64 {
        if self.is_nan() || other.is_nan() {
            f64::NAN
        } else if self == 0.0 && other == 0.0 {
            if self.is_sign_positive() {
                self
            } else {
                other
            }
        } else {
            self.max(other)
        }
    }

    fn min_go(self, other: f64) -> f64 {
        if self.is_nan() || other.is_nan() {
            f64::NAN
        } else if self == 0.0 && other == 0.0 {
            if self.is_sign_negative() {
                self
            } else {
                other
            }
        } else {
            self.min(other)
        }
    }
}

/// Applies `f(step, value)` to every value (`None` drops it), dropping `__name__`.
fn map_values(v: Vec<Ser>, mut f: impl FnMut(usize, f64) -> Option<f64>) -> Vec<Ser> {
    v.into_iter()
        .filter_map(|s| {
            let pts: Vec<(u32, f64)> = s
                .pts
                .into_iter()
                .filter_map(|(i, x)| f(i as usize, x).map(|y| (i, y)))
                .collect();
            (!pts.is_empty()).then(|| Ser {
                labels: drop_name(&s.labels),
                pts,
            })
        })
        .collect()
}

/// Evaluates a range-vector function call, applying `post` to each result series as it is
/// produced.
pub(crate) fn call_post(ctx: &Ctx, c: &Call, post: Post<'_>) -> Result<Vec<Ser>, EvalError> {
    let args: Vec<&Ast> = c.args.args.iter().map(|a| a.as_ref()).collect();
    range_function(ctx, c.func.name, &args, Some(post))
}

/// A range-vector function over its range selector.
fn range_function(
    ctx: &Ctx,
    name: &str,
    args: &[&Ast],
    post: Option<Post<'_>>,
) -> Result<Vec<Ser>, EvalError> {
    let ms = args
        .iter()
        .find_map(|a| match unparen(a) {
            Ast::MatrixSelector(ms) => Some(ms),
            _ => None,
        })
        .ok_or_else(|| {
            EvalError::Unsupported(format!(
                "function `{name}` is only supported over a range selector"
            ))
        })?;
    let range = duration_ms(&ms.range);
    let compat = ctx.compat;
    match name {
        "rate" => ctx.range_eval(ms, false, post, |w, t, _, _| {
            counter_rate(w, t, range, compat, true)
        }),
        "increase" => ctx.range_eval(ms, false, post, |w, t, _, _| {
            counter_rate(w, t, range, compat, false)
        }),
        "delta" => ctx.range_eval(ms, false, post, |w, t, _, _| delta(w, t, range)),
        "irate" => ctx.range_eval(ms, false, post, |w, _, _, _| instant_value(w, true)),
        "idelta" => ctx.range_eval(ms, false, post, |w, _, _, _| instant_value(w, false)),
        "changes" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            let first = w.first()?;
            let mut prev = first.v;
            let mut n = 0u32;
            for s in &w[1..] {
                if s.v != prev && !(s.v.is_nan() && prev.is_nan()) {
                    n += 1;
                }
                prev = s.v;
            }
            Some(f64::from(n))
        }),
        "resets" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            let first = w.first()?;
            let mut prev = first.v;
            let mut n = 0u32;
            for s in &w[1..] {
                if s.v < prev {
                    n += 1;
                }
                prev = s.v;
            }
            Some(f64::from(n))
        }),
        "avg_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            (!w.is_empty()).then(|| avg_over_time(w, compat))
        }),
        "sum_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            (!w.is_empty()).then(|| sum_over_time(w, compat))
        }),
        "min_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            let mut m = w.first()?.v;
            for s in w {
                if s.v < m || m.is_nan() {
                    m = s.v;
                }
            }
            Some(m)
        }),
        "max_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            let mut m = w.first()?.v;
            for s in w {
                if s.v > m || m.is_nan() {
                    m = s.v;
                }
            }
            Some(m)
        }),
        "count_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            (!w.is_empty()).then_some(w.len() as f64)
        }),
        "last_over_time" => ctx.range_eval(ms, true, post, |w, _, _, _| w.last().map(|s| s.v)),
        "present_over_time" => {
            ctx.range_eval(ms, false, post, |w, _, _, _| (!w.is_empty()).then_some(1.0))
        }
        "stddev_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            (!w.is_empty()).then(|| variance(w, compat).sqrt())
        }),
        "stdvar_over_time" => ctx.range_eval(ms, false, post, |w, _, _, _| {
            (!w.is_empty()).then(|| variance(w, compat))
        }),
        "quantile_over_time" => {
            let q_arg = args
                .first()
                .filter(|a| !matches!(unparen(a), Ast::MatrixSelector(_)))
                .ok_or_else(|| {
                    EvalError::Unsupported("quantile_over_time needs a quantile".into())
                })?;
            let q = ctx
                .eval(q_arg)?
                .into_scalar("argument 1 of `quantile_over_time`")?;
            ctx.range_eval(ms, false, post, |w, _, step, buf| {
                if w.is_empty() {
                    return None;
                }
                buf.clear();
                buf.extend(w.iter().map(|s| s.v));
                Some(quantile(q[step], buf))
            })
        }
        other => Err(EvalError::Unsupported(format!(
            "function `{other}` is not supported"
        ))),
    }
}

/// `delta()`: Prometheus' `extrapolatedRate` for gauges (no counter resets, no zero point).
fn delta(w: &[Sample], t: i64, range: i64) -> Option<f64> {
    let (first, last) = match w {
        [first, .., last] => (*first, *last),
        _ => return None,
    };
    let result = last.v - first.v;
    let range_start = t.saturating_sub(range);
    let mut to_start = (first.t_ms - range_start) as f64 / 1000.0;
    let mut to_end = (t - last.t_ms) as f64 / 1000.0;
    let sampled = (last.t_ms - first.t_ms) as f64 / 1000.0;
    let average = sampled / (w.len() - 1) as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    Some(result * ((sampled + to_start + to_end) / sampled))
}

/// `irate()` (`is_rate`) and `idelta()`: the last two samples of the window.
fn instant_value(w: &[Sample], is_rate: bool) -> Option<f64> {
    let (prev, last) = match w {
        [.., prev, last] => (*prev, *last),
        _ => return None,
    };
    let mut result = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t_ms - prev.t_ms;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Kahan-Neumaier summation step as in Prometheus 2.4x (`kahanSumInc`).
pub(crate) fn kahan_inc_v2(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Kahan-Neumaier summation step as in Prometheus 3.x (`kahansum.Inc`): the compensation is
/// reset when the sum overflows.
pub(crate) fn kahan_inc_v3(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    if t.is_infinite() {
        return (t, 0.0);
    }
    kahan_inc_v2(inc, sum, c)
}

pub(crate) fn kahan_inc(compat: PromCompat, inc: f64, sum: f64, c: f64) -> (f64, f64) {
    match compat {
        PromCompat::V2 => kahan_inc_v2(inc, sum, c),
        PromCompat::V3 => kahan_inc_v3(inc, sum, c),
    }
}

fn sum_over_time(w: &[Sample], compat: PromCompat) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for s in w {
        (sum, c) = kahan_inc(compat, s.v, sum, c);
    }
    if sum.is_infinite() {
        sum
    } else {
        sum + c
    }
}

fn avg_over_time(w: &[Sample], compat: PromCompat) -> f64 {
    match compat {
        PromCompat::V2 => {
            // Incremental mean with Kahan compensation.
            let (mut mean, mut count, mut c) = (0.0f64, 0.0f64, 0.0f64);
            for s in w {
                count += 1.0;
                if mean.is_infinite() {
                    if s.v.is_infinite() && (mean > 0.0) == (s.v > 0.0) {
                        continue;
                    }
                    if !s.v.is_infinite() && !s.v.is_nan() {
                        continue;
                    }
                }
                (mean, c) = kahan_inc_v2(s.v / count - mean / count, mean, c);
            }
            if mean.is_infinite() {
                mean
            } else {
                mean + c
            }
        }
        PromCompat::V3 => {
            // Direct mean with Kahan summation while the sum does not overflow, then the
            // incremental mean.
            let Some(first) = w.first() else {
                return f64::NAN;
            };
            let (mut sum, mut count) = (first.v, 1.0f64);
            let (mut mean, mut c) = (0.0f64, 0.0f64);
            let mut incremental = false;
            for (i, s) in w[1..].iter().enumerate() {
                count = (i + 2) as f64;
                if !incremental {
                    let (new_sum, new_c) = kahan_inc_v3(s.v, sum, c);
                    if !new_sum.is_infinite() {
                        (sum, c) = (new_sum, new_c);
                        continue;
                    }
                    incremental = true;
                    mean = sum / (count - 1.0);
                    c /= count - 1.0;
                }
                let q = (count - 1.0) / count;
                (mean, c) = kahan_inc_v3(s.v / count, q * mean, q * c);
            }
            if incremental {
                mean + c
            } else {
                sum / count + c / count
            }
        }
    }
}

/// Population variance of the window (Welford with Kahan compensation).
fn variance(w: &[Sample], compat: PromCompat) -> f64 {
    let mut count = 0.0f64;
    let (mut mean, mut c_mean) = (0.0f64, 0.0f64);
    let (mut aux, mut c_aux) = (0.0f64, 0.0f64);
    for s in w {
        count += 1.0;
        let delta = s.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(compat, delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(compat, delta * (s.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Prometheus' `quantile()`: linear interpolation between the closest ranks (NaN sorts
/// first); `values` is sorted in place.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// `histogram_quantile(q, v)` over classic buckets: the elements of `v` are grouped by their
/// labels without `le` (the metric name included, so two histograms never mix); each group's
/// buckets at each step give one value, labelled without `le` and `__name__`. Elements without
/// a parseable `le` are ignored.
fn histogram_quantile(ctx: &Ctx, q: &[f64], v: Vec<Ser>) -> Result<Vec<Ser>, EvalError> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, usize)>)> = Vec::new();
    for (i, s) in v.iter().enumerate() {
        let Some(le) = s.labels.get("le").and_then(|le| parse_go_float(le)) else {
            continue;
        };
        let mut key = s.labels.clone();
        key.remove("le");
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((drop_name(&key), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push((le, i));
    }
    let mut per_step: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ctx.n];
    let mut touched: Vec<u32> = Vec::new();
    let mut out = Vec::with_capacity(groups.len());
    for (labels, members) in groups {
        for &(le, i) in &members {
            for &(step, x) in &v[i].pts {
                let b = &mut per_step[step as usize];
                if b.is_empty() {
                    touched.push(step);
                }
                b.push((le, x));
            }
        }
        touched.sort_unstable();
        let mut pts = Vec::with_capacity(touched.len());
        for &step in &touched {
            let b = &mut per_step[step as usize];
            pts.push((step, bucket_quantile(q[step as usize], b, ctx.compat)));
            b.clear();
        }
        touched.clear();
        out.push(Ser { labels, pts });
    }
    dedup(out, false)
}

/// Go's `strconv.ParseFloat` for the values `le` takes (`0.5`, `1e3`, `+Inf`, `NaN`).
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Go's `sort.Search`: the first `i` in `0..n` with `f(i)`, by bisection (so the answer for
/// a non-monotonic `f` is the same as Go's).
fn go_search(n: usize, f: impl Fn(usize) -> bool) -> usize {
    let (mut i, mut j) = (0usize, n);
    while i < j {
        let h = i + (j - i) / 2;
        if !f(h) {
            i = h + 1;
        } else {
            j = h;
        }
    }
    i
}

/// Prometheus' `bucketQuantile` over `(upper bound, cumulative count)` buckets (reordered in
/// place): NaN when the `+Inf` bucket is missing, there are fewer than 2 buckets or no
/// observations; `-Inf`/`+Inf` for `q < 0`/`q > 1`; buckets with equal bounds merged, counts
/// made monotonic (3.x first corrects relative differences up to 1e-12); linear
/// interpolation within the bucket, 0 as the lower bound of the first bucket when it is
/// positive, and the second-highest bound when the rank falls in the `+Inf` bucket.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<(f64, f64)>, compat: PromCompat) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    match buckets.last() {
        Some(&(upper, _)) if upper == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Merge buckets with the same upper bound.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for &(upper, count) in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == upper => last.1 += count,
            _ => merged.push((upper, count)),
        }
    }
    *buckets = merged;
    if compat == PromCompat::V3 {
        let mut prev = buckets[0].1;
        for b in buckets.iter_mut().skip(1) {
            let curr = b.1;
            let delta = (curr - prev).abs();
            if delta == 0.0 {
                continue;
            }
            if delta / curr <= 1e-12 {
                b.1 = prev;
            } else {
                prev = curr;
            }
        }
    }
    let mut max = buckets[0].1;
    for b in buckets.iter_mut().skip(1) {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    let n = buckets.len();
    if n < 2 {
        return f64::NAN;
    }
    let observations = buckets[n - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = go_search(n - 1, |i| buckets[i].1 >= rank);
    if b == n - 1 {
        return buckets[n - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let mut bucket_start = 0.0;
    let bucket_end = buckets[b].0;
    let mut count = buckets[b].1;
    if b > 0 {
        bucket_start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bq(q: f64, b: &[(f64, f64)]) -> f64 {
        bucket_quantile(q, &mut b.to_vec(), PromCompat::V2)
    }

    #[test]
    fn bucket_quantile_like_prometheus() {
        let inf = f64::INFINITY;
        let b = [(0.1, 10.0), (0.5, 20.0), (1.0, 30.0), (inf, 40.0)];
        assert_eq!(bq(0.5, &b), 0.5);
        assert!((bq(0.25, &b) - 0.1).abs() < 1e-12);
        assert_eq!(
            bq(0.95, &b),
            1.0,
            "rank in the +Inf bucket: second-highest bound"
        );
        assert!(
            bq(0.5, &[(0.1, 10.0), (1.0, 30.0)]).is_nan(),
            "no +Inf bucket"
        );
        assert!(bq(0.5, &[(inf, 10.0)]).is_nan(), "a single bucket");
        assert!(
            bq(0.5, &[(1.0, 0.0), (inf, 0.0)]).is_nan(),
            "no observations"
        );
        assert_eq!(bq(-1.0, &b), f64::NEG_INFINITY);
        assert_eq!(bq(2.0, &b), inf);
        // Non-monotonic counts are evened out: the 0.5 bucket counts as 20.
        let bad = [(0.1, 20.0), (0.5, 10.0), (inf, 40.0)];
        assert!((bq(0.5, &bad) - 0.1).abs() < 1e-12);
        // A lowest bucket at or below zero returns its bound.
        assert_eq!(bq(0.1, &[(-1.0, 10.0), (inf, 20.0)]), -1.0);
        // Duplicate bounds are merged.
        assert_eq!(
            bq(0.5, &[(1.0, 5.0), (1.0, 5.0), (2.0, 20.0), (inf, 20.0)]),
            1.0
        );
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [0.0, 1.0]), 0.5);
        assert_eq!(quantile(0.75, &mut [4.0, 0.0, 1.0]), 2.5);
        assert!(quantile(0.5, &mut []).is_nan());
    }
}
