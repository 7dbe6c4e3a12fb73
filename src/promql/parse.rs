//! Parsing: PromQL text to an [`Expr`], with the `promql-parser` crate, then checked against
//! the subset this evaluator supports. Everything the parser accepts but the evaluator does
//! not is rejected here with a message naming the construct (a function, an aggregation, a
//! subquery, a binary-operator modifier), so that evaluation never meets it.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use promql_parser::parser::{self as pp, Expr as Ast, VectorSelector};

use super::PromqlError;
use crate::model::Millis;

/// The longest expression accepted (rule expressions are a few hundred bytes; the limit keeps
/// the recursion over the syntax tree shallow on hostile input).
pub const MAX_EXPR_BYTES: usize = 8 * 1024;

/// The deepest syntax tree accepted.
pub const MAX_DEPTH: usize = 256;

/// Range-vector functions (their matrix argument is a range selector).
pub(crate) const RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "irate",
    "idelta",
    "delta",
    "changes",
    "resets",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
    "present_over_time",
];

/// The other supported functions.
pub(crate) const OTHER_FUNCTIONS: &[&str] = &[
    "histogram_quantile",
    "abs",
    "ceil",
    "floor",
    "round",
    "sqrt",
    "exp",
    "ln",
    "log2",
    "log10",
    "sgn",
    "clamp",
    "clamp_min",
    "clamp_max",
    "vector",
    "scalar",
    "time",
    "sort",
    "sort_desc",
];

/// Supported aggregation operators.
pub(crate) const AGGREGATIONS: &[&str] = &[
    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
];

/// Supported binary operators.
const BINARY_OPS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=", "and", "or", "unless",
];

/// A parsed PromQL expression that uses only the supported subset.
#[derive(Debug, Clone)]
pub struct Expr {
    ast: Ast,
    text: String,
}

impl Expr {
    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn ast(&self) -> &Ast {
        &self.ast
    }

    /// Every vector selector in the expression (those inside range selectors included).
    pub(crate) fn selectors(&self) -> Vec<&VectorSelector> {
        let mut out = Vec::new();
        let mut stack = vec![&self.ast];
        while let Some(e) = stack.pop() {
            match e {
                Ast::VectorSelector(vs) => out.push(vs),
                Ast::MatrixSelector(ms) => out.push(&ms.vs),
                other => stack.extend(children(other)),
            }
        }
        out
    }
}

impl Expr {
    /// For a threshold rule, `lhs OP number` (or `number OP rhs`) with a comparison operator
    /// and no `bool`: the other side, the operator as seen from it, and the number. What a
    /// chart of the rule draws against its threshold.
    pub fn threshold_split(&self) -> Option<(Expr, String, f64)> {
        let mut e = &self.ast;
        while let Ast::Paren(p) = e {
            e = &p.expr;
        }
        let Ast::Binary(b) = e else { return None };
        if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
            return None;
        }
        let op = b.op.to_string();
        let mirrored = match op.as_str() {
            ">" => "<",
            "<" => ">",
            ">=" => "<=",
            "<=" => ">=",
            "==" | "!=" => op.as_str(),
            _ => return None,
        };
        let number = |e: &Ast| match e {
            Ast::NumberLiteral(n) => Some(n.val),
            _ => None,
        };
        let (side, op, threshold) = match (number(&b.lhs), number(&b.rhs)) {
            (None, Some(t)) => (&*b.lhs, op.clone(), t),
            (Some(t), None) => (&*b.rhs, mirrored.to_owned(), t),
            _ => return None,
        };
        Some((
            Expr {
                ast: side.clone(),
                text: side.to_string(),
            },
            op,
            threshold,
        ))
    }

    /// For a rule of the runbook's shape, `rate(SELECTOR[W]) OP T` or `sum(rate(SELECTOR[W]))
    /// OP T` (no offset, no grouping): what the what-if table varies.
    pub fn rate_rule(&self) -> Option<RateRule> {
        let (lhs, op, threshold) = self.threshold_split()?;
        let mut e = unparen(&lhs.ast);
        let mut summed = false;
        if let Ast::Aggregate(a) = e {
            if a.op.to_string() != "sum" || a.modifier.is_some() || a.param.is_some() {
                return None;
            }
            summed = true;
            e = unparen(&a.expr);
        }
        let Ast::Call(c) = e else { return None };
        if c.func.name != "rate" || c.args.args.len() != 1 {
            return None;
        }
        let Ast::MatrixSelector(m) = unparen(&c.args.args[0]) else {
            return None;
        };
        if m.vs.offset.is_some() || m.vs.at.is_some() {
            return None;
        }
        Some(RateRule {
            selector: selector_text(&m.vs),
            window_ms: m.range.as_millis() as Millis,
            summed,
            op,
            threshold,
        })
    }

    /// Whether any of the expression's selectors selects a series with these labels.
    pub fn selects(&self, labels: &crate::model::labels::Labels) -> bool {
        self.selectors()
            .iter()
            .any(|vs| super::eval::selector_matches(vs, labels))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A `rate(SELECTOR[W]) OP T` rule, per series or summed.
#[derive(Clone, Debug, PartialEq)]
pub struct RateRule {
    /// The vector selector, as PromQL text (`name{matchers}`).
    pub selector: String,
    pub window_ms: Millis,
    pub summed: bool,
    /// The comparison, seen from the rate's side (`>` for `0.1 < rate(...)`).
    pub op: String,
    pub threshold: f64,
}

impl RateRule {
    /// The rule's expression, written back (`rate(x[5m]) > 0.1`, `sum(rate(x[5m])) > 0.1`).
    pub fn expression(&self) -> String {
        self.with(self.window_ms, self.summed, self.threshold)
    }

    /// The expression with another window, aggregation and threshold.
    pub fn with(&self, window_ms: Millis, summed: bool, threshold: f64) -> String {
        let rate = format!(
            "rate({}[{}])",
            self.selector,
            crate::model::time::format_duration(window_ms)
        );
        let lhs = if summed { format!("sum({rate})") } else { rate };
        format!("{lhs} {} {}", self.op, super::format::go_float(threshold))
    }

    /// Whether `v` meets the comparison.
    pub fn holds(&self, v: f64, threshold: f64) -> bool {
        match self.op.as_str() {
            ">" => v > threshold,
            ">=" => v >= threshold,
            "<" => v < threshold,
            "<=" => v <= threshold,
            "==" => v == threshold,
            _ => v != threshold,
        }
    }
}

/// Parses `text` and checks it against the supported subset.
///
/// Errors: [`PromqlError::Parse`] when the text is not PromQL, [`PromqlError::Unsupported`]
/// (naming the construct) when it is PromQL outside the subset. Never panics.
pub fn parse(text: &str) -> Result<Expr, PromqlError> {
    if text.len() > MAX_EXPR_BYTES {
        return Err(PromqlError::Parse(format!(
            "expression too long ({} bytes, at most {MAX_EXPR_BYTES})",
            text.len()
        )));
    }
    if nesting(text) > MAX_DEPTH {
        return Err(PromqlError::Parse(format!(
            "expression nested too deeply (more than {MAX_DEPTH} levels)"
        )));
    }
    let ast = catch_unwind(AssertUnwindSafe(|| pp::parse(text)))
        .map_err(|_| PromqlError::Parse("the PromQL parser failed on this input".into()))?
        .map_err(PromqlError::Parse)?;
    if depth(&ast) > MAX_DEPTH {
        return Err(PromqlError::Parse(format!(
            "expression nested too deeply (more than {MAX_DEPTH} levels)"
        )));
    }
    check(&ast)?;
    Ok(Expr {
        ast,
        text: text.to_string(),
    })
}

/// The deepest nesting of brackets outside string literals (a cheap guard run before the
/// parser, which recurses on nesting).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The direct sub-expressions of `e`.
pub(crate) fn children(e: &Ast) -> Vec<&Ast> {
    match e {
        Ast::Aggregate(a) => {
            let mut v: Vec<&Ast> = a.param.iter().map(|p| p.as_ref()).collect();
            v.push(&a.expr);
            v
        }
        Ast::Unary(u) => vec![&u.expr],
        Ast::Binary(b) => vec![&b.lhs, &b.rhs],
        Ast::Paren(p) => vec![&p.expr],
        Ast::Subquery(s) => vec![&s.expr],
        Ast::Call(c) => c.args.args.iter().map(|a| a.as_ref()).collect(),
        Ast::NumberLiteral(_)
        | Ast::StringLiteral(_)
        | Ast::VectorSelector(_)
        | Ast::MatrixSelector(_)
        | Ast::Extension(_) => Vec::new(),
    }
}

/// The depth of the syntax tree, computed without recursion.
fn depth(e: &Ast) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        if d > MAX_DEPTH {
            break;
        }
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    max
}

/// Rejects every construct outside the subset (the tree is known to be shallow).
fn check(e: &Ast) -> Result<(), PromqlError> {
    let unsupported = |m: String| Err(PromqlError::Unsupported(m));
    match e {
        Ast::Subquery(_) => return unsupported("subqueries are not supported".into()),
        Ast::Extension(_) => {
            return unsupported("extension expressions are not supported".into());
        }
        Ast::Aggregate(a) => {
            let op = a.op.to_string();
            if !AGGREGATIONS.contains(&op.as_str()) {
                return unsupported(format!("aggregation `{op}` is not supported"));
            }
        }
        Ast::Call(c) => {
            let name = c.func.name;
            if !RANGE_FUNCTIONS.contains(&name) && !OTHER_FUNCTIONS.contains(&name) {
                return unsupported(format!("function `{name}` is not supported"));
            }
            if c.args
                .args
                .iter()
                .any(|a| matches!(unparen(a), Ast::Subquery(_)))
            {
                return unsupported("subqueries are not supported".into());
            }
            if RANGE_FUNCTIONS.contains(&name) {
                let matrix_args = c
                    .args
                    .args
                    .iter()
                    .filter(|a| matches!(unparen(a), Ast::MatrixSelector(_)))
                    .count();
                if matrix_args != 1 {
                    return unsupported(format!(
                        "function `{name}` is only supported over a range selector such as `metric[5m]`"
                    ));
                }
            }
        }
        Ast::Binary(b) => {
            let op = b.op.to_string();
            if !BINARY_OPS.contains(&op.as_str()) {
                return unsupported(format!("binary operator `{op}` is not supported"));
            }
            if let Some(m) = &b.modifier {
                if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
                    return unsupported(
                        "`fill` modifiers of binary operators are not supported".into(),
                    );
                }
            }
        }
        Ast::NumberLiteral(_)
        | Ast::StringLiteral(_)
        | Ast::VectorSelector(_)
        | Ast::MatrixSelector(_)
        | Ast::Paren(_)
        | Ast::Unary(_) => {}
    }
    for c in children(e) {
        check(c)?;
    }
    Ok(())
}

/// `e` without enclosing parentheses.
pub(crate) fn unparen(e: &Ast) -> &Ast {
    let mut e = e;
    while let Ast::Paren(p) = e {
        e = &p.expr;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_of_system_md_parses() {
        for rule in [
            "rate(mcp_generation_errors_total[5m]) > 0.1",
            "histogram_quantile(0.95, sum(rate(mcp_generation_duration_seconds_bucket[15m])) by (le)) > 300",
            "sum(rate(mcp_generation_total[1h])) == 0",
            r#"sum(rate(mcp_api_requests_total{status_code=~"5.."}[5m])) / sum(rate(mcp_api_requests_total[5m])) > 0.05"#,
            "histogram_quantile(0.95, sum(rate(mcp_api_latency_seconds_bucket[5m])) by (le)) > 2",
            "mcp_process_resident_memory_bytes / 1024 / 1024 / 1024 > 1.5",
            "rate(mcp_process_cpu_seconds_total[5m]) > 0.8",
            "changes(mcp_process_start_time_seconds[15m]) > 0",
            "sum(mcp_generation_errors_total) by (error_type)",
        ] {
            parse(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
        }
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let msg = |s: &str| parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("predict_linear(x[5m], 3600)"),
            "function `predict_linear` is not supported"
        );
        assert_eq!(
            msg("max_over_time(rate(x[1m])[5m:])"),
            "subqueries are not supported"
        );
        assert_eq!(
            msg(r#"count_values("v", x)"#),
            "aggregation `count_values` is not supported"
        );
        assert!(matches!(parse("rate(x"), Err(PromqlError::Parse(_))));
    }

    #[test]
    fn hostile_input_is_rejected_without_panicking() {
        assert!(parse(&"(".repeat(10_000)).is_err());
        assert!(parse(&"1+".repeat(5_000)).is_err());
        let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        assert!(parse(&deep).is_err());
    }
}

/// What an expression reads from storage: its selectors as PromQL text (`name{matchers}`,
/// without range or offset) and how far back it looks from an evaluation (the longest range
/// or subquery plus offset; plain selectors look back 5m). For collecting the series a rule
/// needs; any valid PromQL is accepted, not only the subset this engine evaluates.
pub fn reads(text: &str) -> Result<(Vec<String>, Millis), String> {
    let ast = catch_unwind(AssertUnwindSafe(|| pp::parse(text)))
        .map_err(|_| "the PromQL parser failed on it".to_owned())??;
    const LOOKBACK: Millis = 5 * 60_000;
    let ms = |d: std::time::Duration| d.as_millis() as Millis;
    let offset = |o: &Option<pp::Offset>| match o {
        Some(pp::Offset::Pos(d)) => ms(*d),
        _ => 0,
    };
    let mut selectors = Vec::new();
    let mut back: Millis = 0;
    // (node, look-back accumulated by enclosing subqueries)
    let mut stack = vec![(&ast, 0 as Millis)];
    while let Some((e, outer)) = stack.pop() {
        match e {
            Ast::VectorSelector(vs) => {
                back = back.max(outer + offset(&vs.offset) + LOOKBACK);
                selectors.push(selector_text(vs));
            }
            Ast::MatrixSelector(m) => {
                back = back.max(outer + offset(&m.vs.offset) + ms(m.range));
                selectors.push(selector_text(&m.vs));
            }
            Ast::Subquery(s) => {
                let inner = outer + ms(s.range) + offset(&s.offset);
                stack.push((&s.expr, inner));
            }
            other => stack.extend(children(other).into_iter().map(|c| (c, outer))),
        }
    }
    selectors.sort();
    selectors.dedup();
    Ok((selectors, back))
}

/// `name{a="b",c=~"d"}` of a selector, without range, offset or `@`.
fn selector_text(vs: &VectorSelector) -> String {
    let mut matchers: Vec<String> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| !(m.name == "__name__" && vs.name.is_some()))
        .map(|m| {
            let op = m.op.to_string();
            format!(
                "{}{}{}",
                m.name,
                op,
                serde_json::to_string(&m.value).unwrap_or_default()
            )
        })
        .collect();
    matchers.sort();
    match &vs.name {
        Some(n) if matchers.is_empty() => n.clone(),
        Some(n) => format!("{n}{{{}}}", matchers.join(",")),
        None => format!("{{{}}}", matchers.join(",")),
    }
}

#[cfg(test)]
mod rate_rule_tests {
    #[test]
    fn the_runbooks_shape_and_others() {
        let r = super::parse("rate(mcp_generation_errors_total[5m]) > 0.1")
            .unwrap()
            .rate_rule()
            .unwrap();
        assert_eq!(
            (
                r.selector.as_str(),
                r.window_ms,
                r.summed,
                r.op.as_str(),
                r.threshold
            ),
            ("mcp_generation_errors_total", 300_000, false, ">", 0.1)
        );
        let r = super::parse("0.5 <= sum(rate(x_total{job=\"a\"}[2m]))")
            .unwrap()
            .rate_rule()
            .unwrap();
        assert_eq!(
            (r.selector.as_str(), r.summed, r.op.as_str()),
            ("x_total{job=\"a\"}", true, ">=")
        );
        for other in [
            "sum by (pod) (rate(x[5m])) > 1",
            "rate(x[5m] offset 1m) > 1",
            "increase(x[5m]) > 1",
            "rate(x[5m]) > bool 1",
            "histogram_quantile(0.9, rate(x[5m])) > 1",
        ] {
            assert!(
                super::parse(other).unwrap().rate_rule().is_none(),
                "{other}"
            );
        }
    }
}

#[cfg(test)]
mod reads_tests {
    #[test]
    fn selectors_and_lookback() {
        let (s, back) = super::reads(
            "sum(rate(mcp_api_requests_total{status_code=~\"5..\"}[5m])) / sum(rate(mcp_api_requests_total[5m])) > 0.05",
        )
        .unwrap();
        assert_eq!(
            s,
            vec![
                "mcp_api_requests_total".to_owned(),
                "mcp_api_requests_total{status_code=~\"5..\"}".to_owned()
            ]
        );
        assert_eq!(back, 300_000);
        let (_, back) = super::reads("max_over_time(rate(x[1m])[1h:1m] offset 10m)").unwrap();
        assert_eq!(back, 3_600_000 + 600_000 + 60_000);
        assert!(super::reads("rate(").is_err());
    }
}
