//! The alerts (from the logs and from the metric dumps), the series, and the rules evaluated
//! over the metric dumps with their checks against `ALERTS` and against the logs.

use std::collections::BTreeMap;

use super::{round6, t};
use crate::config::Config;
use crate::correlate::agreement::{Agreement, Fired};
use crate::correlate::Analysis;
use crate::detect::alerts_check::{AlertsCheck, Disagreement, Explanation, Run};
use crate::detect::plan::OffsetFrom;
use crate::detect::rules::{Recorded, RuleOutcome};
use crate::model::labels;
use crate::model::metrics::Resolution;
use crate::model::time::format_duration;
use crate::model::{AlertInstance, AlertState, Millis};
use crate::promql::PromCompat;
use crate::report::model::{Alert, AlertsCheckDoc, MetricsDoc, RuleDoc, Series};

/// `last_eval` is the last evaluation of the alert's rule (where the data ends).
fn alert_doc(a: &AlertInstance, last_eval: Option<Millis>) -> Alert {
    let active_at_end = match a.firing_at {
        Some(_) => a.resolved_at.is_none(),
        None => Some(a.last_active) == last_eval,
    };
    Alert {
        alertname: a.alertname.clone(),
        source: a.source,
        scope: if a.is_total { "total" } else { "series" }.to_owned(),
        labels: a.labels.clone(),
        pending_at: Some(t(a.pending_at)),
        firing_at: a.firing_at.map(t),
        resolved_at: a.resolved_at.map(t),
        last_active_at: Some(t(a.last_active)),
        active_at_end,
        peak_rate: round6(a.peak_rate),
        peak_at: Some(t(a.peak_at)),
        annotations: BTreeMap::new(),
    }
}

/// The logs' alerts: every series' (in time order), then the total's.
pub fn log_alerts(a: &Analysis) -> Vec<Alert> {
    let last_eval = a.logs.grid.last().copied();
    a.logs
        .series_alerts()
        .into_iter()
        .chain(&a.logs.total_alerts)
        .map(|x| alert_doc(x, last_eval))
        .collect()
}

pub fn series(a: &Analysis) -> Vec<Series> {
    a.logs
        .series
        .iter()
        .map(|s| Series {
            labels: s.labels.clone(),
            records: s.records,
            events: s.events,
            peak_rate: s.peak.map(|p| round6(p.0)),
            peak_at: s.peak.map(|p| t(p.1)),
            fired: s.alerts.iter().any(|a| a.firing_at.is_some()),
        })
        .collect()
}

/// What the samples a rule read were, and what that costs in accuracy.
fn basis(resolutions: &[Resolution]) -> String {
    let steps: Vec<Millis> = resolutions
        .iter()
        .filter_map(|r| match r {
            Resolution::Resampled { step_ms } => Some(*step_ms),
            Resolution::Raw => None,
        })
        .collect();
    match (resolutions.is_empty(), steps.is_empty()) {
        (true, _) => "no series in the dumps matched the expression's selectors".into(),
        (false, true) => "raw samples as scraped (a range-selector query, tsdb dump or exposition): the samples Prometheus itself evaluated, so the reconstruction is exact up to the evaluation phase (--eval-offset)".into(),
        (false, false) => {
            let step = steps.iter().max().copied().unwrap_or(0);
            format!(
                "query_range output at a {} step{}: every value is the query's value at a step, not a scrape, so rate() sees one point per step instead of every scrape and transitions can be off by a step or more; export the raw samples (an instant query of `metric[3h]`) for an exact answer",
                format_duration(step),
                if steps.len() < resolutions.len() { " (mixed with raw samples)" } else { "" }
            )
        }
    }
}

/// Whether the metrics' and the logs' answers for the runbook's alert agree, in words.
fn agreement(a: &Agreement) -> String {
    let when = |x: Option<Fired>| match x {
        Some(Fired {
            firing_at,
            resolved_at: Some(r),
        }) => format!("fired {} and resolved {}", t(firing_at), t(r)),
        Some(Fired { firing_at, .. }) => {
            format!("fired {} (not resolved within the data)", t(firing_at))
        }
        None => "never fired".into(),
    };
    let apart = |x: Option<Millis>, y: Option<Millis>| match (x, y) {
        (Some(x), Some(y)) if x == y => "at the same evaluation".to_owned(),
        (Some(x), Some(y)) => format!(
            "{} apart, {} first",
            format_duration((x - y).abs()),
            if x < y { "metrics" } else { "logs" }
        ),
        _ => "only one of them resolved".to_owned(),
    };
    match (a.metrics, a.logs) {
        (None, None) => "agree: neither the metrics nor the logs fire it".into(),
        (Some(m), Some(l)) if m == l => format!("agree: both {}", when(Some(m))),
        (Some(m), Some(l)) => format!(
            "differ: metrics {}; logs {} (firing {}; resolution {})",
            when(Some(m)),
            when(Some(l)),
            apart(Some(m.firing_at), Some(l.firing_at)),
            apart(m.resolved_at, l.resolved_at)
        ),
        (m, l) => format!("differ: metrics {}; logs {}", when(m), when(l)),
    }
}

/// `N evaluation(s) from A to B`.
fn run_text(r: &Run) -> String {
    format!(
        "{} evaluation{} from {} to {}",
        r.evaluations,
        if r.evaluations > 1 { "s" } else { "" },
        t(r.from),
        t(r.to)
    )
}

fn state_word(s: Option<AlertState>) -> &'static str {
    s.map_or("inactive", AlertState::word)
}

fn disagreement(alertname: &str, d: &Disagreement) -> String {
    match d {
        Disagreement::Phase {
            alerts_phase,
            interval,
            used,
        } => format!(
            "the dump's ALERTS samples fall at +{} in each {} (Prometheus' evaluation phase), the reconstruction used +{}: leave out --eval-offset to use Prometheus' phase",
            format_duration(*alerts_phase),
            format_duration(*interval),
            format_duration(*used),
        ),
        Disagreement::State {
            labels,
            theirs,
            ours,
            run,
        } => format!(
            "{alertname} {}: ALERTS says {}, the reconstruction {} ({})",
            labels::braced(labels),
            state_word(*theirs),
            state_word(*ours),
            run_text(run)
        ),
        Disagreement::ActiveSince {
            labels,
            theirs,
            ours,
            run,
        } => format!(
            "{alertname} {}: ALERTS_FOR_STATE says active since {}, the reconstruction {} ({})",
            labels::braced(labels),
            t(*theirs),
            ours.map_or("has it inactive".to_owned(), |a| format!("since {}", t(a))),
            run_text(run)
        ),
    }
}

fn explanation(alertname: &str, e: &Explanation) -> String {
    match e {
        Explanation::NotEvaluating(r) => format!(
            "no ALERTS sample for any {alertname} alert from {} to {} ({} evaluation{}) while the reconstruction has one active: Prometheus was not evaluating the rule then (down or restarting), or the export left those samples out",
            t(r.from),
            t(r.to),
            r.evaluations,
            if r.evaluations > 1 { "s" } else { "" },
        ),
        Explanation::ForDiffers { delay, rule_for } => format!(
            "in ALERTS every {alertname} alert went from pending to firing {} after becoming active, where the rule given says for: {}: the rule Prometheus ran then had a `for` of about {} (was it changed since?)",
            format_duration(*delay),
            format_duration(*rule_for),
            format_duration(*delay)
        ),
        Explanation::NothingToEvaluate => format!(
            "none of the dumps holds a series the expression reads, so the reconstruction has nothing to evaluate: ALERTS, Prometheus' own record, is all there is for {alertname}"
        ),
    }
}

fn alerts_check(alertname: &str, c: &AlertsCheck) -> AlertsCheckDoc {
    AlertsCheckDoc {
        steps_compared: c.steps,
        agrees: c.disagreements.is_empty(),
        disagreements: c
            .disagreements
            .iter()
            .map(|d| disagreement(alertname, d))
            .collect(),
        explanations: c
            .explanations
            .iter()
            .map(|e| explanation(alertname, e))
            .collect(),
    }
}

/// Why a rule could not be evaluated, in the words `report.json` and the messages use.
fn rule_error(r: &RuleOutcome) -> Option<String> {
    r.error.as_ref().map(|e| {
        format!(
            "rule {} (group {}): {e}; the other rules were evaluated",
            r.alertname, r.group
        )
    })
}

fn rule_doc(cfg: &Config, r: &RuleOutcome, agreement_found: Option<&Agreement>) -> RuleDoc {
    RuleDoc {
        alertname: r.alertname.clone(),
        group: r.group.clone(),
        expr: r.expr.clone(),
        for_: format_duration(r.for_ms),
        keep_firing_for: format_duration(r.keep_firing_for_ms),
        eval_interval: format_duration(r.interval_ms),
        eval_offset: format_duration(r.offset_ms),
        eval_offset_from: match r.offset_from {
            OffsetFrom::Flag => "--eval-offset",
            OffsetFrom::Alerts => "Prometheus' own, from the dump's ALERTS samples",
            OffsetFrom::Default => "default (multiples of the interval)",
        }
        .to_owned(),
        labels: r.labels.clone(),
        mode: match cfg.alert.compat {
            PromCompat::V2 => "prometheus 2.x",
            PromCompat::V3 => "prometheus 3.x",
        }
        .into(),
        basis: basis(&r.resolutions),
        no_data: r.resolutions.is_empty() && r.error.is_none(),
        instances: r.alerts.len(),
        fired: r
            .alerts
            .iter()
            .filter(|a| a.instance.firing_at.is_some())
            .count(),
        error: rule_error(r),
        alerts_check: r
            .alerts_check
            .as_ref()
            .map(|c| alerts_check(&r.alertname, c)),
        logs_agreement: agreement_found.map(agreement),
    }
}

/// The alerting rules evaluated over metric dumps, and their alerts (source `metrics`).
pub fn rule_docs(cfg: &Config, a: &Analysis) -> (Vec<RuleDoc>, Vec<Alert>) {
    let mut docs = Vec::new();
    let mut alerts = Vec::new();
    for (r, agreement_found) in a.rules.rules.iter().zip(&a.findings.agreements) {
        for x in &r.alerts {
            let mut doc = alert_doc(&x.instance, r.grid.last().copied());
            doc.annotations = x.annotations.clone();
            alerts.push(doc);
        }
        docs.push(rule_doc(cfg, r, agreement_found.as_ref()));
    }
    (docs, alerts)
}

fn recorded(r: &Recorded) -> String {
    match &r.result {
        Ok((n, interval)) => format!(
            "{} (group {}): {n} series recorded every {}",
            r.name,
            r.group,
            format_duration(*interval)
        ),
        Err(e) => format!("{} (group {}): not evaluated: {e}", r.name, r.group),
    }
}

/// What merging the dumps did, which rules files were not used, and the logs' phase.
fn notes(cfg: &Config, a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = a
        .unused_rules
        .iter()
        .map(|name| {
            format!(
                "rules file {name} among the inputs not used: --rules {} was given",
                a.rules_source.describe()
            )
        })
        .collect();
    let logs = &a.plan.logs;
    if logs.offset_from == OffsetFrom::Alerts && logs.offset_ms != 0 {
        out.push(format!(
            "the logs are evaluated every {} at +{}: the phase of the dump's ALERTS samples for {} (Prometheus' own)",
            format_duration(logs.interval_ms),
            format_duration(logs.offset_ms),
            cfg.alert.name
        ));
    }
    let n = &a.merge;
    if n.series_in > n.series_out {
        out.push(format!(
            "{} series in the dumps merged into {}",
            n.series_in, n.series_out
        ));
    }
    for (count, what) in [
        (n.duplicates, "samples found in more than one dump counted once"),
        (n.conflicts, "samples dropped: another dump had another value at the same time"),
        (n.superseded, "query_range values dropped where raw samples cover their time"),
        (n.mixed_series, "series made of raw and query_range parts (treated as query_range at the coarsest step)"),
    ] {
        if count > 0 {
            out.push(format!("{count} {what}"));
        }
    }
    out.extend(n.notes.iter().cloned());
    out
}

/// The metric dumps and what was done with them.
pub fn metrics_doc(cfg: &Config, a: &Analysis) -> MetricsDoc {
    let m = &a.rules;
    MetricsDoc {
        series: m.series,
        samples: m.samples,
        first: m.span.map(|s| t(s.0)),
        last: m.span.map(|s| t(s.1)),
        notes: notes(cfg, a),
        recorded: m.recorded.iter().map(recorded).collect(),
        problems: m.problems.clone(),
    }
}
