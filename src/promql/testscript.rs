//! A runner for Prometheus' PromQL test scripts (`promql/testdata/*.test` in 2.x,
//! `promql/promqltest/testdata/*.test` in 3.x), through the same evaluator as
//! `postmortem query`.
//!
//! Supported directives: `load <interval>` (series in expanding notation: `1+2x3`, `_`, `_x3`,
//! `stale`, `Inf`, `NaN`), `clear`, `eval instant at <time> <expr>`, `eval range from <t> to
//! <t> step <d> <expr>`, the `eval_fail` / `eval_ordered` / `eval_warn` / `eval_info` forms and
//! the 3.x `expect fail|ordered|warn|info|no_warn|no_info` lines. Expected values are compared
//! with the scripts' relative tolerance (1e-6). As Prometheus' own runner does, an instant
//! case is also evaluated as a range query from `t - 1m` to `t + 1m` step `1m`, and its middle
//! step must give the same result.
//!
//! A case is [`Outcome::Unsupported`] when its expression is outside the subset (the message
//! names the construct), when the parser cannot read it, or when it touches native-histogram
//! samples (`{{...}}`), which the evaluator does not model. Warning and info annotations are
//! not produced: `expect warn`/`expect info` are counted in
//! [`ScriptReport::annotations_unchecked`], the values are still compared.

use std::collections::BTreeMap;
use std::fmt;

use super::eval::selector_matches;
use super::format::go_float;
use super::{parse, Engine, PromCompat, PromqlError, Storage, Value};
use crate::model::labels::{self, Labels};
use crate::model::metrics::{stale_nan, MetricSeries, Resolution, Sample};
use crate::model::time::parse_prom_duration_or_seconds;

/// What became of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// Outside the subset; the construct is named.
    Unsupported(String),
}

/// One `eval` of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// 1-based line of the `eval` directive.
    pub line: usize,
    pub expr: String,
    pub outcome: Outcome,
}

/// The result of a script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptReport {
    pub cases: Vec<Case>,
    /// Lines that could not be read (line, why).
    pub setup_errors: Vec<(usize, String)>,
    /// Passing cases whose `expect warn`/`expect info` annotation could not be checked.
    pub annotations_unchecked: usize,
}

impl ScriptReport {
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    pub fn unsupported(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unsupported(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }
}

impl fmt::Display for ScriptReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} passed, {} failed, {} unsupported ({} cases; {} annotation expectations not checked)",
            self.passed(),
            self.failed(),
            self.unsupported(),
            self.cases.len(),
            self.annotations_unchecked
        )?;
        for c in &self.cases {
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Fail(why) => writeln!(f, "  FAIL line {}: {}: {why}", c.line, c.expr)?,
                Outcome::Unsupported(why) => {
                    writeln!(f, "  unsupported line {}: {}: {why}", c.line, c.expr)?
                }
            }
        }
        for (line, why) in &self.setup_errors {
            writeln!(f, "  setup error line {line}: {why}")?;
        }
        Ok(())
    }
}

/// The scripts' float comparison (`almost.Equal` with epsilon 1e-6).
fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 0.000001;
    let min_normal = f64::from_bits(0x0010_0000_0000_0000);
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < EPSILON * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

/// A value of a series description: a float, a staleness marker, or nothing at that step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    Value(f64),
    Stale,
    Omitted,
}

/// Go's `parseNumber`: an integer (decimal, `0x`, `0o`, `0b`) or a float, `Inf`, `NaN`.
fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let radix_int = |prefix: &str, radix: u32| {
        body.strip_prefix(prefix)
            .or_else(|| body.strip_prefix(&prefix.to_uppercase()))
            .and_then(|d| i64::from_str_radix(d, radix).ok())
    };
    if let Some(i) = radix_int("0x", 16)
        .or_else(|| radix_int("0o", 8))
        .or_else(|| radix_int("0b", 2))
    {
        let v = i as f64;
        return Some(if neg { -v } else { v });
    }
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity") {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'))
    {
        return None;
    }
    body.replace('_', "")
        .parse::<f64>()
        .ok()
        .map(|v| if neg { -v } else { v })
}

/// One item of a series description (`1`, `1+2x3`, `1x3`, `_`, `_x3`, `stale`).
fn parse_item(tok: &str) -> Result<Vec<Point>, String> {
    let bad = || format!("invalid series value {tok:?}");
    if tok == "_" {
        return Ok(vec![Point::Omitted]);
    }
    if tok == "stale" {
        return Ok(vec![Point::Stale]);
    }
    if let Some(v) = parse_number(tok) {
        return Ok(vec![Point::Value(v)]);
    }
    let (base, times) = tok.rsplit_once('x').ok_or_else(bad)?;
    let times: usize = times.parse().map_err(|_| bad())?;
    if times > 1_000_000 {
        return Err(bad());
    }
    if base == "_" {
        return Ok(vec![Point::Omitted; times]);
    }
    if base == "stale" {
        return Ok(vec![Point::Stale; times + 1]);
    }
    if let Some(v) = parse_number(base) {
        return Ok(vec![Point::Value(v); times + 1]);
    }
    // `a+b` or `a-b`: the sign that is neither leading nor part of an exponent.
    let bytes = base.as_bytes();
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'))
        .ok_or_else(bad)?;
    let start = parse_number(&base[..split]).ok_or_else(bad)?;
    let step = parse_number(&base[split..]).ok_or_else(bad)?;
    let mut v = start;
    let mut out = Vec::with_capacity(times + 1);
    for _ in 0..=times {
        out.push(Point::Value(v));
        v += step;
    }
    Ok(out)
}

/// A quoted string at the start of `s` (`"..."` with Go escapes, `'...'`, or a backquoted raw
/// string); returns the value and the rest.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let q = match chars.next() {
        Some((_, c @ ('"' | '\'' | '`'))) => c,
        _ => return Err(format!("expected a quoted string at {s:?}")),
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Ok((out, &s[i + c.len_utf8()..]));
        }
        if c == '\\' && q != '`' {
            let (_, e) = chars.next().ok_or("unterminated escape")?;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = (0..len).filter_map(|_| chars.next().map(|p| p.1)).collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|_| "bad escape")?;
                    out.push(char::from_u32(code).ok_or("bad escape")?);
                }
                other => out.push(other),
            }
        } else {
            out.push(c);
        }
    }
    Err(format!("unterminated string in {s:?}"))
}

/// A series description: `name{a="1", b="2"} values...` (name or braces may be absent);
/// returns the labels and the text of the values.
fn parse_series_line(line: &str) -> Result<(Labels, &str), String> {
    let s = line.trim();
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    let mut labels = Labels::new();
    if name_end > 0 {
        labels.insert("__name__".into(), s[..name_end].to_string());
    }
    let mut rest = &s[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        rest = r.trim_start();
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let (name, r) = if rest.starts_with(['"', '\'', '`']) {
                quoted(rest)?
            } else {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if end == 0 {
                    return Err(format!("invalid label name in {line:?}"));
                }
                (rest[..end].to_string(), &rest[end..])
            };
            let r = r
                .trim_start()
                .strip_prefix('=')
                .ok_or_else(|| format!("expected `=` in {line:?}"))?;
            let (value, r) = quoted(r.trim_start())?;
            if !value.is_empty() {
                labels.insert(name, value);
            }
            rest = r.trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            }
        }
    } else if name_end == 0 {
        return Err(format!("invalid series {line:?}"));
    }
    Ok((labels, rest.trim()))
}

/// A series description's values as promtool expands them (`None` for `_` and `stale`).
pub fn expand_values(text: &str) -> Result<Vec<Option<f64>>, String> {
    let points = parse_values(text)?.ok_or("native histograms are not read")?;
    Ok(points
        .into_iter()
        .map(|p| match p {
            Point::Value(v) => Some(v),
            Point::Stale | Point::Omitted => None,
        })
        .collect())
}

/// The values of a series description, or `None` if it holds native histograms.
fn parse_values(text: &str) -> Result<Option<Vec<Point>>, String> {
    if text.contains("{{") {
        return Ok(None);
    }
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        out.extend(parse_item(tok)?);
    }
    Ok(Some(out))
}

/// The data loaded so far.
#[derive(Default)]
struct Data {
    series: BTreeMap<Labels, Vec<Sample>>,
    /// Series with native-histogram samples (not loaded).
    histograms: Vec<Labels>,
    storage: Option<Storage>,
}

impl Data {
    fn storage(&mut self) -> &Storage {
        let series = &self.series;
        self.storage.get_or_insert_with(|| {
            Storage::new(
                series
                    .iter()
                    .map(|(l, s)| MetricSeries {
                        labels: l.clone(),
                        samples: s.clone(),
                        resolution: Resolution::Raw,
                    })
                    .collect(),
            )
        })
    }
}

/// What an `eval` expects.
#[derive(Default)]
struct Expectation {
    fail: bool,
    fail_msg: Option<String>,
    ordered: bool,
    annotations: bool,
    histograms: bool,
    scalar: Option<f64>,
    /// Expected series and their values (one for instant cases).
    series: Vec<(Labels, Vec<Point>)>,
}

enum Mode {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

/// Runs a script with the given semantics.
pub fn run(script: &str, compat: PromCompat) -> ScriptReport {
    let engine = Engine::new(compat);
    let lines: Vec<&str> = script.lines().collect();
    let mut report = ScriptReport::default();
    let mut data = Data::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let line_no = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The indented lines of this directive's block.
        let block_start = i;
        while i < lines.len() && !lines[i].trim().is_empty() && lines[i].starts_with([' ', '\t']) {
            i += 1;
        }
        let block: Vec<(usize, &str)> = (block_start..i)
            .map(|j| (j + 1, lines[j].trim()))
            .filter(|(_, l)| !l.starts_with('#') || *l == "#empty")
            .collect();
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match cmd {
            "clear" => data = Data::default(),
            "load" => load(&mut data, rest.trim(), &block, &mut report),
            "eval" | "eval_fail" | "eval_ordered" | "eval_warn" | "eval_info" => {
                let case = eval_case(&engine, &mut data, cmd, rest.trim(), &block, line_no);
                if case.1 && case.0.outcome == Outcome::Pass {
                    report.annotations_unchecked += 1;
                }
                report.cases.push(case.0);
            }
            other => report
                .setup_errors
                .push((line_no, format!("unknown directive {other:?}"))),
        }
    }
    report
}

/// A duration or time offset as the scripts write them (`5m`, `1h30m`, or seconds).
fn duration(s: &str) -> Result<i64, String> {
    parse_prom_duration_or_seconds(s).ok_or_else(|| format!("invalid duration {s:?}"))
}

fn load(data: &mut Data, interval: &str, block: &[(usize, &str)], report: &mut ScriptReport) {
    let interval = match duration(interval) {
        Ok(d) => d,
        Err(e) => {
            report
                .setup_errors
                .push((block.first().map_or(0, |b| b.0), e));
            return;
        }
    };
    data.storage = None;
    for &(line_no, line) in block {
        let parsed = parse_series_line(line).and_then(|(l, v)| Ok((l, parse_values(v)?)));
        match parsed {
            Ok((labels, None)) => data.histograms.push(labels),
            Ok((labels, Some(points))) => {
                let samples = data.series.entry(labels).or_default();
                for (k, p) in points.into_iter().enumerate() {
                    let t_ms = (k as i64).saturating_mul(interval);
                    match p {
                        Point::Value(v) => samples.push(Sample { t_ms, v }),
                        Point::Stale => samples.push(Sample {
                            t_ms,
                            v: stale_nan(),
                        }),
                        Point::Omitted => {}
                    }
                }
            }
            Err(e) => report.setup_errors.push((line_no, e)),
        }
    }
}

/// Parses and runs one `eval`; the flag tells whether it carried an annotation expectation.
fn eval_case(
    engine: &Engine,
    data: &mut Data,
    cmd: &str,
    rest: &str,
    block: &[(usize, &str)],
    line_no: usize,
) -> (Case, bool) {
    let mut exp = Expectation {
        fail: cmd == "eval_fail",
        ordered: cmd == "eval_ordered",
        annotations: matches!(cmd, "eval_warn" | "eval_info"),
        ..Expectation::default()
    };
    let mut case = Case {
        line: line_no,
        expr: String::new(),
        outcome: Outcome::Pass,
    };
    let (mode, expr) = match parse_eval_head(rest) {
        Ok(v) => v,
        Err(e) => {
            case.expr = rest.to_string();
            case.outcome = Outcome::Fail(format!("cannot read the eval line: {e}"));
            return (case, false);
        }
    };
    case.expr = expr.to_string();
    for &(_, l) in block {
        if let Err(e) = read_expectation(&mut exp, l) {
            case.outcome = Outcome::Fail(format!("cannot read the expectation {l:?}: {e}"));
            return (case, exp.annotations);
        }
    }
    case.outcome = outcome(engine, data, &mode, expr, &exp);
    (case, exp.annotations)
}

fn parse_eval_head(rest: &str) -> Result<(Mode, &str), String> {
    let words = |s: &str, n: usize| -> Option<(Vec<String>, String)> {
        let mut parts = Vec::new();
        let mut r = s.trim_start();
        for _ in 0..n {
            let end = r.find(char::is_whitespace)?;
            parts.push(r[..end].to_string());
            r = r[end..].trim_start();
        }
        Some((parts, r.to_string()))
    };
    let time = duration;
    if let Some(r) = rest.strip_prefix("instant") {
        let (w, _) = words(r, 2).ok_or("expected `instant at <time> <expr>`")?;
        if w[0] != "at" {
            return Err("expected `at`".into());
        }
        let t = time(&w[1])?;
        let expr = skip_words(rest, 3);
        return Ok((Mode::Instant(t), expr));
    }
    if let Some(r) = rest.strip_prefix("range") {
        let (w, _) = words(r, 6).ok_or("expected `range from <t> to <t> step <d> <expr>`")?;
        if w[0] != "from" || w[2] != "to" || w[4] != "step" {
            return Err("expected `range from <t> to <t> step <d>`".into());
        }
        let mode = Mode::Range {
            start: time(&w[1])?,
            end: time(&w[3])?,
            step: time(&w[5])?,
        };
        return Ok((mode, skip_words(rest, 7)));
    }
    Err("expected `instant` or `range`".into())
}

/// `s` after its first `n` whitespace-separated words.
fn skip_words(s: &str, n: usize) -> &str {
    let mut r = s.trim_start();
    for _ in 0..n {
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        r = r[end..].trim_start();
    }
    r.trim_end()
}

fn read_expectation(exp: &mut Expectation, l: &str) -> Result<(), String> {
    if l == "#empty" {
        return Ok(());
    }
    if let Some(r) = l.strip_prefix("expect ") {
        let r = r.trim();
        let (kind, arg) = r.split_once(char::is_whitespace).unwrap_or((r, ""));
        match kind {
            "fail" => {
                exp.fail = true;
                if let Some(m) = arg.trim().strip_prefix("msg:") {
                    exp.fail_msg = Some(m.trim().to_string());
                }
            }
            "ordered" => exp.ordered = true,
            "warn" | "info" => exp.annotations = true,
            "no_warn" | "no_info" => {}
            other => return Err(format!("unknown expectation {other:?}")),
        }
        return Ok(());
    }
    if let Some(v) = parse_number(l) {
        exp.scalar = Some(v);
        return Ok(());
    }
    let (labels, values) = parse_series_line(l)?;
    match parse_values(values)? {
        None => exp.histograms = true,
        Some(points) => exp.series.push((labels, points)),
    }
    Ok(())
}

fn outcome(
    engine: &Engine,
    data: &mut Data,
    mode: &Mode,
    text: &str,
    exp: &Expectation,
) -> Outcome {
    let expr = match parse(text) {
        Ok(e) => e,
        Err(PromqlError::Parse(_)) if exp.fail => return Outcome::Pass,
        Err(PromqlError::Parse(m)) => {
            return Outcome::Unsupported(format!("the PromQL parser rejects it: {m}"))
        }
        Err(PromqlError::Unsupported(m)) => return Outcome::Unsupported(m),
    };
    if exp.histograms {
        return Outcome::Unsupported("native histograms in the expected result".into());
    }
    for vs in expr.selectors() {
        if let Some(h) = data.histograms.iter().find(|l| selector_matches(vs, l)) {
            return Outcome::Unsupported(format!(
                "native histogram samples (series {})",
                labels::metric(h)
            ));
        }
    }
    let st = data.storage();
    let result = match *mode {
        Mode::Instant(t) => engine.instant(st, &expr, t),
        Mode::Range { start, end, step } => {
            engine.range(st, &expr, start, end, step).map(Value::Matrix)
        }
    };
    let value = match (result, exp.fail) {
        (Ok(_), true) => return Outcome::Fail("expected an evaluation error, got a result".into()),
        (Err(e), true) => {
            return match &exp.fail_msg {
                Some(m) if !e.to_string().contains(m.as_str()) => {
                    Outcome::Fail(format!("expected error {m:?}, got {e:?}"))
                }
                _ => Outcome::Pass,
            }
        }
        (Err(e), false) => return Outcome::Fail(format!("evaluation failed: {e}")),
        (Ok(v), false) => v,
    };
    match mode {
        Mode::Range { start, step, .. } => match &value {
            Value::Matrix(m) => match compare_matrix(m, exp, *start, *step) {
                Ok(()) => Outcome::Pass,
                Err(e) => Outcome::Fail(e),
            },
            _ => Outcome::Fail("range evaluation did not give a matrix".into()),
        },
        Mode::Instant(t) => {
            if let Err(e) = compare_instant(&value, exp, exp.ordered) {
                return Outcome::Fail(e);
            }
            // The same query in range mode must agree at the middle step.
            if matches!(value, Value::Vector(_) | Value::Scalar(_)) {
                let (start, end) = (t.saturating_sub(60_000), t.saturating_add(60_000));
                let middle = match engine.range(st, &expr, start, end, 60_000) {
                    Ok(m) => m,
                    Err(e) => return Outcome::Fail(format!("range-mode evaluation failed: {e}")),
                };
                let at_t: Vec<(Labels, f64)> = middle
                    .into_iter()
                    .filter_map(|s| {
                        s.samples
                            .iter()
                            .find(|p| p.t_ms == *t)
                            .map(|p| (s.labels.clone(), p.v))
                    })
                    .collect();
                let again = match value {
                    Value::Scalar(_) => Value::Scalar(at_t.first().map_or(f64::NAN, |p| p.1)),
                    _ => Value::Vector(at_t),
                };
                if let Err(e) = compare_instant(&again, exp, false) {
                    return Outcome::Fail(format!("in range mode: {e}"));
                }
            }
            Outcome::Pass
        }
    }
}

fn compare_instant(v: &Value, exp: &Expectation, ordered: bool) -> Result<(), String> {
    match v {
        Value::Scalar(x) => match exp.scalar {
            Some(e) if almost_equal(e, *x) => Ok(()),
            Some(e) => Err(format!(
                "expected scalar {} but got {}",
                go_float(e),
                go_float(*x)
            )),
            None => Err(format!("expected a vector but got scalar {}", go_float(*x))),
        },
        Value::Vector(v) => {
            if let Some(e) = exp.scalar {
                return Err(format!("expected scalar {} but got a vector", go_float(e)));
            }
            let mut seen = vec![false; exp.series.len()];
            for (pos, (labels, x)) in v.iter().enumerate() {
                let Some(k) = exp.series.iter().position(|(l, _)| l == labels) else {
                    return Err(format!(
                        "unexpected metric {} in result",
                        labels::metric(labels)
                    ));
                };
                if ordered && k != pos {
                    return Err(format!(
                        "expected metric {} at position {} but was at {}",
                        labels::metric(labels),
                        k + 1,
                        pos + 1
                    ));
                }
                let want = match exp.series[k].1.first() {
                    Some(Point::Value(w)) => *w,
                    _ => return Err(format!("no expected value for {}", labels::metric(labels))),
                };
                if !almost_equal(want, *x) {
                    return Err(format!(
                        "expected {} for {} but got {}",
                        go_float(want),
                        labels::metric(labels),
                        go_float(*x)
                    ));
                }
                seen[k] = true;
            }
            if let Some(k) = seen.iter().position(|s| !s) {
                return Err(format!(
                    "expected metric {} not found",
                    labels::metric(&exp.series[k].0)
                ));
            }
            Ok(())
        }
        Value::Matrix(m) => {
            // A range selector queried at an instant: compare the last sample of each series
            // is not what the scripts do; they do not test this in the covered files.
            Err(format!(
                "unexpected range vector result ({} series)",
                m.len()
            ))
        }
        Value::String(s) => Err(format!("unexpected string result {s:?}")),
    }
}

fn compare_matrix(
    m: &[MetricSeries],
    exp: &Expectation,
    start: i64,
    step: i64,
) -> Result<(), String> {
    let mut seen = vec![false; exp.series.len()];
    for s in m {
        let Some(k) = exp.series.iter().position(|(l, _)| *l == s.labels) else {
            return Err(format!(
                "unexpected series {} in result",
                labels::metric(&s.labels)
            ));
        };
        seen[k] = true;
        let want: Vec<(i64, f64)> = exp.series[k]
            .1
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Point::Value(v) => Some((start + i as i64 * step, *v)),
                _ => None,
            })
            .collect();
        let got: Vec<(i64, f64)> = s.samples.iter().map(|p| (p.t_ms, p.v)).collect();
        let same = want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| w.0 == g.0 && almost_equal(w.1, g.1));
        if !same {
            let show = |v: &[(i64, f64)]| {
                v.iter()
                    .map(|(t, x)| format!("{}@{}", go_float(*x), t / 1000))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Err(format!(
                "series {}: expected [{}] but got [{}]",
                labels::metric(&s.labels),
                show(&want),
                show(&got)
            ));
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        let any_value = exp.series[k].1.iter().any(|p| matches!(p, Point::Value(_)));
        if any_value {
            return Err(format!(
                "expected series {} not found",
                labels::metric(&exp.series[k].0)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanding_notation() {
        assert_eq!(
            parse_item("0+10x3").unwrap(),
            vec![
                Point::Value(0.0),
                Point::Value(10.0),
                Point::Value(20.0),
                Point::Value(30.0)
            ]
        );
        assert_eq!(parse_item("8000-10x1").unwrap().len(), 2);
        assert_eq!(parse_item("_x3").unwrap(), vec![Point::Omitted; 3]);
        assert_eq!(parse_item("1x2").unwrap(), vec![Point::Value(1.0); 3]);
        assert_eq!(
            parse_item("9.98846567431158e+307").unwrap(),
            vec![Point::Value(9.98846567431158e+307)]
        );
        assert_eq!(
            parse_item("-Inf").unwrap(),
            vec![Point::Value(f64::NEG_INFINITY)]
        );
        assert!(parse_item("abc").is_err());
    }

    #[test]
    fn series_lines() {
        let (l, v) = parse_series_line(r#"http_requests{path="/foo", dst="a, b"}	1 2"#).unwrap();
        assert_eq!(l.get("__name__").unwrap(), "http_requests");
        assert_eq!(l.get("dst").unwrap(), "a, b");
        assert_eq!(v, "1 2");
        let (l, v) = parse_series_line("{} 3").unwrap();
        assert!(l.is_empty());
        assert_eq!(v, "3");
    }

    #[test]
    fn a_small_script() {
        let script = "load 10s\n  metric 0 1 stale 2\n\neval instant at 10s metric\n  {__name__=\"metric\"} 1\n\neval instant at 20s metric\n\neval instant at 30s count_over_time(metric[1m])\n  {} 3\n\neval instant at 0s predict_linear(metric[1m], 1)\n";
        let r = run(script, PromCompat::V2);
        assert_eq!(r.passed(), 3, "{r}");
        assert_eq!(r.unsupported(), 1, "{r}");
    }
}
