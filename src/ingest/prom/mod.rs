//! Metric dumps as users export them after an incident: Prometheus HTTP API responses
//! (`/api/v1/query_range`, `/api/v1/query`, also inside HolmesGPT's tool envelope),
//! `promtool tsdb dump` / `dump-openmetrics` output, Prometheus / OpenMetrics exposition text,
//! and Grafana's "Inspect > Data > Download CSV". This module owns the public surface: telling
//! the formats apart from a file's head ([`sniff`]), reading one whole file into series with
//! every line accounted for ([`parse`]), and merging several files' series ([`merge`]).
//! One submodule per input format; `lines`, `collect` and `lexer` are the shared plumbing.

mod api_json;
mod collect;
mod exposition;
mod grafana_csv;
pub(crate) mod lexer;
mod lines;
mod merge;
mod tsdb_dump;

use serde::Serialize;

use crate::model::metrics::MetricSeries;
use crate::model::time::format_duration;
use crate::model::Millis;

pub use merge::{merge, MergeNotes};

/// The formats this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpFormat {
    /// A Prometheus HTTP API response (`query` / `query_range`), bare, inside an envelope
    /// (HolmesGPT's), or just its `data` / `data.result`.
    ApiJson,
    /// `promtool tsdb dump` (`{labels} value timestamp_ms`) or `dump-openmetrics`.
    TsdbDump,
    /// Prometheus text or OpenMetrics exposition (`name{labels} value [timestamp]`).
    Exposition,
    /// Grafana's panel "Inspect > Data > Download CSV".
    GrafanaCsv,
}

impl DumpFormat {
    pub fn describe(self) -> &'static str {
        match self {
            DumpFormat::ApiJson => "Prometheus API JSON",
            DumpFormat::TsdbDump => "promtool tsdb dump",
            DumpFormat::Exposition => "Prometheus/OpenMetrics exposition text",
            DumpFormat::GrafanaCsv => "Grafana CSV",
        }
    }
}

/// What a file's samples are, which decides how far results resting on them can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DumpKind {
    /// `query_range` output: values re-sampled on the grid `start + k*step`.
    QueryRange { step_ms: Millis },
    /// An instant query of a range selector (`metric[3h]`): the raw scraped samples.
    RangeSelector,
    /// An instant query's vector: one value per series at the evaluation time.
    InstantVector,
    /// An instant query's scalar.
    Scalar,
    /// `promtool tsdb dump` / `dump-openmetrics`: raw samples from the TSDB.
    TsdbDump,
    /// Exposition text (a scrape, or samples written with timestamps).
    Exposition,
    /// A Grafana panel's CSV: values on the panel's query step (`None`: a single row).
    GrafanaCsv { step_ms: Option<Millis> },
}

impl DumpKind {
    /// Whether the samples are the scraped ones (as opposed to values re-sampled on a grid).
    pub fn is_raw(self) -> bool {
        matches!(
            self,
            DumpKind::RangeSelector
                | DumpKind::InstantVector
                | DumpKind::Scalar
                | DumpKind::TsdbDump
                | DumpKind::Exposition
        )
    }

    /// One sentence for the report: what a result resting on this data rests on, and what
    /// that costs in accuracy.
    pub fn accuracy_note(self) -> String {
        match self {
            DumpKind::QueryRange { step_ms } => format!(
                "query_range output re-sampled every {}: each value is the query's value at a \
                 step (the latest scrape within the lookback), not a scrape, so spikes and \
                 counter resets between steps can be missed and threshold crossings are placed \
                 to within one step",
                format_duration(step_ms)
            ),
            DumpKind::RangeSelector => "raw scraped samples (a range-selector query): values \
                 and times as scraped, accurate to the scrape interval"
                .to_owned(),
            DumpKind::InstantVector => "an instant query: one value per series at the \
                 evaluation time; no history, so nothing about when it changed"
                .to_owned(),
            DumpKind::Scalar => "an instant scalar: one value, no history".to_owned(),
            DumpKind::TsdbDump => "raw samples from the TSDB (promtool dump): values and times \
                 as scraped, accurate to the scrape interval; a NaN is read as a staleness marker"
                .to_owned(),
            DumpKind::Exposition => "exposition text: samples as exposed (one scrape, or \
                 timestamped samples); accurate to the times given"
                .to_owned(),
            DumpKind::GrafanaCsv { step_ms: Some(s) } => format!(
                "a Grafana panel's data, re-sampled by the panel's query every {}: spikes \
                 and resets between steps can be missed and crossings are placed to within \
                 one step",
                format_duration(s)
            ),
            DumpKind::GrafanaCsv { step_ms: None } => "a Grafana panel's data with a single \
                 row: one value per series, no history"
                .to_owned(),
        }
    }
}

/// Why a line did not become (part of) a sample that was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipWhy {
    /// Empty or whitespace-only.
    Blank,
    /// `# HELP`, `# TYPE`, `# UNIT`, `# EOF`, other `#` comments, Excel's `sep=` line.
    Comment,
    /// Not the dump itself: a tool's wrapper around it (`stdout:`/`stderr:` markers,
    /// HolmesGPT's metadata lines).
    Wrapper,
    /// Could not be read (bad syntax, a value or time that is not a number, text after the end).
    Malformed,
    /// An exposition sample without a timestamp, and no `--captured-at` to place it.
    NoTimestamp,
    /// The same (time, value) as a sample already read for the series.
    DuplicateSample,
    /// Another value at a time the series already has a sample for (the first was kept).
    ConflictingSample,
    /// A native-histogram sample: not read by this version.
    NativeHistogram,
    /// A CSV row with a time but no value in any column.
    NoValue,
}

impl SkipWhy {
    pub fn describe(self) -> &'static str {
        match self {
            SkipWhy::Blank => "blank line",
            SkipWhy::Comment => "comment or metadata line (# HELP, # TYPE, # EOF, sep=)",
            SkipWhy::Wrapper => "a tool's wrapper around the dump (stdout:/stderr:, metadata)",
            SkipWhy::Malformed => "unreadable (bad syntax, value or time)",
            SkipWhy::NoTimestamp => "exposition sample without timestamp: pass --captured-at",
            SkipWhy::DuplicateSample => "duplicate sample (same series, time and value)",
            SkipWhy::ConflictingSample => {
                "second value for a time the series already had (first kept)"
            }
            SkipWhy::NativeHistogram => "native histogram sample (not read)",
            SkipWhy::NoValue => "row without any value",
        }
    }
}

/// One metric file, read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dump {
    /// Sorted by labels; each series sorted by time, one sample per timestamp.
    pub series: Vec<MetricSeries>,
    pub kind: DumpKind,
    /// The query, when the file says it (envelopes).
    pub query: Option<String>,
    /// The API's `warnings` and `infos` (the latter prefixed `info: `).
    pub warnings: Vec<String>,
    /// How the file was read: why it was judged raw or re-sampled, what was assumed.
    pub notes: Vec<String>,
    /// Times carried no zone (Grafana's formatted times) and were read as UTC; the caller may
    /// apply `--tz`.
    pub times_without_zone: bool,
    pub lines_read: u64,
    pub lines_used: u64,
    /// Lines skipped, by reason, in [`SkipWhy`] order; `lines_read = lines_used + sum`.
    pub skipped: Vec<(SkipWhy, u64)>,
    /// The first problems (1-based line, message), in line order.
    pub problems: Vec<(Option<u64>, String)>,
    /// How many problems there were in all.
    pub problems_total: u64,
    /// What was repaired: duplicates dropped, samples sorted.
    pub fixes: Vec<String>,
}

impl Dump {
    /// Number of samples over all series.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Lines skipped, in all.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(|(_, n)| n).sum()
    }
}

/// A file that cannot be used at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct DumpError {
    pub message: String,
    /// 1-based line the problem was found on, when known.
    pub line: Option<u64>,
}

impl DumpError {
    pub(crate) fn new(message: impl Into<String>, line: Option<u64>) -> Self {
        Self {
            message: message.into(),
            line,
        }
    }
}

/// How many problems a dump keeps; the rest are counted in `problems_total`.
pub const MAX_PROBLEMS: usize = 20;

/// Which format a text is, from its first few KB (`None`: not a metric dump).
pub fn sniff(head: &str) -> Option<DumpFormat> {
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let body = &head[lines::skip_wrapper_lines(head)..];
    // Line formats are judged on whole lines: drop a last line the head may have cut.
    let complete = match body.rfind('\n') {
        Some(i) if !body.ends_with('\n') => &body[..i],
        _ => body,
    };
    let first = body.lines().map(str::trim).find(|l| !l.is_empty())?;
    if first.starts_with('{') || first.starts_with('[') {
        if first.starts_with('{') && lexer::looks_like_dump_line(first) {
            return Some(DumpFormat::TsdbDump);
        }
        return api_json::sniff(body).then_some(DumpFormat::ApiJson);
    }
    let body = complete;
    if grafana_csv::sniff(body) {
        return Some(DumpFormat::GrafanaCsv);
    }
    if exposition::sniff(body) {
        return Some(DumpFormat::Exposition);
    }
    None
}

/// Parses one whole file. `captured_at` (ms) is used only for exposition samples without a
/// timestamp (a plain `/metrics` scrape): with it they are placed at that time; without it
/// they are skipped with a reason telling the user to pass `--captured-at`.
pub fn parse(text: &str, format: DumpFormat, captured_at: Option<i64>) -> Result<Dump, DumpError> {
    match format {
        DumpFormat::ApiJson => api_json::parse(text),
        DumpFormat::TsdbDump => tsdb_dump::parse(text, captured_at),
        DumpFormat::Exposition => exposition::parse(text, captured_at),
        DumpFormat::GrafanaCsv => grafana_csv::parse(text),
    }
}

#[cfg(test)]
mod tests;
