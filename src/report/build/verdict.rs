//! The verdict in words, and the settings every number depends on.

use super::{round6, t};
use crate::classify::failures::Basis as FailureBasis;
use crate::classify::EventTable;
use crate::config::Config;
use crate::correlate::target::{DeploymentFrom, NamespaceFrom, Target};
use crate::correlate::verdict::{Basis, Outcome, Peak, Verdict as Found};
use crate::correlate::Analysis;
use crate::model::alert::RateMode;
use crate::model::labels;
use crate::model::time::{format_duration, format_short};
use crate::promql::PromCompat;
use crate::report::model::{CauseSummary, Counting, CountingRule, Settings, Verdict};

/// How rates were computed, in words.
fn rate_mode_description(cfg: &Config) -> String {
    let a = &cfg.alert;
    let w = format_duration(a.window_ms);
    match a.rate_mode {
        RateMode::Prometheus => format!(
            "prometheus {}: counted failures as a counter scraped every scrape interval, rate(x[{w}]) with Prometheus {} semantics",
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

/// Where the headline's alert comes from, in words.
fn source_text(v: &Found, counted: u64) -> String {
    match v.basis {
        Basis::Metrics => "per Prometheus' own counter (the metric dumps)".to_owned(),
        Basis::Logs => format!(
            "derived from the logs ({counted} counted failure{})",
            if counted == 1 { "" } else { "s" }
        ),
    }
}

/// The verdict sentence, qualified when the input looks incomplete (a live collection's
/// gaps that bear on it, inputs cut by an exporter's cap or starting late): "not breached"
/// is then only true of what was read.
fn incomplete(sentence: String, gaps: usize, cut: usize) -> String {
    let mut parts = Vec::new();
    if gaps > 0 {
        parts.push(format!(
            "{gaps} collection gap{}",
            if gaps == 1 { "" } else { "s" }
        ));
    }
    if cut > 0 {
        parts.push(format!(
            "{cut} input{} cut short",
            if cut == 1 { " looks" } else { "s look" }
        ));
    }
    if parts.is_empty() {
        return sentence;
    }
    let what = format!(
        "the input looks incomplete ({}; see Data quality)",
        parts.join(", ")
    );
    match sentence.strip_prefix("not breached") {
        Some(rest) => format!("not breached in what was read; {what}{rest}"),
        None => format!("{sentence}; {what}"),
    }
}

/// The one sentence that says what happened.
fn summary(cfg: &Config, v: &Found, top: Option<&CauseSummary>, table: &EventTable) -> String {
    let name = &cfg.alert.name;
    let thr = cfg.alert.threshold;
    let forw = format_duration(cfg.alert.for_ms);
    let source = source_text(v, table.counted);
    if table.records == 0 && v.basis == Basis::Logs {
        return format!(
            "not breached: no error records in the input ({name} > {thr}/s for {forw})"
        );
    }
    // What the logs say, when it is not what the metrics say.
    let logs_differ = match (v.basis, v.by_logs, v.by_metrics) {
        (Basis::Metrics, _, _) if table.records == 0 => "; the logs hold no error records",
        (Basis::Metrics, false, true) => {
            "; the logs alone would not have fired it (see the alert section)"
        }
        (Basis::Metrics, true, false) => {
            "; the logs' reconstruction would have fired it (see the alert section)"
        }
        _ => "",
    };
    let peak_text = |p: &Peak| {
        format!(
            "peak {:.3}/s ({}) at {}",
            p.rate,
            labels::braced(&p.labels),
            format_short(p.at)
        )
    };
    match (v.outcome, &v.peak) {
        (Outcome::Breached, Some(p)) => format!(
            "BREACHED: {name} fired for {} series from {}{} {source}; {}; top cause {}{logs_differ}",
            v.fired_series,
            format_short(v.firing_from.unwrap_or(p.at)),
            until_text(v.firing_until),
            peak_text(p),
            top.map_or("-".to_owned(), |c| format!(
                "{} ({:.0}% of counted failures)",
                c.id,
                c.share * 100.0
            )),
        ),
        (Outcome::Breached, None) => format!(
            "BREACHED: {name} fired for {} series from {}{} {source}{logs_differ}",
            v.fired_series,
            format_short(v.firing_from.unwrap_or_default()),
            until_text(v.firing_until),
        ),
        (Outcome::TotalOnly, _) => {
            let (tp, tt) = v.total_peak.unwrap_or_default();
            format!(
                "not breached per series, but the TOTAL crossed {thr}/s: sum over all series peaked at {tp:.3}/s at {}, while no single series stayed above {thr}/s for {forw}, so the real (unsummed) {name} alert did not fire; {source}{logs_differ}",
                format_short(tt),
            )
        }
        (Outcome::NotBreached, p) => format!(
            "not breached: the highest series rate was {:.3}/s{} (threshold {thr}/s for {forw}); {source}{logs_differ}",
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
    let gaps = a.collection.as_ref().map_or(0, |c| c.material_gaps());
    let cut = a.inputs.iter().filter(|f| f.incomplete.is_some()).count();
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
        basis: match v.basis {
            Basis::Metrics => "metrics",
            Basis::Logs => "logs",
        }
        .to_owned(),
        breached_by,
        total_only: v.outcome == Outcome::TotalOnly,
        summary: incomplete(summary(cfg, v, top, &a.table), gaps, cut),
        incomplete: gaps + cut > 0,
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
        error_events: a.table.counted,
    }
}

/// What the log-derived alert counted, and how many records each count stands for.
pub fn counting_doc(cfg: &Config, a: &Analysis) -> Counting {
    let t = &a.table;
    let per = if t.counted == 0 {
        0.0
    } else {
        round6(t.records as f64 / t.counted as f64)
    };
    let rules: Vec<CountingRule> = match t.basis {
        FailureBasis::Outcomes => cfg
            .causes
            .outcome_rules
            .iter()
            .zip(&t.counted_by_rule)
            .map(|(o, &counted)| CountingRule {
                name: o.name.clone(),
                when: o.when.describe(),
                counted,
            })
            .collect(),
        FailureBasis::Failures => Vec::new(),
    };
    let description = match t.basis {
        FailureBasis::Outcomes => format!(
            "the records the cause table names as the operation's outcome (each one increment of the real counter): {} of {} error records, one per {:.1} records ({}); the others explain causes. An outcome record wrapping one counted within {} on the same pod is the same failure",
            t.counted,
            t.records,
            per,
            rules
                .iter()
                .map(|r| format!("{} {}", r.name, r.counted))
                .collect::<Vec<_>>()
                .join(", "),
            format_duration(cfg.alert.dedup_window_ms),
        ),
        FailureBasis::Failures => format!(
            "no record is an outcome the cause table names, so each failure counts once: the records on one pod that wrap or echo one inner error are one failure, whatever the time between them: {} failures from {} error records (one per {:.1})",
            t.counted, t.records, per
        ),
    };
    Counting {
        basis: match t.basis {
            FailureBasis::Outcomes => "outcomes",
            FailureBasis::Failures => "failures",
        }
        .to_owned(),
        description,
        records: t.records,
        failures: t.failures,
        counted: t.counted,
        records_per_count: per,
        rules,
    }
}
