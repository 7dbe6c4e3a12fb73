//! The one function that wires the stages: ingest -> classify -> detect -> report, then the
//! terminal output (`analyze`'s summary, `check`'s verdict line).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::classify::{self, CauseTable, Classifier, Collector};
use crate::config::QueryConfig;
use crate::config::{Config, Mode};
use crate::detect;
use crate::detect::metrics::{EvalSettings, MetricsDetection};
use crate::detect::rules::RuleSet;
use crate::ingest::{self, ReadSettings};
use crate::model::cluster::ClusterObjects;
use crate::model::metrics::MetricSeries;
use crate::model::time::format_duration;
use crate::model::time::{format_rfc3339, format_short};
use crate::model::{ErrorEvent, FileQuality, InputKind, Interner, SkipReason};
use crate::promql;
use crate::report;
use crate::report::export::Exporter;

/// What the caller needs for the exit code.
#[derive(Debug)]
pub struct Outcome {
    pub breached: bool,
    pub out_dir: Option<PathBuf>,
}

/// Runs the whole analysis on a pool of `--threads` workers.
pub fn run(cfg: &Config) -> Result<Outcome> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .context("starting the worker threads")?;
    pool.install(|| run_stages(cfg))
}

fn run_stages(cfg: &Config) -> Result<Outcome> {
    // ingest + classify (classification runs inside the parallel ingest, through the sink)
    let settings = ReadSettings {
        zone: cfg.zone,
        since: cfg.since,
        until: cfg.until,
        max_line: cfg.max_line_bytes,
        captured_at: cfg.captured_at,
    };
    let mut exporter = match &cfg.export {
        Some((path, kind)) => Some(Exporter::create(
            path,
            *kind,
            cfg.causes.causes.iter().map(|c| c.id.clone()).collect(),
            classify::UNCLASSIFIED_ID,
        )?),
        None => None,
    };
    let collector = Collector::new(cfg.spill_after);
    let classifier = Classifier {
        table: &cfg.causes,
        collector: &collector,
    };
    let mut cluster = ClusterObjects::default();
    let mut dumps = Vec::new();
    let mut found_rules: Vec<(String, RuleSet)> = Vec::new();
    let files: Vec<FileQuality> = ingest::run(&cfg.inputs, &settings, &classifier)
        .into_iter()
        .map(|r| {
            if let Some(objects) = r.cluster {
                cluster.absorb(objects);
            }
            dumps.extend(r.metrics);
            if let Some(rules) = r.rules {
                found_rules.push((r.quality.name.clone(), rules));
            }
            r.quality
        })
        .collect();
    let (metric_series, merge_notes) = ingest::prom::merge(dumps);
    let (rules, rules_from, mut rules_notes) = choose_rules(cfg, found_rules);
    // Prometheus' own evaluation phase, when the dumps hold its raw ALERTS for the runbook's
    // alert and --eval-offset was not given: the logs are evaluated at the same instants.
    let phased;
    let cfg = match detect::metrics::alerts_phase(
        &metric_series,
        &[cfg.alert.name.as_str()],
        cfg.alert.eval_interval_ms,
    ) {
        Some(phase) if !cfg.alert.eval_offset_explicit && phase != cfg.alert.eval_offset_ms => {
            let mut c = cfg.clone();
            c.alert.eval_offset_ms = phase;
            rules_notes.push(format!(
                "the logs are evaluated every {} at +{}: the phase of the dump's ALERTS samples for {} (Prometheus' own)",
                format_duration(cfg.alert.eval_interval_ms),
                format_duration(phase),
                cfg.alert.name
            ));
            phased = c;
            &phased
        }
        _ => cfg,
    };
    if let Some(e) = exporter.as_mut() {
        e.set_inputs(files.iter().map(|f| f.name.clone()).collect());
    }

    // The merge streams the error records, in time order, into what detect and report keep
    // of them (per-series counts, the per-minute events table) and into the export.
    let mut series = detect::SeriesBuilder::new(&cfg.alert);
    let mut events = report::build::EventsBuilder::default();
    let mut consume = |r: &ErrorEvent, syms: &Interner| -> Result<()> {
        series.add(r);
        events.add(r);
        if let Some(e) = exporter.as_mut() {
            e.row(r, syms)?;
        }
        Ok(())
    };
    let (table, files) =
        classify::merge(collector, files, cfg.alert.dedup_window_ms, &mut consume)?;
    let exported = match exporter {
        Some(e) => Some(e.finish()?.0),
        None => None,
    };
    tell_problems(&files);
    // Logs that yield nothing are an error even beside Kubernetes objects; objects alone (no
    // logs given) still make an infrastructure report.
    let logs_given = files
        .iter()
        .any(|f| matches!(f.kind, Some(InputKind::Logs | InputKind::KubectlError)));
    if (cluster.is_empty() && metric_series.is_empty()) || logs_given {
        ensure_usable(cfg, &files)?;
    }

    // detect
    let detection = detect::detect(series, &table, &cfg.causes, &cfg.alert, cfg.until);
    rules_notes.extend(merge_note_lines(&merge_notes));
    let limits: Vec<(String, u64)> = cluster
        .pods
        .iter()
        .filter_map(|p| {
            let l = p
                .containers
                .iter()
                .filter(|c| !c.init)
                .filter_map(|c| c.memory_limit_bytes)
                .max()?;
            Some((p.name.clone(), l))
        })
        .collect();
    let metrics = detect_metrics(cfg, &rules, rules_from, metric_series, rules_notes, &limits);
    {
        let mut err = std::io::stderr().lock();
        for e in metrics.rules.iter().filter_map(|r| r.error.as_ref()) {
            let _ = writeln!(err, "postmortem: {}: {e}", metrics.rules_from);
        }
    }

    // report
    let report = report::build::build(cfg, events, &table, files, &detection, &cluster, &metrics)?;
    let breached = report.verdict.breached;
    match cfg.mode {
        Mode::Check => {
            let line = report::check_line(&report);
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")?;
            Ok(Outcome {
                breached,
                out_dir: None,
            })
        }
        Mode::Analyze => {
            let dir = cfg.out.clone().unwrap_or_else(|| default_out_dir(&report));
            let written = report::write_all(cfg, report, &detection, &metrics, &dir, exported)?;
            if !cfg.quiet {
                let mut out = std::io::stdout().lock();
                out.write_all(written.summary.as_bytes())?;
            }
            Ok(Outcome {
                breached,
                out_dir: Some(dir),
            })
        }
    }
}

/// `reports/<start-of-incident>/`, with a file-system-safe time.
fn default_out_dir(r: &report::model::Report) -> PathBuf {
    let stamp = r
        .verdict
        .incident_start
        .clone()
        .unwrap_or_else(|| "no-errors".into());
    let stamp = stamp.replace(':', "-").replace(".000Z", "Z");
    PathBuf::from("reports").join(stamp)
}

/// Every problem, on stderr, naming the file and line.
fn tell_problems(files: &[FileQuality]) {
    let mut err = std::io::stderr().lock();
    for f in files {
        for p in &f.problems {
            let _ = match p.line {
                Some(l) => writeln!(err, "postmortem: {}:{}: {}", f.name, l, p.message),
                None => writeln!(err, "postmortem: {}: {}", f.name, p.message),
            };
        }
        let more = f.problem_count.saturating_sub(f.problems.len() as u64);
        if more > 0 {
            let _ = writeln!(err, "postmortem: {}: {more} more problems (counted in the report's data-quality section)", f.name);
        }
    }
}

/// Fails (exit 2) when nothing usable was read, saying why and what to do.
fn ensure_usable(cfg: &Config, files: &[FileQuality]) -> Result<()> {
    if files.iter().any(|f| f.records > 0) {
        return Ok(());
    }
    let outside: u64 = files
        .iter()
        .map(|f| {
            f.skipped
                .get(&SkipReason::OutsideWindow)
                .copied()
                .unwrap_or(0)
        })
        .sum();
    if outside > 0 {
        let first = files.iter().filter_map(|f| f.input_first_ts).min();
        let last = files.iter().filter_map(|f| f.input_last_ts).max();
        let window = format!(
            "{} .. {}",
            cfg.since.map_or("the beginning".into(), format_short),
            cfg.until.map_or("the end".into(), format_short)
        );
        let (Some(first), Some(last)) = (first, last) else {
            bail!("no records between {window}");
        };
        let hint = match &cfg.since_text {
            Some(s) if !cfg.as_of_injected => format!(
                "--since {s} counts back from now ({}); to look at this incident use --as-of {} --since {s}, or drop --since",
                format_short(cfg.as_of),
                format_rfc3339(last)
            ),
            _ => "widen --since/--until or drop them".into(),
        };
        bail!(
            "no records between {window}, but the input has {outside} lines from {} to {}: {hint}",
            format_short(first),
            format_short(last)
        );
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).take(5).collect();
    if files.is_empty() {
        bail!("no inputs: name files, folders or archives of kubectl logs (or - for stdin)");
    }
    bail!(
        "nothing usable was read from {}{}: no log records (see the messages above for each input)",
        names.join(", "),
        if files.len() > 5 {
            format!(" and {} more", files.len() - 5)
        } else {
            String::new()
        }
    )
}

/// What `postmortem causes` prints.
pub fn describe_causes(table: &CauseTable, as_toml: bool) -> String {
    if as_toml {
        return table.to_toml();
    }
    let mut out = format!(
        "cause table: {} ({} causes; first match in this order wins)\n\n",
        table.origin,
        table.causes.len()
    );
    for c in &table.causes {
        let levels: Vec<&str> = c.levels.iter().map(|l| l.as_str()).collect();
        out.push_str(&format!(
            "{:<22} {} [{}; counts at {}]\n",
            c.id,
            c.title,
            c.source,
            levels.join(", ")
        ));
        out.push_str(&format!("{:<22} solution: {}\n", "", c.solution));
        out.push_str(&format!(
            "{:<22} {} patterns, {} actions\n\n",
            "",
            c.patterns.len(),
            c.actions.len()
        ));
    }
    out.push_str(&format!("{:<22} errors that match none of the above\n\nPrint it as TOML to extend it: postmortem causes --toml > causes.toml\n", classify::UNCLASSIFIED_ID));
    out
}

/// Evaluates the alerting rules over the metric dumps' series, on the grid over their span
/// (cut by --since/--until).
fn detect_metrics(
    cfg: &Config,
    rules: &RuleSet,
    rules_from: String,
    series: Vec<MetricSeries>,
    notes: Vec<String>,
    limits: &[(String, u64)],
) -> MetricsDetection {
    if series.is_empty() {
        return MetricsDetection {
            notes,
            rules_from,
            ..MetricsDetection::default()
        };
    }
    let span = series
        .iter()
        .filter_map(|s| Some((s.samples.first()?.t_ms, s.samples.last()?.t_ms)))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let (start, end) = span.unwrap_or((0, -1));
    let settings = EvalSettings {
        compat: cfg.alert.compat,
        interval_override: cfg.alert.eval_interval_override,
        offset_ms: cfg
            .alert
            .eval_offset_explicit
            .then_some(cfg.alert.eval_offset_ms),
        start: cfg.since.map_or(start, |s| s.max(start)),
        end: cfg.until.map_or(end, |u| u.min(end)),
    };
    let mut m = detect::metrics::evaluate(rules, series, settings, limits);
    m.notes = notes;
    m.rules_from = rules_from;
    m
}

/// The rules to evaluate: `--rules`, else rules files found among the inputs (all of them),
/// else the built-in one. Says what was not used.
fn choose_rules(cfg: &Config, found: Vec<(String, RuleSet)>) -> (RuleSet, String, Vec<String>) {
    if cfg.rules_explicit || found.is_empty() {
        let notes = found
            .iter()
            .map(|(name, _)| {
                format!(
                    "rules file {name} among the inputs not used: --rules {} was given",
                    cfg.rules_from
                )
            })
            .collect();
        return (cfg.rules.clone(), cfg.rules_from.clone(), notes);
    }
    let mut set = RuleSet::default();
    let names: Vec<String> = found.iter().map(|(n, _)| n.clone()).collect();
    for (_, r) in found {
        set.groups.extend(r.groups);
        set.problems.extend(r.problems);
    }
    (
        set,
        format!("found among the inputs: {}", names.join(", ")),
        Vec::new(),
    )
}

/// A sink for runs that read only documents (`postmortem query`): log records are counted by
/// the reader and otherwise ignored.
struct NoRecords;

impl crate::ingest::sink::RecordSink for NoRecords {
    fn wants(&self, _level: crate::model::Level) -> bool {
        false
    }
    fn record(&mut self, _rec: &crate::ingest::sink::Record<'_>) {}
}

impl crate::ingest::sink::SinkFactory for NoRecords {
    type Sink = NoRecords;
    fn make(&self, _input: u32, _chunk: usize) -> NoRecords {
        NoRecords
    }
}

/// `postmortem query`: reads the metric dumps among the inputs, evaluates the expression at
/// one instant (`--at`, else the last sample's time) or over a range, and returns the result
/// as `promtool query` prints it, or as the Prometheus API's JSON.
pub fn query(q: &QueryConfig) -> Result<String> {
    let settings = ReadSettings {
        zone: q.zone,
        since: None,
        until: None,
        max_line: 1 << 20,
        captured_at: q.captured_at,
    };
    let mut dumps = Vec::new();
    let mut files = Vec::new();
    for r in ingest::run(&q.inputs, &settings, &NoRecords) {
        if r.quality.kind == Some(InputKind::PrometheusDump) {
            files.push(r.quality);
        }
        dumps.extend(r.metrics);
    }
    tell_problems(&files);
    if dumps.is_empty() {
        bail!(
            "no metric dump among the inputs: give a /api/v1/query_range or /api/v1/query JSON response, a `promtool tsdb dump`, exposition text with timestamps or a Grafana CSV"
        );
    }
    let (series, _) = ingest::prom::merge(dumps);
    let last = series
        .iter()
        .filter_map(|s| s.samples.last().map(|x| x.t_ms))
        .max();
    let expr = promql::parse(&q.expr).map_err(|e| anyhow::anyhow!("{}: {e}", q.expr))?;
    let storage = promql::Storage::new(series);
    let engine = promql::Engine {
        compat: q.compat,
        lookback_ms: 300_000,
    };
    let fail = |e: promql::EvalError| anyhow::anyhow!("{}: {e}", q.expr);
    // Every output names the semantics: JSON in the API's `infos`, text on stderr (stdout
    // stays promtool's).
    let mode = match q.compat {
        crate::promql::PromCompat::V2 => {
            "evaluated with Prometheus 2.x semantics (--prom-compat 2)"
        }
        crate::promql::PromCompat::V3 => {
            "evaluated with Prometheus 3.x semantics (--prom-compat 3)"
        }
    };
    if !q.json {
        let _ = writeln!(std::io::stderr(), "postmortem: {mode}");
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

/// What merging the dumps did, as lines for the report.
fn merge_note_lines(n: &ingest::prom::MergeNotes) -> Vec<String> {
    let mut out = Vec::new();
    if n.series_in > n.series_out {
        out.push(format!(
            "{} series in the dumps merged into {}",
            n.series_in, n.series_out
        ));
    }
    for (count, what) in [
        (n.duplicates, "samples found in more than one dump counted once"),
        (n.conflicts, "samples dropped: another dump had another value at the same time"),
        (n.superseded, "query_range values dropped where raw samples cover their time"),
        (n.mixed_series, "series made of raw and query_range parts (treated as query_range at the coarsest step)"),
    ] {
        if count > 0 {
            out.push(format!("{count} {what}"));
        }
    }
    out.extend(n.notes.iter().cloned());
    out
}
