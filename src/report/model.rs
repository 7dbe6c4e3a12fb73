//! The report as data: the document `report.json` serialises verbatim and every other format
//! renders (nothing else: chart specs travel beside it, in `render::Document`). Times are
//! RFC 3339 UTC strings, rates are rounded to 6 decimals, maps are sorted, so the same inputs
//! and settings always give the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::correlate::verdict::Outcome;
use crate::model::alert::RateMode;
use crate::model::{AlertSource, FileQuality, SkipReason};

/// Bumped when a field changes meaning or disappears (adding fields keeps the version).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// The story in a few sentences, and the root causes ranked.
    pub summary: Summary,
    pub settings: Settings,
    pub verdict: Verdict,
    /// What the log-derived alert counts, and how many records each count stands for.
    pub counting: Counting,
    pub alerts: Vec<Alert>,
    /// Alerting rules evaluated over metric dumps (empty without dumps).
    pub rules: Vec<RuleDoc>,
    pub metrics: MetricsDoc,
    pub series: Vec<Series>,
    pub causes: Vec<CauseSummary>,
    pub remediation: Vec<Remediation>,
    pub timeline: Vec<TimelineEntry>,
    pub per_minute: Vec<MinuteBucket>,
    /// Kubernetes events from `kubectl get events` exports, in time order.
    pub events: Vec<EventDoc>,
    /// Pods and container terminations from `kubectl get pods` exports.
    pub infrastructure: Infrastructure,
    pub inputs: Inputs,
    /// Every message signature (at most 1,000 per cause), most records first: what a later
    /// run is compared with (`--baseline report.json`).
    pub signatures: Vec<SignatureDoc>,
    /// The comparison with `--baseline`, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineDoc>,
    /// The runbook's alert re-evaluated under other settings.
    pub what_if: WhatIfDoc,
    /// The incident as a `promtool test rules` regression test (`promtool-test/`).
    pub regression_test: Option<RegressionDoc>,
    /// Chart files written next to the report (relative paths), by chart.
    pub charts: BTreeMap<String, Vec<String>>,
}

/// One message signature of a cause.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct SignatureDoc {
    pub cause: String,
    pub signature: String,
    pub records: u64,
    /// One real message with it (redacted).
    pub example: String,
}

/// This run against a baseline (an earlier run's inputs or report.json).
#[derive(Clone, Debug, Serialize)]
pub struct BaselineDoc {
    /// What the baseline was read from.
    pub source: String,
    /// The baseline's error records and span.
    pub error_records: u64,
    pub hours: f64,
    /// Signatures never seen in the baseline, most records first.
    pub new_signatures: Vec<SignatureDoc>,
    /// Signatures of the baseline not seen now.
    pub gone_signatures: Vec<SignatureDoc>,
    /// Causes whose error events per hour rose beyond `--max-increase` (and by at least 5
    /// events).
    pub increased_causes: Vec<CauseIncrease>,
    /// Alerts (name and `error_type`) that fire now and did not in the baseline.
    pub new_alerts: Vec<String>,
    pub max_increase: f64,
    /// Whether any of the above was found (`check --baseline` exits 1).
    pub regressed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CauseIncrease {
    pub cause: String,
    pub baseline_events: u64,
    pub events: u64,
    pub baseline_per_hour: f64,
    pub per_hour: f64,
    /// `per_hour / baseline_per_hour`; null when the baseline had none.
    pub factor: Option<f64>,
}

/// The what-if table: the same incident, the same engine, other rule settings.
#[derive(Clone, Debug, Serialize)]
pub struct WhatIfDoc {
    pub alertname: String,
    /// The rule's expression, as evaluated.
    pub expr: Option<String>,
    /// `metrics` (the dumps' samples) or `logs` (the counters the error records make).
    pub basis: Option<String>,
    /// Why there is no table (the rule's shape, no series).
    pub unavailable: Option<String>,
    /// The evaluated span, the incident inside it (the real rule's activations widened by its
    /// window), and the quiet rest, in hours.
    pub from: Option<String>,
    pub to: Option<String>,
    pub incident: Vec<Span>,
    pub quiet_hours: f64,
    /// The real rule first.
    pub rows: Vec<WhatIfRowDoc>,
    /// Findings about the rule, with this incident's numbers.
    pub findings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Span {
    pub from: String,
    pub to: String,
}

/// One setting of the rule and what it gives.
#[derive(Clone, Debug, Serialize)]
pub struct WhatIfRowDoc {
    /// `real`, `default` or `asked` (`--what-if`).
    pub origin: String,
    /// What differs from the rule, in words (`for 0s`, `summed`; `the rule` for the rule).
    pub change: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub threshold: f64,
    pub window: String,
    /// `series` or `sum`.
    pub aggregation: String,
    pub keep_firing_for: String,
    pub expr: String,
    pub fires: bool,
    pub first_firing_at: Option<String>,
    /// Minutes between this row's first firing and the real rule's (negative: earlier).
    pub minutes_vs_real: Option<f64>,
    /// The same, in words (`1.8 min earlier`, `never fires`, `same`).
    pub versus_real: String,
    /// Alerts that fired in the quiet part of the input, and that per day of quiet.
    pub quiet_alarms: usize,
    pub alarms_per_day: Option<f64>,
    /// How many series fired (the sum counts as one).
    pub series_fired: usize,
    /// Each series' first firing (at most 1,000 listed).
    pub alerts: Vec<WhatIfAlert>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WhatIfAlert {
    pub labels: BTreeMap<String, String>,
    pub pending_at: String,
    pub firing_at: Option<String>,
    pub resolved_at: Option<String>,
}

/// The regression test written beside the report.
#[derive(Clone, Debug, Serialize)]
pub struct RegressionDoc {
    pub files: Vec<String>,
    pub command: String,
    pub alertname: String,
    pub basis: String,
    /// The real time of the test's time 0, the evaluation interval, the test's length.
    pub origin: String,
    pub interval: String,
    pub length: String,
    pub series: usize,
    /// The evaluations it checks.
    pub checks: Vec<RegressionCheck>,
    /// Whether the alert first fires at the same time in the test as in the incident (the
    /// test's series are the incident's resampled onto the evaluation grid).
    pub same_first_firing: bool,
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RegressionCheck {
    pub eval_time: String,
    pub at: String,
    pub why: String,
    pub firing: usize,
    pub pending: usize,
}

/// What a reviewer reads first.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// What happened, when, how big, why: plain sentences.
    pub sentences: Vec<String>,
    /// What the incident cost: failed operations, pods hit, containers lost.
    pub impact: Vec<String>,
    /// How the alert caught it (time to detect, per series against summed, other rules).
    pub detection: Vec<String>,
    /// How it ended: the alert resolving, restarts, new pods, scaling.
    pub resolution: Vec<String>,
    /// What to learn beyond this incident (rules that cannot fire, client errors counted).
    pub lessons: Vec<String>,
    /// What set it off: the first errors of the cause whose series fired first.
    pub trigger: Option<String>,
    /// Every cause with evidence, gravest first.
    pub root_causes: Vec<RootCause>,
}

/// One root cause and why it ranks where it does.
#[derive(Clone, Debug, Serialize)]
pub struct RootCause {
    pub rank: usize,
    pub cause: String,
    pub title: String,
    /// `container_down`, `fired`, `counted`, `client_errors` or `uncounted`.
    pub severity: String,
    /// The pod the evidence is about (the one its commands name).
    pub pod: Option<String>,
    /// Why it ranks here, in one line.
    pub why: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Everything the numbers depend on, so a reader can reproduce them.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub alertname: String,
    pub rate_mode: RateMode,
    /// In words: how rates were computed.
    pub rate_mode_description: String,
    /// `2` or `3`.
    pub prom_compat: String,
    pub threshold: f64,
    #[serde(rename = "for")]
    pub for_: String,
    pub window: String,
    pub eval_interval: String,
    pub eval_offset: String,
    pub scrape_interval: String,
    pub dedup_window: String,
    pub time_zone: String,
    /// `--as-of` when given (null when the wall clock was used and no --since needed it).
    pub as_of: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cause_table: String,
    /// Where the alerting rules evaluated over metric dumps came from.
    pub rules: String,
    pub namespace: String,
    pub deployment: String,
    /// How namespace and deployment were determined.
    pub target_from: String,
}

/// What the log-derived alert counts: the error records the cause table names as the counted
/// operation's outcome (`outcomes`), else one per failure (`failures`: the records on one pod
/// that wrap or echo one inner error).
#[derive(Clone, Debug, Serialize)]
pub struct Counting {
    /// `outcomes` or `failures`.
    pub basis: String,
    /// In words, with the figures.
    pub description: String,
    pub records: u64,
    pub failures: u64,
    pub counted: u64,
    /// Error records per counted failure.
    pub records_per_count: f64,
    /// The outcome rules and what each counted (empty when counting failures).
    pub rules: Vec<CountingRule>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CountingRule {
    pub name: String,
    /// Its conditions, as `postmortem causes` prints them.
    pub when: String,
    pub counted: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// The real (per-series) alert fired, per the basis.
    pub breached: bool,
    /// Where the answer comes from: `metrics` (the dumps hold the alert's series: what
    /// Prometheus evaluated) or `logs` (derived from the logs).
    pub basis: String,
    /// Which said so: `logs`, `metrics`, or both.
    pub breached_by: Vec<String>,
    /// The total over all series crossed the threshold for `for`, but no single series did.
    pub total_only: bool,
    /// One sentence.
    pub summary: String,
    /// Highest single-series rate, its time and labels.
    pub peak_rate: Option<f64>,
    pub peak_at: Option<String>,
    pub peak_labels: Option<BTreeMap<String, String>>,
    /// Highest total rate and its time.
    pub peak_total_rate: Option<f64>,
    pub peak_total_at: Option<String>,
    /// First firing and last resolution of any series alert (null when it never fired / never
    /// resolved within the data).
    pub firing_from: Option<String>,
    pub firing_until: Option<String>,
    /// The cause with the most counted failures.
    pub top_cause: Option<String>,
    /// The input looks incomplete (collection gaps, inputs cut by an exporter's cap): the
    /// verdict holds for what was read.
    pub incomplete: bool,
    /// Start of the incident: first pending alert, else first error.
    pub incident_start: Option<String>,
    pub error_records: u64,
    /// Counted failures (what the log-derived alert counts; see `counting`).
    pub error_events: u64,
}

impl Verdict {
    /// What happened to the alert (the one place the two flags are read together).
    pub fn outcome(&self) -> Outcome {
        if self.breached {
            Outcome::Breached
        } else if self.total_only {
            Outcome::TotalOnly
        } else {
            Outcome::NotBreached
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    pub alertname: String,
    pub source: AlertSource,
    /// `series` (one label set, as the real rule fires) or `total` (sum over all series).
    pub scope: String,
    pub labels: BTreeMap<String, String>,
    pub pending_at: Option<String>,
    pub firing_at: Option<String>,
    pub resolved_at: Option<String>,
    /// The last evaluation at which the alert's condition held; for an alert that never fired,
    /// the end of its pending period (it was dropped at the next evaluation).
    pub last_active_at: Option<String>,
    /// Still pending or firing at the last evaluation: the data ends before the alert did.
    pub active_at_end: bool,
    pub peak_rate: f64,
    pub peak_at: Option<String>,
    /// The rule's annotations with `{{ $value }}` (the peak) and `{{ $labels.x }}` expanded
    /// (alerts from metrics only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One alerting rule evaluated over the metric dumps.
#[derive(Clone, Debug, Serialize)]
pub struct RuleDoc {
    pub alertname: String,
    pub group: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub keep_firing_for: String,
    pub eval_interval: String,
    /// The evaluation phase (evaluations at offset + k * interval), and where it came from.
    pub eval_offset: String,
    pub eval_offset_from: String,
    pub labels: BTreeMap<String, String>,
    /// `prometheus 2.x` or `prometheus 3.x`.
    pub mode: String,
    /// Which samples the result rests on and what that costs (raw scrapes, or query_range
    /// steps).
    pub basis: String,
    /// None of the dumps holds a series the expression reads.
    pub no_data: bool,
    /// Alert instances (activations) found, and how many fired.
    pub instances: usize,
    pub fired: usize,
    /// Why the rule could not be evaluated (the others were).
    pub error: Option<String>,
    /// The comparison with the dump's own ALERTS series, when it has them.
    pub alerts_check: Option<AlertsCheckDoc>,
    /// For the runbook's alert with logs given too: whether the two answers agree.
    pub logs_agreement: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AlertsCheckDoc {
    pub steps_compared: u64,
    pub agrees: bool,
    pub disagreements: Vec<String>,
    /// What the disagreements point to (evaluations Prometheus skipped, a different `for`).
    pub explanations: Vec<String>,
}

/// The metric dumps read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MetricsDoc {
    pub series: usize,
    pub samples: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// What merging the dumps did (duplicates dropped, raw preferred over resampled, ...).
    pub notes: Vec<String>,
    /// Recording rules evaluated.
    pub recorded: Vec<String>,
    /// Rules that could not be read, and other problems with the rules.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub records: u64,
    pub events: u64,
    pub peak_rate: Option<f64>,
    pub peak_at: Option<String>,
    pub fired: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PodCount {
    pub records: u64,
    pub events: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TopMessage {
    /// The message with numbers, ids and hosts masked.
    pub signature: String,
    /// One real message with that signature.
    pub example: String,
    pub records: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CauseSummary {
    pub id: String,
    pub title: String,
    /// Error records (lines as logged, duplicates from overlapping exports removed).
    pub count: u64,
    /// Error events (a failure logged twice is one event).
    pub events: u64,
    /// Share of all error events, 0..1.
    pub share: f64,
    pub first_seen: String,
    pub last_seen: String,
    pub by_pod: BTreeMap<String, PodCount>,
    pub top_messages: Vec<TopMessage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Action {
    pub title: String,
    pub command: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Remediation {
    pub cause: String,
    pub title: String,
    /// `runbook` when the runbook lists the cause, `added` otherwise.
    pub source: String,
    pub symptoms: String,
    pub solution: String,
    /// Why it is recommended (its share of the errors, whether its series fired).
    pub because: String,
    pub actions: Vec<Action>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    pub time: String,
    /// `error_onset`, `alert_pending`, `alert_firing`, `alert_resolved`, `pod_first_seen`,
    /// `container_ended`.
    pub kind: String,
    /// `logs`, `pods`, `events`, `metrics`, or `metrics+logs` (one transition both show;
    /// the summary notes how far apart the logs' was).
    pub source: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MinuteBucket {
    pub minute: String,
    /// Error events per cause id in that minute.
    pub events: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Inputs {
    pub files: Vec<FileQuality>,
    pub lines_read: u64,
    pub lines_used: u64,
    pub records: u64,
    pub error_records: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub assumptions: BTreeMap<String, u64>,
    /// Whether secrets were redacted (`false` with `--no-redact`), and how many were, by kind
    /// (each distinct text they were found in counted once).
    pub redaction: bool,
    pub redacted: BTreeMap<String, u64>,
    /// Where a live collection took the inputs from and what it could not collect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionDoc>,
}

/// A live collection, as the report tells it (its record without timings).
#[derive(Clone, Debug, Serialize)]
pub struct CollectionDoc {
    pub context: Option<String>,
    pub server_version: Option<String>,
    pub namespace: String,
    pub target: String,
    pub selector: Option<String>,
    pub since: String,
    pub as_of: String,
    pub prometheus: Option<crate::model::collection::PrometheusInfo>,
    pub pods: Vec<String>,
    pub requests: usize,
    pub failed_requests: usize,
    pub gaps: Vec<crate::model::collection::Gap>,
    /// Gaps that can change the findings: the verdict then says the input looks incomplete.
    pub material_gaps: usize,
}

/// One Kubernetes event, normalized (both event APIs give this shape).
#[derive(Clone, Debug, Serialize)]
pub struct EventDoc {
    /// When it (last) happened, by kubectl's rule.
    pub time: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Occurrences between `first_seen` and `last_seen`.
    pub count: u64,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    /// `Kind/name`.
    pub object: String,
    pub namespace: String,
    pub message: String,
    pub source: String,
    /// The cause id its reason maps to in the cause table, if any.
    pub cause: Option<String>,
}

/// What the pod exports said about the pods.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Infrastructure {
    pub pods: Vec<PodDoc>,
    /// Every container termination the pods record, in time order.
    pub terminations: Vec<TerminationDoc>,
    /// Container starts, ends and silences the logs themselves show, in time order.
    pub seen_in_logs: Vec<LogSignDoc>,
    /// Each pod's memory (from the metric dumps) against its limit.
    pub memory: Vec<MemoryDoc>,
    /// Alert rules that cannot fire under the memory limits, and other findings.
    pub findings: Vec<String>,
    /// What changed first before the first alert fired: the earliest changes (error onsets,
    /// cluster warnings, terminations, new pods) from half an hour before it went pending
    /// until it fired, in time order.
    pub before_first_firing: Vec<TimelineEntry>,
}

/// One pod's memory against its limit.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryDoc {
    pub pod: String,
    pub metric: String,
    pub peak_bytes: u64,
    pub peak_at: String,
    pub limit_bytes: Option<u64>,
    pub limit_from: String,
    /// Peak as a share of the limit (0..1).
    pub peak_share_of_limit: Option<f64>,
}

/// A container start, end or silence read from the logs (no pod export needed).
#[derive(Clone, Debug, Serialize)]
pub struct LogSignDoc {
    pub time: String,
    /// The end of a silence (`log_gap`).
    pub until: Option<String>,
    /// `process_started` (the service's startup line), `previous_container_ended` (the last
    /// line of a `--previous` export), `pod_first_seen` (a pod whose logs begin well after the
    /// others'), `log_gap` (a pod silent far longer than its usual pace).
    pub kind: String,
    pub pod: String,
    pub container: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PodDoc {
    pub name: String,
    pub namespace: String,
    pub phase: String,
    pub node: String,
    pub containers: Vec<ContainerDoc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ContainerDoc {
    pub name: String,
    pub init: bool,
    pub ready: bool,
    pub restarts: u64,
    /// `Running`, or the waiting or termination reason (`CrashLoopBackOff`, `OOMKilled`).
    pub state: String,
    pub memory_limit: Option<String>,
    pub memory_limit_bytes: Option<u64>,
    pub memory_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub cpu_request: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TerminationDoc {
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub reason: String,
    pub exit_code: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub cause: Option<String>,
    /// How the cause was decided (`reason OOMKilled`, or an exit code read with the logs).
    pub cause_basis: Option<String>,
    /// Error events on the pod, by cause, in the five minutes up to the termination (its
    /// minute included) and in the five minutes after it.
    pub errors_before: BTreeMap<String, u64>,
    pub errors_after: BTreeMap<String, u64>,
}
