//! Classifying records as ingest pushes them ([`EventSink`], one per chunk, run in parallel),
//! and merging the sinks into one [`EventTable`]: rows in time order, the same line from
//! overlapping exports counted once, and the records of one failure grouped into one event.

use std::collections::{BTreeMap, HashMap};

use rayon::slice::ParallelSliceMut;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::signature::{error_key, signature};
use super::CauseTable;
use crate::ingest::{InputResult, Record, RecordSink, SinkFactory};
use crate::model::event::{CauseIdx, Sym};
use crate::model::{ErrorEvent, FileQuality, Interner, Level, Millis, SkipReason};

/// Longest example message kept per signature.
const EXAMPLE_MAX: usize = 400;

/// When each pod (and container) was seen in the logs, from its records of every level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSeen {
    pub pod: String,
    pub container: String,
    pub namespace: String,
    pub first: Millis,
    pub last: Millis,
    pub records: u64,
}

/// Pod, container and namespace names.
type Origin = (String, String, String);

/// When one (pod, container, namespace) was seen in a chunk.
struct OriginSeen {
    syms: (Sym, Sym, Sym),
    first: Millis,
    last: Millis,
    records: u64,
}

/// What classifying one distinct (level, message, trace) gave.
#[derive(Clone, Copy)]
struct Classified {
    cause: Option<CauseIdx>,
    signature: Sym,
    error_key: u64,
}

/// Distinct messages remembered per chunk before the cache is cleared.
const CACHE_MAX: usize = 16 * 1024;

/// Classifies the records of one chunk.
pub struct EventSink<'t> {
    table: &'t CauseTable,
    rows: Vec<ErrorEvent>,
    syms: Interner,
    examples: HashMap<Sym, String>,
    /// Per origin (pod, container, namespace): when it was seen and how often.
    seen: Vec<OriginSeen>,
    /// The last origin seen and its index in `seen`: records come in runs.
    last_origin: Option<(Origin, usize)>,
    /// Logs repeat themselves: each distinct message is classified and masked once.
    cache: foldhash::HashMap<u64, Classified>,
}

/// Makes an [`EventSink`] per chunk.
pub struct Classifier<'t> {
    pub table: &'t CauseTable,
}

impl<'t> SinkFactory for Classifier<'t> {
    type Sink = EventSink<'t>;
    fn make(&self) -> EventSink<'t> {
        EventSink {
            table: self.table,
            rows: Vec::new(),
            syms: Interner::new(),
            examples: HashMap::new(),
            seen: Vec::new(),
            last_origin: None,
            cache: foldhash::HashMap::default(),
        }
    }
}

impl EventSink<'_> {
    /// Index in `seen` of the record's origin.
    fn origin(&mut self, rec: &Record<'_>) -> usize {
        if let Some(((p, c, n), idx)) = &self.last_origin {
            if p == rec.pod && c == rec.container && n == rec.namespace {
                return *idx;
            }
        }
        let syms = (
            self.syms.intern(rec.pod),
            self.syms.intern(rec.container),
            self.syms.intern(rec.namespace),
        );
        let idx = match self.seen.iter().position(|s| s.syms == syms) {
            Some(i) => i,
            None => {
                self.seen.push(OriginSeen {
                    syms,
                    first: rec.ts,
                    last: rec.ts,
                    records: 0,
                });
                self.seen.len() - 1
            }
        };
        let origin = (rec.pod.into(), rec.container.into(), rec.namespace.into());
        self.last_origin = Some((origin, idx));
        idx
    }

    fn classify(&mut self, rec: &Record<'_>) -> Classified {
        let trace_hash = xxh3_64(rec.trace.bytes());
        let key = xxh3_64_with_seed(rec.message.bytes(), trace_hash ^ rec.level as u64);
        if let Some(c) = self.cache.get(&key) {
            return *c;
        }
        let (message, trace) = (rec.message.decode(), rec.trace.decode());
        let cause = self.table.classify(rec.level, &message, &trace);
        let signature = self.syms.intern(&signature(&message));
        self.examples.entry(signature).or_insert_with(|| {
            let mut m: String = message.chars().take(EXAMPLE_MAX).collect();
            if m.len() < message.len() {
                m.push('…');
            }
            m
        });
        let c = Classified {
            cause,
            signature,
            error_key: error_key(&message),
        };
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(key, c);
        c
    }
}

impl RecordSink for EventSink<'_> {
    #[inline]
    fn wants(&self, level: Level) -> bool {
        self.table.may_count(level)
    }

    fn finish(&mut self) {
        self.rows.shrink_to_fit();
        self.cache = foldhash::HashMap::default();
        self.last_origin = None;
    }

    fn record(&mut self, rec: &Record<'_>) {
        let idx = self.origin(rec);
        let seen = &mut self.seen[idx];
        seen.first = seen.first.min(rec.ts);
        seen.last = seen.last.max(rec.ts);
        seen.records += 1;
        let (pod, container, namespace) = seen.syms;
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
            line_hash: rec.line_hash,
            first_of_event: true,
        });
    }
}

/// All error records of the run, and what the merge learned.
#[derive(Debug, Default)]
pub struct EventTable {
    /// Error records in time order (ties: input, then line). Duplicates already removed.
    pub rows: Vec<ErrorEvent>,
    pub syms: Interner,
    /// An example message for each signature.
    pub examples: HashMap<Sym, String>,
    /// Every pod/container seen, sorted.
    pub pods: Vec<PodSeen>,
}

impl EventTable {
    /// Number of error events (distinct failures).
    pub fn event_count(&self) -> usize {
        self.rows.iter().filter(|r| r.first_of_event).count()
    }
}

/// Merges the chunk sinks of every input (in order), removes duplicate records from
/// overlapping exports (keeping the first input's), and groups records into events: on one pod,
/// records with the same underlying error within `dedup_window` of the event's first record.
pub fn merge(
    results: Vec<InputResult<EventSink<'_>>>,
    dedup_window: Millis,
) -> (EventTable, Vec<FileQuality>) {
    let mut table = EventTable {
        syms: Interner::new(),
        ..EventTable::default()
    };
    let mut qualities = Vec::with_capacity(results.len());
    table.rows.reserve_exact(
        results
            .iter()
            .flat_map(|r| &r.sinks)
            .map(|s| s.rows.len())
            .sum(),
    );
    let mut seen: BTreeMap<(Sym, Sym, Sym), (Millis, Millis, u64)> = BTreeMap::new();
    for (input, result) in results.into_iter().enumerate() {
        qualities.push(result.quality);
        for sink in result.sinks {
            let map = table.syms.absorb(&sink.syms);
            for (sig, example) in sink.examples {
                table.examples.entry(map[sig as usize]).or_insert(example);
            }
            for OriginSeen {
                syms: (p, c, n),
                first,
                last,
                records: count,
            } in sink.seen
            {
                let e = seen
                    .entry((map[p as usize], map[c as usize], map[n as usize]))
                    .or_insert((first, last, 0));
                e.0 = e.0.min(first);
                e.1 = e.1.max(last);
                e.2 += count;
            }
            table.rows.extend(sink.rows.into_iter().map(|mut r| {
                r.input = input as u32;
                r.pod = map[r.pod as usize];
                r.container = map[r.container as usize];
                r.namespace = map[r.namespace as usize];
                r.signature = map[r.signature as usize];
                r
            }));
        }
    }
    unify_containers(&mut table, &mut seen);
    table.pods = seen
        .into_iter()
        .map(|((p, c, n), (first, last, records))| PodSeen {
            pod: table.syms.get(p).to_owned(),
            container: table.syms.get(c).to_owned(),
            namespace: table.syms.get(n).to_owned(),
            first,
            last,
            records,
        })
        .collect();
    table.pods.sort_by(|a, b| {
        (&a.pod, &a.container, &a.namespace).cmp(&(&b.pod, &b.container, &b.namespace))
    });

    remove_duplicates(&mut table.rows, &mut qualities);
    for row in &table.rows {
        qualities[row.input as usize].error_records += 1;
    }
    group_events(&mut table.rows, dedup_window);
    (table, qualities)
}

/// A pod exported both with `--prefix` (container known) and by file name alone (container
/// unknown) is one pod: when a pod has exactly one known container, records without one get it,
/// so its errors form one series.
fn unify_containers(
    table: &mut EventTable,
    seen: &mut BTreeMap<(Sym, Sym, Sym), (Millis, Millis, u64)>,
) {
    let mut known: HashMap<Sym, Vec<Sym>> = HashMap::new();
    for &(p, c, _) in seen.keys() {
        if c != 0 {
            let list = known.entry(p).or_default();
            if !list.contains(&c) {
                list.push(c);
            }
        }
    }
    let only = |p: Sym| known.get(&p).filter(|l| l.len() == 1).map(|l| l[0]);
    for r in &mut table.rows {
        if r.container == 0 {
            if let Some(c) = only(r.pod) {
                r.container = c;
            }
        }
    }
    let old = std::mem::take(seen);
    for ((p, c, n), (first, last, count)) in old {
        let c = if c == 0 { only(p).unwrap_or(0) } else { c };
        let e = seen.entry((p, c, n)).or_insert((first, last, 0));
        e.0 = e.0.min(first);
        e.1 = e.1.max(last);
        e.2 += count;
    }
}

/// Drops records whose `line_hash` was already seen in an earlier input (or earlier in the same
/// one), moving their lines from used to skipped (duplicate); then puts rows in time order.
fn remove_duplicates(rows: &mut Vec<ErrorEvent>, qualities: &mut [FileQuality]) {
    // Rows arrive in input and line order, so the first one seen is the one kept.
    let mut seen: foldhash::HashSet<(u64, Sym, Millis)> = foldhash::HashSet::default();
    seen.reserve(rows.len());
    rows.retain(|r| {
        if r.line_hash == 0 || seen.insert((r.line_hash, r.pod, r.ts)) {
            return true;
        }
        let q = &mut qualities[r.input as usize];
        q.lines_used -= r.lines as u64;
        q.records -= 1;
        q.skip(SkipReason::Duplicate, r.lines as u64);
        false
    });
    rows.par_sort_unstable_by_key(|r| (r.ts, r.input, r.line));
}

/// Marks the second and later records of each error event (`first_of_event = false`).
fn group_events(rows: &mut [ErrorEvent], window: Millis) {
    let mut open: foldhash::HashMap<(Sym, u16, u64), Millis> = foldhash::HashMap::default();
    for r in rows.iter_mut() {
        let key = (r.pod, r.cause, r.error_key);
        match open.get(&key) {
            Some(&start) if r.ts - start <= window => r.first_of_event = false,
            _ => {
                open.insert(key, r.ts);
            }
        }
    }
}
