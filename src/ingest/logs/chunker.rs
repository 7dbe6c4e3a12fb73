//! Streaming an input in chunks of whole records, so chunks can be parsed in parallel while
//! memory stays bounded: a chunk is ~4 MiB, is cut where a new record starts (never between a
//! line and its stack trace), and a line longer than the limit is dropped while it is read,
//! leaving a one-byte marker line so line numbers and counts stay right.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use crate::model::Millis;

/// Bytes per chunk (a chunk may be longer by up to one line).
pub const CHUNK_BYTES: usize = 4 << 20;

/// The marker line left in place of a line longer than the limit.
pub const OVERLONG_MARKER: &[u8] = b"\0";

/// Lines looked back when searching for a record boundary or the last timestamp.
const LOOK_BACK_LINES: usize = 256;

/// Chunk buffers handed back once parsed, so the reader refills memory it already has instead
/// of faulting in (and the kernel zeroing) fresh pages for every chunk.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// Buffers kept at most (more are in flight only briefly; the rest are freed).
    const KEEP: usize = 8;

    /// An empty buffer with room for `capacity` bytes.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.free.lock().map_or(None, |mut f| f.pop());
        match reused {
            Some(mut buf) => {
                buf.clear();
                buf.reserve(capacity);
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Gives a buffer back.
    pub fn put(&self, buf: Vec<u8>) {
        if let Ok(mut free) = self.free.lock() {
            if free.len() < Self::KEEP {
                free.push(buf);
            }
        }
    }
}

/// A run of whole lines.
#[derive(Debug)]
pub struct Chunk {
    pub index: usize,
    /// 1-based number of the chunk's first line in its input.
    pub first_line: u64,
    pub data: Vec<u8>,
    /// Length in bytes of each overlong line replaced by the marker, in order.
    pub overlong: Vec<u64>,
}

/// Reads `R` and yields [`Chunk`]s. After iteration, `error` holds the read error that ended it
/// (truncated gzip, corrupt archive...), and `bytes` how much was read.
pub struct Chunker<R> {
    reader: R,
    buf: Vec<u8>,
    overlong: Vec<u64>,
    eof: bool,
    next_index: usize,
    next_line: u64,
    /// Newlines in `buf[..counted]`: lines are counted as they arrive, while in cache.
    newlines: u64,
    counted: usize,
    target: usize,
    max_line: usize,
    starts_record: fn(&[u8], &[u8]) -> bool,
    pool: Arc<BufferPool>,
    pub error: Option<io::Error>,
    pub bytes: u64,
}

impl<R: Read> Chunker<R> {
    /// A chunker whose buffers come from (and, once parsed, go back to) `pool`.
    pub fn new(
        reader: R,
        max_line: usize,
        starts_record: fn(&[u8], &[u8]) -> bool,
        pool: Arc<BufferPool>,
    ) -> Self {
        Self::with_target(reader, max_line, starts_record, CHUNK_BYTES, pool)
    }

    pub fn with_target(
        reader: R,
        max_line: usize,
        starts_record: fn(&[u8], &[u8]) -> bool,
        target: usize,
        pool: Arc<BufferPool>,
    ) -> Self {
        Chunker {
            reader,
            buf: pool.take(target + 64 * 1024),
            overlong: Vec::new(),
            eof: false,
            next_index: 0,
            next_line: 1,
            newlines: 0,
            counted: 0,
            target: target.max(1024),
            max_line: max_line.max(16),
            starts_record,
            pool,
            error: None,
            bytes: 0,
        }
    }

    /// Appends up to `want` bytes to the buffer (without zero-filling it first); sets `eof` at
    /// the end of the input or on a read error, which is kept.
    fn read_some(&mut self, want: usize) {
        let before = self.buf.len();
        let result = (&mut self.reader)
            .take(want as u64)
            .read_to_end(&mut self.buf);
        let got = self.buf.len() - before;
        self.bytes += got as u64;
        match result {
            Ok(_) if got < want => self.eof = true,
            Ok(_) => {}
            Err(e) => {
                self.error = Some(e);
                self.eof = true;
            }
        }
    }

    /// Counts the newlines read since the last call.
    fn count_new(&mut self) {
        self.newlines += memchr::memchr_iter(b'\n', &self.buf[self.counted..]).count() as u64;
        self.counted = self.buf.len();
    }

    /// Drops the rest of an overlong line (the buffer holds its start and no newline),
    /// replacing it with the marker line.
    fn drop_overlong_line(&mut self) {
        let mut dropped = self.buf.len() as u64;
        self.buf.clear();
        loop {
            self.read_some(64 * 1024);
            if let Some(nl) = memchr::memchr(b'\n', &self.buf) {
                dropped += nl as u64;
                self.buf.drain(..nl);
                break;
            }
            dropped += self.buf.len() as u64;
            self.buf.clear();
            if self.eof {
                break;
            }
        }
        self.overlong.push(dropped);
        let mut with_marker = OVERLONG_MARKER.to_vec();
        if self.buf.is_empty() && self.eof {
            with_marker.push(b'\n');
        }
        with_marker.extend_from_slice(&self.buf);
        self.buf = with_marker;
        self.newlines = 0;
        self.counted = 0;
    }

    /// Where to cut a full buffer: the start of the last complete line that starts a record
    /// (judged with the line before it).
    fn cut_point(&self) -> Option<usize> {
        let last_nl = memchr::memrchr(b'\n', &self.buf)?;
        let mut end = last_nl;
        for _ in 0..LOOK_BACK_LINES {
            let start = memchr::memrchr(b'\n', &self.buf[..end]).map_or(0, |p| p + 1);
            if start == 0 {
                break;
            }
            let prev_start = memchr::memrchr(b'\n', &self.buf[..start - 1]).map_or(0, |p| p + 1);
            if (self.starts_record)(&self.buf[prev_start..start - 1], &self.buf[start..end]) {
                return Some(start);
            }
            end = start - 1;
        }
        // No record start close by (a huge stack trace): cut at the last line end.
        Some(last_nl + 1)
    }
}

impl<R: Read> Chunker<R> {
    /// Emits `buf[..cut]` as the next chunk.
    fn emit(&mut self, cut: usize) -> Chunk {
        self.count_new();
        let mut rest = self.pool.take(self.target + 64 * 1024);
        rest.extend_from_slice(&self.buf[cut..]);
        self.buf.truncate(cut);
        let data = std::mem::replace(&mut self.buf, rest);
        let rest_newlines = memchr::memchr_iter(b'\n', &self.buf).count() as u64;
        let lines = self.newlines - rest_newlines + u64::from(!data.ends_with(b"\n"));
        self.newlines = rest_newlines;
        self.counted = self.buf.len();
        let chunk = Chunk {
            index: self.next_index,
            first_line: self.next_line,
            data,
            overlong: std::mem::take(&mut self.overlong),
        };
        self.next_index += 1;
        self.next_line += lines;
        chunk
    }
}

impl<R: Read> Iterator for Chunker<R> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        loop {
            // Read in pieces small enough to count while they are still in cache.
            while !self.eof && self.buf.len() < self.target {
                let want = (self.target - self.buf.len()).clamp(1024, 256 * 1024);
                self.read_some(want);
                self.count_new();
            }
            if self.buf.is_empty() {
                return None;
            }
            if self.eof {
                return Some(self.emit(self.buf.len()));
            }
            match self.cut_point() {
                Some(cut) => return Some(self.emit(cut)),
                // The buffer is one line with no end in sight.
                None if self.buf.len() >= self.max_line => self.drop_overlong_line(),
                None => {
                    let room = (self.max_line - self.buf.len()).clamp(1, 64 * 1024);
                    self.read_some(room);
                }
            }
        }
    }
}

/// The last timestamp in a chunk, looking back a few lines (for records at the start of the
/// next chunk that have no time of their own).
pub fn last_time(data: &[u8], line_time: impl Fn(&[u8]) -> Option<Millis>) -> Option<Millis> {
    let mut end = data.len();
    for _ in 0..LOOK_BACK_LINES {
        if end == 0 {
            return None;
        }
        let line_end = if data[end - 1] == b'\n' { end - 1 } else { end };
        let start = memchr::memrchr(b'\n', &data[..line_end]).map_or(0, |p| p + 1);
        if let Some(t) = line_time(&data[start..line_end]) {
            return Some(t);
        }
        end = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(_prev: &[u8], line: &[u8]) -> bool {
        !line.starts_with(b" ")
    }

    fn collect(input: &[u8], target: usize, max_line: usize) -> Vec<Chunk> {
        Chunker::with_target(input, max_line, starts, target, Arc::default()).collect()
    }

    #[test]
    fn chunks_cover_every_line_in_order() {
        let mut input = Vec::new();
        for i in 0..5000 {
            input.extend_from_slice(format!("record {i}\n    at frame {i}\n").as_bytes());
        }
        let chunks = collect(&input, 4096, 1 << 20);
        assert!(chunks.len() > 5);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, input);
        for c in &chunks {
            assert!(c.data.starts_with(b"record"), "cut inside a record");
            assert_eq!(c.first_line % 2, 1);
        }
    }

    #[test]
    fn overlong_lines_are_replaced_by_a_marker() {
        let mut input = b"first\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 50_000));
        input.extend_from_slice(b"\nlast\n");
        let chunks = collect(&input, 1024, 4096);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, b"first\n\0\nlast\n");
        let overlong: Vec<u64> = chunks.iter().flat_map(|c| c.overlong.clone()).collect();
        assert_eq!(overlong, vec![50_000]);
    }

    #[test]
    fn no_trailing_newline_and_empty_input() {
        let chunks = collect(b"a\nb", 1024, 4096);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, b"a\nb");
        assert!(collect(b"", 1024, 4096).is_empty());
    }

    #[test]
    fn read_errors_end_the_stream_and_are_kept() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
                }
                self.0 -= 1;
                buf[..6].copy_from_slice(b"line!\n");
                Ok(6)
            }
        }
        let mut c = Chunker::with_target(Failing(3), 4096, starts, 1024, Arc::default());
        let chunks: Vec<Chunk> = c.by_ref().collect();
        assert_eq!(chunks.iter().map(|c| c.data.len()).sum::<usize>(), 18);
        assert!(c.error.is_some());
    }
}
