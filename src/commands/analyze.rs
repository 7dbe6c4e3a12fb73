//! `analyze` and `check`: the stages wired in order, ingest -> classify -> detect ->
//! correlate -> report, then what goes to the terminal (`analyze`'s summary, `check`'s
//! verdict line).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::classify::overlap::{self, Check, Duplicates, Fingerprinter};
use crate::classify::{self, Classifier, Collector, EventTable, MergeSettings};
use crate::config::{Config, Mode, Step};
use crate::correlate::events::EventsBuilder;
use crate::correlate::{self, Analysis, Stages};
use crate::detect::logs::{self, SeriesBuilder};
use crate::detect::plan::{self, EvalPlan, PlanSettings};
use crate::detect::rules::{self as rule_eval, RulesDetection};
use crate::detect::{regression, replay, whatif};
use crate::ingest::{self, prom, rules, ReadSettings};
use crate::messages;
use crate::model::cluster::ClusterObjects;
use crate::model::collection::Collection;
use crate::model::metrics::MetricSeries;
use crate::model::rules::RuleSet;
use crate::model::time::{format_duration, format_rfc3339, format_short};
use crate::model::{ErrorEvent, FileQuality, InputKind, Interner, Millis, SkipReason};
use crate::promql::Storage;
use crate::redact::{self, Redactor};
use crate::report::baseline;
use crate::report::charts;
use crate::report::export::Exporter;
use crate::report::render::{self, terminal};
use crate::report::{build, model::Report};

/// What the caller needs for the exit code.
#[derive(Debug)]
pub struct Outcome {
    pub breached: bool,
    /// With `--baseline`: whether anything regressed (what `check` exits by then).
    pub regressed: Option<bool>,
    /// Paths named on the command line that could not be read (the run reported on the
    /// rest; the exit code says so).
    pub unreadable: Vec<String>,
}

/// Runs the whole analysis on a pool of `--threads` workers.
pub fn run(cfg: &Config) -> Result<Outcome> {
    messages::set_quiet(cfg.quiet);
    if cfg.redact {
        redact::install(Redactor::new(&cfg.causes.redact_rules)?);
    } else {
        redact::install(Redactor::disabled());
        messages::warning("--no-redact: secrets in the input are copied into every output as they are; do not share this report");
    }
    let mut cfg = cfg.clone();
    // A live run collects first; the bundle is then the input like any folder. `check`
    // keeps it only when --out says where.
    let mut scratch = None;
    if let Some(live) = cfg.live.clone() {
        let out = match (&cfg.out, cfg.mode) {
            (Some(o), _) => o.clone(),
            (None, Mode::Analyze) => live_out_dir(live.as_of),
            (None, Mode::Check) => {
                let t = tempfile::tempdir().context("creating a folder for the collection")?;
                let p = t.path().to_path_buf();
                scratch = Some(t);
                p
            }
        };
        let bundle = out.join("bundle");
        let collected = crate::collect::collect(&live, &bundle)?;
        if scratch.is_none() {
            messages::note(&format!(
                "collected {} files into {} ({} gaps)",
                collected.files,
                bundle.display(),
                collected.record.gaps.len()
            ));
        }
        cfg.inputs = vec![bundle];
        if cfg.mode == Mode::Analyze {
            cfg.out = Some(out);
        }
    }
    adopt_bundle_settings(&mut cfg);
    if let Some(n) = cfg.threads {
        // Work started outside the pool (the reader thread's JSON-array parsing) goes to the
        // global pool: it gets the same size (already built, it keeps its own).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .context("starting the worker threads")?;
    let outcome = pool.install(|| match &cfg.step {
        Step::Map(path) => {
            map_step(&cfg, path)?;
            Ok(Outcome {
                breached: false,
                regressed: None,
                unreadable: unreadable(&cfg.inputs),
            })
        }
        Step::Merge => output(&cfg, &merge_step(&cfg)?),
        Step::Whole => output(&cfg, &analyze(&cfg)?),
    });
    drop(scratch);
    outcome
}

/// `reports/<as-of>/` for a live run without --out.
fn live_out_dir(as_of: Millis) -> PathBuf {
    let stamp = format_rfc3339(as_of)
        .replace(':', "-")
        .replace(".000Z", "Z");
    PathBuf::from("reports").join(stamp)
}

/// A bundle analyzed later gives the same answer as the live run that collected it: when
/// the inputs hold exactly one collection record (`collected.json`), its window and its
/// Prometheus version apply, unless the flags say otherwise.
fn adopt_bundle_settings(cfg: &mut Config) {
    let records: Vec<Collection> = cfg
        .inputs
        .iter()
        .filter_map(|p| {
            let file = if p.is_dir() {
                p.join(crate::collect::RECORD)
            } else {
                p.clone()
            };
            if file.file_name()? != crate::collect::RECORD {
                return None;
            }
            let text = std::fs::read(&file).ok()?;
            serde_json::from_slice::<Collection>(&text)
                .ok()
                .filter(|c| c.kind == crate::model::collection::KIND)
        })
        .collect();
    let [record] = records.as_slice() else { return };
    let w = &mut cfg.window;
    if w.since_flag.is_none() && w.until.is_none() && !w.as_of_given {
        let since = crate::model::time::parse_time_in(&record.since, crate::model::time::Zone::Utc);
        let as_of = crate::model::time::parse_time_in(&record.as_of, crate::model::time::Zone::Utc);
        if let (Some(since), Some(as_of)) = (since, as_of) {
            w.since = Some(since);
            w.until = Some(as_of);
            w.since_flag = Some(as_of - since);
            w.as_of = as_of;
            w.as_of_given = true;
        }
    }
    if !cfg.compat_given {
        if let Some(p) = &record.prometheus {
            cfg.alert.compat = if p.compat == "3" {
                crate::promql::PromCompat::V3
            } else {
                crate::promql::PromCompat::V2
            };
        }
    }
}

/// What ingest read besides the log records (those went through the classifier).
#[derive(Default)]
struct Read {
    files: Vec<FileQuality>,
    cluster: ClusterObjects,
    dumps: Vec<prom::Dump>,
    found_rules: Vec<(String, RuleSet)>,
    collections: Vec<Collection>,
    /// The whole documents as read, with their input numbers (a map step keeps them).
    documents: Vec<(usize, ingest::KeptDocument)>,
}

impl Read {
    /// Takes in one input's result (all but its log records).
    fn absorb<S>(&mut self, r: ingest::InputResult<S>) {
        if let Some(objects) = r.cluster {
            self.cluster.absorb(objects);
        }
        self.dumps.extend(r.metrics);
        self.collections.extend(r.collection);
        if let Some(rules) = r.rules {
            self.found_rules.push((r.quality.name.clone(), rules));
        }
        if let Some(d) = r.document {
            self.documents.push((self.files.len(), d));
        }
        self.files.push(r.quality);
    }
}

/// How every input is read.
fn read_settings(cfg: &Config) -> ReadSettings {
    ReadSettings {
        zone: cfg.zone,
        since: cfg.window.since,
        until: cfg.window.until,
        max_line: cfg.max_line_bytes,
        max_input_bytes: cfg.max_input_bytes,
        captured_at: cfg.captured_at,
        only: None,
        wanted: Some(crate::model::Levels::from_fn(|l| cfg.causes.may_count(l))),
        keep_documents: false,
    }
}

/// Reads every input; log records are classified as they stream by (into `classifier`).
/// A map step keeps the whole documents' bytes and leaves their contents to the merge.
fn read(cfg: &Config, classifier: &Classifier<'_>) -> Read {
    let map = matches!(cfg.step, Step::Map(_));
    let settings = ReadSettings {
        keep_documents: map,
        ..read_settings(cfg)
    };
    let mut read = Read::default();
    for r in ingest::run(&cfg.inputs, &settings, classifier) {
        read.absorb(r);
    }
    read
}

/// The lines repeated between exports that hold one container's output over the same time:
/// the inputs whose spans overlap are read a second time and their lines compared.
fn repeated_lines(cfg: &Config, collector: &Collector, files: &[FileQuality]) -> Duplicates {
    let mut found = overlap::overlaps(&collector.spans());
    for o in found.iter_mut().filter(|o| o.provable()) {
        let stdin = |i: u32| files.get(i as usize).is_some_and(|f| f.name == "-");
        if stdin(o.inputs.0) || stdin(o.inputs.1) {
            o.check = Check::ReadOnce;
        }
    }
    let only = Fingerprinter::inputs(&found);
    let fp = Fingerprinter::new(&found);
    if !only.is_empty() {
        let settings = ReadSettings {
            only: Some(only),
            // Every line whole: repeats are told by their text.
            wanted: None,
            ..read_settings(cfg)
        };
        ingest::run(&cfg.inputs, &settings, &&fp);
    }
    Duplicates::find(fp, &found)
}

/// The evaluation plan over what was read: the metric series merged, the range every
/// evaluation stays within, the rules chosen, and the grids.
struct Prepared {
    merge: prom::MergeNotes,
    bounds: Option<(Millis, Millis)>,
    until: Option<Millis>,
    chosen: rules::Chosen,
    storage: Option<Storage>,
    plan: EvalPlan,
}

fn prepare(cfg: &Config, read: &mut Read) -> Prepared {
    let (metric_series, merge) = prom::merge(std::mem::take(&mut read.dumps));
    let bounds = evaluation_bounds(&mut read.files, &metric_series);
    let (since, until) = match bounds {
        Some((lo, hi)) => (
            Some(cfg.window.since.map_or(lo, |s| s.max(lo))),
            Some(cfg.window.until.map_or(hi, |u| u.min(hi))),
        ),
        None => (cfg.window.since, cfg.window.until),
    };
    let chosen = rules::choose(cfg.rules.clone(), std::mem::take(&mut read.found_rules));
    let storage = (!metric_series.is_empty()).then(|| Storage::new(metric_series));
    let plan = EvalPlan::new(
        &PlanSettings {
            compat: cfg.alert.compat,
            alertname: cfg.alert.name.clone(),
            interval: cfg.alert.eval_interval,
            offset: cfg.alert.eval_offset,
            since,
            until,
        },
        &chosen.set,
        storage.as_ref(),
    );
    Prepared {
        merge,
        bounds,
        until,
        chosen,
        storage,
        plan,
    }
}

/// Every stage up to correlation.
fn analyze(cfg: &Config) -> Result<Analysis> {
    let mut exporter = match &cfg.export {
        Some((path, kind)) => Some(Exporter::create(
            path,
            *kind,
            cfg.causes.causes.iter().map(|c| c.id.clone()).collect(),
            classify::UNCLASSIFIED_ID,
            cfg.causes
                .outcomes
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
        )?),
        None => None,
    };
    let collector = Collector::new(cfg.spill_after);
    let classifier = Classifier {
        table: &cfg.causes,
        collector: &collector,
    };
    let mut read = read(cfg, &classifier);
    let prep = prepare(cfg, &mut read);
    if let Some(e) = exporter.as_mut() {
        e.set_inputs(read.files.iter().map(|f| f.name.clone()).collect());
    }

    // The merge streams the error records, in time order, into what detect and correlate
    // keep of them (per-series counts, the per-minute events table) and into the export.
    let bounds = prep.bounds;
    let mut series = SeriesBuilder::new(&cfg.alert, &prep.plan.logs);
    let mut events = EventsBuilder::default();
    let mut consume = |r: &ErrorEvent, syms: &Interner| -> Result<()> {
        if bounds.is_none_or(|(lo, hi)| (lo..=hi).contains(&r.ts)) {
            series.add(r);
        }
        events.add(r);
        if let Some(e) = exporter.as_mut() {
            e.row(r, syms)?;
        }
        Ok(())
    };
    let table = merge_records(cfg, collector, &mut read, &mut consume)?;
    if let Some(e) = exporter {
        e.finish()?;
    }
    conclude(cfg, read, prep, table, series, events)
}

/// The classified records, repeats between overlapping exports removed and grouped into
/// failures, streamed in time order into `consume`; the inputs' accounting updated.
fn merge_records(
    cfg: &Config,
    collector: Collector,
    read: &mut Read,
    consume: &mut (dyn classify::RowConsumer + Send),
) -> Result<EventTable> {
    let duplicates = repeated_lines(cfg, &collector, &read.files);
    let settings = MergeSettings {
        nested_window: cfg.alert.dedup_window_ms,
        outcome_rules: cfg.causes.outcomes.len(),
        duplicates: &duplicates,
    };
    let (table, files) = classify::merge(
        collector,
        std::mem::take(&mut read.files),
        &settings,
        consume,
    )?;
    read.files = files;
    Ok(table)
}

/// The stages after the records: detection, the rules over metrics, correlation.
fn conclude(
    cfg: &Config,
    mut read: Read,
    prep: Prepared,
    table: EventTable,
    series: SeriesBuilder,
    events: EventsBuilder,
) -> Result<Analysis> {
    let Prepared {
        merge,
        until,
        chosen,
        storage,
        plan,
        ..
    } = prep;
    let mut files = std::mem::take(&mut read.files);
    late_starts(&mut files, &read.cluster, cfg.window.since);
    if let Some(why) = &table.spill_error {
        messages::spill_failed(why);
    }
    if table.folded_pods > 0 {
        messages::pods_folded(
            table.folded_pods,
            classify::collect::MAX_PODS,
            classify::collect::OTHER_PODS,
        );
    }
    messages::input_problems(&files);
    // Logs that yield nothing are an error even beside Kubernetes objects; objects alone (no
    // logs given) still make an infrastructure report.
    let logs_given = files
        .iter()
        .any(|f| matches!(f.kind, Some(InputKind::Logs | InputKind::KubectlError)));
    if (read.cluster.is_empty() && storage.is_none()) || logs_given {
        ensure_usable(cfg, &files)?;
    }

    let logs = logs::detect(series, &table, &cfg.causes, &cfg.alert, &plan.logs, until);
    let replayed = replay::replay(
        &chosen.set,
        &chosen.source,
        &cfg.alert,
        &plan,
        storage.as_ref(),
        &logs,
    );
    let what_if = replayed
        .as_ref()
        .map(|r| whatif::what_if(r, &cfg.alert.what_if))
        .map_err(Clone::clone);
    let regression = match (&replayed, &what_if) {
        (Ok(r), Ok(w)) => regression::regression_test(r, &w.rows[0].alerts),
        _ => None,
    };
    drop(replayed);
    let rules = match storage {
        Some(st) => rule_eval::evaluate(&chosen.set, st, &plan, &memory_limits(&read.cluster)),
        None => RulesDetection::default(),
    };
    let findings = correlate::correlate(
        cfg,
        Stages {
            events,
            table: &table,
            inputs: &files,
            logs: &logs,
            rules: &rules,
            cluster: &read.cluster,
        },
    )?;
    Ok(Analysis {
        inputs: files,
        table,
        plan,
        logs,
        rules,
        rules_source: chosen.source,
        unused_rules: chosen.unused,
        merge,
        cluster: read.cluster,
        findings,
        // Several bundles analyzed together: each is listed in data quality, the first's
        // record is the one summarised.
        collection: read.collections.into_iter().next(),
        what_if,
        regression,
    })
}

/// The settings a shard's partial must share with the others and with the merge: whatever
/// changes what the map step keeps (the cause table, the time window and zone, how records
/// are counted and grouped, redaction).
fn shard_settings(cfg: &Config) -> std::collections::BTreeMap<String, String> {
    let time = |t: Option<Millis>| t.map_or("not set".into(), format_rfc3339);
    let mut s = std::collections::BTreeMap::new();
    let mut set = |k: &str, v: String| {
        s.insert(k.to_owned(), v);
    };
    set(
        "cause table (--causes)",
        format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(cfg.causes.to_toml().as_bytes())
        ),
    );
    set("--since", time(cfg.window.since));
    set("--until", time(cfg.window.until));
    set("--tz", format!("{:?}", cfg.zone));
    set("--captured-at", time(cfg.captured_at));
    set(
        "--scrape-interval",
        format_duration(cfg.alert.scrape_interval_ms),
    );
    set(
        "--rate-mode",
        format!("{:?}", cfg.alert.rate_mode).to_lowercase(),
    );
    set("--dedup-window", format_duration(cfg.alert.dedup_window_ms));
    set("--max-line-bytes", cfg.max_line_bytes.to_string());
    set(
        "--no-redact",
        if cfg.redact { "no" } else { "yes" }.to_owned(),
    );
    s
}

/// The map step (`analyze SHARD... --partial FILE`): reads and classifies this shard's
/// inputs and writes what the merge needs of them.
fn map_step(cfg: &Config, path: &std::path::Path) -> Result<()> {
    let collector = Collector::new(cfg.spill_after);
    let classifier = Classifier {
        table: &cfg.causes,
        collector: &collector,
    };
    let mut read = read(cfg, &classifier);
    let mut settings = shard_settings(cfg);
    // Each basis' counts: which one applies is decided over all the shards. Loki mode counts
    // records per evaluation: the shards' grids must be the merge's (checked there).
    let grid = match cfg.alert.rate_mode {
        crate::model::alert::RateMode::Loki => {
            let mut local = Read {
                files: read.files.clone(),
                ..Read::default()
            };
            let grid = prepare(cfg, &mut local).plan.logs;
            settings.insert(LOGS_GRID.into(), grid_text(&grid));
            grid
        }
        crate::model::alert::RateMode::Prometheus => plan::Grid {
            interval_ms: cfg.alert.logs_interval(),
            offset_ms: 0,
            offset_from: plan::OffsetFrom::Default,
        },
    };
    let mut series = [
        SeriesBuilder::new(&cfg.alert, &grid),
        SeriesBuilder::new(&cfg.alert, &grid),
    ];
    let mut events = [EventsBuilder::default(), EventsBuilder::default()];
    let mut consume = |r: &ErrorEvent, _: &Interner| -> Result<()> {
        for (b, counted) in [(0, r.first_of_event), (1, r.counted_as_outcome)] {
            let r = ErrorEvent {
                counted,
                ..r.clone()
            };
            series[b].add(&r);
            events[b].add(&r);
        }
        Ok(())
    };
    let table = merge_records(cfg, collector, &mut read, &mut consume)?;
    let files = std::mem::take(&mut read.files);
    // Counted as one run counts them (the documents' objects were taken in above).
    let redacted = crate::redact::current().counts();
    // A partial travels (object storage, executors): its copies of the documents carry no
    // secret either (redacted by a redactor of their own, so the counts stay one run's).
    if cfg.redact {
        let redactor = crate::redact::Redactor::new(&cfg.causes.redact_rules)?;
        for (_, d) in &mut read.documents {
            let text = String::from_utf8_lossy(&d.bytes);
            if let std::borrow::Cow::Owned(clean) = redactor.redact(&text) {
                d.bytes = clean.into_bytes();
            }
        }
    }
    let example_inputs = files.iter().map(|f| f.name.clone()).collect();
    let is_doc: std::collections::HashSet<usize> = read.documents.iter().map(|(i, _)| *i).collect();
    let log_files: Vec<FileQuality> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| !is_doc.contains(i))
        .map(|(_, f)| f.clone())
        .collect();
    messages::input_problems(&files);
    let logs_given = files
        .iter()
        .any(|f| matches!(f.kind, Some(InputKind::Logs | InputKind::KubectlError)));
    if read.documents.is_empty() || logs_given {
        ensure_usable(cfg, &files)?;
    }
    let [series_f, series_o] = series.map(SeriesBuilder::into_series);
    let [events_f, events_o] = events.map(EventsBuilder::into_rows);
    let (records, pods, n_series) = (table.records, table.pods.len(), series_f.len());
    crate::partial::write(
        path,
        crate::partial::Shard {
            settings,
            files: log_files,
            documents: read.documents,
            table,
            example_inputs,
            series: [series_f, series_o],
            events: [events_f, events_o],
            redacted,
        },
    )?;
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    messages::note(&format!(
        "wrote the partial {} ({:.1} KB): {records} error records of {pods} {} in {n_series} alert series; merge it with the others: postmortem merge PARTIAL... --out DIR",
        path.display(),
        size as f64 / 1000.0,
        if pods == 1 { "container" } else { "containers" }
    ));
    Ok(())
}

/// The setting that holds a loki-mode shard's grid.
const LOGS_GRID: &str = "logs' evaluation grid";

/// A grid as the settings name it.
fn grid_text(g: &plan::Grid) -> String {
    format!(
        "every {} from {}",
        format_duration(g.interval_ms),
        format_duration(g.offset_ms)
    )
}

/// The reduce step (`postmortem merge PARTIAL...`): the partials put together, their
/// documents read again, then every later stage as one run over all the shards.
fn merge_step(cfg: &Config) -> Result<Analysis> {
    let this = shard_settings(cfg);
    let mut shards = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &cfg.inputs {
        let name = p.display().to_string();
        if !seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())) {
            bail!("{name} is given twice: each partial once");
        }
        let shard = crate::partial::read(p)?;
        let mut theirs = shard.settings.clone();
        let grid = theirs.remove(LOGS_GRID);
        if let Some(diff) = crate::partial::settings_differ(&theirs, &this) {
            bail!(
                "{name} was written with other settings than this merge's ({diff}, the partial's first): give merge the flags the shards were given"
            );
        }
        shards.push((name, shard, grid));
    }
    let grids: Vec<(String, Option<String>)> = shards
        .iter()
        .map(|(n, _, g)| (n.clone(), g.clone()))
        .collect();
    // A pod split between shards must be silent longer than anything found per pod reaches.
    let combined = crate::partial::combine(
        shards.into_iter().map(|(n, s, _)| (n, s)).collect(),
        classify::pod_reach(cfg.alert.dedup_window_ms),
    )?;
    crate::redact::current().add_counts(&combined.redacted);
    let settings = read_settings(cfg);
    let mut read = Read::default();
    for input in combined.inputs {
        match input {
            crate::partial::Input::Log(f) => read.files.push(*f),
            crate::partial::Input::Document(d) => read.absorb(ingest::reread(*d, &settings)),
        }
    }
    let prep = prepare(cfg, &mut read);
    if cfg.alert.rate_mode == crate::model::alert::RateMode::Loki {
        let ours = grid_text(&prep.plan.logs);
        if let Some((name, g)) = grids
            .iter()
            .find(|(_, g)| g.as_deref() != Some(ours.as_str()))
        {
            bail!(
                "{name} counted records on the logs' evaluation grid {}, this merge evaluates {ours}: give every shard and the merge the same --eval-interval and --eval-offset",
                g.as_deref().unwrap_or("(none)")
            );
        }
    }
    let mut series = SeriesBuilder::from_series(&cfg.alert, &prep.plan.logs, combined.series);
    if let Some((lo, hi)) = prep.bounds {
        let straddling = series.retain_within(lo, hi);
        if straddling > 0 {
            messages::warning(&format!(
                "{straddling} error series have records both inside and months outside the range evaluated ({} .. {}): their counts at its edges come from the partials' scrape buckets, not from the records",
                format_short(lo),
                format_short(hi)
            ));
        }
    }
    let events = EventsBuilder::from_rows(combined.events);
    conclude(cfg, read, prep, combined.table, series, events)
}

/// A log that starts well after `--since` while its container (per the pod exports) was
/// already running then: its beginning was rotated away or cut by the export.
fn late_starts(files: &mut [FileQuality], cluster: &ClusterObjects, since: Option<Millis>) {
    use crate::model::cluster::ContainerState;
    const SLACK: Millis = 10 * 60_000;
    let Some(since) = since else { return };
    for f in files
        .iter_mut()
        .filter(|f| f.kind == Some(InputKind::Logs) && !f.previous)
    {
        let (Some(pod), Some(first)) = (f.pod.as_deref(), f.first_ts) else {
            continue;
        };
        let started = cluster
            .pods
            .iter()
            .filter(|p| p.name == pod)
            .flat_map(|p| &p.containers)
            .filter(|c| !c.init && f.container.as_deref().is_none_or(|n| n == c.name))
            .filter_map(|c| match &c.state {
                Some(ContainerState::Running { started_at }) => *started_at,
                _ => None,
            })
            .min();
        if let Some(st) = started.filter(|&st| st <= since) {
            if first > since + SLACK {
                f.cut(
                    format!(
                        "it starts at {}, {} after --since ({}), while its container ran since {}: the beginning was rotated away or cut by the export",
                        format_short(first),
                        format_duration((first - since) / 1000 * 1000),
                        format_short(since),
                        format_short(st)
                    ),
                    format!("kubectl logs -n NAMESPACE {pod} --timestamps --since-time={} (or read the start from your log store)", format_rfc3339(since)),
                );
            }
        }
    }
}

/// The range every evaluation stays within (see [`plan::bulk_bounds`]), from the log inputs'
/// spans and the metric series'; an input wholly outside it is told so (its records are
/// counted, but not evaluated).
fn evaluation_bounds(
    files: &mut [FileQuality],
    series: &[MetricSeries],
) -> Option<(Millis, Millis)> {
    let spans: Vec<(Millis, Millis, u64)> = files
        .iter()
        .filter_map(|f| Some((f.first_ts?, f.last_ts?, f.records)))
        .chain(series.iter().filter_map(|s| {
            Some((
                s.samples.first()?.t_ms,
                s.samples.last()?.t_ms,
                s.samples.len() as u64,
            ))
        }))
        .collect();
    let (lo, hi) = plan::bulk_bounds(&spans)?;
    for f in files.iter_mut() {
        if let (Some(a), Some(b)) = (f.first_ts, f.last_ts) {
            if b < lo || a > hi {
                f.problem(
                    None,
                    format!(
                        "its records ({} .. {}) are months away from the rest of the inputs (around {}): counted, but left out of every alert evaluation",
                        format_short(a),
                        format_short(b),
                        format_short(lo / 2 + hi / 2)
                    ),
                );
            }
        }
    }
    Some((lo, hi))
}

/// Each pod's memory limit (the largest of its containers'), from the pod exports.
fn memory_limits(cluster: &ClusterObjects) -> Vec<(String, u64)> {
    cluster
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
        .collect()
}

/// The report, and what goes to the terminal.
fn output(cfg: &Config, a: &Analysis) -> Result<Outcome> {
    let mut report = build::build(cfg, a);
    if let Some(path) = &cfg.baseline {
        let now = baseline::profile(&serde_json::to_value(&report)?, "this run")
            .map_err(|e| anyhow::anyhow!("this run's report: {e}"))?;
        let then = read_baseline(cfg, path)?;
        report.baseline = Some(baseline::compare(&now, &then, cfg.max_increase));
    }
    let regressed = report.baseline.as_ref().map(|b| b.regressed);
    for e in report.rules.iter().filter_map(|r| r.error.as_ref()) {
        messages::rule_not_evaluated(&report.settings.rules, e);
    }
    let breached = report.verdict.breached;
    let step = cfg
        .step_summary
        .as_ref()
        .map(|p| (p, terminal::step_summary(&report)));
    match cfg.mode {
        Mode::Check => {
            let line = terminal::check_line(&report);
            writeln!(
                std::io::stdout().lock(),
                "{}",
                messages::escape_controls(&line, false)
            )?;
        }
        Mode::Analyze => {
            let dir = cfg.out.clone().unwrap_or_else(|| default_out_dir(&report));
            let charts = charts::specs(a, &report);
            let doc = render::document(report, charts, a.regression.clone(), &cfg.formats)?;
            let mut files = render::write_all(&doc, &cfg.formats, &dir)?;
            files.extend(cfg.export.as_ref().map(|(p, _)| p.clone()));
            if !cfg.quiet {
                let summary = terminal::summary(&doc.report, &dir, &files);
                let summary = messages::escape_controls(&summary, true);
                std::io::stdout().lock().write_all(summary.as_bytes())?;
            }
        }
    }
    if let Some((path, text)) = step {
        append_step_summary(path, &text)?;
    }
    Ok(Outcome {
        breached,
        regressed,
        unreadable: unreadable(&cfg.inputs),
    })
}

/// The baseline's profile: its report.json as it is, else its inputs analysed as this run's
/// are (the same cause table and settings, the whole of them: no time window).
fn read_baseline(cfg: &Config, path: &std::path::Path) -> Result<baseline::Profile> {
    let name = path.display().to_string();
    if path.is_file() && path.extension().is_some_and(|e| e == "json") {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(&mut std::io::Read::take(f, 512 << 20), &mut bytes)
            })
            .with_context(|| format!("reading the baseline {name}"))?;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if baseline::is_report(&v) {
                return baseline::profile(&v, &name)
                    .map_err(|e| anyhow::anyhow!("--baseline {name}: {e}"));
            }
        }
    }
    let mut b = cfg.clone();
    b.inputs = vec![path.to_path_buf()];
    b.window.since = None;
    b.window.until = None;
    b.live = None;
    b.export = None;
    b.baseline = None;
    b.step_summary = None;
    let a = analyze(&b).with_context(|| format!("analysing the baseline {name}"))?;
    let r = build::build(&b, &a);
    baseline::profile(&serde_json::to_value(&r)?, &name)
        .map_err(|e| anyhow::anyhow!("--baseline {name}: {e}"))
}

/// Appends the CI step summary (`GITHUB_STEP_SUMMARY`).
fn append_step_summary(path: &std::path::Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| {
            format!(
                "GITHUB_STEP_SUMMARY {}: cannot open it to append",
                path.display()
            )
        })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("GITHUB_STEP_SUMMARY {}: cannot write", path.display()))
}

/// The named paths that do not exist or cannot be opened (folders: listed).
pub fn unreadable(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .filter(|p| match std::fs::metadata(p) {
            Err(_) => true,
            Ok(m) if m.is_dir() => std::fs::read_dir(p).is_err(),
            Ok(_) => std::fs::File::open(p).is_err(),
        })
        .map(|p| p.display().to_string())
        .collect()
}

/// `reports/<start-of-incident>/`, with a file-system-safe time.
fn default_out_dir(r: &Report) -> PathBuf {
    let stamp = r
        .verdict
        .incident_start
        .clone()
        .unwrap_or_else(|| "no-errors".into());
    let stamp = stamp.replace(':', "-").replace(".000Z", "Z");
    PathBuf::from("reports").join(stamp)
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
    let w = &cfg.window;
    if outside > 0 {
        let first = files.iter().filter_map(|f| f.input_first_ts).min();
        let last = files.iter().filter_map(|f| f.input_last_ts).max();
        let window = format!(
            "{} .. {}",
            w.since.map_or("the beginning".into(), format_short),
            w.until.map_or("the end".into(), format_short)
        );
        let (Some(first), Some(last)) = (first, last) else {
            bail!("no records between {window}");
        };
        let hint = match w.since_flag.map(format_duration) {
            Some(s) if !w.as_of_given => format!(
                "--since {s} counts back from now ({}); to look at this incident use --as-of {} --since {s}, or drop --since",
                format_short(w.as_of),
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
    if files.is_empty() {
        bail!("no inputs: name files, folders or archives of kubectl logs (or - for stdin)");
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).take(5).collect();
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
