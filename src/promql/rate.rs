//! The range functions the alert rules rest on, exactly as Prometheus computes them: [`rate`]
//! and [`increase`] (Prometheus' `extrapolatedRate` in `promql/functions.go`, with counter
//! resets, extrapolation to the window edges and the counter zero-point limit, in the flavour
//! of Prometheus 2.47 or 3.x: [`PromCompat`]), and [`loki_rate`], LogQL's simpler `rate()`
//! over log records (a count in the window, no extrapolation). Pure functions over plain
//! samples. `tests/promtool_conformance.rs` checks `rate` and `increase` against
//! `promtool test rules` at every evaluation step of randomly generated series.

use serde::Serialize;

use crate::model::metrics::Sample;

/// Which Prometheus the range-function semantics follow. Both flavours count counter resets and
/// extrapolate the same way; they differ in two details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PromCompat {
    /// Prometheus 2.x up to 2.50 (the reference system runs 2.47; `promtool` 2.42 agrees): the
    /// window of `[r]` at `t` is closed, `t - r <= T <= t`, and the counter zero-point limit is
    /// applied *before* the test against the extrapolation threshold.
    V2,
    /// Prometheus 3.x: the window is open on the left, `t - r < T <= t`, and the zero-point limit
    /// is applied *after* the threshold test (as since 2.51).
    V3,
}

/// `rate(x[range])` evaluated at `t_ms`: the per-second increase of the counter `samples` over the
/// range ending at `t_ms`, exactly as Prometheus' `extrapolatedRate` computes it (counter resets,
/// extrapolation to the window edges, the zero-point limit for counters), divided by the
/// *nominal* range, not the sampled span. Prometheus computes it as
/// `raw_increase * (extrapolated_span / sampled_span / range)`, which is not always bit-equal to
/// [`increase`] divided by the range (a counter growing 1.5 per 15 s scrape, seen from `t - 285 s`:
/// `28.5 * (300 / 285 / 300)` is `0.09999999999999999`, `30 / 300` is `0.1`); the same order is
/// followed here so that comparisons with a threshold decide the same way.
///
/// `samples` must be sorted by time and must not contain staleness markers (Prometheus drops
/// those from range selections). The window is found by binary search, so a call costs
/// O(log n + k) for k samples in the window.
///
/// Returns `None`, as Prometheus returns no element, when the window holds fewer than 2 samples.
pub fn rate(samples: &[Sample], t_ms: i64, range_ms: i64, compat: PromCompat) -> Option<f64> {
    extrapolated_rate(samples, t_ms, range_ms, compat, Per::Second)
}

/// `increase(x[range])` evaluated at `t_ms`: the increase of the counter `samples` over the range
/// ending at `t_ms`, extrapolated to the window edges. Same rules, inputs and cost as [`rate`]
/// (whose result is this one divided by the range in seconds, up to rounding).
///
/// Returns `None` when the window holds fewer than 2 samples.
pub fn increase(samples: &[Sample], t_ms: i64, range_ms: i64, compat: PromCompat) -> Option<f64> {
    extrapolated_rate(samples, t_ms, range_ms, compat, Per::Range)
}

/// What [`extrapolated_rate`] returns the increase per (`isRate` in Prometheus' code).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Per {
    /// Per second of the nominal range: `rate()`.
    Second,
    /// Over the whole range: `increase()`.
    Range,
}

/// The samples of `samples` (sorted by time) that a range selector `[range_ms]` evaluated at
/// `t_ms` selects under `compat`.
fn range_window(samples: &[Sample], t_ms: i64, range_ms: i64, compat: PromCompat) -> &[Sample] {
    let range_start = t_ms - range_ms;
    let first = match compat {
        PromCompat::V2 => samples.partition_point(|s| s.t_ms < range_start),
        PromCompat::V3 => samples.partition_point(|s| s.t_ms <= range_start),
    };
    let end = samples.partition_point(|s| s.t_ms <= t_ms);
    &samples[first..end.max(first)]
}

/// Go's `time.Duration.Seconds()` for a duration of `ms` milliseconds, rounded the same way, so
/// that results are bit-identical to Prometheus'.
fn go_duration_seconds(ms: i64) -> f64 {
    let whole_seconds = ms / 1000;
    let nanos = (ms % 1000) * 1_000_000;
    whole_seconds as f64 + nanos as f64 / 1e9
}

/// Prometheus' `extrapolatedRate` for float counters (`isCounter = true`), with its floating-point
/// operations in the same order so that results, and therefore comparisons against a threshold,
/// are bit-identical.
fn extrapolated_rate(
    samples: &[Sample],
    t_ms: i64,
    range_ms: i64,
    compat: PromCompat,
    per: Per,
) -> Option<f64> {
    let window = range_window(samples, t_ms, range_ms, compat);
    extrapolate(window, true, t_ms, range_ms, compat, per)
}

/// `rate(x[range_ms])` at each of `times` (ascending), exactly as [`rate`] gives it at each,
/// in one pass: the window's ends move forward instead of being searched for, and a window
/// known to hold no counter reset (the usual case) is not walked.
pub fn rates_at(
    samples: &[Sample],
    times: &[i64],
    range_ms: i64,
    compat: PromCompat,
) -> Vec<Option<f64>> {
    // resets_before[i]: counter resets between samples[0] and samples[i].
    let mut resets_before = Vec::with_capacity(samples.len());
    let mut n = 0u32;
    for (i, s) in samples.iter().enumerate() {
        if i > 0 && s.v < samples[i - 1].v {
            n += 1;
        }
        resets_before.push(n);
    }
    let (mut first, mut end) = (0, 0);
    let mut prev = i64::MIN;
    times
        .iter()
        .map(|&t| {
            if t < prev {
                // Not ascending: searched for, as `rate` does.
                (first, end) = (0, 0);
            }
            prev = t;
            let range_start = t - range_ms;
            while first < samples.len()
                && match compat {
                    PromCompat::V2 => samples[first].t_ms < range_start,
                    PromCompat::V3 => samples[first].t_ms <= range_start,
                }
            {
                first += 1;
            }
            while end < samples.len() && samples[end].t_ms <= t {
                end += 1;
            }
            let window = &samples[first..end.max(first)];
            let resets = window.len() >= 2 && resets_before[end - 1] != resets_before[first];
            extrapolate(window, resets, t, range_ms, compat, Per::Second)
        })
        .collect()
}

/// [`extrapolated_rate`] over the window a range selector chose; `resets` false when the
/// window is known to hold no counter reset.
fn extrapolate(
    window: &[Sample],
    resets: bool,
    t_ms: i64,
    range_ms: i64,
    compat: PromCompat,
    per: Per,
) -> Option<f64> {
    let (first, last) = match window {
        [first, .., last] => (*first, *last),
        _ => return None,
    };

    // The raw increase: last minus first, plus the value before every counter reset.
    let mut increase = last.v - first.v;
    if resets {
        for pair in window.windows(2) {
            if pair[1].v < pair[0].v {
                increase += pair[0].v;
            }
        }
    }

    let range_start = t_ms - range_ms;
    let mut duration_to_start = (first.t_ms - range_start) as f64 / 1000.0;
    let mut duration_to_end = (t_ms - last.t_ms) as f64 / 1000.0;
    let sampled_interval = (last.t_ms - first.t_ms) as f64 / 1000.0;
    let average_between_samples = sampled_interval / (window.len() - 1) as f64;
    // Extrapolate all the way to an edge when the first/last sample is closer to it than 110% of
    // the average spacing; otherwise assume the series starts/ends half a spacing beyond it.
    let extrapolation_threshold = average_between_samples * 1.1;

    // A counter cannot go below zero: do not extrapolate further left than where the line
    // through the samples reaches zero.
    let limit_to_zero_point = |duration_to_start: f64| {
        if increase > 0.0 && first.v >= 0.0 {
            let duration_to_zero = sampled_interval * (first.v / increase);
            if duration_to_zero < duration_to_start {
                return duration_to_zero;
            }
        }
        duration_to_start
    };
    match compat {
        PromCompat::V2 => {
            duration_to_start = limit_to_zero_point(duration_to_start);
            if duration_to_start >= extrapolation_threshold {
                duration_to_start = average_between_samples / 2.0;
            }
        }
        PromCompat::V3 => {
            if duration_to_start >= extrapolation_threshold {
                duration_to_start = average_between_samples / 2.0;
            }
            duration_to_start = limit_to_zero_point(duration_to_start);
        }
    }
    if duration_to_end >= extrapolation_threshold {
        duration_to_end = average_between_samples / 2.0;
    }

    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if per == Per::Second {
        factor /= go_duration_seconds(range_ms);
    }
    Some(increase * factor)
}

/// LogQL's `rate()` over log records: the number of record timestamps in `(t_ms - range_ms, t_ms]`
/// divided by the range in seconds, with no extrapolation. `event_ts_ms` must be sorted; the
/// count is found by binary search. An empty window gives 0 (Loki itself then returns no
/// element for the stream; the caller decides which of the two it reports).
pub fn loki_rate(event_ts_ms: &[i64], t_ms: i64, range_ms: i64) -> f64 {
    let first = event_ts_ms.partition_point(|&ts| ts <= t_ms - range_ms);
    let end = event_ts_ms.partition_point(|&ts| ts <= t_ms);
    loki_rate_of_count(end.saturating_sub(first) as u64, range_ms)
}

/// [`loki_rate`] from the number of records in the window.
pub fn loki_rate_of_count(count: u64, range_ms: i64) -> f64 {
    count as f64 / go_duration_seconds(range_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_one_pass_are_the_rates_at_each_time() {
        // Gaps, a reset, a stale stretch, times before, between and after the samples, and
        // times that go back.
        let mut samples = Vec::new();
        let mut v = 0.0;
        for i in 0..400i64 {
            if i % 97 == 50 {
                v = 1.0;
            }
            if i % 61 > 55 {
                continue;
            }
            v += (i % 7) as f64 * 0.5;
            samples.push(Sample {
                t_ms: 1_000_000 + i * 15_000 + (i % 3) * 1_000,
                v,
            });
        }
        let mut times: Vec<i64> = (0..500).map(|k| 900_000 + k * 13_000).collect();
        times.extend([2_000_000, 1_500_000, 7_000_000]);
        for compat in [PromCompat::V2, PromCompat::V3] {
            for range in [60_000, 300_000, 600_000] {
                let want: Vec<Option<f64>> = times
                    .iter()
                    .map(|&t| rate(&samples, t, range, compat))
                    .collect();
                let got = rates_at(&samples, &times, range, compat);
                // Bit for bit (None alike).
                let bits =
                    |r: &[Option<f64>]| r.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{compat:?} {range}");
            }
        }
    }

    const STEP: i64 = 15_000;
    const FIVE_MINUTES: i64 = 300_000;

    /// Samples at `start_ms`, `start_ms + step_ms`, ... with the given values.
    fn series(start_ms: i64, step_ms: i64, values: &[f64]) -> Vec<Sample> {
        (0..)
            .zip(values)
            .map(|(i, &v)| Sample {
                t_ms: start_ms + i * step_ms,
                v,
            })
            .collect()
    }

    #[test]
    fn counter_resets_add_back_the_value_before_the_reset() {
        // `0 1 2 3 2 3 4` has an increase of 7; the window covers the samples exactly, so there is
        // no extrapolation under V2.
        let s = series(0, STEP, &[0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
        let t = 6 * STEP;
        assert_eq!(increase(&s, t, t, PromCompat::V2), Some(7.0));
        assert_eq!(rate(&s, t, t, PromCompat::V2), Some(7.0 / 90.0));
        // V3 leaves the first sample out (raw increase 6) and extrapolates 12.5 s to the left,
        // where the counter line reaches zero: 6 * 87.5 / 75.
        let v3 = increase(&s, t, t, PromCompat::V3).unwrap();
        assert!((v3 - 7.0).abs() < 1e-12, "{v3}");
    }

    #[test]
    fn fewer_than_two_samples_give_no_result() {
        let one = series(0, STEP, &[5.0]);
        assert_eq!(rate(&[], 0, FIVE_MINUTES, PromCompat::V2), None);
        assert_eq!(rate(&one, 0, FIVE_MINUTES, PromCompat::V2), None);
        assert_eq!(increase(&one, 60_000, FIVE_MINUTES, PromCompat::V3), None);
        // Two samples, but one is older than the window.
        let two = series(0, 400_000, &[1.0, 2.0]);
        assert_eq!(rate(&two, 400_000, FIVE_MINUTES, PromCompat::V2), None);
        assert!(rate(&two, 400_000, 400_000, PromCompat::V2).is_some());
    }

    #[test]
    fn v2_sees_21_samples_of_a_15s_grid_in_5m_and_v3_sees_20() {
        let t = 40 * STEP;
        let s = series(0, STEP, &[0.0; 41]);
        assert_eq!(range_window(&s, t, FIVE_MINUTES, PromCompat::V2).len(), 21);
        assert_eq!(range_window(&s, t, FIVE_MINUTES, PromCompat::V3).len(), 20);

        // A counter that jumped from 0 to 10 just after t - 5m: V2 still sees the 0 at the left
        // edge, V3 no longer does, so the alert resolves one evaluation earlier under V3.
        let mut values = vec![0.0; 21];
        values.extend([10.0; 20]);
        let s = series(0, STEP, &values);
        assert_eq!(
            rate(&s, t, FIVE_MINUTES, PromCompat::V2),
            Some(10.0 / 300.0)
        );
        assert_eq!(rate(&s, t, FIVE_MINUTES, PromCompat::V3), Some(0.0));
    }

    #[test]
    fn zero_point_limit_comes_before_the_threshold_test_in_v2_and_after_in_v3() {
        // A series born 150 s into the window: 11 samples from 1 to 16. The counter line reaches
        // zero 10 s before the first sample: under the 16.5 s threshold, over half a spacing.
        let t = 20 * STEP;
        let values: Vec<f64> = (0..11).map(|i| 1.0 + 1.5 * f64::from(i)).collect();
        let s = series(t - 150_000, STEP, &values);
        // V2: min(150, 10) = 10 is under the threshold, so it is used as is: 15 * 160 / 150.
        assert_eq!(increase(&s, t, FIVE_MINUTES, PromCompat::V2), Some(16.0));
        // V3: 150 is over the threshold, so 7.5; the zero point (10) does not shorten it.
        assert_eq!(
            increase(&s, t, FIVE_MINUTES, PromCompat::V3),
            Some(15.0 * (157.5 / 150.0))
        );
    }

    #[test]
    fn extrapolates_half_a_spacing_past_samples_far_from_the_edges() {
        // Samples from t-4m to t-1m of a counter that is far from zero: both ends are more than
        // 1.1 spacings from the edges, so the span is stretched by 7.5 s on each side.
        let t = 20 * STEP;
        let values: Vec<f64> = (0..13).map(|i| 1000.0 + f64::from(i)).collect();
        let s = series(t - 240_000, STEP, &values);
        let expected = 12.0 * ((180.0 + 7.5 + 7.5) / 180.0 / 300.0);
        assert_eq!(rate(&s, t, FIVE_MINUTES, PromCompat::V2), Some(expected));
        assert_eq!(rate(&s, t, FIVE_MINUTES, PromCompat::V3), Some(expected));
    }

    #[test]
    fn loki_rate_counts_records_in_the_left_open_window() {
        let records = [0, 1_000, 60_000, 299_999, 300_000, 300_001];
        // (0, 300000]: 1000, 60000, 299999, 300000.
        assert_eq!(loki_rate(&records, 300_000, FIVE_MINUTES), 4.0 / 300.0);
        assert_eq!(loki_rate(&records, 10_000_000, FIVE_MINUTES), 0.0);
        assert_eq!(loki_rate(&[], 0, FIVE_MINUTES), 0.0);
    }
}
