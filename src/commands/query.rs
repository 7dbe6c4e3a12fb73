//! `query`: a PromQL expression evaluated over the metric dumps among the inputs, printed as
//! `promtool query` prints it (or as the Prometheus HTTP API's JSON).

use anyhow::{bail, Result};

use crate::config::QueryConfig;
use crate::ingest::{self, prom, ReadSettings, Record, RecordSink, SinkFactory};
use crate::messages;
use crate::model::{InputKind, Level};
use crate::promql::{self, PromCompat};

/// A sink for runs that read only documents: log records are counted by the reader and
/// otherwise ignored.
struct NoRecords;

impl RecordSink for NoRecords {
    fn wants(&self, _level: Level) -> bool {
        false
    }
    fn record(&mut self, _rec: &Record<'_>) {}
}

impl SinkFactory for NoRecords {
    type Sink = NoRecords;
    fn make(&self, _input: u32, _chunk: usize) -> NoRecords {
        NoRecords
    }
}

/// `postmortem query`: reads the metric dumps among the inputs, evaluates the expression at
/// one instant (`--at`, else the last sample's time) or over a range, and returns the result
/// as `promtool query` prints it, or as the Prometheus API's JSON.
pub fn run(q: &QueryConfig) -> Result<String> {
    let missing = super::analyze::unreadable(&q.inputs);
    if !missing.is_empty() {
        bail!(
            "cannot read {}: no such file or folder, or no permission to read it",
            missing.join(", ")
        );
    }
    let settings = ReadSettings {
        zone: q.zone,
        since: None,
        until: None,
        max_line: 1 << 20,
        max_input_bytes: ingest::source::DEFAULT_MAX_INPUT_BYTES,
        captured_at: q.captured_at,
        only: None,
        wanted: None,
        keep_documents: false,
    };
    let mut dumps = Vec::new();
    let mut files = Vec::new();
    for r in ingest::run(&q.inputs, &settings, &NoRecords) {
        if r.quality.kind == Some(InputKind::PrometheusDump) {
            files.push(r.quality);
        }
        dumps.extend(r.metrics);
    }
    messages::input_problems(&files);
    if dumps.is_empty() {
        bail!(
            "no metric dump among the inputs: give a /api/v1/query_range or /api/v1/query JSON response, a `promtool tsdb dump`, exposition text with timestamps or a Grafana CSV"
        );
    }
    let (series, _) = prom::merge(dumps);
    let last = series
        .iter()
        .filter_map(|s| s.samples.last().map(|x| x.t_ms))
        .max();
    let expr = promql::parse(&q.expr).map_err(|e| anyhow::anyhow!("{}: {e}", q.expr))?;
    let storage = promql::Storage::new(series);
    let engine = promql::Engine::new(q.compat);
    let fail = |e: promql::EvalError| anyhow::anyhow!("{}: {e}", q.expr);
    // Every output names the semantics: JSON in the API's `infos`, text on stderr (stdout
    // stays promtool's).
    let mode = match q.compat {
        PromCompat::V2 => "evaluated with Prometheus 2.x semantics (--prom-compat 2)",
        PromCompat::V3 => "evaluated with Prometheus 3.x semantics (--prom-compat 3)",
    };
    if !q.json {
        messages::note(mode);
    }
    let (text, json) = match q.range {
        Some((start, end, step)) => {
            let m = engine
                .range(&storage, &expr, start, end, step)
                .map_err(fail)?;
            (
                promql::format_promtool_range(&m),
                promql::range_to_api_json(&m),
            )
        }
        None => {
            let at = q.at.or(last).unwrap_or(0);
            let v = engine.instant(&storage, &expr, at).map_err(fail)?;
            (promql::format_promtool(&v, at), promql::to_api_json(&v, at))
        }
    };
    Ok(if q.json {
        let mut json = json;
        if let Some(o) = json.as_object_mut() {
            o.insert("infos".into(), serde_json::json!([mode]));
        }
        let mut s = serde_json::to_string(&json)?;
        s.push('\n');
        s
    } else if text.is_empty() || text.ends_with('\n') {
        text
    } else {
        text + "\n"
    })
}
