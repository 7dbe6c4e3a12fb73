//! Partials: what one shard's analysis keeps for the merge (`analyze SHARD... --partial
//! FILE.parquet` is the map step, `postmortem merge` the reduce step), and how the merge puts
//! several back together as one run over all of them would have them.
//!
//! A partial holds nothing per line: the events table at minute resolution, each alert
//! series' error counts per scrape (per evaluation step in loki mode), the message signatures
//! with one redacted example each, every pod's first and last times, gaps and starts, each
//! input's data-quality accounting, the whole documents it read (Kubernetes objects, metric
//! dumps, rules, collection records: read again by the merge), and the settings that must
//! agree. Counts are kept under both of the alert's bases (outcome records, or one per
//! failure), since which one applies is decided over all the shards.
//!
//! The file is Parquet: one table of rows (below), and the rest as JSON in the file's
//! key-value metadata under `postmortem.partial`. Rows, by the `row` column:
//! - 0: a row of the events table: `t` the minute; `cause` (index in the cause table),
//!   `pod`, `container`, `namespace`, `signature` (indexes in the metadata's `strings`);
//!   `records`, `events` (failures basis), `events_if_outcomes`, `first`, `last`.
//! - 1, 2: a series' (`key`, index in the metadata's `series`) error events at scrape time
//!   `t` (`records`), under the failures and the outcomes basis.
//! - 3, 4: loki mode: a series' records entering and leaving the window at evaluation `t`.
//! - 5: the bytes of the metadata's document `key`.
//!
//! Sharding rule: all of a pod's logs (every container, every export, `--previous` too) in
//! one shard, since repeats between exports and failures (cascades) are found per pod; other
//! inputs anywhere. A pod's logs may also be split by time where they are silent for longer
//! than a failure stays open (15 minutes, or `--dedup-window` if longer): nothing found per pod
//! spans such a silence, so its counts add up exactly. The merge refuses a pod in two
//! partials closer than that.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context, Result};
use polars::prelude::{
    Column, DataFrame, ParquetCompression, ParquetReader, ParquetWriter, SerReader,
};
use serde::{Deserialize, Serialize};

use crate::classify::collect::SEGMENT_GAP;
use crate::classify::failures::{Basis, Counted};
use crate::classify::{EventTable, PodSeen};
use crate::correlate::events::{MinuteRow, Tally};
use crate::detect::logs::SeriesAcc;
use crate::ingest::KeptDocument;
use crate::model::event::{CauseIdx, Interner, Sym};
use crate::model::time::{format_duration, format_rfc3339};
use crate::model::{FileQuality, Millis};

/// What the metadata's `format` says; `VERSION` changes when the layout does.
pub const FORMAT: &str = "postmortem partial";
pub const VERSION: u32 = 1;
const META_KEY: &str = "postmortem.partial";
const CHECK_KEY: &str = "postmortem.partial.check";

/// Row kinds (the `row` column).
const EVENT: u32 = 0;
const SCRAPE_FAILURES: u32 = 1;
const SCRAPE_OUTCOMES: u32 = 2;
const ENTER: u32 = 3;
const LEAVE: u32 = 4;
const DOCUMENT: u32 = 5;

/// One shard's analysis up to the alert evaluation, as the map step leaves it.
#[derive(Debug, Default)]
pub struct Shard {
    /// The settings that must agree between the shards and the merge, by name.
    pub settings: BTreeMap<String, String>,
    /// Its log inputs' accounting, in input order, and its whole documents with their
    /// places among all its inputs.
    pub files: Vec<FileQuality>,
    pub documents: Vec<(usize, KeptDocument)>,
    /// Error records' totals, signatures with examples, pods seen (the run's basis counts
    /// are in `as_failures` / `as_outcomes`; `any_outcome` says which is the shard's).
    pub table: EventTable,
    /// The input names of `table.example_at`'s input numbers.
    pub example_inputs: Vec<String>,
    /// The series and the events table with each basis' counts: [failures, outcomes] (the
    /// same series and rows in the same order; only what is counted differs).
    pub series: [Vec<SeriesAcc>; 2],
    pub events: [Vec<MinuteRow>; 2],
    /// Secrets redacted while reading, by kind (the merge's report counts them).
    pub redacted: BTreeMap<String, u64>,
}

/// The metadata (everything but the rows).
#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    /// The postmortem that wrote it.
    written_by: String,
    settings: BTreeMap<String, String>,
    strings: Vec<String>,
    files: Vec<FileQuality>,
    documents: Vec<(usize, KeptDocument)>,
    table: TableMeta,
    series: Vec<SeriesHead>,
    redacted: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize)]
struct TableMeta {
    /// Signature, input name, line, example.
    examples: Vec<(Sym, String, u64, String)>,
    pods: Vec<PodSeen>,
    records: u64,
    failures: u64,
    as_failures: Counted,
    as_outcomes: Counted,
    any_outcome: bool,
    first_ts: Option<Millis>,
    folded_pods: u64,
    spilled_runs: usize,
    spill_error: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SeriesHead {
    cause: CauseIdx,
    pod: Sym,
    container: Sym,
    namespace: Sym,
    records: u64,
    events: u64,
    events_if_outcomes: u64,
    first_record: Millis,
    last_record: Millis,
}

/// The columns of the rows table, filled row by row.
#[derive(Default)]
struct Rows {
    row: Vec<u32>,
    t: Vec<i64>,
    key: Vec<u32>,
    cause: Vec<u32>,
    pod: Vec<u32>,
    container: Vec<u32>,
    namespace: Vec<u32>,
    signature: Vec<u32>,
    records: Vec<u64>,
    events: Vec<u64>,
    events_if_outcomes: Vec<u64>,
    first: Vec<i64>,
    last: Vec<i64>,
    bytes: Vec<Vec<u8>>,
}

impl Rows {
    /// A hash of every row (with the description's text, what `postmortem.partial.check`
    /// holds): a partial damaged in storage or transit is refused, not merged.
    #[allow(clippy::too_many_arguments)]
    fn check(
        json: &str,
        row: &[u32],
        t: &[i64],
        key: &[u32],
        names: &[&[u32]],
        counts: &[&[u64]],
        span: &[&[i64]],
        bytes: &mut dyn Iterator<Item = &[u8]>,
    ) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(json.as_bytes());
        for i in 0..row.len() {
            h.update(&row[i].to_le_bytes());
            h.update(&t[i].to_le_bytes());
            h.update(&key[i].to_le_bytes());
            for c in names {
                h.update(&c[i].to_le_bytes());
            }
            for c in counts {
                h.update(&c[i].to_le_bytes());
            }
            for c in span {
                h.update(&c[i].to_le_bytes());
            }
            let b = bytes.next().unwrap_or_default();
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        }
        format!("{:016x}", h.digest())
    }

    fn check_of(&self, json: &str) -> String {
        Self::check(
            json,
            &self.row,
            &self.t,
            &self.key,
            &[
                &self.cause,
                &self.pod,
                &self.container,
                &self.namespace,
                &self.signature,
            ],
            &[&self.records, &self.events, &self.events_if_outcomes],
            &[&self.first, &self.last],
            &mut self.bytes.iter().map(Vec::as_slice),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        row: u32,
        t: Millis,
        key: u32,
        names: (CauseIdx, Sym, Sym, Sym, Sym),
        counts: (u64, u64, u64),
        span: (Millis, Millis),
        bytes: Vec<u8>,
    ) {
        self.row.push(row);
        self.t.push(t);
        self.key.push(key);
        self.cause.push(u32::from(names.0));
        self.pod.push(names.1);
        self.container.push(names.2);
        self.namespace.push(names.3);
        self.signature.push(names.4);
        self.records.push(counts.0);
        self.events.push(counts.1);
        self.events_if_outcomes.push(counts.2);
        self.first.push(span.0);
        self.last.push(span.1);
        self.bytes.push(bytes);
    }

    fn frame(self) -> Result<DataFrame> {
        let bytes: Vec<&[u8]> = self.bytes.iter().map(Vec::as_slice).collect();
        Ok(DataFrame::new_infer_height(vec![
            Column::new("row".into(), self.row),
            Column::new("t".into(), self.t),
            Column::new("key".into(), self.key),
            Column::new("cause".into(), self.cause),
            Column::new("pod".into(), self.pod),
            Column::new("container".into(), self.container),
            Column::new("namespace".into(), self.namespace),
            Column::new("signature".into(), self.signature),
            Column::new("records".into(), self.records),
            Column::new("events".into(), self.events),
            Column::new("events_if_outcomes".into(), self.events_if_outcomes),
            Column::new("first".into(), self.first),
            Column::new("last".into(), self.last),
            Column::new("bytes".into(), bytes),
        ])?)
    }
}

/// Writes `shard` to `path` (Parquet, zstd).
pub fn write(path: &Path, shard: Shard) -> Result<()> {
    let Shard {
        settings,
        files,
        mut documents,
        table,
        example_inputs,
        series: [series_f, series_o],
        events: [events_f, events_o],
        redacted,
    } = shard;
    if series_f.len() != series_o.len() || events_f.len() != events_o.len() {
        bail!("the two bases' series differ: cannot write the partial");
    }
    let mut rows = Rows::default();
    for ((m, k, t), (m2, k2, t2)) in events_f.iter().zip(&events_o) {
        if (m, k) != (m2, k2) {
            bail!("the two bases' events tables differ: cannot write the partial");
        }
        rows.push(
            EVENT,
            *m,
            0,
            *k,
            (t.records, t.events, t2.events),
            (t.first, t.last),
            Vec::new(),
        );
    }
    let mut heads = Vec::with_capacity(series_f.len());
    for (i, (f, o)) in series_f.iter().zip(&series_o).enumerate() {
        let (cause, pod, container, namespace) = f.key;
        heads.push(SeriesHead {
            cause,
            pod,
            container,
            namespace,
            records: f.records,
            events: f.events,
            events_if_outcomes: o.events,
            first_record: f.first_record,
            last_record: f.last_record,
        });
        for (kind, list) in [
            (SCRAPE_FAILURES, &f.scrapes),
            (SCRAPE_OUTCOMES, &o.scrapes),
            (ENTER, &f.enters),
            (LEAVE, &f.leaves),
        ] {
            for &(t, n) in list {
                rows.push(
                    kind,
                    t,
                    i as u32,
                    (0, 0, 0, 0, 0),
                    (n, 0, 0),
                    (0, 0),
                    Vec::new(),
                );
            }
        }
    }
    for (i, (_, d)) in documents.iter_mut().enumerate() {
        let bytes = std::mem::take(&mut d.bytes);
        rows.push(
            DOCUMENT,
            0,
            i as u32,
            (0, 0, 0, 0, 0),
            (0, 0, 0),
            (0, 0),
            bytes,
        );
    }
    let mut examples: Vec<(Sym, String, u64, String)> = table
        .examples
        .iter()
        .map(|(&sig, ex)| {
            let (input, line) = table.example_at.get(&sig).copied().unwrap_or((0, 0));
            let name = example_inputs
                .get(input as usize)
                .cloned()
                .unwrap_or_default();
            (sig, name, line, ex.clone())
        })
        .collect();
    examples.sort();
    let meta = Meta {
        format: FORMAT.into(),
        version: VERSION,
        written_by: format!("postmortem {}", env!("CARGO_PKG_VERSION")),
        settings,
        strings: table.syms.strings().to_vec(),
        files,
        documents,
        table: TableMeta {
            examples,
            pods: table.pods,
            records: table.records,
            failures: table.failures,
            as_failures: table.as_failures,
            as_outcomes: table.as_outcomes,
            any_outcome: table.any_outcome,
            first_ts: table.first_ts,
            folded_pods: table.folded_pods,
            spilled_runs: table.spilled_runs,
            spill_error: table.spill_error,
        },
        series: heads,
        redacted,
    };
    let json = serde_json::to_string(&meta)?;
    let check = rows.check_of(&json);
    let mut df = rows.frame()?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("--partial {}: cannot create its folder", path.display()))?;
    }
    let file = File::create(path)
        .with_context(|| format!("--partial {}: cannot create the file", path.display()))?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(polars::prelude::KeyValueMetadata::from_static(vec![
            (META_KEY.into(), json),
            (CHECK_KEY.into(), check),
        ])))
        .finish(&mut df)
        .with_context(|| format!("--partial {}: cannot write it", path.display()))?;
    Ok(())
}

/// Reads a partial written by [`write()`]. A damaged file is an error naming it, never a
/// crash: the Parquet reader panics on some malformed footers, so it runs under
/// `catch_unwind` (with the panic's message kept off the terminal).
pub fn read(path: &Path) -> Result<Shard> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_partial(path)));
    std::panic::set_hook(hook);
    read.unwrap_or_else(|_| {
        bail!(
            "{}: the partial is damaged (its Parquet structure cannot be read): write it again",
            path.display()
        )
    })
}

fn read_partial(path: &Path) -> Result<Shard> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("{name}: cannot open the partial"))?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader.get_metadata().with_context(|| {
        format!("{name}: not a Parquet file (a partial written by analyze --partial?)")
    })?;
    let value = |key: &str| {
        metadata
            .key_value_metadata()
            .as_ref()
            .and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    let json = value(META_KEY).with_context(|| {
        format!("{name}: a Parquet file, but not a partial (write one with analyze --partial)")
    })?;
    let check = value(CHECK_KEY).unwrap_or_default();
    let meta: Meta = serde_json::from_str(&json)
        .with_context(|| format!("{name}: the partial's description cannot be read"))?;
    if meta.format != FORMAT || meta.version != VERSION {
        bail!(
            "{name}: a partial of format {:?} version {} ({}); this postmortem reads version {VERSION}: write the partials again with this version",
            meta.format,
            meta.version,
            meta.written_by
        );
    }
    let df = reader
        .finish()
        .with_context(|| format!("{name}: the partial's rows cannot be read"))?;
    let u32s = |c: &str| -> Result<Vec<u32>> {
        Ok(df
            .column(c)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let u64s = |c: &str| -> Result<Vec<u64>> {
        Ok(df
            .column(c)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let i64s = |c: &str| -> Result<Vec<i64>> {
        Ok(df
            .column(c)?
            .i64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let columns = || -> Result<_> {
        Ok((
            u32s("row")?,
            i64s("t")?,
            u32s("key")?,
            [
                u32s("cause")?,
                u32s("pod")?,
                u32s("container")?,
                u32s("namespace")?,
                u32s("signature")?,
            ],
            [
                u64s("records")?,
                u64s("events")?,
                u64s("events_if_outcomes")?,
            ],
            [i64s("first")?, i64s("last")?],
        ))
    };
    let (row, t, key, names, counts, span) =
        columns().with_context(|| format!("{name}: the partial's rows are not as written"))?;
    let bytes_col = df
        .column("bytes")
        .and_then(|c| c.binary().cloned())
        .with_context(|| format!("{name}: the partial's rows are not as written"))?;
    let n = row.len();
    let same_length = [t.len(), key.len(), bytes_col.len()]
        .into_iter()
        .chain(names.iter().map(Vec::len))
        .chain(counts.iter().map(Vec::len))
        .chain(span.iter().map(Vec::len))
        .all(|l| l == n);
    let names_ref: Vec<&[u32]> = names.iter().map(Vec::as_slice).collect();
    let counts_ref: Vec<&[u64]> = counts.iter().map(Vec::as_slice).collect();
    let span_ref: Vec<&[i64]> = span.iter().map(Vec::as_slice).collect();
    if !same_length
        || Rows::check(
            &json,
            &row,
            &t,
            &key,
            &names_ref,
            &counts_ref,
            &span_ref,
            &mut bytes_col.iter().map(Option::unwrap_or_default),
        ) != check
    {
        bail!("{name}: the partial is damaged (its rows or description are not as written): write it again");
    }
    let mut documents = meta.documents;
    let mut series: [Vec<SeriesAcc>; 2] = [Vec::new(), Vec::new()];
    for h in &meta.series {
        for (b, events) in [(0, h.events), (1, h.events_if_outcomes)] {
            series[b].push(SeriesAcc {
                key: (h.cause, h.pod, h.container, h.namespace),
                records: h.records,
                events,
                first_record: h.first_record,
                last_record: h.last_record,
                scrapes: Vec::new(),
                enters: Vec::new(),
                leaves: Vec::new(),
            });
        }
    }
    let mut events: [Vec<MinuteRow>; 2] = [Vec::new(), Vec::new()];
    let bad =
        |what: &str| anyhow::anyhow!("{name}: the partial's rows are not as written ({what})");
    for (i, bytes) in bytes_col.iter().enumerate() {
        let k = key[i] as usize;
        match row[i] {
            EVENT => {
                let cause = CauseIdx::try_from(names[0][i]).map_err(|_| bad("a cause"))?;
                let kk = (cause, names[1][i], names[2][i], names[3][i], names[4][i]);
                for (b, ev) in [(0, counts[1][i]), (1, counts[2][i])] {
                    events[b].push((
                        t[i],
                        kk,
                        Tally {
                            records: counts[0][i],
                            events: ev,
                            first: span[0][i],
                            last: span[1][i],
                        },
                    ));
                }
            }
            SCRAPE_FAILURES | SCRAPE_OUTCOMES => {
                let b = (row[i] == SCRAPE_OUTCOMES) as usize;
                let s = series[b].get_mut(k).ok_or_else(|| bad("a series"))?;
                s.scrapes.push((t[i], counts[0][i]));
            }
            ENTER | LEAVE => {
                for list_of in series.iter_mut() {
                    let s = list_of.get_mut(k).ok_or_else(|| bad("a series"))?;
                    let list = if row[i] == ENTER {
                        &mut s.enters
                    } else {
                        &mut s.leaves
                    };
                    list.push((t[i], counts[0][i]));
                }
            }
            DOCUMENT => {
                let (_, d) = documents.get_mut(k).ok_or_else(|| bad("a document"))?;
                d.bytes = bytes.unwrap_or_default().to_vec();
            }
            _ => return Err(bad("a row kind")),
        }
    }
    let syms = Interner::from_strings(meta.strings);
    let mut example_inputs: Vec<String> = Vec::new();
    let mut input_of: HashMap<String, u32> = HashMap::new();
    let (mut examples, mut example_at) = (HashMap::new(), HashMap::new());
    let mut t = meta.table;
    for (sig, input, line, ex) in std::mem::take(&mut t.examples) {
        let n = *input_of.entry(input.clone()).or_insert_with(|| {
            example_inputs.push(input);
            (example_inputs.len() - 1) as u32
        });
        examples.insert(sig, ex);
        example_at.insert(sig, (n, line));
    }
    let basis = if t.any_outcome {
        Basis::Outcomes
    } else {
        Basis::Failures
    };
    let counted = match basis {
        Basis::Failures => &t.as_failures,
        Basis::Outcomes => &t.as_outcomes,
    };
    let table = EventTable {
        syms,
        examples,
        example_at,
        pods: t.pods,
        records: t.records,
        failures: t.failures,
        basis,
        counted: counted.counted,
        counted_by_rule: counted.by_rule.clone(),
        as_failures: t.as_failures.clone(),
        as_outcomes: t.as_outcomes.clone(),
        any_outcome: t.any_outcome,
        first_ts: t.first_ts,
        folded_pods: t.folded_pods,
        spilled_runs: t.spilled_runs,
        spill_error: t.spill_error,
    };
    Ok(Shard {
        settings: meta.settings,
        files: meta.files,
        documents,
        table,
        example_inputs,
        series,
        events,
        redacted: meta.redacted,
    })
}

/// One input of a merge: a log's accounting, or a document to read again.
pub enum Input {
    Log(Box<FileQuality>),
    Document(Box<KeptDocument>),
}

/// Several shards put together as one run over all of them: the same settings (else which
/// differ, and where), no pod in two of them but at a long silence, names re-interned, the
/// basis decided over all.
pub struct Combined {
    pub redacted: BTreeMap<String, u64>,
    /// Every input, shard after shard, each shard's in its own order.
    pub inputs: Vec<Input>,
    pub table: EventTable,
    pub series: Vec<SeriesAcc>,
    pub events: Vec<MinuteRow>,
}

/// Puts `shards` (with their file names, for messages) together.
/// A pod may be in several shards only where its logs are silent for longer than `apart`
/// between them (`check_pods`).
pub fn combine(shards: Vec<(String, Shard)>, apart: Millis) -> Result<Combined> {
    let Some((first_name, first)) = shards.first() else {
        bail!("no partials to merge");
    };
    for (name, s) in &shards[1..] {
        if let Some(diff) = settings_differ(&first.settings, &s.settings) {
            bail!(
                "{name} and {first_name} were written with different settings ({diff}): write every partial with the same flags"
            );
        }
    }
    check_pods(&shards, apart)?;
    let any_outcome = shards.iter().any(|(_, s)| s.table.any_outcome);
    let (basis, b) = if any_outcome {
        (Basis::Outcomes, 1)
    } else {
        (Basis::Failures, 0)
    };
    let mut syms = Interner::new();
    let mut table = EventTable {
        basis,
        any_outcome,
        ..EventTable::default()
    };
    let mut redacted: BTreeMap<String, u64> = BTreeMap::new();
    let (mut inputs, mut series, mut events) = (Vec::new(), Vec::new(), Vec::new());
    let mut series_at: HashMap<(CauseIdx, Sym, Sym, Sym), usize> = HashMap::new();
    for (_, mut s) in shards {
        for (k, n) in &s.redacted {
            *redacted.entry(k.clone()).or_default() += n;
        }
        let map = syms.absorb(&s.table.syms);
        let to = |sym: Sym| map.get(sym as usize).copied().unwrap_or(0);
        let t = s.table;
        // A signature's example is its first in input order: the first shard's that has it
        // (the shards' inputs follow each other; each shard keeps its own first).
        for (sig, ex) in t.examples {
            table.examples.entry(to(sig)).or_insert(ex);
        }
        table.pods.extend(t.pods);
        table.records += t.records;
        table.failures += t.failures;
        add_counted(&mut table.as_failures, &t.as_failures);
        add_counted(&mut table.as_outcomes, &t.as_outcomes);
        table.first_ts = match (table.first_ts, t.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        table.folded_pods += t.folded_pods;
        table.spilled_runs += t.spilled_runs;
        if table.spill_error.is_none() {
            table.spill_error = t.spill_error;
        }
        for mut acc in std::mem::take(&mut s.series[b]) {
            let (c, p, ct, n) = acc.key;
            acc.key = (c, to(p), to(ct), to(n));
            // A pod split between shards (at a silence): its series' counts add up.
            match series_at.get(&acc.key) {
                Some(&i) => add_series(&mut series[i], acc),
                None => {
                    series_at.insert(acc.key, series.len());
                    series.push(acc);
                }
            }
        }
        // Minute rows never share a key across shards: a pod's are a silence apart.
        for (m, (c, p, ct, n, sig), tally) in std::mem::take(&mut s.events[b]) {
            events.push((m, (c, to(p), to(ct), to(n), to(sig)), tally));
        }
        let total = s.files.len() + s.documents.len();
        let mut docs = s.documents.into_iter().peekable();
        let mut logs = s.files.into_iter();
        for i in 0..total {
            match docs.next_if(|(at, _)| *at == i) {
                Some((_, d)) => inputs.push(Input::Document(Box::new(d))),
                None => match logs.next() {
                    Some(f) => inputs.push(Input::Log(Box::new(f))),
                    None => inputs.extend(docs.by_ref().map(|(_, d)| Input::Document(Box::new(d)))),
                },
            }
        }
    }
    table.pods = join_pods(std::mem::take(&mut table.pods));
    let counted = match basis {
        Basis::Failures => &table.as_failures,
        Basis::Outcomes => &table.as_outcomes,
    };
    table.counted = counted.counted;
    table.counted_by_rule = counted.by_rule.clone();
    table.syms = syms;
    Ok(Combined {
        redacted,
        inputs,
        table,
        series,
        events,
    })
}

/// Refuses a pod in two shards unless its logs are silent for longer than `apart` between
/// them: then no failure (cascade), repeated line or start spans two shards, and adding up is
/// exact. Else its repeats and failures were not seen together.
fn check_pods(shards: &[(String, Shard)], apart: Millis) -> Result<()> {
    // Each shard's span of each pod (all its containers): first, last, shard.
    type Spans = Vec<(Millis, Millis, usize)>;
    let mut spans: BTreeMap<(&str, &str), Spans> = BTreeMap::new();
    for (i, (_, s)) in shards.iter().enumerate() {
        let mut own: BTreeMap<(&str, &str), (Millis, Millis)> = BTreeMap::new();
        for p in &s.table.pods {
            let span = own
                .entry((p.namespace.as_str(), p.pod.as_str()))
                .or_insert((p.first, p.last));
            span.0 = span.0.min(p.first);
            span.1 = span.1.max(p.last);
        }
        for (k, (a, b)) in own {
            spans.entry(k).or_default().push((a, b, i));
        }
    }
    for ((namespace, pod), mut list) in spans {
        list.sort_unstable();
        for w in list.windows(2) {
            let ((a0, a1, i), (b0, b1, j)) = (w[0], w[1]);
            if b0.saturating_sub(a1) > apart {
                continue;
            }
            let pod = if namespace.is_empty() {
                pod.to_owned()
            } else {
                format!("{namespace}/{pod}")
            };
            let (x, y) = (&shards[i].0, &shards[j].0);
            if x == y {
                bail!("{x} is given twice (pod {pod} would be counted twice)");
            }
            let span =
                |a: Millis, b: Millis| format!("{} .. {}", format_rfc3339(a), format_rfc3339(b));
            bail!(
                "pod {pod} is in {x} ({}) and in {y} ({}): a pod's logs may be split between shards only where they are silent for more than {} (so that no failure or repeated line spans two shards); shard by pod (all of a pod's logs, every container and export, in one shard)",
                span(a0, a1),
                span(b0, b1),
                format_duration(apart)
            );
        }
    }
    Ok(())
}

/// The pods seen by several shards as one: a container seen by two (at a silence longer than
/// the one [`check_pods`] asks for) spans both, with the silence between them as a gap.
fn join_pods(mut pods: Vec<PodSeen>) -> Vec<PodSeen> {
    pods.sort_by(|a, b| {
        (&a.pod, &a.container, &a.namespace, a.first).cmp(&(
            &b.pod,
            &b.container,
            &b.namespace,
            b.first,
        ))
    });
    let mut out: Vec<PodSeen> = Vec::with_capacity(pods.len());
    for p in pods {
        match out.last_mut() {
            Some(o)
                if (&o.pod, &o.container, &o.namespace) == (&p.pod, &p.container, &p.namespace) =>
            {
                if p.first > o.last.saturating_add(SEGMENT_GAP) {
                    o.gaps.push((o.last, p.first));
                }
                o.gaps.extend(p.gaps);
                o.gaps.sort_unstable();
                o.starts.extend(p.starts);
                o.starts.sort_unstable();
                o.first = o.first.min(p.first);
                o.last = o.last.max(p.last);
                o.records += p.records;
            }
            _ => out.push(p),
        }
    }
    out
}

/// Adds `from`'s counts (the same series, from another shard) to `to`.
fn add_series(to: &mut SeriesAcc, from: SeriesAcc) {
    to.records += from.records;
    to.events += from.events;
    to.first_record = to.first_record.min(from.first_record);
    to.last_record = to.last_record.max(from.last_record);
    for (list, more) in [
        (&mut to.scrapes, from.scrapes),
        (&mut to.enters, from.enters),
        (&mut to.leaves, from.leaves),
    ] {
        list.extend(more);
        list.sort_unstable_by_key(|&(t, _)| t);
        list.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
    }
}

fn add_counted(to: &mut Counted, from: &Counted) {
    to.counted += from.counted;
    if to.by_rule.len() < from.by_rule.len() {
        to.by_rule.resize(from.by_rule.len(), 0);
    }
    for (a, b) in to.by_rule.iter_mut().zip(&from.by_rule) {
        *a += b;
    }
}

/// The first setting that differs, as `name: a vs b`.
pub fn settings_differ(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> Option<String> {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names.into_iter().find_map(|k| {
        let (x, y) = (a.get(k), b.get(k));
        (x != y).then(|| {
            format!(
                "{k}: {} vs {}",
                x.map_or("(not set)", String::as_str),
                y.map_or("(not set)", String::as_str)
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    /// A shard with one pod's container seen from `first` to `last`, one alert series of
    /// that pod with `records` error events scraped at `last`, and signature `sig`'s example
    /// `example` at line 1 of its input `input`.
    fn shard(input: &str, first: Millis, last: Millis, records: u64, example: &str) -> Shard {
        let mut syms = Interner::new();
        let (pod, sig) = (
            syms.intern("api-7c9d5b8f6d-x2kqp"),
            syms.intern("failed: <*>"),
        );
        let mut table = EventTable {
            syms,
            pods: vec![PodSeen {
                pod: "api-7c9d5b8f6d-x2kqp".into(),
                container: "api".into(),
                namespace: "prod".into(),
                first,
                last,
                records,
                gaps: Vec::new(),
                starts: vec![first],
            }],
            records,
            ..EventTable::default()
        };
        table.examples.insert(sig, example.into());
        table.example_at.insert(sig, (0, 1));
        let series = SeriesAcc {
            key: (0, pod, 0, 0),
            records,
            events: records,
            first_record: first,
            last_record: last,
            scrapes: vec![(last, records)],
            enters: Vec::new(),
            leaves: Vec::new(),
        };
        Shard {
            table,
            example_inputs: vec![input.into()],
            series: [vec![series.clone()], vec![series]],
            ..Shard::default()
        }
    }

    #[test]
    fn a_pod_split_at_a_long_silence_adds_up() {
        let day = 24 * 60 * MIN;
        // The second shard's input name sorts first: the example is still the first shard's,
        // as one run over the shards' inputs in order finds it.
        let c = combine(
            vec![
                (
                    "day-2.parquet".into(),
                    shard("z.log", day, day + 30 * MIN, 5, "failed: 2"),
                ),
                (
                    "day-1.parquet".into(),
                    shard("a.log", 0, 30 * MIN, 3, "failed: 1"),
                ),
            ],
            15 * MIN,
        )
        .unwrap();
        assert_eq!(c.table.records, 8);
        assert_eq!(c.table.examples.values().collect::<Vec<_>>(), ["failed: 2"]);
        let [p] = c.table.pods.as_slice() else {
            panic!("one container: {:?}", c.table.pods)
        };
        assert_eq!((p.first, p.last, p.records), (0, day + 30 * MIN, 8));
        assert_eq!(p.gaps, [(30 * MIN, day)]);
        assert_eq!(p.starts, [0, day]);
        let [s] = c.series.as_slice() else {
            panic!("one series: {}", c.series.len())
        };
        assert_eq!(
            (s.records, s.first_record, s.last_record),
            (8, 0, day + 30 * MIN)
        );
        assert_eq!(s.scrapes, [(30 * MIN, 3), (day + 30 * MIN, 5)]);
    }

    #[test]
    fn a_pod_in_two_shards_without_a_long_silence_is_refused() {
        let err = combine(
            vec![
                (
                    "a.parquet".into(),
                    shard("a.log", 0, 30 * MIN, 3, "failed: 1"),
                ),
                (
                    "b.parquet".into(),
                    shard("b.log", 40 * MIN, 60 * MIN, 5, "failed: 2"),
                ),
            ],
            15 * MIN,
        )
        .err()
        .expect("refused")
        .to_string();
        assert!(
            err.contains("pod prod/api-7c9d5b8f6d-x2kqp is in a.parquet")
                && err.contains("and in b.parquet")
                && err.contains("silent for more than 15m"),
            "{err}"
        );
    }
}
