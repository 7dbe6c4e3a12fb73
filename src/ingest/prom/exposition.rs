//! Prometheus text and OpenMetrics exposition: `# HELP`/`# TYPE`/`# UNIT` comments and
//! `name{labels} value [timestamp] [# exemplar]` lines, the timestamp in integer milliseconds
//! (Prometheus text) or in seconds with a fraction (OpenMetrics, told by `# EOF` or a
//! fractional timestamp). A plain scrape has no timestamps: its samples are placed at
//! `captured_at`, or skipped with a reason asking for `--captured-at`. Also owns the line
//! reader that `tsdb_dump` shares, since both formats are the same grammar line by line.

use std::collections::BTreeMap;

use super::collect::Collector;
use super::lexer::{parse_ms, parse_sample_line, parse_seconds, parse_value};
use super::lines::{is_marker, skip_wrapper_lines, Ctx, Marker, Span};
use super::{Dump, DumpError, DumpKind, SkipWhy};
use crate::model::labels::Labels;
use crate::model::metrics::Resolution;
use crate::model::Millis;

/// Whether the head reads as exposition text: metadata comments or sample lines, and no
/// line that is neither among the first ones.
pub(crate) fn sniff(body: &str) -> bool {
    let mut samples = 0;
    let mut meta = 0;
    let mut bad = 0;
    for line in body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(40)
    {
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim_start();
            if c.starts_with("HELP ")
                || c.starts_with("TYPE ")
                || c.starts_with("UNIT ")
                || c == "EOF"
            {
                meta += 1;
            }
            continue;
        }
        match parse_sample_line(line) {
            Ok(s) if s.histogram || parse_value(s.value).is_some() => samples += 1,
            _ => bad += 1,
        }
    }
    (samples > 0 || meta > 0) && bad == 0
}

/// How timestamps are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsUnit {
    Millis,
    Seconds,
}

/// What the line reader saw, for deciding the kind.
#[derive(Default, Debug)]
pub(crate) struct Seen {
    pub metadata: u64,
    pub eof: bool,
    pub samples: u64,
    pub with_ts: u64,
    pub without_ts: u64,
    pub fractional_ts: u64,
    pub repeated_series: bool,
    pub unit: Option<TsUnit>,
}

struct Line<'a> {
    span: Span,
    /// Index into the file's distinct label sets.
    series: usize,
    value: &'a str,
    ts: Option<&'a str>,
}

/// What the first pass over a file found: its sample lines (values and times unread), each
/// distinct label set once, and what it skipped and why.
#[derive(Default)]
struct Pass<'a> {
    lines: Vec<Line<'a>>,
    label_sets: Vec<Labels>,
    skips: Vec<(Span, SkipWhy)>,
    problems: Vec<(usize, String)>,
    histograms: u64,
    /// The first sample after `# EOF`.
    after_eof: Option<usize>,
}

/// The first pass: wrappers, comments and metadata counted, sample lines split into labels,
/// value and timestamp.
fn first_pass<'a>(ctx: &Ctx<'a>, seen: &mut Seen) -> Pass<'a> {
    let mut pass = Pass::default();
    let wrapper_end = skip_wrapper_lines(ctx.text);
    // Each distinct label set once (a dump repeats it on every line).
    let mut index: BTreeMap<Labels, usize> = BTreeMap::new();
    let mut in_stderr = false;
    for (span, line) in ctx.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if in_stderr || span.0 < wrapper_end {
            pass.skips.push((span, SkipWhy::Wrapper));
            continue;
        }
        match is_marker(line) {
            Some(Marker::Stdout) => {
                pass.skips.push((span, SkipWhy::Wrapper));
                continue;
            }
            Some(Marker::Stderr) => {
                in_stderr = true;
                pass.skips.push((span, SkipWhy::Wrapper));
                continue;
            }
            None => {}
        }
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim_start();
            if c == "EOF" {
                seen.eof = true;
            } else if c.starts_with("HELP ") || c.starts_with("TYPE ") || c.starts_with("UNIT ") {
                seen.metadata += 1;
            }
            pass.skips.push((span, SkipWhy::Comment));
            continue;
        }
        if seen.eof && pass.after_eof.is_none() {
            pass.after_eof = Some(span.0);
        }
        match parse_sample_line(t) {
            Ok(s) if s.histogram => {
                pass.histograms += 1;
                pass.skips.push((span, SkipWhy::NativeHistogram));
            }
            Ok(s) => {
                if let Some(ts) = s.timestamp {
                    if ts.contains(['.', 'e', 'E']) {
                        seen.fractional_ts += 1;
                    }
                }
                let series = match index.get(&s.labels) {
                    Some(&i) => {
                        seen.repeated_series = true;
                        i
                    }
                    None => {
                        index.insert(s.labels.clone(), pass.label_sets.len());
                        pass.label_sets.push(s.labels);
                        pass.label_sets.len() - 1
                    }
                };
                pass.lines.push(Line {
                    span,
                    series,
                    value: s.value,
                    ts: s.timestamp,
                });
            }
            Err(why) => {
                pass.skips.push((span, SkipWhy::Malformed));
                pass.problems
                    .push((span.0, format!("{why}: {}", excerpt(t))));
            }
        }
    }
    pass
}

/// The timestamp unit: `# EOF` or fractions mean seconds; integers mean milliseconds, unless
/// every one of them would be in 1970 as ms but in 2001..5000 as seconds.
fn decide_unit(ctx: &mut Ctx<'_>, seen: &Seen, lines: &[Line<'_>]) -> TsUnit {
    if seen.eof || seen.fractional_ts > 0 {
        return TsUnit::Seconds;
    }
    let ts: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.ts.and_then(parse_ms))
        .collect();
    if !ts.is_empty()
        && ts
            .iter()
            .all(|&t| (1_000_000_000..100_000_000_000).contains(&t))
    {
        ctx.notes.push(
            "integer timestamps that only make sense as seconds (as ms they would be \
             in 1970): read as seconds"
                .to_owned(),
        );
        TsUnit::Seconds
    } else {
        TsUnit::Millis
    }
}

/// A sample line's time: its timestamp in `unit`, else the capture time; `Err` with why it
/// has none (`None`: no timestamp and no capture time).
fn sample_time(
    l: &Line<'_>,
    unit: TsUnit,
    captured_at: Option<Millis>,
    seen: &mut Seen,
) -> Result<Millis, Option<String>> {
    let Some(ts) = l.ts else {
        seen.without_ts += 1;
        return captured_at.ok_or(None);
    };
    seen.with_ts += 1;
    let parsed = match unit {
        TsUnit::Millis => parse_ms(ts),
        TsUnit::Seconds => parse_seconds(ts),
    };
    parsed.ok_or_else(|| {
        Some(format!(
            "timestamp {ts:?} is not {}",
            match unit {
                TsUnit::Millis => "an integer number of milliseconds",
                TsUnit::Seconds => "a number of seconds",
            }
        ))
    })
}

/// Reads every line of a `tsdb dump` or exposition file into `col`. `unit`: the timestamp
/// unit when the format fixes it; `None` decides it from the file (`# EOF` or fractions:
/// seconds; else milliseconds).
pub(crate) fn read_lines(
    ctx: &mut Ctx<'_>,
    col: &mut Collector,
    unit: Option<TsUnit>,
    captured_at: Option<Millis>,
) -> Seen {
    let mut seen = Seen::default();
    let mut pass = first_pass(ctx, &mut seen);
    let unit = unit.unwrap_or_else(|| decide_unit(ctx, &seen, &pass.lines));
    seen.unit = Some(unit);
    let mut no_ts_first: Option<usize> = None;
    for l in std::mem::take(&mut pass.lines) {
        let Some(v) = parse_value(l.value) else {
            pass.skips.push((l.span, SkipWhy::Malformed));
            pass.problems
                .push((l.span.0, format!("value {:?} is not a number", l.value)));
            continue;
        };
        match sample_time(&l, unit, captured_at, &mut seen) {
            Ok(t) => {
                seen.samples += 1;
                col.push(&pass.label_sets[l.series], t, v, l.span);
            }
            Err(Some(why)) => {
                pass.skips.push((l.span, SkipWhy::Malformed));
                pass.problems.push((l.span.0, why));
            }
            Err(None) => {
                no_ts_first.get_or_insert(l.span.0);
                pass.skips.push((l.span, SkipWhy::NoTimestamp));
            }
        }
    }
    for (span, why) in pass.skips {
        ctx.skip(span, why);
    }
    for (pos, msg) in pass.problems {
        ctx.problem_at(Some(pos), msg);
    }
    if let Some(pos) = pass.after_eof {
        ctx.problem_at(
            Some(pos),
            "samples after `# EOF` (several files joined?): read anyway",
        );
    }
    if let Some(pos) = no_ts_first {
        ctx.problem_at(
            Some(pos),
            format!(
                "{} sample(s) have no timestamp (a plain /metrics scrape): skipped; pass \
                 --captured-at with the time the scrape was taken to use them",
                seen.without_ts
            ),
        );
    } else if seen.without_ts > 0 {
        if let Some(t) = captured_at {
            ctx.notes.push(format!(
                "{} sample(s) without timestamp placed at the capture time {}",
                seen.without_ts,
                crate::model::time::format_short(t)
            ));
        }
    }
    if pass.histograms > 0 {
        ctx.notes.push(format!(
            "{} native-histogram sample(s) skipped: this version reads float samples only",
            pass.histograms
        ));
    }
    seen
}

fn excerpt(line: &str) -> String {
    if line.chars().count() > 80 {
        format!("`{}...`", line.chars().take(80).collect::<String>())
    } else {
        format!("`{line}`")
    }
}

pub(crate) fn parse(text: &str, captured_at: Option<i64>) -> Result<Dump, DumpError> {
    let mut ctx = Ctx::new(text);
    let mut col = Collector::default();
    let seen = read_lines(&mut ctx, &mut col, None, captured_at);
    if seen.samples == 0 && seen.without_ts == 0 && seen.metadata == 0 && !seen.eof {
        return Err(DumpError::new(
            "no exposition line in this file (neither `# HELP`/`# TYPE` nor `name{labels} value`)",
            None,
        ));
    }
    let dump_openmetrics = seen.eof
        && seen.metadata == 0
        && seen.without_ts == 0
        && seen.with_ts > 0
        && seen.repeated_series;
    let kind = if dump_openmetrics {
        ctx.notes.push(
            "OpenMetrics samples with timestamps, series repeated, no # HELP/# TYPE: read as \
             `promtool tsdb dump-openmetrics` output (raw samples, times in seconds)"
                .to_owned(),
        );
        DumpKind::TsdbDump
    } else {
        ctx.notes.push(match seen.unit {
            Some(TsUnit::Seconds) => {
                "OpenMetrics exposition (timestamps in seconds): raw samples".to_owned()
            }
            _ => "Prometheus text exposition (timestamps in milliseconds): raw samples".to_owned(),
        });
        DumpKind::Exposition
    };
    let series = col.finish(&mut ctx, |_| Resolution::Raw);
    Ok(ctx.finish(series, kind, None))
}
