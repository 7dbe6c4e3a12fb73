//! Gathering one file's samples into series: grouped by label set, sorted by time, one
//! sample per timestamp. Identical repeats are dropped and counted, a second value at a time
//! already taken is dropped (the first in file order is kept) and reported, out-of-order
//! samples are sorted and said so, and series holding NaN are pointed out (a counter that
//! goes NaN must be visible; in a TSDB dump a NaN is read as the staleness marker it almost
//! always is). Every dropped sample's bytes go back to the line accounting.

use std::collections::BTreeMap;

use super::lines::{Ctx, Span};
use super::SkipWhy;
use crate::model::labels;
use crate::model::labels::Labels;
use crate::model::metrics::{stale_nan, MetricSeries, Resolution, Sample};
use crate::model::time::format_short;
use crate::model::Millis;

struct Pending {
    t: Millis,
    v: f64,
    span: Span,
}

#[derive(Default)]
struct Acc {
    samples: Vec<Pending>,
    out_of_order: u64,
    first_out_of_order: Option<usize>,
}

/// Samples of one file, by series.
#[derive(Default)]
pub(crate) struct Collector {
    series: BTreeMap<Labels, Acc>,
    /// Read NaN as a staleness marker: `promtool tsdb dump` prints the marker Prometheus writes
    /// when a series disappears (a pod went away, a scrape failed) as `NaN`, the same as a real
    /// NaN value, and the marker is by far the more common of the two.
    pub nan_is_stale: bool,
}

/// Same value for dedup purposes: bit-equal, or both NaN.
fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || a == b
}

impl Collector {
    pub fn push(&mut self, labels: &Labels, t: Millis, v: f64, span: Span) {
        let acc = match self.series.get_mut(labels) {
            Some(a) => a,
            None => self.series.entry(labels.clone()).or_default(),
        };
        if acc.samples.last().is_some_and(|p| t < p.t) {
            acc.out_of_order += 1;
            acc.first_out_of_order.get_or_insert(span.0);
        }
        acc.samples.push(Pending { t, v, span });
    }

    pub fn is_empty(&self) -> bool {
        self.series.values().all(|a| a.samples.is_empty())
    }

    /// Each series' distinct timestamps, in time order (for telling grids from scrapes).
    pub fn series_times(&self) -> impl Iterator<Item = (&Labels, Vec<Millis>)> + '_ {
        self.series.iter().map(|(l, a)| {
            let mut t: Vec<Millis> = a.samples.iter().map(|p| p.t).collect();
            t.sort_unstable();
            t.dedup();
            (l, t)
        })
    }

    /// [`Self::series_times`] without the labels.
    pub fn times(&self) -> impl Iterator<Item = Vec<Millis>> + '_ {
        self.series_times().map(|(_, t)| t)
    }

    /// Builds the series; `resolution` decides each one's resolution from its labels.
    /// Series left without samples are dropped.
    pub fn finish(
        self,
        ctx: &mut Ctx<'_>,
        mut resolution: impl FnMut(&Labels) -> Resolution,
    ) -> Vec<MetricSeries> {
        let mut out = Vec::with_capacity(self.series.len());
        let mut dup_total = 0u64;
        let mut dup_first: Option<usize> = None;
        for (labels, mut acc) in self.series {
            let name = labels::metric(&labels);
            if acc.out_of_order > 0 {
                let line = acc.first_out_of_order.map(|p| ctx.line_of(p));
                ctx.fixes.push(format!(
                    "series {name} had {} out-of-order sample(s) (first at line {}): sorted",
                    acc.out_of_order,
                    line.unwrap_or(0)
                ));
            }
            // Stable: samples at the same time stay in file order, so the first is kept.
            acc.samples.sort_by_key(|p| p.t);
            let mut samples: Vec<Sample> = Vec::with_capacity(acc.samples.len());
            let mut nan = 0u64;
            let mut nan_first: Option<(Millis, usize)> = None;
            for p in acc.samples {
                if let Some(last) = samples.last() {
                    if last.t_ms == p.t {
                        if same_value(last.v, p.v) {
                            dup_total += 1;
                            dup_first = Some(dup_first.map_or(p.span.0, |d| d.min(p.span.0)));
                            ctx.skip(p.span, SkipWhy::DuplicateSample);
                        } else {
                            ctx.skip(p.span, SkipWhy::ConflictingSample);
                            ctx.problem_at(
                                Some(p.span.0),
                                format!(
                                    "series {name} has two values at {}: {} kept, {} dropped",
                                    format_short(p.t),
                                    last.v,
                                    p.v
                                ),
                            );
                        }
                        continue;
                    }
                }
                let mut v = p.v;
                if v.is_nan() {
                    nan += 1;
                    nan_first.get_or_insert((p.t, p.span.0));
                    if self.nan_is_stale {
                        v = stale_nan();
                    }
                }
                samples.push(Sample { t_ms: p.t, v });
            }
            if let Some((t, pos)) = nan_first.filter(|_| self.nan_is_stale) {
                ctx.problem_at(
                    Some(pos),
                    format!(
                        "series {name} has {nan} NaN sample(s), the first at {}: read as \
                         staleness markers (the series disappeared: a pod went away or a scrape \
                         failed); a dump prints a counter that really went NaN the same way",
                        format_short(t),
                    ),
                );
            } else if let Some((t, pos)) = nan_first {
                let counter = labels
                    .get("__name__")
                    .is_some_and(|n| n.ends_with("_total") || n.ends_with("_count"));
                ctx.problem_at(
                    Some(pos),
                    format!(
                        "series {name} has {nan} NaN sample(s), the first at {}{}: kept as NaN",
                        format_short(t),
                        if counter {
                            " (a counter going NaN: the exporter or a division broke, or \
                             the series went stale)"
                        } else {
                            ""
                        }
                    ),
                );
            }
            if samples.is_empty() {
                continue;
            }
            let resolution = resolution(&labels);
            out.push(MetricSeries {
                labels,
                samples,
                resolution,
            });
        }
        if dup_total > 0 {
            let line = dup_first.map(|p| ctx.line_of(p)).unwrap_or(0);
            ctx.fixes.push(format!(
                "{dup_total} duplicate sample(s) dropped (same series, time and value; first at line {line})"
            ));
        }
        out
    }
}
