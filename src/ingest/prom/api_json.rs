//! Prometheus HTTP API responses: `/api/v1/query_range` (matrix) and `/api/v1/query`
//! (vector, scalar, or a matrix when the query is a range selector such as `metric[3h]`),
//! bare, inside HolmesGPT's envelope (`{"status","tool_name","query","start","end","step",
//! "data":{...}}`, possibly after its metadata lines or `stdout:` markers), or cut down to
//! `data` or `data.result`. Owns telling re-sampled `query_range` output (every sample of every
//! series on one grid `t0 + k*step`) from raw scrapes (jittered, ms-precise, no common grid),
//! value strings (`"NaN"`, `"+Inf"`, `"-Inf"`), `warnings`/`infos`, native histograms (skipped),
//! and `"status":"error"` / truncated files (the whole file unusable).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::collect::Collector;
use super::lexer::{parse_seconds, parse_value, seconds_f64_to_ms};
use super::lines::{is_marker, Ctx, Marker};
use super::{Dump, DumpError, DumpKind, SkipWhy};
use crate::model::labels;
use crate::model::labels::Labels;
use crate::model::metrics::Resolution;
use crate::model::time::{format_duration, format_short, parse_prom_duration_or_seconds};
use crate::model::Millis;

/// Whether a head that starts with `{` or `[` is a Prometheus API response (and not, say,
/// JSON logs or Kubernetes objects).
pub(crate) fn sniff(body: &str) -> bool {
    let mut end = body.len().min(16 * 1024);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let w = &body[..end];
    w.contains("\"resultType\"")
        || (w.contains("\"errorType\"") && w.contains("\"status\""))
        || w.contains("\"execute_prometheus_")
        || (w.contains("\"metric\"") && (w.contains("\"values\"") || w.contains("\"value\"")))
}

#[derive(Deserialize, Default)]
struct Level<'a> {
    #[serde(default)]
    status: Option<Value>,
    #[serde(rename = "errorType", default)]
    error_type: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    error_message: Option<Value>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    warnings: Option<Vec<Value>>,
    #[serde(default)]
    infos: Option<Vec<Value>>,
    #[serde(default)]
    query: Option<Value>,
    #[serde(default)]
    start: Option<Value>,
    #[serde(default)]
    end: Option<Value>,
    #[serde(default)]
    step: Option<Value>,
    #[serde(default)]
    tool_name: Option<Value>,
    #[serde(rename = "resultType", default)]
    result_type: Option<Value>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    toolset_name: Option<Value>,
    #[serde(default)]
    schema_version: Option<Value>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default)]
    metric: Option<BTreeMap<String, Value>>,
    #[serde(borrow, default)]
    values: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(borrow, default)]
    histograms: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    histogram: Option<&'a RawValue>,
}

/// What the envelope (HolmesGPT's, or a saved request) says about the query.
#[derive(Default)]
struct Envelope {
    query: Option<String>,
    start: Option<Millis>,
    end: Option<Millis>,
    step_ms: Option<Millis>,
    tool: Option<String>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A time as an envelope or the API writes it: seconds (number or string) or RFC 3339.
fn time_of(v: &Value) -> Option<Millis> {
    match v {
        Value::Number(n) => parse_seconds(&n.to_string()),
        Value::String(s) => parse_seconds(s).or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.timestamp_millis())
        }),
        _ => None,
    }
}

/// A positive step or range as the API and queries write it: a Prometheus duration (`1h30m`,
/// `15s`, `500ms`) or a number of seconds.
fn positive_duration(s: &str) -> Option<Millis> {
    parse_prom_duration_or_seconds(s).filter(|&ms| ms > 0)
}

fn duration_of(v: &Value) -> Option<Millis> {
    match v {
        Value::Number(n) => parse_seconds(&n.to_string()).filter(|&ms| ms > 0),
        Value::String(s) => positive_duration(s),
        _ => None,
    }
}

/// What the query's outer shape says: `x[3h]` (a range selector: raw samples) or
/// `expr[1h:1m]` (a subquery: re-sampled at its step).
#[derive(Debug, PartialEq)]
enum QueryShape {
    RangeSelector,
    Subquery(Option<Millis>),
    Other,
}

fn query_shape(q: &str) -> QueryShape {
    let q = q.trim();
    let Some(close) = q.rfind(']') else {
        return QueryShape::Other;
    };
    // After the bracket only `offset ...` or `@ ...` modifiers may follow.
    let tail = q[close + 1..].trim();
    if !(tail.is_empty() || tail.starts_with("offset") || tail.starts_with('@')) {
        return QueryShape::Other;
    }
    let Some(open) = q[..close].rfind('[') else {
        return QueryShape::Other;
    };
    // The bracket must be at the top level, not inside a function call.
    let mut depth = 0i32;
    let mut in_str: Option<char> = None;
    for ch in q[..open].chars() {
        match (in_str, ch) {
            (Some(c), x) if x == c => in_str = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => in_str = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            _ => {}
        }
    }
    if depth != 0 {
        return QueryShape::Other;
    }
    let inside = &q[open + 1..close];
    match inside.split_once(':') {
        Some((_, step)) => QueryShape::Subquery(positive_duration(step)),
        None => QueryShape::RangeSelector,
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Greatest common divisor of every timestamp's distance to the first one, over all
/// series, and the number of distinct timestamps.
fn grid_of(col: &Collector) -> (i64, usize, Option<Millis>) {
    let mut all: Vec<Millis> = col.times().flatten().collect();
    all.sort_unstable();
    all.dedup();
    let t0 = all.first().copied();
    let g = all.iter().fold(0, |g, &t| gcd(g, t - t0.unwrap_or(0)));
    (g, all.len(), t0)
}

/// Parses one `[time, "value"]` pair.
fn pair(raw: &RawValue) -> Result<(Millis, f64), String> {
    let v: Vec<Value> = serde_json::from_str(raw.get())
        .map_err(|_| format!("not a [time, value] pair: {}", short(raw.get())))?;
    let [t, x] = v.as_slice() else {
        return Err(format!("not a [time, value] pair: {}", short(raw.get())));
    };
    let t = match t {
        Value::Number(n) => {
            parse_seconds(&n.to_string()).or_else(|| n.as_f64().and_then(seconds_f64_to_ms))
        }
        Value::String(s) => parse_seconds(s),
        _ => None,
    }
    .ok_or_else(|| format!("time {t} is not a number of seconds"))?;
    let x = match x {
        Value::String(s) => parse_value(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .ok_or_else(|| format!("value {x} is not a number"))?;
    Ok((t, x))
}

fn short(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

pub(crate) fn parse(text: &str) -> Result<Dump, DumpError> {
    let mut ctx = Ctx::new(text);
    // The JSON values of the file, in order. Lines between them that start no JSON value
    // (`stdout:` markers, text before the response) are a tool's wrapper.
    let mut values: Vec<&RawValue> = Vec::new();
    let mut rest_at = text.len();
    let mut rest_is_truncated = false;
    let mut pos = 0usize;
    let mut first_line = None;
    loop {
        let mut start = None;
        let mut wrapper_spans = Vec::new();
        for (span, line) in ctx.lines().filter(|(s, _)| s.0 >= pos) {
            let t = line.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                start = Some(span.0 + (line.len() - t.len()));
                break;
            }
            if !t.is_empty() {
                wrapper_spans.push(span);
            }
        }
        let Some(start) = start else {
            if values.is_empty() {
                return Err(DumpError::new(
                    "no JSON object or array found: not a Prometheus API response",
                    None,
                ));
            }
            // Lines after the last value are looked at below.
            rest_at = rest_at.min(pos);
            break;
        };
        for s in wrapper_spans {
            ctx.skip(s, SkipWhy::Wrapper);
        }
        first_line.get_or_insert(ctx.line_of(start));
        let seg_line = ctx.line_of(start);
        let mut stream =
            serde_json::Deserializer::from_str(&text[start..]).into_iter::<&RawValue>();
        let before = values.len();
        let mut stop = true;
        loop {
            match stream.next() {
                None => {
                    rest_at = text.len();
                    break;
                }
                Some(Ok(v)) => values.push(v),
                Some(Err(e)) => {
                    let line = seg_line + e.line() as u64 - 1;
                    let have_payload = values.iter().any(|v| is_payload(v));
                    if have_payload {
                        rest_at = start + stream.byte_offset();
                        rest_is_truncated = e.is_eof();
                    } else if e.is_eof() {
                        return Err(DumpError::new(
                            format!(
                                "truncated JSON: the file ends in the middle of the response \
                                 ({e}); re-export it"
                            ),
                            Some(line),
                        ));
                    } else if values.len() == before {
                        return Err(DumpError::new(format!("invalid JSON: {e}"), Some(line)));
                    } else {
                        // Metadata lines, then a wrapper line: go on after it.
                        pos = start + stream.byte_offset();
                        stop = false;
                    }
                    break;
                }
            }
        }
        if stop {
            break;
        }
    }
    let first_line = first_line.unwrap_or(1);
    // After the JSON: HolmesGPT's `stderr:` marker and what follows it, or junk.
    let mut junk_line = None;
    let mut in_stderr = false;
    let tail_lines: Vec<_> = ctx.lines().filter(|(s, _)| s.1 > rest_at).collect();
    for (span, line) in tail_lines {
        let span = (span.0.max(rest_at), span.1);
        if line.trim().is_empty() {
            continue;
        }
        if in_stderr || is_marker(line) == Some(Marker::Stderr) {
            in_stderr = true;
            ctx.skip(span, SkipWhy::Wrapper);
        } else {
            junk_line.get_or_insert(ctx.line_of(span.0));
            ctx.skip(span, SkipWhy::Malformed);
        }
    }
    if let Some(l) = junk_line {
        ctx.problem(
            Some(l),
            if rest_is_truncated {
                "a second JSON value that is cut short: ignored"
            } else {
                "text after the JSON response: ignored"
            },
        );
    }
    // Pick the response among the values: metadata lines are wrappers.
    let mut payload = None;
    for v in &values {
        let span = span_of(&ctx, v.get());
        if payload.is_none() && is_payload(v) {
            payload = Some(*v);
        } else if is_metadata(v) {
            ctx.skip(span, SkipWhy::Wrapper);
        } else {
            ctx.skip(span, SkipWhy::Malformed);
            ctx.problem_at(
                Some(span.0),
                if payload.is_some() {
                    "another JSON value after the response: not read (one response per file)"
                } else {
                    "a JSON value that is not a Prometheus API response: ignored"
                },
            );
        }
    }
    let Some(payload) = payload else {
        return Err(DumpError::new(
            "no Prometheus API response in this JSON (no resultType, data or result)",
            Some(first_line),
        ));
    };
    read_payload(ctx, payload)
}

fn span_of(ctx: &Ctx<'_>, part: &str) -> (usize, usize) {
    let s = ctx.offset_of(part).unwrap_or(0);
    (s, s + part.len())
}

fn level_of<'a>(raw: &'a RawValue) -> Option<Level<'a>> {
    if raw.get().starts_with('{') {
        serde_json::from_str::<Level<'a>>(raw.get()).ok()
    } else {
        None
    }
}

fn is_metadata(raw: &RawValue) -> bool {
    level_of(raw).is_some_and(|l| l.toolset_name.is_some() || l.schema_version.is_some())
}

fn is_payload(raw: &RawValue) -> bool {
    let g = raw.get();
    if g.starts_with('[') {
        return true;
    }
    match level_of(raw) {
        Some(l) if l.toolset_name.is_none() && l.schema_version.is_none() => {
            l.data.is_some()
                || l.result_type.is_some()
                || l.result.is_some()
                || l.error_type.is_some()
                || l.status.is_some()
        }
        _ => false,
    }
}

/// Unwraps the response down to its result: the envelope's query, range and step gathered on
/// the way, the warnings kept, a failed query refused. Returns the envelope, the result type
/// (when given) and the result.
fn unwrap_levels<'p>(
    ctx: &mut Ctx<'_>,
    payload: &'p RawValue,
) -> Result<(Envelope, Option<String>, &'p RawValue), DumpError> {
    let mut env = Envelope::default();
    let mut level_raw = payload;
    for _depth in 0..4 {
        if level_raw.get().starts_with('[') {
            return Ok((env, None, level_raw));
        }
        let at = Some(ctx.line_of(span_of(ctx, level_raw.get()).0));
        let level: Level = serde_json::from_str(level_raw.get())
            .map_err(|e| DumpError::new(format!("not a Prometheus API response: {e}"), at))?;
        let status = level.status.as_ref().map(text_of);
        if status.as_deref() == Some("error") || level.error_type.is_some() {
            let kind = level.error_type.as_ref().map(text_of);
            let msg = level
                .error
                .as_ref()
                .or(level.error_message.as_ref())
                .filter(|v| !v.is_null())
                .map(text_of)
                .unwrap_or_else(|| "no error text".to_owned());
            return Err(DumpError::new(
                format!(
                    "the query failed: Prometheus answered \"status\":\"error\"{}: {msg}",
                    kind.map(|k| format!(" ({k})")).unwrap_or_default()
                ),
                at,
            ));
        }
        for w in level.warnings.iter().flatten() {
            ctx.warnings.push(text_of(w));
        }
        for w in level.infos.iter().flatten() {
            ctx.warnings.push(format!("info: {}", text_of(w)));
        }
        if env.query.is_none() {
            env.query = level.query.as_ref().map(text_of);
        }
        if env.tool.is_none() {
            env.tool = level.tool_name.as_ref().map(text_of);
        }
        env.start = env.start.or(level.start.as_ref().and_then(time_of));
        env.end = env.end.or(level.end.as_ref().and_then(time_of));
        env.step_ms = env.step_ms.or(level.step.as_ref().and_then(duration_of));
        if let Some(rt) = &level.result_type {
            return match level.result {
                Some(r) => Ok((env, Some(text_of(rt)), r)),
                None => Err(no_result(ctx, level_raw)),
            };
        }
        match level.data {
            Some(d) => level_raw = d,
            None => {
                return Err(DumpError::new(
                    "a Prometheus API response without data (no resultType or result)",
                    at,
                ))
            }
        }
    }
    Err(no_result(ctx, level_raw))
}

fn no_result(ctx: &Ctx<'_>, at: &RawValue) -> DumpError {
    DumpError::new(
        "a Prometheus API response without a result",
        Some(ctx.line_of(span_of(ctx, at.get()).0)),
    )
}

/// What the result's entries held.
#[derive(Default)]
struct Entries {
    hist_samples: u64,
    hist_series: u64,
    /// Some entry had `values` (a matrix), some `value` (a vector).
    saw_values: bool,
    saw_value: bool,
    bad_items: u64,
}

/// Reads the result's entries (series with their samples) into `col`.
fn read_entries(ctx: &mut Ctx<'_>, col: &mut Collector, items: Vec<&RawValue>) -> Entries {
    let mut seen = Entries::default();
    let sample =
        |ctx: &mut Ctx<'_>, col: &mut Collector, labels: &Labels, name: &str, p: &RawValue| {
            let ps = span_of(ctx, p.get());
            match pair(p) {
                Ok((t, v)) => col.push(labels, t, v, ps),
                Err(why) => {
                    ctx.skip(ps, SkipWhy::Malformed);
                    ctx.problem_at(Some(ps.0), format!("series {name}: sample skipped: {why}"));
                }
            }
        };
    for raw in items {
        let span = span_of(ctx, raw.get());
        let item: Item = match serde_json::from_str(raw.get()) {
            Ok(i) => i,
            Err(e) => {
                seen.bad_items += 1;
                ctx.skip(span, SkipWhy::Malformed);
                ctx.problem_at(
                    Some(span.0),
                    format!("a result entry that cannot be read ({e}): skipped"),
                );
                continue;
            }
        };
        let mut labels = Labels::new();
        for (k, v) in item.metric.unwrap_or_default() {
            labels.insert(k, text_of(&v));
        }
        let name = labels::metric(&labels);
        if let Some(values) = &item.values {
            seen.saw_values = true;
            for p in values {
                sample(ctx, col, &labels, &name, p);
            }
        }
        if let Some(p) = item.value {
            seen.saw_value = true;
            sample(ctx, col, &labels, &name, p);
        }
        let mut hist = 0u64;
        for h in item
            .histograms
            .iter()
            .flatten()
            .copied()
            .chain(item.histogram)
        {
            ctx.skip(span_of(ctx, h.get()), SkipWhy::NativeHistogram);
            hist += 1;
        }
        if hist > 0 {
            seen.hist_series += 1;
            seen.hist_samples += hist;
        }
        if item.values.is_none() && item.value.is_none() && hist == 0 {
            ctx.problem_at(Some(span.0), format!("series {name} has no values"));
        }
    }
    seen
}

fn read_payload(mut ctx: Ctx<'_>, payload: &RawValue) -> Result<Dump, DumpError> {
    let (env, result_type, result) = unwrap_levels(&mut ctx, payload)?;
    let result_line = Some(ctx.line_of(span_of(&ctx, result.get()).0));
    match result_type.as_deref() {
        Some("matrix") | Some("vector") | None => {}
        Some("scalar") => return scalar(ctx, result, env),
        Some("string") => {
            return Err(DumpError::new(
                "the result is a string (resultType \"string\"): it holds no samples",
                result_line,
            ))
        }
        Some(other) => {
            return Err(DumpError::new(
                format!("unknown resultType {other:?}: expected matrix, vector or scalar"),
                result_line,
            ))
        }
    }
    let items: Vec<&RawValue> = serde_json::from_str(result.get()).map_err(|_| {
        DumpError::new(
            "the result is not a list of series (expected [{\"metric\":..., \"values\":...}])",
            result_line,
        )
    })?;
    let mut col = Collector::default();
    let seen = read_entries(&mut ctx, &mut col, items);
    if seen.hist_samples > 0 {
        ctx.notes.push(format!(
            "{} native-histogram sample(s) in {} series skipped: this \
             version reads float samples only (query the _bucket/_sum/_count series instead)",
            seen.hist_samples, seen.hist_series
        ));
    }
    let vector = match result_type.as_deref() {
        Some("vector") => true,
        Some(_) => false,
        None => seen.saw_value && !seen.saw_values,
    };
    let (kind, resolution) = if vector {
        ctx.notes.push(
            "an instant vector: one value per series at the evaluation time (raw)".to_owned(),
        );
        (DumpKind::InstantVector, Resolution::Raw)
    } else {
        decide_matrix(&mut ctx, &col, &env)
    };
    if col.is_empty() && seen.bad_items == 0 {
        ctx.notes
            .push("the result is empty: the query matched no series".to_owned());
    }
    let series = col.finish(&mut ctx, |_| resolution);
    Ok(ctx.finish(series, kind, env.query))
}

fn scalar(mut ctx: Ctx<'_>, result: &RawValue, env: Envelope) -> Result<Dump, DumpError> {
    let mut col = Collector::default();
    let span = span_of(&ctx, result.get());
    match pair(result) {
        Ok((t, v)) => col.push(&Labels::new(), t, v, span),
        Err(why) => {
            ctx.skip(span, SkipWhy::Malformed);
            ctx.problem_at(Some(span.0), format!("scalar skipped: {why}"));
        }
    }
    ctx.notes
        .push("a scalar instant result: one value at the evaluation time".to_owned());
    let series = col.finish(&mut ctx, |_| Resolution::Raw);
    Ok(ctx.finish(series, DumpKind::Scalar, env.query))
}

/// Raw or re-sampled: from the query's shape, else from the timestamps (and the
/// envelope's step), with a note saying why.
fn decide_matrix(ctx: &mut Ctx<'_>, col: &Collector, env: &Envelope) -> (DumpKind, Resolution) {
    let (g, n, t0) = grid_of(col);
    let series = col.times().count();
    let shape = env.query.as_deref().map_or(QueryShape::Other, query_shape);
    let range_tool = env
        .tool
        .as_deref()
        .is_some_and(|t| t.contains("range_query"));
    let resampled = |ctx: &mut Ctx<'_>, step: Millis, why: String| {
        ctx.notes.push(why);
        (
            DumpKind::QueryRange { step_ms: step },
            Resolution::Resampled { step_ms: step },
        )
    };
    if let (Some(t0), Some(start), Some(end)) = (t0, env.start, env.end) {
        let slack = env.step_ms.unwrap_or(0).max(60_000);
        if t0 < start - slack || t0 > end + slack {
            ctx.notes.push(format!(
                "the envelope's range {} .. {} does not match the samples (first at {}): \
                 times are taken from the values",
                format_short(start),
                format_short(end),
                format_short(t0)
            ));
        }
    }
    match shape {
        QueryShape::RangeSelector if !range_tool => {
            ctx.notes.push(format!(
                "the query ends in a range selector ({}): raw scraped samples",
                env.query.as_deref().unwrap_or("")
            ));
            return (DumpKind::RangeSelector, Resolution::Raw);
        }
        QueryShape::Subquery(step) if !range_tool => {
            let step = step.or((g > 0).then_some(g)).unwrap_or(60_000);
            return resampled(
                ctx,
                step,
                format!(
                    "the query is a subquery: values re-sampled every {}",
                    format_duration(step)
                ),
            );
        }
        _ => {}
    }
    if n == 0 {
        // Nothing to judge: go by the envelope (no note; the result is empty).
        return match env.step_ms {
            Some(step) => (
                DumpKind::QueryRange { step_ms: step },
                Resolution::Resampled { step_ms: step },
            ),
            None => (DumpKind::RangeSelector, Resolution::Raw),
        };
    }
    if n == 1 {
        if let Some(step) = env.step_ms {
            return resampled(
                ctx,
                step,
                format!(
                    "a single timestamp; the envelope gives step {}: read as query_range output",
                    format_duration(step)
                ),
            );
        }
        ctx.notes.push(
            "a single timestamp and no step: raw or re-sampled cannot be told; read as raw"
                .to_owned(),
        );
        return (DumpKind::RangeSelector, Resolution::Raw);
    }
    if let Some(step) = env.step_ms {
        if g % step == 0 {
            return resampled(
                ctx,
                step,
                format!(
                    "all {n} timestamps of the {series} series lie on one grid every {} (the \
                     envelope's step): query_range output, re-sampled",
                    format_duration(step)
                ),
            );
        }
        if g >= 1000 && g % 1000 == 0 {
            return resampled(
                ctx,
                g,
                format!(
                    "the envelope says step {} but all {n} timestamps lie on a grid every {}: \
                     query_range output re-sampled every {}",
                    format_duration(step),
                    format_duration(g),
                    format_duration(g)
                ),
            );
        }
        ctx.notes.push(format!(
            "the envelope says step {} but the {n} timestamps share no grid (they differ by \
             multiples of {g} ms only): read as raw scraped samples",
            format_duration(step)
        ));
        return (DumpKind::RangeSelector, Resolution::Raw);
    }
    if g >= 1000 && g % 1000 == 0 {
        return resampled(
            ctx,
            g,
            format!(
                "all {n} timestamps of the {series} series lie on one grid every {}: \
                 query_range output, re-sampled",
                format_duration(g)
            ),
        );
    }
    ctx.notes.push(format!(
        "the {n} timestamps of the {series} series share no grid (jittered scrape times, \
         common divisor {g} ms): raw scraped samples, as from a range-selector query"
    ));
    (DumpKind::RangeSelector, Resolution::Raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            query_shape("mcp_generation_errors_total[3h]"),
            QueryShape::RangeSelector
        );
        assert_eq!(
            query_shape("mcp_generation_errors_total{pod=~\"a]\"}[3h] offset 5m"),
            QueryShape::RangeSelector
        );
        assert_eq!(query_shape("rate(x[5m])"), QueryShape::Other);
        assert_eq!(
            query_shape("sum(rate(x[5m]))[1h:30s]"),
            QueryShape::Subquery(Some(30_000))
        );
        assert_eq!(query_shape("x[1h:]"), QueryShape::Subquery(None));
        assert_eq!(query_shape("up"), QueryShape::Other);
    }

    #[test]
    fn durations() {
        assert_eq!(positive_duration("1h30m"), Some(5_400_000));
        assert_eq!(positive_duration("15"), Some(15_000));
        assert_eq!(positive_duration("15.0"), Some(15_000));
        assert_eq!(positive_duration("250ms"), Some(250));
        assert_eq!(positive_duration("x"), None);
    }
}
