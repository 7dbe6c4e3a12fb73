//! The contract between ingest and whatever consumes records: ingest pushes every record into a
//! [`RecordSink`] (as ripgrep's searcher pushes matches into a sink), one sink per chunk, so the
//! consumer can run in parallel and the results can be merged in input order.

use crate::model::{Level, Millis};

/// One log record: a line and its continuation lines, with everything ingest could learn.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub ts: Millis,
    pub level: Level,
    /// Message and trace are filled only when the sink [`wants`](RecordSink::wants) the level.
    pub message: &'a str,
    pub trace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub namespace: &'a str,
    /// 1-based line of the record's first line in its input, and how many lines it spans.
    pub line: u64,
    pub lines: u32,
    /// Hash of pod, time and first-line content (0 unless wanted): the same record read from
    /// two overlapping exports has the same hash.
    pub line_hash: u64,
}

/// Receives the records of one chunk, in order.
pub trait RecordSink: Send {
    /// Whether records at this level need their message and trace (the rest only count).
    fn wants(&self, level: Level) -> bool;
    fn record(&mut self, rec: &Record<'_>);
}

/// Makes one sink per chunk.
pub trait SinkFactory: Sync {
    type Sink: RecordSink;
    fn make(&self) -> Self::Sink;
}
