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
use crate::model::metrics::{Labels, Resolution};
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
    let wrapper_end = skip_wrapper_lines(ctx.text);
    let mut lines: Vec<Line> = Vec::new();
    // Each distinct label set once (a dump repeats it on every line).
    let mut index: BTreeMap<Labels, usize> = BTreeMap::new();
    let mut label_sets: Vec<Labels> = Vec::new();
    let mut in_stderr = false;
    let mut after_eof: Option<usize> = None;
    let mut skips: Vec<(Span, SkipWhy)> = Vec::new();
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut histograms = 0u64;
    for (span, line) in ctx.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if in_stderr || span.0 < wrapper_end {
            skips.push((span, SkipWhy::Wrapper));
            continue;
        }
        match is_marker(line) {
            Some(Marker::Stdout) => {
                skips.push((span, SkipWhy::Wrapper));
                continue;
            }
            Some(Marker::Stderr) => {
                in_stderr = true;
                skips.push((span, SkipWhy::Wrapper));
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
            skips.push((span, SkipWhy::Comment));
            continue;
        }
        if seen.eof && after_eof.is_none() {
            after_eof = Some(span.0);
        }
        match parse_sample_line(t) {
            Ok(s) if s.histogram => {
                histograms += 1;
                skips.push((span, SkipWhy::NativeHistogram));
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
                        index.insert(s.labels.clone(), label_sets.len());
                        label_sets.push(s.labels);
                        label_sets.len() - 1
                    }
                };
                lines.push(Line {
                    span,
                    series,
                    value: s.value,
                    ts: s.timestamp,
                });
            }
            Err(why) => {
                skips.push((span, SkipWhy::Malformed));
                problems.push((span.0, format!("{why}: {}", excerpt(t))));
            }
        }
    }
    let unit = unit.unwrap_or_else(|| {
        if seen.eof || seen.fractional_ts > 0 {
            TsUnit::Seconds
        } else {
            // Integer timestamps without `# EOF`: milliseconds, unless every one of them
            // would be in 1970 as ms but in 2001..5000 as seconds.
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
    });
    seen.unit = Some(unit);
    let mut no_ts_first: Option<usize> = None;
    drop(index);
    for l in lines {
        let Some(v) = parse_value(l.value) else {
            skips.push((l.span, SkipWhy::Malformed));
            problems.push((l.span.0, format!("value {:?} is not a number", l.value)));
            continue;
        };
        let t = match l.ts {
            Some(ts) => {
                seen.with_ts += 1;
                let parsed = match unit {
                    TsUnit::Millis => parse_ms(ts),
                    TsUnit::Seconds => parse_seconds(ts),
                };
                match parsed {
                    Some(t) => t,
                    None => {
                        skips.push((l.span, SkipWhy::Malformed));
                        problems.push((
                            l.span.0,
                            format!(
                                "timestamp {ts:?} is not {}",
                                match unit {
                                    TsUnit::Millis => "an integer number of milliseconds",
                                    TsUnit::Seconds => "a number of seconds",
                                }
                            ),
                        ));
                        continue;
                    }
                }
            }
            None => {
                seen.without_ts += 1;
                match captured_at {
                    Some(t) => t,
                    None => {
                        no_ts_first.get_or_insert(l.span.0);
                        skips.push((l.span, SkipWhy::NoTimestamp));
                        continue;
                    }
                }
            }
        };
        seen.samples += 1;
        col.push(&label_sets[l.series], t, v, l.span);
    }
    for (span, why) in skips {
        ctx.skip(span, why);
    }
    for (pos, msg) in problems {
        ctx.problem_at(Some(pos), msg);
    }
    if let Some(pos) = after_eof {
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
                super::fmt_time(t)
            ));
        }
    }
    if histograms > 0 {
        ctx.notes.push(format!(
            "{histograms} native-histogram sample(s) skipped: this version reads float samples only"
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
