//! Correlate: the findings that need more than one stage's results, on milliseconds, ids and
//! enums (no words: the report writes those). It owns:
//! - [`events`]: the classified events table (polars) and its aggregations by cause, pod,
//!   message and minute;
//! - [`verdict`]: whether and when the runbook's alert fired, per the logs and the metrics;
//! - [`target`]: the namespace, deployment and container the remediation acts on;
//! - [`restarts`]: starts, ends and silences the logs show by themselves;
//! - [`terminations`]: container terminations with the errors around them and their cause;
//! - [`remediation`]: which causes to remediate, and the evidence for each;
//! - [`agreement`]: whether the logs' and the metrics' answers for the alert agree;
//! - [`timeline`]: everything in time order, and what changed before the first firing.
//!
//! [`Analysis`] gathers every stage's results: it is the report's one input.

pub mod agreement;
pub mod events;
pub mod remediation;
pub mod restarts;
pub mod target;
pub mod terminations;
pub mod timeline;
pub mod verdict;

use anyhow::{Context, Result};

use crate::classify::EventTable;
use crate::config::Config;
use crate::detect::logs::LogDetection;
use crate::detect::plan::EvalPlan;
use crate::detect::rules::RulesDetection;
use crate::ingest::prom::MergeNotes;
use crate::model::cluster::ClusterObjects;
use crate::model::rules::RulesSource;
use crate::model::{FileQuality, InputKind, Millis};
use agreement::Agreement;
use events::{Events, EventsBuilder};
use remediation::Remedy;
use restarts::LogSign;
use target::Target;
use terminations::TerminationFinding;
use timeline::Timeline;
use verdict::Verdict;

/// What a chart marks on its time axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MomentKind {
    /// A container terminated (pod status).
    Termination,
    /// A Warning event from the cluster.
    Warning,
    /// A start, end or silence the logs show.
    LogRestart,
}

/// A moment the cluster or the logs point to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    pub at: Millis,
    pub kind: MomentKind,
}

/// Everything correlated.
pub struct Findings {
    pub events: Events,
    pub verdict: Verdict,
    pub target: Target,
    pub signs: Vec<LogSign>,
    pub terminations: Vec<TerminationFinding>,
    pub remedies: Vec<Remedy>,
    /// For each rule over the metrics (in order): for the runbook's alert, evaluated, with
    /// logs given, whether its answer agrees with the logs'.
    pub agreements: Vec<Option<Agreement>>,
    /// Terminations, warnings and log restarts, in time order, each once.
    pub moments: Vec<Moment>,
    /// Log inputs with records were given.
    pub logs_given: bool,
}

/// Every stage's results, typed: the report's one input.
pub struct Analysis {
    pub inputs: Vec<FileQuality>,
    pub table: EventTable,
    pub plan: EvalPlan,
    pub logs: LogDetection,
    pub rules: RulesDetection,
    pub rules_source: RulesSource,
    /// Rules files among the inputs that were not used (`--rules` was given).
    pub unused_rules: Vec<String>,
    pub merge: MergeNotes,
    pub cluster: ClusterObjects,
    pub findings: Findings,
    /// The record of the live collection the inputs came from, if any.
    pub collection: Option<crate::model::collection::Collection>,
    /// The runbook's alert replayed under other settings, or why it could not be.
    pub what_if: Result<crate::detect::whatif::WhatIf, crate::detect::replay::NoReplay>,
    /// The incident as a promtool regression test.
    pub regression: Option<crate::detect::regression::RegressionTest>,
}

impl Analysis {
    /// The merged timeline.
    pub fn timeline(&self) -> Timeline<'_> {
        timeline::timeline(&timeline::Parts {
            causes: &self.findings.events.causes,
            logs: &self.logs,
            signs: &self.findings.signs,
            terminations: &self.findings.terminations,
            events: &self.cluster.events,
            rules: &self.rules,
        })
    }
}

/// What correlation reads.
pub struct Stages<'a> {
    pub events: EventsBuilder,
    pub table: &'a EventTable,
    pub inputs: &'a [FileQuality],
    pub logs: &'a LogDetection,
    pub rules: &'a RulesDetection,
    pub cluster: &'a ClusterObjects,
}

/// Correlates the stages' results.
pub fn correlate(cfg: &Config, s: Stages<'_>) -> Result<Findings> {
    let causes = &cfg.causes;
    let events = Events::build(s.events, s.table, causes).context("building the events table")?;
    let verdict = verdict::verdict(&cfg.alert.name, s.logs, s.rules, s.table.first_ts);
    let target = target::target(
        (cfg.namespace.as_deref(), cfg.deployment.as_deref()),
        s.table,
        &events,
        s.cluster,
    )
    .context("finding the remediation's target")?;
    let signs = restarts::seen_in_logs(s.table, s.inputs);
    let terminations =
        terminations::terminations(s.cluster, causes, &cfg.window, (s.table, &events))
            .context("errors around a termination")?;
    let remedies = remediation::remedies(causes, &events.causes, s.logs, s.cluster, &terminations);
    let logs_given = s
        .inputs
        .iter()
        .any(|f| f.kind == Some(InputKind::Logs) && f.records > 0);
    let series_alerts = s.logs.series_alerts();
    let agreements = s
        .rules
        .rules
        .iter()
        .map(|r| {
            (logs_given && r.alertname == cfg.alert.name && r.error.is_none()).then(|| {
                agreement::agreement(
                    r.alerts.iter().map(|a| &a.instance),
                    series_alerts.iter().copied(),
                )
            })
        })
        .collect();
    let moments = moments(&terminations, s.cluster, &signs);
    Ok(Findings {
        events,
        verdict,
        target,
        signs,
        terminations,
        remedies,
        agreements,
        moments,
        logs_given,
    })
}

/// The moments the charts mark: container terminations, cluster warnings (at their first
/// sighting) and the starts, ends and silences the logs show.
fn moments(
    terminations: &[TerminationFinding],
    cluster: &ClusterObjects,
    signs: &[LogSign],
) -> Vec<Moment> {
    let mut out: Vec<Moment> = terminations
        .iter()
        .filter_map(|x| x.termination.finished_at)
        .map(|at| Moment {
            at,
            kind: MomentKind::Termination,
        })
        .chain(
            cluster
                .events
                .iter()
                .filter(|e| e.kind == "Warning")
                .map(|e| Moment {
                    at: e.first_seen,
                    kind: MomentKind::Warning,
                }),
        )
        .chain(signs.iter().map(|s| Moment {
            at: s.at,
            kind: MomentKind::LogRestart,
        }))
        .collect();
    out.sort();
    out.dedup();
    out
}
