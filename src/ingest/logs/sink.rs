//! The contract between ingest and whatever consumes records: ingest pushes every record into a
//! [`RecordSink`] (as ripgrep's searcher pushes matches into a sink), one sink per chunk, so the
//! consumer can run in parallel and the results can be merged in input order.

use std::borrow::Cow;

use crate::model::{Level, Millis};

/// A record's message or trace as found in the input: plain text, or a JSON string literal
/// (quotes and escapes included) that is decoded only when someone needs the text. Logs repeat
/// themselves, so most records are classified from a cache keyed on these bytes without ever
/// being decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text<'a> {
    Plain(&'a str),
    Json(&'a str),
}

impl<'a> Text<'a> {
    pub const EMPTY: Text<'static> = Text::Plain("");

    /// The bytes as found (a stable identity for caching).
    pub fn bytes(&self) -> &'a [u8] {
        match self {
            Text::Plain(s) | Text::Json(s) => s.as_bytes(),
        }
    }

    /// The text itself.
    pub fn decode(&self) -> Cow<'a, str> {
        match *self {
            Text::Plain(s) => Cow::Borrowed(s),
            Text::Json(raw) => {
                let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
                if !inner.contains('\\') {
                    Cow::Borrowed(inner)
                } else {
                    Cow::Owned(
                        serde_json::from_str::<String>(raw).unwrap_or_else(|_| inner.to_owned()),
                    )
                }
            }
        }
    }
}

/// One log record: a line and its continuation lines, with everything ingest could learn.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub ts: Millis,
    pub level: Level,
    /// Message and trace are filled only when the sink [`wants`](RecordSink::wants) the level.
    pub message: Text<'a>,
    pub trace: Text<'a>,
    /// The logger that wrote it (the JSON `service`/`context`/`logger`/`name`, Nest's
    /// `[Context]`), when wanted.
    pub logger: Text<'a>,
    /// The record's line when it is a JSON object (for rules on its fields), when wanted.
    pub json: Option<&'a str>,
    pub pod: &'a str,
    pub container: &'a str,
    pub namespace: &'a str,
    /// Names the run of lines `pod`, `container` and `namespace` came from: two records of one
    /// chunk with the same value have the same origin, so a sink can skip comparing the names.
    /// Records with different values may still share an origin.
    pub origin_run: u32,
    /// 1-based line of the record's first line in its input, and how many lines it spans.
    pub line: u64,
    pub lines: u32,
    /// The kubelet's time of its first line, in nanoseconds (`--timestamps`), when it had one.
    pub kubelet_nanos: Option<i64>,
    /// Hash of its first line's content (0 unless wanted): with the kubelet's time, the same
    /// line read from two overlapping exports of one container is told apart from the rest.
    pub content_hash: u64,
    /// A line the process prints as it starts (the container (re)started around here).
    pub start: Option<Boot>,
}

/// A startup line: the boot beginning (Nest's `[NestFactory] Starting Nest application...`)
/// or the application ready (`Nest application successfully started`, a bootstrap's
/// `Listening on`, `Application is running on`), which ends the boot it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Boot {
    Begin,
    Ready,
}

/// Receives the records of one chunk, in order.
pub trait RecordSink: Send {
    /// Whether records at this level need their message and trace (the rest only count).
    fn wants(&self, level: Level) -> bool;
    fn record(&mut self, rec: &Record<'_>);
    /// The chunk is done: hand on or release what it gathered (sinks are kept until the merge).
    fn finish(&mut self) {}
}

/// Makes one sink per chunk.
pub trait SinkFactory: Sync {
    type Sink: RecordSink;
    /// A sink for chunk number `chunk` of input number `input` (in the order inputs were found).
    fn make(&self, input: u32, chunk: usize) -> Self::Sink;
}
