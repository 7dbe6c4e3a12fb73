//! The alert engine: Prometheus' `rate()`/`increase()` (`extrapolatedRate` in
//! `promql/functions.go`), Loki's simpler `rate()`, the evaluation grid, and the rule engine's
//! pending/firing/resolved state machine (`rules/alerting.go`). Pure functions over plain
//! samples, shared by the logs path and the metrics path, and checked against `promtool test
//! rules` in `tests/promtool_conformance.rs`.

use serde::Serialize;

use crate::model::Millis;

/// Which Prometheus the semantics follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PromCompat {
    /// 2.x up to 2.50 (the service runs 2.47): range windows closed on both ends `[t-r, t]`;
    /// the counter zero-point limit is applied before the extrapolation threshold test.
    V2,
    /// 3.x: windows open on the left `(t-r, t]`; the threshold test first, then the zero-point
    /// limit (as in 2.51+).
    V3,
}

/// One sample of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub t_ms: Millis,
    pub v: f64,
}

/// The samples of `samples` (sorted by time) inside the range ending at `t_ms`.
fn window(samples: &[Sample], t_ms: Millis, range_ms: Millis, compat: PromCompat) -> &[Sample] {
    let start = t_ms - range_ms;
    let lo = match compat {
        PromCompat::V2 => samples.partition_point(|s| s.t_ms < start),
        PromCompat::V3 => samples.partition_point(|s| s.t_ms <= start),
    };
    let hi = samples.partition_point(|s| s.t_ms <= t_ms);
    &samples[lo..hi.max(lo)]
}

/// `extrapolatedRate` for counters: the increase over the window, extrapolated to its edges.
/// `None` when fewer than two samples fall in the window.
fn extrapolated_increase(
    samples: &[Sample],
    t_ms: Millis,
    range_ms: Millis,
    compat: PromCompat,
) -> Option<f64> {
    let w = window(samples, t_ms, range_ms, compat);
    if w.len() < 2 {
        return None;
    }
    let (first, last) = (w[0], w[w.len() - 1]);
    let mut result = last.v - first.v;
    // Counter resets: a drop means the counter restarted; add back what it had reached.
    let mut prev = 0.0;
    for s in w {
        if s.v < prev {
            result += prev;
        }
        prev = s.v;
    }
    let range_start = t_ms - range_ms;
    let mut to_start = (first.t_ms - range_start) as f64 / 1000.0;
    let mut to_end = (t_ms - last.t_ms) as f64 / 1000.0;
    let sampled = (last.t_ms - first.t_ms) as f64 / 1000.0;
    let avg = sampled / (w.len() - 1) as f64;
    let threshold = avg * 1.1;
    let zero_limit = |to_start: f64| {
        if result > 0.0 && first.v >= 0.0 {
            let to_zero = sampled * (first.v / result);
            if to_zero < to_start {
                return to_zero;
            }
        }
        to_start
    };
    match compat {
        PromCompat::V2 => {
            to_start = zero_limit(to_start);
            if to_start >= threshold {
                to_start = avg / 2.0;
            }
        }
        PromCompat::V3 => {
            if to_start >= threshold {
                to_start = avg / 2.0;
            }
            to_start = zero_limit(to_start);
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    Some(result * ((sampled + to_start + to_end) / sampled))
}

/// `increase(x[range])` at `t_ms`.
pub fn increase(
    samples: &[Sample],
    t_ms: Millis,
    range_ms: Millis,
    compat: PromCompat,
) -> Option<f64> {
    extrapolated_increase(samples, t_ms, range_ms, compat)
}

/// `rate(x[range])` at `t_ms`: the extrapolated increase divided by the nominal range.
pub fn rate(samples: &[Sample], t_ms: Millis, range_ms: Millis, compat: PromCompat) -> Option<f64> {
    extrapolated_increase(samples, t_ms, range_ms, compat)
        .map(|inc| inc / (range_ms as f64 / 1000.0))
}

/// Loki's `rate({...}[range])`: entries in `(t - range, t]` divided by the range in seconds.
/// `event_ts_ms` must be sorted.
pub fn loki_rate(event_ts_ms: &[Millis], t_ms: Millis, range_ms: Millis) -> f64 {
    let lo = event_ts_ms.partition_point(|&e| e <= t_ms - range_ms);
    let hi = event_ts_ms.partition_point(|&e| e <= t_ms);
    (hi - lo) as f64 / (range_ms as f64 / 1000.0)
}

/// Evaluation times `offset + k * interval` within `[start_ms, end_ms]`.
pub fn eval_grid(
    start_ms: Millis,
    end_ms: Millis,
    interval_ms: Millis,
    offset_ms: Millis,
) -> Vec<Millis> {
    if interval_ms <= 0 || end_ms < start_ms {
        return Vec::new();
    }
    let k = (start_ms - offset_ms).div_euclid(interval_ms);
    let mut t = offset_ms + k * interval_ms;
    if t < start_ms {
        t += interval_ms;
    }
    let mut grid = Vec::with_capacity(((end_ms - t) / interval_ms + 1).max(0) as usize);
    while t <= end_ms {
        grid.push(t);
        t += interval_ms;
    }
    grid
}

/// An alerting rule's timing: `for` and `keep_firing_for`.
#[derive(Clone, Copy, Debug)]
pub struct ForSpec {
    pub for_ms: Millis,
    pub keep_firing_for_ms: Millis,
}

/// One activation of one alert label set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Episode {
    /// When it became pending (`activeAt`).
    pub active_at_ms: Millis,
    /// When it started firing; `None` if it never did (dropped while pending, or still pending
    /// at the end of the data).
    pub firing_at_ms: Option<Millis>,
    /// When it resolved; `None` if it never fired or was still firing at the end.
    pub resolved_at_ms: Option<Millis>,
    /// Highest value while present, and when.
    pub peak: f64,
    pub peak_at_ms: Millis,
    /// The last evaluation at which the condition held.
    pub last_present_ms: Millis,
}

/// Prometheus' alert state machine for one label set. `evals` gives, at each evaluation time,
/// the element's value when the rule's expression returned it (condition true), `None` when it
/// did not (condition false, or no data).
pub fn run_alert(
    evals: impl IntoIterator<Item = (Millis, Option<f64>)>,
    spec: ForSpec,
) -> Vec<Episode> {
    let mut done = Vec::new();
    let mut cur: Option<Episode> = None;
    let mut keep_since: Option<Millis> = None;
    for (t, v) in evals {
        match v {
            Some(x) => {
                keep_since = None;
                let ep = cur.get_or_insert(Episode {
                    active_at_ms: t,
                    firing_at_ms: None,
                    resolved_at_ms: None,
                    peak: x,
                    peak_at_ms: t,
                    last_present_ms: t,
                });
                if x > ep.peak || x.is_nan() && ep.peak.is_nan() {
                    ep.peak = x;
                    ep.peak_at_ms = t;
                }
                ep.last_present_ms = t;
                if ep.firing_at_ms.is_none() && t - ep.active_at_ms >= spec.for_ms {
                    ep.firing_at_ms = Some(t);
                }
            }
            None => {
                let Some(mut ep) = cur.take() else { continue };
                if ep.firing_at_ms.is_some() && spec.keep_firing_for_ms > 0 {
                    let since = *keep_since.get_or_insert(t);
                    if t - since < spec.keep_firing_for_ms {
                        cur = Some(ep);
                        continue;
                    }
                }
                keep_since = None;
                if ep.firing_at_ms.is_some() {
                    ep.resolved_at_ms = Some(t);
                }
                done.push(ep);
            }
        }
    }
    done.extend(cur);
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(start: Millis, step: Millis, values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample {
                t_ms: start + i as Millis * step,
                v,
            })
            .collect()
    }

    #[test]
    fn resets_add_back_the_value_reached() {
        // 0 1 2 3 2 3 4: an increase of 7 (3 before the reset, 4 after... minus the start).
        let s = series(0, 10_000, &[0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
        // Window exactly covering the samples: no extrapolation beyond them in V2 except the
        // zero-point: first value 0 means the series starts at its zero point.
        let inc = increase(&s, 60_000, 60_000, PromCompat::V2).unwrap();
        assert!((inc - 7.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn fewer_than_two_samples_is_no_result() {
        let s = series(0, 15_000, &[5.0]);
        assert_eq!(rate(&s, 10_000, 300_000, PromCompat::V2), None);
        assert_eq!(rate(&[], 10_000, 300_000, PromCompat::V2), None);
    }

    #[test]
    fn v2_window_is_closed_v3_left_open() {
        // A regular 15s grid aligned with the evaluation: 21 samples in [t-5m, t], 20 in (t-5m, t].
        let s = series(0, 15_000, &(0..100).map(|i| i as f64).collect::<Vec<_>>());
        assert_eq!(window(&s, 600_000, 300_000, PromCompat::V2).len(), 21);
        assert_eq!(window(&s, 600_000, 300_000, PromCompat::V3).len(), 20);
        // A steady 1 per 15s is 1/15 per second either way once extrapolated.
        let v2 = rate(&s, 600_000, 300_000, PromCompat::V2).unwrap();
        let v3 = rate(&s, 600_000, 300_000, PromCompat::V3).unwrap();
        assert!((v2 - 1.0 / 15.0).abs() < 1e-9, "{v2}");
        assert!((v3 - 1.0 / 15.0).abs() < 1e-9, "{v3}");
    }

    #[test]
    fn extrapolation_stops_at_the_counters_zero_point() {
        // A counter that appears at 10 and grows by 10 per 15s: the left edge is limited by
        // where the line through the samples reaches zero (15s before the first sample).
        let s = series(240_000, 15_000, &[10.0, 20.0, 30.0, 40.0, 50.0]);
        let inc = increase(&s, 300_000, 300_000, PromCompat::V2).unwrap();
        // sampled 60s, raw 40, to_start limited to 15s (zero point), to_end 0 -> 40 * 75/60 = 50.
        assert!((inc - 50.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn loki_counts_entries_in_a_left_open_window() {
        let ev = [1_000, 2_000, 300_000, 301_000];
        assert_eq!(loki_rate(&ev, 301_000, 300_000), 3.0 / 300.0);
        assert_eq!(loki_rate(&ev, 300_000, 300_000), 3.0 / 300.0);
    }

    #[test]
    fn grid_is_aligned() {
        assert_eq!(
            eval_grid(1, 46_000, 15_000, 0),
            vec![15_000, 30_000, 45_000]
        );
        assert_eq!(eval_grid(0, 30_000, 15_000, 5_000), vec![5_000, 20_000]);
    }

    fn evals(pattern: &str) -> Vec<(Millis, Option<f64>)> {
        pattern
            .chars()
            .enumerate()
            .map(|(i, c)| (i as Millis * 60_000, (c == 'x').then_some(1.0)))
            .collect()
    }

    #[test]
    fn fires_on_the_sixth_evaluation_with_for_5m_and_1m_interval() {
        let eps = run_alert(
            evals("xxxxxxx..."),
            ForSpec {
                for_ms: 300_000,
                keep_firing_for_ms: 0,
            },
        );
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].active_at_ms, 0);
        assert_eq!(eps[0].firing_at_ms, Some(300_000));
        assert_eq!(eps[0].resolved_at_ms, Some(420_000));
    }

    #[test]
    fn pending_that_goes_absent_is_dropped_silently() {
        let eps = run_alert(
            evals("xxx.xxxxxx"),
            ForSpec {
                for_ms: 300_000,
                keep_firing_for_ms: 0,
            },
        );
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].firing_at_ms, None);
        assert_eq!(eps[0].resolved_at_ms, None);
        assert_eq!(eps[1].active_at_ms, 240_000);
        assert_eq!(eps[1].firing_at_ms, Some(540_000));
        assert_eq!(eps[1].resolved_at_ms, None, "still firing at the end");
    }

    #[test]
    fn no_for_fires_at_once_and_a_gap_resolves() {
        let eps = run_alert(
            evals("xx.x"),
            ForSpec {
                for_ms: 0,
                keep_firing_for_ms: 0,
            },
        );
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].firing_at_ms, Some(0));
        assert_eq!(eps[0].resolved_at_ms, Some(120_000));
        assert_eq!(eps[1].active_at_ms, 180_000);
        assert_eq!(eps[1].firing_at_ms, Some(180_000));
    }

    #[test]
    fn keep_firing_for_holds_and_is_cleared_by_a_return() {
        let spec = ForSpec {
            for_ms: 0,
            keep_firing_for_ms: 120_000,
        };
        // absent at 1m and 2m (held: 0 and 1 minute since first absent), back at 3m (clock
        // cleared), absent from 4m: held at 4m, 5m, resolved at 6m.
        let eps = run_alert(evals("x..x..."), spec);
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].resolved_at_ms, Some(360_000));
    }
}
