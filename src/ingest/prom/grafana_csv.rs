//! Grafana's panel "Inspect > Data > Download CSV" (Grafana 7 to 11, and the older
//! `Series;Time;Value` export). The header row names the columns, each quoted (`"Time",
//! "{error_type=""x"", pod=""y""}"`); `sep=,` comes first when "Download for Excel" was on,
//! and the delimiter follows the browser's locale (`,`, `;` or tab). Owns: finding the time
//! column (epoch ms when "Formatted data" was off, else `2026-11-20 09:40:00` in the
//! dashboard's zone, which the file does not say), turning column names into labels
//! (`metric{a="b"}`, `{a="b"}`, or a legend kept as `__legend__`), the wide layout ("Series
//! joined by time": one column per series) and the table layout (label columns plus `Value`
//! columns), and the step of the re-sampled values. Quoting is RFC 4180 (`""` inside quotes,
//! delimiters and newlines inside quoted cells), read by hand so each row keeps its lines.

use chrono::{DateTime, NaiveDateTime};

use super::collect::Collector;
use super::lexer::{parse_label_set, parse_ms, parse_seconds, parse_value};
use super::lines::{is_marker, skip_wrapper_lines, Ctx, Marker, Span};
use super::{Dump, DumpError, DumpKind, SkipWhy};
use crate::model::labels;
use crate::model::labels::Labels;
use crate::model::metrics::Resolution;
use crate::model::time::format_duration;
use crate::model::Millis;

/// One CSV record: its bytes and cells.
struct Record {
    span: Span,
    cells: Vec<String>,
    unterminated: bool,
}

/// Splits `text[from..]` into records; quoted cells may hold the delimiter, `""` and newlines.
fn records(text: &str, from: usize, delim: u8) -> Vec<Record> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    while i < b.len() {
        let start = i;
        let mut cells = Vec::new();
        let mut cell: Vec<u8> = Vec::new();
        let mut unterminated = false;
        loop {
            // At the start of a cell.
            if i < b.len() && b[i] == b'"' {
                i += 1;
                loop {
                    match b.get(i) {
                        None => {
                            unterminated = true;
                            break;
                        }
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                            cell.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            cell.push(c);
                            i += 1;
                        }
                    }
                }
                // Anything up to the delimiter after the closing quote is kept as it is.
                while i < b.len() && b[i] != delim && b[i] != b'\n' {
                    if b[i] != b'\r' {
                        cell.push(b[i]);
                    }
                    i += 1;
                }
            } else {
                while i < b.len() && b[i] != delim && b[i] != b'\n' {
                    cell.push(b[i]);
                    i += 1;
                }
                if cell.last() == Some(&b'\r') {
                    cell.pop();
                }
            }
            cells.push(String::from_utf8_lossy(&cell).into_owned());
            cell.clear();
            match b.get(i) {
                Some(&c) if c == delim => i += 1,
                Some(b'\n') => {
                    i += 1;
                    break;
                }
                _ => break,
            }
        }
        let end = if i > start && b.get(i - 1) == Some(&b'\n') {
            i - 1
        } else {
            i
        };
        out.push(Record {
            span: (start, end),
            cells,
            unterminated,
        });
    }
    out
}

/// The delimiter of a header line: the most frequent of `,`, `;`, tab outside quotes.
fn delimiter_of(line: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in line.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&k| (counts[k], 3 - k)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

fn is_time_name(name: &str) -> bool {
    let n = name
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase();
    matches!(
        n.as_str(),
        "time" | "timestamp" | "date" | "datetime" | "_time"
    ) || n.starts_with("time ")
}

fn is_value_name(name: &str) -> bool {
    let n = name.trim();
    n == "Value" || n.starts_with("Value #") || n == "value"
}

/// The first meaningful line and the delimiter, past `sep=` and `#` lines.
fn header_line(body: &str) -> Option<(&str, Option<u8>)> {
    let mut sep = None;
    for line in body.lines() {
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() || t.starts_with('#') || is_marker(t).is_some() {
            continue;
        }
        if let Some(s) = t.strip_prefix("sep=") {
            sep = s.bytes().next();
            continue;
        }
        return Some((t, sep));
    }
    None
}

/// Whether the head is a Grafana CSV: a header with a time column and at least one other.
pub(crate) fn sniff(body: &str) -> bool {
    let Some((header, sep)) = header_line(body) else {
        return false;
    };
    let delim = sep.unwrap_or_else(|| delimiter_of(header));
    let recs = records(header, 0, delim);
    let Some(h) = recs.first() else {
        return false;
    };
    h.cells.len() >= 2 && h.cells.iter().any(|c| is_time_name(c))
}

/// A time cell: epoch ms (or s), RFC 3339, or Grafana's zone-less `YYYY-MM-DD HH:mm:ss`.
/// Returns the time and whether it carried a zone.
fn parse_time(cell: &str) -> Option<(Millis, bool)> {
    let c = cell.trim();
    if c.is_empty() {
        return None;
    }
    if let Some(n) = parse_ms(c) {
        return Some(if (1_000_000_000..100_000_000_000).contains(&n) {
            (n * 1000, true)
        } else {
            (n, true)
        });
    }
    if c.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_seconds(c).map(|t| (t, true));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(c) {
        return Some((d.timestamp_millis(), true));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(d) = DateTime::parse_from_str(c, f) {
            return Some((d.timestamp_millis(), true));
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(c, f) {
            return Some((d.and_utc().timestamp_millis(), false));
        }
    }
    None
}

/// A column title as labels: `name{a="b"}` / `{a="b"}` (Grafana does not escape quotes in
/// label values, so a lenient reading follows a strict one), `Value` (no labels), or a legend.
fn labels_of_title(title: &str) -> (Labels, bool) {
    let t = title.trim();
    if t.is_empty() || t == "Value" || t == "value" {
        return (Labels::new(), true);
    }
    if t.ends_with('}') && t.contains('{') {
        if let Ok(l) = parse_label_set(t) {
            return (l, true);
        }
        if let Some(l) = lenient_label_set(t) {
            return (l, true);
        }
    }
    let mut l = Labels::new();
    l.insert("__legend__".to_owned(), t.to_owned());
    (l, false)
}

/// `name{a="x"y", b="z"}` with unescaped quotes: a value ends at the `"` that is followed by
/// `, key=` or by the closing `}`.
fn lenient_label_set(t: &str) -> Option<Labels> {
    let open = t.find('{')?;
    let name = t[..open].trim();
    let mut rest = &t[open + 1..t.len() - 1];
    let mut labels = Labels::new();
    if !name.is_empty() {
        labels.insert("__name__".to_owned(), name.to_owned());
    }
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some(labels);
        }
        let eq = rest.find("=\"")?;
        let key = rest[..eq].trim().to_owned();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let after = &rest[eq + 2..];
        // The closing quote: the last `"` before `, key="`, or the last one at all.
        let mut close = None;
        for (i, _) in after.match_indices('"') {
            let tail = &after[i + 1..];
            let next_pair = tail.trim_start().strip_prefix(',').map(str::trim_start);
            let ends = tail.trim().is_empty();
            let next_is_label = next_pair.is_some_and(|p| {
                p.find("=\"").is_some_and(|e| {
                    p[..e]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
            });
            if ends || next_is_label {
                close = Some(i);
                break;
            }
        }
        let close = close?;
        labels.insert(key, after[..close].to_owned());
        rest = after[close + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A cell that starts with a number but carries a unit (`12.5 ms`, `45%`, `1.2 K`).
fn has_unit(cell: &str) -> bool {
    let c = cell.trim();
    let num_end = c
        .find(|ch: char| !(ch.is_ascii_digit() || matches!(ch, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(c.len());
    num_end > 0 && num_end < c.len() && parse_value(&c[..num_end]).is_some()
}

/// The header row (its span and text) and the delimiter a `sep=` line set; the wrapper,
/// `sep=` and `#` lines before it are accounted for.
fn header(ctx: &mut Ctx<'_>, text: &str) -> Result<(Span, String, Option<u8>), DumpError> {
    let body_start = skip_wrapper_lines(text);
    let mut header_at = None;
    let mut sep = None;
    let mut pre: Vec<(Span, SkipWhy)> = Vec::new();
    for (span, line) in ctx.lines() {
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() {
            continue;
        }
        if span.0 < body_start || is_marker(t) == Some(Marker::Stdout) {
            pre.push((span, SkipWhy::Wrapper));
        } else if let Some(s) = t.strip_prefix("sep=") {
            sep = s.bytes().next();
            pre.push((span, SkipWhy::Comment));
        } else if t.starts_with('#') {
            pre.push((span, SkipWhy::Comment));
        } else {
            header_at = Some((span, t.to_owned()));
            break;
        }
    }
    for (s, w) in pre {
        ctx.skip(s, w);
    }
    match header_at {
        Some((span, line)) => Ok((span, line, sep)),
        None => Err(DumpError::new("no header row: not a Grafana CSV", None)),
    }
}

/// What reading the rows noticed, for the notes.
#[derive(Default)]
struct Noticed {
    /// Rows whose time has no zone.
    naive: u64,
    /// Integer times of 10 digits (epoch seconds).
    seconds_epoch: bool,
    /// Values with a unit ("Formatted data" on), and the first one.
    unit_cells: u64,
    unit_first: Option<(usize, String)>,
    /// Frames, each with its own header row.
    sections: usize,
}

/// Reads one data row's values into `col`.
fn read_row(
    ctx: &mut Ctx<'_>,
    col: &mut Collector,
    lay: &Layout,
    rec: &Record,
    seen: &mut Noticed,
) {
    let Some(tcell) = rec.cells.get(lay.time_col) else {
        ctx.skip(rec.span, SkipWhy::Malformed);
        ctx.problem_at(Some(rec.span.0), "row shorter than the header: no time");
        return;
    };
    let Some((t, zoned)) = parse_time(tcell) else {
        ctx.skip(rec.span, SkipWhy::Malformed);
        ctx.problem_at(
            Some(rec.span.0),
            format!("time {:?} cannot be read", tcell.trim()),
        );
        return;
    };
    if !zoned {
        seen.naive += 1;
    }
    if parse_ms(tcell.trim()).is_some_and(|n| (1_000_000_000..100_000_000_000).contains(&n)) {
        seen.seconds_epoch = true;
    }
    let mut pushed = 0;
    let mut bad = 0;
    let mut cells_seen = 0;
    let mut take =
        |ctx: &mut Ctx<'_>, col: &mut Collector, labels: &Labels, cell: &str, title: &str| {
            let c = cell.trim();
            if c.is_empty() || c.eq_ignore_ascii_case("null") || c == "undefined" {
                return;
            }
            cells_seen += 1;
            match parse_value(c) {
                Some(v) => {
                    col.push(labels, t, v, rec.span);
                    pushed += 1;
                }
                None if has_unit(c) => {
                    bad += 1;
                    seen.unit_cells += 1;
                    seen.unit_first
                        .get_or_insert((rec.span.0, format!("{title}: {c:?}")));
                }
                None => {
                    bad += 1;
                    ctx.problem_at(
                        Some(rec.span.0),
                        format!("column {title}: value {c:?} is not a number: skipped"),
                    );
                }
            }
        };
    let titles = &lay.titles;
    if lay.table {
        let mut labels = Labels::new();
        for &i in &lay.rest_cols {
            let v = rec.cells.get(i).map_or("", |s| s.trim());
            if !v.is_empty() {
                labels.insert(label_key(&titles[i]), v.to_owned());
            }
        }
        for &i in &lay.value_cols {
            let mut l = labels.clone();
            if lay.value_cols.len() > 1 {
                l.insert("__legend__".to_owned(), titles[i].clone());
            }
            let cell = rec.cells.get(i).map_or("", String::as_str);
            take(ctx, col, &l, cell, &titles[i]);
        }
    } else {
        for (i, labels) in &lay.wide {
            let cell = rec.cells.get(*i).map_or("", String::as_str);
            take(ctx, col, labels, cell, &titles[*i]);
        }
    }
    if cells_seen == 0 {
        ctx.skip(rec.span, SkipWhy::NoValue);
    } else if pushed == 0 && bad > 0 {
        ctx.skip(rec.span, SkipWhy::Malformed);
    }
}

/// What the rows noticed, as notes and problems.
fn tell(ctx: &mut Ctx<'_>, seen: Noticed) {
    if seen.sections > 1 {
        ctx.notes.push(format!(
            "{} frames, each with its own header row",
            seen.sections
        ));
    }
    if let Some((pos, example)) = seen.unit_first {
        ctx.problem_at(
            Some(pos),
            format!(
                "{} value(s) carry a unit ({example}): Grafana's \"Formatted data\" \
                 was on; skipped (download again with \"Formatted data\" off)",
                seen.unit_cells
            ),
        );
    }
    if seen.naive > 0 {
        ctx.times_without_zone = true;
        ctx.notes.push(
            "the Time column has no zone (Grafana writes the dashboard's zone, the browser's by \
             default)"
                .to_owned(),
        );
    }
    if seen.seconds_epoch {
        ctx.notes
            .push("integer times of 10 digits read as epoch seconds".to_owned());
    }
}

/// The series, each re-sampled on its step (the common divisor of its time differences), and
/// the panel's step (the smallest), said in the notes.
fn series_on_their_steps(
    ctx: &mut Ctx<'_>,
    col: Collector,
) -> (Vec<crate::model::metrics::MetricSeries>, Option<Millis>) {
    let steps: std::collections::BTreeMap<Labels, Millis> = col
        .series_times()
        .map(|(l, ts)| {
            let t0 = ts.first().copied().unwrap_or(0);
            let g = ts.iter().fold(0, |g, &t| gcd(g, t - t0));
            (l.clone(), g)
        })
        .collect();
    let step = steps.values().copied().filter(|&g| g > 0).min();
    match step {
        Some(s) => ctx.notes.push(format!(
            "a Grafana panel's values: re-sampled by its query every {} (not raw scrapes)",
            format_duration(s)
        )),
        None => ctx
            .notes
            .push("a single row: one value per series, step unknown".to_owned()),
    }
    if let Some(s) = step {
        for (l, g) in &steps {
            if *g > 0 && *g != s && g % s != 0 {
                ctx.notes.push(format!(
                    "series {} is on another grid (every {})",
                    labels::metric(l),
                    format_duration(*g)
                ));
            }
        }
    }
    let series = col.finish(ctx, |l| match steps.get(l).copied().filter(|&g| g > 0) {
        Some(g) => Resolution::Resampled { step_ms: g },
        None => match step {
            Some(s) => Resolution::Resampled { step_ms: s },
            None => Resolution::Raw,
        },
    });
    (series, step)
}

pub(crate) fn parse(text: &str) -> Result<Dump, DumpError> {
    let mut ctx = Ctx::new(text);
    let (hspan, hline, sep) = header(&mut ctx, text)?;
    let delim = sep.unwrap_or_else(|| delimiter_of(&hline));
    let all = records(text, hspan.0, delim);
    let hline_no = ctx.line_of(hspan.0);
    let mut lay = match all
        .first()
        .map(|h| layout(&mut ctx, h, &all[1..], hline_no))
    {
        Some(Ok(l)) => l,
        Some(Err(e)) => return Err(DumpError::new(e, Some(hline_no))),
        None => return Err(DumpError::new("no header row: not a Grafana CSV", None)),
    };
    let mut col = Collector::default();
    let mut seen = Noticed {
        sections: 1,
        ..Noticed::default()
    };
    for (k, rec) in all.iter().enumerate().skip(1) {
        if rec.cells.iter().all(|c| c.trim().is_empty()) {
            continue; // blank line
        }
        if rec.unterminated {
            ctx.skip(rec.span, SkipWhy::Malformed);
            ctx.problem_at(
                Some(rec.span.0),
                "a quoted cell is never closed: the rest of the file is unreadable",
            );
            continue;
        }
        if let Some(t) = is_marker(&rec.cells.join(",")) {
            if t == Marker::Stderr {
                // HolmesGPT's stderr: the rest is not the CSV.
                let end = text.len();
                ctx.skip((rec.span.0, end), SkipWhy::Wrapper);
                break;
            }
            ctx.skip(rec.span, SkipWhy::Wrapper);
            continue;
        }
        if is_header(rec) {
            // Several frames downloaded together: each starts with its own header.
            let line = ctx.line_of(rec.span.0);
            match layout(&mut ctx, rec, &all[k + 1..], line) {
                Ok(l) => {
                    lay = l;
                    seen.sections += 1;
                }
                Err(e) => {
                    ctx.skip(rec.span, SkipWhy::Malformed);
                    ctx.problem(Some(line), format!("{e}: header skipped"));
                }
            }
            continue;
        }
        read_row(&mut ctx, &mut col, &lay, rec, &mut seen);
    }
    tell(&mut ctx, seen);
    let (series, step) = series_on_their_steps(&mut ctx, col);
    Ok(ctx.finish(series, DumpKind::GrafanaCsv { step_ms: step }, None))
}

/// How the columns of one frame are read.
struct Layout {
    titles: Vec<String>,
    time_col: usize,
    /// Table layout: label columns plus `Value` columns; else wide: a series per column.
    table: bool,
    value_cols: Vec<usize>,
    rest_cols: Vec<usize>,
    /// Wide layout: each series column and its labels.
    wide: Vec<(usize, Labels)>,
}

/// A header row among the data: it names a time column, and holds no time.
fn is_header(rec: &Record) -> bool {
    rec.cells.iter().any(|c| is_time_name(c)) && rec.cells.iter().all(|c| parse_time(c).is_none())
}

/// Reads a header row; `rows` (the rows after it) tell a table from the wide layout.
fn layout(
    ctx: &mut Ctx<'_>,
    header: &Record,
    rows: &[Record],
    hline_no: u64,
) -> Result<Layout, String> {
    let titles: Vec<String> = header
        .cells
        .iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let Some(time_col) = titles.iter().position(|t| is_time_name(t)) else {
        return Err(format!(
            "no Time column in the header ({})",
            titles.join(", ")
        ));
    };
    // Other time columns are ignored; `Value` columns may make it a table layout.
    let other_times: Vec<usize> = (0..titles.len())
        .filter(|&i| i != time_col && is_time_name(&titles[i]))
        .collect();
    let value_cols: Vec<usize> = (0..titles.len())
        .filter(|&i| i != time_col && is_value_name(&titles[i]))
        .collect();
    let rest_cols: Vec<usize> = (0..titles.len())
        .filter(|&i| i != time_col && !other_times.contains(&i) && !value_cols.contains(&i))
        .collect();
    // Table layout ("Format: Table"): `Value` columns beside label columns holding text.
    // Otherwise ("Series joined by time") every column is a series, `Value #B` included.
    let rows = &rows[..rows.iter().position(is_header).unwrap_or(rows.len())];
    let table = !value_cols.is_empty()
        && !rest_cols.is_empty()
        && rest_cols.iter().all(|&i| !titles[i].contains('{'))
        && rows.iter().any(|r| {
            rest_cols.iter().any(|&i| {
                r.cells
                    .get(i)
                    .is_some_and(|c| !c.trim().is_empty() && parse_value(c).is_none())
            })
        });
    if !other_times.is_empty() {
        ctx.notes.push(format!(
            "{} more time column(s) ignored; times are taken from {:?}",
            other_times.len(),
            titles[time_col]
        ));
    }
    let mut wide: Vec<(usize, Labels)> = Vec::new();
    if table {
        ctx.notes.push(format!(
            "table layout: label columns {}; value column(s) {}",
            rest_cols
                .iter()
                .map(|&i| titles[i].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            value_cols
                .iter()
                .map(|&i| titles[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else {
        let mut legends = 0;
        let mut cols: Vec<usize> = value_cols.iter().chain(&rest_cols).copied().collect();
        cols.sort_unstable();
        for i in cols {
            let (mut labels, from_labels) = labels_of_title(&titles[i]);
            if !from_labels {
                legends += 1;
            }
            if wide.iter().any(|(_, l)| *l == labels) {
                labels.insert("__column__".to_owned(), (i + 1).to_string());
                ctx.problem(
                    Some(hline_no),
                    format!(
                        "column {} has the same name as an earlier one ({}): kept apart by \
                         __column__=\"{}\"",
                        i + 1,
                        titles[i],
                        i + 1
                    ),
                );
            }
            wide.push((i, labels));
        }
        if legends > 0 {
            ctx.notes.push(format!(
                "{legends} column(s) named by a legend, not by labels: kept as label \
                 __legend__ (set the panel's legend to Verbose to get labels)"
            ));
        }
        if wide.is_empty() {
            return Err("a Time column but no value column".to_owned());
        }
    }
    Ok(Layout {
        titles,
        time_col,
        table,
        value_cols,
        rest_cols,
        wide,
    })
}

/// A label column's title as a label name (`pod`, `error_type`; anything else made safe).
fn label_key(title: &str) -> String {
    let t = title.trim();
    if t.eq_ignore_ascii_case("series") || t.eq_ignore_ascii_case("metric") {
        return "__legend__".to_owned();
    }
    let k: String = t
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if k.starts_with(|c: char| c.is_ascii_digit()) || k.is_empty() {
        format!("_{k}")
    } else {
        k
    }
}
