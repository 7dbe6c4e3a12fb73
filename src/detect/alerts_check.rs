//! Comparing the reconstruction of a rule with what Prometheus itself recorded in the dump:
//! `ALERTS` (each alert's state at every evaluation) and `ALERTS_FOR_STATE` (when each became
//! active). Every disagreement is kept, grouped into runs of consecutive evaluations, with
//! what the disagreements point to (evaluations Prometheus skipped, a rule deployed with
//! another `for`).

use std::collections::BTreeMap;

use super::plan::alerts_phase;
use super::rules::RuleOutcome;
use crate::model::labels::Labels;
use crate::model::metrics::{MetricSeries, Resolution};
use crate::model::{AlertInstance, AlertState, Millis};
use crate::promql::Storage;

/// Comparing the reconstruction with Prometheus' own `ALERTS` series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsCheck {
    /// Evaluation steps compared.
    pub steps: u64,
    pub disagreements: Vec<Disagreement>,
    /// What the disagreements point to.
    pub explanations: Vec<Explanation>,
}

/// A run of consecutive evaluations (at most one interval apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub evaluations: usize,
    pub from: Millis,
    pub to: Millis,
}

/// One way the reconstruction and the dump differ.
#[derive(Clone, Debug, PartialEq)]
pub enum Disagreement {
    /// The dump's ALERTS samples fall at `alerts_phase` in each `interval` (Prometheus'
    /// evaluation phase); the reconstruction used `used` (set by `--eval-offset`).
    Phase {
        alerts_phase: Millis,
        interval: Millis,
        used: Millis,
    },
    /// ALERTS says one state (`None`: no sample, inactive), the reconstruction another.
    State {
        labels: Labels,
        theirs: Option<AlertState>,
        ours: Option<AlertState>,
        run: Run,
    },
    /// ALERTS_FOR_STATE says the alert has been active since `theirs`; the reconstruction
    /// since `ours` (`None`: it has the alert inactive).
    ActiveSince {
        labels: Labels,
        theirs: Millis,
        ours: Option<Millis>,
        run: Run,
    },
}

/// What a set of disagreements with raw ALERTS points to.
#[derive(Clone, Debug, PartialEq)]
pub enum Explanation {
    /// No ALERTS sample for any alert of the rule while the reconstruction has one active:
    /// Prometheus was not evaluating the rule then (down, restarting), or the export left
    /// those samples out.
    NotEvaluating(Run),
    /// Every activation ALERTS shows went from pending to firing `delay` after becoming
    /// active, where the rule given says `for: rule_for`: Prometheus ran another rule then.
    ForDiffers { delay: Millis, rule_for: Millis },
    /// None of the dumps holds a series the expression reads: ALERTS is all there is.
    NothingToEvaluate,
}

/// The reconstruction's state of the alert with `labels` at evaluation `t`.
fn state_at(out: &RuleOutcome, labels: &Labels, t: Millis) -> Option<AlertState> {
    activation_at(out, labels, t).and_then(|a| a.state_at(t))
}

/// The reconstruction's activation of `labels` that covers evaluation `t`.
fn activation_at<'a>(
    out: &'a RuleOutcome,
    labels: &Labels,
    t: Millis,
) -> Option<&'a AlertInstance> {
    out.alerts
        .iter()
        .map(|a| &a.instance)
        .find(|a| &a.labels == labels && a.state_at(t).is_some())
}

/// Compares the reconstruction with the dump's `ALERTS{alertname=...}` series (what Prometheus
/// itself recorded at each evaluation): every ALERTS sample must match the reconstruction's
/// state at the evaluation it falls on, and (for raw ALERTS samples) every evaluation where
/// the reconstruction has the alert pending or firing must have an ALERTS sample. `None` when
/// the dump has no ALERTS series for the rule.
pub fn check_against_alerts(storage: &Storage, out: &RuleOutcome) -> Option<AlertsCheck> {
    let alerts: Vec<&MetricSeries> = storage
        .series()
        .iter()
        .filter(|s| {
            s.name() == "ALERTS"
                && s.labels.get("alertname").map(String::as_str) == Some(out.alertname.as_str())
        })
        .collect();
    if alerts.is_empty() || out.grid.is_empty() {
        return None;
    }
    let step_of = |t: Millis| -> Option<Millis> {
        let i = out.grid.partition_point(|&g| g <= t);
        (i > 0).then(|| out.grid[i - 1])
    };
    // (labels, step) -> what ALERTS said.
    let mut said: BTreeMap<(Labels, Millis), Option<AlertState>> = BTreeMap::new();
    let (mut lo, mut hi) = (Millis::MAX, Millis::MIN);
    let mut all_raw = true;
    for s in &alerts {
        let mut labels = s.labels.clone();
        labels.remove("__name__");
        labels.remove("alertname");
        let state = match labels.remove("alertstate").as_deref() {
            Some("firing") => Some(AlertState::Firing),
            Some("pending") => Some(AlertState::Pending),
            _ => continue,
        };
        all_raw &= s.resolution == Resolution::Raw;
        for smp in s.samples.iter().filter(|x| x.v == 1.0) {
            lo = lo.min(smp.t_ms);
            hi = hi.max(smp.t_ms);
            if let Some(step) = step_of(smp.t_ms) {
                said.insert((labels.clone(), step), state);
            }
        }
    }
    let mut check = AlertsCheck::default();
    let mut diffs: Vec<(Labels, Millis, Option<AlertState>, Option<AlertState>)> = Vec::new();
    for ((labels, step), theirs) in &said {
        check.steps += 1;
        let ours = state_at(out, labels, *step);
        if ours != *theirs {
            diffs.push((labels.clone(), *step, *theirs, ours));
        }
    }
    if all_raw {
        let mut ours_active: Vec<Labels> = out
            .alerts
            .iter()
            .map(|a| a.instance.labels.clone())
            .collect();
        ours_active.sort();
        ours_active.dedup();
        for labels in ours_active {
            for &g in out.grid.iter().filter(|&&g| g >= lo && g <= hi) {
                let ours = state_at(out, &labels, g);
                if ours.is_some() && !said.contains_key(&(labels.clone(), g)) {
                    check.steps += 1;
                    diffs.push((labels.clone(), g, None, ours));
                }
            }
        }
    }
    if all_raw {
        check.explanations = explain(out, &said, lo, hi);
    }
    if out.resolutions.is_empty() && !said.is_empty() {
        check.explanations.push(Explanation::NothingToEvaluate);
    }
    // A phase set by --eval-offset that is not the one Prometheus evaluated at shifts every
    // comparison by a step: say so first.
    if let Some(phase) = alerts_phase(storage.series(), &[out.alertname.as_str()], out.interval_ms)
    {
        let used = out.offset_ms.rem_euclid(out.interval_ms);
        if phase != used {
            check.disagreements.push(Disagreement::Phase {
                alerts_phase: phase,
                interval: out.interval_ms,
                used,
            });
        }
    }
    // One line per run of consecutive evaluations with the same disagreement.
    for (i, j) in runs(&mut diffs, out.interval_ms) {
        let (labels, from, theirs, ours) = &diffs[i];
        check.disagreements.push(Disagreement::State {
            labels: labels.clone(),
            theirs: *theirs,
            ours: *ours,
            run: Run {
                evaluations: j - i + 1,
                from: *from,
                to: diffs[j].1,
            },
        });
    }
    check_for_state(storage, out, &step_of, &mut check);
    Some(check)
}

/// What a set of disagreements with raw ALERTS points to: runs of evaluations where ALERTS has
/// no sample for any alert of the rule although the reconstruction has one active (Prometheus
/// was not evaluating), and a `for` that differs from the rule's in every activation ALERTS
/// shows (the rule deployed then was not the one given).
fn explain(
    out: &RuleOutcome,
    said: &BTreeMap<(Labels, Millis), Option<AlertState>>,
    lo: Millis,
    hi: Millis,
) -> Vec<Explanation> {
    let mut lines = Vec::new();
    let steps_said: std::collections::BTreeSet<Millis> = said.keys().map(|(_, t)| *t).collect();
    let mut labelsets: Vec<&Labels> = out.alerts.iter().map(|a| &a.instance.labels).collect();
    labelsets.sort();
    labelsets.dedup();
    let silent: Vec<Millis> = out
        .grid
        .iter()
        .copied()
        .filter(|&g| g >= lo && g <= hi && !steps_said.contains(&g))
        .filter(|&g| labelsets.iter().any(|l| state_at(out, l, g).is_some()))
        .collect();
    let mut i = 0;
    while i < silent.len() {
        let mut j = i;
        while j + 1 < silent.len() && silent[j + 1] - silent[j] == out.interval_ms {
            j += 1;
        }
        lines.push(Explanation::NotEvaluating(Run {
            evaluations: j - i + 1,
            from: silent[i],
            to: silent[j],
        }));
        i = j + 1;
    }
    // Pending-to-firing delays ALERTS shows, per activation seen from its start.
    let mut delays: Vec<Millis> = Vec::new();
    for ((labels, t), state) in said {
        if *state != Some(AlertState::Firing)
            || said.get(&(labels.clone(), t - out.interval_ms)) == Some(&Some(AlertState::Firing))
        {
            continue;
        }
        let mut p = *t;
        while said.get(&(labels.clone(), p - out.interval_ms)) == Some(&Some(AlertState::Pending)) {
            p -= out.interval_ms;
        }
        // Only firing that follows pending (not a resumption after evaluations Prometheus
        // skipped). An activation the export cut at its start gives a shorter delay: then the
        // delays differ and nothing is concluded.
        if p < *t {
            delays.push(t - p);
        }
    }
    delays.sort_unstable();
    delays.dedup();
    let expected = if out.for_ms == 0 {
        0
    } else {
        (out.for_ms + out.interval_ms - 1) / out.interval_ms * out.interval_ms
    };
    if let [d] = delays[..] {
        if d != expected {
            lines.push(Explanation::ForDiffers {
                delay: d,
                rule_for: out.for_ms,
            });
        }
    }
    lines
}

/// Sorts `diffs` (labels, evaluation, what ALERTS said, what the reconstruction says) and
/// groups them into runs of consecutive evaluations (at most `interval` apart) with the same
/// labels and the same two answers: the index of each run's first and last.
fn runs<A: PartialEq, B: PartialEq>(
    diffs: &mut [(Labels, Millis, A, B)],
    interval: Millis,
) -> Vec<(usize, usize)> {
    diffs.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out = Vec::new();
    let mut i = 0;
    while i < diffs.len() {
        let mut j = i;
        while j + 1 < diffs.len()
            && diffs[j + 1].0 == diffs[i].0
            && diffs[j + 1].2 == diffs[i].2
            && diffs[j + 1].3 == diffs[i].3
            && diffs[j + 1].1 - diffs[j].1 <= interval
        {
            j += 1;
        }
        out.push((i, j));
        i = j + 1;
    }
    out
}

/// Compares `ALERTS_FOR_STATE` (the time each active alert became active, in whole seconds, as
/// Prometheus keeps it to restore `for` after a restart) with the reconstruction's.
fn check_for_state(
    storage: &Storage,
    out: &RuleOutcome,
    step_of: &dyn Fn(Millis) -> Option<Millis>,
    check: &mut AlertsCheck,
) {
    // (labels, step, what ALERTS_FOR_STATE said, what the reconstruction says), in order.
    let mut diffs: Vec<(Labels, Millis, f64, Option<Millis>)> = Vec::new();
    for s in storage.series().iter().filter(|s| {
        s.name() == "ALERTS_FOR_STATE"
            && s.labels.get("alertname").map(String::as_str) == Some(out.alertname.as_str())
    }) {
        let mut labels = s.labels.clone();
        labels.remove("__name__");
        labels.remove("alertname");
        for x in s.samples.iter().filter(|x| x.v.is_finite()) {
            let Some(step) = step_of(x.t_ms) else {
                continue;
            };
            let ours = activation_at(out, &labels, step).map(|a| a.pending_at);
            if ours.map(|a| a.div_euclid(1000) as f64) != Some(x.v) {
                diffs.push((labels.clone(), step, x.v, ours));
            }
        }
    }
    for (i, j) in runs(&mut diffs, out.interval_ms) {
        let (labels, from, theirs, ours) = &diffs[i];
        check.disagreements.push(Disagreement::ActiveSince {
            labels: labels.clone(),
            theirs: (*theirs * 1000.0) as Millis,
            ours: *ours,
            run: Run {
                evaluations: j - i + 1,
                from: *from,
                to: diffs[j].1,
            },
        });
    }
}
