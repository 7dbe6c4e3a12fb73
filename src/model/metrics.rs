//! Metric samples as users export them from Prometheus (API responses, `promtool tsdb dump`,
//! exposition text, Grafana CSV), once read: series of (time, value) samples with their
//! labels, and how finely each was sampled. Plain data shared by ingest (which fills it), the
//! PromQL evaluator and the alert rules (which read it). Nothing here does I/O.

use serde::Serialize;

use super::labels::Labels;
use super::Millis;

/// The bit pattern Prometheus writes for a staleness marker (a NaN that is not the ordinary
/// NaN): the series ended here.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker, as a value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is a staleness marker (not merely a NaN sample).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One sample of a series: a timestamp in milliseconds since the Unix epoch and its value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Sample {
    pub t_ms: Millis,
    pub v: f64,
}

/// How a series' samples were taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Resolution {
    /// The samples as scraped (a range-selector query `metric[3h]`, `promtool tsdb dump`,
    /// exposition text with timestamps).
    Raw,
    /// Values re-sampled on a grid by `query_range` (or a Grafana panel): each is the value of
    /// the query at a step, not a scrape; functions over them see the grid, not the scrapes.
    Resampled { step_ms: Millis },
}

/// One series: its labels and its samples, sorted by time, one per timestamp.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
    pub resolution: Resolution,
}

impl MetricSeries {
    /// The metric name (`__name__`), empty if the series has none (a query result such as
    /// `sum(rate(x[5m]))`).
    pub fn name(&self) -> &str {
        self.labels.get("__name__").map_or("", String::as_str)
    }
}
