//! What if the rule were different: the incident replayed ([`super::replay`]) under the
//! rule's own setting and alternatives (other `for`, thresholds, windows, summed instead of
//! per series, `keep_firing_for`, and the user's `--what-if` rows): when each would have
//! fired, and how often it fires in the quiet part of the input. Also the rule findings these
//! numbers support (a window too short for the scrape interval, a `for` off the evaluation
//! grid, a `for` longer than the failure lasted, a per-series rule where only the sum crossed).

use super::replay::{Activation, Replay, Setting};
use crate::model::alert::RuleVariant;
use crate::model::labels::Labels;
use crate::model::Millis;

/// Where a row comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOrigin {
    /// The rule as it is.
    Real,
    /// One of the standard alternatives.
    Default,
    /// `--what-if`.
    Asked,
}

/// One setting and what it gives.
#[derive(Clone, Debug)]
pub struct WhatIfRow {
    pub origin: RowOrigin,
    pub setting: Setting,
    pub alerts: Vec<Activation>,
    /// The first time any of its alerts fired.
    pub first_firing: Option<Millis>,
    /// Alerts that fired in the quiet part of the input (away from the incident).
    pub quiet_alarms: usize,
}

/// A finding about the rule, with this incident's numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleFinding {
    /// The rate window holds fewer than four scrapes: one missed scrape leaves `rate()` with
    /// too few samples to compute.
    ShortWindow {
        window_ms: Millis,
        scrape_ms: Millis,
    },
    /// `for` is not a multiple of the evaluation interval: it acts as the next multiple.
    ForOffGrid {
        for_ms: Millis,
        interval_ms: Millis,
        effective_ms: Millis,
    },
    /// The condition held, but never for as long as `for`: the alert could never fire.
    ForTooLong {
        for_ms: Millis,
        held_ms: Millis,
        labels: Labels,
        from: Millis,
        to: Millis,
    },
    /// A per-series rule where no series crossed but their sum did.
    OnlySumCrossed {
        threshold: f64,
        peak: f64,
        peak_at: Millis,
        firing_at: Millis,
        series_peak: Option<f64>,
    },
}

/// The table, the incident's span it was judged against, and the findings.
#[derive(Clone, Debug)]
pub struct WhatIf {
    pub basis: super::replay::Basis,
    /// The rule's shape (its selector and comparison), for writing each row's expression.
    pub rate: crate::promql::RateRule,
    /// Each series' labels (without `__name__`), as `Activation::series` numbers them.
    pub series_labels: Vec<Labels>,
    /// The rule's own setting first, then the alternatives.
    pub rows: Vec<WhatIfRow>,
    /// The incident: the real rule's activations (its sum's when it never went pending),
    /// widened by its window on both sides.
    pub incident: Vec<(Millis, Millis)>,
    /// The evaluated span and how much of it is quiet (outside the incident).
    pub span: Option<(Millis, Millis)>,
    pub quiet_ms: Millis,
    pub findings: Vec<RuleFinding>,
}

/// The standard alternatives, each changing one setting of the real rule `r`.
fn defaults(r: &Setting) -> Vec<RuleVariant> {
    let mut v: Vec<RuleVariant> = [0, 60_000, 120_000, 600_000]
        .into_iter()
        .map(|f| RuleVariant {
            for_ms: Some(f),
            ..RuleVariant::default()
        })
        .collect();
    v.extend([0.05, 0.2].map(|t| RuleVariant {
        threshold: Some(t),
        ..RuleVariant::default()
    }));
    v.extend([120_000, 600_000].map(|w| RuleVariant {
        window_ms: Some(w),
        ..RuleVariant::default()
    }));
    v.push(RuleVariant {
        summed: Some(!r.summed),
        ..RuleVariant::default()
    });
    v.push(RuleVariant {
        keep_firing_for_ms: Some(if r.keep_firing_for_ms == 0 {
            300_000
        } else {
            0
        }),
        ..RuleVariant::default()
    });
    v
}

/// The what-if table for `r`, with the user's rows `asked` after the standard ones.
pub fn what_if(r: &Replay, asked: &[RuleVariant]) -> WhatIf {
    let real = r.real();
    let mut rows: Vec<(RowOrigin, Setting)> = vec![(RowOrigin::Real, real)];
    let candidates = defaults(&real)
        .into_iter()
        .map(|v| (RowOrigin::Default, v))
        .chain(asked.iter().cloned().map(|v| (RowOrigin::Asked, v)));
    for (origin, v) in candidates {
        let s = r.with(&v);
        match rows.iter_mut().find(|(_, x)| *x == s) {
            // Asked for a row the table has: it is marked as asked.
            Some((o, _)) if origin == RowOrigin::Asked && *o == RowOrigin::Default => {
                *o = RowOrigin::Asked;
            }
            Some(_) => {}
            None => rows.push((origin, s)),
        }
    }
    let settings: Vec<Setting> = rows.iter().map(|(_, s)| *s).collect();
    let alerts = r.evaluate(&settings);
    // The incident: the rule's activations; when it never went pending, its sum's.
    let summed_row = rows.iter().position(|(_, s)| {
        *s == Setting {
            summed: true,
            ..real
        }
    });
    let mut incident = incident_span(&alerts[0], real.window_ms, r.interval_ms);
    if let (true, Some(i)) = (incident.is_empty(), summed_row) {
        incident = incident_span(&alerts[i], real.window_ms, r.interval_ms);
    }
    let span = r.grid.first().zip(r.grid.last()).map(|(&a, &b)| (a, b));
    let quiet_ms = span.map_or(0, |(a, b)| (b - a) - covered(&incident, a, b));
    let rows: Vec<WhatIfRow> = rows
        .into_iter()
        .zip(alerts)
        .map(|((origin, setting), alerts)| {
            let first_firing = alerts.iter().filter_map(|a| a.firing_at).min();
            let quiet_alarms = alerts
                .iter()
                .filter_map(|a| a.firing_at)
                .filter(|t| !incident.iter().any(|(a, b)| (a..=b).contains(&t)))
                .count();
            WhatIfRow {
                origin,
                setting,
                alerts,
                first_firing,
                quiet_alarms,
            }
        })
        .collect();
    let findings = findings(r, &rows);
    WhatIf {
        basis: r.basis,
        rate: r.rate.clone(),
        series_labels: r
            .series
            .iter()
            .map(|(l, _)| {
                let mut l = l.clone().into_owned();
                l.remove("__name__");
                l
            })
            .collect(),
        rows,
        incident,
        span,
        quiet_ms,
        findings,
    }
}

/// The real rule's activations, widened by its window on both sides, merged.
fn incident_span(alerts: &[Activation], window: Millis, interval: Millis) -> Vec<(Millis, Millis)> {
    let mut spans: Vec<(Millis, Millis)> = alerts
        .iter()
        .map(|a| {
            let end = a.resolved_at.unwrap_or(a.last_active + interval);
            (a.pending_at - window, end + window)
        })
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(Millis, Millis)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// How much of `[lo, hi]` the spans cover.
fn covered(spans: &[(Millis, Millis)], lo: Millis, hi: Millis) -> Millis {
    spans
        .iter()
        .map(|&(a, b)| (b.min(hi) - a.max(lo)).max(0))
        .sum()
}

fn findings(r: &Replay, rows: &[WhatIfRow]) -> Vec<RuleFinding> {
    let real = &rows[0];
    let s = real.setting;
    let mut out = Vec::new();
    if s.window_ms < 4 * r.scrape_ms {
        out.push(RuleFinding::ShortWindow {
            window_ms: s.window_ms,
            scrape_ms: r.scrape_ms,
        });
    }
    if r.interval_ms > 0 && s.for_ms % r.interval_ms != 0 {
        out.push(RuleFinding::ForOffGrid {
            for_ms: s.for_ms,
            interval_ms: r.interval_ms,
            effective_ms: s.for_ms.div_euclid(r.interval_ms) * r.interval_ms + r.interval_ms,
        });
    }
    if real.first_firing.is_none() {
        // The longest the condition held (for the `for` clock) without firing.
        if let Some(a) = real.alerts.iter().max_by_key(|a| {
            (
                a.last_active - a.pending_at,
                std::cmp::Reverse(a.pending_at),
            )
        }) {
            out.push(RuleFinding::ForTooLong {
                for_ms: s.for_ms,
                held_ms: a.last_active - a.pending_at,
                labels: r.labels_of(a),
                from: a.pending_at,
                to: a.last_active,
            });
        }
        let summed = rows
            .iter()
            .find(|w| w.setting == Setting { summed: true, ..s });
        if let (false, Some(sum)) = (s.summed, summed) {
            if let Some(first) = sum.alerts.iter().find(|a| a.firing_at.is_some()) {
                let peak = sum
                    .alerts
                    .iter()
                    .max_by(|a, b| a.peak.total_cmp(&b.peak))
                    .unwrap_or(first);
                out.push(RuleFinding::OnlySumCrossed {
                    threshold: s.threshold,
                    peak: peak.peak,
                    peak_at: peak.peak_at,
                    firing_at: first.firing_at.unwrap_or(first.pending_at),
                    series_peak: real.alerts.iter().map(|a| a.peak).max_by(f64::total_cmp),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::detect::replay::Basis;
    use crate::model::metrics::Sample;
    use crate::promql::{PromCompat, RateRule};

    /// Counters scraped every 15 s for an hour, each growing by `per_scrape(k)` at scrape k.
    fn replay(
        series: &[(&str, &dyn Fn(i64) -> f64)],
        for_ms: Millis,
        window_ms: Millis,
    ) -> Replay<'static> {
        let series = series
            .iter()
            .map(|(pod, per_scrape)| {
                let mut v = 0.0;
                let samples: Vec<Sample> = (0..240)
                    .map(|k| {
                        v += per_scrape(k);
                        Sample {
                            t_ms: k * 15_000,
                            v,
                        }
                    })
                    .collect();
                let labels: Labels = [("__name__", "errors_total"), ("pod", *pod)]
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                (Cow::Owned(labels), Cow::Owned(samples))
            })
            .collect();
        Replay {
            basis: Basis::Metrics,
            alertname: "HighGenerationErrorRate".into(),
            group: 0,
            rate: RateRule {
                selector: "errors_total".into(),
                window_ms,
                summed: false,
                op: ">".into(),
                threshold: 0.1,
            },
            for_ms,
            keep_firing_for_ms: 0,
            labels: Default::default(),
            annotations: Default::default(),
            interval_ms: 15_000,
            offset_ms: 0,
            grid: (0..240).map(|k| k * 15_000).collect(),
            series,
            compat: PromCompat::V2,
            scrape_ms: 15_000,
            rules: Default::default(),
        }
    }

    #[test]
    fn a_for_longer_than_the_failure_and_a_sum_only_crossing_are_found() {
        // Two pods at 0.08/s each for 8 minutes (scrapes 80..112): neither crosses 0.1/s, the
        // sum (0.16/s) does; then one pod at 0.4/s for 2 minutes: pending, never 5 minutes.
        let a = |k: i64| {
            if (80..112).contains(&k) {
                1.2
            } else if (160..168).contains(&k) {
                6.0
            } else {
                0.0
            }
        };
        let b = |k: i64| if (80..112).contains(&k) { 1.2 } else { 0.0 };
        let r = replay(&[("a-1", &a), ("b-1", &b)], 300_000, 60_000);
        let w = what_if(&r, &[]);
        assert!(w.rows[0].first_firing.is_none());
        let summed = w.rows.iter().find(|x| x.setting.summed).unwrap();
        assert!(summed.first_firing.is_some());
        let too_long = w.findings.iter().find_map(|f| match f {
            RuleFinding::ForTooLong {
                held_ms, labels, ..
            } => Some((*held_ms, labels.get("pod").cloned())),
            _ => None,
        });
        let (held, pod) = too_long.expect("for too long");
        assert!((120_000..300_000).contains(&held), "{held}");
        assert_eq!(pod.as_deref(), Some("a-1"));
        assert!(w
            .findings
            .iter()
            .any(|f| matches!(f, RuleFinding::OnlySumCrossed { .. })));
        // Shorter `for` fires.
        assert!(w
            .rows
            .iter()
            .find(|x| x.setting.for_ms == 0)
            .unwrap()
            .first_firing
            .is_some());
    }

    #[test]
    fn a_short_window_and_a_for_off_the_grid_are_found() {
        let a = |k: i64| if (80..140).contains(&k) { 6.0 } else { 0.0 };
        let r = replay(&[("a-1", &a)], 290_000, 45_000);
        let w = what_if(&r, &[]);
        assert!(w.findings.contains(&RuleFinding::ShortWindow {
            window_ms: 45_000,
            scrape_ms: 15_000
        }));
        assert!(w.findings.contains(&RuleFinding::ForOffGrid {
            for_ms: 290_000,
            interval_ms: 15_000,
            effective_ms: 300_000
        }));
        // It fired: no "could never fire".
        assert!(w.rows[0].first_firing.is_some());
        assert!(!w
            .findings
            .iter()
            .any(|f| matches!(f, RuleFinding::ForTooLong { .. })));
    }

    #[test]
    fn asked_rows_come_after_the_standard_ones_and_are_not_repeated() {
        let a = |k: i64| if (80..140).contains(&k) { 6.0 } else { 0.0 };
        let r = replay(&[("a-1", &a)], 300_000, 300_000);
        let asked = [
            RuleVariant::parse("for=2m").unwrap(),
            RuleVariant::parse("threshold=0.3,window=1m").unwrap(),
        ];
        let w = what_if(&r, &asked);
        assert_eq!(w.rows.len(), 12);
        assert_eq!(
            w.rows
                .iter()
                .filter(|x| x.origin == RowOrigin::Asked)
                .count(),
            2
        );
        assert_eq!(w.rows.last().unwrap().setting.threshold, 0.3);
        // The quiet part: alarms there are counted apart from the incident.
        assert!(w.quiet_ms > 0);
        assert!(w.rows.iter().all(|x| x.quiet_alarms == 0));
    }
}
