//! What the report charts, decided in one place: the error rate against the threshold, the
//! errors by type, each rule's expression against its threshold, each pod's memory against
//! its limit. Each chart has a key (its entry in `report.json`'s `charts`) and a file name;
//! the renderers draw it once per image format.

use std::collections::BTreeSet;

use super::{
    render_gantt, render_pie, render_rate, Band, BandKind, ChartError, GanttChart, GanttRow,
    ImageFormat, Line, Mark, MarkKind, PieChart, RateChart, Slice,
};
use crate::correlate::{Analysis, MomentKind};
use crate::detect::memory::MemoryUse;
use crate::detect::rules::RuleOutcome;
use crate::model::alert::RateMode;
use crate::model::labels::{self, Labels};
use crate::model::{AlertInstance, Millis};
use crate::report::model::Report;

/// What to draw.
#[derive(Clone, Debug)]
pub enum ChartSpec {
    Rate(RateChart),
    Pie(PieChart),
    Gantt(GanttChart),
}

impl ChartSpec {
    pub fn render(&self, format: ImageFormat) -> Result<Vec<u8>, ChartError> {
        match self {
            ChartSpec::Rate(c) => render_rate(c, format),
            ChartSpec::Pie(c) => render_pie(c, format),
            ChartSpec::Gantt(c) => render_gantt(c, format),
        }
    }
}

/// One chart of the report.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Its key in `report.json`'s `charts` (`error_rate`, `rule:NAME`, `memory:POD`).
    pub key: String,
    /// Its file, relative to the report folder, without extension.
    pub file: String,
    pub spec: ChartSpec,
}

/// A name safe in a file name: letters, digits, `-` and `_`, at most 80 characters. A name
/// that had to change gets a short hash of the original, so two names never share a file.
fn file_safe(s: &str) -> String {
    const MAX: usize = 80;
    let safe: String = s
        .chars()
        .take(MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe == s {
        safe
    } else {
        format!(
            "{safe}-{:08x}",
            xxhash_rust::xxh3::xxh3_64(s.as_bytes()) as u32
        )
    }
}

/// Every chart of the report, in order: the error rate, the errors by type, the rules (those
/// with a threshold to draw), the pods' memory.
pub fn specs(a: &Analysis, report: &Report) -> Vec<Chart> {
    let mut out = vec![
        Chart {
            key: "error_rate".into(),
            file: "charts/error-rate".into(),
            spec: ChartSpec::Rate(rate_chart(a, report)),
        },
        Chart {
            key: "errors_by_type".into(),
            file: "charts/errors-by-type".into(),
            spec: ChartSpec::Pie(pie_chart(report)),
        },
    ];
    let rules = a
        .rules
        .rules
        .iter()
        .filter_map(|r| Some((r, rule_chart(a, report, r)?)));
    for (i, (r, chart)) in rules.enumerate() {
        out.push(Chart {
            key: format!("rule:{}", r.alertname),
            file: format!("charts/rule-{}-{}", i + 1, file_safe(&r.alertname)),
            spec: ChartSpec::Rate(chart),
        });
    }
    for m in &a.rules.memory {
        if let Some(chart) = memory_chart(a, m) {
            out.push(Chart {
                key: format!("memory:{}", m.pod),
                file: format!("charts/memory-{}", file_safe(&m.pod)),
                spec: ChartSpec::Rate(chart),
            });
        }
    }
    same_time_range(&mut out);
    if let Some(mut chart) = what_if_chart(a, report) {
        // Over the same range as the other time charts.
        if let Some(ChartSpec::Rate(r)) = out.first().map(|c| &c.spec) {
            (chart.start, chart.end) = (r.start, r.end);
        }
        out.push(Chart {
            key: "what_if".into(),
            file: "charts/what-if".into(),
            spec: ChartSpec::Gantt(chart),
        });
    }
    out
}

/// Bands of one kind that overlap or touch merged into one (thousands of series' alerts draw
/// as a few rectangles).
fn merged(mut bands: Vec<Band>) -> Vec<Band> {
    bands.sort_by_key(|b| (b.kind == BandKind::Firing, b.start));
    let mut out: Vec<Band> = Vec::new();
    for b in bands {
        match out.last_mut() {
            Some(last) if last.kind == b.kind && b.start <= last.end => {
                last.end = last.end.max(b.end)
            }
            _ => out.push(b),
        }
    }
    out
}

/// When each setting of the what-if table would have been pending and firing.
fn what_if_chart(a: &Analysis, report: &Report) -> Option<GanttChart> {
    let w = a.what_if.as_ref().ok()?;
    let (start, end) = w.span?;
    let interval = a.regression.as_ref().map_or(15_000, |r| r.interval_ms);
    let rows = w
        .rows
        .iter()
        .zip(&report.what_if.rows)
        .map(|(row, doc)| {
            let label = if doc.origin == "real" {
                format!(
                    "the rule (for {}, {}/s, window {})",
                    doc.for_, doc.threshold, doc.window
                )
            } else {
                doc.change.clone()
            };
            let mut bands = Vec::new();
            for x in &row.alerts {
                let pending_end = x.firing_at.unwrap_or(x.last_active + interval);
                bands.push(Band {
                    start: x.pending_at,
                    end: pending_end,
                    kind: BandKind::Pending,
                });
                if let Some(f) = x.firing_at {
                    bands.push(Band {
                        start: f,
                        end: x.resolved_at.unwrap_or(end),
                        kind: BandKind::Firing,
                    });
                }
            }
            GanttRow {
                label,
                bands: merged(bands),
            }
        })
        .collect();
    Some(GanttChart {
        title: format!(
            "{}: when each setting would have been pending and firing",
            report.what_if.alertname
        ),
        rows,
        marker: w.rows.first().and_then(|r| r.first_firing),
        start,
        end,
    })
}

/// Every time chart of a report over one range (the union of theirs), so a reader can line
/// one up against another.
fn same_time_range(charts: &mut [Chart]) {
    let rates = || {
        charts.iter().filter_map(|c| match &c.spec {
            ChartSpec::Rate(r) if r.start <= r.end => Some((r.start, r.end)),
            _ => None,
        })
    };
    let Some((start, end)) = rates().reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))) else {
        return;
    };
    for c in charts.iter_mut() {
        if let ChartSpec::Rate(r) = &mut c.spec {
            if r.start <= r.end {
                r.start = start;
                r.end = end;
            }
        }
    }
}

/// A metric's short name for a legend (the full name is in the chart's title).
fn memory_name(metric: &str) -> String {
    match metric {
        m if m.ends_with("working_set_bytes") => "working set".into(),
        m if m.ends_with("resident_memory_bytes") => "resident (RSS)".into(),
        m if m.ends_with("rss") => "RSS".into(),
        m if m.ends_with("usage_bytes") => "usage".into(),
        m => m.trim_end_matches("_bytes").into(),
    }
}

/// The unit of a rule's expression, from its shape: a quantile of durations is seconds, a
/// division of two series a ratio, bytes scaled by 1024s GiB or MiB, a rate per second.
fn expr_unit(expr: &str) -> &'static str {
    let e = expr.replace(' ', "");
    let divides_series = e.match_indices('/').any(|(i, _)| {
        e[i + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '(')
    });
    if e.contains("histogram_quantile(") {
        if e.contains("_seconds_bucket") {
            "seconds"
        } else {
            "value"
        }
    } else if divides_series {
        "ratio"
    } else if e.contains("_bytes") && e.contains("/1024/1024/1024") {
        "GiB"
    } else if e.contains("_bytes") && e.contains("/1024/1024") {
        "MiB"
    } else if e.contains("changes(") || e.contains("resets(") {
        "changes"
    } else if e.contains("rate(") && e.contains("_seconds_total") {
        "seconds per second"
    } else if e.contains("rate(") {
        "per second"
    } else if e.contains("_bytes") {
        "bytes"
    } else {
        "value"
    }
}

#[cfg(test)]
mod unit_tests {
    use super::expr_unit;

    #[test]
    fn units_from_the_shape_of_the_expression() {
        assert_eq!(
            expr_unit("rate(mcp_generation_errors_total[5m]) > 0.1"),
            "per second"
        );
        assert_eq!(
            expr_unit("mcp_process_resident_memory_bytes / 1024 / 1024 / 1024 > 1.5"),
            "GiB"
        );
        assert_eq!(
            expr_unit("sum(rate(x{status_code=~\"5..\"}[5m])) / sum(rate(x[5m])) > 0.05"),
            "ratio"
        );
        assert_eq!(
            expr_unit("histogram_quantile(0.95, sum(rate(d_seconds_bucket[5m])) by (le)) > 2"),
            "seconds"
        );
        assert_eq!(
            expr_unit("rate(mcp_process_cpu_seconds_total[5m]) > 0.8"),
            "seconds per second"
        );
        assert_eq!(
            expr_unit("changes(mcp_process_start_time_seconds[15m]) > 0"),
            "changes"
        );
    }
}

/// Each alert's pending period (to its firing, or to the evaluation after the last one it
/// held at) and firing period (to its resolution, else to `end`).
fn bands<'a>(alerts: impl Iterator<Item = &'a AlertInstance>, end: Millis) -> Vec<Band> {
    let mut bands = Vec::new();
    for a in alerts {
        bands.push(Band {
            start: a.pending_at,
            end: a.firing_at.unwrap_or(a.last_active + 1),
            kind: BandKind::Pending,
        });
        if let Some(f) = a.firing_at {
            bands.push(Band {
                start: f,
                end: a.resolved_at.unwrap_or(end),
                kind: BandKind::Firing,
            });
        }
    }
    bands
}

/// The moments every time chart marks.
fn marks(a: &Analysis) -> Vec<Mark> {
    a.findings
        .moments
        .iter()
        .map(|m| Mark {
            at: m.at,
            kind: match m.kind {
                MomentKind::Termination => MarkKind::Termination,
                MomentKind::Warning => MarkKind::Warning,
                MomentKind::LogRestart => MarkKind::LogRestart,
            },
        })
        .collect()
}

/// The rate chart: total and highest-series rate against the threshold, with the per-series
/// alert's pending and firing periods shaded.
fn rate_chart(a: &Analysis, report: &Report) -> RateChart {
    let det = &a.logs;
    let end = det.grid.last().copied().unwrap_or(0);
    let points = |v: &[Option<f64>]| {
        det.grid
            .iter()
            .copied()
            .zip(v.iter().copied())
            .collect::<Vec<_>>()
    };
    let s = &report.settings;
    RateChart {
        title: format!(
            "{}: error rate ({} mode{})",
            s.alertname,
            s.rate_mode.name(),
            if s.rate_mode == RateMode::Prometheus {
                format!(", Prometheus {}.x", s.prom_compat)
            } else {
                String::new()
            }
        ),
        y_label: "errors/s".into(),
        threshold: s.threshold,
        threshold_name: "threshold".into(),
        lines: vec![
            Line {
                label: "total (sum over all series)".into(),
                points: points(&det.total_rate),
            },
            Line {
                label: "highest single series".into(),
                points: points(&det.max_series_rate),
            },
        ],
        bands: bands(det.series.iter().flat_map(|s| s.alerts.iter()), end),
        marks: marks(a),
        start: det.grid.first().copied().unwrap_or(0),
        end,
    }
}

/// A rule's expression (the left-hand side of its threshold comparison) over the evaluation
/// grid, for the label sets with the highest peaks, against the threshold, with the rule's
/// pending and firing periods shaded. `None` for a rule without a threshold comparison.
fn rule_chart(a: &Analysis, report: &Report, r: &RuleOutcome) -> Option<RateChart> {
    let curve = r.curve.as_ref().filter(|c| !c.lines.is_empty())?;
    let end = r.grid.last().copied()?;
    let names = legend_names(&curve.lines.iter().map(|(l, _)| l).collect::<Vec<_>>());
    let lines = curve
        .lines
        .iter()
        .zip(names)
        .map(|((_, values), label)| Line {
            label,
            points: r.grid.iter().copied().zip(values.iter().copied()).collect(),
        })
        .collect();
    let doc = report.rules.iter().find(|d| d.alertname == r.alertname);
    let unit = doc.map_or("value", |d| expr_unit(&d.expr));
    Some(RateChart {
        title: format!(
            "{}: the expression ({unit}) against {} {} ({})",
            r.alertname,
            curve.op,
            curve.threshold,
            doc.map_or("", |d| d.mode.as_str())
        ),
        y_label: unit.into(),
        threshold: curve.threshold,
        threshold_name: "threshold".into(),
        lines,
        bands: bands(r.alerts.iter().map(|x| &x.instance), end),
        marks: marks(a),
        start: r.grid.first().copied().unwrap_or(end),
        end,
    })
}

/// Legend names that tell label sets apart in a legend a couple of dozen characters wide: the
/// values of the labels that differ between them, each without the prefix all of them share
/// (pods of one ReplicaSet differ only in their last segment). One label set keeps its labels.
fn legend_names(sets: &[&Labels]) -> Vec<String> {
    if sets.len() < 2 {
        return sets
            .iter()
            .map(|l| {
                if l.is_empty() {
                    "value".into()
                } else {
                    labels::braced(l)
                }
            })
            .collect();
    }
    // `instance` (address:port) last: it usually says again what `pod` says.
    let mut keys: Vec<&String> = sets
        .iter()
        .flat_map(|l| l.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    keys.sort_by_key(|k| k.as_str() == "instance");
    let mut names = vec![Vec::new(); sets.len()];
    let mut shown: Vec<Vec<&str>> = Vec::new();
    for key in keys {
        let values: Vec<&str> = sets
            .iter()
            .map(|l| l.get(key).map_or("", String::as_str))
            .collect();
        // Skip a label that does not vary, or that splits the sets exactly as one shown does.
        let same_split = |other: &Vec<&str>| {
            (0..values.len()).all(|i| {
                (0..values.len()).all(|j| (values[i] == values[j]) == (other[i] == other[j]))
            })
        };
        if values.iter().all(|v| *v == values[0]) || shown.iter().any(same_split) {
            continue;
        }
        shown.push(values.clone());
        // The shared prefix, cut back to the end of a `-`/`_`-separated segment.
        let first = values[0];
        let mut common = values.iter().fold(first.len(), |n, v| {
            first
                .bytes()
                .zip(v.bytes())
                .take(n)
                .take_while(|(a, b)| a == b)
                .count()
        });
        while common > 0 && !matches!(first.as_bytes()[common - 1], b'-' | b'_') {
            common -= 1;
        }
        for (name, v) in names.iter_mut().zip(&values) {
            let v = v.get(common..).unwrap_or(v);
            name.push(if v.is_empty() { "–" } else { v }.to_owned());
        }
    }
    names.into_iter().map(|parts| parts.join(" ")).collect()
}

/// A pod's memory (MiB) against its limit, its container terminations marked.
fn memory_chart(a: &Analysis, m: &MemoryUse) -> Option<RateChart> {
    const MIB: f64 = 1024.0 * 1024.0;
    let (first, last) = (m.samples.first()?.t_ms, m.samples.last()?.t_ms);
    let limit = m.limit.map_or(-1.0, |(l, _)| l as f64 / MIB);
    Some(RateChart {
        title: format!("{}: {} against its limit", m.pod, m.metric),
        y_label: "MiB".into(),
        threshold: limit,
        threshold_name: "limit".into(),
        lines: vec![Line {
            label: memory_name(&m.metric),
            points: m
                .samples
                .iter()
                .map(|s| (s.t_ms, Some(s.v / MIB).filter(|v| v.is_finite())))
                .collect(),
        }],
        bands: Vec::new(),
        marks: a
            .findings
            .terminations
            .iter()
            .filter(|x| x.termination.pod == m.pod)
            .filter_map(|x| x.termination.finished_at)
            .map(|at| Mark {
                at,
                kind: MarkKind::Termination,
            })
            .collect(),
        start: first,
        end: last,
    })
}

/// The "Errors by type" pie (counted failures per cause), like the Grafana panel's
/// `sum(mcp_generation_errors_total) by (error_type)`.
fn pie_chart(report: &Report) -> PieChart {
    PieChart {
        title: "Errors by type (counted failures)".into(),
        slices: report
            .causes
            .iter()
            .map(|c| Slice {
                label: c.id.clone(),
                value: c.events as f64,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::legend_names;
    use crate::model::labels::Labels;

    use crate::model::labels::from_pairs as labels;

    #[test]
    fn legend_names_keep_what_tells_series_apart() {
        let a = labels(&[
            ("error_type", "anthropic_api_error"),
            ("instance", "10.52.0.17:3000"),
            ("job", "mcp-backend"),
            ("pod", "mcp-backend-7c9d5b8f6d-x2kqp"),
        ]);
        let b = labels(&[
            ("error_type", "anthropic_api_error"),
            ("instance", "10.52.1.23:3000"),
            ("job", "mcp-backend"),
            ("pod", "mcp-backend-7c9d5b8f6d-9wzlm"),
        ]);
        let c = labels(&[
            ("error_type", "database_error"),
            ("instance", "10.52.0.17:3000"),
            ("job", "mcp-backend"),
            ("pod", "mcp-backend-7c9d5b8f6d-x2kqp"),
        ]);
        assert_eq!(
            legend_names(&[&a, &b, &c]),
            [
                "anthropic_api_error x2kqp",
                "anthropic_api_error 9wzlm",
                "database_error x2kqp"
            ]
        );
        // One line keeps its labels; none at all is the value.
        assert_eq!(legend_names(&[&labels(&[("pod", "p")])]), ["{pod=\"p\"}"]);
        assert_eq!(legend_names(&[&Labels::new()]), ["value"]);
    }
}
