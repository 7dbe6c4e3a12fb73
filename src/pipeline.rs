//! The one function that wires the stages: ingest -> classify -> detect -> report, then the
//! terminal output (`analyze`'s summary, `check`'s verdict line).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::classify::{self, CauseTable, Classifier, Collector};
use crate::config::{Config, Mode};
use crate::detect;
use crate::ingest::{self, ReadSettings};
use crate::model::cluster::ClusterObjects;
use crate::model::time::{format_rfc3339, format_short};
use crate::model::{ErrorEvent, FileQuality, InputKind, Interner, SkipReason};
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
    let files: Vec<FileQuality> = ingest::run(&cfg.inputs, &settings, &classifier)
        .into_iter()
        .map(|r| {
            if let Some(objects) = r.cluster {
                cluster.absorb(objects);
            }
            r.quality
        })
        .collect();
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
    if cluster.is_empty() || logs_given {
        ensure_usable(cfg, &files)?;
    }

    // detect
    let detection = detect::detect(series, &table, &cfg.causes, &cfg.alert, cfg.until);

    // report
    let report = report::build::build(cfg, events, &table, files, &detection, &cluster)?;
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
            let written = report::write_all(cfg, report, &detection, &dir, exported)?;
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
