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
mod whatif;

use std::collections::BTreeMap;

use super::model::*;
use crate::config::Config;
use crate::correlate::Analysis;
use crate::model::collection::Collection;
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
    let mut summary = summary::summary(
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
    let what_if = whatif::what_if_doc(a, &cfg.alert.name);
    // The rule's findings are lessons beyond this incident.
    summary.lessons.extend(what_if.findings.iter().cloned());
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
        inputs: inputs(&a.inputs, a.collection.as_ref()),
        signatures: signatures(cfg, a),
        baseline: None,
        what_if,
        regression_test: a.regression.as_ref().map(whatif::regression_doc),
        charts: BTreeMap::new(),
    }
}

/// Every cause's signatures, causes in the report's order.
fn signatures(cfg: &Config, a: &Analysis) -> Vec<SignatureDoc> {
    a.findings
        .events
        .causes
        .iter()
        .flat_map(|c| {
            c.signatures.iter().map(|m| SignatureDoc {
                cause: cfg.causes.id(c.cause).to_owned(),
                signature: m.signature.clone(),
                records: m.records,
                example: m.example.clone(),
            })
        })
        .collect()
}

/// The inputs and their accounting.
fn inputs(files: &[FileQuality], collection: Option<&Collection>) -> Inputs {
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
        collection: collection.map(collection_doc),
    }
}

/// The collection record as the report tells it (redacted: it quotes servers' messages).
fn collection_doc(c: &Collection) -> CollectionDoc {
    let r = |s: &str| crate::redact::owned(s);
    let mut prometheus = c.prometheus.clone();
    if let Some(p) = prometheus.as_mut() {
        p.via = r(&p.via);
    }
    CollectionDoc {
        context: c.context.as_deref().map(r),
        server_version: c.server_version.clone(),
        namespace: c.namespace.clone(),
        target: c.target.clone(),
        selector: c.selector.clone(),
        since: c.since.clone(),
        as_of: c.as_of.clone(),
        prometheus,
        pods: c.pods.iter().map(|p| p.name.clone()).collect(),
        requests: c.requests.len(),
        failed_requests: c.requests.iter().filter(|q| !q.ok).count(),
        gaps: c
            .gaps
            .iter()
            .map(|g| crate::model::collection::Gap {
                kind: g.kind,
                subject: r(&g.subject),
                detail: r(&g.detail),
                fix: r(&g.fix),
            })
            .collect(),
        material_gaps: c.material_gaps(),
    }
}
