//! Ingest: every input the user names, read once, streamed in chunks, parsed in parallel, and
//! pushed record by record into the consumer's sinks, with every line accounted for.
//!
//! One reader thread (`source.rs`) opens, decompresses and chunks, and tells each input's
//! format from its content (`sniff.rs`); rayon workers parse log chunks (`logs/`). Documents
//! read whole are parsed on the reader thread: Kubernetes objects (`k8s/`), metric dumps
//! (`prom/`), alert rules files (`rules.rs`). Results are put back in input and chunk order,
//! so the output never depends on timing.

pub mod formats;
pub mod k8s;
pub mod logs;
pub mod prom;
pub mod rules;
pub mod sniff;
pub mod source;
pub mod yaml;

use std::path::PathBuf;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

use rayon::iter::{ParallelBridge, ParallelIterator};

pub use logs::sink::{Boot, Record, RecordSink, SinkFactory};
pub use source::ReadSettings;

use crate::model::cluster::ClusterObjects;
use crate::model::collection::Collection;
use crate::model::rules::RuleSet;
use crate::model::{FileQuality, InputKind, Millis, SkipReason};
use logs::chunker::BufferPool;
use logs::scan::{scan_chunk, ChunkStats};
use source::{Document, Msg};

/// One input's outcome: its accounting, the sinks of its chunks in order, and the Kubernetes
/// objects it held.
pub struct InputResult<S> {
    pub quality: FileQuality,
    pub sinks: Vec<S>,
    pub cluster: Option<ClusterObjects>,
    pub metrics: Option<prom::Dump>,
    pub rules: Option<RuleSet>,
    /// A live collection's record (`collected.json`).
    pub collection: Option<Collection>,
    /// A whole document as read, when the run keeps them ([`ReadSettings::keep_documents`]).
    pub document: Option<KeptDocument>,
}

impl<S> InputResult<S> {
    /// An input begun: its accounting so far, nothing read from it yet.
    fn new(quality: FileQuality) -> Self {
        InputResult {
            quality,
            sinks: Vec::new(),
            cluster: None,
            metrics: None,
            rules: None,
            collection: None,
            document: None,
        }
    }
}

/// A whole document as a shard read it: its accounting before it was parsed, its bytes, and
/// how its reading ended; [`reread`] gives the same result from it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct KeptDocument {
    pub begin: FileQuality,
    /// Kept beside the description (a partial stores them in its rows).
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub mtime: Option<Millis>,
    pub error: Option<String>,
}

/// A kept document read again, as [`run`] read it the first time.
pub fn reread(kept: KeptDocument, settings: &ReadSettings) -> InputResult<()> {
    let kind = kept.begin.kind.unwrap_or(InputKind::KubernetesObjects);
    let (lines, doc) = source::parse_document(kind, &kept.bytes, settings, kept.mtime);
    let mut r = InputResult::new(kept.begin);
    apply_document(&mut r, lines, doc, settings);
    finish(&mut r.quality, 0, kept.error, None);
    r
}

enum Out<S> {
    Begin(FileQuality),
    Chunk(ChunkStats, S),
    Document(u64, Document, Option<source::Kept>),
    Foreign(formats::Layout, Arc<formats::Stats>),
    End(u64, Option<String>),
}

/// Reads every input under `paths` and returns one result per input, in the order the inputs
/// were found.
pub fn run<F: SinkFactory>(
    paths: &[PathBuf],
    settings: &ReadSettings,
    factory: &F,
) -> Vec<InputResult<F::Sink>>
where
    F::Sink: Send,
{
    let threads = rayon::current_num_threads().max(1);
    let (tx, rx) = sync_channel::<Msg>(threads * 2);
    let pool = Arc::new(BufferPool::default());
    let reader_pool = pool.clone();
    let mut outs: Vec<(u32, u8, usize, Out<F::Sink>)> = std::thread::scope(|scope| {
        scope.spawn(move || source::read_all(paths, settings, tx, reader_pool));
        rx.into_iter()
            .par_bridge()
            .map(|msg| match msg {
                Msg::Begin {
                    input,
                    name,
                    kind,
                    ctx,
                } => {
                    let mut q = FileQuality::new(name);
                    q.kind = Some(kind);
                    q.pod = ctx.hints.pod.clone();
                    q.container = ctx.hints.container.clone();
                    q.namespace = ctx.hints.namespace.clone();
                    q.previous = ctx.hints.previous;
                    (input, 0, 0, Out::Begin(q))
                }
                Msg::Chunk {
                    input,
                    chunk,
                    carry,
                    ctx,
                } => {
                    let mut sink = factory.make(input, chunk.index);
                    let stats = scan_chunk(&chunk, carry, &ctx, &mut sink);
                    let index = chunk.index;
                    pool.put(chunk.data);
                    sink.finish();
                    (input, 1, index, Out::Chunk(stats, sink))
                }
                Msg::Document {
                    input,
                    lines,
                    doc,
                    kept,
                } => (input, 1, 0, Out::Document(lines, doc, kept)),
                Msg::End {
                    input,
                    lines,
                    error,
                } => (input, 2, 1, Out::End(lines, error)),
                Msg::Foreign {
                    input,
                    layout,
                    stats,
                } => (input, 2, 0, Out::Foreign(layout, stats)),
            })
            .collect()
    });
    outs.sort_by_key(|(input, phase, index, _)| (*input, *phase, *index));

    let mut results: Vec<InputResult<F::Sink>> = Vec::new();
    let mut kubectl_message: Option<String> = None;
    for (_, _, _, out) in outs {
        match out {
            Out::Begin(quality) => {
                kubectl_message = None;
                results.push(InputResult::new(quality));
            }
            Out::Chunk(stats, sink) => {
                let r = results.last_mut().expect("Begin precedes chunks");
                if kubectl_message.is_none() {
                    kubectl_message = stats.kubectl_message.clone();
                }
                stats.merge_into(&mut r.quality);
                r.sinks.push(sink);
            }
            Out::Document(lines, doc, kept) => {
                let r = results.last_mut().expect("Begin precedes documents");
                if let Some(k) = kept {
                    r.document = Some(KeptDocument {
                        begin: r.quality.clone(),
                        bytes: k.bytes,
                        mtime: k.mtime,
                        error: None,
                    });
                }
                apply_document(r, lines, doc, settings);
            }
            Out::Foreign(layout, stats) => {
                let r = results.last_mut().expect("Begin precedes Foreign");
                foreign(&mut r.quality, layout, &stats, settings.since);
            }
            Out::End(lines, error) => {
                let r = results.last_mut().expect("Begin precedes End");
                if let Some(d) = r.document.as_mut() {
                    d.error.clone_from(&error);
                }
                finish(&mut r.quality, lines, error, kubectl_message.take());
            }
        }
    }
    results
}

/// What a whole document held, accounted for in its input's quality.
fn apply_document<S>(r: &mut InputResult<S>, lines: u64, doc: Document, settings: &ReadSettings) {
    match doc {
        Document::Cluster(parsed) => {
            r.cluster = account_objects(
                &mut r.quality,
                lines,
                parsed,
                (settings.since, settings.until),
            );
        }
        Document::Metrics(parsed) => {
            r.metrics = account_dump(&mut r.quality, lines, parsed);
        }
        Document::Rules(parsed) => {
            r.rules = account_rules(&mut r.quality, lines, parsed);
        }
        Document::Collection(parsed) => {
            r.quality.pod = None;
            r.quality.container = None;
            r.quality.lines_read += lines;
            match parsed {
                Ok(c) => {
                    r.quality.lines_used += lines;
                    r.collection = Some(*c);
                }
                Err(e) => {
                    r.quality.skip(SkipReason::MalformedJson, lines);
                    r.quality.problem(
                            None,
                            format!("collection record: {e}; what it says about missing data is not reported"),
                        );
                }
            }
        }
    }
}

/// Accounts for a Kubernetes objects document: every line used when it held events or pods,
/// every line skipped (with the parser's message and line) when it could not be read.
fn account_objects(
    q: &mut FileQuality,
    lines: u64,
    parsed: Result<k8s::Parsed, k8s::DocError>,
    (since, until): (Option<Millis>, Option<Millis>),
) -> Option<ClusterObjects> {
    q.lines_read += lines;
    // A file name says which pod a log is from; it says nothing about a document of objects.
    q.pod = None;
    q.container = None;
    match parsed {
        Ok(mut p) => {
            let outside = p.objects.retain_window(since, until);
            if outside > 0 {
                q.problem(
                    None,
                    format!("{outside} events outside the --since/--until window: not shown"),
                );
                if p.objects.is_empty() {
                    q.skip(SkipReason::OutsideWindow, lines);
                    return None;
                }
            }
            if let Some(a) = &p.assumed {
                q.assume(a, p.objects.events.len() as u64);
            }
            for why in &p.unusable {
                q.problem(None, why.clone());
            }
            if !p.other_kinds.is_empty() {
                let kinds: Vec<String> = p
                    .other_kinds
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect();
                q.problem(
                    None,
                    format!(
                        "objects of kinds this version does not read, passed over: {}",
                        kinds.join(", ")
                    ),
                );
            }
            if p.objects.is_empty() {
                q.skip(SkipReason::UnsupportedKind, lines);
                q.problem(
                    None,
                    "Kubernetes objects, but no events or pods among them: nothing used",
                );
                return None;
            }
            q.lines_used += lines;
            Some(p.objects)
        }
        Err(e) => {
            let reason = match e.format {
                k8s::DocFormat::Json => SkipReason::MalformedJson,
                k8s::DocFormat::Yaml => SkipReason::MalformedYaml,
                k8s::DocFormat::Table => SkipReason::UnplacedEventTable,
            };
            q.skip(reason, lines);
            q.problem(e.line, format!("{}; the document was skipped", e.message));
            None
        }
    }
}

/// Accounts for a metric dump: its lines used and skipped by reason, its problems with their
/// lines, what was repaired and what the API warned about; every line skipped when the dump
/// could not be read at all.
/// Drops the samples of a dump dated far from the bulk of its samples (a sample at the epoch,
/// a year 9999), which would otherwise size every evaluation grid to the whole span; says so.
fn drop_far_off_samples(q: &mut FileQuality, d: &mut prom::Dump) {
    let mut times: Vec<Millis> = d
        .series
        .iter()
        .flat_map(|s| s.samples.iter().step_by((s.samples.len() / 64).max(1)))
        .map(|x| x.t_ms)
        .collect();
    if times.is_empty() {
        return;
    }
    let mid = times.len() / 2;
    let median = *times.select_nth_unstable(mid).1;
    let far = logs::scan::FAR_OFF_MS;
    let (lo, hi) = (median.saturating_sub(far), median.saturating_add(far));
    let mut dropped = 0u64;
    let mut example = None;
    for s in &mut d.series {
        s.samples.retain(|x| {
            let keep = (lo..=hi).contains(&x.t_ms);
            if !keep {
                dropped += 1;
                example.get_or_insert(x.t_ms);
            }
            keep
        });
    }
    d.series.retain(|s| !s.samples.is_empty());
    if let Some(t) = example {
        q.problem(
            None,
            format!(
                "{dropped} sample(s) dated far from the rest of the dump (e.g. {}; the bulk is around {}): dropped",
                crate::model::time::format_short(t),
                crate::model::time::format_short(median)
            ),
        );
    }
}

fn account_dump(
    q: &mut FileQuality,
    lines: u64,
    parsed: Result<prom::Dump, prom::DumpError>,
) -> Option<prom::Dump> {
    q.pod = None;
    q.container = None;
    q.lines_read += lines;
    match parsed {
        Ok(mut d) => {
            drop_far_off_samples(q, &mut d);
            // The parser counts the lines it saw; any difference (a final line without a
            // newline counted differently) is attributed to the lines used.
            let skipped: u64 = d.skipped.iter().map(|(_, n)| n).sum();
            for &(why, n) in &d.skipped {
                q.skip(skip_reason(why), n);
            }
            q.lines_used += lines.saturating_sub(skipped);
            for (line, message) in &d.problems {
                q.problem(*line, message.clone());
            }
            if d.problems_total > d.problems.len() as u64 {
                q.problem(
                    None,
                    format!(
                        "{} more problems like these",
                        d.problems_total - d.problems.len() as u64
                    ),
                );
            }
            for w in &d.warnings {
                q.problem(None, format!("the query's own warning: {w}"));
            }
            for f in &d.fixes {
                q.assume(f, 1);
            }
            if d.series.is_empty() {
                q.problem(None, "a metric dump without any series: nothing used");
            }
            Some(d)
        }
        Err(e) => {
            q.skip(SkipReason::MalformedSample, lines);
            q.problem(e.line, format!("{}; the dump was skipped", e.message));
            None
        }
    }
}

fn skip_reason(why: prom::SkipWhy) -> SkipReason {
    use prom::SkipWhy as W;
    match why {
        W::Blank => SkipReason::Blank,
        W::Comment => SkipReason::Comment,
        W::Wrapper => SkipReason::ToolWrapper,
        W::Malformed => SkipReason::MalformedSample,
        W::NoTimestamp => SkipReason::UntimedSample,
        W::DuplicateSample => SkipReason::DuplicateSample,
        W::ConflictingSample => SkipReason::ConflictingSample,
        W::NativeHistogram => SkipReason::NativeHistogram,
        W::NoValue => SkipReason::NoValue,
    }
}

/// Accounts for a rules file found among the inputs.
fn account_rules(
    q: &mut FileQuality,
    lines: u64,
    parsed: Result<RuleSet, rules::RulesError>,
) -> Option<RuleSet> {
    q.pod = None;
    q.container = None;
    q.lines_read += lines;
    match parsed {
        Ok(set) => {
            q.lines_used += lines;
            for p in &set.problems {
                q.problem(None, p.clone());
            }
            Some(set)
        }
        Err(e) => {
            q.skip(SkipReason::MalformedYaml, lines);
            q.problem(
                e.line,
                format!("alert rules: {}; the file was skipped", e.message),
            );
            None
        }
    }
}

/// What reading a foreign export found: its format, the lines folded into others (counted as
/// read and used), reordering, problems.
fn foreign(
    q: &mut FileQuality,
    layout: formats::Layout,
    stats: &formats::Stats,
    since: Option<Millis>,
) {
    use std::sync::atomic::Ordering;
    let entries = stats.entries.load(Ordering::Relaxed);
    q.assume(&format!("read as {}", layout.name()), entries);
    let folded = stats.folded.load(Ordering::Relaxed);
    q.lines_read += folded;
    q.lines_used += folded;
    foreign_caps(q, layout, stats, since);
    if stats.reordered.load(Ordering::Relaxed) > 0 {
        q.assume(
            "entries put in time order (the export was newest first or unordered)",
            entries,
        );
    }
    for p in stats
        .problems
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        q.problem(None, p.clone());
    }
}

/// A foreign export that holds exactly what its exporter's default cap lets through.
/// How to export a CloudWatch log group whole: Insights caps every query.
const INSIGHTS: &str = "aws logs filter-log-events --log-group-name /aws/containerinsights/CLUSTER/application --log-stream-name-prefix NODE-application.var.log.containers.POD --start-time MS --output json (it pages to the end), or run the Insights query over time ranges of under 10,000 rows each";

fn foreign_caps(
    q: &mut FileQuality,
    layout: formats::Layout,
    stats: &formats::Stats,
    since: Option<Millis>,
) {
    use formats::Layout;
    use std::sync::atomic::Ordering;
    let entries = stats.entries.load(Ordering::Relaxed);
    let declared = stats.declared_total.load(Ordering::Relaxed);
    let logcli = "logcli query --limit 1000000 --batch 5000 --forward --since=2h --output jsonl '{namespace=\"NAMESPACE\"}'";
    match layout {
        Layout::LogcliDefault | Layout::LogcliJsonl if entries == 30 => q.cut(
            "exactly 30 entries: logcli's default --limit",
            logcli,
        ),
        Layout::LogcliDefault | Layout::LogcliJsonl | Layout::LokiApi if entries == 5_000 => q.cut(
            "exactly 5,000 entries: Loki's max_entries_limit_per_query (and logcli's per-batch cap)",
            logcli,
        ),
        Layout::LokiApi if entries == 100 || entries == 1_000 => q.cut(
            format!("exactly {entries} entries: the query_range limit (100 by default)"),
            logcli,
        ),
        Layout::Elasticsearch if declared > entries => q.cut(
            format!("the search matched {declared}{} hits but the export holds {entries}: a page (size, max_result_window)", if stats.total_is_lower_bound.load(Ordering::Relaxed) > 0 { " or more" } else { "" }),
            "page through with search_after (or the scroll API) and concatenate the pages, or export with elasticdump",
        ),
        Layout::Elasticsearch if entries == 10_000 || entries == 10 => q.cut(
            format!("exactly {entries} hits: Elasticsearch's {}", if entries == 10 { "default size" } else { "max_result_window" }),
            "page through with search_after (or the scroll API) and concatenate the pages, or export with elasticdump",
        ),
        Layout::CloudWatch if declared > entries => q.cut(
            format!("the query matched {declared} records but the export holds {entries}: the query's limit (at most 10,000 rows)"),
            INSIGHTS,
        ),
        Layout::CloudWatch if entries == 10_000 => q.cut(
            "exactly 10,000 rows: CloudWatch Logs Insights returns at most 10,000 rows per query",
            INSIGHTS,
        ),
        Layout::CloudLogging => {
            // gcloud logging read reads the last day unless --freshness says otherwise.
            const DAY: Millis = 86_400_000;
            if let (Some(s), Some(a), Some(b)) = (since, q.input_first_ts, q.input_last_ts) {
                if s < b - DAY - 3_600_000 && a >= b - DAY - 3_600_000 && a > s + 600_000 {
                    q.cut(
                        "its entries span at most the last day before its newest, while --since reaches further back: gcloud logging read's default --freshness=1d",
                        "gcloud logging read 'resource.type=\"k8s_container\" AND resource.labels.namespace_name=\"NAMESPACE\"' --freshness=7d --format=json",
                    );
                }
            }
        }
        _ => {}
    }
}

/// Closes an input's accounting: lines of unparsed kinds, read errors, and what its kind means.
fn finish(q: &mut FileQuality, lines: u64, error: Option<String>, kubectl_message: Option<String>) {
    if lines > 0 {
        q.lines_read += lines;
        let reason = match q.kind {
            Some(InputKind::Binary) => SkipReason::Binary,
            _ => SkipReason::UnsupportedKind,
        };
        q.skip(reason, lines);
    }
    match q.kind {
        Some(InputKind::Binary) => q.problem(None, "binary content, not a log: skipped"),
        Some(InputKind::Empty) if error.is_none() => q.problem(None, "empty: nothing to read"),
        Some(InputKind::Unreadable) if error.is_none() => q.problem(
            None,
            "a JSON document that is neither line-delimited logs nor a known dump: skipped",
        ),
        _ => {}
    }
    if let Some(e) = error {
        q.problem(None, e);
    }
    if q.kind == Some(InputKind::Logs) {
        exporter_caps(q);
    }
    if q.kind == Some(InputKind::Logs) && q.records == 0 {
        if let Some(m) = kubectl_message {
            q.kind = Some(InputKind::KubectlError);
            q.problem(
                None,
                format!("holds only kubectl's own error, no container output: {m}"),
            );
        } else if q.lines_read > 0 && not_a_log(q) {
            // A LICENSE, a README, notes beside the exports: passed over, never fatal.
            let untimed = q.skipped.remove(&SkipReason::NoTimestamp).unwrap_or(0)
                + q.skipped.remove(&SkipReason::BadTimestamp).unwrap_or(0);
            q.skip(SkipReason::NotALog, untimed);
            q.kind = Some(InputKind::NotALog);
            q.problems.retain(|p| p.line.is_none());
            q.problem_count = q.problems.len() as u64;
            q.problem(
                None,
                format!("not a log: none of its {untimed} lines carries a time (a README, a licence, notes?); passed over"),
            );
        }
    }
}

/// Inputs that hold exactly what an exporter's default cap lets through.
fn exporter_caps(q: &mut FileQuality) {
    let containers = q.prefix_lines.len();
    if containers > 0
        && containers < crate::model::quality::MAX_PREFIXES
        && q.prefix_lines.values().all(|&n| n == 10)
    {
        q.cut(
            format!("each of its {containers} container(s) has exactly 10 lines: `kubectl logs -l` keeps only the last 10 lines per container unless --tail is given"),
            "kubectl logs -n NAMESPACE -l SELECTOR --prefix --timestamps --tail=-1 --since=2h",
        );
    }
    let bundle_log = q.name.contains("cluster-resources/pods/logs/");
    if bundle_log && q.lines_read == 10_000 {
        q.cut(
            "exactly 10,000 lines: a troubleshoot support bundle keeps only the last 10,000 lines of each container unless its collector sets limits.maxLines",
            "set `limits: {maxLines: 0, maxAge: 24h}` on the logs collector of the support bundle spec (or kubectl logs --tail=-1)",
        );
    }
}

/// A text input none of whose lines carried a time: every non-blank line skipped for having
/// none (or an unreadable one).
fn not_a_log(q: &FileQuality) -> bool {
    let untimed = q
        .skipped
        .get(&SkipReason::NoTimestamp)
        .copied()
        .unwrap_or(0)
        + q.skipped
            .get(&SkipReason::BadTimestamp)
            .copied()
            .unwrap_or(0);
    let blank = q.skipped.get(&SkipReason::Blank).copied().unwrap_or(0);
    untimed > 0 && untimed + blank == q.lines_read && q.lines_used == 0
}
