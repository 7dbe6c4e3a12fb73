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
#[inline]
pub fn order_key(r: &ErrorEvent) -> (i64, u32, u64) {
    (r.ts, r.input, r.line)
}

fn encode(r: &ErrorEvent, out: &mut [u8; RECORD_BYTES]) {
    out[0..8].copy_from_slice(&r.ts.to_le_bytes());
    out[8..16].copy_from_slice(&r.line.to_le_bytes());
    out[16..24].copy_from_slice(&r.error_key.to_le_bytes());
    out[24..32].copy_from_slice(&r.line_hash.to_le_bytes());
    out[32..36].copy_from_slice(&r.input.to_le_bytes());
    out[36..40].copy_from_slice(&r.lines.to_le_bytes());
    out[40..44].copy_from_slice(&r.pod.to_le_bytes());
    out[44..48].copy_from_slice(&r.container.to_le_bytes());
    out[48..52].copy_from_slice(&r.namespace.to_le_bytes());
    out[52..56].copy_from_slice(&r.signature.to_le_bytes());
    out[56..58].copy_from_slice(&r.cause.to_le_bytes());
    out[58] = r.level as u8;
    out[59] = r.first_of_event as u8;
    out[60..64].fill(0);
}

fn decode(b: &[u8]) -> ErrorEvent {
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    ErrorEvent {
        ts: u64_at(0) as i64,
        line: u64_at(8),
        error_key: u64_at(16),
        line_hash: u64_at(24),
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
        first_of_event: b[59] != 0,
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

    /// Sorts `rows` and appends them to the spill file as one run. The sort is sequential:
    /// this runs under the collector's lock, where a rayon sort could steal a job that waits
    /// for the same lock.
    pub fn write_run(&mut self, rows: &mut [ErrorEvent]) -> io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        rows.sort_unstable_by_key(order_key);
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let file = self.file.as_mut().expect("just created");
        file.seek(SeekFrom::Start(self.end))?;
        let mut w = BufWriter::with_capacity(1 << 20, &*file);
        let mut buf = [0u8; RECORD_BYTES];
        for r in rows.iter() {
            encode(r, &mut buf);
            w.write_all(&buf)?;
        }
        w.flush()?;
        self.runs.push(Run {
            offset: self.end,
            len: rows.len() as u64,
        });
        self.end += (rows.len() * RECORD_BYTES) as u64;
        Ok(())
    }

    /// Every record of every run and of `memory` (which it sorts), in [`order_key`] order.
    pub fn merged(self, mut memory: Vec<ErrorEvent>) -> io::Result<Merged> {
        memory.par_sort_unstable_by_key(order_key);
        let spilled = !self.runs.is_empty();
        let mut sources = Vec::with_capacity(self.runs.len() + 1);
        sources.push(Source::Memory(memory.into_iter()));
        if let Some(file) = self.file {
            let file = std::rc::Rc::new(file);
            for run in self.runs {
                sources.push(Source::Run(RunReader {
                    file: file.clone(),
                    next: run.offset,
                    left: run.len,
                    batch: Vec::new().into_iter(),
                }));
            }
        }
        let mut heap = BinaryHeap::with_capacity(sources.len());
        // With one source (nothing spilled) `next_row` reads it directly, without the heap.
        for (i, s) in sources.iter_mut().enumerate().filter(|_| spilled) {
            if let Some(r) = s.next()? {
                heap.push(Reverse(Head(order_key(&r), i, r)));
            }
        }
        Ok(Merged { sources, heap })
    }
}

/// Reads one run back, a batch at a time.
struct RunReader {
    file: std::rc::Rc<File>,
    next: u64,
    left: u64,
    batch: std::vec::IntoIter<ErrorEvent>,
}

impl RunReader {
    fn next(&mut self) -> io::Result<Option<ErrorEvent>> {
        if let Some(r) = self.batch.next() {
            return Ok(Some(r));
        }
        if self.left == 0 {
            return Ok(None);
        }
        let n = self.left.min(READ_BATCH as u64) as usize;
        let mut bytes = vec![0u8; n * RECORD_BYTES];
        let mut f: &File = &self.file;
        f.seek(SeekFrom::Start(self.next))?;
        f.read_exact(&mut bytes)?;
        self.next += bytes.len() as u64;
        self.left -= n as u64;
        self.batch = bytes
            .chunks_exact(RECORD_BYTES)
            .map(decode)
            .collect::<Vec<_>>()
            .into_iter();
        Ok(self.batch.next())
    }
}

enum Source {
    Memory(std::vec::IntoIter<ErrorEvent>),
    Run(RunReader),
}

impl Source {
    fn next(&mut self) -> io::Result<Option<ErrorEvent>> {
        match self {
            Source::Memory(it) => Ok(it.next()),
            Source::Run(r) => r.next(),
        }
    }
}

/// A source's next record, ordered by its key (then source, so ties are stable).
struct Head((i64, u32, u64), usize, ErrorEvent);

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

/// The k-way merge of every run: records in [`order_key`] order.
pub struct Merged {
    sources: Vec<Source>,
    heap: BinaryHeap<Reverse<Head>>,
}

impl Merged {
    /// The next record, or `None` when every run is exhausted.
    pub fn next_row(&mut self) -> io::Result<Option<ErrorEvent>> {
        if self.sources.len() == 1 {
            return self.sources[0].next();
        }
        let Some(Reverse(Head(_, i, row))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(r) = self.sources[i].next()? {
            self.heap.push(Reverse(Head(order_key(&r), i, r)));
        }
        Ok(Some(row))
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
            line_hash: 0xdead_beef_cafe,
            first_of_event: true,
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
        for run in 0..5u32 {
            let mut rows: Vec<ErrorEvent> = (0..(READ_BATCH as i64 * 2 + 17))
                .map(|i| row((i * 7919 + run as i64 * 13) % 5000, run, i as u64))
                .collect();
            all.extend(rows.iter().cloned());
            spill.write_run(&mut rows).unwrap();
        }
        let memory: Vec<ErrorEvent> = (0..100).map(|i| row(i * 50, 9, i as u64)).collect();
        let mut alone = Spill::default().merged(memory.clone()).unwrap();
        let mut got = Vec::new();
        while let Some(r) = alone.next_row().unwrap() {
            got.push(r);
        }
        assert_eq!(
            got, memory,
            "nothing spilled: the records as they are, sorted"
        );
        all.extend(memory.iter().cloned());
        assert_eq!(spill.runs(), 5);
        let mut merged = spill.merged(memory).unwrap();
        let mut got = Vec::new();
        while let Some(r) = merged.next_row().unwrap() {
            got.push(r);
        }
        all.sort_by_key(order_key);
        assert_eq!(got, all);
    }
}
