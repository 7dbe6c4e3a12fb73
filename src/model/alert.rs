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
