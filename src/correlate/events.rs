//! The classified events table and what is aggregated from it. The merge streams the error
//! records (in time order) into [`EventsBuilder`], which keeps one row per minute, cause, pod,
//! container, namespace and message signature: the events table at minute resolution, the
//! finest any aggregation uses, so its size follows the incident's length and variety, not the
//! number of records. polars does the per-cause, per-pod, per-signature and per-minute
//! aggregations ([`Events::build`]) and answers the questions the other findings ask of it
//! (which names are most common, which errors came around a termination).

use std::collections::BTreeMap;

use polars::prelude::{col, lit, Column, DataFrame, Expr, IntoLazy, PolarsResult};

use crate::classify::{CauseTable, EventTable};
use crate::model::event::{CauseIdx, Sym};
use crate::model::time::MINUTE;
use crate::model::{ErrorEvent, Millis};

/// How many top messages each cause lists.
pub const TOP_MESSAGES: usize = 5;

/// Aggregation key of [`EventsBuilder`]: cause, pod, container, namespace, signature.
pub type MinuteKey = (CauseIdx, Sym, Sym, Sym, Sym);

/// Records, events, first and last time of one aggregation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    pub events: u64,
    pub first: Millis,
    pub last: Millis,
}

/// One row of the events table: its minute, key and tally.
pub type MinuteRow = (Millis, MinuteKey, Tally);

/// The classified events table, built as the merge streams the error records (in time order):
/// one row per minute, cause, pod, container, namespace and message signature, with the
/// records and events it holds and their first and last time. Names are integer codes (cause
/// index, interned strings).
#[derive(Default)]
pub struct EventsBuilder {
    minute: Option<Millis>,
    current: foldhash::HashMap<MinuteKey, Tally>,
    minute_ms: Vec<i64>,
    keys: Vec<MinuteKey>,
    tallies: Vec<Tally>,
}

impl EventsBuilder {
    /// Adds one error record; records must come in time order.
    pub fn add(&mut self, r: &ErrorEvent) {
        let minute = r.ts - r.ts.rem_euclid(MINUTE);
        if self.minute != Some(minute) {
            self.flush();
            self.minute = Some(minute);
        }
        let key = (r.cause, r.pod, r.container, r.namespace, r.signature);
        let t = self.current.entry(key).or_insert(Tally {
            records: 0,
            events: 0,
            first: r.ts,
            last: r.ts,
        });
        t.records += 1;
        t.events += r.counted as u64;
        t.last = r.ts;
    }

    /// Every row, in minute order (each minute's by key).
    pub fn into_rows(mut self) -> Vec<MinuteRow> {
        self.flush();
        self.minute = None;
        self.minute_ms
            .into_iter()
            .zip(self.keys)
            .zip(self.tallies)
            .map(|((m, k), t)| (m, k, t))
            .collect()
    }

    /// A builder holding `rows` (no key twice in a minute), as if their records had been
    /// added: in minute order, each minute's by key.
    pub fn from_rows(mut rows: Vec<MinuteRow>) -> Self {
        rows.sort_unstable_by_key(|&(m, k, _)| (m, k));
        let mut b = EventsBuilder::default();
        for (m, k, t) in rows {
            b.minute_ms.push(m);
            b.keys.push(k);
            b.tallies.push(t);
        }
        b
    }

    fn flush(&mut self) {
        let Some(minute) = self.minute else {
            return;
        };
        let mut rows: Vec<(MinuteKey, Tally)> = self.current.drain().collect();
        rows.sort_unstable_by_key(|(k, _)| *k);
        for (k, t) in rows {
            self.minute_ms.push(minute);
            self.keys.push(k);
            self.tallies.push(t);
        }
    }

    /// The table as a polars DataFrame.
    fn frame(mut self) -> PolarsResult<DataFrame> {
        self.flush();
        let key = |f: fn(&MinuteKey) -> u32| self.keys.iter().map(f).collect::<Vec<u32>>();
        let tally = |f: fn(&Tally) -> u64| self.tallies.iter().map(f).collect::<Vec<u64>>();
        let time = |f: fn(&Tally) -> i64| self.tallies.iter().map(f).collect::<Vec<i64>>();
        DataFrame::new_infer_height(vec![
            Column::new("minute_ms".into(), self.minute_ms.clone()),
            Column::new("cause".into(), key(|k| k.0 as u32)),
            Column::new("pod".into(), key(|k| k.1)),
            Column::new("container".into(), key(|k| k.2)),
            Column::new("namespace".into(), key(|k| k.3)),
            Column::new("signature".into(), key(|k| k.4)),
            Column::new("records".into(), tally(|t| t.records)),
            Column::new("events".into(), tally(|t| t.events)),
            Column::new("first".into(), time(|t| t.first)),
            Column::new("last".into(), time(|t| t.last)),
        ])
    }
}

/// Records and events of one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub events: u64,
}

/// A message signature of a cause: the masked text, one real message with it, its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopMessage {
    pub signature: String,
    pub example: String,
    pub records: u64,
}

/// What one cause produced.
#[derive(Clone, Debug, PartialEq)]
pub struct CauseStats {
    pub cause: CauseIdx,
    pub counts: Counts,
    pub first: Millis,
    pub last: Millis,
    /// Per pod name (empty: records with no pod).
    pub by_pod: BTreeMap<String, Counts>,
    /// The most frequent signatures, at most [`TOP_MESSAGES`], most records first.
    pub top_messages: Vec<TopMessage>,
    /// Every signature (at most [`MAX_SIGNATURES`]), most records first: what a later run is
    /// compared with.
    pub signatures: Vec<TopMessage>,
}

/// The most signatures a cause keeps for comparison with a baseline.
pub const MAX_SIGNATURES: usize = 1000;

/// The events table and its aggregations.
pub struct Events {
    frame: DataFrame,
    /// Every cause with error records, most events first (then most records, then id).
    pub causes: Vec<CauseStats>,
    /// Error events per minute and cause.
    pub per_minute: BTreeMap<Millis, BTreeMap<CauseIdx, u64>>,
}

/// Group the events table by `keys`, summing records and events, with first and last time.
/// Row order is unspecified: callers sort what they show.
fn counts(df: &DataFrame, keys: &[&str]) -> PolarsResult<DataFrame> {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    df.clone()
        .lazy()
        .group_by(by)
        .agg([
            col("records").sum().alias("records"),
            col("events").sum().alias("events"),
            col("first").min().alias("first"),
            col("last").max().alias("last"),
        ])
        .collect()
}

fn u32_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = u32> + 'a> {
    Ok(df.column(name)?.u32()?.iter().map(|v| v.unwrap_or(0)))
}

fn u64_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = u64> + 'a> {
    Ok(df.column(name)?.u64()?.iter().map(|v| v.unwrap_or(0)))
}

fn i64_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = i64> + 'a> {
    Ok(df.column(name)?.i64()?.iter().map(|v| v.unwrap_or(0)))
}

/// Records and events per row of an aggregation.
fn counts_col(df: &DataFrame) -> PolarsResult<impl Iterator<Item = Counts> + '_> {
    Ok(u64_col(df, "records")?
        .zip(u64_col(df, "events")?)
        .map(|(records, events)| Counts { records, events }))
}

impl Events {
    /// Aggregates the table the merge built: by cause, by cause and pod, by cause and
    /// signature, and per minute (four independent aggregations, run side by side).
    pub fn build(
        builder: EventsBuilder,
        table: &EventTable,
        causes: &CauseTable,
    ) -> PolarsResult<Events> {
        let frame = builder.frame()?;
        let ((by_cause, by_pod), (by_sig, per_min)) = rayon::join(
            || {
                rayon::join(
                    || counts(&frame, &["cause"]),
                    || counts(&frame, &["cause", "pod"]),
                )
            },
            || {
                rayon::join(
                    || counts(&frame, &["cause", "signature"]),
                    || counts(&frame, &["minute_ms", "cause"]),
                )
            },
        );
        let (by_cause, by_pod, by_sig, per_min) = (by_cause?, by_pod?, by_sig?, per_min?);
        let mut pods: BTreeMap<CauseIdx, BTreeMap<String, Counts>> = BTreeMap::new();
        for ((c, p), n) in u32_col(&by_pod, "cause")?
            .zip(u32_col(&by_pod, "pod")?)
            .zip(counts_col(&by_pod)?)
        {
            pods.entry(c as CauseIdx)
                .or_default()
                .insert(table.syms.get(p).to_owned(), n);
        }
        let mut messages: BTreeMap<CauseIdx, Vec<TopMessage>> = BTreeMap::new();
        for ((c, sig), records) in u32_col(&by_sig, "cause")?
            .zip(u32_col(&by_sig, "signature")?)
            .zip(u64_col(&by_sig, "records")?)
        {
            messages.entry(c as CauseIdx).or_default().push(TopMessage {
                signature: table.syms.get(sig).to_owned(),
                example: table.examples.get(&sig).cloned().unwrap_or_default(),
                records,
            });
        }
        let mut stats = Vec::new();
        for (((c, counts), first), last) in u32_col(&by_cause, "cause")?
            .zip(counts_col(&by_cause)?)
            .zip(i64_col(&by_cause, "first")?)
            .zip(i64_col(&by_cause, "last")?)
        {
            let cause = c as CauseIdx;
            let mut top_messages = messages.remove(&cause).unwrap_or_default();
            top_messages.sort_by(|a, b| {
                b.records
                    .cmp(&a.records)
                    .then(a.signature.cmp(&b.signature))
            });
            let mut signatures = top_messages.clone();
            signatures.truncate(MAX_SIGNATURES);
            top_messages.truncate(TOP_MESSAGES);
            stats.push(CauseStats {
                signatures,
                cause,
                counts,
                first,
                last,
                by_pod: pods.remove(&cause).unwrap_or_default(),
                top_messages,
            });
        }
        stats.sort_by(|a, b| {
            b.counts
                .events
                .cmp(&a.counts.events)
                .then(b.counts.records.cmp(&a.counts.records))
                .then(causes.id(a.cause).cmp(causes.id(b.cause)))
        });
        let mut per_minute: BTreeMap<Millis, BTreeMap<CauseIdx, u64>> = BTreeMap::new();
        for ((m, c), e) in i64_col(&per_min, "minute_ms")?
            .zip(u32_col(&per_min, "cause")?)
            .zip(u64_col(&per_min, "events")?)
        {
            per_minute.entry(m).or_default().insert(c as CauseIdx, e);
        }
        Ok(Events {
            frame,
            causes: stats,
            per_minute,
        })
    }

    /// How many error records carry each name in one column (`pod`, `container`,
    /// `namespace`) of the events table; names with none are left out.
    pub fn name_counts<'a>(
        &self,
        table: &'a EventTable,
        column: &str,
    ) -> PolarsResult<Vec<(&'a str, u64)>> {
        let mut counts = vec![0u64; table.syms.len()];
        for (sym, n) in u32_col(&self.frame, column)?.zip(u64_col(&self.frame, "records")?) {
            counts[sym as usize] += n;
        }
        Ok(counts
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(sym, n)| (table.syms.get(sym as u32), n))
            .collect())
    }

    /// Error records on `pod` by cause: in the five minutes up to `at` (its minute included)
    /// and in the five minutes after, at the events table's minute resolution.
    pub fn errors_around(&self, pod: Sym, at: Millis) -> PolarsResult<(CauseTally, CauseTally)> {
        let minute = at - at.rem_euclid(MINUTE);
        let window = |lo: Millis, hi: Millis| -> PolarsResult<CauseTally> {
            let df = self
                .frame
                .clone()
                .lazy()
                .filter(
                    col("pod")
                        .eq(lit(pod))
                        .and(col("minute_ms").gt_eq(lit(lo)))
                        .and(col("minute_ms").lt_eq(lit(hi))),
                )
                .group_by([col("cause")])
                .agg([col("records").sum().alias("records")])
                .collect()?;
            let tally = u32_col(&df, "cause")?
                .zip(u64_col(&df, "records")?)
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| (c as CauseIdx, n))
                .collect();
            Ok(tally)
        };
        Ok((
            window(minute - 5 * MINUTE, minute)?,
            window(minute + MINUTE, minute + 5 * MINUTE)?,
        ))
    }
}

/// Error records per cause.
pub type CauseTally = BTreeMap<CauseIdx, u64>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interner;

    const T: Millis = 1_763_630_000_000;

    fn record(
        syms: &mut Interner,
        cause: CauseIdx,
        pod: &str,
        sig: &str,
        ts: Millis,
        first: bool,
    ) -> ErrorEvent {
        ErrorEvent {
            first_of_event: first,
            counted: first,
            ..ErrorEvent::at(ts, cause, syms.intern(pod), syms.intern(sig))
        }
    }

    #[test]
    fn causes_ranked_by_events_with_pods_messages_and_minutes() {
        let causes = CauseTable::builtin();
        let db = causes.index("database_error").unwrap();
        let api = causes.index("anthropic_api_error").unwrap();
        let mut syms = Interner::new();
        let rows = [
            record(&mut syms, db, "a", "ECONNREFUSED <ip>", T, true),
            record(&mut syms, db, "a", "ECONNREFUSED <ip>", T + 10, false),
            record(&mut syms, api, "b", "overloaded", T + 20, true),
            record(&mut syms, api, "", "overloaded", T + 61_000, true),
            record(&mut syms, db, "b", "too many clients", T + 62_000, true),
        ];
        let mut b = EventsBuilder::default();
        for r in &rows {
            b.add(r);
        }
        let table = EventTable {
            syms,
            ..EventTable::default()
        };
        let events = Events::build(b, &table, &causes).unwrap();
        // Two events each: the tie goes to the cause with more records.
        let ranked: Vec<CauseIdx> = events.causes.iter().map(|c| c.cause).collect();
        assert_eq!(ranked, [db, api]);
        let d = &events.causes[0];
        assert_eq!((d.counts.records, d.counts.events), (3, 2));
        assert_eq!((d.first, d.last), (T, T + 62_000));
        assert_eq!(
            d.by_pod["a"],
            Counts {
                records: 2,
                events: 1
            }
        );
        assert_eq!(d.top_messages[0].signature, "ECONNREFUSED <ip>");
        assert_eq!(d.top_messages[0].records, 2);
        assert_eq!(
            events.causes[1].by_pod[""].events, 1,
            "no pod: counted as such"
        );
        let minute = T - T.rem_euclid(MINUTE);
        assert_eq!(events.per_minute[&minute][&db], 1);
        assert_eq!(events.per_minute[&(minute + MINUTE)][&api], 1);
        assert_eq!(
            events.name_counts(&table, "pod").unwrap(),
            [("", 1), ("a", 2), ("b", 2)]
        );
    }
}
