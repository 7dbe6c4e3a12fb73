//! Classifying records as ingest pushes them ([`EventSink`], one per chunk, run in parallel),
//! gathering every chunk's records in the [`Collector`] (spilling sorted runs to disk beyond a
//! memory budget), and the [`merge`] that streams them back in time order: the same line from
//! overlapping exports counted once, and the records of one failure grouped into one event.

use std::collections::{BTreeMap, HashMap};

use std::sync::Mutex;

use anyhow::Context;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::failures::{Basis, Counted, Grouper};
use super::matcher::Fields;
use super::overlap::{Check, Duplicates, Span, Spans};
use super::signature::{error_key, signature};
use super::spill::{Block, Spill};
use super::CauseTable;
use crate::ingest::{Boot, Record, RecordSink, SinkFactory};
use crate::model::event::{CauseIdx, Sym};
use crate::model::{ErrorEvent, FileQuality, Interner, Level, Millis, SkipReason};

/// Longest example message kept per signature.
const EXAMPLE_MAX: usize = 400;

/// When each pod (and container) was seen in the logs, from its records of every level.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PodSeen {
    pub pod: String,
    pub container: String,
    pub namespace: String,
    pub first: Millis,
    pub last: Millis,
    pub records: u64,
    /// Silences in its log of at least [`SEGMENT_GAP`] (from, to: the records either side),
    /// over all of its inputs together (a gap one export covers is no gap).
    pub gaps: Vec<(Millis, Millis)>,
    /// When its process printed its startup line (a start or restart).
    pub starts: Vec<Millis>,
}

/// A process announces its start more than once (Nest's `Starting Nest application...`, then
/// `Nest application successfully started`, a bootstrap's `Listening on`): announcements this
/// close to the one before are the same start. Kubernetes restarts a crashed container after
/// 10 s at the earliest, so real restarts are further apart.
pub const START_SPAN: Millis = 10_000;

/// A boot that waits on its dependencies (TypeORM retries the database every 3 s, nine times
/// by default) announces it is ready well after it began: a ready line this soon after a
/// beginning, with no other start between, ends that boot.
pub const BOOT_SPAN: Millis = 3 * 60_000;

/// The starts among `announced` (in any order): the first announcement of each start.
fn one_per_start(mut announced: Vec<(Millis, Boot)>) -> Vec<Millis> {
    announced.sort_unstable();
    let mut out: Vec<Millis> = Vec::new();
    let mut last: Option<(Millis, Boot)> = None;
    for (t, kind) in announced {
        let same_boot = last.is_some_and(|(l, last_kind)| {
            t - l < START_SPAN
                || last_kind == Boot::Begin && kind == Boot::Ready && t - l < BOOT_SPAN
        });
        if !same_boot {
            out.push(t);
        }
        last = Some((t, kind));
    }
    out
}

/// A pod's log split into stretches wherever it is silent this long.
pub const SEGMENT_GAP: Millis = 60_000;

/// Stretches of a log without a silence of [`SEGMENT_GAP`], as records arrive.
#[derive(Clone, Debug, Default)]
struct Segments(Vec<(Millis, Millis)>);

impl Segments {
    #[inline]
    fn add(&mut self, ts: Millis) {
        if let Some(last) = self.0.last_mut() {
            if ts >= last.0 - SEGMENT_GAP && ts <= last.1 + SEGMENT_GAP {
                last.0 = last.0.min(ts);
                last.1 = last.1.max(ts);
                return;
            }
        }
        self.0.push((ts, ts));
    }

    fn extend(&mut self, other: Segments) {
        self.0.extend(other.0);
    }

    /// The silences between the stretches once overlapping ones are joined.
    fn gaps(mut self) -> Vec<(Millis, Millis)> {
        self.0.sort_unstable();
        let mut gaps = Vec::new();
        let mut end: Option<Millis> = None;
        for (a, b) in self.0 {
            match end {
                Some(e) if a > e + SEGMENT_GAP => {
                    gaps.push((e, a));
                    end = Some(b);
                }
                Some(e) => end = Some(e.max(b)),
                None => end = Some(b),
            }
        }
        gaps
    }
}

/// What the records of one (pod, container, namespace) showed, gathered over chunks.
#[derive(Clone, Debug, Default)]
struct Seen {
    first: Millis,
    last: Millis,
    records: u64,
    segments: Segments,
    starts: Vec<(Millis, Boot)>,
}

impl Seen {
    fn absorb(&mut self, o: Seen) {
        if self.records == 0 {
            (self.first, self.last) = (o.first, o.last);
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.records += o.records;
        self.segments.extend(o.segments);
        self.starts.extend(o.starts);
    }
}

/// Pod, container and namespace names.
type Origin = (String, String, String);

/// When one (pod, container, namespace) was seen in a chunk, and where the chunk's input holds
/// it.
struct OriginSeen {
    syms: (Sym, Sym, Sym),
    seen: Seen,
    span: Span,
}

/// What classifying one distinct (level, message, trace) gave.
#[derive(Clone, Copy)]
struct Classified {
    cause: Option<CauseIdx>,
    /// The outcome rule that names the record, if any.
    outcome: Option<u8>,
    signature: Sym,
    error_key: u64,
}

/// Distinct messages remembered per chunk before the cache is cleared.
const CACHE_MAX: usize = 16 * 1024;

/// Classifies the records of one chunk.
pub struct EventSink<'t> {
    table: &'t CauseTable,
    collector: &'t Collector,
    /// The input this chunk belongs to (index in the run's list of inputs) and its index there.
    input: u32,
    chunk: usize,
    rows: Vec<ErrorEvent>,
    syms: Interner,
    /// An example message per signature, with the line it came from.
    examples: HashMap<Sym, (u64, String)>,
    /// Per origin (pod, container, namespace): when it was seen and how often.
    seen: Vec<OriginSeen>,
    /// Each origin's index in `seen` (a chunk may hold thousands of pods).
    seen_index: foldhash::HashMap<(Sym, Sym, Sym), usize>,
    /// The last origin seen, the scanner's run number for it, and its index in `seen`:
    /// records come in runs.
    last_origin: Option<(Origin, u32, usize)>,
    /// Logs repeat themselves: each distinct message is classified and masked once.
    cache: foldhash::HashMap<u64, Classified>,
}

/// Makes an [`EventSink`] per chunk; every sink hands its records to the [`Collector`] when its
/// chunk is done.
pub struct Classifier<'t> {
    pub table: &'t CauseTable,
    pub collector: &'t Collector,
}

impl<'t> SinkFactory for Classifier<'t> {
    type Sink = EventSink<'t>;
    fn make(&self, input: u32, chunk: usize) -> EventSink<'t> {
        EventSink {
            table: self.table,
            collector: self.collector,
            input,
            chunk,
            rows: Vec::new(),
            syms: Interner::new(),
            examples: HashMap::new(),
            seen: Vec::new(),
            seen_index: foldhash::HashMap::default(),
            last_origin: None,
            cache: foldhash::HashMap::default(),
        }
    }
}

/// Most distinct message signatures kept; later ones are counted under [`OTHER_MESSAGES`].
pub const MAX_SIGNATURES: usize = 50_000;
/// The signature that stands for messages beyond [`MAX_SIGNATURES`].
pub const OTHER_MESSAGES: &str = "(other messages: more distinct messages than postmortem keeps)";

/// Most distinct pods kept; the records of later ones are counted under [`OTHER_PODS`], so a
/// hostile input with a million pod names cannot make a million series.
pub const MAX_PODS: usize = 5_000;
/// The pod that stands for pods beyond [`MAX_PODS`].
pub const OTHER_PODS: &str = "(other pods: more distinct pods than postmortem keeps)";

/// Where every chunk's records go as its chunk finishes: names in one interner, records in a
/// buffer that is sorted and spilled to disk as a run whenever it reaches the budget.
pub struct Collector {
    budget_rows: usize,
    shared: Mutex<Shared>,
}

#[derive(Default)]
struct Shared {
    syms: Interner,
    signatures: usize,
    pods: usize,
    /// Distinct pods beyond [`MAX_PODS`], counted under [`OTHER_PODS`].
    folded_pods: u64,
    /// An example per signature, from the earliest (input, line) that showed it, so the choice
    /// does not depend on which thread finished first.
    examples: HashMap<Sym, ((u32, u64), String)>,
    seen: HashMap<(Sym, Sym, Sym), Seen>,
    /// Where each input holds each container.
    spans: Spans,
    /// Some record was named by an outcome rule.
    any_outcome: bool,
    /// Records in memory, per chunk, and how many.
    blocks: Vec<Block>,
    buffered: usize,
    spill: Spill,
    spill_error: Option<std::io::Error>,
}

impl Collector {
    /// A collector that keeps at most `budget_rows` records in memory (64 bytes each).
    pub fn new(budget_rows: usize) -> Self {
        Collector {
            budget_rows: budget_rows.max(1),
            shared: Mutex::new(Shared {
                syms: Interner::new(),
                ..Shared::default()
            }),
        }
    }

    /// Where each input holds each container, so far.
    pub fn spans(&self) -> Spans {
        self.lock().spans.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A worker that panicked cannot leave the tables half-updated in a way that matters
        // more than losing the run; keep going with what is there.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one finished chunk's records and names.
    fn absorb(&self, sink: &mut EventSink<'_>) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        let is_signature: Vec<bool> = {
            let mut v = vec![false; sink.syms.len()];
            for &sig in sink.examples.keys() {
                v[sig as usize] = true;
            }
            v
        };
        let mut is_pod = vec![false; sink.syms.len()];
        for p in sink
            .seen
            .iter()
            .map(|o| o.syms.0)
            .chain(sink.rows.iter().map(|r| r.pod))
        {
            is_pod[p as usize] = true;
        }
        let map: Vec<Sym> = sink
            .syms
            .strings()
            .iter()
            .zip(is_signature.iter().zip(&is_pod))
            .map(|(s, (&is_sig, &is_pod))| match sh.syms.lookup(s) {
                Some(sym) => sym,
                None if is_sig && sh.signatures >= MAX_SIGNATURES => sh.syms.intern(OTHER_MESSAGES),
                None if is_pod && sh.pods >= MAX_PODS => {
                    sh.folded_pods += 1;
                    sh.syms.intern(OTHER_PODS)
                }
                None => {
                    sh.signatures += is_sig as usize;
                    sh.pods += is_pod as usize;
                    sh.syms.intern(s)
                }
            })
            .collect();
        for (sig, (line, example)) in sink.examples.drain() {
            let pos = (sink.input, line);
            let e = sh
                .examples
                .entry(map[sig as usize])
                .or_insert_with(|| (pos, String::new()));
            if e.1.is_empty() || pos < e.0 {
                *e = (pos, example);
            }
        }
        let other_pods = sh.syms.lookup(OTHER_PODS);
        sink.seen_index.clear();
        for o in sink.seen.drain(..) {
            let (p, c, n) = o.syms;
            // Pods beyond the limit have no span of their own (nor overlap detection).
            if other_pods != Some(map[p as usize]) {
                let container = (sink.syms.get(p).to_owned(), sink.syms.get(c).to_owned());
                sh.spans
                    .entry((sink.input, container))
                    .or_default()
                    .absorb(o.span);
            }
            sh.seen
                .entry((map[p as usize], map[c as usize], map[n as usize]))
                .or_default()
                .absorb(o.seen);
        }
        let mut rows = std::mem::take(&mut sink.rows);
        sh.any_outcome |= rows.iter().any(|r| r.outcome.is_some());
        for r in &mut rows {
            r.input = sink.input;
            r.pod = map[r.pod as usize];
            r.container = map[r.container as usize];
            r.namespace = map[r.namespace as usize];
            r.signature = map[r.signature as usize];
        }
        sh.buffered += rows.len();
        sh.blocks.push(Block {
            order: (sink.input, sink.chunk),
            rows,
        });
        if sh.buffered >= self.budget_rows && sh.spill_error.is_none() {
            let blocks = std::mem::take(&mut sh.blocks);
            sh.buffered = 0;
            if let Err((e, blocks)) = sh.spill.write_run(blocks) {
                // Keep the records in memory rather than lose them; the merge reports it.
                sh.spill_error = Some(e);
                sh.buffered = blocks.iter().map(|b| b.rows.len()).sum();
                sh.blocks = blocks;
            }
        }
    }
}

impl EventSink<'_> {
    /// Index in `seen` of the record's origin.
    fn origin(&mut self, rec: &Record<'_>) -> usize {
        if let Some(((p, c, n), run, idx)) = &mut self.last_origin {
            if *run == rec.origin_run {
                return *idx;
            }
            if p == rec.pod && c == rec.container && n == rec.namespace {
                *run = rec.origin_run;
                return *idx;
            }
        }
        let syms = (
            self.syms.intern(rec.pod),
            self.syms.intern(rec.container),
            self.syms.intern(rec.namespace),
        );
        let idx = match self.seen_index.get(&syms) {
            Some(&i) => i,
            None => {
                self.seen_index.insert(syms, self.seen.len());
                self.seen.push(OriginSeen {
                    syms,
                    seen: Seen {
                        first: rec.ts,
                        last: rec.ts,
                        ..Seen::default()
                    },
                    span: Span::default(),
                });
                self.seen.len() - 1
            }
        };
        let origin = (rec.pod.into(), rec.container.into(), rec.namespace.into());
        self.last_origin = Some((origin, rec.origin_run, idx));
        idx
    }

    fn classify(&mut self, rec: &Record<'_>) -> Classified {
        let key = xxh3_64_with_seed(rec.trace.bytes(), rec.level as u64);
        let key = xxh3_64_with_seed(rec.logger.bytes(), key);
        let key = xxh3_64_with_seed(rec.message.bytes(), key);
        if let Some(c) = self.cache.get(&key) {
            return *c;
        }
        let (message, trace, logger) = (
            rec.message.decode(),
            rec.trace.decode(),
            rec.logger.decode(),
        );
        let fields = Fields::new(rec.level, &message, &trace, &logger, rec.json);
        let cause = self.table.classify(&fields);
        let outcome = self.table.outcome(&fields);
        // What leaves the process (the signature, the example) is the redacted text; the
        // rules above saw the real one.
        let shown = crate::redact::text(&message);
        let signature = self.syms.intern(&signature(&shown));
        self.examples.entry(signature).or_insert_with(|| {
            let mut m: String = shown.chars().take(EXAMPLE_MAX).collect();
            if m.len() < shown.len() {
                m.push('…');
            }
            (rec.line, m)
        });
        let c = Classified {
            cause,
            outcome,
            signature,
            error_key: error_key(&message),
        };
        // A rule read the record's JSON (its other conditions held): the answer depends on
        // more than the text the key covers, so it is not remembered. Otherwise the same
        // text always gets the same answer.
        if !fields.read_json() {
            if self.cache.len() >= CACHE_MAX {
                self.cache.clear();
            }
            self.cache.insert(key, c);
        }
        c
    }
}

impl RecordSink for EventSink<'_> {
    #[inline]
    fn wants(&self, level: Level) -> bool {
        self.table.may_count(level)
    }

    fn finish(&mut self) {
        self.cache = foldhash::HashMap::default();
        self.last_origin = None;
        // Kept until the merge or the next spill: no spare capacity.
        self.rows.shrink_to_fit();
        self.collector.absorb(self);
        self.rows = Vec::new();
        self.syms = Interner::new();
    }

    fn record(&mut self, rec: &Record<'_>) {
        let idx = self.origin(rec);
        let origin = &mut self.seen[idx];
        let seen = &mut origin.seen;
        seen.first = seen.first.min(rec.ts);
        seen.last = seen.last.max(rec.ts);
        seen.records += 1;
        seen.segments.add(rec.ts);
        if let Some(kind) = rec.start {
            seen.starts.push((rec.ts, kind));
        }
        origin.span.add(rec.ts, rec.kubelet_nanos.is_some());
        let (pod, container, namespace) = origin.syms;
        if !self.table.may_count(rec.level) {
            return;
        }
        let c = self.classify(rec);
        let Some(cause) = c.cause else {
            return;
        };
        self.rows.push(ErrorEvent {
            ts: rec.ts,
            cause,
            level: rec.level,
            pod,
            container,
            namespace,
            input: 0,
            line: rec.line,
            lines: rec.lines,
            signature: c.signature,
            error_key: c.error_key,
            outcome: c.outcome,
            first_of_event: true,
            counted: false,
            counted_as_outcome: false,
        });
    }
}

/// What the merge learned about the run's error records (the records themselves stream through
/// the merge's consumer and are not kept).
#[derive(Debug, Default)]
pub struct EventTable {
    pub syms: Interner,
    /// An example message for each signature, and where it was found (input, line: the
    /// first one in input order).
    pub examples: HashMap<Sym, String>,
    pub example_at: HashMap<Sym, (u32, u64)>,
    /// Every pod/container seen, sorted.
    pub pods: Vec<PodSeen>,
    /// Error records (repeats removed) and the failures they make (cascades on one pod).
    pub records: u64,
    pub failures: u64,
    /// What the alert counts, how many, and per outcome rule (by index).
    pub basis: Basis,
    pub counted: u64,
    pub counted_by_rule: Vec<u64>,
    /// What each basis counts (`counted` is the run's), and whether any record was an
    /// outcome (the run's basis is outcomes then): a partial keeps both, since the basis of
    /// a merge is decided over all its shards.
    pub as_failures: Counted,
    pub as_outcomes: Counted,
    pub any_outcome: bool,
    /// The first error record's time.
    pub first_ts: Option<Millis>,
    /// Distinct pods beyond [`MAX_PODS`], whose records count under [`OTHER_PODS`].
    pub folded_pods: u64,
    /// How many sorted runs went to disk because the records exceeded the memory budget.
    pub spilled_runs: usize,
    /// Why the temporary directory could not take them (every record was kept in memory).
    pub spill_error: Option<String>,
}

/// Receives every error record once, in time order (ties: input, then line), with duplicates
/// removed and `first_of_event` settled.
pub trait RowConsumer {
    fn row(&mut self, row: &ErrorEvent, syms: &Interner) -> anyhow::Result<()>;
}

impl<F: FnMut(&ErrorEvent, &Interner) -> anyhow::Result<()>> RowConsumer for F {
    fn row(&mut self, row: &ErrorEvent, syms: &Interner) -> anyhow::Result<()> {
        self(row, syms)
    }
}

/// How the merge treats the records.
pub struct MergeSettings<'d> {
    /// A second outcome record wrapping one counted this recently is the same failure.
    pub nested_window: Millis,
    /// How many outcome rules the cause table has.
    pub outcome_rules: usize,
    /// The lines repeated between overlapping exports (see `overlap.rs`).
    pub duplicates: &'d Duplicates,
}

/// Takes the repeated lines out of the inputs' accounting: used by the input found first,
/// skipped as duplicates by the others, each of which says what it repeats of which.
fn account_repeats(qualities: &mut [FileQuality], dups: &Duplicates) {
    for (&input, r) in &dups.inputs {
        let names: Vec<(String, u64)> =
            r.of.iter()
                .map(|(&of, &n)| (qualities[of as usize].name.clone(), n))
                .collect();
        let q = &mut qualities[input as usize];
        q.lines_used -= r.lines;
        q.records -= r.records;
        q.skip(SkipReason::Duplicate, r.lines);
        q.repeats.extend(names);
    }
    for o in &dups.unprovable {
        let (a, b) = o.inputs;
        let other = qualities[a as usize].name.clone();
        let why = match o.check {
            Check::ReadOnce => "but stdin cannot be read a second time to compare them (give the export as a file to count each line once)",
            _ => "but not both with --timestamps: a line exported twice cannot be told from one logged twice (export with --timestamps to count each line once)",
        };
        qualities[b as usize].problem(
            None,
            format!(
                "holds {} of {} from {} to {}, as {other} does, {why}; no line was dropped",
                if o.container.1.is_empty() {
                    "the output".to_owned()
                } else {
                    format!("container {}", o.container.1)
                },
                o.container.0,
                crate::model::time::format_short(o.from),
                crate::model::time::format_short(o.to),
            ),
        );
    }
}

/// What each pod and container was seen doing, its repeated records left out.
fn pods_seen(
    sh_seen: HashMap<(Sym, Sym, Sym), Seen>,
    syms: &Interner,
    dups: &Duplicates,
) -> (Vec<PodSeen>, HashMap<Sym, Sym>) {
    let mut seen: BTreeMap<(Sym, Sym, Sym), Seen> = sh_seen.into_iter().collect();
    let only_container = unify_containers(&mut seen);
    let mut pods: Vec<PodSeen> = seen
        .into_iter()
        .map(|((p, c, n), s)| {
            let (pod, container) = (syms.get(p).to_owned(), syms.get(c).to_owned());
            let repeated = dups
                .containers
                .get(&(pod.clone(), container.clone()))
                .copied()
                .unwrap_or(0);
            PodSeen {
                pod,
                container,
                namespace: syms.get(n).to_owned(),
                first: s.first,
                last: s.last,
                records: s.records.saturating_sub(repeated),
                gaps: s.segments.gaps(),
                starts: one_per_start(s.starts),
            }
        })
        .collect();
    pods.sort_by(|a, b| {
        (&a.pod, &a.container, &a.namespace).cmp(&(&b.pod, &b.container, &b.namespace))
    });
    (pods, only_container)
}

/// Merges what the collector gathered with the inputs' accounting (`qualities`, in input order,
/// as ingest returned them) and streams the error records, in time order, into `consumer`:
/// the lines repeated between overlapping exports counted once (the first input's kept), the
/// records grouped into failures, and the ones the alert counts marked (see `failures.rs`).
/// Memory stays bounded: runs are read back a batch at a time, and only the failures still
/// open are remembered.
pub fn merge(
    collector: Collector,
    mut qualities: Vec<FileQuality>,
    settings: &MergeSettings<'_>,
    consumer: &mut (dyn RowConsumer + Send),
) -> anyhow::Result<(EventTable, Vec<FileQuality>)> {
    let sh = collector
        .shared
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let dups = settings.duplicates;
    account_repeats(&mut qualities, dups);
    let basis = if sh.any_outcome {
        Basis::Outcomes
    } else {
        Basis::Failures
    };
    let mut table = EventTable {
        example_at: sh
            .examples
            .iter()
            .map(|(&sig, (at, _))| (sig, *at))
            .collect(),
        examples: sh
            .examples
            .into_iter()
            .map(|(sig, (_, example))| (sig, example))
            .collect(),
        spilled_runs: sh.spill.runs(),
        folded_pods: sh.folded_pods,
        spill_error: sh.spill_error.as_ref().map(ToString::to_string),
        basis,
        ..EventTable::default()
    };
    let (pods, only_container) = pods_seen(sh.seen, &sh.syms, dups);
    table.pods = pods;
    table.syms = sh.syms;
    let mut merged = sh
        .spill
        .merged(sh.blocks)
        .context("reading back the error records spilled to the temporary directory")?;
    // The consumer runs on a second thread, fed in batches, while this one merges.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ErrorEvent>>(4);
    let syms = &table.syms;
    let mut grouper = Grouper::new(basis, settings.nested_window, settings.outcome_rules);
    let (mut records, mut first_ts) = (0u64, None);
    let outcome = std::thread::scope(|scope| -> anyhow::Result<()> {
        let consuming = scope.spawn(move || -> anyhow::Result<()> {
            for batch in rx {
                for r in &batch {
                    consumer.row(r, syms)?;
                }
            }
            Ok(())
        });
        let mut batch = Vec::with_capacity(BATCH);
        let mut reading = Ok(());
        loop {
            let mut r = match merged.next_row() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    reading = Err(e);
                    break;
                }
            };
            if r.container == 0 {
                if let Some(&c) = only_container.get(&r.pod) {
                    r.container = c;
                }
            }
            if !dups.records.is_empty() && dups.records.contains(&(r.input, r.line)) {
                continue;
            }
            qualities[r.input as usize].error_records += 1;
            grouper.place(&mut r);
            records += 1;
            first_ts.get_or_insert(r.ts);
            batch.push(r);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.send(full).is_err() {
                    break; // the consumer failed; its error is below
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let consumed = consuming
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        reading.context("reading back the error records spilled to the temporary directory")?;
        consumed
    });
    outcome?;
    table.records = records;
    table.failures = grouper.failures;
    table.counted = grouper.counted().counted;
    table.counted_by_rule = grouper.counted().by_rule.clone();
    table.as_failures = grouper.as_failures;
    table.as_outcomes = grouper.as_outcomes;
    table.any_outcome = basis == Basis::Outcomes;
    table.first_ts = first_ts;
    Ok((table, qualities))
}

/// Records handed to the consumer at a time.
const BATCH: usize = 4096;

/// A pod exported both with `--prefix` (container known) and by file name alone (container
/// unknown) is one pod: when a pod has exactly one known container, records without one get it,
/// so its errors form one series. Returns those pods and their container.
fn unify_containers(seen: &mut BTreeMap<(Sym, Sym, Sym), Seen>) -> HashMap<Sym, Sym> {
    let mut known: HashMap<Sym, Vec<Sym>> = HashMap::new();
    for &(p, c, _) in seen.keys() {
        if c != 0 {
            let list = known.entry(p).or_default();
            if !list.contains(&c) {
                list.push(c);
            }
        }
    }
    let only: HashMap<Sym, Sym> = known
        .into_iter()
        .filter(|(_, l)| l.len() == 1)
        .map(|(p, l)| (p, l[0]))
        .collect();
    let old = std::mem::take(seen);
    for ((p, c, n), s) in old {
        let c = if c == 0 {
            only.get(&p).copied().unwrap_or(0)
        } else {
            c
        };
        seen.entry((p, c, n)).or_default().absorb(s);
    }
    only
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_boot_is_one_start_however_long_it_waits() {
        let s = 1_000;
        let starts = one_per_start(vec![
            // Nest's text boot waiting 13 s on the database, then ready.
            (13_300 * s / 1_000 + 41 * s, Boot::Ready),
            (41 * s, Boot::Begin),
            // A JSON boot: begin, ready 2.6 s later, the bootstrap's listening line.
            (400 * s, Boot::Begin),
            (402_600, Boot::Ready),
            (402_604, Boot::Ready),
            // A crash loop: the next begin 15 s after the last, no ready between.
            (500 * s, Boot::Begin),
            (515 * s, Boot::Begin),
            // A log that holds only a ready line.
            (900 * s, Boot::Ready),
        ]);
        assert_eq!(starts, [41 * s, 400 * s, 500 * s, 515 * s, 900 * s]);
    }
}
