//! Binary operators: arithmetic (`+ - * / % ^`), comparisons (`== != < > <= >=`, filtering
//! or with `bool`) and the set operators `and`, `or`, `unless`, between scalars and vectors,
//! with vector matching (`on`, `ignoring`, `group_left`, `group_right`).
//!
//! As in Prometheus: arithmetic and `bool` comparisons drop `__name__`, filtering comparisons
//! keep the left-hand value and labels; one-to-one matching keeps the left-hand labels
//! (reduced to the `on` labels, or without the `ignoring` ones); many-to-one keeps the
//! "many" side's labels plus the `group_x` labels of the "one" side; duplicate partners are
//! errors with Prometheus' messages. Matching is done once per pair of series, then joined
//! step by step.

use std::collections::HashMap;

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::eval::{dedup, Ctx, Ser, Val};
use super::EvalError;
use crate::model::labels::{self, Labels};

/// Evaluates a binary expression.
pub(crate) fn binary(ctx: &Ctx, b: &BinaryExpr) -> Result<Val, EvalError> {
    let op = b.op.to_string();
    let m = b.modifier.as_ref();
    let return_bool = m.is_some_and(|m| m.return_bool);
    // A vector against a scalar: evaluate the scalar first and apply the operator to each
    // series as it is produced (no intermediate vector for `rate(x[5m]) > 0.1`).
    if !is_set_op(&op) {
        let (lt, rt) = (b.lhs.value_type(), b.rhs.value_type());
        let scalar_side = match (lt, rt) {
            (ValueType::Vector, ValueType::Scalar) => Some(false),
            (ValueType::Scalar, ValueType::Vector) => Some(true),
            _ => None,
        };
        if let Some(scalar_on_left) = scalar_side {
            let (s_expr, v_expr) = if scalar_on_left {
                (&b.lhs, &b.rhs)
            } else {
                (&b.rhs, &b.lhs)
            };
            let s = ctx
                .eval(s_expr)?
                .into_scalar(&format!("operand of `{op}`"))?;
            let post = |ser: Ser| scalar_op_series(&op, ser, &s, scalar_on_left, return_bool);
            let v = ctx.eval_post(v_expr, &post)?;
            return Ok(Val::Vector(dedup(v, false)?));
        }
    }
    let lhs = ctx.eval(&b.lhs)?;
    let rhs = ctx.eval(&b.rhs)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => {
            if is_set_op(&op) {
                return Err(EvalError::Unsupported(format!(
                    "set operator `{op}` not allowed between scalars"
                )));
            }
            Ok(Val::Scalar(
                l.into_iter()
                    .zip(r)
                    .map(|(l, r)| {
                        let (v, keep) = elem(&op, l, r);
                        if is_comparison(&op) {
                            // The parser requires `bool` here.
                            f64::from(u8::from(keep))
                        } else {
                            v
                        }
                    })
                    .collect(),
            ))
        }
        (Val::Vector(v), Val::Scalar(s)) => vector_scalar(&op, v, &s, false, return_bool),
        (Val::Scalar(s), Val::Vector(v)) => vector_scalar(&op, v, &s, true, return_bool),
        (Val::Vector(l), Val::Vector(r)) => {
            if is_set_op(&op) {
                Ok(Val::Vector(set_op(&op, l, r, m)?))
            } else {
                Ok(Val::Vector(vector_vector(&op, l, r, m, ctx.n)?))
            }
        }
        (l, r) => Err(EvalError::Unsupported(format!(
            "binary operator `{op}` is not defined between a {} and a {}",
            l.kind(),
            r.kind()
        ))),
    }
}

fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | "<" | ">" | "<=" | ">=")
}

fn is_set_op(op: &str) -> bool {
    matches!(op, "and" | "or" | "unless")
}

/// Whether the result of `op` loses the metric name.
fn drops_name(op: &str) -> bool {
    matches!(op, "+" | "-" | "*" | "/" | "%" | "^")
}

/// Prometheus' `vectorElemBinop` for floats: the value and, for comparisons, whether the
/// element is kept (the value of a comparison is the left-hand side).
fn elem(op: &str, l: f64, r: f64) -> (f64, bool) {
    match op {
        "+" => (l + r, true),
        "-" => (l - r, true),
        "*" => (l * r, true),
        "/" => (l / r, true),
        "%" => (l % r, true),
        "^" => (l.powf(r), true),
        "==" => (l, l == r),
        "!=" => (l, l != r),
        ">" => (l, l > r),
        "<" => (l, l < r),
        ">=" => (l, l >= r),
        "<=" => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

fn vector_scalar(
    op: &str,
    v: Vec<Ser>,
    s: &[f64],
    scalar_on_left: bool,
    return_bool: bool,
) -> Result<Val, EvalError> {
    if is_set_op(op) {
        return Err(EvalError::Unsupported(format!(
            "set operator `{op}` not allowed between a vector and a scalar"
        )));
    }
    let out = v
        .into_iter()
        .filter_map(|ser| scalar_op_series(op, ser, s, scalar_on_left, return_bool))
        .collect();
    Ok(Val::Vector(dedup(out, false)?))
}

/// Prometheus' `VectorscalarBinop` for one series (the caller checks duplicate labels).
fn scalar_op_series(
    op: &str,
    mut ser: Ser,
    s: &[f64],
    scalar_on_left: bool,
    return_bool: bool,
) -> Option<Ser> {
    let comparison = is_comparison(op);
    ser.pts.retain_mut(|(i, x)| {
        let scalar = s.get(*i as usize).copied().unwrap_or(f64::NAN);
        let (l, r) = if scalar_on_left {
            (scalar, *x)
        } else {
            (*x, scalar)
        };
        let (mut value, mut keep) = elem(op, l, r);
        if comparison && scalar_on_left {
            // The vector's value, even when it is on the right.
            value = r;
        }
        if return_bool {
            value = f64::from(u8::from(keep));
            keep = true;
        }
        *x = value;
        keep
    });
    if ser.pts.is_empty() {
        return None;
    }
    if ser.pts.len() < ser.pts.capacity() / 2 {
        ser.pts.shrink_to_fit();
    }
    if drops_name(op) || return_bool {
        ser.labels.remove("__name__");
    }
    Some(ser)
}

/// `on` (true) or `ignoring` (false) and the labels.
fn matching(m: Option<&BinModifier>) -> (bool, &[String]) {
    match m.and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(l)) => (true, &l.labels),
        Some(LabelModifier::Exclude(l)) => (false, &l.labels),
        None => (false, &[]),
    }
}

/// The matching signature of `labels`: the `on` labels, or all but the `ignoring` ones and
/// `__name__`.
fn signature(labels: &Labels, on: bool, names: &[String]) -> String {
    let mut sig = String::new();
    for (k, v) in labels {
        let include = if on {
            names.iter().any(|n| n == k)
        } else {
            k != "__name__" && !names.iter().any(|n| n == k)
        };
        if include {
            sig.push_str(&format!("{}:{k}{}:{v}", k.len(), v.len()));
        }
    }
    sig
}

fn matched_labels(labels: &Labels, on: bool, names: &[String]) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| {
            if on {
                names.iter().any(|n| n == *k)
            } else {
                k.as_str() != "__name__" && !names.iter().any(|n| n == *k)
            }
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Arithmetic and comparison between two vectors.
fn vector_vector(
    op: &str,
    lhs: Vec<Ser>,
    rhs: Vec<Ser>,
    m: Option<&BinModifier>,
    n_steps: usize,
) -> Result<Vec<Ser>, EvalError> {
    let (on, names) = matching(m);
    let card = m.map_or(&VectorMatchCardinality::OneToOne, |m| &m.card);
    let include: &[String] = card.labels().map_or(&[], |l| &l.labels);
    let return_bool = m.is_some_and(|m| m.return_bool);
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    // "many" is iterated, "one" is looked up; for group_right the sides swap.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let sig_many: Vec<String> = many
        .iter()
        .map(|s| signature(&s.labels, on, names))
        .collect();
    let mut one_by_sig: HashMap<String, Vec<usize>> = HashMap::new();
    for (j, s) in one.iter().enumerate() {
        one_by_sig
            .entry(signature(&s.labels, on, names))
            .or_default()
            .push(j);
    }

    // The "one" side must have a single series per signature at every step where the other
    // side has any element.
    let mut many_any = vec![false; n_steps];
    for s in &many {
        for &(i, _) in &s.pts {
            many_any[i as usize] = true;
        }
    }
    for js in one_by_sig.values().filter(|js| js.len() > 1) {
        let mut steps: Vec<(u32, usize)> = js
            .iter()
            .flat_map(|&j| one[j].pts.iter().map(move |&(i, _)| (i, j)))
            .collect();
        steps.sort_unstable();
        for w in steps.windows(2) {
            if w[0].0 == w[1].0 && many_any[w[0].0 as usize] {
                let side = if one_to_many { "left" } else { "right" };
                return Err(EvalError::Matching(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    labels::braced(&matched_labels(&one[w[1].1].labels, on, names)),
                    labels::braced(&one[w[1].1].labels),
                    labels::braced(&one[w[0].1].labels),
                )));
            }
        }
    }

    let mut out: Vec<Ser> = Vec::new();
    // For one-to-one matching: the steps matched per signature, to find a signature matched
    // twice at one step.
    let mut matched: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, ms) in many.iter().enumerate() {
        let Some(js) = one_by_sig.get(&sig_many[i]) else {
            continue;
        };
        for &j in js {
            let os = &one[j];
            let mut pts = Vec::new();
            let (mut a, mut b) = (0usize, 0usize);
            while a < ms.pts.len() && b < os.pts.len() {
                let (sa, va) = ms.pts[a];
                let (sb, vb) = os.pts[b];
                if sa < sb {
                    a += 1;
                    continue;
                }
                if sa > sb {
                    b += 1;
                    continue;
                }
                a += 1;
                b += 1;
                let (vl, vr) = if one_to_many { (vb, va) } else { (va, vb) };
                let (value, keep) = elem(op, vl, vr);
                if return_bool {
                    pts.push((sa, f64::from(u8::from(keep))));
                } else if keep {
                    pts.push((sa, value));
                }
            }
            if pts.is_empty() {
                continue;
            }
            if one_to_one {
                matched
                    .entry(sig_many[i].as_str())
                    .or_default()
                    .extend(pts.iter().map(|p| p.0));
            }
            let labels = result_labels(
                &ms.labels,
                &os.labels,
                op,
                on,
                names,
                one_to_one,
                include,
                return_bool,
            );
            out.push(Ser { labels, pts });
        }
    }
    for steps in matched.values_mut() {
        steps.sort_unstable();
        if steps.windows(2).any(|w| w[0] == w[1]) {
            return Err(EvalError::Matching(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                    .into(),
            ));
        }
    }
    dedup(out, false).map_err(|e| match e {
        EvalError::DuplicateLabelset if !one_to_one => EvalError::Matching(
            "multiple matches for labels: grouping labels must ensure unique matches".into(),
        ),
        e => e,
    })
}

/// Prometheus' `resultMetric`.
#[allow(clippy::too_many_arguments)]
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: &str,
    on: bool,
    names: &[String],
    one_to_one: bool,
    include: &[String],
    return_bool: bool,
) -> Labels {
    let mut l = many.clone();
    if drops_name(op) || return_bool {
        l.remove("__name__");
    }
    if one_to_one {
        if on {
            l.retain(|k, _| names.iter().any(|n| n == k));
        } else {
            l.retain(|k, _| !names.iter().any(|n| n == k));
        }
    }
    for name in include {
        match one.get(name) {
            Some(v) if !v.is_empty() => {
                l.insert(name.clone(), v.clone());
            }
            _ => {
                l.remove(name);
            }
        }
    }
    l
}

/// `and`, `or`, `unless`, step by step: the left elements whose signature is (`and`) or is
/// not (`unless`) on the right at that step; `or` adds the right elements whose signature is
/// not on the left at that step.
fn set_op(
    op: &str,
    lhs: Vec<Ser>,
    rhs: Vec<Ser>,
    m: Option<&BinModifier>,
) -> Result<Vec<Ser>, EvalError> {
    let (on, names) = matching(m);
    let steps_by_sig = |v: &[Ser]| -> HashMap<String, Vec<u32>> {
        let mut map: HashMap<String, Vec<u32>> = HashMap::new();
        for s in v {
            map.entry(signature(&s.labels, on, names))
                .or_default()
                .extend(s.pts.iter().map(|p| p.0));
        }
        for steps in map.values_mut() {
            steps.sort_unstable();
            steps.dedup();
        }
        map
    };
    let filter = |v: Vec<Ser>, other: &HashMap<String, Vec<u32>>, keep_if_present: bool| {
        v.into_iter()
            .filter_map(|s| {
                let sig = signature(&s.labels, on, names);
                let present = other.get(&sig).map_or(&[][..], Vec::as_slice);
                let pts: Vec<(u32, f64)> = s
                    .pts
                    .into_iter()
                    .filter(|p| present.binary_search(&p.0).is_ok() == keep_if_present)
                    .collect();
                (!pts.is_empty()).then_some(Ser {
                    labels: s.labels,
                    pts,
                })
            })
            .collect::<Vec<Ser>>()
    };
    let out = match op {
        "and" => {
            let r = steps_by_sig(&rhs);
            filter(lhs, &r, true)
        }
        "unless" => {
            let r = steps_by_sig(&rhs);
            filter(lhs, &r, false)
        }
        _ => {
            let l = steps_by_sig(&lhs);
            let mut out = lhs;
            out.extend(filter(rhs, &l, false));
            out
        }
    };
    dedup(out, false)
}
