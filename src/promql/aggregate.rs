//! Aggregation operators: `sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`,
//! `quantile`, `topk`, `bottomk`, with `by (...)` / `without (...)`.
//!
//! Groups are formed once per input series (not per step); each group is then folded step by
//! step with one reusable accumulator per step, in input order, with Prometheus' arithmetic:
//! 2.x sums plainly and averages incrementally; 3.x uses Kahan summation and a direct mean
//! that falls back to the incremental one on overflow.

use std::collections::HashMap;

use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::eval::{dedup, Ctx, Ser, Val};
use super::functions::{kahan_inc_v3, quantile};
use super::{EvalError, PromCompat};
use crate::model::labels::Labels;

#[derive(Clone, Copy, Default)]
struct Acc {
    seen: bool,
    value: f64,
    mean: f64,
    c: f64,
    count: f64,
    incremental: bool,
}

/// Evaluates an aggregation.
pub(crate) fn aggregate(ctx: &Ctx, a: &AggregateExpr) -> Result<Val, EvalError> {
    let op = a.op.to_string();
    let param = match &a.param {
        Some(p) => Some(ctx.eval(p)?.into_scalar(&format!("parameter of `{op}`"))?),
        None => None,
    };
    let input = ctx.eval(&a.expr)?.into_vector(&format!("`{op}`"))?;

    // Group the input series (first-seen order).
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<usize>)> = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let key = group_labels(&s.labels, a.modifier.as_ref());
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }

    let out = match op.as_str() {
        "topk" | "bottomk" => {
            let k = param.ok_or_else(|| EvalError::Unsupported(format!("`{op}` needs k")))?;
            top_k(ctx, op == "topk", &k, &input, &groups)?
        }
        "sum" | "avg" | "min" | "max" | "count" | "group" | "stddev" | "stdvar" | "quantile" => {
            fold(ctx, &op, param.as_deref(), &input, groups)?
        }
        other => {
            return Err(EvalError::Unsupported(format!(
                "aggregation `{other}` is not supported"
            )))
        }
    };
    Ok(Val::Vector(dedup(out, false)?))
}

/// The labels of the group a series falls in.
fn group_labels(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    match modifier {
        None => Labels::new(),
        Some(LabelModifier::Include(by)) => labels
            .iter()
            .filter(|(k, _)| by.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(LabelModifier::Exclude(without)) => labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__" && !without.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The value-folding aggregations: one output series per group.
fn fold(
    ctx: &Ctx,
    op: &str,
    param: Option<&[f64]>,
    input: &[Ser],
    groups: Vec<(Labels, Vec<usize>)>,
) -> Result<Vec<Ser>, EvalError> {
    let v3 = ctx.compat == PromCompat::V3;
    let mut accs = vec![Acc::default(); ctx.n];
    let mut values: Vec<Vec<f64>> = if op == "quantile" {
        vec![Vec::new(); ctx.n]
    } else {
        Vec::new()
    };
    let q = if op == "quantile" {
        Some(param.ok_or_else(|| EvalError::Unsupported("`quantile` needs a quantile".into()))?)
    } else {
        None
    };
    let mut touched: Vec<u32> = Vec::new();
    let mut out = Vec::with_capacity(groups.len());
    for (labels, members) in groups {
        for &m in &members {
            for &(step, v) in &input[m].pts {
                let a = &mut accs[step as usize];
                if !a.seen {
                    touched.push(step);
                    *a = Acc {
                        seen: true,
                        value: v,
                        mean: v,
                        c: 0.0,
                        count: 1.0,
                        incremental: false,
                    };
                    match op {
                        "group" => a.value = 1.0,
                        "stddev" | "stdvar" => {
                            a.value = if v3 && (v.is_nan() || v.is_infinite()) {
                                f64::NAN
                            } else {
                                0.0
                            }
                        }
                        "quantile" => values[step as usize].push(v),
                        _ => {}
                    }
                    continue;
                }
                match op {
                    "sum" => {
                        if v3 {
                            (a.value, a.c) = kahan_inc_v3(v, a.value, a.c);
                        } else {
                            a.value += v;
                        }
                    }
                    "avg" => {
                        a.count += 1.0;
                        if v3 {
                            avg_v3(a, v);
                        } else {
                            avg_v2(a, v);
                        }
                    }
                    "min" if a.value > v || a.value.is_nan() => a.value = v,
                    "max" if a.value < v || a.value.is_nan() => a.value = v,
                    "count" => a.count += 1.0,
                    "stddev" | "stdvar" => {
                        a.count += 1.0;
                        let delta = v - a.mean;
                        a.mean += delta / a.count;
                        a.value += delta * (v - a.mean);
                    }
                    "quantile" => values[step as usize].push(v),
                    _ => {}
                }
            }
        }
        touched.sort_unstable();
        let mut pts = Vec::with_capacity(touched.len());
        for &step in &touched {
            let a = std::mem::take(&mut accs[step as usize]);
            let v = match op {
                "sum" if v3 => a.value + a.c,
                "avg" if v3 => {
                    if a.incremental {
                        a.mean + a.c
                    } else {
                        (a.value + a.c) / a.count
                    }
                }
                "avg" => a.mean,
                "count" => a.count,
                "stdvar" => a.value / a.count,
                "stddev" => (a.value / a.count).sqrt(),
                "quantile" => {
                    let vals = &mut values[step as usize];
                    let r = quantile(q.map_or(f64::NAN, |q| q[step as usize]), vals);
                    vals.clear();
                    r
                }
                _ => a.value,
            };
            pts.push((step, v));
        }
        touched.clear();
        out.push(Ser { labels, pts });
    }
    Ok(out)
}

/// 2.x `avg`: the incremental mean (Infs handled so that `Inf - Inf` never occurs).
fn avg_v2(a: &mut Acc, v: f64) {
    if a.mean.is_infinite() {
        if v.is_infinite() && (a.mean > 0.0) == (v > 0.0) {
            return;
        }
        if !v.is_infinite() && !v.is_nan() {
            return;
        }
    }
    a.mean += v / a.count - a.mean / a.count;
}

/// 3.x `avg`: Kahan sum while it does not overflow, then the Kahan-compensated incremental
/// mean.
fn avg_v3(a: &mut Acc, v: f64) {
    if !a.incremental {
        let (new_v, new_c) = kahan_inc_v3(v, a.value, a.c);
        if !new_v.is_infinite() {
            (a.value, a.c) = (new_v, new_c);
            return;
        }
        a.incremental = true;
        a.mean = a.value / (a.count - 1.0);
        a.c /= a.count - 1.0;
    }
    if a.mean.is_infinite() {
        if v.is_infinite() && (a.mean > 0.0) == (v > 0.0) {
            return;
        }
        if !v.is_infinite() && !v.is_nan() {
            return;
        }
    }
    let current = a.mean + a.c;
    (a.mean, a.c) = kahan_inc_v3(v / a.count - current / a.count, a.mean, a.c);
}

/// `topk`/`bottomk`: per group and step, the `k` largest/smallest elements (NaN last), with
/// their own labels; for an instant query in that order.
fn top_k(
    ctx: &Ctx,
    top: bool,
    k: &[f64],
    input: &[Ser],
    groups: &[(Labels, Vec<usize>)],
) -> Result<Vec<Ser>, EvalError> {
    let mut per_step: Vec<Vec<(f64, usize)>> = vec![Vec::new(); ctx.n];
    let mut touched: Vec<u32> = Vec::new();
    // Output series by input series (range queries); in selection order for one step.
    let mut out_index: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<Ser> = Vec::new();
    for (_, members) in groups {
        for &m in members {
            for &(step, v) in &input[m].pts {
                let slot = &mut per_step[step as usize];
                if slot.is_empty() {
                    touched.push(step);
                }
                slot.push((v, m));
            }
        }
        touched.sort_unstable();
        for &step in &touched {
            let kf = k[step as usize];
            if kf.is_nan() || kf >= 9.2e18 || kf <= -9.2e18 {
                return Err(EvalError::BadArgument(format!(
                    "Scalar value {kf} overflows int64"
                )));
            }
            let kk = kf.trunc() as i64;
            let slot = &mut per_step[step as usize];
            if kk >= 1 {
                slot.sort_by(|a, b| {
                    use std::cmp::Ordering;
                    match (a.0.is_nan(), b.0.is_nan()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        _ if top => b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal),
                        _ => a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal),
                    }
                });
                let take = usize::try_from(kk).unwrap_or(usize::MAX).min(slot.len());
                for &(v, m) in &slot[..take] {
                    let j = *out_index.entry(m).or_insert_with(|| {
                        out.push(Ser {
                            labels: input[m].labels.clone(),
                            pts: Vec::new(),
                        });
                        out.len() - 1
                    });
                    out[j].pts.push((step, v));
                }
            }
            slot.clear();
        }
        touched.clear();
    }
    if ctx.n > 1 {
        for s in &mut out {
            s.pts.sort_by_key(|p| p.0);
        }
    }
    Ok(out)
}
