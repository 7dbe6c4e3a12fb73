//! Line accounting shared by every format: where each line starts, which byte ranges were
//! skipped and why, the problems and repairs found, and, at the end, the [`Dump`] with
//! `lines_read = lines_used + skipped` holding by construction. A line counts as skipped when
//! its first non-blank byte lies in a skipped range, so a pretty-printed JSON sample spread
//! over four lines is four skipped lines, while a one-line JSON file with a bad sample stays
//! one used line.

use std::collections::BTreeMap;

use super::{Dump, DumpKind, SkipWhy, MAX_PROBLEMS};
use crate::model::metrics::MetricSeries;

/// Byte offset at which the dump proper starts, past a tool's wrapper lines (`stdout:`) and
/// HolmesGPT's metadata lines.
pub(crate) fn skip_wrapper_lines(text: &str) -> usize {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let wrapper = t.is_empty()
            || t == "stdout:"
            || t.starts_with("{\"toolset_name\"")
            || t.starts_with("{\"schema_version\"");
        if !wrapper {
            break;
        }
        pos += line.len();
    }
    pos
}

/// `stdout:` / `stderr:` marker lines (HolmesGPT wraps subprocess output in them).
pub(crate) fn is_marker(line: &str) -> Option<Marker> {
    match line.trim() {
        "stdout:" => Some(Marker::Stdout),
        "stderr:" => Some(Marker::Stderr),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Stdout,
    Stderr,
}

/// A half-open byte range of the input.
pub(crate) type Span = (usize, usize);

/// Everything a parser records while reading one file.
pub(crate) struct Ctx<'t> {
    pub text: &'t str,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    skips: Vec<(usize, usize, SkipWhy)>,
    problems: Vec<(Option<u64>, String)>,
    pub fixes: Vec<String>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub times_without_zone: bool,
}

impl<'t> Ctx<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = Vec::new();
        if !text.is_empty() {
            starts.push(0);
            for (i, b) in text.bytes().enumerate() {
                if b == b'\n' && i + 1 < text.len() {
                    starts.push(i + 1);
                }
            }
        }
        Self {
            text,
            starts,
            skips: Vec::new(),
            problems: Vec::new(),
            fixes: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            times_without_zone: false,
        }
    }

    /// The lines, each with its byte span (without the `\n`; a trailing `\r` stays in the
    /// span but not in the text given).
    pub fn lines(&self) -> impl Iterator<Item = (Span, &'t str)> + '_ {
        let text = self.text;
        self.starts.iter().enumerate().map(move |(i, &s)| {
            let end = self.starts.get(i + 1).map_or(text.len(), |&n| n);
            let line = &text[s..end];
            let line = line.strip_suffix('\n').unwrap_or(line);
            ((s, s + line.len()), line.strip_suffix('\r').unwrap_or(line))
        })
    }

    /// 1-based line holding byte `pos`.
    pub fn line_of(&self, pos: usize) -> u64 {
        self.starts.partition_point(|&s| s <= pos).max(1) as u64
    }

    /// Byte offset of `part` inside the text, when it is a slice of it.
    pub fn offset_of(&self, part: &str) -> Option<usize> {
        let base = self.text.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        (p >= base && p + part.len() <= base + self.text.len()).then(|| p - base)
    }

    pub fn skip(&mut self, span: Span, why: SkipWhy) {
        self.skips.push((span.0, span.1.max(span.0 + 1), why));
    }

    pub fn problem(&mut self, line: Option<u64>, message: impl Into<String>) {
        self.problems.push((line, message.into()));
    }

    pub fn problem_at(&mut self, pos: Option<usize>, message: impl Into<String>) {
        let line = pos.map(|p| self.line_of(p));
        self.problem(line, message);
    }

    /// Builds the dump: per-line accounting, problems sorted by line and capped.
    pub fn finish(
        mut self,
        series: Vec<MetricSeries>,
        kind: DumpKind,
        query: Option<String>,
    ) -> Dump {
        self.skips.sort_by_key(|&(s, e, _)| (s, e));
        let mut skipped: BTreeMap<SkipWhy, u64> = BTreeMap::new();
        let mut used = 0u64;
        let mut read = 0u64;
        let bytes = self.text.as_bytes();
        for (i, &s) in self.starts.iter().enumerate() {
            read += 1;
            let end = self.starts.get(i + 1).copied().unwrap_or(bytes.len());
            let first = bytes[s..end]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .map(|p| s + p);
            let why = match first {
                None => Some(SkipWhy::Blank),
                Some(b) => {
                    let k = self.skips.partition_point(|&(st, _, _)| st <= b);
                    // Spans do not nest, but may touch: look back over the few that start
                    // before `b` for one that holds it.
                    self.skips[..k]
                        .iter()
                        .rev()
                        .take(4)
                        .find(|&&(_, e, _)| b < e)
                        .map(|&(_, _, w)| w)
                }
            };
            match why {
                Some(w) => *skipped.entry(w).or_default() += 1,
                None => used += 1,
            }
        }
        let total = self.problems.len() as u64;
        self.problems.sort_by_key(|(l, _)| l.unwrap_or(u64::MAX));
        self.problems.truncate(MAX_PROBLEMS);
        Dump {
            series,
            kind,
            query,
            warnings: self.warnings,
            notes: self.notes,
            times_without_zone: self.times_without_zone,
            lines_read: read,
            lines_used: used,
            skipped: skipped.into_iter().collect(),
            problems: self.problems,
            problems_total: total,
            fixes: self.fixes,
        }
    }
}
