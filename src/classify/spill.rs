//! Keeping memory bounded whatever the input size: error records are buffered in memory up to a
//! budget, then sorted and written to an anonymous temporary file as a sorted run; the merge
//! reads every run back at once, a small buffer each, and yields all records in time order
//! (a k-way merge, as `sort(1)` does it). An input whose errors fit the budget never touches
//! the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use rayon::slice::ParallelSliceMut;

use crate::model::{ErrorEvent, Level};

/// Bytes one record takes in a run file.
const RECORD_BYTES: usize = 64;
/// Records read back from a run at a time.
const READ_BATCH: usize = 1024;

/// The order records are merged in: time, then input, then line.
pub type OrderKey = (i64, u32, u64);

/// A record's [`OrderKey`].
#[inline]
pub fn order_key(r: &ErrorEvent) -> OrderKey {
    (r.ts, r.input, r.line)
}

fn encode(r: &ErrorEvent, out: &mut [u8; RECORD_BYTES]) {
    out[0..8].copy_from_slice(&r.ts.to_le_bytes());
    out[8..16].copy_from_slice(&r.line.to_le_bytes());
    out[16..24].copy_from_slice(&r.error_key.to_le_bytes());
    out[24..32].fill(0);
    out[32..36].copy_from_slice(&r.input.to_le_bytes());
    out[36..40].copy_from_slice(&r.lines.to_le_bytes());
    out[40..44].copy_from_slice(&r.pod.to_le_bytes());
    out[44..48].copy_from_slice(&r.container.to_le_bytes());
    out[48..52].copy_from_slice(&r.namespace.to_le_bytes());
    out[52..56].copy_from_slice(&r.signature.to_le_bytes());
    out[56..58].copy_from_slice(&r.cause.to_le_bytes());
    out[58] = r.level as u8;
    out[59] = r.first_of_event as u8 | (r.counted as u8) << 1 | (r.counted_as_outcome as u8) << 2;
    out[60] = r.outcome.is_some() as u8;
    out[61] = r.outcome.unwrap_or(0);
    out[62..64].fill(0);
}

fn decode(b: &[u8]) -> ErrorEvent {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    ErrorEvent {
        ts: u64_at(0) as i64,
        line: u64_at(8),
        error_key: u64_at(16),
        input: u32_at(32),
        lines: u32_at(36),
        pod: u32_at(40),
        container: u32_at(44),
        namespace: u32_at(48),
        signature: u32_at(52),
        cause: u16::from_le_bytes([b[56], b[57]]),
        level: Level::ALL
            .get(b[58] as usize)
            .copied()
            .unwrap_or(Level::Unknown),
        first_of_event: b[59] & 1 != 0,
        counted: b[59] & 2 != 0,
        counted_as_outcome: b[59] & 4 != 0,
        outcome: (b[60] != 0).then_some(b[61]),
    }
}

/// The records of one chunk, with the chunk's place in the run (input, chunk index).
#[derive(Debug, Default)]
pub struct Block {
    pub order: (u32, usize),
    pub rows: Vec<ErrorEvent>,
}

/// Most sorted pieces [`in_order`] hands to the k-way merge before it sorts instead.
const MAX_PIECES: usize = 64;

/// A sorted sequence of records, kept as the chunk vectors it came in.
type Piece = Vec<Vec<ErrorEvent>>;

/// The records of `blocks` as a few sorted pieces for the k-way merge. A container's log is
/// written in time order, so blocks put back in input and chunk order fall into a handful of
/// sorted stretches (one per container or pod, as `kubectl logs --prefix` dumps them one after
/// another), which are used as they are: nothing is sorted or copied. Input in no such order
/// is sorted instead (in parallel when `parallel`).
fn in_order(mut blocks: Vec<Block>, parallel: bool) -> Vec<Piece> {
    blocks.sort_unstable_by_key(|b| b.order);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut current: Piece = Vec::new();
    let mut prev: Option<OrderKey> = None;
    let mut rest = blocks.into_iter();
    while let Some(b) = rest.next() {
        let mut rows = b.rows;
        loop {
            let mut last = prev;
            let cut = rows.iter().position(|r| {
                let k = order_key(r);
                let backwards = last.is_some_and(|l| k < l);
                last = Some(k);
                backwards
            });
            match cut {
                None => {
                    prev = last;
                    if !rows.is_empty() {
                        current.push(rows);
                    }
                    break;
                }
                Some(i) => {
                    let tail = rows.split_off(i);
                    if !rows.is_empty() {
                        current.push(rows);
                    }
                    pieces.push(std::mem::take(&mut current));
                    prev = None;
                    rows = tail;
                    if pieces.len() >= MAX_PIECES {
                        // No useful order: sort everything.
                        let mut all: Vec<ErrorEvent> =
                            pieces.into_iter().flatten().flatten().collect();
                        all.extend(rows);
                        all.extend(rest.flat_map(|b| b.rows));
                        if parallel {
                            all.par_sort_unstable_by_key(order_key);
                        } else {
                            all.sort_unstable_by_key(order_key);
                        }
                        return vec![vec![all]];
                    }
                }
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Calls `write` with every record of `pieces` in [`order_key`] order (a k-way merge by
/// reference: nothing is copied, and the pieces are intact if writing fails).
fn for_each_merged(
    pieces: &[Piece],
    mut write: impl FnMut(&ErrorEvent) -> io::Result<()>,
) -> io::Result<()> {
    let mut heads: Vec<_> = pieces
        .iter()
        .map(|p| p.iter().flatten().peekable())
        .collect();
    loop {
        let mut best: Option<(OrderKey, usize)> = None;
        for (i, it) in heads.iter_mut().enumerate() {
            if let Some(r) = it.peek() {
                let k = order_key(r);
                match best {
                    Some((bk, _)) if bk <= k => {}
                    _ => best = Some((k, i)),
                }
            }
        }
        let Some((_, i)) = best else {
            return Ok(());
        };
        if let Some(r) = heads[i].next() {
            write(r)?;
        }
    }
}

fn memory_source(piece: Piece) -> Source {
    Source::Memory {
        piece,
        outer: 0,
        inner: 0,
    }
}

/// Where one sorted run lies in the spill file.
#[derive(Clone, Copy, Debug)]
struct Run {
    offset: u64,
    len: u64,
}

/// The sorted runs written so far.
#[derive(Debug, Default)]
pub struct Spill {
    file: Option<File>,
    runs: Vec<Run>,
    end: u64,
}

impl Spill {
    /// How many runs went to disk.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Puts the records of `blocks` in order and appends them to the spill file as one run.
    /// Any sort is sequential: this runs under the collector's lock, where a rayon sort could
    /// steal a job that waits for the same lock. On error the records are handed back.
    pub fn write_run(&mut self, blocks: Vec<Block>) -> Result<(), (io::Error, Vec<Block>)> {
        let pieces = in_order(blocks, false);
        match self.append(&pieces) {
            Ok(()) => Ok(()),
            Err(e) => {
                let blocks = pieces
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, rows)| Block {
                        order: (0, i),
                        rows,
                    })
                    .collect();
                Err((e, blocks))
            }
        }
    }

    fn append(&mut self, pieces: &[Piece]) -> io::Result<()> {
        let len: usize = pieces.iter().flatten().map(Vec::len).sum();
        if len == 0 {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let file = self.file.as_mut().expect("just created");
        file.seek(SeekFrom::Start(self.end))?;
        let mut w = BufWriter::with_capacity(1 << 20, &*file);
        let mut buf = [0u8; RECORD_BYTES];
        for_each_merged(pieces, |r| {
            encode(r, &mut buf);
            w.write_all(&buf)
        })?;
        w.flush()?;
        self.runs.push(Run {
            offset: self.end,
            len: len as u64,
        });
        self.end += (len * RECORD_BYTES) as u64;
        Ok(())
    }

    /// Every record of every run and of the `memory` blocks, in [`order_key`] order.
    pub fn merged(self, memory: Vec<Block>) -> io::Result<Merged> {
        let mut sources: Vec<Source> = in_order(memory, true)
            .into_iter()
            .map(memory_source)
            .collect();
        if let Some(file) = self.file {
            let file = std::rc::Rc::new(file);
            for run in self.runs {
                sources.push(Source::Run(RunReader {
                    file: file.clone(),
                    next: run.offset,
                    left: run.len,
                    batch: Vec::new(),
                    at: 0,
                }));
            }
        }
        Ok(Merged::new(sources))
    }
}

/// Reads one run back, a batch at a time.
struct RunReader {
    file: std::rc::Rc<File>,
    next: u64,
    left: u64,
    batch: Vec<ErrorEvent>,
    at: usize,
}

impl RunReader {
    /// Makes `batch[at]` the next record (reading the next batch when this one is used up).
    fn fill(&mut self) -> io::Result<()> {
        if self.at < self.batch.len() || self.left == 0 {
            return Ok(());
        }
        let n = self.left.min(READ_BATCH as u64) as usize;
        let mut bytes = vec![0u8; n * RECORD_BYTES];
        let mut f: &File = &self.file;
        f.seek(SeekFrom::Start(self.next))?;
        f.read_exact(&mut bytes)?;
        self.next += bytes.len() as u64;
        self.left -= n as u64;
        self.batch.clear();
        self.batch
            .extend(bytes.chunks_exact(RECORD_BYTES).map(decode));
        self.at = 0;
        Ok(())
    }
}

/// One sorted source of the merge, looked at in place: `peek` its next record, `advance`
/// past it.
enum Source {
    Memory {
        piece: Piece,
        outer: usize,
        inner: usize,
    },
    Run(RunReader),
}

impl Source {
    fn peek(&self) -> Option<&ErrorEvent> {
        match self {
            Source::Memory {
                piece,
                outer,
                inner,
            } => piece.get(*outer)?.get(*inner),
            Source::Run(r) => r.batch.get(r.at),
        }
    }

    fn advance(&mut self) -> io::Result<()> {
        match self {
            Source::Memory {
                piece,
                outer,
                inner,
            } => {
                *inner += 1;
                if *inner >= piece[*outer].len() {
                    // Free each chunk's rows as soon as they are merged.
                    piece[*outer] = Vec::new();
                    *outer += 1;
                    *inner = 0;
                }
                Ok(())
            }
            Source::Run(r) => {
                r.at += 1;
                r.fill()
            }
        }
    }
}

/// The k-way merge of every run: records in [`order_key`] order (ties: the earlier source).
/// The sources' next keys sit side by side in `keys`; a few sources are compared directly,
/// many through a heap of their keys.
pub struct Merged {
    sources: Vec<Source>,
    /// Each source's next key, `None` once it is used up.
    keys: Vec<Option<OrderKey>>,
    heap: BinaryHeap<Reverse<(OrderKey, usize)>>,
    started: bool,
}

/// Up to this many sources, the next record is found by comparing them all.
const LINEAR_MAX: usize = 8;

impl Merged {
    fn new(sources: Vec<Source>) -> Self {
        Merged {
            keys: Vec::with_capacity(sources.len()),
            heap: BinaryHeap::new(),
            sources,
            started: false,
        }
    }

    /// The next record, or `None` when every run is exhausted.
    pub fn next_row(&mut self) -> io::Result<Option<ErrorEvent>> {
        let large = self.sources.len() > LINEAR_MAX;
        if !self.started {
            self.started = true;
            for (i, s) in self.sources.iter_mut().enumerate() {
                if let Source::Run(r) = s {
                    r.fill()?;
                }
                let k = s.peek().map(order_key);
                if let (true, Some(k)) = (large, k) {
                    self.heap.push(Reverse((k, i)));
                }
                self.keys.push(k);
            }
        }
        let i = if !large {
            let mut best: Option<(OrderKey, usize)> = None;
            for (i, k) in self.keys.iter().enumerate() {
                if let Some(k) = *k {
                    match best {
                        Some((bk, _)) if bk <= k => {}
                        _ => best = Some((k, i)),
                    }
                }
            }
            match best {
                Some((_, i)) => i,
                None => return Ok(None),
            }
        } else {
            match self.heap.pop() {
                Some(Reverse((_, i))) => i,
                None => return Ok(None),
            }
        };
        let source = &mut self.sources[i];
        let row = source.peek().cloned();
        source.advance()?;
        let k = source.peek().map(order_key);
        if let (true, Some(k)) = (large, k) {
            self.heap.push(Reverse((k, i)));
        }
        self.keys[i] = k;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: i64, input: u32, line: u64) -> ErrorEvent {
        ErrorEvent {
            ts,
            cause: 3,
            level: Level::Warn,
            pod: 7,
            container: 8,
            namespace: 9,
            input,
            line,
            lines: 4,
            signature: 11,
            error_key: u64::MAX - 1,
            first_of_event: true,
            outcome: Some(2),
            counted: true,
            counted_as_outcome: true,
        }
    }

    #[test]
    fn records_survive_the_round_trip() {
        let r = row(-5, 2, 1 << 40);
        let mut buf = [0u8; RECORD_BYTES];
        encode(&r, &mut buf);
        assert_eq!(decode(&buf), r);
        for level in Level::ALL {
            let r = ErrorEvent {
                level,
                ..row(1, 1, 1)
            };
            encode(&r, &mut buf);
            assert_eq!(decode(&buf).level, level);
        }
    }

    #[test]
    fn runs_and_memory_merge_in_time_order() {
        let mut spill = Spill::default();
        let mut all = Vec::new();
        for run in 0..12u32 {
            // Two blocks per run, unsorted within and between them.
            let rows: Vec<ErrorEvent> = (0..(READ_BATCH as i64 * 2 + 17))
                .map(|i| row((i * 7919 + run as i64 * 13) % 5000, run, i as u64))
                .collect();
            all.extend(rows.iter().cloned());
            let (a, b) = rows.split_at(rows.len() / 2);
            let blocks = vec![
                Block {
                    order: (run, 1),
                    rows: b.to_vec(),
                },
                Block {
                    order: (run, 0),
                    rows: a.to_vec(),
                },
            ];
            spill.write_run(blocks).unwrap();
        }
        let memory: Vec<ErrorEvent> = (0..100).map(|i| row(i * 50, 9, i as u64)).collect();
        // Blocks handed over out of chunk order but in time order once put back: taken as
        // they are.
        let blocks = || {
            vec![
                Block {
                    order: (9, 1),
                    rows: memory[50..].to_vec(),
                },
                Block {
                    order: (9, 0),
                    rows: memory[..50].to_vec(),
                },
            ]
        };
        let mut alone = Spill::default().merged(blocks()).unwrap();
        let mut got = Vec::new();
        while let Some(r) = alone.next_row().unwrap() {
            got.push(r);
        }
        assert_eq!(got, memory, "nothing spilled: the records in order");
        all.extend(memory.iter().cloned());
        assert_eq!(
            spill.runs(),
            12,
            "more runs than the linear merge handles: the heap"
        );
        let mut merged = spill.merged(blocks()).unwrap();
        let mut got = Vec::new();
        while let Some(r) = merged.next_row().unwrap() {
            got.push(r);
        }
        all.sort_by_key(order_key);
        assert_eq!(got, all);
    }

    #[test]
    fn pods_dumped_one_after_another_are_merged_without_a_sort() {
        // Three pods, each in time order, dumped one after another across chunk blocks.
        let mut blocks = Vec::new();
        let mut all = Vec::new();
        let mut line = 0;
        for pod in 0..3i64 {
            for chunk in 0..4 {
                let rows: Vec<ErrorEvent> = (0..50)
                    .map(|i| {
                        line += 1;
                        row(pod * 7 + (chunk * 50 + i) * 10, 0, line)
                    })
                    .collect();
                all.extend(rows.iter().cloned());
                blocks.push(Block {
                    order: (0, (pod * 4 + chunk) as usize),
                    rows,
                });
            }
        }
        blocks.reverse();
        let pieces = in_order(blocks, false);
        assert_eq!(pieces.len(), 3, "one sorted piece per pod");
        let mut got = Vec::new();
        for_each_merged(&pieces, |r| {
            got.push(r.clone());
            Ok(())
        })
        .unwrap();
        all.sort_by_key(order_key);
        assert_eq!(got, all);
    }
}
