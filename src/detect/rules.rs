//! Alert rules over exported metrics, as Prometheus' rule engine runs them: each group on its
//! grid from the [`EvalPlan`], recording rules first feeding later rules, each alerting rule's
//! expression evaluated at every step by the PromQL evaluator, and the pending/firing/resolved
//! state machine ([`alert::AlertTracker`]) run per alert label set (the result's labels
//! without `__name__`, plus the rule's labels). Also what the expression's left-hand side was
//! worth against its threshold at every step (for the chart), the comparison with `ALERTS` /
//! `ALERTS_FOR_STATE` when the dump holds them, and memory against the limits.

use std::collections::BTreeMap;

use super::alert::{self, eval_grid, ForSpec};
use super::alerts_check::{check_against_alerts, AlertsCheck};
use super::memory::{memory_use, never_fire_findings, MemoryUse, NeverFires};
use super::plan::{EvalPlan, Grid, OffsetFrom};
use crate::model::labels::{self, Labels};
use crate::model::metrics::{MetricSeries, Resolution};
use crate::model::rules::{AlertingRule, Rule, RuleGroup, RuleKind, RuleSet};
use crate::model::{AlertInstance, AlertSource, Millis};
use crate::promql::template::expand_template;
use crate::promql::{self, Engine, Storage};

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
    /// Why the expression could not be parsed or evaluated (the other rules still ran).
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

/// The left-hand side of a threshold comparison over the grid.
#[derive(Clone, Debug)]
pub struct Curve {
    pub op: String,
    pub threshold: f64,
    /// Label sets (at most a handful: the highest peaks) and their values at the grid steps.
    pub lines: Vec<(Labels, Vec<Option<f64>>)>,
}

/// A recording rule: the series it recorded (and how often), or why it was not evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub name: String,
    pub group: String,
    pub result: Result<(usize, Millis), String>,
}

/// Everything the rules over the metric dumps found.
#[derive(Clone, Debug, Default)]
pub struct RulesDetection {
    /// Series and samples read, and their time span.
    pub series: usize,
    pub samples: usize,
    pub span: Option<(Millis, Millis)>,
    pub rules: Vec<RuleOutcome>,
    /// Recording rules evaluated, or why not.
    pub recorded: Vec<Recorded>,
    /// Each pod's memory against its limit, where the dumps have its memory.
    pub memory: Vec<MemoryUse>,
    /// Rules that cannot fire while the containers stay under their memory limits.
    pub findings: Vec<NeverFires>,
    /// Rules that could not be read (from the rules files).
    pub problems: Vec<String>,
}

impl RulesDetection {
    pub fn all_instances(&self) -> impl Iterator<Item = &AlertInstance> {
        self.rules
            .iter()
            .flat_map(|r| r.alerts.iter().map(|a| &a.instance))
    }
}

/// Runs every rule of `rules` over the series in `storage`, on the plan's grids (without a
/// metrics plan, there is nothing to evaluate and nothing is said). `limits` are the pods' memory limits from the
/// Kubernetes objects (pod, bytes), used with `kube_pod_container_resource_limits` for the
/// memory-against-limit findings.
pub fn evaluate(
    rules: &RuleSet,
    mut storage: Storage,
    plan: &EvalPlan,
    limits: &[(String, u64)],
) -> RulesDetection {
    let Some(m) = &plan.metrics else {
        return RulesDetection::default();
    };
    let series = storage.series();
    let mut out = RulesDetection {
        series: series.len(),
        samples: series.iter().map(|s| s.samples.len()).sum(),
        span: series
            .iter()
            .filter_map(|s| Some((s.samples.first()?.t_ms, s.samples.last()?.t_ms)))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))),
        problems: rules.problems.clone(),
        ..RulesDetection::default()
    };
    let engine = Engine::new(plan.compat);
    for (group, grid) in rules.groups.iter().zip(&m.groups) {
        let times = if m.start <= m.end {
            eval_grid(m.start, m.end, grid.interval_ms, grid.offset_ms)
        } else {
            Vec::new()
        };
        for rule in &group.rules {
            match &rule.kind {
                RuleKind::Recording(name) => {
                    let recorded =
                        record(&engine, &mut storage, (group, *grid), rule, name, &times);
                    out.recorded.extend(recorded);
                }
                RuleKind::Alerting(a) => {
                    out.rules.push(alerting(
                        &engine,
                        &storage,
                        group,
                        *grid,
                        rule,
                        a,
                        times.clone(),
                    ));
                }
            }
        }
    }
    out.memory = memory_use(&storage, limits);
    out.findings = never_fire_findings(&engine, rules, &out.memory, m.end);
    out
}

/// Evaluates a recording rule over `times` and adds its series to `storage` (named after the
/// rule, with its labels), for the rules after it. `None` when there is nothing to say (no
/// evaluation time, the expression parsed).
fn record(
    engine: &Engine,
    storage: &mut Storage,
    (group, grid): (&RuleGroup, Grid),
    rule: &Rule,
    name: &str,
    times: &[Millis],
) -> Option<Recorded> {
    let recorded = |result| Recorded {
        name: name.to_owned(),
        group: group.name.clone(),
        result,
    };
    let expr = match promql::parse(&rule.expr) {
        Ok(e) => e,
        Err(e) => return Some(recorded(Err(e.to_string()))),
    };
    let (&first, &last) = (times.first()?, times.last()?);
    let interval = grid.interval_ms;
    let result = match engine.range(storage, &expr, first, last, interval) {
        Ok(r) => r,
        Err(e) => return Some(recorded(Err(e.to_string()))),
    };
    let n = result.len();
    let mut all: Vec<MetricSeries> = storage.series().to_vec();
    for mut r in result {
        r.labels.insert("__name__".into(), name.to_owned());
        for (k, v) in &rule.labels {
            r.labels.insert(k.clone(), v.clone());
        }
        r.resolution = Resolution::Resampled { step_ms: interval };
        all.push(r);
    }
    *storage = Storage::new(all);
    Some(recorded(Ok((n, interval))))
}

/// Evaluates an alerting rule over `times`.
fn alerting(
    engine: &Engine,
    storage: &Storage,
    group: &RuleGroup,
    grid: Grid,
    rule: &Rule,
    a: &AlertingRule,
    times: Vec<Millis>,
) -> RuleOutcome {
    let mut outcome = RuleOutcome {
        group: group.name.clone(),
        alertname: a.alert.clone(),
        expr: rule.expr.clone(),
        for_ms: a.for_ms,
        keep_firing_for_ms: a.keep_firing_for_ms,
        interval_ms: grid.interval_ms,
        offset_ms: grid.offset_ms,
        offset_from: grid.offset_from,
        labels: rule.labels.clone(),
        alerts: Vec::new(),
        error: None,
        grid: times,
        curve: None,
        resolutions: Vec::new(),
        alerts_check: None,
    };
    let run = promql::parse(&rule.expr)
        .map_err(|e| e.to_string())
        .and_then(|expr| run_rule(engine, storage, &expr, rule, a, &mut outcome));
    outcome.error = run.err();
    outcome
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

/// One label set of the evaluated expression (without `__name__`): its alert's state
/// machine (the labels plus the rule's), and its curve for the chart.
struct Slot {
    alert_labels: Labels,
    tracker: alert::AlertTracker,
    curve: CurveAcc,
    /// The last block it had values in.
    seen: usize,
}

/// A rule being evaluated block by block.
struct RuleRun<'a> {
    rule: &'a Rule,
    /// `(lhs, op, threshold)` of a threshold rule (`lhs > 0.1`): the left-hand side is
    /// evaluated (the chart draws it) and filtered by the comparison (what the comparison
    /// operator does, value kept).
    split: Option<(promql::Expr, String, f64)>,
    spec: ForSpec,
    steps: usize,
    /// Steps per chart bucket.
    bucket: usize,
    index: foldhash::HashMap<Labels, usize>,
    slots: Vec<Slot>,
    alert_labels_seen: foldhash::HashSet<Labels>,
}

impl RuleRun<'_> {
    /// The slot of `labels`, made on first sight. Prometheus fails an evaluation whose result
    /// has two series with the same alert labels.
    fn slot(&mut self, labels: Labels) -> Result<usize, String> {
        if let Some(&i) = self.index.get(&labels) {
            return Ok(i);
        }
        let mut alert_labels = labels.clone();
        for (k, v) in &self.rule.labels {
            alert_labels.insert(k.clone(), v.clone());
        }
        if !self.alert_labels_seen.insert(alert_labels.clone()) {
            return Err(format!(
                "the result has two series with the labels {} once the rule's labels are added (Prometheus fails this evaluation: \"vector contains metrics with the same labelset after applying alert labels\")",
                labels::braced(&alert_labels)
            ));
        }
        self.slots.push(Slot {
            alert_labels,
            tracker: alert::AlertTracker::default(),
            curve: CurveAcc {
                peak: f64::NEG_INFINITY,
                buckets: if self.split.is_some() {
                    vec![f32::NAN; self.steps.div_ceil(self.bucket)]
                } else {
                    Vec::new()
                },
            },
            seen: 0,
        });
        self.index.insert(labels, self.slots.len() - 1);
        Ok(self.slots.len() - 1)
    }

    /// Feeds one block's values (`block` are its evaluation times, `start` the index of its
    /// first) to the state machines and the chart's buckets.
    fn feed(
        &mut self,
        values: Vec<MetricSeries>,
        block: &[Millis],
        start: usize,
        block_no: usize,
    ) -> Result<(), String> {
        for series in values {
            let mut labels = series.labels;
            labels.remove("__name__");
            let i = self.slot(labels)?;
            let (split, spec, bucket) = (&self.split, self.spec, self.bucket);
            let slot = &mut self.slots[i];
            slot.seen = block_no;
            // The range result has at most one value per step, in step order.
            let mut it = series.samples.iter().peekable();
            for (k, &t) in block.iter().enumerate() {
                while it.peek().is_some_and(|x| x.t_ms < t) {
                    it.next();
                }
                let v = it.peek().filter(|x| x.t_ms == t).map(|x| x.v);
                let held = match (split, v) {
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
        // An active alert whose label set had no value in the block: absent all through it.
        for slot in self.slots.iter_mut() {
            if slot.seen != block_no && slot.tracker.is_active() {
                for &t in block {
                    slot.tracker.step(t, None, self.spec);
                }
            }
        }
        Ok(())
    }

    /// The alerts of every label set (annotations expanded) and the chart's curve.
    fn finish(self, a: &AlertingRule, out: &mut RuleOutcome) {
        let mut labels_of: Vec<Labels> = vec![Labels::new(); self.slots.len()];
        for (labels, i) in self.index {
            labels_of[i] = labels;
        }
        let mut curves: BTreeMap<Labels, CurveAcc> = BTreeMap::new();
        for (slot, labels) in self.slots.into_iter().zip(labels_of) {
            let alert_labels = slot.alert_labels;
            for ep in slot.tracker.finish() {
                let annotations = a
                    .annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), expand_template(v, ep.peak, &alert_labels)))
                    .collect();
                out.alerts.push(MetricAlert {
                    instance: ep.instance(
                        &a.alert,
                        alert_labels.clone(),
                        AlertSource::Metrics,
                        false,
                    ),
                    annotations,
                });
            }
            if self.split.is_some() && slot.curve.peak > f64::NEG_INFINITY {
                curves.insert(labels, slot.curve);
            }
        }
        out.alerts.sort_by(|x, y| {
            (x.instance.pending_at, &x.instance.labels)
                .cmp(&(y.instance.pending_at, &y.instance.labels))
        });
        if let Some((_, op, threshold)) = self.split {
            out.curve = Some(curve(curves, op, threshold, self.steps, self.bucket));
        }
    }
}

/// Evaluates one alerting rule over the grid and runs the state machine per label set.
/// The grid is evaluated in blocks of steps, each block's values fed to the state machines
/// and to the chart's per-bucket maxima, then dropped: memory grows with the samples (and the
/// number of series), not with series x steps.
fn run_rule(
    engine: &Engine,
    storage: &Storage,
    expr: &promql::Expr,
    rule: &Rule,
    a: &AlertingRule,
    out: &mut RuleOutcome,
) -> Result<(), String> {
    let steps = out.grid.len();
    if steps == 0 {
        return Ok(());
    }
    out.resolutions = storage_resolutions(storage, expr);
    let mut run = RuleRun {
        rule,
        split: expr.threshold_split(),
        spec: ForSpec {
            for_ms: a.for_ms,
            keep_firing_for_ms: a.keep_firing_for_ms,
        },
        steps,
        bucket: 1,
        index: foldhash::HashMap::default(),
        slots: Vec::new(),
        alert_labels_seen: foldhash::HashSet::default(),
    };
    let evaluated = run.split.as_ref().map_or(expr, |(lhs, _, _)| lhs).clone();
    let mut block_len = FIRST_BLOCK_STEPS.min(steps);
    let (mut start, mut block_no) = (0usize, 0usize);
    while start < steps {
        block_no += 1;
        let end = (start + block_len).min(steps);
        let block = &out.grid[start..end];
        let values = engine
            .range(
                storage,
                &evaluated,
                block[0],
                block[block.len() - 1],
                out.interval_ms,
            )
            .map_err(|e| e.to_string())?;
        if start == 0 {
            let n = values.len().max(1);
            run.bucket = (n * steps).div_ceil(CURVE_VALUES).max(1);
            block_len = (BLOCK_VALUES / n).clamp(1, steps);
        }
        run.feed(values, block, start, block_no)?;
        start = end;
    }
    run.finish(a, out);
    out.alerts_check = check_against_alerts(storage, out);
    Ok(())
}

/// `v OP threshold` as PromQL's filtering comparison decides it.
pub(super) fn compare(v: f64, op: &str, threshold: f64) -> bool {
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
