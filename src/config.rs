//! Validated settings: everything `cli.rs` collected, checked and converted (durations to
//! milliseconds, times to instants, the cause table loaded and compiled). Every error says what
//! to fix. Nothing after this module sees clap.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::classify::CauseTable;
use crate::cli::{AnalyzeArgs, FormatArg, QueryArgs, QueryOutput, RateModeArg};
use crate::detect::engine::PromCompat;
use crate::detect::rules::{self, RuleSet};
use crate::model::time::{parse_timestamp_prefix, Zone};
use crate::model::Millis;

/// How error rates are computed from logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateMode {
    /// Error events become a counter sampled every scrape interval; Prometheus' rate().
    Prometheus,
    /// Records in the last window divided by its length, as Loki's LogQL rate().
    Loki,
}

impl RateMode {
    pub fn describe(self, compat: PromCompat, window: Millis) -> String {
        let w = crate::model::time::format_duration(window);
        match self {
            RateMode::Prometheus => format!(
                "prometheus {}: error events as a counter scraped every scrape interval, rate(x[{w}]) with Prometheus {} semantics",
                match compat { PromCompat::V2 => "2.x", PromCompat::V3 => "3.x" },
                match compat { PromCompat::V2 => "2.x (closed window)", PromCompat::V3 => "3.x (left-open window)" }
            ),
            RateMode::Loki => format!("loki: error records in the last {w} divided by its length in seconds (LogQL rate)"),
        }
    }
}

/// The alert being reconstructed.
#[derive(Clone, Debug)]
pub struct AlertSettings {
    pub name: String,
    pub threshold: f64,
    pub for_ms: Millis,
    pub window_ms: Millis,
    /// `--eval-interval`, else 15s: the logs-based rule's grid.
    pub eval_interval_ms: Millis,
    /// `--eval-interval` as given: it overrides every rule group's own `interval`.
    pub eval_interval_override: Option<Millis>,
    pub eval_offset_ms: Millis,
    /// `--eval-offset` was given (else rules over metrics take the phase of the dump's ALERTS).
    pub eval_offset_explicit: bool,
    pub scrape_interval_ms: Millis,
    pub rate_mode: RateMode,
    pub compat: PromCompat,
    pub dedup_window_ms: Millis,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Markdown,
    Json,
    Html,
    Svg,
    Png,
}

/// What to do with the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write the report.
    Analyze,
    /// One verdict line and an exit code.
    Check,
}

/// Table export format, from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Parquet,
    Csv,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub inputs: Vec<PathBuf>,
    /// Records before this are ignored (`--since`), and after `until`.
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// The user's `--since` text, for messages.
    pub since_text: Option<String>,
    /// "Now": `--as-of`, or the wall clock when `as_of_injected` is false.
    pub as_of: Millis,
    pub as_of_injected: bool,
    /// When relative-age event tables were captured (`--captured-at`).
    pub captured_at: Option<Millis>,
    pub zone: Zone,
    pub alert: AlertSettings,
    /// The alerting rules evaluated over metric dumps (`--rules`, else the built-in one), and
    /// where they came from.
    pub rules: RuleSet,
    pub rules_from: String,
    /// Whether `--rules` was given (rules files among the inputs are then not used).
    pub rules_explicit: bool,
    pub causes: CauseTable,
    pub namespace: Option<String>,
    pub deployment: Option<String>,
    pub out: Option<PathBuf>,
    pub formats: Vec<Format>,
    pub export: Option<(PathBuf, ExportKind)>,
    pub quiet: bool,
    pub threads: Option<usize>,
    pub max_line_bytes: usize,
    /// Error records kept in memory before sorted runs spill to a temporary file.
    pub spill_after: usize,
}

/// Parses `5m`, `90s`, `2h`, `1d`, `250ms`, `1h30m`.
pub fn parse_duration(flag: &str, text: &str) -> Result<Millis> {
    let d = humantime::parse_duration(text.trim()).with_context(|| {
        format!("{flag} {text:?}: not a duration; write it like 5m, 90s, 2h or 1d")
    })?;
    Ok(d.as_millis() as Millis)
}

/// Parses an RFC 3339 time (`2026-11-20T10:30:00Z`); one without a zone is read in `zone`.
pub fn parse_time(flag: &str, text: &str, zone: Zone) -> Result<Millis> {
    let t = text.trim();
    match parse_timestamp_prefix(t.as_bytes()) {
        Some(p) if p.len == t.len() => Ok(if p.has_zone {
            p.millis
        } else {
            zone.local_to_utc(p.millis)
        }),
        _ => bail!("{flag} {text:?}: not a time; write it as RFC 3339, e.g. 2026-11-20T10:30:00Z"),
    }
}

fn load_causes(path: Option<&Path>) -> Result<CauseTable> {
    match path {
        None => Ok(CauseTable::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("--causes {}: cannot read the cause table", p.display())
            })?;
            Ok(CauseTable::from_toml(&text, &p.display().to_string())?)
        }
    }
}

fn parse_compat(text: &str) -> Result<PromCompat> {
    Ok(match text.trim() {
        "2" | "2.x" => PromCompat::V2,
        "3" | "3.x" => PromCompat::V3,
        other => bail!("--prom-compat {other:?}: use 2 (Prometheus 2.x, the default; the service runs 2.47) or 3"),
    })
}

/// The rules file (`--rules`), or the built-in rule. A file that cannot be read at all is an
/// error; rules in it that cannot be used are named in the report and the rest evaluated.
fn load_rules(path: Option<&Path>) -> Result<(RuleSet, String)> {
    match path {
        None => Ok((
            rules::builtin(),
            "built-in (the runbook's HighGenerationErrorRate)".into(),
        )),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("--rules {}: cannot read the rules file", p.display()))?;
            let set = rules::parse(&text).map_err(|e| {
                anyhow::anyhow!(
                    "--rules {}{}: {}",
                    p.display(),
                    e.line.map_or(String::new(), |l| format!(":{l}")),
                    e.message
                )
            })?;
            Ok((set, p.display().to_string()))
        }
    }
}

/// Validated `postmortem query` settings.
#[derive(Clone, Debug)]
pub struct QueryConfig {
    pub expr: String,
    pub inputs: Vec<PathBuf>,
    pub at: Option<Millis>,
    /// start, end, step of a range query.
    pub range: Option<(Millis, Millis, Millis)>,
    pub json: bool,
    pub compat: PromCompat,
    pub captured_at: Option<Millis>,
    /// `--tz`: the zone of times written without one.
    pub zone: Zone,
}

impl QueryConfig {
    pub fn from_args(a: QueryArgs) -> Result<QueryConfig> {
        let zone = Zone::parse(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
        let time = |flag: &str, t: &Option<String>| {
            t.as_deref().map(|t| parse_time(flag, t, zone)).transpose()
        };
        let (start, end) = (time("--start", &a.start)?, time("--end", &a.end)?);
        let range = match (start, end) {
            (Some(s), Some(e)) => {
                if e < s {
                    bail!("--end is before --start: swap them");
                }
                let step = parse_duration("--step", a.step.as_deref().unwrap_or("15s"))?;
                if step <= 0 {
                    bail!("--step must be longer than zero");
                }
                if (e - s) / step > 1_000_000 {
                    bail!("--start..--end at --step {} is more than a million steps: use a longer --step", a.step.as_deref().unwrap_or("15s"));
                }
                Some((s, e, step))
            }
            _ => {
                if a.step.is_some() {
                    bail!("--step needs --start and --end (a range query)");
                }
                None
            }
        };
        Ok(QueryConfig {
            expr: a.expr,
            inputs: a.paths,
            at: time("--at", &a.at)?,
            range,
            json: a.output == QueryOutput::Json,
            compat: parse_compat(&a.prom_compat)?,
            captured_at: time("--captured-at", &a.captured_at)?,
            zone,
        })
    }
}

/// Loads the cause table for `postmortem causes`.
pub fn causes_only(path: Option<&Path>) -> Result<CauseTable> {
    load_causes(path)
}

impl Config {
    pub fn from_args(mode: Mode, a: AnalyzeArgs, wall_clock: Millis) -> Result<Config> {
        let zone = Zone::parse(&a.tz).map_err(|e| anyhow::anyhow!("--tz: {e}"))?;
        let (as_of, as_of_injected) = match &a.as_of {
            Some(t) => (parse_time("--as-of", t, zone)?, true),
            None => (wall_clock, false),
        };
        let since = match &a.since {
            Some(s) => Some(as_of - parse_duration("--since", s)?),
            None => None,
        };
        let until = a
            .until
            .as_deref()
            .map(|t| parse_time("--until", t, zone))
            .transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                bail!("--since {} reaches back to a time after --until: nothing can match; widen --since or move --until", a.since.as_deref().unwrap_or(""));
            }
        }
        if !(a.threshold.is_finite() && a.threshold >= 0.0) {
            bail!(
                "--threshold {}: must be a non-negative number of errors per second, e.g. 0.1",
                a.threshold
            );
        }
        let positive = |flag: &str, text: &str| -> Result<Millis> {
            let v = parse_duration(flag, text)?;
            if v <= 0 {
                bail!("{flag} {text:?}: must be longer than zero");
            }
            Ok(v)
        };
        let compat = parse_compat(&a.prom_compat)?;
        let eval_interval = a
            .eval_interval
            .as_deref()
            .map(|t| positive("--eval-interval", t))
            .transpose()?;
        let rules = load_rules(a.rules.as_deref())?;
        let eval_offset = a
            .eval_offset
            .as_deref()
            .map(|o| parse_duration("--eval-offset", o))
            .transpose()?;
        let alert = AlertSettings {
            name: "HighGenerationErrorRate".into(),
            threshold: a.threshold,
            for_ms: parse_duration("--for", &a.for_)?,
            window_ms: positive("--window", &a.window)?,
            eval_interval_ms: eval_interval.unwrap_or(15_000),
            eval_interval_override: eval_interval,
            eval_offset_ms: eval_offset.unwrap_or(0),
            eval_offset_explicit: eval_offset.is_some(),
            scrape_interval_ms: positive("--scrape-interval", &a.scrape_interval)?,
            rate_mode: match a.rate_mode {
                RateModeArg::Prometheus => RateMode::Prometheus,
                RateModeArg::Loki => RateMode::Loki,
            },
            compat,
            dedup_window_ms: parse_duration("--dedup-window", &a.dedup_window)?,
        };
        let mut formats: Vec<Format> = a
            .format
            .iter()
            .map(|f| match f {
                FormatArg::Md => Format::Markdown,
                FormatArg::Json => Format::Json,
                FormatArg::Html => Format::Html,
                FormatArg::Svg => Format::Svg,
                FormatArg::Png => Format::Png,
            })
            .collect();
        formats.sort();
        formats.dedup();
        let export = match &a.export {
            None => None,
            Some(p) => {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let kind = match ext.as_str() {
                    "parquet" => ExportKind::Parquet,
                    "csv" => ExportKind::Csv,
                    _ => bail!(
                        "--export {}: name the file .parquet or .csv so the format is clear",
                        p.display()
                    ),
                };
                Some((p.clone(), kind))
            }
        };
        if a.max_line_bytes < 1024 {
            bail!(
                "--max-line-bytes {}: must be at least 1024",
                a.max_line_bytes
            );
        }
        if a.threads == Some(0) {
            bail!("--threads 0: give at least 1, or leave it out for one per core");
        }
        Ok(Config {
            mode,
            inputs: a.paths,
            since,
            until,
            since_text: a.since,
            as_of,
            as_of_injected,
            captured_at: a
                .captured_at
                .as_deref()
                .map(|t| parse_time("--captured-at", t, zone))
                .transpose()?,
            zone,
            alert,
            rules_explicit: a.rules.is_some(),
            rules: rules.0,
            rules_from: rules.1,
            causes: load_causes(a.causes.as_deref())?,
            namespace: a.namespace,
            deployment: a.deployment,
            out: a.out,
            formats,
            export,
            quiet: a.quiet,
            threads: a.threads,
            max_line_bytes: a.max_line_bytes,
            spill_after: a.spill_after.max(1),
        })
    }
}
