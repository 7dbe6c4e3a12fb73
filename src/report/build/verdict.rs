//! The verdict in words, and the settings every number depends on.

use super::{round6, t};
use crate::config::Config;
use crate::correlate::target::{DeploymentFrom, NamespaceFrom, Target};
use crate::correlate::verdict::{Outcome, Verdict as Found};
use crate::correlate::Analysis;
use crate::model::alert::RateMode;
use crate::model::labels;
use crate::model::time::{format_duration, format_short};
use crate::promql::PromCompat;
use crate::report::model::{CauseSummary, Settings, Verdict};

/// How rates were computed, in words.
fn rate_mode_description(cfg: &Config) -> String {
    let a = &cfg.alert;
    let w = format_duration(a.window_ms);
    match a.rate_mode {
        RateMode::Prometheus => format!(
            "prometheus {}: error events as a counter scraped every scrape interval, rate(x[{w}]) with Prometheus {} semantics",
            match a.compat { PromCompat::V2 => "2.x", PromCompat::V3 => "3.x" },
            match a.compat { PromCompat::V2 => "2.x (closed window)", PromCompat::V3 => "3.x (left-open window)" }
        ),
        RateMode::Loki => format!("loki: error records in the last {w} divided by its length in seconds (LogQL rate)"),
    }
}

/// How the remediation's namespace and deployment were found.
fn target_from(target: &Target) -> String {
    let namespace = match target.namespace_from {
        NamespaceFrom::Flag => "namespace from --namespace".to_owned(),
        NamespaceFrom::InputPaths => "namespace from the input's paths".to_owned(),
        NamespaceFrom::KubernetesObjects => {
            format!("namespace {} from the Kubernetes objects", target.namespace)
        }
        NamespaceFrom::Assumed => format!(
            "namespace not in the input: the runbook's {} assumed (use --namespace)",
            target.namespace
        ),
    };
    let deployment = match target.deployment_from {
        DeploymentFrom::Flag => "deployment from --deployment".to_owned(),
        DeploymentFrom::PodNames => {
            format!("deployment {} derived from pod names", target.deployment)
        }
        DeploymentFrom::Assumed => format!(
            "deployment not derivable from pod names: the runbook's {} assumed (use --deployment)",
            target.deployment
        ),
    };
    format!("{namespace}; {deployment}")
}

pub fn settings(cfg: &Config, a: &Analysis) -> Settings {
    let al = &cfg.alert;
    let target = &a.findings.target;
    Settings {
        alertname: al.name.clone(),
        rate_mode: al.rate_mode,
        rate_mode_description: rate_mode_description(cfg),
        prom_compat: match al.compat {
            PromCompat::V2 => "2",
            PromCompat::V3 => "3",
        }
        .to_owned(),
        threshold: al.threshold,
        for_: format_duration(al.for_ms),
        window: format_duration(al.window_ms),
        eval_interval: format_duration(a.plan.logs.interval_ms),
        eval_offset: format_duration(a.plan.logs.offset_ms),
        scrape_interval: format_duration(al.scrape_interval_ms),
        dedup_window: format_duration(al.dedup_window_ms),
        time_zone: cfg.zone.name(),
        as_of: cfg.window.as_of_given.then(|| t(cfg.window.as_of)),
        since: cfg.window.since.map(t),
        until: cfg.window.until.map(t),
        cause_table: cfg.causes.origin.clone(),
        rules: a.rules_source.describe(),
        namespace: target.namespace.clone(),
        deployment: target.deployment.clone(),
        target_from: target_from(target),
    }
}

/// ` until <time>`, or that it was still firing.
fn until_text(until: Option<crate::model::Millis>) -> String {
    until.map_or(" (still firing at the end of the data)".to_owned(), |u| {
        format!(" until {}", format_short(u))
    })
}

/// The one sentence that says what happened.
fn summary(cfg: &Config, v: &Found, top: Option<&CauseSummary>, error_records: u64) -> String {
    let name = &cfg.alert.name;
    let thr = cfg.alert.threshold;
    let forw = format_duration(cfg.alert.for_ms);
    if v.by_metrics && !v.by_logs {
        return format!(
            "BREACHED: {name} fired for {} label set{} from {}{} per the metric dumps (Prometheus' own counter); the logs {}",
            v.metric_label_sets,
            if v.metric_label_sets == 1 { "" } else { "s" },
            format_short(v.firing_from.unwrap_or_default()),
            until_text(v.firing_until),
            if error_records == 0 {
                "hold no error records"
            } else {
                "alone would not have fired it (see the alert section)"
            }
        );
    }
    if error_records == 0 {
        return format!(
            "not breached: no error records in the input ({name} > {thr}/s for {forw})"
        );
    }
    match (v.outcome, &v.peak) {
        (Outcome::Breached, Some(p)) => format!(
            "BREACHED: {name} fired for {} series from {}{}; peak {:.3}/s ({}) at {}; top cause {} ({:.0}% of error events)",
            v.fired_series,
            format_short(v.firing_from.unwrap_or(p.at)),
            until_text(v.firing_until),
            p.rate,
            labels::braced(&p.labels),
            format_short(p.at),
            top.map_or("-", |c| c.id.as_str()),
            top.map_or(0.0, |c| c.share * 100.0)
        ),
        (Outcome::TotalOnly, _) => {
            let (tp, tt) = v.total_peak.unwrap_or_default();
            format!(
                "not breached per series, but the TOTAL crossed {thr}/s: sum over all series peaked at {tp:.3}/s at {}, while no single series stayed above {thr}/s for {forw}, so the real (unsummed) {name} alert did not fire",
                format_short(tt),
            )
        }
        (_, p) => format!(
            "not breached: the highest series rate was {:.3}/s{} (threshold {thr}/s for {forw})",
            p.as_ref().map_or(0.0, |p| p.rate),
            p.as_ref().map_or(String::new(), |p| format!(
                " ({}) at {}",
                labels::braced(&p.labels),
                format_short(p.at)
            ))
        ),
    }
}

pub fn verdict_doc(cfg: &Config, a: &Analysis, causes: &[CauseSummary]) -> Verdict {
    let v = &a.findings.verdict;
    let top = causes.first();
    let mut breached_by = Vec::new();
    if v.by_logs {
        breached_by.push("logs".to_owned());
    }
    if v.by_metrics {
        breached_by.push("metrics".to_owned());
    }
    Verdict {
        breached: v.outcome == Outcome::Breached,
        breached_by,
        total_only: v.outcome == Outcome::TotalOnly,
        summary: summary(cfg, v, top, a.table.records),
        peak_rate: v.peak.as_ref().map(|p| round6(p.rate)),
        peak_at: v.peak.as_ref().map(|p| t(p.at)),
        peak_labels: v.peak.as_ref().map(|p| p.labels.clone()),
        peak_total_rate: v.total_peak.map(|p| round6(p.0)),
        peak_total_at: v.total_peak.map(|p| t(p.1)),
        firing_from: v.firing_from.map(t),
        firing_until: v.firing_until.map(t),
        top_cause: top.map(|c| c.id.clone()),
        incident_start: v.incident_start.map(t),
        error_records: a.table.records,
        error_events: a.table.events,
    }
}
