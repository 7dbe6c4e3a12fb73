//! Prometheus' rule engine, for one alert: the times a rule group is evaluated at
//! ([`eval_grid`]) and the pending/firing/resolved state machine for one alert label set
//! (`AlertingRule.Eval` in `rules/alerting.go`), with `for` and `keep_firing_for`
//! ([`run_alert`], or [`AlertTracker`] fed one evaluation at a time). Pure functions; checked
//! against `promtool test rules` at every evaluation step by the two conformance suites.

use serde::Serialize;

use crate::model::labels::Labels;
use crate::model::{AlertInstance, AlertSource};

/// The evaluation times `offset_ms + k * interval_ms` (for any integer `k`) that lie in
/// `[start_ms, end_ms]`, ascending: the first is the earliest `>= start_ms`, the last the latest
/// `<= end_ms`. `offset_ms` is the group's phase (0 for a grid aligned to the interval); empty when
/// no such time exists.
///
/// # Panics
/// When `interval_ms` is not positive.
pub fn eval_grid(start_ms: i64, end_ms: i64, interval_ms: i64, offset_ms: i64) -> Vec<i64> {
    assert!(
        interval_ms > 0,
        "evaluation interval must be positive, got {interval_ms} ms"
    );
    let first = start_ms + (offset_ms - start_ms).rem_euclid(interval_ms);
    let step = usize::try_from(interval_ms).expect("a positive i64 fits in usize");
    (first..=end_ms).step_by(step).collect()
}

/// How long an alerting rule holds an alert before and after its condition.
#[derive(Clone, Copy, Debug)]
pub struct ForSpec {
    /// The rule's `for`: how long the condition must hold, from the first evaluation where it
    /// held, before the alert fires. 0 fires at once (never pending).
    pub for_ms: i64,
    /// The rule's `keep_firing_for`: how long a firing alert stays firing after its condition
    /// stops holding. 0 resolves at the first evaluation where the condition is absent.
    pub keep_firing_for_ms: i64,
}

/// One activation of one alert label set: from the evaluation where its condition started to
/// hold to the one where it was dropped or resolved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Episode {
    /// The evaluation at which the alert became active (pending, or firing at once with
    /// `for: 0`); Prometheus' `activeAt`, and the value of `ALERTS_FOR_STATE` (in seconds).
    pub active_at_ms: i64,
    /// The evaluation at which it became firing; `None` if it never fired (it was dropped
    /// silently, without any notification, when its condition went absent, or it was still
    /// pending at the last evaluation).
    pub firing_at_ms: Option<i64>,
    /// The evaluation at which a firing alert resolved; `None` if it never fired or was still
    /// firing at the last evaluation.
    pub resolved_at_ms: Option<i64>,
    /// The highest value of the alert expression while the condition held.
    pub peak: f64,
    /// The first evaluation at which `peak` was seen.
    pub peak_at_ms: i64,
    /// The last evaluation at which the condition held. A never-fired activation was dropped at
    /// the evaluation right after it (if there is one).
    pub last_present_ms: i64,
}

impl Episode {
    /// This activation as the report states it: the alert `alertname` for `labels`, read from
    /// `source` (`is_total`: the sum over every series).
    pub fn instance(
        &self,
        alertname: &str,
        labels: Labels,
        source: AlertSource,
        is_total: bool,
    ) -> AlertInstance {
        AlertInstance {
            alertname: alertname.to_owned(),
            source,
            labels,
            is_total,
            pending_at: self.active_at_ms,
            firing_at: self.firing_at_ms,
            resolved_at: self.resolved_at_ms,
            peak_rate: self.peak,
            peak_at: self.peak_at_ms,
            last_active: self.last_present_ms,
        }
    }
}

/// The activation being tracked by [`run_alert`].
#[derive(Debug)]
struct Active {
    episode: Episode,
    /// The first evaluation of the current run of absent conditions, while a firing alert is
    /// held by `keep_firing_for` (Prometheus' `KeepFiringSince`).
    absent_since_ms: Option<i64>,
}

/// Prometheus' pending/firing/resolved state machine (`AlertingRule.Eval`) for ONE alert label
/// set.
///
/// `evals` yields, in time order, one `(t_ms, value)` per evaluation of the rule: `Some(value)`
/// when the alert expression returned this label set at `t_ms` (the condition held; `value` is
/// the expression's value), `None` when it did not (the condition was false, or there was no data,
/// such as a `rate()` with fewer than 2 samples in its window).
///
/// At each evaluation:
/// - present and not active: a new activation starts, `active_at = t`;
/// - present and pending with `t - active_at >= for`: it fires at `t` (checked in the same
///   evaluation that activates it, so `for: 0` fires at once and is never pending);
/// - absent and pending: the activation is dropped silently (`firing_at` stays `None`);
/// - absent and firing: it resolves at `t`, unless `keep_firing_for` holds it firing until the
///   first evaluation with `t - first_absent >= keep_firing_for` (the condition holding again
///   clears that clock). After a resolution the next presence is a new activation.
///
/// Returns every activation in order, including one still pending or firing at the end.
pub fn run_alert(
    evals: impl IntoIterator<Item = (i64, Option<f64>)>,
    spec: ForSpec,
) -> Vec<Episode> {
    let mut tracker = AlertTracker::default();
    for (t_ms, value) in evals {
        tracker.step(t_ms, value, spec);
    }
    tracker.finish()
}

/// [`run_alert`]'s state machine for one alert label set, fed one evaluation at a time (so a
/// rule can be evaluated block by block, its values never held for the whole range).
#[derive(Debug, Default)]
pub struct AlertTracker {
    episodes: Vec<Episode>,
    active: Option<Active>,
}

impl AlertTracker {
    /// Whether an activation is pending or firing (an absent evaluation changes nothing
    /// otherwise).
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// One evaluation at `t_ms`: the condition's value, or `None` where it did not hold.
    pub fn step(&mut self, t_ms: i64, value: Option<f64>, spec: ForSpec) {
        match value {
            Some(value) => {
                let current = self.active.get_or_insert(Active {
                    episode: Episode {
                        active_at_ms: t_ms,
                        firing_at_ms: None,
                        resolved_at_ms: None,
                        peak: value,
                        peak_at_ms: t_ms,
                        last_present_ms: t_ms,
                    },
                    absent_since_ms: None,
                });
                let episode = &mut current.episode;
                current.absent_since_ms = None;
                episode.last_present_ms = t_ms;
                if value > episode.peak {
                    episode.peak = value;
                    episode.peak_at_ms = t_ms;
                }
                if episode.firing_at_ms.is_none() && t_ms - episode.active_at_ms >= spec.for_ms {
                    episode.firing_at_ms = Some(t_ms);
                }
            }
            None => {
                let Some(mut current) = self.active.take() else {
                    return;
                };
                if current.episode.firing_at_ms.is_some() {
                    if spec.keep_firing_for_ms > 0 {
                        let absent_since = *current.absent_since_ms.get_or_insert(t_ms);
                        if t_ms - absent_since < spec.keep_firing_for_ms {
                            self.active = Some(current);
                            return;
                        }
                    }
                    current.episode.resolved_at_ms = Some(t_ms);
                }
                self.episodes.push(current.episode);
            }
        }
    }

    /// Every activation in order, including one still pending or firing at the end.
    pub fn finish(mut self) -> Vec<Episode> {
        self.episodes
            .extend(self.active.map(|current| current.episode));
        self.episodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 15_000;

    /// Evaluations every `STEP` from 0, present (with value 1) where `pattern` has `#`.
    fn evals(pattern: &str) -> Vec<(i64, Option<f64>)> {
        (0..)
            .zip(pattern.chars())
            .map(|(i, c)| (i * STEP, (c == '#').then_some(1.0)))
            .collect()
    }

    fn spec(for_ms: i64, keep_firing_for_ms: i64) -> ForSpec {
        ForSpec {
            for_ms,
            keep_firing_for_ms,
        }
    }

    #[test]
    fn eval_grid_keeps_the_phase_inside_the_bounds() {
        assert_eq!(
            eval_grid(0, 45_000, STEP, 0),
            vec![0, 15_000, 30_000, 45_000]
        );
        assert_eq!(eval_grid(1, 45_000, STEP, 0), vec![15_000, 30_000, 45_000]);
        assert_eq!(
            eval_grid(0, 44_999, STEP, 4_000),
            vec![4_000, 19_000, 34_000]
        );
        assert_eq!(eval_grid(-20_000, 0, STEP, 4_000), vec![-11_000]);
        assert_eq!(
            eval_grid(0, 44_999, STEP, 64_000),
            vec![4_000, 19_000, 34_000]
        );
        assert!(eval_grid(10, 5, STEP, 0).is_empty());
    }

    #[test]
    fn for_fires_at_the_first_evaluation_a_full_for_after_activation() {
        // With for: 1m on a 15s grid, the 5th consecutive evaluation fires.
        let eps = run_alert(evals("..#######.."), spec(60_000, 0));
        assert_eq!(
            eps,
            vec![Episode {
                active_at_ms: 2 * STEP,
                firing_at_ms: Some(6 * STEP),
                resolved_at_ms: Some(9 * STEP),
                peak: 1.0,
                peak_at_ms: 2 * STEP,
                last_present_ms: 8 * STEP,
            }]
        );
    }

    #[test]
    fn for_zero_fires_at_once_and_a_firing_alert_stays_unresolved_at_the_end() {
        let eps = run_alert(evals(".#..##"), spec(0, 0));
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].active_at_ms, STEP);
        assert_eq!(eps[0].firing_at_ms, Some(STEP));
        assert_eq!(eps[0].resolved_at_ms, Some(2 * STEP));
        assert_eq!(eps[1].active_at_ms, 4 * STEP);
        assert_eq!(eps[1].firing_at_ms, Some(4 * STEP));
        assert_eq!(eps[1].resolved_at_ms, None, "still firing at the end");
    }

    #[test]
    fn a_pending_alert_that_goes_absent_is_dropped_and_restarts_later() {
        let eps = run_alert(evals("###.####"), spec(60_000, 0));
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].active_at_ms, 0);
        assert_eq!(eps[0].firing_at_ms, None);
        assert_eq!(
            eps[0].resolved_at_ms, None,
            "dropped silently, never resolved"
        );
        assert_eq!(eps[0].last_present_ms, 2 * STEP);
        // The new activation has its own active_at and has not lasted 1m by the end.
        assert_eq!(eps[1].active_at_ms, 4 * STEP);
        assert_eq!(eps[1].firing_at_ms, None);
    }

    #[test]
    fn a_gap_resolves_a_firing_alert_and_a_new_activation_follows() {
        let eps = run_alert(evals("######..######"), spec(30_000, 0));
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].firing_at_ms, Some(2 * STEP));
        assert_eq!(eps[0].resolved_at_ms, Some(6 * STEP));
        assert_eq!(eps[1].active_at_ms, 8 * STEP);
        assert_eq!(eps[1].firing_at_ms, Some(10 * STEP));
        assert_eq!(eps[1].resolved_at_ms, None);
    }

    #[test]
    fn keep_firing_for_holds_until_a_full_period_of_absence() {
        // keep_firing_for: 45s. Absent from 4: 4, 5, 6 are held (0, 15, 30 s), 7 resolves (45 s).
        let eps = run_alert(evals("####......"), spec(0, 45_000));
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].resolved_at_ms, Some(7 * STEP));
        assert_eq!(eps[0].last_present_ms, 3 * STEP);

        // The condition returning within the period clears the clock: one activation throughout.
        let eps = run_alert(evals("##..#...#...."), spec(0, 45_000));
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].active_at_ms, 0);
        assert_eq!(eps[0].resolved_at_ms, Some(12 * STEP));
    }

    #[test]
    fn keep_firing_for_does_not_hold_a_pending_alert() {
        let eps = run_alert(evals("##..##"), spec(60_000, 120_000));
        assert_eq!(eps.len(), 2);
        assert!(eps.iter().all(|e| e.firing_at_ms.is_none()));
    }

    #[test]
    fn peak_is_the_first_maximum_while_present() {
        let evals = [
            (0, Some(0.2)),
            (STEP, Some(0.5)),
            (2 * STEP, Some(0.3)),
            (3 * STEP, Some(0.5)),
            (4 * STEP, None),
        ];
        let eps = run_alert(evals, spec(0, 0));
        assert_eq!(eps[0].peak, 0.5);
        assert_eq!(eps[0].peak_at_ms, STEP);
        assert_eq!(eps[0].last_present_ms, 3 * STEP);
    }
}
