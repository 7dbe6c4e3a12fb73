//! Building the report document from the [`Analysis`]: the one place where findings become
//! words and times become text (RFC 3339, each formatted once). Every renderer reads the
//! document this returns.
//!
//! - `summary`: the story in a few sentences, and the root causes ranked;
//! - `verdict`: the verdict and its one-sentence summary, the settings;
//! - `causes`: the causes with their top messages, per-minute counts, the remediation;
//! - `rules`: the alerts, series and rules over the metric dumps, with their checks;
//! - `timeline`: the merged timeline and what changed first;
//! - `infra`: pods, terminations, cluster events, restarts in the logs, memory.

mod causes;
mod infra;
mod rules;
mod summary;
mod timeline;
mod verdict;

use std::collections::BTreeMap;

use super::model::*;
use crate::config::Config;
use crate::correlate::Analysis;
use crate::model::time::format_rfc3339;
use crate::model::{FileQuality, Millis};

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn t(ms: Millis) -> String {
    format_rfc3339(ms)
}

/// Builds the report document.
pub fn build(cfg: &Config, a: &Analysis) -> Report {
    let causes = causes::cause_docs(cfg, a);
    let per_minute = causes::per_minute(cfg, a);
    let mut alerts = rules::log_alerts(a);
    let (rules, metric_alerts) = rules::rule_docs(cfg, a);
    alerts.extend(metric_alerts);
    let verdict = verdict::verdict_doc(cfg, a, &causes);
    let remediation = causes::remediation(cfg, a, &causes);
    let (timeline, before_first_firing) = timeline::timeline(cfg, a);
    let mut infrastructure = infra::infrastructure(cfg, a);
    infrastructure.before_first_firing = before_first_firing;
    let events = infra::events(cfg, a);
    let summary = summary::summary(
        cfg,
        a,
        &summary::Parts {
            events: &events,
            verdict: &verdict,
            causes: &causes,
            alerts: &alerts,
            infrastructure: &infrastructure,
        },
    );
    Report {
        schema_version: SCHEMA_VERSION,
        summary,
        tool: Tool {
            name: "postmortem".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        settings: verdict::settings(cfg, a),
        verdict,
        counting: verdict::counting_doc(cfg, a),
        alerts,
        rules,
        metrics: rules::metrics_doc(cfg, a),
        series: rules::series(a),
        causes,
        remediation,
        timeline,
        per_minute,
        events,
        infrastructure,
        inputs: inputs(&a.inputs),
        charts: BTreeMap::new(),
    }
}

/// The inputs and their accounting.
fn inputs(files: &[FileQuality]) -> Inputs {
    let mut skipped = BTreeMap::new();
    let mut assumptions = BTreeMap::new();
    for f in files {
        for (r, n) in &f.skipped {
            *skipped.entry(*r).or_default() += n;
        }
        for (k, n) in &f.assumptions {
            *assumptions.entry(k.clone()).or_default() += n;
        }
    }
    Inputs {
        lines_read: files.iter().map(|f| f.lines_read).sum(),
        lines_used: files.iter().map(|f| f.lines_used).sum(),
        records: files.iter().map(|f| f.records).sum(),
        error_records: files.iter().map(|f| f.error_records).sum(),
        skipped,
        assumptions,
        files: files.to_vec(),
        redaction: crate::redact::current().enabled(),
        redacted: crate::redact::current().counts(),
    }
}
