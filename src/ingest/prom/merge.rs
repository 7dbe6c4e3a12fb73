//! Merging the series of several dumps (overlapping time ranges, different steps) into one
//! series per label set. Raw samples win: a re-sampled value is kept only outside the time
//! range of every raw dump of the series, a coarser grid only outside a finer one's range, and
//! of two grids of one step the later dump's only outside the earlier one's range (raw dumps
//! of a series are joined: a scrape missing from one may be in the other).
//! An identical (time, value) read from several dumps counts once; a different value at a
//! time already taken keeps the raw one, else the first dump's, and is counted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Dump;
use crate::model::labels;
use crate::model::labels::Labels;
use crate::model::metrics::{MetricSeries, Resolution, Sample};
use crate::model::time::{format_duration, format_short};
use crate::model::Millis;

/// What merging did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeNotes {
    /// Series read, over all dumps.
    pub series_in: usize,
    /// Series after merging.
    pub series_out: usize,
    /// Samples found in more than one dump with the same time and value (kept once).
    pub duplicates: u64,
    /// Samples with a time another dump already had, and another value (dropped).
    pub conflicts: u64,
    /// Re-sampled values dropped because a raw (or finer) dump covers their time.
    pub superseded: u64,
    /// Series made of raw and re-sampled parts: marked re-sampled at the coarsest step.
    pub mixed_series: u64,
    /// One line per series that several dumps contributed to (the first ones), then a count.
    pub notes: Vec<String>,
}

/// How many per-series notes are kept.
const MAX_NOTES: usize = 30;

/// Priority of a resolution: raw first, then finer grids.
fn tier(r: Resolution) -> (u8, Millis) {
    match r {
        Resolution::Raw => (0, 0),
        Resolution::Resampled { step_ms } => (1, step_ms),
    }
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || a == b
}

fn describe(r: Resolution) -> String {
    match r {
        Resolution::Raw => "raw".to_owned(),
        Resolution::Resampled { step_ms } => format!("every {}", format_duration(step_ms)),
    }
}

/// Merges several dumps' series: same label set -> one series; raw samples preferred over
/// re-sampled ones where they overlap in time; identical (t, v) counted once; conflicting
/// values at the same t: the raw one kept, else the first dump's, and counted.
pub fn merge(dumps: Vec<Dump>) -> (Vec<MetricSeries>, MergeNotes) {
    let mut notes = MergeNotes::default();
    let mut by_labels: BTreeMap<Labels, Vec<(usize, MetricSeries)>> = BTreeMap::new();
    for (i, d) in dumps.into_iter().enumerate() {
        for mut s in d.series {
            notes.series_in += 1;
            // Label values come from the exporters' input; a secret in one leaves with it.
            for v in s.labels.values_mut() {
                if let std::borrow::Cow::Owned(r) = crate::redact::text(v) {
                    *v = r;
                }
            }
            by_labels.entry(s.labels.clone()).or_default().push((i, s));
        }
    }
    let mut out = Vec::with_capacity(by_labels.len());
    let mut extra_notes = 0usize;
    for (labels, mut parts) in by_labels {
        if parts.len() == 1 {
            if let Some((_, s)) = parts.pop() {
                out.push(s);
            }
            continue;
        }
        parts.sort_by_key(|(i, s)| (tier(s.resolution), *i));
        let mut kept: BTreeMap<Millis, (f64, Resolution)> = BTreeMap::new();
        let mut covered: Vec<(Millis, Millis)> = Vec::new();
        let (mut dup, mut conf, mut sup) = (0u64, 0u64, 0u64);
        let mut first_conflict: Option<Millis> = None;
        let mut k = 0;
        while k < parts.len() {
            let t = tier(parts[k].1.resolution);
            let mut end = k;
            while end < parts.len() && tier(parts[end].1.resolution) == t {
                end += 1;
            }
            for (_, s) in &parts[k..end] {
                let mut range = None;
                for smp in &s.samples {
                    if let Some((v, _)) = kept.get(&smp.t_ms) {
                        if same_value(*v, smp.v) {
                            dup += 1;
                        } else {
                            conf += 1;
                            first_conflict.get_or_insert(smp.t_ms);
                        }
                        continue;
                    }
                    if covered
                        .iter()
                        .any(|&(lo, hi)| lo <= smp.t_ms && smp.t_ms <= hi)
                    {
                        sup += 1;
                        continue;
                    }
                    kept.insert(smp.t_ms, (smp.v, s.resolution));
                }
                if let (Some(a), Some(b)) = (s.samples.first(), s.samples.last()) {
                    range = Some((a.t_ms, b.t_ms));
                }
                // Re-sampled dumps of one step but another phase: the first one's grid wins
                // over its range. Raw dumps of the same series are joined instead.
                if let (Some(r), (1, _)) = (range, t) {
                    covered.push(r);
                }
            }
            if t.0 == 0 {
                for (_, s) in &parts[k..end] {
                    if let (Some(a), Some(b)) = (s.samples.first(), s.samples.last()) {
                        covered.push((a.t_ms, b.t_ms));
                    }
                }
            }
            k = end;
        }
        let mut used: Vec<Resolution> = kept.values().map(|&(_, r)| r).collect();
        used.sort_by_key(|&r| tier(r));
        used.dedup();
        let resolution = match used.as_slice() {
            [] => Resolution::Raw,
            [only] => *only,
            many => {
                notes.mixed_series += 1;
                many.iter()
                    .copied()
                    .max_by_key(|&r| tier(r))
                    .unwrap_or(Resolution::Raw)
            }
        };
        notes.duplicates += dup;
        notes.conflicts += conf;
        notes.superseded += sup;
        if notes.notes.len() < MAX_NOTES {
            let sources: Vec<String> = parts
                .iter()
                .map(|(i, s)| format!("#{} ({})", i + 1, describe(s.resolution)))
                .collect();
            let mut line = format!(
                "series {}: merged from dumps {}: {} sample(s) kept",
                labels::metric(&labels),
                sources.join(", "),
                kept.len()
            );
            if dup > 0 {
                line.push_str(&format!(", {dup} duplicate(s) counted once"));
            }
            if sup > 0 {
                line.push_str(&format!(
                    ", {sup} re-sampled value(s) dropped where raw (or finer) data covers them"
                ));
            }
            if conf > 0 {
                line.push_str(&format!(
                    ", {conf} conflicting value(s) dropped (first at {})",
                    first_conflict.map(format_short).unwrap_or_default()
                ));
            }
            if used.len() > 1 {
                line.push_str(&format!(
                    "; raw and re-sampled parts: marked re-sampled ({})",
                    describe(resolution)
                ));
            }
            notes.notes.push(line);
        } else {
            extra_notes += 1;
        }
        out.push(MetricSeries {
            labels,
            samples: kept
                .into_iter()
                .map(|(t_ms, (v, _))| Sample { t_ms, v })
                .collect(),
            resolution,
        });
    }
    if extra_notes > 0 {
        notes
            .notes
            .push(format!("... and {extra_notes} more merged series"));
    }
    notes.series_out = out.len();
    (out, notes)
}
