//! Alert episodes as the report states them: which alert, from which source, for which label
//! set, and when it went pending, fired and resolved.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Millis;

/// Where an alert reconstruction comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSource {
    /// Error records turned into counters.
    Logs,
    /// Exported Prometheus samples.
    Metrics,
}

/// One activation of one alert label set: pending at `pending_at`, firing at `firing_at` (if it
/// lasted `for`), resolved at `resolved_at` (if it ended within the data).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertInstance {
    pub alertname: String,
    pub source: AlertSource,
    /// Labels of the alert (without `alertname`). `{}` for the total over every series.
    pub labels: BTreeMap<String, String>,
    /// `true` for the sum over all series (what a `sum(rate(...))` rule would see).
    pub is_total: bool,
    pub pending_at: Millis,
    pub firing_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// Highest value of the expression while active, and when.
    pub peak_rate: f64,
    pub peak_at: Millis,
    /// The last evaluation at which the condition held (where a pending-only episode ends).
    pub last_active: Millis,
}

/// What Prometheus' `ALERTS` series says of an active alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Pending,
    Firing,
}

impl AlertState {
    /// The `alertstate` label's value.
    pub fn word(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

impl AlertInstance {
    /// This activation's state at evaluation `t`: `None` before it became active, and from the
    /// evaluation where it was dropped (never fired) or resolved.
    pub fn state_at(&self, t: Millis) -> Option<AlertState> {
        if t < self.pending_at {
            return None;
        }
        match self.firing_at {
            Some(f) if t < f => Some(AlertState::Pending),
            Some(_) => self
                .resolved_at
                .is_none_or(|r| t < r)
                .then_some(AlertState::Firing),
            None => (t <= self.last_active).then_some(AlertState::Pending),
        }
    }
}

/// How error rates are computed from logs (`report.json` spells it `prometheus` or `loki`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateMode {
    /// Error events become a counter sampled every scrape interval; Prometheus' rate().
    Prometheus,
    /// Records in the last window divided by its length, as Loki's LogQL rate().
    Loki,
}

impl RateMode {
    /// The mode's name, as flags and outputs spell it.
    pub fn name(self) -> &'static str {
        match self {
            RateMode::Prometheus => "prometheus",
            RateMode::Loki => "loki",
        }
    }
}

/// One row the what-if table adds (`--what-if 'for=2m,threshold=0.05'`): each field left out
/// keeps the real rule's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleVariant {
    pub for_ms: Option<Millis>,
    pub threshold: Option<f64>,
    pub window_ms: Option<Millis>,
    /// `aggregation=sum` (true) or `aggregation=series` (false).
    pub summed: Option<bool>,
    pub keep_firing_for_ms: Option<Millis>,
}

impl RuleVariant {
    /// `for=2m,threshold=0.05,window=10m,aggregation=sum|series,keep_firing_for=5m`, any
    /// subset, in any order.
    pub fn parse(text: &str) -> Result<RuleVariant, String> {
        let mut v = RuleVariant::default();
        let duration = |key: &str, val: &str| {
            super::time::parse_prom_duration(val)
                .ok_or_else(|| format!("{key}={val}: give a duration such as 30s, 2m or 1h"))
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, val) = part.split_once('=').ok_or_else(|| {
                format!("`{part}`: write KEY=VALUE (for, threshold, window, aggregation, keep_firing_for)")
            })?;
            let (key, val) = (key.trim(), val.trim());
            match key {
                "for" => v.for_ms = Some(duration(key, val)?),
                "keep_firing_for" => v.keep_firing_for_ms = Some(duration(key, val)?),
                "window" => match duration(key, val)? {
                    0 => return Err("window=0: a rate window must be longer than zero".into()),
                    ms => v.window_ms = Some(ms),
                },
                "threshold" => match val.parse::<f64>() {
                    Ok(t) if t.is_finite() => v.threshold = Some(t),
                    _ => return Err(format!("threshold={val}: give a number, e.g. 0.05")),
                },
                "aggregation" => {
                    v.summed = Some(match val {
                        "sum" | "summed" | "total" => true,
                        "series" | "per-series" | "none" => false,
                        _ => return Err(format!("aggregation={val}: use sum or series")),
                    })
                }
                _ => {
                    return Err(format!(
                        "unknown key `{key}`: use for, threshold, window, aggregation or keep_firing_for"
                    ))
                }
            }
        }
        if v == RuleVariant::default() {
            return Err(
                "give at least one of for=, threshold=, window=, aggregation=, keep_firing_for="
                    .into(),
            );
        }
        Ok(v)
    }
}

#[cfg(test)]
mod variant_tests {
    use super::RuleVariant;

    #[test]
    fn what_if_specs() {
        let v = RuleVariant::parse("for=2m, threshold=0.05,aggregation=sum").unwrap();
        assert_eq!(
            v,
            RuleVariant {
                for_ms: Some(120_000),
                threshold: Some(0.05),
                summed: Some(true),
                ..RuleVariant::default()
            }
        );
        for bad in [
            "",
            "for",
            "for=2",
            "threshold=x",
            "window=0s",
            "colour=red",
            "aggregation=avg",
        ] {
            assert!(RuleVariant::parse(bad).is_err(), "{bad}");
        }
    }
}
