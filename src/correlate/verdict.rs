//! The verdict: did the runbook's alert fire, per the logs' reconstruction or per the metric
//! dumps (Prometheus' own counter), when, how high, and when did the incident start.

use std::collections::BTreeMap;

use crate::detect::logs::LogDetection;
use crate::detect::rules::RulesDetection;
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
    /// The logs' reconstruction fired it.
    pub by_logs: bool,
    /// The metric dumps fired it.
    pub by_metrics: bool,
    /// The highest single-series rate (from the logs; from the metrics when the logs hold no
    /// error record).
    pub peak: Option<Peak>,
    /// The highest total rate (sum over all series) and when.
    pub total_peak: Option<(f64, Millis)>,
    /// First firing of the answer that fired (the logs', else the metrics').
    pub firing_from: Option<Millis>,
    /// Last resolution; `None` while one is still firing at the end of the data.
    pub firing_until: Option<Millis>,
    /// Series (logs) that fired.
    pub fired_series: usize,
    /// Label sets the metrics fired it for.
    pub metric_label_sets: usize,
    /// The first pending alert (of a series or the total), else the first error.
    pub incident_start: Option<Millis>,
}

/// Decides the verdict for the alert `alertname`. `first_error` is the first error record's
/// time, `error_records` how many there were.
pub fn verdict(
    alertname: &str,
    logs: &LogDetection,
    rules: &RulesDetection,
    first_error: Option<Millis>,
    error_records: u64,
) -> Verdict {
    let series_alerts = logs.series_alerts();
    let by_logs = logs.series_fired();
    let metric_alerts: Vec<&AlertInstance> = rules
        .rules
        .iter()
        .filter(|r| r.alertname == alertname)
        .flat_map(|r| r.alerts.iter().map(|x| &x.instance))
        .filter(|x| x.firing_at.is_some())
        .collect();
    let by_metrics = !metric_alerts.is_empty();
    let outcome = if by_logs || by_metrics {
        Outcome::Breached
    } else if logs.total_fired() {
        Outcome::TotalOnly
    } else {
        Outcome::NotBreached
    };
    let series_peak = logs
        .series
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
        });
    // Without error records in the logs, the peak is the metrics' (the rule's value).
    let metrics_peak = metric_alerts
        .iter()
        .filter(|_| error_records == 0)
        .max_by(|x, y| x.peak_rate.total_cmp(&y.peak_rate))
        .map(|x| Peak {
            rate: x.peak_rate,
            at: x.peak_at,
            labels: x.labels.clone(),
        });
    // The logs' answer, or the metrics' when only they fired it.
    let firing: &[&AlertInstance] = if by_logs {
        &series_alerts
    } else {
        &metric_alerts
    };
    let fired = || firing.iter().filter(|a| a.firing_at.is_some());
    let still_firing = fired().any(|a| a.resolved_at.is_none());
    let mut label_sets: Vec<&BTreeMap<String, String>> =
        metric_alerts.iter().map(|x| &x.labels).collect();
    label_sets.sort_unstable();
    label_sets.dedup();
    Verdict {
        outcome,
        by_logs,
        by_metrics,
        peak: series_peak.or(metrics_peak),
        total_peak: logs.total_peak,
        firing_from: fired().filter_map(|a| a.firing_at).min(),
        firing_until: if still_firing {
            None
        } else {
            fired().filter_map(|a| a.resolved_at).max()
        },
        fired_series: logs
            .series
            .iter()
            .filter(|s| s.alerts.iter().any(|x| x.firing_at.is_some()))
            .count(),
        metric_label_sets: label_sets.len(),
        incident_start: series_alerts
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

    fn metrics(alerts: Vec<AlertInstance>) -> RulesDetection {
        RulesDetection {
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
                resolutions: Vec::new(),
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
            &metrics(Vec::new()),
            Some(MIN),
            5,
        );
        assert_eq!(v.outcome, Outcome::Breached);
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
            0,
        );
        assert!(v.by_metrics && !v.by_logs);
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
            3,
        );
        assert_eq!(v.outcome, Outcome::TotalOnly);
        assert_eq!(v.firing_from, None);
        assert_eq!(v.incident_start, Some(30 * MIN));
    }
}
