//! Alert rules over exported metrics, as Prometheus' rule engine runs them: each group on its
//! evaluation grid (`--eval-interval`, else the group's `interval`, else 15s; `--eval-offset`
//! for the phase), recording rules first feeding later rules, each alerting rule's expression
//! evaluated at every step by the PromQL evaluator, and the pending/firing/resolved state
//! machine ([`engine::run_alert`]) run per alert label set (the result's labels without
//! `__name__`, plus the rule's labels). Also: what the expression's left-hand side was worth
//! against its threshold at every step (for the chart), and the comparison with `ALERTS` /
//! `ALERTS_FOR_STATE` when the dump holds them.

use std::collections::BTreeMap;

use crate::detect::engine::{self, eval_grid, ForSpec, PromCompat};
use crate::detect::rules::{expand_template, RuleKind, RuleSet};
use crate::model::metrics::{Labels, MetricSeries, Resolution};
use crate::model::time::format_duration;
use crate::model::{AlertInstance, AlertSource, AlertState, Millis};
use crate::promql::{self, Engine, Storage};

/// How the rules are evaluated.
#[derive(Clone, Copy, Debug)]
pub struct EvalSettings {
    pub compat: PromCompat,
    /// Overrides every group's interval.
    pub interval_override: Option<Millis>,
    /// `--eval-offset`; `None`: the phase of the dump's raw ALERTS samples for the group's
    /// alerts (the times Prometheus really evaluated at), else 0.
    pub offset_ms: Option<Millis>,
    /// The time range to evaluate over (the dumps' span, cut by --since/--until).
    pub start: Millis,
    pub end: Millis,
}

/// One alert instance with its expanded annotations.
#[derive(Clone, Debug)]
pub struct MetricAlert {
    pub instance: AlertInstance,
    pub annotations: BTreeMap<String, String>,
}

/// What one alerting rule gave.
#[derive(Clone, Debug)]
pub struct RuleOutcome {
    pub group: String,
    pub alertname: String,
    pub expr: String,
    pub for_ms: Millis,
    pub keep_firing_for_ms: Millis,
    pub interval_ms: Millis,
    /// The evaluation phase used, and where it came from.
    pub offset_ms: Millis,
    pub offset_from: OffsetFrom,
    pub labels: BTreeMap<String, String>,
    /// Every activation of every alert label set, in time order.
    pub alerts: Vec<MetricAlert>,
    /// The expression could not be parsed or evaluated (the other rules still ran).
    pub error: Option<String>,
    /// The evaluation grid.
    pub grid: Vec<Millis>,
    /// For `lhs > threshold` rules: the left-hand side's value per label set at every step
    /// (`None` where it had none), and the threshold, for the chart.
    pub curve: Option<Curve>,
    /// What the series the expression read were: raw scrapes or query_range steps.
    pub resolutions: Vec<Resolution>,
    /// Disagreements with the `ALERTS` series of the dump, if it has them for this rule.
    pub alerts_check: Option<AlertsCheck>,
}

/// Where a group's evaluation phase came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetFrom {
    /// `--eval-offset`.
    Flag,
    /// The timestamps of the dump's raw ALERTS / ALERTS_FOR_STATE samples: Prometheus writes
    /// them at its evaluation times, so their phase is the group's real one.
    Alerts,
    /// Neither: evaluations on multiples of the interval.
    Default,
}

/// The phase (in `0..interval`) of the raw `ALERTS` / `ALERTS_FOR_STATE` samples of the given
/// alerts: the most common remainder of their timestamps. `None` without such samples.
pub fn alerts_phase(
    series: &[MetricSeries],
    alertnames: &[&str],
    interval: Millis,
) -> Option<Millis> {
    let mut counts: BTreeMap<Millis, usize> = BTreeMap::new();
    for s in series {
        let is_alerts = matches!(s.name(), "ALERTS" | "ALERTS_FOR_STATE")
            && s.resolution == Resolution::Raw
            && s.labels
                .get("alertname")
                .is_some_and(|a| alertnames.contains(&a.as_str()));
        if is_alerts {
            for x in &s.samples {
                *counts.entry(x.t_ms.rem_euclid(interval)).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(phase, n)| (n, std::cmp::Reverse(phase)))
        .map(|(phase, _)| phase)
}

/// The left-hand side of a threshold comparison over the grid.
#[derive(Clone, Debug)]
pub struct Curve {
    pub op: String,
    pub threshold: f64,
    /// Label sets (at most a handful: the highest peaks) and their values at the grid steps.
    pub lines: Vec<(Labels, Vec<Option<f64>>)>,
}

/// Comparing the reconstruction with Prometheus' own `ALERTS` series.
#[derive(Clone, Debug, Default)]
pub struct AlertsCheck {
    /// Evaluation steps compared.
    pub steps: u64,
    /// Every (alert labels, time, what ALERTS said, what the reconstruction said) that differ.
    pub disagreements: Vec<String>,
    /// What the disagreements point to: evaluations Prometheus skipped, a different `for`.
    pub explanations: Vec<String>,
}

/// One pod's memory over the dumps' span against its limit.
#[derive(Clone, Debug)]
pub struct MemoryUse {
    pub pod: String,
    /// `container_memory_working_set_bytes` or `mcp_process_resident_memory_bytes`.
    pub metric: String,
    pub samples: Vec<crate::model::metrics::Sample>,
    pub peak_bytes: f64,
    pub peak_at: Millis,
    pub limit_bytes: Option<u64>,
    /// Where the limit came from (the pod export or kube_pod_container_resource_limits).
    pub limit_from: String,
}

/// The memory metrics looked at, preferred first.
const MEMORY_METRICS: [&str; 2] = [
    "container_memory_working_set_bytes",
    "mcp_process_resident_memory_bytes",
];

/// Everything the metrics stage found.
#[derive(Clone, Debug, Default)]
pub struct MetricsDetection {
    /// Series and samples read, and their time span.
    pub series: usize,
    pub samples: usize,
    pub span: Option<(Millis, Millis)>,
    /// What merging the dumps did, and which rules files were used.
    pub notes: Vec<String>,
    /// Where the rules came from.
    pub rules_from: String,
    pub rules: Vec<RuleOutcome>,
    /// Recording rules evaluated (name, series produced) or why not.
    pub recorded: Vec<String>,
    /// Each pod's memory against its limit, where the dumps have its memory.
    pub memory: Vec<MemoryUse>,
    /// Rules that cannot fire while the containers stay under their memory limits.
    pub findings: Vec<String>,
    pub problems: Vec<String>,
}

impl MetricsDetection {
    pub fn all_instances(&self) -> impl Iterator<Item = &AlertInstance> {
        self.rules
            .iter()
            .flat_map(|r| r.alerts.iter().map(|a| &a.instance))
    }
}

/// Runs every rule of `rules` over `series`.
/// `limits` are the pods' memory limits from the Kubernetes objects (pod, bytes), used with
/// `kube_pod_container_resource_limits` for the memory-against-limit findings.
pub fn evaluate(
    rules: &RuleSet,
    series: Vec<MetricSeries>,
    s: EvalSettings,
    limits: &[(String, u64)],
) -> MetricsDetection {
    let mut out = MetricsDetection {
        series: series.len(),
        samples: series.iter().map(|s| s.samples.len()).sum(),
        span: series
            .iter()
            .filter_map(|s| Some((s.samples.first()?.t_ms, s.samples.last()?.t_ms)))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))),
        problems: rules.problems.clone(),
        ..MetricsDetection::default()
    };
    let engine = Engine {
        compat: s.compat,
        lookback_ms: 300_000,
    };
    let mut storage = Storage::new(series);
    for group in &rules.groups {
        let interval = s.interval_override.or(group.interval_ms).unwrap_or(15_000);
        let alertnames: Vec<&str> = group
            .rules
            .iter()
            .filter_map(|r| match &r.kind {
                RuleKind::Alerting(a) => Some(a.alert.as_str()),
                RuleKind::Recording(_) => None,
            })
            .collect();
        let phase = alerts_phase(storage.series(), &alertnames, interval);
        let (offset, offset_from) = match (s.offset_ms, phase) {
            (Some(o), _) => (o, OffsetFrom::Flag),
            (None, Some(p)) => (p, OffsetFrom::Alerts),
            (None, None) => (0, OffsetFrom::Default),
        };
        let grid = if s.start <= s.end {
            eval_grid(s.start, s.end, interval, offset)
        } else {
            Vec::new()
        };
        for rule in &group.rules {
            let parsed = promql::parse(&rule.expr);
            match &rule.kind {
                RuleKind::Recording(name) => {
                    let (Ok(expr), Some(&first), Some(&last)) =
                        (&parsed, grid.first(), grid.last())
                    else {
                        if let Err(e) = &parsed {
                            out.recorded
                                .push(format!("{name} (group {}): not evaluated: {e}", group.name));
                        }
                        continue;
                    };
                    match engine.range(&storage, expr, first, last, interval) {
                        Ok(result) => {
                            let n = result.len();
                            let mut all: Vec<MetricSeries> = storage.series().to_vec();
                            for mut r in result {
                                r.labels.insert("__name__".into(), name.clone());
                                for (k, v) in &rule.labels {
                                    r.labels.insert(k.clone(), v.clone());
                                }
                                r.resolution = Resolution::Resampled { step_ms: interval };
                                all.push(r);
                            }
                            storage = Storage::new(all);
                            out.recorded.push(format!(
                                "{name} (group {}): {n} series recorded every {}",
                                group.name,
                                format_duration(interval)
                            ));
                        }
                        Err(e) => out
                            .recorded
                            .push(format!("{name} (group {}): not evaluated: {e}", group.name)),
                    }
                }
                RuleKind::Alerting(a) => {
                    let mut outcome = RuleOutcome {
                        group: group.name.clone(),
                        alertname: a.alert.clone(),
                        expr: rule.expr.clone(),
                        for_ms: a.for_ms,
                        keep_firing_for_ms: a.keep_firing_for_ms,
                        interval_ms: interval,
                        offset_ms: offset,
                        offset_from,
                        labels: rule.labels.clone(),
                        alerts: Vec::new(),
                        error: None,
                        grid: grid.clone(),
                        curve: None,
                        resolutions: Vec::new(),
                        alerts_check: None,
                    };
                    match parsed {
                        Err(e) => {
                            outcome.error = Some(format!(
                                "rule {} (group {}): {e}; the other rules were evaluated",
                                a.alert, group.name
                            ))
                        }
                        Ok(expr) => {
                            if let Err(e) =
                                run_rule(&engine, &storage, &expr, rule, a, &mut outcome)
                            {
                                outcome.error = Some(format!(
                                    "rule {} (group {}): {e}; the other rules were evaluated",
                                    a.alert, group.name
                                ));
                            }
                        }
                    }
                    out.rules.push(outcome);
                }
            }
        }
    }
    out.memory = memory_use(&storage, limits);
    out.findings = never_fire_findings(&engine, rules, &out.memory, s.end);
    out
}

/// Steps of the first block of a rule's evaluation (the blocks after it hold about
/// [`BLOCK_VALUES`] values, whatever the number of series).
const FIRST_BLOCK_STEPS: usize = 60;
/// Values (series x steps) one block of a rule's evaluation may hold.
const BLOCK_VALUES: usize = 1 << 22;
/// Values the chart's curves may keep, over all label sets, before steps are merged into
/// buckets (each keeping its maximum).
const CURVE_VALUES: usize = 1 << 21;

/// One label set of a threshold rule's left-hand side, for the chart: its peak, and its
/// maximum in each bucket of steps (NaN where it had no value).
struct CurveAcc {
    peak: f64,
    buckets: Vec<f32>,
}

/// Evaluates one alerting rule over the grid and runs the state machine per label set.
/// The grid is evaluated in blocks of steps, each block's values fed to the state machines
/// and to the chart's per-bucket maxima, then dropped: memory grows with the samples (and the
/// number of series), not with series x steps.
fn run_rule(
    engine: &Engine,
    storage: &Storage,
    expr: &promql::Expr,
    rule: &crate::detect::rules::Rule,
    a: &crate::detect::rules::AlertingRule,
    out: &mut RuleOutcome,
) -> Result<(), String> {
    let steps = out.grid.len();
    if steps == 0 {
        return Ok(());
    }
    let interval = out.interval_ms;
    // A threshold rule (`lhs > 0.1`) evaluates its left-hand side, which the chart draws, and
    // filters it by the comparison (what the comparison operator does, value kept).
    let split = expr.threshold_split();
    let evaluated = match &split {
        Some((lhs, _, _)) => lhs,
        None => expr,
    };
    out.resolutions = storage_resolutions(storage, expr);
    let spec = ForSpec {
        for_ms: a.for_ms,
        keep_firing_for_ms: a.keep_firing_for_ms,
    };
    // One slot per label set of the evaluated expression (without __name__): its alert's
    // state machine (the labels plus the rule's), and its curve for the chart.
    struct Slot {
        alert_labels: Labels,
        tracker: engine::AlertTracker,
        curve: CurveAcc,
        /// The last block it had values in.
        seen: usize,
    }
    let mut index: foldhash::HashMap<Labels, usize> = foldhash::HashMap::default();
    let mut slots: Vec<Slot> = Vec::new();
    let mut alert_labels_seen: foldhash::HashSet<Labels> = foldhash::HashSet::default();
    let mut bucket = 1usize;
    let mut block_len = FIRST_BLOCK_STEPS.min(steps);
    let mut start = 0usize;
    let mut block_no = 0usize;
    while start < steps {
        block_no += 1;
        let end = (start + block_len).min(steps);
        let block = &out.grid[start..end];
        let values = engine
            .range(
                storage,
                evaluated,
                block[0],
                block[block.len() - 1],
                interval,
            )
            .map_err(|e| e.to_string())?;
        if start == 0 {
            let n = values.len().max(1);
            bucket = (n * steps).div_ceil(CURVE_VALUES).max(1);
            block_len = (BLOCK_VALUES / n).clamp(1, steps);
        }
        for series in values {
            let mut labels = series.labels;
            labels.remove("__name__");
            let i = match index.get(&labels) {
                Some(&i) => i,
                None => {
                    let mut alert_labels = labels.clone();
                    for (k, v) in &rule.labels {
                        alert_labels.insert(k.clone(), v.clone());
                    }
                    if !alert_labels_seen.insert(alert_labels.clone()) {
                        return Err(duplicate_labels(&alert_labels));
                    }
                    slots.push(Slot {
                        alert_labels,
                        tracker: engine::AlertTracker::default(),
                        curve: CurveAcc {
                            peak: f64::NEG_INFINITY,
                            buckets: if split.is_some() {
                                vec![f32::NAN; steps.div_ceil(bucket)]
                            } else {
                                Vec::new()
                            },
                        },
                        seen: 0,
                    });
                    index.insert(labels, slots.len() - 1);
                    slots.len() - 1
                }
            };
            let slot = &mut slots[i];
            slot.seen = block_no;
            // The range result has at most one value per step, in step order.
            let mut it = series.samples.iter().peekable();
            for (k, &t) in block.iter().enumerate() {
                while it.peek().is_some_and(|x| x.t_ms < t) {
                    it.next();
                }
                let v = it.peek().filter(|x| x.t_ms == t).map(|x| x.v);
                let held = match (&split, v) {
                    (Some((_, op, threshold)), Some(v)) => {
                        slot.curve.peak = slot.curve.peak.max(v);
                        let b = &mut slot.curve.buckets[(start + k) / bucket];
                        if b.is_nan() || (v as f32) > *b {
                            *b = v as f32;
                        }
                        compare(v, op, *threshold).then_some(v)
                    }
                    (_, v) => v,
                };
                slot.tracker.step(t, held, spec);
            }
        }
        for slot in slots.iter_mut() {
            if slot.seen != block_no && slot.tracker.is_active() {
                for &t in block {
                    slot.tracker.step(t, None, spec);
                }
            }
        }
        start = end;
    }
    let mut labels_of: Vec<Labels> = vec![Labels::new(); slots.len()];
    for (labels, i) in index {
        labels_of[i] = labels;
    }
    let mut curves: BTreeMap<Labels, CurveAcc> = BTreeMap::new();
    for (slot, labels) in slots.into_iter().zip(labels_of) {
        let alert_labels = slot.alert_labels;
        for ep in slot.tracker.finish() {
            let annotations = a
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand_template(v, ep.peak, &alert_labels)))
                .collect();
            out.alerts.push(MetricAlert {
                instance: AlertInstance {
                    alertname: a.alert.clone(),
                    source: AlertSource::Metrics,
                    labels: alert_labels.clone(),
                    is_total: false,
                    pending_at: ep.active_at_ms,
                    firing_at: ep.firing_at_ms,
                    resolved_at: ep.resolved_at_ms,
                    peak_rate: ep.peak,
                    peak_at: ep.peak_at_ms,
                    last_active: ep.last_present_ms,
                },
                annotations,
            });
        }
        if split.is_some() && slot.curve.peak > f64::NEG_INFINITY {
            curves.insert(labels, slot.curve);
        }
    }
    out.alerts.sort_by(|x, y| {
        (x.instance.pending_at, &x.instance.labels)
            .cmp(&(y.instance.pending_at, &y.instance.labels))
    });
    if let Some((_, op, threshold)) = split {
        out.curve = Some(curve(curves, op, threshold, steps, bucket));
    }
    out.alerts_check = check_against_alerts(storage, out);
    Ok(())
}

/// Prometheus fails an evaluation whose result has two series with the same alert labels.
fn duplicate_labels(labels: &Labels) -> String {
    format!(
        "the result has two series with the labels {} once the rule's labels are added (Prometheus fails this evaluation: \"vector contains metrics with the same labelset after applying alert labels\")",
        labels_text(labels)
    )
}

/// An alert's state at one evaluation, as ALERTS spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Inactive,
    Pending,
    Firing,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Inactive => "inactive",
            State::Pending => "pending",
            State::Firing => "firing",
        }
    }
}

/// The reconstruction's state of the alert with `labels` at evaluation `t`.
fn state_at(out: &RuleOutcome, labels: &Labels, t: Millis) -> State {
    match activation_at(out, labels, t).and_then(|a| a.state_at(t)) {
        Some(AlertState::Pending) => State::Pending,
        Some(AlertState::Firing) => State::Firing,
        None => State::Inactive,
    }
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
fn check_against_alerts(storage: &Storage, out: &RuleOutcome) -> Option<AlertsCheck> {
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
    let mut said: BTreeMap<(Labels, Millis), State> = BTreeMap::new();
    let (mut lo, mut hi) = (Millis::MAX, Millis::MIN);
    let mut all_raw = true;
    for s in &alerts {
        let mut labels = s.labels.clone();
        labels.remove("__name__");
        labels.remove("alertname");
        let state = match labels.remove("alertstate").as_deref() {
            Some("firing") => State::Firing,
            Some("pending") => State::Pending,
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
    let mut diffs: Vec<(Labels, Millis, State, State)> = Vec::new();
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
                if ours != State::Inactive && !said.contains_key(&(labels.clone(), g)) {
                    check.steps += 1;
                    diffs.push((labels.clone(), g, State::Inactive, ours));
                }
            }
        }
    }
    if all_raw {
        check.explanations = explain(out, &said, lo, hi);
    }
    if out.resolutions.is_empty() && !said.is_empty() {
        check.explanations.push(format!(
            "none of the dumps holds a series the expression reads, so the reconstruction has nothing to evaluate: ALERTS, Prometheus' own record, is all there is for {}",
            out.alertname
        ));
    }
    // A phase set by --eval-offset that is not the one Prometheus evaluated at shifts every
    // comparison by a step: say so first.
    if let Some(phase) = alerts_phase(storage.series(), &[out.alertname.as_str()], out.interval_ms)
    {
        if phase != out.offset_ms.rem_euclid(out.interval_ms) {
            check.disagreements.push(format!(
                "the dump's ALERTS samples fall at +{} in each {} (Prometheus' evaluation phase), \
                 the reconstruction used +{}: leave out --eval-offset to use Prometheus' phase",
                format_duration(phase),
                format_duration(out.interval_ms),
                format_duration(out.offset_ms.rem_euclid(out.interval_ms)),
            ));
        }
    }
    // One line per run of consecutive evaluations with the same disagreement.
    for (i, j) in runs(&mut diffs, out.interval_ms) {
        let (labels, start, theirs, ours) = &diffs[i];
        let end = diffs[j].1;
        check.disagreements.push(format!(
            "{} {}: ALERTS says {}, the reconstruction {} ({} evaluation{} from {} to {})",
            out.alertname,
            labels_text(labels),
            theirs.word(),
            ours.word(),
            j - i + 1,
            if j > i { "s" } else { "" },
            crate::model::time::format_rfc3339(*start),
            crate::model::time::format_rfc3339(end),
        ));
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
    said: &BTreeMap<(Labels, Millis), State>,
    lo: Millis,
    hi: Millis,
) -> Vec<String> {
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
        .filter(|&g| {
            labelsets
                .iter()
                .any(|l| state_at(out, l, g) != State::Inactive)
        })
        .collect();
    let mut i = 0;
    while i < silent.len() {
        let mut j = i;
        while j + 1 < silent.len() && silent[j + 1] - silent[j] == out.interval_ms {
            j += 1;
        }
        lines.push(format!(
            "no ALERTS sample for any {} alert from {} to {} ({} evaluation{}) while the reconstruction has one active: Prometheus was not evaluating the rule then (down or restarting), or the export left those samples out",
            out.alertname,
            crate::model::time::format_rfc3339(silent[i]),
            crate::model::time::format_rfc3339(silent[j]),
            j - i + 1,
            if j > i { "s" } else { "" },
        ));
        i = j + 1;
    }
    // Pending-to-firing delays ALERTS shows, per activation seen from its start.
    let mut delays: Vec<Millis> = Vec::new();
    for ((labels, t), state) in said {
        if *state != State::Firing
            || said.get(&(labels.clone(), t - out.interval_ms)) == Some(&State::Firing)
        {
            continue;
        }
        let mut p = *t;
        while said.get(&(labels.clone(), p - out.interval_ms)) == Some(&State::Pending) {
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
            lines.push(format!(
                "in ALERTS every {} alert went from pending to firing {} after becoming active, where the rule given says for: {}: the rule Prometheus ran then had a `for` of about {} (was it changed since?)",
                out.alertname,
                format_duration(d),
                format_duration(out.for_ms),
                format_duration(d)
            ));
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
        let (labels, start, theirs, ours) = &diffs[i];
        let theirs_ms = (*theirs * 1000.0) as Millis;
        check.disagreements.push(format!(
            "{} {}: ALERTS_FOR_STATE says active since {}, the reconstruction {} ({} evaluation{} from {} to {})",
            out.alertname,
            labels_text(labels),
            crate::model::time::format_rfc3339(theirs_ms),
            ours.map_or("has it inactive".to_owned(), |a| format!(
                "since {}",
                crate::model::time::format_rfc3339(a)
            )),
            j - i + 1,
            if j > i { "s" } else { "" },
            crate::model::time::format_rfc3339(*start),
            crate::model::time::format_rfc3339(diffs[j].1),
        ));
    }
}

/// `v OP threshold` as PromQL's filtering comparison decides it.
fn compare(v: f64, op: &str, threshold: f64) -> bool {
    match op {
        ">" => v > threshold,
        "<" => v < threshold,
        ">=" => v >= threshold,
        "<=" => v <= threshold,
        "==" => v == threshold,
        "!=" => v != threshold,
        _ => false,
    }
}

/// The left-hand side of a threshold rule over the grid, for the label sets with the highest
/// peaks (each step showing its bucket's maximum when steps were merged).
fn curve(
    curves: BTreeMap<Labels, CurveAcc>,
    op: String,
    threshold: f64,
    steps: usize,
    bucket: usize,
) -> Curve {
    let mut ranked: Vec<(Labels, CurveAcc)> = curves.into_iter().collect();
    ranked.sort_by(|a, b| b.1.peak.total_cmp(&a.1.peak).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(6);
    let lines = ranked
        .into_iter()
        .map(|(labels, acc)| {
            let values = (0..steps)
                .map(|k| {
                    let v = acc.buckets[k / bucket];
                    (!v.is_nan()).then_some(f64::from(v))
                })
                .collect();
            (labels, values)
        })
        .collect();
    Curve {
        op,
        threshold,
        lines,
    }
}

/// The resolutions of the series the expression's selectors read.
fn storage_resolutions(storage: &Storage, expr: &promql::Expr) -> Vec<Resolution> {
    let mut out: Vec<Resolution> = storage
        .series()
        .iter()
        .filter(|s| expr.selects(&s.labels))
        .map(|s| s.resolution)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn labels_text(labels: &Labels) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Each pod's memory series (the first of [`MEMORY_METRICS`] the dumps have for it, summed
/// over its series) with its peak and its limit: the pod export's, else
/// `kube_pod_container_resource_limits{resource="memory"}`.
fn memory_use(storage: &Storage, limits: &[(String, u64)]) -> Vec<MemoryUse> {
    let mut out: Vec<MemoryUse> = Vec::new();
    for metric in MEMORY_METRICS {
        for s in storage.series().iter().filter(|s| s.name() == metric) {
            let Some(pod) = s.labels.get("pod") else {
                continue;
            };
            if s.labels
                .get("container")
                .is_some_and(|c| c.is_empty() || c == "POD")
            {
                continue;
            }
            if out.iter().any(|m| &m.pod == pod && m.metric != metric) {
                continue;
            }
            // The first time the peak was reached.
            let Some(peak) = s.samples.iter().filter(|x| x.v.is_finite()).fold(
                None::<&crate::model::metrics::Sample>,
                |best, x| match best {
                    Some(b) if b.v >= x.v => Some(b),
                    _ => Some(x),
                },
            ) else {
                continue;
            };
            match out.iter_mut().find(|m| &m.pod == pod) {
                Some(m) if peak.v > m.peak_bytes => {
                    m.peak_bytes = peak.v;
                    m.peak_at = peak.t_ms;
                    m.samples = s.samples.clone();
                }
                Some(_) => {}
                None => out.push(MemoryUse {
                    pod: pod.clone(),
                    metric: metric.into(),
                    samples: s.samples.clone(),
                    peak_bytes: peak.v,
                    peak_at: peak.t_ms,
                    limit_bytes: None,
                    limit_from: String::new(),
                }),
            }
        }
    }
    for m in &mut out {
        if let Some((_, l)) = limits.iter().find(|(p, _)| *p == m.pod) {
            m.limit_bytes = Some(*l);
            m.limit_from = "the pod export".into();
            continue;
        }
        let from_ksm = storage.series().iter().find(|s| {
            s.name() == "kube_pod_container_resource_limits"
                && s.labels.get("resource").map(String::as_str) == Some("memory")
                && s.labels.get("pod") == Some(&m.pod)
        });
        if let Some(v) = from_ksm.and_then(|s| s.samples.last()) {
            m.limit_bytes = Some(v.v as u64);
            m.limit_from = "kube_pod_container_resource_limits".into();
        }
    }
    out.sort_by(|a, b| a.pod.cmp(&b.pod));
    out
}

/// Alerting rules on a memory metric whose threshold cannot be reached under the memory
/// limit: the rule's left-hand side evaluated with the metric pinned at the (largest) limit
/// still does not pass the comparison, so the container is killed before the alert fires.
fn never_fire_findings(
    engine: &Engine,
    rules: &RuleSet,
    memory: &[MemoryUse],
    at: Millis,
) -> Vec<String> {
    let Some((pod, limit)) = memory
        .iter()
        .filter_map(|m| Some((&m.pod, m.limit_bytes?)))
        .max_by_key(|x| x.1)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, rule, a) in rules.alerting_rules() {
        let Ok(expr) = promql::parse(&rule.expr) else {
            continue;
        };
        let Some((lhs, op, threshold)) = expr.threshold_split() else {
            continue;
        };
        for metric in MEMORY_METRICS {
            let labels: Labels = [("__name__", metric), ("pod", pod.as_str())]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            if !lhs.selects(&labels) {
                continue;
            }
            let pinned = Storage::new(vec![MetricSeries {
                labels,
                samples: vec![crate::model::metrics::Sample {
                    t_ms: at,
                    v: limit as f64,
                }],
                resolution: Resolution::Raw,
            }]);
            let Ok(promql::Value::Vector(v)) = engine.instant(&pinned, &lhs, at) else {
                continue;
            };
            if let Some((_, value)) = v.first() {
                if !compare(*value, &op, threshold) {
                    out.push(format!(
                        "{} can never fire under the memory limit: with {metric} at the limit ({} MiB) its expression is {}, not {op} {threshold}; the container is killed (or Node aborts at its heap limit) before the alert could warn",
                        a.alert,
                        limit / (1024 * 1024),
                        (value * 1000.0).round() / 1000.0
                    ));
                }
            }
        }
    }
    out
}
