//! The verdict: did the runbook's alert fire, when, how high, and when did the incident
//! start. When the metric dumps hold the series the alert reads, the answer is Prometheus'
//! own (its counter, its rule engine's decision, reconstructed from the dumps) and the logs
//! explain the causes; otherwise it is derived from the logs.

use std::collections::BTreeMap;

use crate::detect::logs::LogDetection;
use crate::detect::rules::{RuleOutcome, RulesDetection};
use crate::model::{AlertInstance, Millis};

/// What happened to the runbook's alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The real (per-series) alert fired.
    Breached,
    /// No single series crossed the threshold for `for`, but their sum did.
    TotalOnly,
    NotBreached,
}

/// Where the verdict's alert, window and peak come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The metric dumps hold the alert's series: what Prometheus evaluated.
    Metrics,
    /// Derived from the logs (no metric dump holds the series, or the logs fired it where
    /// the dumps have no data).
    Logs,
}

/// The highest rate of one label set, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Peak {
    pub rate: f64,
    pub at: Millis,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub basis: Basis,
    /// The logs' reconstruction fired it.
    pub by_logs: bool,
    /// The metric dumps fired it.
    pub by_metrics: bool,
    /// The highest single-series rate, per the basis.
    pub peak: Option<Peak>,
    /// The highest total rate (sum over the logs' series) and when.
    pub total_peak: Option<(f64, Millis)>,
    /// First firing, per the basis.
    pub firing_from: Option<Millis>,
    /// Last resolution; `None` while one is still firing at the end of the data.
    pub firing_until: Option<Millis>,
    /// Series (label sets) that fired, per the basis.
    pub fired_series: usize,
    /// The first pending alert (of a series or the total), else the first error.
    pub incident_start: Option<Millis>,
}

/// The rules over metrics that evaluate the alert and had data to do it.
fn rules_with_data<'r>(rules: &'r RulesDetection, alertname: &str) -> Vec<&'r RuleOutcome> {
    rules
        .rules
        .iter()
        .filter(|r| r.alertname == alertname && r.error.is_none() && !r.resolutions.is_empty())
        .collect()
}

/// The highest value the rules' expression reached: from the curve (the expression's own
/// labels), else from the alert instances.
fn metrics_peak(rules: &[&RuleOutcome]) -> Option<Peak> {
    let mut best: Option<Peak> = None;
    let mut offer = |rate: f64, at: Millis, labels: &BTreeMap<String, String>| {
        if best.as_ref().is_none_or(|b| rate > b.rate) {
            best = Some(Peak {
                rate,
                at,
                labels: labels.clone(),
            });
        }
    };
    for r in rules {
        match &r.curve {
            Some(curve) => {
                for (labels, values) in &curve.lines {
                    for (&at, v) in r.grid.iter().zip(values) {
                        if let Some(v) = v.filter(|v| v.is_finite()) {
                            offer(v, at, labels);
                        }
                    }
                }
            }
            None => {
                for a in &r.alerts {
                    offer(a.instance.peak_rate, a.instance.peak_at, &a.instance.labels);
                }
            }
        }
    }
    best
}

/// The highest single-series rate of the logs' reconstruction.
fn logs_peak(logs: &LogDetection) -> Option<Peak> {
    logs.series
        .iter()
        .filter_map(|s| s.peak.map(|p| (p, s)))
        .fold(
            None,
            |best: Option<((f64, Millis), _)>, (p, s)| match best {
                Some((bp, _)) if bp.0 >= p.0 => best,
                _ => Some((p, s)),
            },
        )
        .map(|((rate, at), s)| Peak {
            rate,
            at,
            labels: s.labels.clone(),
        })
}

/// The activations that fired.
fn fired<'a>(list: &[&'a AlertInstance]) -> Vec<&'a AlertInstance> {
    list.iter()
        .copied()
        .filter(|a| a.firing_at.is_some())
        .collect()
}

/// Decides the verdict for the alert `alertname`. `first_error` is the first error record's
/// time.
pub fn verdict(
    alertname: &str,
    logs: &LogDetection,
    rules: &RulesDetection,
    first_error: Option<Millis>,
) -> Verdict {
    let series_alerts = logs.series_alerts();
    let by_logs = logs.series_fired();
    let with_data = rules_with_data(rules, alertname);
    let metric_alerts: Vec<&AlertInstance> = with_data
        .iter()
        .flat_map(|r| r.alerts.iter().map(|x| &x.instance))
        .collect();
    let metric_fired = fired(&metric_alerts);
    let by_metrics = !metric_fired.is_empty();
    // The logs fired it where the dumps have no data: the dumps cannot speak for that time.
    let beyond_dumps = || {
        let Some((from, to)) = rules.span else {
            return true;
        };
        fired(&series_alerts)
            .iter()
            .any(|a| a.pending_at < from || a.firing_at.is_some_and(|f| f > to))
    };
    let basis = if with_data.is_empty() || by_logs && !by_metrics && beyond_dumps() {
        Basis::Logs
    } else {
        Basis::Metrics
    };
    let (alerts, fired_here, peak) = match basis {
        Basis::Metrics => (
            metric_alerts.clone(),
            metric_fired,
            metrics_peak(&with_data),
        ),
        Basis::Logs => (
            series_alerts.clone(),
            fired(&series_alerts),
            logs_peak(logs),
        ),
    };
    let outcome = if !fired_here.is_empty() {
        Outcome::Breached
    } else if logs.total_fired() {
        Outcome::TotalOnly
    } else {
        Outcome::NotBreached
    };
    let still_firing = fired_here.iter().any(|a| a.resolved_at.is_none());
    let mut label_sets: Vec<&BTreeMap<String, String>> =
        fired_here.iter().map(|x| &x.labels).collect();
    label_sets.sort_unstable();
    label_sets.dedup();
    Verdict {
        outcome,
        basis,
        by_logs,
        by_metrics,
        peak,
        total_peak: logs.total_peak,
        firing_from: fired_here.iter().filter_map(|a| a.firing_at).min(),
        firing_until: if still_firing {
            None
        } else {
            fired_here.iter().filter_map(|a| a.resolved_at).max()
        },
        fired_series: label_sets.len(),
        incident_start: alerts
            .iter()
            .map(|a| a.pending_at)
            .chain(logs.total_alerts.iter().map(|a| a.pending_at))
            .min()
            .or(first_error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::logs::SeriesResult;
    use crate::detect::plan::OffsetFrom;
    use crate::detect::rules::{MetricAlert, RuleOutcome};
    use crate::model::metrics::Resolution;
    use crate::model::AlertSource;

    const MIN: Millis = 60_000;

    fn alert(
        source: AlertSource,
        pod: &str,
        pending: Millis,
        firing: Option<Millis>,
    ) -> AlertInstance {
        AlertInstance {
            alertname: "HighGenerationErrorRate".into(),
            source,
            labels: BTreeMap::from([("pod".to_owned(), pod.to_owned())]),
            is_total: false,
            pending_at: pending,
            firing_at: firing,
            resolved_at: firing.map(|f| f + 10 * MIN),
            peak_rate: 0.2,
            peak_at: pending + MIN,
            last_active: pending + 5 * MIN,
        }
    }

    fn logs(alerts: Vec<AlertInstance>, total: Vec<AlertInstance>) -> LogDetection {
        LogDetection {
            series: alerts
                .into_iter()
                .map(|a| SeriesResult {
                    labels: a.labels.clone(),
                    cause: 0,
                    pod: a.labels["pod"].clone(),
                    records: 10,
                    events: 10,
                    peak: Some((a.peak_rate, a.peak_at)),
                    alerts: vec![a],
                })
                .collect(),
            total_alerts: total,
            ..LogDetection::default()
        }
    }

    /// A dump holding the alert's series from 0 to 2 hours, with these activations.
    fn metrics(alerts: Vec<AlertInstance>) -> RulesDetection {
        RulesDetection {
            span: Some((0, 120 * MIN)),
            rules: vec![RuleOutcome {
                group: "g".into(),
                alertname: "HighGenerationErrorRate".into(),
                expr: String::new(),
                for_ms: 5 * MIN,
                keep_firing_for_ms: 0,
                interval_ms: 15_000,
                offset_ms: 0,
                offset_from: OffsetFrom::Default,
                labels: BTreeMap::new(),
                alerts: alerts
                    .into_iter()
                    .map(|instance| MetricAlert {
                        instance,
                        annotations: BTreeMap::new(),
                    })
                    .collect(),
                error: None,
                grid: Vec::new(),
                curve: None,
                resolutions: vec![Resolution::Raw],
                alerts_check: None,
            }],
            ..RulesDetection::default()
        }
    }

    #[test]
    fn the_logs_answer_when_they_fired_else_the_metrics() {
        let l = logs(
            vec![
                alert(AlertSource::Logs, "a", 10 * MIN, Some(15 * MIN)),
                alert(AlertSource::Logs, "b", 12 * MIN, None),
            ],
            Vec::new(),
        );
        let v = verdict(
            "HighGenerationErrorRate",
            &l,
            &RulesDetection::default(),
            Some(MIN),
        );
        assert_eq!((v.outcome, v.basis), (Outcome::Breached, Basis::Logs));
        assert!(v.by_logs && !v.by_metrics);
        assert_eq!(
            (v.firing_from, v.firing_until),
            (Some(15 * MIN), Some(25 * MIN))
        );
        assert_eq!(v.fired_series, 1);
        assert_eq!(v.incident_start, Some(10 * MIN));

        // Only the metrics fired, and one alert is still firing: no end.
        let mut m = alert(AlertSource::Metrics, "a", 20 * MIN, Some(25 * MIN));
        m.resolved_at = None;
        let v = verdict(
            "HighGenerationErrorRate",
            &logs(Vec::new(), Vec::new()),
            &metrics(vec![m]),
            None,
        );
        assert!(v.by_metrics && !v.by_logs);
        assert_eq!(v.basis, Basis::Metrics);
        assert_eq!((v.firing_from, v.firing_until), (Some(25 * MIN), None));
        assert_eq!(v.peak.map(|p| p.labels["pod"].clone()), Some("a".into()));
    }

    #[test]
    fn only_the_total_crossing_is_not_a_breach() {
        let mut total = alert(AlertSource::Logs, "", 30 * MIN, Some(35 * MIN));
        total.labels.clear();
        total.is_total = true;
        let l = logs(
            vec![alert(AlertSource::Logs, "a", 31 * MIN, None)],
            vec![total],
        );
        let v = verdict(
            "HighGenerationErrorRate",
            &l,
            &RulesDetection::default(),
            Some(MIN),
        );
        assert_eq!(v.outcome, Outcome::TotalOnly);
        assert_eq!(v.firing_from, None);
        assert_eq!(v.incident_start, Some(30 * MIN));
    }

    #[test]
    fn the_metrics_decide_when_they_hold_the_series() {
        // Both fired, 15 s apart: the window and the peak are Prometheus'.
        let l = logs(
            vec![alert(AlertSource::Logs, "a", 10 * MIN, Some(15 * MIN))],
            Vec::new(),
        );
        let mut m = alert(
            AlertSource::Metrics,
            "a",
            10 * MIN + 15_000,
            Some(15 * MIN + 15_000),
        );
        m.peak_rate = 0.3;
        let v = verdict("HighGenerationErrorRate", &l, &metrics(vec![m]), Some(MIN));
        assert_eq!((v.outcome, v.basis), (Outcome::Breached, Basis::Metrics));
        assert_eq!(v.firing_from, Some(15 * MIN + 15_000));
        assert_eq!(v.peak.map(|p| p.rate), Some(0.3));
        assert_eq!(v.incident_start, Some(10 * MIN + 15_000));

        // The logs fired it but Prometheus, with data for that time, did not: not breached.
        let v = verdict(
            "HighGenerationErrorRate",
            &l,
            &metrics(Vec::new()),
            Some(MIN),
        );
        assert_eq!((v.outcome, v.basis), (Outcome::NotBreached, Basis::Metrics));
        assert!(v.by_logs && !v.by_metrics);

        // The logs fired it after the dumps end: the dumps cannot speak for it.
        let late = logs(
            vec![alert(AlertSource::Logs, "a", 130 * MIN, Some(135 * MIN))],
            Vec::new(),
        );
        let v = verdict(
            "HighGenerationErrorRate",
            &late,
            &metrics(Vec::new()),
            Some(MIN),
        );
        assert_eq!((v.outcome, v.basis), (Outcome::Breached, Basis::Logs));
    }
}
