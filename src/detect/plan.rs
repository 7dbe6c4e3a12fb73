//! The evaluation plan: when each rule is evaluated, decided once before anything is evaluated.
//! Prometheus evaluates a rule group every `interval` at a phase of its own; the dumps' raw
//! `ALERTS` samples sit at those instants, so without `--eval-offset` each group (and the
//! logs-based reconstruction of the runbook's alert) is evaluated at their phase.

use std::collections::BTreeMap;

use crate::model::metrics::{MetricSeries, Resolution};
use crate::model::rules::{RuleKind, RuleSet};
use crate::model::Millis;
use crate::promql::{PromCompat, Storage};

/// Where a group's evaluation phase came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetFrom {
    /// `--eval-offset`.
    Flag,
    /// The timestamps of the dump's raw ALERTS / ALERTS_FOR_STATE samples: Prometheus writes
    /// them at its evaluation times, so their phase is the group's real one.
    Alerts,
    /// Neither: evaluations on multiples of the interval.
    Default,
}

/// One rule group's evaluation times: `offset + k * interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub interval_ms: Millis,
    pub offset_ms: Millis,
    pub offset_from: OffsetFrom,
}

/// When the rules over the metric dumps are evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsPlan {
    /// The range evaluated: the dumps' span, cut by `--since`/`--until` (empty when
    /// `start > end`).
    pub start: Millis,
    pub end: Millis,
    /// Each group's grid, in the rule set's group order.
    pub groups: Vec<Grid>,
}

/// How and when everything is evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalPlan {
    pub compat: PromCompat,
    /// The runbook's alert reconstructed from the logs.
    pub logs: Grid,
    /// The alerting rules over the metric dumps; `None` without dumps.
    pub metrics: Option<MetricsPlan>,
}

/// What the plan is made from, besides the rules and the series.
#[derive(Clone, Debug)]
pub struct PlanSettings {
    pub compat: PromCompat,
    /// The runbook's alert (whose ALERTS give the logs' phase).
    pub alertname: String,
    /// `--eval-interval`: every grid's interval (else the group's, else 15s).
    pub interval: Option<Millis>,
    /// `--eval-offset`: every grid's phase.
    pub offset: Option<Millis>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

/// How far every evaluation reaches either side of the bulk of the inputs' times.
pub const MAX_REACH_MS: Millis = 62 * 86_400_000;

/// The range every grid is kept within: the median of the inputs' spans' midpoints, weighted
/// by what each holds, give or take [`MAX_REACH_MS`]. So an input dated 9999 (or 1970) among
/// 2026's never sizes a grid, however few lines it has. `spans`: (first, last, weight) per
/// input. `None` without any.
pub fn bulk_bounds(spans: &[(Millis, Millis, u64)]) -> Option<(Millis, Millis)> {
    let mut mids: Vec<(Millis, u64)> = spans
        .iter()
        .map(|&(a, b, w)| (a / 2 + b / 2, w.max(1)))
        .collect();
    mids.sort_unstable();
    let total: u64 = mids.iter().map(|m| m.1).sum();
    let mut seen = 0;
    let (median, _) = *mids.iter().find(|(_, w)| {
        seen += w;
        seen * 2 >= total
    })?;
    Some((
        median.saturating_sub(MAX_REACH_MS),
        median.saturating_add(MAX_REACH_MS),
    ))
}

/// A group's interval when neither `--eval-interval` nor the group sets one.
pub const DEFAULT_INTERVAL: Millis = 15_000;

impl EvalPlan {
    /// Plans the evaluation of `rules` over `storage` (the metric dumps, `None` or empty
    /// without any) and of the logs-based alert.
    pub fn new(s: &PlanSettings, rules: &RuleSet, storage: Option<&Storage>) -> EvalPlan {
        let series = storage.map_or(&[][..], Storage::series);
        let grid = |interval: Millis, alertnames: &[&str]| match s.offset {
            Some(o) => Grid {
                interval_ms: interval,
                offset_ms: o,
                offset_from: OffsetFrom::Flag,
            },
            None => {
                let (offset_ms, offset_from) = match alerts_phase(series, alertnames, interval) {
                    Some(p) => (p, OffsetFrom::Alerts),
                    None => (0, OffsetFrom::Default),
                };
                Grid {
                    interval_ms: interval,
                    offset_ms,
                    offset_from,
                }
            }
        };
        let logs = grid(
            s.interval.unwrap_or(DEFAULT_INTERVAL),
            &[s.alertname.as_str()],
        );
        let span = series
            .iter()
            .filter_map(|x| Some((x.samples.first()?.t_ms, x.samples.last()?.t_ms)))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
        let metrics = (!series.is_empty()).then(|| {
            let (start, end) = span.unwrap_or((0, -1));
            MetricsPlan {
                start: s.since.map_or(start, |x| x.max(start)),
                end: s.until.map_or(end, |u| u.min(end)),
                groups: rules
                    .groups
                    .iter()
                    .map(|g| {
                        let alertnames: Vec<&str> = g
                            .rules
                            .iter()
                            .filter_map(|r| match &r.kind {
                                RuleKind::Alerting(a) => Some(a.alert.as_str()),
                                RuleKind::Recording(_) => None,
                            })
                            .collect();
                        let interval = s.interval.or(g.interval_ms).unwrap_or(DEFAULT_INTERVAL);
                        grid(interval, &alertnames)
                    })
                    .collect(),
            }
        });
        EvalPlan {
            compat: s.compat,
            logs,
            metrics,
        }
    }
}

/// The phase (in `0..interval`) of the raw `ALERTS` / `ALERTS_FOR_STATE` samples of the given
/// alerts: the most common remainder of their timestamps. `None` without such samples.
pub fn alerts_phase(
    series: &[MetricSeries],
    alertnames: &[&str],
    interval: Millis,
) -> Option<Millis> {
    let mut counts: BTreeMap<Millis, usize> = BTreeMap::new();
    for s in series {
        let is_alerts = matches!(s.name(), "ALERTS" | "ALERTS_FOR_STATE")
            && s.resolution == Resolution::Raw
            && s.labels
                .get("alertname")
                .is_some_and(|a| alertnames.contains(&a.as_str()));
        if is_alerts {
            for x in &s.samples {
                *counts.entry(x.t_ms.rem_euclid(interval)).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(phase, n)| (n, std::cmp::Reverse(phase)))
        .map(|(phase, _)| phase)
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn a_lone_far_input_does_not_move_the_bounds() {
        let day = 86_400_000;
        let now = 1_763_630_000_000;
        let spans = [
            (now, now + 3_600_000, 5_000),
            (now + 600_000, now + 4_000_000, 3_000),
            (253_402_300_799_000, 253_402_300_799_000, 1),
            (0, 0, 1),
        ];
        let (lo, hi) = bulk_bounds(&spans).unwrap();
        assert!(lo <= now && hi >= now + 4_000_000);
        assert!(hi - lo <= 2 * MAX_REACH_MS + day);
        assert_eq!(bulk_bounds(&[]), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Sample;

    fn alerts(alertname: &str, times: &[Millis]) -> MetricSeries {
        MetricSeries {
            labels: crate::model::labels::from_pairs(&[
                ("__name__", "ALERTS"),
                ("alertname", alertname),
            ]),
            samples: times.iter().map(|&t_ms| Sample { t_ms, v: 1.0 }).collect(),
            resolution: Resolution::Raw,
        }
    }

    fn settings(offset: Option<Millis>) -> PlanSettings {
        PlanSettings {
            compat: PromCompat::V2,
            alertname: "HighGenerationErrorRate".into(),
            interval: None,
            offset,
            since: Some(10_000),
            until: None,
        }
    }

    #[test]
    fn groups_and_logs_take_the_phase_of_their_alerts_samples() {
        let rules = crate::ingest::rules::builtin();
        let storage = Storage::new(vec![alerts(
            "HighGenerationErrorRate",
            &[4_287, 19_287, 34_287, 60_000],
        )]);
        let plan = EvalPlan::new(&settings(None), &rules, Some(&storage));
        let expected = Grid {
            interval_ms: 15_000,
            offset_ms: 4_287,
            offset_from: OffsetFrom::Alerts,
        };
        assert_eq!(plan.logs, expected);
        let metrics = plan.metrics.unwrap();
        assert_eq!(metrics.groups, [expected]);
        assert_eq!((metrics.start, metrics.end), (10_000, 60_000));

        // --eval-offset wins; no dumps, no metrics plan and the default phase.
        let plan = EvalPlan::new(&settings(Some(2_000)), &rules, Some(&storage));
        assert_eq!(plan.logs.offset_from, OffsetFrom::Flag);
        assert_eq!(plan.metrics.unwrap().groups[0].offset_ms, 2_000);
        let plan = EvalPlan::new(&settings(None), &rules, None);
        assert_eq!(plan.logs.offset_from, OffsetFrom::Default);
        assert!(plan.metrics.is_none());
    }
}
