//! The incident as a `promtool test rules` regression test: the replayed series
//! ([`super::replay`]) resampled onto the rule's evaluation grid (test time 0 is an evaluation
//! of the real grid, so every test evaluation is a real one), written in promtool's expanding
//! notation, and the alert's state at the decisive evaluations (just before and at pending,
//! firing and resolution of each series that fired; the peak when none fired), as this
//! engine computes them on exactly those samples. Typed data; `report::render::promtool`
//! writes the files.

use std::collections::BTreeMap;

use super::replay::{Activation, Basis, Replay};
use crate::model::labels::Labels;
use crate::model::metrics::Sample;
use crate::model::rules::RuleSet;
use crate::model::{AlertInstance, Millis};
use crate::promql::template::expand_template;
use crate::promql::PromCompat;

/// Why an evaluation is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Moment {
    BeforePending,
    Pending,
    BeforeFiring,
    Firing,
    BeforeResolved,
    Resolved,
    /// The condition held but the alert was dropped before firing (pending only).
    Dropped,
    /// Nothing fired: the highest rate of the incident.
    Peak,
}

/// One firing alert the test expects.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// The alert's labels (the series' and the rule's), without `alertname`.
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
}

/// One evaluation the test checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Test time (0 = `RegressionTest::origin_ms`).
    pub t_ms: Millis,
    /// Why (which moments of which series' alerts).
    pub why: Vec<(Moment, Labels)>,
    /// The alerts firing then, sorted by labels.
    pub firing: Vec<Expected>,
    /// The alerts pending then (their labels), sorted.
    pub pending: Vec<Labels>,
}

/// The whole test.
#[derive(Clone, Debug)]
pub struct RegressionTest {
    pub alertname: String,
    pub basis: Basis,
    pub compat: PromCompat,
    /// The rules (`rules.yml`).
    pub rules: RuleSet,
    /// The real time of test time 0 (an evaluation of the real grid).
    pub origin_ms: Millis,
    pub interval_ms: Millis,
    /// Each series' labels (with `__name__`) and its values in promtool's notation.
    pub input: Vec<(Labels, String)>,
    pub checks: Vec<Check>,
    /// When the alert first fired in the replayed incident and in the test (real times).
    pub incident_firing: Option<Millis>,
    pub test_firing: Option<Millis>,
    /// The test's last evaluation (test time).
    pub end_ms: Millis,
}

/// The regression test for the replayed incident `r` (whose real alerts are `real`).
pub fn regression_test(r: &Replay, real: &[Activation]) -> Option<RegressionTest> {
    let i = r.interval_ms;
    let first_sample = r
        .series
        .iter()
        .filter_map(|(_, s)| s.first())
        .map(|s| s.t_ms)
        .min()?;
    let last_eval = *r.grid.last()?;
    let origin = first_sample - (first_sample - r.offset_ms).rem_euclid(i);
    // Far enough to see every real activation end, else to the last evaluation.
    let end_real = real
        .iter()
        .map(|a| a.resolved_at.unwrap_or(a.last_active + i) + i)
        .max()
        .map_or(last_eval, |e| e.min(last_eval));
    let steps = ((end_real - origin).max(0) / i) as usize;
    let t = Replay {
        grid: (0..=steps as Millis).map(|k| k * i).collect(),
        series: r
            .series
            .iter()
            .map(|(labels, s)| {
                (
                    std::borrow::Cow::Borrowed(labels.as_ref()),
                    std::borrow::Cow::<[Sample]>::Owned(resample(s, origin, i, steps)),
                )
            })
            .filter(|(_, s)| !s.is_empty())
            .collect(),
        basis: r.basis,
        alertname: r.alertname.clone(),
        group: r.group,
        rate: r.rate.clone(),
        for_ms: r.for_ms,
        keep_firing_for_ms: r.keep_firing_for_ms,
        labels: r.labels.clone(),
        annotations: r.annotations.clone(),
        interval_ms: r.interval_ms,
        offset_ms: 0,
        compat: r.compat,
        scrape_ms: r.scrape_ms,
        rules: RuleSet::default(),
    };
    let setting = r.real();
    let acts = t.evaluate(&[setting]).pop().unwrap_or_default();
    let alerts: Vec<AlertInstance> = acts.iter().map(|a| t.instance(a)).collect();
    // Each alert's series (None: the sum), as the evaluation numbered them.
    let series_of: Vec<Option<u32>> = acts.iter().map(|a| a.series).collect();
    let rate_at = |s: usize, k: usize| {
        crate::promql::rate(&t.series[s].1, t.grid[k], setting.window_ms, t.compat)
    };
    let times = decisive(&alerts, &t, setting.window_ms);
    let checks = times
        .into_iter()
        .map(|(t_ms, why)| check(&t, (&alerts, &series_of), &rate_at, t_ms, why))
        .collect();
    let input = t
        .series
        .iter()
        .map(|(labels, s)| {
            let mut values = vec![None; steps + 1];
            for p in s.iter() {
                values[(p.t_ms / i) as usize] = Some(p.v);
            }
            while values.last() == Some(&None) {
                values.pop();
            }
            (labels.clone().into_owned(), compress(&values))
        })
        .collect();
    let first =
        |a: Vec<Option<Millis>>, shift: Millis| a.into_iter().flatten().min().map(|f| f + shift);
    Some(RegressionTest {
        alertname: r.alertname.clone(),
        basis: r.basis,
        compat: r.compat,
        rules: r.rules.clone(),
        origin_ms: origin,
        interval_ms: i,
        input,
        checks,
        incident_firing: first(real.iter().map(|a| a.firing_at).collect(), 0),
        test_firing: first(alerts.iter().map(|a| a.firing_at).collect(), origin),
        end_ms: steps as Millis * i,
    })
}

/// The samples at the test's evaluations `origin + k * interval` (k = 0..=steps): at each,
/// the last sample of the interval before it, if there is one; in test time.
fn resample(samples: &[Sample], origin: Millis, interval: Millis, steps: usize) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut j = 0;
    for k in 0..=steps as Millis {
        let p = origin + k * interval;
        let mut last = None;
        while j < samples.len() && samples[j].t_ms <= p {
            if samples[j].t_ms > p - interval {
                last = Some(samples[j].v);
            }
            j += 1;
        }
        if let Some(v) = last {
            out.push(Sample {
                t_ms: k * interval,
                v,
            });
        }
    }
    out
}

/// The evaluations to check, with why.
fn decisive(
    alerts: &[AlertInstance],
    t: &Replay,
    window_ms: Millis,
) -> Vec<(Millis, Vec<(Moment, Labels)>)> {
    let i = t.interval_ms;
    let mut at: BTreeMap<Millis, Vec<(Moment, Labels)>> = BTreeMap::new();
    let mut add = |ms: Millis, m: Moment, l: &Labels| {
        if ms >= 0 && ms <= *t.grid.last().unwrap_or(&0) {
            at.entry(ms).or_default().push((m, l.clone()));
        }
    };
    let fired: Vec<&AlertInstance> = alerts.iter().filter(|a| a.firing_at.is_some()).collect();
    for a in &fired {
        add(a.pending_at - i, Moment::BeforePending, &a.labels);
        add(a.pending_at, Moment::Pending, &a.labels);
        if let Some(f) = a.firing_at {
            if f > a.pending_at {
                add(f - i, Moment::BeforeFiring, &a.labels);
            }
            add(f, Moment::Firing, &a.labels);
        }
        if let Some(r) = a.resolved_at {
            add(r - i, Moment::BeforeResolved, &a.labels);
            add(r, Moment::Resolved, &a.labels);
        }
    }
    if fired.is_empty() {
        // The longest pending activation, and the highest rate.
        if let Some(a) = alerts.iter().max_by_key(|a| a.last_active - a.pending_at) {
            add(a.pending_at, Moment::Pending, &a.labels);
            add(a.last_active + i, Moment::Dropped, &a.labels);
        }
        // Every series' rates, on all cores a batch at a time, folded in series and step
        // order (the first of equal peaks wins).
        let mut peak = None::<(f64, usize, usize)>;
        const BATCH: usize = 256;
        for (b, batch) in t.series.chunks(BATCH).enumerate() {
            let rates: Vec<Vec<Option<f64>>> = {
                use rayon::prelude::*;
                batch
                    .par_iter()
                    .map(|(_, samples)| {
                        crate::promql::rates_at(samples, &t.grid, window_ms, t.compat)
                    })
                    .collect()
            };
            for (j, r) in rates.iter().enumerate() {
                for (k, v) in r.iter().enumerate() {
                    let Some(v) = *v else { continue };
                    peak = match peak {
                        Some((bv, ..)) if bv >= v => peak,
                        _ => Some((v, k, b * BATCH + j)),
                    };
                }
            }
        }
        if let Some((_, k, s)) = peak {
            let mut labels = t.series[s].0.clone().into_owned();
            labels.remove("__name__");
            add(t.grid[k], Moment::Peak, &labels);
        }
    }
    at.into_iter()
        .map(|(ms, mut why)| {
            why.sort();
            why.dedup();
            (ms, why)
        })
        .collect()
}

/// What the alert is at test time `t_ms`.
fn check(
    t: &Replay,
    (alerts, series_of): (&[AlertInstance], &[Option<u32>]),
    rate_at: &(dyn Fn(usize, usize) -> Option<f64> + Sync),
    t_ms: Millis,
    why: Vec<(Moment, Labels)>,
) -> Check {
    let k = (t_ms / t.interval_ms) as usize;
    // The expression's value for an alert's label set at step k (the last one it had, for an
    // alert held by keep_firing_for).
    let value = |i: usize| -> f64 {
        let per_step = |k: usize| -> Option<f64> {
            match series_of[i] {
                // The sum, in label order (as the evaluation adds it).
                None => {
                    let vals: Vec<f64> =
                        (0..t.series.len()).filter_map(|s| rate_at(s, k)).collect();
                    (!vals.is_empty()).then(|| vals.iter().sum())
                }
                Some(s) => rate_at(s as usize, k),
            }
        };
        (0..=k).rev().find_map(per_step).unwrap_or(f64::NAN)
    };
    let with_rule_labels = |l: &Labels, v: f64| {
        let mut out = l.clone();
        for (name, text) in &t.labels {
            out.insert(name.clone(), expand_template(text, v, l));
        }
        out
    };
    let mut firing: Vec<Expected> = alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.firing_at.is_some_and(|f| f <= t_ms) && a.resolved_at.is_none_or(|r| t_ms < r)
        })
        .map(|(i, a)| {
            let v = value(i);
            Expected {
                labels: with_rule_labels(&a.labels, v),
                annotations: t
                    .annotations
                    .iter()
                    .map(|(n, text)| (n.clone(), expand_template(text, v, &a.labels)))
                    .collect(),
            }
        })
        .collect();
    firing.sort_by(|a, b| a.labels.cmp(&b.labels));
    let mut pending: Vec<Labels> = alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.pending_at <= t_ms
                && match a.firing_at {
                    Some(f) => t_ms < f,
                    None => t_ms <= a.last_active,
                }
        })
        .map(|(i, a)| with_rule_labels(&a.labels, value(i)))
        .collect();
    pending.sort();
    Check {
        t_ms,
        why,
        firing,
        pending,
    }
}

/// Values in promtool's expanding notation: `_` for a missing sample (`_xN` for N of them),
/// `a+bxN` for a and N more values each b apart (added as promtool adds them, so the values
/// come back bit for bit), single values as they are.
pub fn compress(values: &[Option<f64>]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let Some(a) = values[i] else {
            let n = values[i..].iter().take_while(|v| v.is_none()).count();
            out.push(if n == 1 { "_".into() } else { format!("_x{n}") });
            i += n;
            continue;
        };
        let mut n = 0;
        if let Some(Some(b)) = values.get(i + 1) {
            let step = b - a;
            if step.is_finite() {
                let mut cur = a;
                while let Some(Some(v)) = values.get(i + n + 1) {
                    let next = cur + step;
                    if next.to_bits() != v.to_bits() {
                        break;
                    }
                    cur = next;
                    n += 1;
                }
            }
            if n >= 2 {
                let sign = if step < 0.0 || (step == 0.0 && step.is_sign_negative()) {
                    format!("-{}", number(-step))
                } else {
                    format!("+{}", number(step))
                };
                out.push(format!("{}{sign}x{n}", number(a)));
                i += n + 1;
                continue;
            }
        }
        out.push(number(a));
        i += 1;
    }
    out.join(" ")
}

/// A number as promtool reads it back exactly.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compress_and_come_back_bit_for_bit() {
        let cases: Vec<Vec<Option<f64>>> = vec![
            (0..21)
                .map(|v| Some(v as f64))
                .chain([None; 4])
                .chain([Some(21.0); 11])
                .collect(),
            vec![
                Some(3.0),
                Some(4.0),
                Some(8.0),
                None,
                Some(8.0),
                Some(1.0),
                Some(0.5),
            ],
            (0..30).map(|k| Some(0.1 * k as f64)).collect(),
            vec![Some(5.0), Some(4.0), Some(3.0), Some(2.0), None, None],
            vec![Some(1e21), Some(-0.0), Some(f64::INFINITY), Some(1.5e-7)],
        ];
        for values in cases {
            let text = compress(&values);
            let back = crate::promql::testscript::expand_values(&text).unwrap();
            let want: Vec<Option<u64>> = values.iter().map(|v| v.map(f64::to_bits)).collect();
            let got: Vec<Option<u64>> = back.iter().map(|v| v.map(f64::to_bits)).collect();
            // Trailing blanks are written too.
            assert_eq!(got, want, "{text}");
        }
        assert_eq!(
            compress(
                &(0..21)
                    .map(|v| Some(v as f64))
                    .chain([None; 4])
                    .chain([Some(21.0); 11])
                    .collect::<Vec<_>>()
            ),
            "0+1x20 _x4 21+0x10"
        );
    }
}
