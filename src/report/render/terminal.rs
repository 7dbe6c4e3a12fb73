//! What postmortem prints on stdout: `check`'s one-line verdict for CI (`source=` says whether
//! it is Prometheus' own answer from the metric dumps or derived from the logs), and the short
//! summary `analyze` prints after writing the report.

use std::path::{Path, PathBuf};

use crate::correlate::verdict::Outcome;
use crate::model::alert::RateMode;
use crate::report::model::Report;

/// The CI line: verdict, peak rate, firing window, top cause, mode.
pub fn check_line(r: &Report) -> String {
    let v = &r.verdict;
    let word = match v.outcome() {
        Outcome::Breached => "BREACHED",
        Outcome::TotalOnly => "NOT-BREACHED(total-only)",
        Outcome::NotBreached => "NOT-BREACHED",
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
        "{word} {} source={}{by} {peak} total_peak={:.3}/s {firing} {top} threshold={}/s for={} mode={}{}{}",
        r.settings.alertname,
        v.basis,
        v.peak_total_rate.unwrap_or(0.0),
        r.settings.threshold,
        r.settings.for_,
        r.settings.rate_mode.name(),
        if r.settings.rate_mode == RateMode::Prometheus {
            format!("-{}", r.settings.prom_compat)
        } else {
            String::new()
        },
        if v.incomplete { " input=incomplete" } else { "" },
    ) + &baseline_word(r)
}

/// ` baseline=REGRESSED(new_signatures=3,...)` or ` baseline=no-regression` (nothing without
/// `--baseline`).
fn baseline_word(r: &Report) -> String {
    let Some(b) = &r.baseline else {
        return String::new();
    };
    if !b.regressed {
        return " baseline=no-regression".into();
    }
    let mut parts = Vec::new();
    if !b.new_signatures.is_empty() {
        parts.push(format!("new_signatures={}", b.new_signatures.len()));
    }
    if !b.gone_signatures.is_empty() {
        parts.push(format!("gone_signatures={}", b.gone_signatures.len()));
    }
    if !b.increased_causes.is_empty() {
        let causes: Vec<String> = b
            .increased_causes
            .iter()
            .map(|c| match c.factor {
                Some(f) => format!("{}x{f}", c.cause),
                None => format!("{}(new)", c.cause),
            })
            .collect();
        parts.push(format!("increased={}", causes.join("+")));
    }
    if !b.new_alerts.is_empty() {
        parts.push(format!("new_alerts={}", b.new_alerts.join("+")));
    }
    format!(" baseline=REGRESSED({})", parts.join(","))
}

/// The short summary `analyze` prints: inputs and lines, the verdict, the top causes, the
/// rate mode, and the report's files (`files` as written, charts left out).
pub fn summary(r: &Report, dir: &Path, files: &[PathBuf]) -> String {
    let i = &r.inputs;
    let skipped: u64 = i.skipped.values().sum();
    let mut s = format!(
        "postmortem: {} input{}, {} lines ({} used, {} skipped); {} error records, {} counted failures\n",
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
        .map(|c| format!("{} {:.0}% ({} counted)", c.id, c.share * 100.0, c.events))
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

/// The Markdown a CI job's step summary gets (`GITHUB_STEP_SUMMARY`): the verdict, when it
/// fired, the top causes, what was read.
pub fn step_summary(r: &Report) -> String {
    use super::markdown::cell;
    let v = &r.verdict;
    let word = match v.outcome() {
        Outcome::Breached => "BREACHED",
        Outcome::TotalOnly => "not breached per series (the total crossed)",
        Outcome::NotBreached => "not breached",
    };
    let mut s = format!(
        "### postmortem: {} {word}\n\n{}\n\n| | |\n|---|---|\n",
        cell(&r.settings.alertname),
        cell(&v.summary)
    );
    let firing = match (&v.firing_from, &v.firing_until) {
        (Some(f), Some(u)) => format!("{f} .. {u}"),
        (Some(f), None) => format!("from {f}, still firing at the end of the data"),
        _ => "never".into(),
    };
    s.push_str(&format!("| Firing | {firing} |\n"));
    let top: Vec<String> = r
        .causes
        .iter()
        .take(4)
        .map(|c| format!("{} {:.0}% ({} counted)", c.id, c.share * 100.0, c.events))
        .collect();
    s.push_str(&format!(
        "| Top causes | {} |\n",
        if top.is_empty() {
            "none".to_owned()
        } else {
            cell(&top.join(", "))
        }
    ));
    let i = &r.inputs;
    let skipped: u64 = i.skipped.values().sum();
    s.push_str(&format!(
        "| Read | {} inputs, {} lines ({} used, {} skipped) |\n\n",
        i.files.len(),
        i.lines_read,
        i.lines_used,
        skipped
    ));
    if let Some(b) = &r.baseline {
        s.push_str(&super::markdown::baseline_section(b, "####"));
    }
    s
}
