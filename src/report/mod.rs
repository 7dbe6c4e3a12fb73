//! Report: the document (`model.rs`), how it is built from the stages' results (`build.rs`),
//! and one module per output format. Renderers are pure functions returning bytes; [`write_all`]
//! is the one place that writes the report (the `--export` table streams out as the run goes:
//! `export.rs`).

pub mod build;
pub mod charts;
pub mod export;
pub mod html;
pub mod json;
pub mod markdown;
pub mod model;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::{Config, Format};
use crate::detect::metrics::{MemoryUse, MetricsDetection, RuleOutcome};
use crate::detect::Detection;
use charts::{Band, BandKind, ImageFormat, Line, PieChart, RateChart, Slice};
use model::Report;

/// Chart file names (relative to the report folder), without extension.
pub const RATE_CHART: &str = "charts/error-rate";
pub const PIE_CHART: &str = "charts/errors-by-type";

/// What was written, and the terminal summary.
pub struct Written {
    pub files: Vec<PathBuf>,
    pub summary: String,
}

/// The rate chart: total and highest-series rate against the threshold, with the per-series
/// alert's pending and firing periods shaded.
pub fn rate_chart(report: &Report, det: &Detection) -> RateChart {
    let mut bands = Vec::new();
    let end = det.grid.last().copied().unwrap_or(0);
    for s in &det.series {
        for a in &s.alerts {
            let pending_end = a.firing_at.unwrap_or(a.last_active + 1);
            bands.push(Band {
                start: a.pending_at,
                end: pending_end,
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
    }
    let points = |v: &[Option<f64>]| {
        det.grid
            .iter()
            .copied()
            .zip(v.iter().copied())
            .collect::<Vec<_>>()
    };
    RateChart {
        title: format!(
            "{}: error rate ({} mode{})",
            report.settings.alertname,
            report.settings.rate_mode,
            if report.settings.rate_mode == "prometheus" {
                format!(", Prometheus {}.x", report.settings.prom_compat)
            } else {
                String::new()
            }
        ),
        y_label: "errors/s".into(),
        threshold: report.settings.threshold,
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
        bands,
        marks: report.chart_marks.clone(),
        start: det.grid.first().copied().unwrap_or(0),
        end,
    }
}

/// A rule's expression (the left-hand side of its threshold comparison) over the evaluation
/// grid, for the label sets with the highest peaks, against the threshold, with the rule's
/// pending and firing periods shaded. `None` for a rule without a threshold comparison.
pub fn rule_chart(report: &Report, r: &RuleOutcome) -> Option<RateChart> {
    let curve = r.curve.as_ref().filter(|c| !c.lines.is_empty())?;
    let end = r.grid.last().copied()?;
    let mut bands = Vec::new();
    for a in r.alerts.iter().map(|a| &a.instance) {
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
    Some(RateChart {
        title: format!(
            "{}: value against {} {} ({})",
            r.alertname,
            curve.op,
            curve.threshold,
            report
                .rules
                .iter()
                .find(|d| d.alertname == r.alertname)
                .map_or("", |d| d.mode.as_str())
        ),
        y_label: "value".into(),
        threshold: curve.threshold,
        threshold_name: "threshold".into(),
        lines,
        bands,
        marks: report.chart_marks.clone(),
        start: r.grid.first().copied().unwrap_or(end),
        end,
    })
}

/// Legend names that tell label sets apart in a legend a couple of dozen characters wide: the
/// values of the labels that differ between them, each without the prefix all of them share
/// (pods of one ReplicaSet differ only in their last segment). One label set keeps its labels.
fn legend_names(sets: &[&crate::model::metrics::Labels]) -> Vec<String> {
    if sets.len() < 2 {
        return sets
            .iter()
            .map(|l| {
                if l.is_empty() {
                    "value".into()
                } else {
                    crate::detect::metrics::labels_text(l)
                }
            })
            .collect();
    }
    // `instance` (address:port) last: it usually says again what `pod` says.
    let mut keys: Vec<&String> = sets
        .iter()
        .flat_map(|l| l.keys())
        .collect::<std::collections::BTreeSet<_>>()
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
pub fn memory_chart(report: &Report, m: &MemoryUse) -> Option<RateChart> {
    const MIB: f64 = 1024.0 * 1024.0;
    let (first, last) = (m.samples.first()?.t_ms, m.samples.last()?.t_ms);
    let limit = m.limit_bytes.map_or(-1.0, |l| l as f64 / MIB);
    Some(RateChart {
        title: format!("{}: {} against its limit", m.pod, m.metric),
        y_label: "MiB".into(),
        threshold: limit,
        threshold_name: "limit".into(),
        lines: vec![Line {
            label: m.metric.clone(),
            points: m
                .samples
                .iter()
                .map(|s| (s.t_ms, Some(s.v / MIB).filter(|v| v.is_finite())))
                .collect(),
        }],
        bands: Vec::new(),
        marks: report
            .pod_terminations
            .iter()
            .filter(|(p, _)| *p == m.pod)
            .map(|(_, at)| charts::Mark {
                at: *at,
                kind: charts::MarkKind::Termination,
            })
            .collect(),
        start: first,
        end: last,
    })
}

/// A name safe in a file name: letters, digits, `-` and `_`.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The "Errors by type" pie (events per cause), like the Grafana panel.
pub fn pie_chart(report: &Report) -> PieChart {
    PieChart {
        title: "Errors by type (error events)".into(),
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

/// The CI line: verdict, peak rate, firing window, top cause, mode.
pub fn check_line(r: &Report) -> String {
    let v = &r.verdict;
    let word = if v.breached {
        "BREACHED"
    } else if v.total_only {
        "NOT-BREACHED(total-only)"
    } else {
        "NOT-BREACHED"
    };
    let peak = match (&v.peak_rate, &v.peak_labels) {
        (Some(p), Some(l)) => format!(
            "peak={p:.3}/s({}{})",
            l.get("error_type").map_or("", String::as_str),
            l.get("pod").map_or(String::new(), |p| format!(" {p}"))
        ),
        _ => "peak=0/s".into(),
    };
    let firing = match (&v.firing_from, &v.firing_until) {
        (Some(f), Some(u)) => format!("firing={f}..{u}"),
        (Some(f), None) => format!("firing={f}..(still firing)"),
        _ => "firing=none".into(),
    };
    let top = r.causes.first().map_or("top_cause=none".into(), |c| {
        format!("top_cause={}({:.0}%)", c.id, c.share * 100.0)
    });
    let by = if v.breached_by.is_empty() {
        String::new()
    } else {
        format!(" by={}", v.breached_by.join("+"))
    };
    format!(
        "{word} {}{by} {peak} total_peak={:.3}/s {firing} {top} threshold={}/s for={} mode={}{}",
        r.settings.alertname,
        v.peak_total_rate.unwrap_or(0.0),
        r.settings.threshold,
        r.settings.for_,
        r.settings.rate_mode,
        if r.settings.rate_mode == "prometheus" {
            format!("-{}", r.settings.prom_compat)
        } else {
            String::new()
        }
    )
}

fn image_ext(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Svg => "svg",
        ImageFormat::Png => "png",
    }
}

/// Renders every requested format and writes it under `dir`. `exported` is the `--export`
/// file, already written while the records streamed by, listed with the rest.
pub fn write_all(
    cfg: &Config,
    mut report: Report,
    det: &Detection,
    metrics: &MetricsDetection,
    dir: &Path,
    exported: Option<PathBuf>,
) -> Result<Written> {
    let rate = rate_chart(&report, det);
    let pie = pie_chart(&report);
    let rule_charts: Vec<(String, RateChart)> = metrics
        .rules
        .iter()
        .filter_map(|r| Some((r.alertname.clone(), rule_chart(&report, r)?)))
        .collect();
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let images: Vec<ImageFormat> = cfg
        .formats
        .iter()
        .filter_map(|f| match f {
            Format::Svg => Some(ImageFormat::Svg),
            Format::Png => Some(ImageFormat::Png),
            _ => None,
        })
        .collect();
    for (key, base) in [("error_rate", RATE_CHART), ("errors_by_type", PIE_CHART)] {
        for &img in &images {
            let bytes = if base == RATE_CHART {
                charts::render_rate(&rate, img)?
            } else {
                charts::render_pie(&pie, img)?
            };
            let name = format!("{base}.{}", image_ext(img));
            report
                .charts
                .entry(key.to_owned())
                .or_default()
                .push(name.clone());
            outputs.push((name, bytes));
        }
    }
    for (i, (alertname, chart)) in rule_charts.iter().enumerate() {
        for &img in &images {
            let name = format!(
                "charts/rule-{}-{}.{}",
                i + 1,
                file_safe(alertname),
                image_ext(img)
            );
            report
                .charts
                .entry(format!("rule:{alertname}"))
                .or_default()
                .push(name.clone());
            outputs.push((name, charts::render_rate(chart, img)?));
        }
    }
    let memory_charts: Vec<(String, RateChart)> = metrics
        .memory
        .iter()
        .filter_map(|m| Some((m.pod.clone(), memory_chart(&report, m)?)))
        .collect();
    for (pod, chart) in &memory_charts {
        for &img in &images {
            let name = format!("charts/memory-{}.{}", file_safe(pod), image_ext(img));
            report
                .charts
                .entry(format!("memory:{pod}"))
                .or_default()
                .push(name.clone());
            outputs.push((name, charts::render_rate(chart, img)?));
        }
    }
    for format in &cfg.formats {
        match format {
            Format::Markdown => outputs.push(("report.md".into(), markdown::render(&report))),
            Format::Json => outputs.push(("report.json".into(), json::render(&report)?)),
            Format::Html => {
                let rate_svg = charts::render_rate(&rate, ImageFormat::Svg)?;
                let pie_svg = charts::render_pie(&pie, ImageFormat::Svg)?;
                let mut more = Vec::new();
                for (pod, chart) in &memory_charts {
                    more.push((
                        format!("charts/memory-{}", file_safe(pod)),
                        charts::render_rate(chart, ImageFormat::Svg)?,
                    ));
                }
                for (i, (alertname, chart)) in rule_charts.iter().enumerate() {
                    more.push((
                        format!("charts/rule-{}-{}", i + 1, file_safe(alertname)),
                        charts::render_rate(chart, ImageFormat::Svg)?,
                    ));
                }
                outputs.push((
                    "report.html".into(),
                    html::render(&report, &rate_svg, &pie_svg, &more),
                ))
            }
            Format::Svg | Format::Png => {}
        }
    }
    let mut files = Vec::new();
    for (name, bytes) in &outputs {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the output folder {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    files.extend(exported);
    Ok(Written {
        summary: summary(&report, dir, &files),
        files,
    })
}

/// The short summary `analyze` prints.
fn summary(r: &Report, dir: &Path, files: &[PathBuf]) -> String {
    let i = &r.inputs;
    let skipped: u64 = i.skipped.values().sum();
    let mut s = format!(
        "postmortem: {} input{}, {} lines ({} used, {} skipped); {} error records = {} error events\n",
        i.files.len(),
        if i.files.len() == 1 { "" } else { "s" },
        i.lines_read,
        i.lines_used,
        skipped,
        r.verdict.error_records,
        r.verdict.error_events
    );
    s.push_str(&r.verdict.summary);
    s.push('\n');
    let top: Vec<String> = r
        .causes
        .iter()
        .take(4)
        .map(|c| format!("{} {:.0}% ({} events)", c.id, c.share * 100.0, c.events))
        .collect();
    if !top.is_empty() {
        s.push_str(&format!("causes: {}\n", top.join(", ")));
    }
    s.push_str(&format!(
        "rate mode: {}\n",
        r.settings.rate_mode_description
    ));
    let shown: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(dir.join("charts")))
        .map(|p| p.display().to_string())
        .collect();
    s.push_str(&format!("report: {}\n", shown.join(", ")));
    s
}

#[cfg(test)]
mod tests {
    use super::legend_names;
    use crate::model::metrics::Labels;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

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
