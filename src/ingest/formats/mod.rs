//! Log exports other than `kubectl logs`: each module reads one exporter's format (told from
//! content, like every input) and yields entries (namespace, pod, container, time, text);
//! this module turns them into the lines the kubectl path reads (`[pod/POD/CONTAINER] TIME
//! TEXT`), so multi-line records, causes and overlapping exports work the same whatever the
//! source.
//!
//! Line formats written in time order (stern, `stern -o json`, `docker compose logs`, CRI
//! node files) stream line by line. Documents (Loki's `query_range` JSON, `gcloud logging
//! read --format=json`, Elasticsearch/OpenSearch hits) and logcli's output (newest first) are
//! parsed as a stream of entries, never held whole: the lines go to a temporary file with a
//! small index (time, order), and are read back in time order.
//! For a document, a "line" of the data-quality accounting is a line of an entry's text.

pub mod cloud_logging;
pub mod cloudwatch;
pub mod compose;
pub mod cri;
pub mod elasticsearch;
pub mod elements;
pub mod lean;
pub mod loki;
pub mod stern;
pub mod structure;

pub use elements::{array_elements, Block, Element, ElementsFn};

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::time::Zone;

/// An export format other than kubectl's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Stern,
    SternJson,
    Compose,
    Cri,
    LogcliDefault,
    LogcliJsonl,
    LokiApi,
    CloudLogging,
    Elasticsearch,
    CloudWatch,
}

impl Layout {
    /// The exporter, as the data-quality section names it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Stern => "stern",
            Layout::SternJson => "stern -o json",
            Layout::Compose => "docker compose logs",
            Layout::Cri => "CRI node log (/var/log/pods)",
            Layout::LogcliDefault => "logcli query",
            Layout::LogcliJsonl => "logcli query --output jsonl",
            Layout::LokiApi => "Loki query_range JSON",
            Layout::CloudLogging => "gcloud logging read --format=json",
            Layout::Elasticsearch => "Elasticsearch/OpenSearch hits",
            Layout::CloudWatch => "CloudWatch Logs export",
        }
    }

    /// Read whole and put in time order (documents; logcli, which prints newest first).
    fn ordered(self) -> bool {
        matches!(
            self,
            Layout::LokiApi
                | Layout::CloudLogging
                | Layout::Elasticsearch
                | Layout::CloudWatch
                | Layout::LogcliDefault
                | Layout::LogcliJsonl
        )
    }
}

/// One log entry of any export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    /// Nanoseconds since the epoch.
    pub ts: Option<i64>,
    pub text: String,
}

/// Tells a foreign export from its first bytes (`None`: kubectl's, or not a log).
pub fn sniff(head: &[u8]) -> Option<Layout> {
    let start = head
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(head.len());
    let text = head[start..]
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&head[start..]);
    let window = &text[..text.len().min(16 * 1024)];
    let has = |needle: &[u8]| memchr::memmem::find(window, needle).is_some();
    match text.first() {
        Some(b'{') | Some(b'[') => {
            if has(b"\"resultType\"") && has(b"\"streams\"")
                || has(b"\"stream\":{") && has(b"\"values\":[[\"")
            {
                return Some(Layout::LokiApi);
            }
            if text[0] == b'['
                && (has(b"\"insertId\"") || has(b"\"logName\""))
                && has(b"\"resource\"")
            {
                return Some(Layout::CloudLogging);
            }
            if has(b"\"_source\"") && (has(b"\"hits\"") || has(b"\"_index\"")) {
                return Some(Layout::Elasticsearch);
            }
            let insights = if text[0] == b'{' {
                has(b"\"results\"") && has(b"\"field\"") && has(b"\"value\"")
                    || has(b"\"events\"") && has(b"\"logStreamName\"") && has(b"\"message\"")
            } else {
                has(b"\"@message\"") || has(b"\"@logStream\"")
            };
            if insights
                && (has(b"\"@timestamp\"") || has(b"\"@message\"") || has(b"\"logStreamName\""))
            {
                return Some(Layout::CloudWatch);
            }
            let first = text.split(|&c| c == b'\n').next().unwrap_or(b"");
            let in_first = |needle: &[u8]| memchr::memmem::find(first, needle).is_some();
            if in_first(b"\"line\"") && in_first(b"\"labels\"") && in_first(b"\"timestamp\"") {
                return Some(Layout::LogcliJsonl);
            }
            if in_first(b"\"podName\"")
                && in_first(b"\"containerName\"")
                && in_first(b"\"message\"")
            {
                return Some(Layout::SternJson);
            }
            None
        }
        _ => line_layout(text),
    }
}

/// A line format, when every one of the first (up to 20) non-blank lines has its shape.
fn line_layout(text: &[u8]) -> Option<Layout> {
    let lines: Vec<String> = text
        .split(|&c| c == b'\n')
        .take(200)
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(20)
        .map(|l| String::from_utf8_lossy(&strip_ansi(l)).into_owned())
        .collect();
    // The last line of the head may be cut: judge on whole lines when there are several.
    let judged = if lines.len() > 1 {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    if judged.is_empty() {
        return None;
    }
    for (layout, test) in [
        (Layout::Cri, cri::is_line as fn(&str) -> bool),
        (Layout::LogcliDefault, loki::is_default_line),
        (Layout::Compose, compose::is_line),
        (Layout::Stern, stern::is_line),
    ] {
        if judged.iter().all(|l| test(l)) {
            return Some(layout);
        }
    }
    None
}

/// `line` without ANSI escape sequences (and compose's `ESC[2K`).
pub fn strip_ansi(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(0x1b, line).is_none() {
        std::borrow::Cow::Borrowed(line)
    } else {
        std::borrow::Cow::Owned(strip_ansi_escapes::strip(line))
    }
}

/// Nanoseconds of an RFC 3339 time (any precision, any offset).
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()?
        .timestamp_nanos_opt()
}

/// Nanoseconds as the kubelet writes them: `2026-11-20T09:40:05.830123456Z`.
pub fn format_ns(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// What reading a foreign export found, for the data-quality section.
#[derive(Debug, Default)]
pub struct Stats {
    /// Physical lines folded into others (CRI partial lines), counted as used.
    pub folded: AtomicU64,
    /// Entries read.
    pub entries: AtomicU64,
    /// The export was newest first (or out of order) and was put in time order.
    pub reordered: AtomicU64,
    pub problems: Mutex<Vec<String>>,
    /// The namespace its entries name, when they name one.
    pub namespace: Mutex<Option<String>>,
    /// How many entries the export says matched (Elasticsearch's `hits.total`), and whether
    /// that is only a lower bound (`"relation": "gte"`).
    pub declared_total: AtomicU64,
    pub total_is_lower_bound: AtomicU64,
}

impl Stats {
    fn problem(&self, p: String) {
        let mut v = self.problems.lock().unwrap_or_else(|e| e.into_inner());
        if v.len() < 8 {
            v.push(p);
        }
    }

    fn namespace(&self, ns: Option<&str>) {
        if let Some(ns) = ns {
            let mut n = self.namespace.lock().unwrap_or_else(|e| e.into_inner());
            if n.is_none() {
                *n = Some(ns.to_owned());
            }
        }
    }
}

/// Writes an entry as kubectl `--prefix --timestamps` lines (one per line of its text).
pub fn write_entry(e: &Entry, out: &mut Vec<u8>) {
    let ts = e.ts.map(format_ns);
    write_lines(
        e.pod.as_deref(),
        e.container.as_deref(),
        ts.as_deref(),
        &e.text,
        out,
    );
}

/// The `[pod/POD/CONTAINER] ` prefix kubectl writes, when the names can be one.
pub(super) fn prefix_of<'a>(
    pod: Option<&'a str>,
    container: Option<&'a str>,
) -> Option<(&'a str, &'a str)> {
    match (pod, container) {
        (Some(p), Some(c))
            if crate::model::is_kubernetes_name(p) && !c.is_empty() && !c.contains([' ', ']']) =>
        {
            Some((p, c))
        }
        (Some(p), None) if crate::model::is_kubernetes_name(p) => Some((p, p)),
        _ => None,
    }
}

/// [`write_entry`] from borrowed parts, the time already written the kubelet's way.
fn write_lines(
    pod: Option<&str>,
    container: Option<&str>,
    ts: Option<&str>,
    text: &str,
    out: &mut Vec<u8>,
) {
    let prefix = prefix_of(pod, container);
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    for line in text.split('\n') {
        if let Some((p, c)) = prefix {
            out.extend_from_slice(b"[pod/");
            out.extend_from_slice(p.as_bytes());
            out.push(b'/');
            out.extend_from_slice(c.as_bytes());
            out.extend_from_slice(b"] ");
        }
        if let Some(t) = ts {
            out.extend_from_slice(t.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
}

/// How one line of a line format becomes output.
pub struct LineCtx {
    pub zone: Zone,
    /// The year of `MM-DD` times (stern's `--timestamps=short`).
    pub year: i32,
    /// The levels the run wants; entries at others may be handed on as stubs ([`lean`]).
    /// `None`: every entry whole.
    pub wanted: Option<crate::model::Levels>,
    /// The longest line the scanner reads (`--max-line-bytes`): longer ones are never stubs.
    pub max_line: usize,
}

/// A line format read line by line, its lines rewritten as kubectl's.
struct LineReader<R: BufRead> {
    src: R,
    layout: Layout,
    ctx: LineCtx,
    stats: Arc<Stats>,
    buf: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    cri: cri::Joiner,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.len() < 64 * 1024 && !self.done {
            self.buf.clear();
            let n = self.src.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                self.done = true;
                if self.layout == Layout::Cri {
                    self.cri.finish(&mut self.out);
                }
                break;
            }
            let mut line = &self.buf[..];
            if line.last() == Some(&b'\n') {
                line = &line[..line.len() - 1];
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                self.out.push(b'\n');
                continue;
            }
            self.stats.entries.fetch_add(1, Ordering::Relaxed);
            let written = match self.layout {
                Layout::Stern => stern::line(line, &self.ctx, &self.stats, &mut self.out),
                Layout::SternJson => stern::json_line(line, &self.stats, &mut self.out),
                Layout::Compose => compose::line(line, &mut self.out),
                Layout::Cri => self.cri.line(line, &self.stats, &mut self.out),
                _ => false,
            };
            if !written {
                // Not of the format: passed on as it is, for the kubectl path to judge.
                self.out.extend_from_slice(line);
                self.out.push(b'\n');
            }
        }
        Ok(())
    }
}

/// Copies what `buf` takes of `out` from `pos` on, and moves `pos` past it.
fn serve(out: &[u8], pos: &mut usize, buf: &mut [u8]) -> usize {
    let n = buf.len().min(out.len() - *pos);
    buf[..n].copy_from_slice(&out[*pos..*pos + n]);
    *pos += n;
    n
}

impl<R: BufRead> Read for LineReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
        Ok(serve(&self.out, &mut self.pos, buf))
    }
}

/// An export read into kubectl's lines.
pub struct Transcoded<'r> {
    pub reader: Box<dyn Read + 'r>,
    pub stats: Arc<Stats>,
}

/// Reads `reader` (of `layout`) as kubectl lines. Documents are read here, in full, into a
/// temporary file put in time order; line formats stream as the returned reader is read.
pub fn transcode<'r>(
    layout: Layout,
    reader: Box<dyn Read + 'r>,
    ctx: LineCtx,
) -> io::Result<Transcoded<'r>> {
    let stats = Arc::new(Stats::default());
    if !layout.ordered() {
        let mut lines = LineReader {
            src: BufReader::with_capacity(256 * 1024, reader),
            layout,
            ctx,
            stats: stats.clone(),
            buf: Vec::new(),
            out: Vec::new(),
            pos: 0,
            cri: cri::Joiner::default(),
            done: false,
        };
        // The first lines now: they name the namespace.
        lines.fill()?;
        return Ok(Transcoded {
            reader: Box::new(lines),
            stats,
        });
    }
    let mut sorter = Sorter::new()?;
    let src = BufReader::with_capacity(256 * 1024, reader);
    let read = match layout {
        Layout::LokiApi => loki::api_document(src, &mut |e| sorter.push(&e, &stats)),
        Layout::LogcliDefault | Layout::LogcliJsonl => {
            loki::logcli_lines(src, layout == Layout::LogcliJsonl, &mut |e| {
                sorter.push(&e, &stats)
            })
        }
        Layout::CloudLogging => {
            cloud_logging::document(src, &ctx, &mut |r| sorter.push_rendered(r, &stats))
        }
        Layout::CloudWatch => {
            cloudwatch::document(src, &stats, &mut |r| sorter.push_rendered(r, &stats))
        }
        _ => elasticsearch::document(src, &stats, &mut |r| sorter.push_rendered(r, &stats)),
    };
    if let Err(e) = read {
        stats.problem(format!(
            "the {} document could not be read to its end: {e}; the entries before were analysed",
            layout.name()
        ));
    }
    let reader = sorter.finish(&stats)?;
    Ok(Transcoded { reader, stats })
}

/// Entries of a document, written as lines to a temporary file with an index, then read back
/// in time order. Memory: 16 bytes per entry (the index) and 16 per container, not the text.
struct Sorter {
    file: io::BufWriter<std::fs::File>,
    /// (time or the previous entry's, length), in the export's order (the offsets follow).
    index: Vec<(i64, u32)>,
    buf: Vec<u8>,
    last_ts: i64,
    /// Each container's last time, and whether every container's times so far rise (or fall).
    /// The current container's is in `current` (most entries are of the one before's).
    last_of: std::collections::HashMap<u64, i64>,
    current: Option<(u64, i64)>,
    rising: bool,
    falling: bool,
    error: Option<io::Error>,
}

/// Entries rendered as kubectl lines: the bytes, and per entry its time, container and length.
#[derive(Default)]
pub struct Rendered {
    bytes: Vec<u8>,
    entries: Vec<(Option<i64>, u64, u32)>,
    namespace: Option<String>,
    /// Elements that could not be read, and why the first could not.
    pub bad: u64,
    pub first_bad: Option<String>,
    /// The last entry's pod and container, its line prefix and container key: most entries
    /// are of the container the one before was.
    last: Option<LastOrigin>,
    /// The minute of the last time read ([`lean::kubelet_time`]).
    pub minute: crate::model::time::MinuteCache,
}

#[derive(Debug)]
struct LastOrigin {
    pod: Option<String>,
    container: Option<String>,
    prefix: Vec<u8>,
    key: u64,
    /// The document's bytes that named it (Cloud Logging's `resource`), when known.
    resource: Vec<u8>,
}

impl Rendered {
    /// Empties it for the next entries, keeping its buffers and what it caches (the last
    /// origin, the minute).
    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
        self.namespace = None;
        self.bad = 0;
        self.first_bad = None;
    }

    fn add(&mut self, e: &Entry) {
        let before = self.bytes.len();
        write_entry(e, &mut self.bytes);
        let len = (self.bytes.len() - before) as u32;
        self.entries.push((
            e.ts,
            container_key(e.pod.as_deref(), e.container.as_deref()),
            len,
        ));
        if self.namespace.is_none() {
            self.namespace.clone_from(&e.namespace);
        }
    }

    /// Adds an entry from borrowed parts (its time in nanoseconds and as written).
    fn add_parts(
        &mut self,
        names: (Option<&str>, Option<&str>, Option<&str>),
        ts: (i64, &str),
        text: &str,
    ) {
        let (namespace, pod, container) = names;
        let same = self
            .last
            .as_ref()
            .is_some_and(|l| l.pod.as_deref() == pod && l.container.as_deref() == container);
        if !same {
            let mut prefix = Vec::new();
            write_lines(pod, container, None, "", &mut prefix);
            prefix.pop();
            self.last = Some(LastOrigin {
                pod: pod.map(str::to_owned),
                container: container.map(str::to_owned),
                prefix,
                key: container_key(pod, container),
                resource: Vec::new(),
            });
        }
        self.add_same_origin(ts, text);
        if self.namespace.is_none() {
            self.namespace = namespace.map(str::to_owned);
        }
    }

    /// Whether `resource` is the bytes that named the last entry's origin.
    fn same_resource(&self, resource: &[u8]) -> bool {
        self.last
            .as_ref()
            .is_some_and(|l| !l.resource.is_empty() && l.resource == resource)
    }

    /// Notes the bytes that named the last entry's origin.
    fn remember_resource(&mut self, resource: &[u8]) {
        if let Some(l) = self.last.as_mut() {
            l.resource.clear();
            l.resource.extend_from_slice(resource);
        }
    }

    /// The last origin's pod and container name lengths.
    fn origin_lens(&self) -> (usize, usize) {
        self.last.as_ref().map_or((0, 0), |l| {
            (
                l.pod.as_deref().map_or(0, str::len),
                l.container.as_deref().map_or(0, str::len),
            )
        })
    }

    /// Adds an entry of the last entry's origin.
    fn add_same_origin(&mut self, ts: (i64, &str), text: &str) {
        let Some(last) = &self.last else { return };
        let before = self.bytes.len();
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        for line in text.split('\n') {
            self.bytes.extend_from_slice(&last.prefix);
            self.bytes.extend_from_slice(ts.1.as_bytes());
            self.bytes.push(b' ');
            self.bytes.extend_from_slice(line.as_bytes());
            self.bytes.push(b'\n');
        }
        let len = (self.bytes.len() - before) as u32;
        self.entries.push((Some(ts.0), last.key, len));
    }
}

/// Entries rendered one by one and handed on a megabyte at a time.
pub struct Batcher<'s> {
    r: Rendered,
    sink: &'s mut RenderedSink<'s>,
}

impl<'s> Batcher<'s> {
    pub fn new(sink: &'s mut RenderedSink<'s>) -> Batcher<'s> {
        Batcher {
            r: Rendered::default(),
            sink,
        }
    }

    pub fn push(&mut self, e: &Entry) {
        self.r.add(e);
        if self.r.bytes.len() >= 1 << 20 {
            (self.sink)(&self.r);
            self.r.clear();
        }
    }
}

impl Drop for Batcher<'_> {
    fn drop(&mut self) {
        if !self.r.entries.is_empty() {
            (self.sink)(&self.r);
        }
    }
}

/// Which container an entry is of, as a number (FNV-1a of pod and container).
fn container_key(pod: Option<&str>, container: Option<&str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [pod, Some("/"), container];
    for b in parts.iter().flatten().flat_map(|s| s.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Takes rendered entries, borrowed (the buffers are used again for the next ones).
pub type RenderedSink<'s> = dyn FnMut(&Rendered) + Send + 's;

/// Parses and renders a block's elements on all cores and hands them on in order (see
/// [`render_block`]).
pub fn render_par(
    block: &Block<'_>,
    parse: &(dyn Fn(&[u8]) -> Result<Entry, String> + Sync),
    pool: &mut Vec<Rendered>,
    sink: &mut RenderedSink<'_>,
) -> (u64, Option<String>) {
    render_block(
        block,
        &|el, r| parse(el.bytes).map(|e| r.add(&e)),
        pool,
        sink,
    )
}

/// Renders one element into a block.
pub type RenderFn<'f> = dyn Fn(&Element<'_>, &mut Rendered) -> Result<(), String> + Sync + 'f;

/// Renders a block's elements on all cores with `render`, which writes each element (its
/// bytes and the containers nested in it) into a part, and hands the parts on in order. The
/// parts' buffers stay in `pool` for the next block (fresh ones cost page faults every
/// time). Returns how many elements could not be read, and why the first could not.
pub fn render_block(
    block: &Block<'_>,
    render: &RenderFn<'_>,
    pool: &mut Vec<Rendered>,
    sink: &mut RenderedSink<'_>,
) -> (u64, Option<String>) {
    use rayon::prelude::*;
    let n = block.found.ranges.len();
    if n == 0 {
        return (0, None);
    }
    let per = n.div_ceil(rayon::current_num_threads() * 4).max(64);
    let count = n.div_ceil(per);
    if pool.len() < count {
        pool.resize_with(count, Rendered::default);
    }
    pool[..count].par_iter_mut().enumerate().for_each(|(c, r)| {
        let (from, to) = (c * per, ((c + 1) * per).min(n));
        r.clear();
        // Room for what the elements usually become (a stub is a fifth of an entry), so
        // the buffers seldom grow.
        let bytes = block.found.ranges[to - 1].1 - block.found.ranges[from].0;
        r.bytes.reserve(bytes / 4);
        r.entries.reserve(to - from);
        for k in from..to {
            if let Err(why) = render(&block.element(k), r) {
                r.bad += 1;
                r.first_bad.get_or_insert(why);
            }
        }
    });
    let (mut bad, mut first_bad) = (0, None);
    for r in &mut pool[..count] {
        bad += r.bad;
        if first_bad.is_none() {
            first_bad = r.first_bad.take();
        }
        sink(r);
    }
    (bad, first_bad)
}

impl Sorter {
    fn new() -> io::Result<Sorter> {
        Ok(Sorter {
            file: io::BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            index: Vec::new(),
            buf: Vec::new(),
            last_ts: i64::MIN,
            last_of: std::collections::HashMap::new(),
            current: None,
            rising: true,
            falling: true,
            error: None,
        })
    }

    fn push(&mut self, e: &Entry, stats: &Stats) {
        let mut r = Rendered {
            bytes: std::mem::take(&mut self.buf),
            ..Rendered::default()
        };
        r.bytes.clear();
        r.add(e);
        self.push_rendered(&r, stats);
        self.buf = r.bytes;
    }

    fn push_rendered(&mut self, r: &Rendered, stats: &Stats) {
        stats
            .entries
            .fetch_add(r.entries.len() as u64, Ordering::Relaxed);
        stats.namespace(r.namespace.as_deref());
        if self.error.is_some() {
            return;
        }
        if let Err(err) = self.file.write_all(&r.bytes) {
            self.error = Some(err);
            return;
        }
        for &(ts, container, len) in &r.entries {
            // An entry without a time keeps its place after the one before it.
            let ts = ts.unwrap_or(self.last_ts);
            self.last_ts = ts;
            let last = match self.current {
                Some((c, last)) if c == container => Some(last),
                other => {
                    if let Some((c, last)) = other {
                        self.last_of.insert(c, last);
                    }
                    self.last_of.get(&container).copied()
                }
            };
            if let Some(last) = last {
                self.rising &= last <= ts;
                self.falling &= last >= ts;
            }
            self.current = Some((container, ts));
            self.index.push((ts, len));
        }
    }

    /// The lines with each container's in time order: as written when they are; reversed
    /// when the export is newest first; else sorted by time (the export's own order among
    /// equal times, a newest-first export's reversed). Read back in runs of adjacent entries,
    /// never copied to a second file.
    fn finish(self, stats: &Stats) -> io::Result<Box<dyn Read + Send>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        if self.rising {
            file.seek(SeekFrom::Start(0))?;
            return Ok(Box::new(BufReader::with_capacity(256 * 1024, file)));
        }
        stats.reordered.store(1, Ordering::Relaxed);
        let mut offset = 0u64;
        let mut index: Vec<(i64, u64, u32)> = self
            .index
            .into_iter()
            .map(|(ts, len)| {
                offset += u64::from(len);
                (ts, offset - u64::from(len), len)
            })
            .collect();
        let newest_first = index.first().map(|f| f.0) > index.last().map(|l| l.0);
        if self.falling || newest_first {
            index.reverse();
        }
        if !self.falling {
            index.sort_by_key(|x| x.0);
        }
        Ok(Box::new(IndexReader {
            file,
            order: index.into_iter().map(|(_, off, len)| (off, len)).collect(),
            next: 0,
            out: Vec::new(),
            block: Vec::new(),
            pos: 0,
        }))
    }
}

/// Reads a file's entries in the order given, each run of entries adjacent in the file
/// (forwards or backwards) with one read.
struct IndexReader {
    file: std::fs::File,
    order: Vec<(u64, u32)>,
    next: usize,
    out: Vec<u8>,
    block: Vec<u8>,
    pos: usize,
}

impl IndexReader {
    fn fill(&mut self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        const RUN: u64 = 4 << 20;
        self.out.clear();
        self.pos = 0;
        let Some(&(first_off, first_len)) = self.order.get(self.next) else {
            return Ok(());
        };
        let (mut lo, mut hi) = (first_off, first_off + u64::from(first_len));
        let mut end = self.next + 1;
        // The run: entries that continue the region at its end or at its start.
        let forward = self.order.get(end).is_some_and(|&(off, _)| off == hi);
        while let Some(&(off, len)) = self.order.get(end) {
            if hi - lo >= RUN {
                break;
            }
            if forward && off == hi {
                hi += u64::from(len);
            } else if !forward && off + u64::from(len) == lo {
                lo = off;
            } else {
                break;
            }
            end += 1;
        }
        self.block.resize((hi - lo) as usize, 0);
        self.file.read_exact_at(&mut self.block, lo)?;
        for &(off, len) in &self.order[self.next..end] {
            let s = (off - lo) as usize;
            self.out.extend_from_slice(&self.block[s..s + len as usize]);
        }
        self.next = end;
        Ok(())
    }
}

impl Read for IndexReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            if self.next >= self.order.len() {
                return Ok(0);
            }
            self.fill()?;
        }
        Ok(serve(&self.out, &mut self.pos, buf))
    }
}

/// Pod, container and namespace from the usual label names (Loki's `pod`, Promtail's and the
/// OpenTelemetry collector's `k8s_pod_name`, ...).
pub fn from_labels<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
) -> (Option<String>, Option<String>, Option<String>) {
    let first = |keys: &[&str]| keys.iter().find_map(|k| get(k)).map(str::to_owned);
    (
        first(&[
            "namespace",
            "k8s_namespace_name",
            "namespace_name",
            "kubernetes_namespace_name",
        ]),
        first(&["pod", "k8s_pod_name", "pod_name", "kubernetes_pod_name"]),
        first(&[
            "container",
            "k8s_container_name",
            "container_name",
            "kubernetes_container_name",
        ]),
    )
}

/// Calls `f` with each element of the array at `path` inside a JSON document (or of the
/// top-level array when `path` is empty), parsing one element at a time; everything else in
/// the document is skipped without being kept.
pub fn walk<T: serde::de::DeserializeOwned>(
    mut src: impl BufRead,
    path: &[&str],
    f: &mut dyn FnMut(T),
) -> Result<(), String> {
    use serde::de::DeserializeSeed;
    // A document up to IN_MEMORY bytes is parsed from memory (serde_json reads a slice
    // several times faster than a stream); a larger one streams, in bounded memory.
    let mut head = Vec::new();
    (&mut src)
        .take(IN_MEMORY as u64 + 1)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    let walk = Walk {
        path,
        f,
        _t: std::marker::PhantomData,
    };
    if head.len() <= IN_MEMORY {
        let mut de = serde_json::Deserializer::from_slice(&head);
        walk.deserialize(&mut de).map_err(|e| e.to_string())?;
        return de.end().map_err(|e| e.to_string());
    }
    let mut de = serde_json::Deserializer::from_reader(io::Cursor::new(head).chain(src));
    walk.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// The largest document parsed from memory.
const IN_MEMORY: usize = 64 << 20;

struct Walk<'p, 'f, T> {
    path: &'p [&'p str],
    f: &'f mut dyn FnMut(T),
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: serde::de::DeserializeOwned> serde::de::DeserializeSeed<'de> for Walk<'_, '_, T> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: serde::de::DeserializeOwned> serde::de::Visitor<'de> for Walk<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a JSON document")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.path.is_empty() {
            while let Some(x) = seq.next_element::<T>()? {
                (self.f)(x);
            }
        } else {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Walk { path, f, .. } = self;
        while let Some(k) = map.next_key::<String>()? {
            if path.first() == Some(&k.as_str()) {
                map.next_value_seed(Walk {
                    path: &path[1..],
                    f: &mut *f,
                    _t: std::marker::PhantomData,
                })?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// JSON text as one line: a pretty-printed payload without the whitespace between its tokens
/// (its keys in their order); a payload already on one line as it is.
pub fn minify(json: &str) -> String {
    if memchr::memchr2(b'\n', b'\r', json.as_bytes()).is_none() {
        return json.to_owned();
    }
    let b = json.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Copy the string through its closing quote.
                let start = i;
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                out.extend_from_slice(&b[start..i.min(b.len())]);
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_kubectl_lines() {
        let mut out = Vec::new();
        write_entry(
            &Entry {
                namespace: Some("ns".into()),
                pod: Some("mcp-backend-7c9d5b8f6d-x2kqp".into()),
                container: Some("backend".into()),
                ts: parse_rfc3339_ns("2026-11-20T09:40:05.830123456Z"),
                text: "Error: boom\n    at x (/app/a.js:1:1)\n".into(),
            },
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830123456Z Error: boom\n[pod/mcp-backend-7c9d5b8f6d-x2kqp/backend] 2026-11-20T09:40:05.830123456Z     at x (/app/a.js:1:1)\n"
        );
    }

    #[test]
    fn documents_come_out_in_time_order() {
        // Newest first, reversed: equal times keep their order of writing (b1 before b2).
        let (t, reordered) = sorted(&[
            ("a-1", 3, "c"),
            ("a-1", 2, "b2"),
            ("a-1", 2, "b1"),
            ("a-1", 1, "a"),
        ]);
        assert_eq!(t, ["a", "b1", "b2", "c"]);
        assert!(reordered);
    }

    fn sorted(entries: &[(&str, i64, &str)]) -> (Vec<String>, bool) {
        let stats = Stats::default();
        let mut s = Sorter::new().unwrap();
        for &(pod, t, text) in entries {
            s.push(
                &Entry {
                    pod: Some(pod.into()),
                    container: Some("c".into()),
                    ts: Some(t * 1_000_000_000),
                    text: text.into(),
                    ..Entry::default()
                },
                &stats,
            );
        }
        let mut out = String::new();
        s.finish(&stats).unwrap().read_to_string(&mut out).unwrap();
        let texts = out
            .lines()
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
            .collect();
        (texts, stats.reordered.load(Ordering::Relaxed) == 1)
    }

    #[test]
    fn each_containers_order_is_what_counts() {
        // Interleaved containers, each in time order (kubectl -l --prefix's shape): as written.
        let (t, reordered) = sorted(&[
            ("a-1", 5, "a5"),
            ("b-1", 1, "b1"),
            ("a-1", 6, "a6"),
            ("b-1", 2, "b2"),
        ]);
        assert_eq!(t, ["a5", "b1", "a6", "b2"]);
        assert!(!reordered);
        // Each newest first: the whole export reversed, read back in runs.
        let (t, reordered) = sorted(&[
            ("a-1", 6, "a6"),
            ("b-1", 2, "b2"),
            ("a-1", 5, "a5"),
            ("b-1", 1, "b1"),
        ]);
        assert_eq!(t, ["b1", "a5", "b2", "a6"]);
        assert!(reordered);
        // Pages in ascending order, each page newest first: sorted by time.
        let (t, _) = sorted(&[
            ("a-1", 2, "x2"),
            ("a-1", 1, "x1"),
            ("a-1", 4, "x4"),
            ("a-1", 3, "x3"),
        ]);
        assert_eq!(t, ["x1", "x2", "x3", "x4"]);
    }
}
