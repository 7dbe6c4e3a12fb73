//! Turning one chunk of lines into records: peel prefix and kubelet time, parse the content
//! (JSON, Nest, plain text), fold continuation lines into the record above, settle each
//! record's time and level, and account for every line (used, or skipped with a reason).
//! Runs on many chunks at once; everything it needs is in [`FileCtx`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use xxhash_rust::xxh3::xxh3_64;

use super::chunker::{Chunk, OVERLONG_MARKER};
use super::hints::PathHints;
use super::line::{
    is_continuation, is_kubectl_message, is_nest_error, is_stack_head, is_v8_report_line,
    is_v8_report_start, split_kubelet_ts, split_kubelet_ts_cached, split_prefix, Prefix,
};
use super::sink::{Boot, Record, RecordSink, Text};
use super::{json_log, text};
use crate::model::quality::MAX_PROBLEMS_PER_INPUT;
use crate::model::time::{format_short, MinuteCache, ParsedTs, Zone};
use crate::model::{FileQuality, Level, Millis, Problem, SkipReason};

/// What the scanner needs to know about the input and the run.
#[derive(Clone, Debug)]
pub struct FileCtx {
    pub hints: PathHints,
    pub zone: Zone,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub max_line: usize,
    /// Times a record of this input may have: around the bulk of its first lines (see
    /// [`bulk_window`]); a record outside is skipped as far off, so that one line dated 1970
    /// or 9999 can never stretch the evaluation over decades.
    pub plausible: Option<(Millis, Millis)>,
}

/// How far from the bulk of an input's first lines a record's time may be.
pub const FAR_OFF_MS: Millis = 31 * 86_400_000;

/// The times an input's records may have, from the times of its first lines: their median,
/// give or take [`FAR_OFF_MS`]. `None` when no line in `head` carries a time.
pub fn bulk_window(head: &[u8], zone: Zone) -> Option<(Millis, Millis)> {
    let mut times: Vec<Millis> = head
        .split(|&c| c == b'\n')
        .take(10_000)
        .filter_map(|l| line_time(l, zone))
        .collect();
    if times.is_empty() {
        return None;
    }
    let mid = times.len() / 2;
    let (_, median, _) = times.select_nth_unstable(mid);
    let median = *median;
    Some((
        median.saturating_sub(FAR_OFF_MS),
        median.saturating_add(FAR_OFF_MS),
    ))
}

/// Assumption labels, as the data-quality section prints them.
pub const ASSUMED_ZONE: &str = "timestamps without zone read in --tz";
pub const INHERITED_TIME: &str = "records without a time took the previous record's";
pub const INFERRED_LEVEL: &str = "level inferred from the text (no level field)";
pub const LOSSY_UTF8: &str = "lines with invalid UTF-8 read lossily";
pub const ANSI_STRIPPED: &str = "lines with ANSI colour codes stripped";
pub const POD_FROM_NAME: &str = "records attributed to a pod by the file name";

/// Everything one chunk learned, merged in chunk order into the input's [`FileQuality`].
#[derive(Debug, Default)]
pub struct ChunkStats {
    pub lines: u64,
    pub used: u64,
    pub records: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub assumed: BTreeMap<&'static str, u64>,
    pub first_ts: Option<Millis>,
    pub last_ts: Option<Millis>,
    pub input_first_ts: Option<Millis>,
    pub input_last_ts: Option<Millis>,
    pub problems: Vec<Problem>,
    pub problem_count: u64,
    /// The last record time in the chunk (the next chunk's records may inherit it).
    pub last_record_ts: Option<Millis>,
    /// The first kubectl error message seen (shown when an input holds nothing else).
    pub kubectl_message: Option<String>,
    /// Runs of lines under one `--prefix` (`pod/container`, lines), in order.
    pub prefix_runs: Vec<(String, u64)>,
}

impl ChunkStats {
    fn skip(&mut self, reason: SkipReason, n: u64) {
        *self.skipped.entry(reason).or_default() += n;
    }

    fn assume(&mut self, what: &'static str) {
        *self.assumed.entry(what).or_default() += 1;
    }

    fn problem(&mut self, line: u64, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS_PER_INPUT {
            self.problems.push(Problem {
                line: Some(line),
                message,
            });
        }
    }

    /// Adds this chunk's accounting to the input's.
    pub fn merge_into(self, q: &mut FileQuality) {
        q.lines_read += self.lines;
        q.lines_used += self.used;
        q.records += self.records;
        for (reason, n) in self.skipped {
            q.skip(reason, n);
        }
        for (what, n) in self.assumed {
            q.assume(what, n);
        }
        q.widen_span(self.first_ts, self.last_ts);
        if let Some(f) = self.input_first_ts {
            q.input_first_ts = Some(q.input_first_ts.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = self.input_last_ts {
            q.input_last_ts = Some(q.input_last_ts.map_or(l, |x| x.max(l)));
        }
        for p in self.problems {
            q.problem(p.line, p.message);
        }
        q.problem_count += self
            .problem_count
            .saturating_sub(self.problem_count.min(MAX_PROBLEMS_PER_INPUT as u64));
        for (key, n) in self.prefix_runs {
            if q.prefix_lines.len() < crate::model::quality::MAX_PREFIXES
                || q.prefix_lines.contains_key(&key)
            {
                *q.prefix_lines.entry(key).or_default() += n;
            }
        }
    }
}

/// A record being assembled while its continuation lines arrive.
struct Pending<'a> {
    ts: Option<Millis>,
    level: Level,
    wanted: bool,
    message: PText<'a>,
    trace: PText<'a>,
    logger: PText<'a>,
    /// The line, when it was a JSON object.
    json: PText<'a>,
    pod: &'a str,
    container: &'a str,
    origin_run: u32,
    line: u64,
    lines: u32,
    content_hash: u64,
    /// The kubelet's time of the first line, in nanoseconds.
    kubelet_nanos: Option<i64>,
    /// The process's startup line (see [`Record::start`]).
    start: Option<Boot>,
    /// Which format's rules decide where it ends.
    shape: Shape,
}

/// Which format's rules decide where a record ends, besides indented continuation lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Plain,
    /// A Nest `ERROR`/`FATAL` line: the stack Nest prints after it starts unindented
    /// (`error: sorry, too many clients already`).
    NestError,
    /// Node's heap-exhaustion report: section headers, GC trace, `FATAL ERROR: ...` and
    /// native frames (blank lines included) are one fatal record.
    V8Report,
}

impl Pending<'_> {
    /// Whether `content` is the next line of this record.
    fn continues(&self, content: &[u8]) -> bool {
        is_continuation(content)
            || match self.shape {
                Shape::Plain => false,
                Shape::NestError => self.lines == 1 && is_stack_head(content),
                Shape::V8Report => is_v8_report_line(content),
            }
    }
}

/// A pending record's message or trace: borrowed from the chunk while possible, owned once
/// continuation lines are appended (or the line had to be rewritten: ANSI, invalid UTF-8).
enum PText<'a> {
    Plain(&'a str),
    Json(&'a str),
    Owned(String),
}

impl<'a> PText<'a> {
    const EMPTY: PText<'static> = PText::Plain("");

    fn text(&self) -> Text<'_> {
        match self {
            PText::Plain(s) => Text::Plain(s),
            PText::Json(s) => Text::Json(s),
            PText::Owned(s) => Text::Plain(s),
        }
    }

    /// Appends a continuation line (after a newline when not empty).
    fn push_line(&mut self, line: &str) {
        let mut owned = match std::mem::replace(self, PText::EMPTY) {
            PText::Owned(s) => s,
            other => other.text().decode().into_owned(),
        };
        if !owned.is_empty() {
            owned.push('\n');
        }
        owned.push_str(line);
        *self = PText::Owned(owned);
    }
}

/// What the scanner keeps of a parsed JSON line.
struct JsonParts<'a> {
    ts: Option<crate::model::time::ParsedTs>,
    level: Option<Level>,
    bad_ts: bool,
    /// The message of kubectl's `Status` object, when the line is one.
    status: Option<String>,
    message: PText<'a>,
    trace: PText<'a>,
    logger: PText<'a>,
}

impl<'a> JsonParts<'a> {
    /// From [`json_log::parse_raw`] on text borrowed from the chunk: strings stay undecoded.
    fn borrowed(j: json_log::JsonRecord<'a>) -> Self {
        let text = |raw: Option<&'a str>, decoded: Cow<'a, str>| match (raw, decoded) {
            (Some(r), _) => PText::Json(r),
            (None, Cow::Borrowed(s)) => PText::Plain(s),
            (None, Cow::Owned(s)) => PText::Owned(s),
        };
        JsonParts {
            ts: j.ts,
            level: j.level,
            bad_ts: j.bad_ts,
            status: j.is_kubectl_status.then(|| {
                j.message_raw.map_or_else(
                    || j.message.to_string(),
                    |r| Text::Json(r).decode().into_owned(),
                )
            }),
            message: text(j.message_raw, j.message),
            trace: text(j.trace_raw, j.trace),
            logger: text(j.logger_raw, j.logger),
        }
    }

    /// From [`json_log::parse_wanted`] on a rewritten line: strings are copied out.
    fn owned(j: json_log::JsonRecord<'_>) -> Self {
        JsonParts {
            ts: j.ts,
            level: j.level,
            bad_ts: j.bad_ts,
            status: j.is_kubectl_status.then(|| j.message.to_string()),
            message: PText::Owned(j.message.into_owned()),
            trace: PText::Owned(j.trace.into_owned()),
            logger: PText::Owned(j.logger.into_owned()),
        }
    }
}

/// The context of a Nest message (`[TypeOrmModule] Unable to connect...` -> `TypeOrmModule`).
fn nest_context(message: &str) -> Option<&str> {
    let rest = message.strip_prefix('[')?;
    let ctx = &rest[..rest.find(']')?];
    (!ctx.is_empty() && !ctx.contains(' ')).then_some(ctx)
}

/// The time of a raw line, if it has one (kubelet time, or the content's own).
pub fn line_time(line: &[u8], zone: Zone) -> Option<Millis> {
    let (_, rest) = split_prefix(line);
    let (kts, content) = split_kubelet_ts(rest);
    if let Some(k) = kts {
        return Some(k.millis);
    }
    let parsed = if content.first() == Some(&b'{') {
        std::str::from_utf8(content)
            .ok()
            .and_then(|s| json_log::parse(s).ok()?.ts)
    } else if content.starts_with(b"[Nest] ") {
        text::parse_nest(content)?.ts
    } else {
        text::parse_plain(content).ts
    };
    parsed.map(|p| {
        if p.has_zone {
            p.millis
        } else {
            zone.local_to_utc(p.millis)
        }
    })
}

fn strip_ansi(content: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&strip_ansi_escapes::strip(content));
}

/// One chunk being scanned: its accounting, the record being assembled, and where records go.
struct Scanner<'a, 'c, S> {
    ctx: &'a FileCtx,
    sink: &'c mut S,
    st: ChunkStats,
    /// The last record time (records without one take it).
    last_ts: Option<Millis>,
    pending: Option<Pending<'a>>,
    hint_pod: &'a str,
    hint_container: &'a str,
    namespace: &'a str,
}

/// A line's content once the kubectl layers are peeled: its bytes (ANSI stripped), the same
/// text borrowed from the chunk when it needed no rewriting, and as text in any case.
struct Content<'a, 'l> {
    bytes: &'l [u8],
    borrowed: Option<&'a str>,
    text: &'l str,
    /// The kubelet's timestamp before it.
    kubelet_ts: Option<ParsedTs>,
    prefix: Option<Prefix<'a>>,
    origin_run: u32,
    line: u64,
}

/// What a line's content says.
struct Parsed<'a> {
    ts: Option<ParsedTs>,
    level: Option<Level>,
    message: PText<'a>,
    trace: PText<'a>,
    logger: PText<'a>,
    /// The line itself, when it is a JSON object.
    json: PText<'a>,
    /// It announces that the process started.
    starts: Option<Boot>,
}

impl<'a, S: RecordSink> Scanner<'a, '_, S> {
    /// Ends the pending record: settles its time, applies the time window, counts it and
    /// hands it to the sink.
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let st = &mut self.st;
        let Some(ts) = p.ts.or(self.last_ts) else {
            st.skip(SkipReason::NoTimestamp, p.lines as u64);
            return;
        };
        let ctx = self.ctx;
        if let Some((lo, hi)) = ctx.plausible.filter(|(lo, hi)| ts < *lo || ts > *hi) {
            st.skip(SkipReason::FarOffTime, p.lines as u64);
            st.problem(
                p.line,
                format!(
                    "dated {}, more than {} days from the rest of this input (around {}): skipped",
                    crate::model::time::format_short(ts),
                    FAR_OFF_MS / 86_400_000,
                    crate::model::time::format_short(lo / 2 + hi / 2)
                ),
            );
            return;
        }
        if p.ts.is_none() {
            st.assume(INHERITED_TIME);
        }
        self.last_ts = Some(ts);
        st.input_first_ts = Some(st.input_first_ts.map_or(ts, |f| f.min(ts)));
        st.input_last_ts = Some(st.input_last_ts.map_or(ts, |l| l.max(ts)));
        if ctx.since.is_some_and(|s| ts < s) || ctx.until.is_some_and(|u| ts > u) {
            st.skip(SkipReason::OutsideWindow, p.lines as u64);
            return;
        }
        st.used += p.lines as u64;
        st.records += 1;
        st.first_ts = Some(st.first_ts.map_or(ts, |f| f.min(ts)));
        st.last_ts = Some(st.last_ts.map_or(ts, |l| l.max(ts)));
        self.sink.record(&Record {
            ts,
            level: p.level,
            message: p.message.text(),
            trace: p.trace.text(),
            logger: p.logger.text(),
            json: match &p.json {
                PText::Plain(s) => Some(s),
                PText::Owned(s) if !s.is_empty() => Some(s.as_str()),
                _ => None,
            },
            pod: p.pod,
            container: p.container,
            namespace: self.namespace,
            origin_run: p.origin_run,
            line: p.line,
            lines: p.lines,
            kubelet_nanos: p.kubelet_nanos,
            content_hash: p.content_hash,
            start: p.start,
        });
    }

    /// A line longer than the limit: skipped, said, and it ends the pending record.
    fn overlong(&mut self, line: u64, len: u64) {
        self.st.skip(SkipReason::LineTooLong, 1);
        self.st.problem(
            line,
            format!(
                "line of {:.1} MB skipped: longer than --max-line-bytes {}",
                len as f64 / 1e6,
                self.ctx.max_line
            ),
        );
        self.flush();
    }

    /// A blank line: part of a heap-exhaustion report being read, else skipped.
    fn blank(&mut self) {
        match self.pending.as_mut() {
            Some(p) if p.shape == Shape::V8Report => p.lines += 1,
            _ => self.st.skip(SkipReason::Blank, 1),
        }
    }

    /// kubectl's own error text (not container output): counted, the first one kept.
    fn kubectl_message(&mut self, message: impl FnOnce() -> String) {
        self.st.skip(SkipReason::KubectlMessage, 1);
        if self.st.kubectl_message.is_none() {
            self.st.kubectl_message = Some(message());
        }
    }

    /// Pod and container of a line: from its `--prefix`, else from the file name (counted as
    /// an assumption).
    fn origin(&mut self, prefix: Option<Prefix<'a>>) -> (&'a str, &'a str) {
        match prefix {
            Some(p) => (p.pod, p.container),
            None => {
                if !self.hint_pod.is_empty() {
                    self.st.assume(POD_FROM_NAME);
                }
                (self.hint_pod, self.hint_container)
            }
        }
    }

    /// A time without a zone, read in `--tz` (and counted).
    fn in_zone(&mut self, p: ParsedTs) -> Millis {
        if p.has_zone {
            p.millis
        } else {
            self.st.assume(ASSUMED_ZONE);
            self.ctx.zone.local_to_utc(p.millis)
        }
    }

    /// The fast path: a complete-looking JSON line at a level nobody needs is only counted,
    /// so its level and time are read from the bytes and the parse is skipped. Returns
    /// whether the line was taken.
    fn skip_unwanted_json(&mut self, c: &Content<'a, '_>) -> bool {
        if c.bytes.first() != Some(&b'{') || !c.bytes.ends_with(b"}") {
            return false;
        }
        let Some((level, rest)) =
            json_log::quick_level_and_rest(c.bytes).filter(|(l, _)| !self.sink.wants(*l))
        else {
            return false;
        };
        let ts = match c.kubelet_ts {
            Some(k) => Some(k.millis),
            None => json_log::quick_time(c.bytes).map(|p| self.in_zone(p)),
        };
        if ts.is_none() {
            return false;
        }
        let (pod, container) = self.origin(c.prefix);
        self.pending = Some(Pending {
            ts,
            level,
            wanted: false,
            message: PText::EMPTY,
            trace: PText::EMPTY,
            logger: PText::EMPTY,
            json: PText::EMPTY,
            pod,
            container,
            origin_run: c.origin_run,
            line: c.line,
            lines: 1,
            content_hash: 0,
            kubelet_nanos: c.kubelet_ts.map(|k| k.nanos()),
            start: json_log::start_after_level(rest),
            shape: Shape::Plain,
        });
        true
    }

    /// A JSON line's time, level, message and trace; `None` when it is skipped (kubectl's
    /// `Status`, an unreadable time, malformed JSON).
    fn parse_json(&mut self, c: &Content<'a, '_>) -> Option<Parsed<'a>> {
        let sink = &*self.sink;
        let wants = |l: Level| sink.wants(l);
        let parsed = match c.borrowed {
            Some(s) => {
                json_log::parse_raw(s, &wants, c.kubelet_ts.is_none()).map(JsonParts::borrowed)
            }
            None => json_log::parse_wanted(c.text, &wants).map(JsonParts::owned),
        };
        match parsed {
            Ok(j) if j.status.is_some() => {
                self.kubectl_message(|| j.status.unwrap_or_default());
                None
            }
            Ok(j) if j.bad_ts && c.kubelet_ts.is_none() => {
                self.st.skip(SkipReason::BadTimestamp, 1);
                self.st
                    .problem(c.line, "unreadable timestamp in the JSON time field".into());
                None
            }
            Ok(j) => {
                let starts = text::is_start_message(match &j.message {
                    PText::Json(raw) => raw.as_bytes().get(1..).unwrap_or_default(),
                    PText::Plain(m) => m.as_bytes(),
                    PText::Owned(m) => m.as_bytes(),
                });
                Some(Parsed {
                    ts: j.ts,
                    level: j.level,
                    message: j.message,
                    trace: j.trace,
                    logger: j.logger,
                    json: match c.borrowed {
                        Some(s) => PText::Plain(s),
                        None => PText::Owned(c.text.to_owned()),
                    },
                    starts,
                })
            }
            Err(e) => {
                self.st.skip(SkipReason::MalformedJson, 1);
                self.st
                    .problem(c.line, format!("malformed JSON ({e}): line skipped"));
                None
            }
        }
    }

    /// A Nest or plain-text line's time, level and message; `None` when its timestamp is
    /// unreadable.
    fn parse_text(&mut self, c: &Content<'a, '_>) -> Option<Parsed<'a>> {
        let mut starts = None;
        let t = if c.bytes.starts_with(b"[Nest] ") {
            starts = text::is_nest_start(c.bytes);
            text::parse_nest(c.bytes).unwrap_or_else(|| text::parse_plain(c.bytes))
        } else {
            text::parse_plain(c.bytes)
        };
        if t.bad_ts && c.kubelet_ts.is_none() {
            self.st.skip(SkipReason::BadTimestamp, 1);
            let shown: String = c.text.chars().take(40).collect();
            self.st.problem(
                c.line,
                format!("unreadable timestamp at the start of {shown:?}: expected RFC 3339 like 2026-11-20T09:41:02.123Z"),
            );
            return None;
        }
        let message = match c.borrowed {
            Some(s) => PText::Plain(s.get(t.message_start..).unwrap_or(s)),
            None => PText::Owned(c.text.get(t.message_start..).unwrap_or(c.text).to_owned()),
        };
        // Nest's `[Context]` after the level names the logger.
        let logger = match &message {
            PText::Plain(m) => nest_context(m).map_or(PText::EMPTY, PText::Plain),
            PText::Owned(m) => nest_context(m).map_or(PText::EMPTY, |l| PText::Owned(l.to_owned())),
            PText::Json(_) => PText::EMPTY,
        };
        Some(Parsed {
            ts: t.ts,
            level: t.level,
            message,
            trace: PText::EMPTY,
            logger,
            json: PText::EMPTY,
            starts,
        })
    }

    /// A line that starts a record: parsed, and the record left pending for its continuation
    /// lines.
    fn start_record(&mut self, c: &Content<'a, '_>) {
        let parsed = if c.bytes.first() == Some(&b'{') {
            self.parse_json(c)
        } else {
            self.parse_text(c)
        };
        let Some(Parsed {
            ts: own_ts,
            level,
            mut message,
            mut trace,
            logger,
            json,
            starts,
        }) = parsed
        else {
            return;
        };
        let shape = if is_v8_report_start(c.bytes) {
            // The whole line is the message; the trace gathers the report, this line first.
            message = match c.borrowed {
                Some(s) => PText::Plain(s),
                None => PText::Owned(c.text.to_owned()),
            };
            trace = PText::Owned(c.text.to_owned());
            Shape::V8Report
        } else if is_nest_error(c.bytes) {
            Shape::NestError
        } else {
            Shape::Plain
        };
        let ts = match (c.kubelet_ts, own_ts) {
            (Some(k), _) => Some(k.millis),
            (None, Some(p)) => Some(self.in_zone(p)),
            (None, None) => None,
        };
        let level = match level {
            _ if shape == Shape::V8Report => Level::Fatal,
            Some(l) => l,
            None if text::infer_error(c.bytes) => {
                self.st.assume(INFERRED_LEVEL);
                Level::Error
            }
            None => Level::Unknown,
        };
        let (pod, container) = self.origin(c.prefix);
        let wanted = self.sink.wants(level);
        self.pending = Some(Pending {
            ts,
            level,
            wanted,
            message: if wanted { message } else { PText::EMPTY },
            trace: if wanted { trace } else { PText::EMPTY },
            logger: if wanted { logger } else { PText::EMPTY },
            json: if wanted { json } else { PText::EMPTY },
            pod,
            container,
            origin_run: c.origin_run,
            line: c.line,
            lines: 1,
            content_hash: if wanted { xxh3_64(c.bytes) } else { 0 },
            kubelet_nanos: c.kubelet_ts.map(|k| k.nanos()),
            start: starts,
            shape,
        });
    }

    /// One line whose kubectl layers are peeled: a continuation of the pending record, or the
    /// start of the next one.
    fn content(&mut self, c: &Content<'a, '_>) {
        if let Some(p) = self.pending.as_mut() {
            if p.continues(c.bytes) {
                p.lines += 1;
                if p.wanted {
                    p.trace.push_line(c.text);
                    if p.shape == Shape::V8Report && c.bytes.starts_with(b"FATAL ERROR: ") {
                        p.message = match c.borrowed {
                            Some(s) => PText::Plain(s),
                            None => PText::Owned(c.text.to_owned()),
                        };
                    }
                }
                return;
            }
        }
        self.flush();
        if is_kubectl_message(c.bytes) {
            self.kubectl_message(|| c.text.trim().to_owned());
            return;
        }
        if !self.skip_unwanted_json(c) {
            self.start_record(c);
        }
    }
}

/// Scans one chunk. `carry_ts` is the last record time before the chunk, for records without
/// a time of their own.
pub fn scan_chunk<'a, S: RecordSink>(
    chunk: &'a Chunk,
    carry_ts: Option<Millis>,
    ctx: &'a FileCtx,
    sink: &mut S,
) -> ChunkStats {
    let mut sc = Scanner {
        ctx,
        sink,
        st: ChunkStats::default(),
        last_ts: carry_ts,
        pending: None,
        hint_pod: ctx.hints.pod.as_deref().unwrap_or(""),
        hint_container: ctx.hints.container.as_deref().unwrap_or(""),
        namespace: ctx.hints.namespace.as_deref().unwrap_or(""),
    };
    let mut ansi_buf = Vec::new();
    let mut last_prefix: Option<(&[u8], Prefix<'_>)> = None;
    // Bumped whenever the prefix is parsed afresh (see `Record::origin_run`).
    let mut origin_run = 0u32;
    // The origin run the last prefix run was counted under.
    let mut run_origin = u32::MAX;
    let mut overlong = chunk.overlong.iter();
    let data = &chunk.data[..];
    let mut start = 0;
    let mut line_no = chunk.first_line;
    let mut minute_cache = MinuteCache::default();

    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |p| start + p);
        let mut line = &data[start..end];
        start = end + 1;
        let this_line = line_no;
        line_no += 1;
        sc.st.lines += 1;
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line == OVERLONG_MARKER || line.len() > ctx.max_line {
            let len = if line == OVERLONG_MARKER {
                overlong.next().copied().unwrap_or(0)
            } else {
                line.len() as u64
            };
            sc.overlong(this_line, len);
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            sc.blank();
            continue;
        }
        // `--prefix` repeats line after line: reuse the last one when the bytes match.
        let (prefix, rest) = match last_prefix {
            Some((raw, p)) if line.starts_with(raw) => (Some(p), &line[raw.len()..]),
            _ => {
                origin_run = origin_run.wrapping_add(1);
                let (p, rest) = split_prefix(line);
                last_prefix = p.map(|p| (&line[..line.len() - rest.len()], p));
                (p, rest)
            }
        };
        if let Some(p) = prefix {
            // Lines per container, counted by runs (a prefix changes rarely).
            match sc.st.prefix_runs.last_mut() {
                Some((_, n)) if run_origin == origin_run => *n += 1,
                _ => {
                    sc.st
                        .prefix_runs
                        .push((format!("{}/{}", p.pod, p.container), 1));
                    run_origin = origin_run;
                }
            }
        }
        let (kubelet_ts, orig) = split_kubelet_ts_cached(rest, &mut minute_cache);
        let ansi = memchr::memchr(0x1b, orig).is_some();
        if ansi {
            strip_ansi(orig, &mut ansi_buf);
            sc.st.assume(ANSI_STRIPPED);
        }
        // The content as text borrowed from the chunk, when it needs no rewriting.
        let borrowed: Option<&'a str> = if ansi {
            None
        } else {
            simdutf8::basic::from_utf8(orig).ok()
        };
        let bytes: &[u8] = if ansi { &ansi_buf } else { orig };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            sc.blank();
            continue;
        }
        let text: Cow<'_, str> =
            match borrowed.map_or_else(|| simdutf8::basic::from_utf8(bytes).map_err(|_| ()), Ok) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => {
                    sc.st.assume(LOSSY_UTF8);
                    if sc.st.assumed[LOSSY_UTF8] == 1 {
                        sc.st.problem(
                            this_line,
                            "invalid UTF-8: read lossily (bad bytes shown as U+FFFD)".into(),
                        );
                    }
                    String::from_utf8_lossy(bytes)
                }
            };
        sc.content(&Content {
            bytes,
            borrowed,
            text: &text,
            kubelet_ts,
            prefix,
            origin_run,
            line: this_line,
        });
    }
    sc.flush();
    sc.st.last_record_ts = sc.last_ts;
    sc.st
}

/// A human-readable time span, for messages.
pub fn span_text(first: Millis, last: Millis) -> String {
    format!("{} .. {}", format_short(first), format_short(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::logs::hints::PathHints;

    /// What a record became: level, message, trace, first line, lines.
    type Got = (Level, String, String, u64, u32);

    #[derive(Default)]
    struct Keep(Vec<Got>);

    impl RecordSink for Keep {
        fn wants(&self, level: Level) -> bool {
            level >= Level::Warn
        }
        fn record(&mut self, r: &Record<'_>) {
            self.0.push((
                r.level,
                r.message.decode().into_owned(),
                r.trace.decode().into_owned(),
                r.line,
                r.lines,
            ));
        }
    }

    /// Scans `text` (kubelet timestamps added to every line) as one chunk.
    fn scan(lines: &[&str]) -> (Vec<Got>, ChunkStats) {
        let mut data = String::new();
        for (i, l) in lines.iter().enumerate() {
            data.push_str(&format!("2026-11-20T09:58:30.{:09}Z {l}\n", 100 + i));
        }
        let chunk = Chunk {
            index: 0,
            first_line: 1,
            data: data.into_bytes(),
            overlong: Vec::new(),
        };
        let ctx = FileCtx {
            hints: PathHints::default(),
            zone: Zone::Utc,
            since: None,
            until: None,
            plausible: None,
            max_line: 1 << 20,
        };
        let mut sink = Keep::default();
        let st = scan_chunk(&chunk, None, &ctx, &mut sink);
        (sink.0, st)
    }

    #[test]
    fn a_heap_exhaustion_report_is_one_fatal_record() {
        let (got, st) = scan(&[
            r#"{"timestamp":"2026-11-20T09:58:29.000Z","level":"info","message":"working"}"#,
            "",
            "<--- Last few GCs --->",
            "",
            "[1:0x6a3c1a0]  3512340 ms: Mark-Compact 507.3 (519.1) -> 505.9 (519.4) MB, 1840.21 / 0.00 ms",
            "[1:0x6a3c1a0]  3514180 ms: Mark-Compact 507.9 (519.4) -> 506.4 (519.9) MB, 1811.04 / 0.00 ms",
            "",
            "",
            "<--- JS stacktrace --->",
            "",
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
            " 1: 0xb7c3b0 node::Abort() [node]",
            " 9: 0x1424e01 v8::internal::Heap::AllocateRawWithRetryOrFailSlowPath [node]",
            "10: 0x13fa0e6 v8::internal::Factory::NewFillerObject [node]",
            "11: 0x176b8e5 v8::internal::Runtime_AllocateInTargetSpace [node]",
            r#"{"timestamp":"2026-11-20T09:58:41.000Z","level":"error","message":"after"}"#,
        ]);
        assert_eq!(got.len(), 3, "{got:#?}");
        let (level, message, trace, line, lines) = &got[1];
        assert_eq!(*level, Level::Fatal);
        assert!(
            message.starts_with("FATAL ERROR: Reached heap limit"),
            "{message}"
        );
        assert!(
            trace.starts_with("<--- Last few GCs --->\n[1:0x6a3c1a0]"),
            "{trace}"
        );
        assert!(trace.ends_with("11: 0x176b8e5 v8::internal::Runtime_AllocateInTargetSpace [node]"));
        // From `<--- Last few GCs --->` to the last frame, the blank lines between included.
        assert_eq!((*line, *lines), (3, 13));
        assert_eq!(got[2].1, "after");
        assert_eq!(
            st.skipped[&SkipReason::Blank],
            1,
            "the blank line before the report"
        );
        assert_eq!(st.lines, st.used + st.skipped.values().sum::<u64>());
    }

    #[test]
    fn the_stack_after_a_nest_error_starts_unindented() {
        let error = "[Nest] 1  - 11/20/2026, 9:58:41 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)...";
        let (got, _) = scan(&[
            error,
            "error: sorry, too many clients already",
            "    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:287:98)",
            "    at Parser.handlePacket (/app/node_modules/pg-protocol/dist/parser.js:126:29)",
            &error.replace("(1)", "(2)"),
            "error: sorry, too many clients already",
            "    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:287:98)",
            "[Nest] 1  - 11/20/2026, 9:58:45 AM     LOG [NestApplication] Nest application successfully started +3ms",
            "error: this line stands alone",
        ]);
        let errors: Vec<(&str, u32)> = got
            .iter()
            .filter(|g| g.0 >= Level::Error)
            .map(|g| (g.2.lines().next().unwrap_or(""), g.4))
            .collect();
        assert_eq!(
            errors,
            [
                ("error: sorry, too many clients already", 4),
                ("error: sorry, too many clients already", 3),
                ("", 1),
            ],
            "{got:#?}"
        );
        assert_eq!(got.last().unwrap().1, "error: this line stands alone");
    }
}
