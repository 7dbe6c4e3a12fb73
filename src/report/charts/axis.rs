//! The axes: time ticks aligned to round UTC times, y ticks on round steps, and the linear
//! axis type plotters draws them with.

use chrono::DateTime;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use crate::model::Millis;

pub(super) const MINUTE_MS: i64 = 60_000;
pub(super) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

/// A linear `f64` axis whose ticks (and grid lines) are exactly `ticks`.
#[derive(Clone)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (a, b): (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let frac = if span > 0.0 && span.is_finite() {
            (value - self.lo) / span
        } else {
            0.5
        };
        let px = a as f64 + (b - a) as f64 * frac.clamp(-1.0, 2.0);
        px.round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The shown time range with `x0 < x1`: reversed ends are swapped, `start == end` is widened
/// by five minutes each way.
pub(super) fn time_range(start: Millis, end: Millis) -> (i64, i64) {
    let (a, b) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    if a == b {
        (
            a.saturating_sub(5 * MINUTE_MS),
            b.saturating_add(5 * MINUTE_MS),
        )
    } else {
        (a, b)
    }
}

/// Tick positions (aligned to round UTC times) and the strftime pattern for their labels.
pub(super) fn time_ticks(x0: i64, x1: i64) -> (Vec<f64>, &'static str) {
    const SEC: i64 = 1000;
    const STEPS: [i64; 26] = [
        SEC,
        2 * SEC,
        5 * SEC,
        10 * SEC,
        15 * SEC,
        30 * SEC,
        MINUTE_MS,
        2 * MINUTE_MS,
        5 * MINUTE_MS,
        10 * MINUTE_MS,
        15 * MINUTE_MS,
        20 * MINUTE_MS,
        30 * MINUTE_MS,
        HOUR_MS,
        2 * HOUR_MS,
        3 * HOUR_MS,
        4 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        2 * DAY_MS,
        7 * DAY_MS,
        14 * DAY_MS,
        30 * DAY_MS,
        90 * DAY_MS,
        365 * DAY_MS,
    ];
    let span = x1 as i128 - x0 as i128;
    let multi_day = span >= DAY_MS as i128;
    // Fewer ticks where the labels are wider than HH:MM.
    let max_ticks: i128 = if multi_day {
        7
    } else if span < 10 * MINUTE_MS as i128 {
        8
    } else {
        10
    };
    let step = STEPS
        .iter()
        .map(|&s| s as i128)
        .find(|&s| span / s <= max_ticks)
        .unwrap_or_else(|| (span / max_ticks / DAY_MS as i128 + 1) * DAY_MS as i128);
    let pattern = if step < MINUTE_MS as i128 {
        "%H:%M:%S"
    } else if step >= DAY_MS as i128 {
        "%Y-%m-%d"
    } else if multi_day {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let first = (x0 as i128).div_euclid(step) * step
        + if (x0 as i128).rem_euclid(step) == 0 {
            0
        } else {
            step
        };
    let mut ticks = Vec::new();
    let mut t = first;
    while t <= x1 as i128 && ticks.len() <= max_ticks as usize + 1 {
        ticks.push(t as f64);
        t += step;
    }
    (ticks, pattern)
}

pub(super) fn fmt_time(ms: f64, pattern: &str) -> String {
    DateTime::from_timestamp_millis(ms.round() as i64)
        .map(|t| t.format(pattern).to_string())
        .unwrap_or_default()
}

/// A round step of about `x`: 1, 2 or 5 times a power of ten.
pub(super) fn nice_step(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    let f = x / p;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// The y range top, its tick positions and their labels.
pub(super) fn y_axis(max_value: f64) -> (f64, Vec<f64>, Vec<String>) {
    let max_value = if max_value.is_finite() && max_value > 0.0 {
        max_value.min(1e300)
    } else {
        1.0
    };
    let target = max_value * 1.15;
    let step = nice_step(target / 5.0);
    let n = (target / step).ceil().clamp(1.0, 12.0) as usize;
    let top = step * n as f64;
    let ticks: Vec<f64> = (0..=n).map(|i| step * i as f64).collect();
    let scientific = !(1e-4..1e6).contains(&step);
    let decimals = (-step.log10().floor()).clamp(0.0, 12.0) as usize;
    let labels = ticks
        .iter()
        .map(|&v| {
            if v == 0.0 {
                "0".to_owned()
            } else if scientific {
                format!("{v:.1e}")
            } else {
                format!("{v:.decimals$}")
            }
        })
        .collect();
    (top, ticks, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-14T09:00:00Z.
    const T0: Millis = 1_715_677_200_000;
    const MIN: Millis = 60_000;

    #[test]
    fn time_ticks_are_round_utc_minutes() {
        let (ticks, pattern) = time_ticks(T0 + 3 * MIN + 17, T0 + 93 * MIN);
        assert_eq!(pattern, "%H:%M");
        let labels: Vec<String> = ticks.iter().map(|&t| fmt_time(t, pattern)).collect();
        assert_eq!(
            labels,
            ["09:10", "09:20", "09:30", "09:40", "09:50", "10:00", "10:10", "10:20", "10:30"]
        );
    }
}
