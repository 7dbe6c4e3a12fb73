//! Building the report: the classified events go into a polars DataFrame (at minute
//! resolution, built as the merge streams them), which does the per-cause, per-pod,
//! per-signature and per-minute aggregations; the
//! detection becomes alerts, a verdict and a timeline; the cause table's remediation is filled
//! in with the namespace, deployment and container seen in the input.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use polars::prelude::{col, Column, DataFrame, Expr, IntoLazy, PolarsResult};

use super::charts::{Mark, MarkKind};
use super::model::*;
use crate::classify::{Cause, CauseTable, EventTable, UNCLASSIFIED_ID};
use crate::config::{Config, RateMode};
use crate::detect::engine::PromCompat;
use crate::detect::metrics::OffsetFrom;
use crate::detect::metrics::{MetricsDetection, RuleOutcome};
use crate::detect::Detection;
use crate::model::cluster::ClusterObjects;
use crate::model::event::{CauseIdx, Sym};
use crate::model::metrics::Resolution;
use crate::model::time::{format_duration, format_rfc3339, format_short, MINUTE};
use crate::model::{AlertInstance, ErrorEvent, FileQuality, InputKind, Millis};

/// A termination's finish time in milliseconds, beside its report entry.
type TerminationTimes = Vec<Option<Millis>>;

/// How many top messages each cause lists.
const TOP_MESSAGES: usize = 5;

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn t(ms: Millis) -> String {
    format_rfc3339(ms)
}

/// Aggregation key of [`EventsBuilder`]: cause, pod, container, namespace, signature.
type MinuteKey = (CauseIdx, Sym, Sym, Sym, Sym);

/// Records, events, first and last time of one aggregation key.
#[derive(Clone, Copy)]
struct Tally {
    records: u64,
    events: u64,
    first: Millis,
    last: Millis,
}

/// The classified events table, built as the merge streams the error records (in time order):
/// one row per minute, cause, pod, container, namespace and message signature, with the records
/// and events it holds and their first and last time. This is the events table at minute
/// resolution, the finest any aggregation of the report uses, so its size follows the
/// incident's length and variety, not the number of records. Names are integer codes (cause
/// index, interned strings).
#[derive(Default)]
pub struct EventsBuilder {
    minute: Option<Millis>,
    current: foldhash::HashMap<MinuteKey, Tally>,
    minute_ms: Vec<i64>,
    keys: Vec<MinuteKey>,
    tallies: Vec<Tally>,
}

impl EventsBuilder {
    /// Adds one error record; records must come in time order.
    pub fn add(&mut self, r: &ErrorEvent) {
        let minute = r.ts - r.ts.rem_euclid(MINUTE);
        if self.minute != Some(minute) {
            self.flush();
            self.minute = Some(minute);
        }
        let key = (r.cause, r.pod, r.container, r.namespace, r.signature);
        let t = self.current.entry(key).or_insert(Tally {
            records: 0,
            events: 0,
            first: r.ts,
            last: r.ts,
        });
        t.records += 1;
        t.events += r.first_of_event as u64;
        t.last = r.ts;
    }

    fn flush(&mut self) {
        let Some(minute) = self.minute else {
            return;
        };
        let mut rows: Vec<(MinuteKey, Tally)> = self.current.drain().collect();
        rows.sort_unstable_by_key(|(k, _)| *k);
        for (k, t) in rows {
            self.minute_ms.push(minute);
            self.keys.push(k);
            self.tallies.push(t);
        }
    }

    /// The table as a polars DataFrame.
    pub fn frame(mut self) -> PolarsResult<DataFrame> {
        self.flush();
        let key = |f: fn(&MinuteKey) -> u32| self.keys.iter().map(f).collect::<Vec<u32>>();
        let tally = |f: fn(&Tally) -> u64| self.tallies.iter().map(f).collect::<Vec<u64>>();
        let time = |f: fn(&Tally) -> i64| self.tallies.iter().map(f).collect::<Vec<i64>>();
        DataFrame::new_infer_height(vec![
            Column::new("minute_ms".into(), self.minute_ms.clone()),
            Column::new("cause".into(), key(|k| k.0 as u32)),
            Column::new("pod".into(), key(|k| k.1)),
            Column::new("container".into(), key(|k| k.2)),
            Column::new("namespace".into(), key(|k| k.3)),
            Column::new("signature".into(), key(|k| k.4)),
            Column::new("records".into(), tally(|t| t.records)),
            Column::new("events".into(), tally(|t| t.events)),
            Column::new("first".into(), time(|t| t.first)),
            Column::new("last".into(), time(|t| t.last)),
        ])
    }
}

/// Group the events table by `keys`, summing records and events, with first and last time.
/// Row order is unspecified: callers sort what they show.
fn counts(df: &DataFrame, keys: &[&str]) -> PolarsResult<DataFrame> {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    df.clone()
        .lazy()
        .group_by(by)
        .agg([
            col("records").sum().alias("records"),
            col("events").sum().alias("events"),
            col("first").min().alias("first"),
            col("last").max().alias("last"),
        ])
        .collect()
}

fn u32_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = u32> + 'a> {
    Ok(df.column(name)?.u32()?.iter().map(|v| v.unwrap_or(0)))
}

fn u64_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = u64> + 'a> {
    Ok(df.column(name)?.u64()?.iter().map(|v| v.unwrap_or(0)))
}

fn i64_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<impl Iterator<Item = i64> + 'a> {
    Ok(df.column(name)?.i64()?.iter().map(|v| v.unwrap_or(0)))
}

/// Derives a Deployment's name from a ReplicaSet pod's (`mcp-backend-7c9d5b8f6d-x2kqp` ->
/// `mcp-backend`) or a StatefulSet pod's (`mcp-postgres-0` -> `mcp-postgres`).
pub fn deployment_of(pod: &str) -> Option<&str> {
    let (rest, suffix) = pod.rsplit_once('-')?;
    if suffix.chars().all(|c| c.is_ascii_digit()) {
        return Some(rest);
    }
    if suffix.len() != 5 {
        return None;
    }
    let (deploy, hash) = rest.rsplit_once('-')?;
    (6..=10).contains(&hash.len()).then_some(deploy)
}

/// The most frequent non-empty name (ties: the alphabetically first), from (name, count) pairs.
fn most_common<'a>(items: impl Iterator<Item = (&'a str, u64)>) -> Option<&'a str> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, n) in items.filter(|(s, _)| !s.is_empty()) {
        *counts.entry(name).or_default() += n;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k)
}

/// How many error records carry each name in one column of the events table.
fn name_counts<'a>(
    events: &DataFrame,
    table: &'a EventTable,
    column: &str,
) -> PolarsResult<Vec<(&'a str, u64)>> {
    let mut counts = vec![0u64; table.syms.len()];
    for (sym, n) in u32_col(events, column)?.zip(u64_col(events, "records")?) {
        counts[sym as usize] += n;
    }
    Ok(counts
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n > 0)
        .map(|(sym, n)| (table.syms.get(sym as u32), n))
        .collect())
}

/// Namespace, deployment and container for the remediation commands, and how they were found.
fn target(
    cfg: &Config,
    table: &EventTable,
    events: &DataFrame,
    cluster: &ClusterObjects,
) -> PolarsResult<(String, String, String, String)> {
    let mut how = Vec::new();
    // What the Kubernetes objects name, counted like the logs' names.
    let mut k8s_namespaces: BTreeMap<&str, u64> = BTreeMap::new();
    let mut k8s_pods: BTreeMap<&str, u64> = BTreeMap::new();
    for p in &cluster.pods {
        *k8s_namespaces.entry(p.namespace.as_str()).or_default() += 1;
        *k8s_pods.entry(p.name.as_str()).or_default() += 1;
    }
    for e in &cluster.events {
        *k8s_namespaces
            .entry(e.object.namespace.as_str())
            .or_default() += 1;
        if e.object.kind == "Pod" {
            *k8s_pods.entry(e.object.name.as_str()).or_default() += 1;
        }
    }
    k8s_namespaces.remove("");
    let namespace = match &cfg.namespace {
        Some(n) => {
            how.push("namespace from --namespace".to_owned());
            n.clone()
        }
        None => match most_common(name_counts(events, table, "namespace")?.into_iter()) {
            Some(n) => {
                how.push("namespace from the input's paths".to_owned());
                n.to_owned()
            }
            None if !k8s_namespaces.is_empty() => {
                let n = most_common(k8s_namespaces.into_iter()).unwrap_or_default();
                how.push(format!("namespace {n} from the Kubernetes objects"));
                n.to_owned()
            }
            None => {
                how.push("namespace not in the input: the runbook's mcp-everything assumed (use --namespace)".to_owned());
                "mcp-everything".to_owned()
            }
        },
    };
    let deployment = match &cfg.deployment {
        Some(d) => {
            how.push("deployment from --deployment".to_owned());
            d.clone()
        }
        None => match most_common(
            name_counts(events, table, "pod")?
                .into_iter()
                .chain(k8s_pods)
                .filter_map(|(p, n)| Some((deployment_of(p)?, n))),
        ) {
            Some(d) => {
                how.push(format!("deployment {d} derived from pod names"));
                d.to_owned()
            }
            None => {
                how.push("deployment not derivable from pod names: the runbook's mcp-backend assumed (use --deployment)".to_owned());
                "mcp-backend".to_owned()
            }
        },
    };
    let k8s_containers = cluster
        .pods
        .iter()
        .flat_map(|p| p.containers.iter().filter(|c| !c.init))
        .map(|c| (c.name.as_str(), 1u64));
    let container = most_common(name_counts(events, table, "container")?.into_iter())
        .or_else(|| most_common(k8s_containers))
        .unwrap_or("backend")
        .to_owned();
    Ok((namespace, deployment, container, how.join("; ")))
}

/// `last_eval` is the last evaluation of the alert's rule (where the data ends).
fn alert_doc(a: &AlertInstance, last_eval: Option<Millis>) -> Alert {
    let active_at_end = match a.firing_at {
        Some(_) => a.resolved_at.is_none(),
        None => Some(a.last_active) == last_eval,
    };
    Alert {
        alertname: a.alertname.clone(),
        source: a.source,
        scope: if a.is_total { "total" } else { "series" }.to_owned(),
        labels: a.labels.clone(),
        pending_at: Some(t(a.pending_at)),
        firing_at: a.firing_at.map(t),
        resolved_at: a.resolved_at.map(t),
        last_active_at: Some(t(a.last_active)),
        active_at_end,
        peak_rate: round6(a.peak_rate),
        peak_at: Some(t(a.peak_at)),
        annotations: BTreeMap::new(),
    }
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Builds the report document from the events table, the merge's findings and the detection.
pub fn build(
    cfg: &Config,
    events: EventsBuilder,
    table: &EventTable,
    files: Vec<FileQuality>,
    det: &Detection,
    cluster: &ClusterObjects,
    metrics: &MetricsDetection,
) -> Result<Report> {
    let causes = &cfg.causes;
    let a = &cfg.alert;
    let events = events.frame().context("building the events table")?;
    let cause_id = |code: u32| causes.id(code as CauseIdx);
    let total_events = table.events;
    let total_records = table.records;

    // Errors by type, by pod, by message and per minute: four independent aggregations.
    let ((by_cause, by_pod), (by_sig, per_min)) = rayon::join(
        || {
            rayon::join(
                || counts(&events, &["cause"]),
                || counts(&events, &["cause", "pod"]),
            )
        },
        || {
            rayon::join(
                || counts(&events, &["cause", "signature"]),
                || counts(&events, &["minute_ms", "cause"]),
            )
        },
    );
    let by_cause = by_cause.context("aggregating by cause")?;
    let by_pod = by_pod.context("aggregating by cause and pod")?;
    let by_sig = by_sig.context("aggregating by message")?;
    let per_min = per_min.context("aggregating per minute")?;
    let mut pods_of: HashMap<String, BTreeMap<String, PodCount>> = HashMap::new();
    for ((c, p), (r, e)) in u32_col(&by_pod, "cause")?
        .map(cause_id)
        .zip(u32_col(&by_pod, "pod")?.map(|p| table.syms.get(p)))
        .zip(u64_col(&by_pod, "records")?.zip(u64_col(&by_pod, "events")?))
    {
        let pod = if p.is_empty() { "(unknown pod)" } else { p };
        pods_of.entry(c.to_owned()).or_default().insert(
            pod.to_owned(),
            PodCount {
                records: r,
                events: e,
            },
        );
    }
    let mut messages: HashMap<String, Vec<TopMessage>> = HashMap::new();
    for ((c, sig), n) in u32_col(&by_sig, "cause")?
        .map(cause_id)
        .zip(u32_col(&by_sig, "signature")?)
        .zip(u64_col(&by_sig, "records")?)
    {
        messages.entry(c.to_owned()).or_default().push(TopMessage {
            signature: table.syms.get(sig).to_owned(),
            example: table.examples.get(&sig).cloned().unwrap_or_default(),
            records: n,
        });
    }
    for list in messages.values_mut() {
        list.sort_by(|a, b| {
            b.records
                .cmp(&a.records)
                .then(a.signature.cmp(&b.signature))
        });
        list.truncate(TOP_MESSAGES);
    }
    let mut cause_docs: Vec<CauseSummary> = Vec::new();
    let mut first_ms: HashMap<String, Millis> = HashMap::new();
    for ((((id, r), e), f), l) in u32_col(&by_cause, "cause")?
        .map(cause_id)
        .zip(u64_col(&by_cause, "records")?)
        .zip(u64_col(&by_cause, "events")?)
        .zip(i64_col(&by_cause, "first")?)
        .zip(i64_col(&by_cause, "last")?)
    {
        let idx = causes.causes.iter().position(|c| c.id == id);
        first_ms.insert(id.to_owned(), f);
        cause_docs.push(CauseSummary {
            id: id.to_owned(),
            title: idx
                .map_or("Errors matching no known cause", |i| {
                    causes.causes[i].title.as_str()
                })
                .to_owned(),
            count: r,
            events: e,
            share: if total_events > 0 {
                round6(e as f64 / total_events as f64)
            } else {
                0.0
            },
            first_seen: t(f),
            last_seen: t(l),
            by_pod: pods_of.remove(id).unwrap_or_default(),
            top_messages: messages.remove(id).unwrap_or_default(),
        });
    }
    cause_docs.sort_by(|a, b| {
        b.events
            .cmp(&a.events)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });

    // Per minute.
    let mut minutes: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    for ((m, c), e) in i64_col(&per_min, "minute_ms")?
        .zip(u32_col(&per_min, "cause")?.map(cause_id))
        .zip(u64_col(&per_min, "events")?)
    {
        minutes.entry(m).or_default().insert(c.to_owned(), e);
    }
    let per_minute = minutes
        .into_iter()
        .map(|(m, events)| MinuteBucket {
            minute: t(m),
            total: events.values().sum(),
            events,
        })
        .collect();

    // Alerts and series.
    let series_alerts = det.series_alerts();
    let last_eval = det.grid.last().copied();
    let mut alerts: Vec<Alert> = series_alerts
        .iter()
        .map(|a| alert_doc(a, last_eval))
        .collect();
    alerts.extend(det.total_alerts.iter().map(|a| alert_doc(a, last_eval)));
    let series: Vec<Series> = det
        .series
        .iter()
        .map(|s| Series {
            labels: s.labels.clone(),
            records: s.records,
            events: s.events,
            peak_rate: s.peak.map(|p| round6(p.0)),
            peak_at: s.peak.map(|p| t(p.1)),
            fired: s.alerts.iter().any(|a| a.firing_at.is_some()),
        })
        .collect();

    // Verdict: the runbook's alert fired per the logs' reconstruction, or per the metric dumps
    // (Prometheus' own counter, where they were given).
    let logs_breached = det.series_fired();
    let metric_alerts: Vec<&AlertInstance> = metrics
        .rules
        .iter()
        .filter(|r| r.alertname == a.name)
        .flat_map(|r| r.alerts.iter().map(|x| &x.instance))
        .filter(|x| x.firing_at.is_some())
        .collect();
    let metrics_breached = !metric_alerts.is_empty();
    let breached = logs_breached || metrics_breached;
    let mut breached_by = Vec::new();
    if logs_breached {
        breached_by.push("logs".to_owned());
    }
    if metrics_breached {
        breached_by.push("metrics".to_owned());
    }
    let total_only = !breached && det.total_fired();
    let peak_series = det
        .series
        .iter()
        .filter_map(|s| s.peak.map(|p| (p, s)))
        .fold(
            None,
            |best: Option<((f64, Millis), &crate::detect::SeriesResult)>, (p, s)| match best {
                Some((bp, _)) if bp.0 >= p.0 => best,
                _ => Some((p, s)),
            },
        );
    // The logs' answer, or the metrics' when only they fired it.
    let firing_alerts: &[&AlertInstance] = if logs_breached {
        &series_alerts
    } else {
        &metric_alerts
    };
    let firing_from = firing_alerts.iter().filter_map(|a| a.firing_at).min();
    let firing_until = if firing_alerts
        .iter()
        .any(|a| a.firing_at.is_some() && a.resolved_at.is_none())
    {
        None
    } else {
        firing_alerts
            .iter()
            .filter(|a| a.firing_at.is_some())
            .filter_map(|a| a.resolved_at)
            .max()
    };
    let top = cause_docs.first();
    let incident_start = series_alerts
        .iter()
        .map(|a| a.pending_at)
        .chain(det.total_alerts.iter().map(|a| a.pending_at))
        .min()
        .or(table.first_ts);
    let thr = a.threshold;
    let forw = format_duration(a.for_ms);
    let metrics_said = || {
        let mut label_sets: Vec<&BTreeMap<String, String>> =
            metric_alerts.iter().map(|x| &x.labels).collect();
        label_sets.sort_unstable();
        label_sets.dedup();
        format!(
            "{} fired for {} label set{} from {}{} per the metric dumps (Prometheus' own counter)",
            a.name,
            label_sets.len(),
            if label_sets.len() == 1 { "" } else { "s" },
            format_short(firing_from.unwrap_or_default()),
            firing_until.map_or(
                " (still firing at the end of the data)".to_owned(),
                |u| format!(" until {}", format_short(u))
            ),
        )
    };
    let summary = if metrics_breached && !logs_breached {
        format!(
            "BREACHED: {}; the logs {}",
            metrics_said(),
            if total_records == 0 {
                "hold no error records".to_owned()
            } else {
                "alone would not have fired it (see the alert section)".to_owned()
            }
        )
    } else if total_records == 0 {
        format!(
            "not breached: no error records in the input ({} > {thr}/s for {forw})",
            a.name
        )
    } else if breached {
        let n = det
            .series
            .iter()
            .filter(|s| s.alerts.iter().any(|x| x.firing_at.is_some()))
            .count();
        let (p, s) = peak_series.expect("a fired series has a peak");
        format!(
            "BREACHED: {} fired for {n} series from {}{}; peak {:.3}/s ({}) at {}; top cause {} ({:.0}% of error events)",
            a.name,
            format_short(firing_from.unwrap_or(p.1)),
            firing_until.map_or(" (still firing at the end of the data)".to_owned(), |u| format!(" until {}", format_short(u))),
            p.0,
            labels_text(&s.labels),
            format_short(p.1),
            top.map_or("-", |c| c.id.as_str()),
            top.map_or(0.0, |c| c.share * 100.0)
        )
    } else if total_only {
        let (tp, tt) = det.total_peak.expect("a fired total has a peak");
        format!(
            "not breached per series, but the TOTAL crossed {thr}/s: sum over all series peaked at {tp:.3}/s at {}, while no single series stayed above {thr}/s for {forw}, so the real (unsummed) {} alert did not fire",
            format_short(tt),
            a.name
        )
    } else {
        format!(
            "not breached: the highest series rate was {:.3}/s{} (threshold {thr}/s for {forw})",
            peak_series.map_or(0.0, |(p, _)| p.0),
            peak_series.map_or(String::new(), |(p, s)| format!(
                " ({}) at {}",
                labels_text(&s.labels),
                format_short(p.1)
            ))
        )
    };
    // Without error records in the logs, the peak is the metrics' (the rule's value).
    let metrics_peak = metric_alerts
        .iter()
        .filter(|_| total_records == 0)
        .max_by(|x, y| x.peak_rate.total_cmp(&y.peak_rate))
        .copied();
    let verdict = Verdict {
        breached,
        breached_by,
        total_only,
        summary,
        peak_rate: peak_series
            .map(|(p, _)| round6(p.0))
            .or(metrics_peak.map(|x| round6(x.peak_rate))),
        peak_at: peak_series
            .map(|(p, _)| t(p.1))
            .or(metrics_peak.map(|x| t(x.peak_at))),
        peak_labels: peak_series
            .map(|(_, s)| s.labels.clone())
            .or(metrics_peak.map(|x| x.labels.clone())),
        peak_total_rate: det.total_peak.map(|p| round6(p.0)),
        peak_total_at: det.total_peak.map(|p| t(p.1)),
        firing_from: firing_from.map(t),
        firing_until: firing_until.map(t),
        top_cause: top.map(|c| c.id.clone()),
        incident_start: incident_start.map(t),
        error_records: total_records,
        error_events: total_events,
    };

    // Remediation.
    let (namespace, deployment, container, target_from) =
        target(cfg, table, &events, cluster).context("finding the remediation's target")?;
    let mut remediation = remediation(
        causes,
        &cause_docs,
        det,
        &namespace,
        &deployment,
        &container,
    );

    // Timeline.
    let onsets: Vec<Millis> = cause_docs.iter().map(|d| first_ms[d.id.as_str()]).collect();
    let signs = seen_in_logs(table, &files);
    let mut timeline = timeline(&cause_docs, &onsets, &series_alerts, det, &signs);
    let (cluster_events, mut infrastructure, finished) = cluster_docs(cluster, causes, cfg);
    for (x, at) in infrastructure.terminations.iter_mut().zip(&finished) {
        let (Some(at), Some(pod)) = (*at, table.syms.lookup(&x.pod)) else {
            continue;
        };
        let id = |c: u32| causes.id(c as CauseIdx).to_owned();
        let (before, after) =
            errors_around(&events, pod, at, &id).context("errors around a termination")?;
        x.errors_before = before;
        x.errors_after = after;
        // Node aborts (SIGABRT, exit code 134) when its heap is exhausted; the pod status only
        // says `Error`. With a memory error logged on the pod just before, that is the cause.
        if x.cause.is_none()
            && x.exit_code == 134
            && x.errors_before.contains_key("memory_exhaustion")
        {
            x.cause = Some("memory_exhaustion".into());
            x.cause_basis = Some(
                "exit code 134 (abort) right after a memory_exhaustion error on the pod: Node's heap ran out"
                    .into(),
            );
        }
    }
    add_cluster_timeline(&mut timeline, &cluster_events, &infrastructure);
    let logs_given = files
        .iter()
        .any(|f| f.kind == Some(InputKind::Logs) && f.records > 0);
    let (rules, metric_alerts) = metric_rules(cfg, metrics, &series_alerts, logs_given);
    alerts.extend(metric_alerts);
    add_metric_timeline(&mut timeline, metrics);
    cluster_remediation(
        &mut remediation,
        causes,
        &cluster_events,
        &infrastructure,
        (&namespace, &deployment, &container),
    );
    infrastructure.before_first_firing = before_first_firing(&timeline, &series_alerts, det);
    let mut chart_marks: Vec<Mark> = finished
        .iter()
        .flatten()
        .map(|&at| Mark {
            at,
            kind: MarkKind::Termination,
        })
        .chain(
            cluster
                .events
                .iter()
                .filter(|e| e.kind == "Warning")
                .map(|e| Mark {
                    at: e.first_seen,
                    kind: MarkKind::Warning,
                }),
        )
        .chain(signs.iter().map(|(at, _)| Mark {
            at: *at,
            kind: MarkKind::LogRestart,
        }))
        .collect();
    chart_marks.sort_by_key(|m| (m.at, m.kind));
    chart_marks.dedup();
    infrastructure.seen_in_logs = signs.into_iter().map(|(_, s)| s).collect();
    infrastructure.memory = metrics
        .memory
        .iter()
        .map(|m| MemoryDoc {
            pod: m.pod.clone(),
            metric: m.metric.clone(),
            peak_bytes: m.peak_bytes.max(0.0) as u64,
            peak_at: t(m.peak_at),
            limit_bytes: m.limit_bytes,
            limit_from: m.limit_from.clone(),
            peak_share_of_limit: m
                .limit_bytes
                .filter(|&l| l > 0)
                .map(|l| round6(m.peak_bytes / l as f64)),
        })
        .collect();
    infrastructure.findings = metrics.findings.clone();
    let pod_terminations: Vec<(String, Millis)> = infrastructure
        .terminations
        .iter()
        .zip(&finished)
        .filter_map(|(x, at)| Some((x.pod.clone(), (*at)?)))
        .collect();

    // Inputs.
    let mut skipped = BTreeMap::new();
    let mut assumptions = BTreeMap::new();
    for f in &files {
        for (r, n) in &f.skipped {
            *skipped.entry(*r).or_default() += n;
        }
        for (k, n) in &f.assumptions {
            *assumptions.entry(k.clone()).or_default() += n;
        }
    }
    let inputs = Inputs {
        lines_read: files.iter().map(|f| f.lines_read).sum(),
        lines_used: files.iter().map(|f| f.lines_used).sum(),
        records: files.iter().map(|f| f.records).sum(),
        error_records: files.iter().map(|f| f.error_records).sum(),
        skipped,
        assumptions,
        files,
    };

    let settings = Settings {
        alertname: a.name.clone(),
        rate_mode: match a.rate_mode {
            RateMode::Prometheus => "prometheus",
            RateMode::Loki => "loki",
        }
        .to_owned(),
        rate_mode_description: a.rate_mode.describe(a.compat, a.window_ms),
        prom_compat: match a.compat {
            PromCompat::V2 => "2",
            PromCompat::V3 => "3",
        }
        .to_owned(),
        threshold: thr,
        for_: forw,
        window: format_duration(a.window_ms),
        eval_interval: format_duration(a.eval_interval_ms),
        eval_offset: format_duration(a.eval_offset_ms),
        scrape_interval: format_duration(a.scrape_interval_ms),
        dedup_window: format_duration(a.dedup_window_ms),
        time_zone: cfg.zone.name(),
        as_of: cfg.as_of_injected.then(|| t(cfg.as_of)),
        since: cfg.since.map(t),
        until: cfg.until.map(t),
        cause_table: causes.origin.clone(),
        rules: if metrics.rules_from.is_empty() {
            cfg.rules_from.clone()
        } else {
            metrics.rules_from.clone()
        },
        namespace,
        deployment,
        target_from,
    };
    let report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "postmortem".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        settings,
        verdict,
        alerts,
        rules,
        metrics: metrics_doc(metrics),
        series,
        causes: cause_docs,
        remediation,
        timeline,
        per_minute,
        events: cluster_events,
        infrastructure,
        inputs,
        charts: BTreeMap::new(),
        chart_marks,
        pod_terminations,
    };
    Ok(report)
}

/// The alerting rules evaluated over metric dumps, and their alerts (source `metrics`).
fn metric_rules(
    cfg: &Config,
    metrics: &MetricsDetection,
    logs_alerts: &[&AlertInstance],
    logs_given: bool,
) -> (Vec<RuleDoc>, Vec<Alert>) {
    let mode = match cfg.alert.compat {
        PromCompat::V2 => "prometheus 2.x",
        PromCompat::V3 => "prometheus 3.x",
    };
    let mut docs = Vec::new();
    let mut alerts = Vec::new();
    for r in &metrics.rules {
        for a in &r.alerts {
            let mut doc = alert_doc(&a.instance, r.grid.last().copied());
            doc.annotations = a.annotations.clone();
            alerts.push(doc);
        }
        let logs_agreement = (logs_given && r.alertname == cfg.alert.name && r.error.is_none())
            .then(|| agreement(r, logs_alerts));
        docs.push(RuleDoc {
            alertname: r.alertname.clone(),
            group: r.group.clone(),
            expr: r.expr.clone(),
            for_: format_duration(r.for_ms),
            keep_firing_for: format_duration(r.keep_firing_for_ms),
            eval_interval: format_duration(r.interval_ms),
            eval_offset: format_duration(r.offset_ms),
            eval_offset_from: match r.offset_from {
                OffsetFrom::Flag => "--eval-offset",
                OffsetFrom::Alerts => "Prometheus' own, from the dump's ALERTS samples",
                OffsetFrom::Default => "default (multiples of the interval)",
            }
            .to_owned(),
            labels: r.labels.clone(),
            mode: mode.into(),
            basis: basis(&r.resolutions),
            no_data: r.resolutions.is_empty() && r.error.is_none(),
            instances: r.alerts.len(),
            fired: r
                .alerts
                .iter()
                .filter(|a| a.instance.firing_at.is_some())
                .count(),
            error: r.error.clone(),
            alerts_check: r.alerts_check.as_ref().map(|c| AlertsCheckDoc {
                steps_compared: c.steps,
                agrees: c.disagreements.is_empty(),
                disagreements: c.disagreements.clone(),
                explanations: c.explanations.clone(),
            }),
            logs_agreement,
        });
    }
    (docs, alerts)
}

/// What the samples a rule read were, and what that costs in accuracy.
fn basis(resolutions: &[Resolution]) -> String {
    let steps: Vec<Millis> = resolutions
        .iter()
        .filter_map(|r| match r {
            Resolution::Resampled { step_ms } => Some(*step_ms),
            Resolution::Raw => None,
        })
        .collect();
    match (resolutions.is_empty(), steps.is_empty()) {
        (true, _) => "no series in the dumps matched the expression's selectors".into(),
        (false, true) => "raw samples as scraped (a range-selector query, tsdb dump or exposition): the samples Prometheus itself evaluated, so the reconstruction is exact up to the evaluation phase (--eval-offset)".into(),
        (false, false) => {
            let step = steps.iter().max().copied().unwrap_or(0);
            format!(
                "query_range output at a {} step{}: every value is the query's value at a step, not a scrape, so rate() sees one point per step instead of every scrape and transitions can be off by a step or more; export the raw samples (an instant query of `metric[3h]`) for an exact answer",
                format_duration(step),
                if steps.len() < resolutions.len() { " (mixed with raw samples)" } else { "" }
            )
        }
    }
}

/// Whether the metrics-based and the logs-based answers for the runbook's alert agree.
fn agreement(r: &RuleOutcome, logs: &[&AlertInstance]) -> String {
    let first_fire = |it: &mut dyn Iterator<Item = &AlertInstance>| {
        it.filter_map(|a| a.firing_at.map(|f| (f, a.resolved_at)))
            .min_by_key(|x| x.0)
    };
    let m = first_fire(&mut r.alerts.iter().map(|a| &a.instance));
    let l = first_fire(&mut logs.iter().copied());
    let when = |x: Option<(Millis, Option<Millis>)>| match x {
        Some((f, Some(res))) => format!("fired {} and resolved {}", t(f), t(res)),
        Some((f, None)) => format!("fired {} (not resolved within the data)", t(f)),
        None => "never fired".into(),
    };
    match (m, l) {
        (None, None) => "agree: neither the metrics nor the logs fire it".into(),
        (Some(a), Some(b)) if a == b => format!("agree: both {}", when(Some(a))),
        (Some(a), Some(b)) => {
            let apart = |x: Option<Millis>, y: Option<Millis>| match (x, y) {
                (Some(x), Some(y)) if x == y => "at the same evaluation".to_owned(),
                (Some(x), Some(y)) => format!(
                    "{} apart, {} first",
                    format_duration((x - y).abs()),
                    if x < y { "metrics" } else { "logs" }
                ),
                _ => "only one of them resolved".to_owned(),
            };
            format!(
                "differ: metrics {}; logs {} (firing {}; resolution {})",
                when(Some(a)),
                when(Some(b)),
                apart(Some(a.0), Some(b.0)),
                apart(a.1, b.1)
            )
        }
        (a, b) => format!("differ: metrics {}; logs {}", when(a), when(b)),
    }
}

/// The metric dumps and what was done with them.
fn metrics_doc(m: &MetricsDetection) -> MetricsDoc {
    MetricsDoc {
        series: m.series,
        samples: m.samples,
        first: m.span.map(|s| t(s.0)),
        last: m.span.map(|s| t(s.1)),
        notes: m.notes.clone(),
        recorded: m.recorded.clone(),
        problems: m.problems.clone(),
    }
}

/// Alert transitions from metrics on the timeline (source `metrics`).
fn add_metric_timeline(timeline: &mut Vec<TimelineEntry>, m: &MetricsDetection) {
    for a in m.all_instances() {
        let who = labels_text(&a.labels);
        let mut push = |at: Millis, kind: &str, what: &str| {
            timeline.push(TimelineEntry {
                time: t(at),
                kind: kind.into(),
                source: "metrics".into(),
                summary: format!("{} {what} for {who}", a.alertname),
            })
        };
        push(a.pending_at, "alert_pending", "pending");
        if let Some(f) = a.firing_at {
            push(f, "alert_firing", "FIRING");
        }
        if let Some(r) = a.resolved_at {
            push(r, "alert_resolved", "resolved");
        }
    }
    timeline.sort_by(|a, b| a.time.cmp(&b.time));
}

/// A cause's entry of the remediation section, its commands filled in for
/// (namespace, deployment, container, pod).
fn cause_remediation(
    cause: &Cause,
    because: String,
    (namespace, deployment, container, pod): (&str, &str, &str, &str),
) -> Remediation {
    Remediation {
        cause: cause.id.clone(),
        title: cause.title.clone(),
        source: cause.source.clone(),
        symptoms: cause.symptoms.clone(),
        solution: cause.solution.clone(),
        because,
        actions: cause
            .actions
            .iter()
            .map(|a| Action {
                title: a.title.clone(),
                command: a
                    .command
                    .as_deref()
                    .map(|c| fill(c, namespace, deployment, container, pod)),
            })
            .collect(),
    }
}

fn fill(command: &str, namespace: &str, deployment: &str, container: &str, pod: &str) -> String {
    command
        .replace("{namespace}", namespace)
        .replace("{deployment}", deployment)
        .replace("{container}", container)
        .replace("{pod}", pod)
}

fn remediation(
    causes: &CauseTable,
    docs: &[CauseSummary],
    det: &Detection,
    namespace: &str,
    deployment: &str,
    container: &str,
) -> Vec<Remediation> {
    let mut out = Vec::new();
    for doc in docs {
        let fired_pods: Vec<&str> = det
            .series
            .iter()
            .filter(|s| {
                causes.id(s.cause) == doc.id && s.alerts.iter().any(|a| a.firing_at.is_some())
            })
            .map(|s| s.pod.as_str())
            .collect();
        let because = format!(
            "{:.0}% of error events ({} events, {} records){}",
            doc.share * 100.0,
            doc.events,
            doc.count,
            if fired_pods.is_empty() {
                "; no series of this cause crossed the threshold on its own".to_owned()
            } else {
                format!("; its series fired on {}", fired_pods.join(", "))
            }
        );
        let top_pod = doc
            .by_pod
            .iter()
            .max_by(|a, b| a.1.events.cmp(&b.1.events).then(b.0.cmp(a.0)))
            .map_or("", |(p, _)| p.as_str());
        if doc.id == UNCLASSIFIED_ID {
            out.push(Remediation {
                cause: doc.id.clone(),
                title: "Errors matching no known cause".into(),
                source: "added".into(),
                symptoms: "error records whose message and trace match no pattern of the cause table".into(),
                solution: "Read the top messages above; add a cause (or patterns) for them so the next report classifies them".into(),
                because,
                actions: vec![
                    Action { title: "Start from the table in effect".into(), command: Some("postmortem causes --toml > causes.toml".into()) },
                    Action { title: "Add a [[cause]] whose patterns match the top messages above, then re-run with it".into(), command: Some("postmortem analyze --causes causes.toml <inputs>".into()) },
                ],
            });
            continue;
        }
        let Some(cause) = causes.causes.iter().find(|c| c.id == doc.id) else {
            continue;
        };
        out.push(cause_remediation(
            cause,
            because,
            (namespace, deployment, container, top_pod),
        ));
    }
    out
}

fn timeline(
    docs: &[CauseSummary],
    onsets: &[Millis],
    series_alerts: &[&AlertInstance],
    det: &Detection,
    signs: &[(Millis, LogSignDoc)],
) -> Vec<TimelineEntry> {
    let mut entries: Vec<(Millis, u8, TimelineEntry)> = Vec::new();
    let mut push = |ms: Millis, order: u8, kind: &str, summary: String| {
        entries.push((
            ms,
            order,
            TimelineEntry {
                time: t(ms),
                kind: kind.into(),
                source: "logs".into(),
                summary,
            },
        ));
    };
    for (doc, &first) in docs.iter().zip(onsets) {
        let example = doc
            .top_messages
            .first()
            .map_or(String::new(), |m| m.signature.clone());
        push(
            first,
            1,
            "error_onset",
            format!(
                "first {} error ({} events in all): {}",
                doc.id, doc.events, example
            ),
        );
    }
    for a in series_alerts {
        let who = labels_text(&a.labels);
        push(
            a.pending_at,
            2,
            "alert_pending",
            format!("{} pending for {who}", a.alertname),
        );
        if let Some(f) = a.firing_at {
            push(
                f,
                3,
                "alert_firing",
                format!("{} FIRING for {who}", a.alertname),
            );
        }
        if let Some(r) = a.resolved_at {
            push(
                r,
                4,
                "alert_resolved",
                format!("{} resolved for {who}", a.alertname),
            );
        }
    }
    if !det.series_fired() {
        for a in &det.total_alerts {
            if let Some(f) = a.firing_at {
                push(f, 3, "total_above_threshold", format!("the total over all series stayed above the threshold for the `for` duration (no single series did; the real alert did not fire); peak {:.3}/s", a.peak_rate));
            }
        }
    }
    for (ms, sign) in signs {
        push(*ms, 0, &sign.kind, sign.summary.clone());
    }
    entries.sort_by(|a, b| (a.0, a.1, &a.2.summary).cmp(&(b.0, b.1, &b.2.summary)));
    entries.into_iter().map(|(_, _, e)| e).collect()
}

/// A silence this much longer than a pod's usual gap between records, and at least
/// [`MIN_GAP`], is worth a line on the timeline.
const GAP_FACTOR: i64 = 20;
const MIN_GAP: Millis = 2 * MINUTE;

/// Container starts, ends and silences the logs show by themselves: the service's startup
/// line, the last line of a `--previous` export, a pod whose logs begin well after the
/// others', a pod silent for far longer than its usual pace. In time order.
fn seen_in_logs(table: &EventTable, files: &[FileQuality]) -> Vec<(Millis, LogSignDoc)> {
    let mut out: Vec<(Millis, LogSignDoc)> = Vec::new();
    let mut push = |ms: Millis,
                    until: Option<Millis>,
                    kind: &str,
                    pod: &str,
                    container: &str,
                    summary: String| {
        out.push((
            ms,
            LogSignDoc {
                time: t(ms),
                until: until.map(t),
                kind: kind.into(),
                pod: pod.into(),
                container: container.into(),
                summary,
            },
        ));
    };
    let overall_first = files.iter().filter_map(|f| f.first_ts).min();
    for p in table.pods.iter().filter(|p| !p.pod.is_empty()) {
        for &s in &p.starts {
            let what = if s == p.first {
                "its log begins here (a new pod, or the first line after a restart)"
            } else {
                "the container restarted"
            };
            push(
                s,
                None,
                "process_started",
                &p.pod,
                &p.container,
                format!(
                    "pod {}: the service started (Nest's startup line): {what}",
                    p.pod
                ),
            );
        }
        let new_pod = Some(p.first) > overall_first.map(|f| f + 5 * MINUTE);
        if new_pod && !p.starts.contains(&p.first) {
            push(
                p.first,
                None,
                "pod_first_seen",
                &p.pod,
                &p.container,
                format!("pod {} starts logging (a new or restarted pod)", p.pod),
            );
        }
        let pace = (p.last - p.first) / (p.records.max(2) as i64 - 1);
        for &(from, to) in &p.gaps {
            if to - from < MIN_GAP.max(GAP_FACTOR * pace) {
                continue;
            }
            let restarted = p.starts.iter().any(|&s| s >= from && s <= to + MINUTE);
            push(
                from,
                Some(to),
                "log_gap",
                &p.pod,
                &p.container,
                format!(
                    "pod {} logged nothing for {} (until {}; it usually logs every {}){}",
                    p.pod,
                    format_duration((to - from) / 1000 * 1000),
                    t(to),
                    format_duration((pace / 1000 * 1000).max(1000)),
                    if restarted {
                        ": it was down and restarted"
                    } else {
                        ": down, stuck, or not exported"
                    }
                ),
            );
        }
    }
    for f in files
        .iter()
        .filter(|f| f.previous && f.kind == Some(InputKind::Logs))
    {
        if let Some(last) = f.last_ts {
            let pod = f.pod.as_deref().unwrap_or("?");
            push(
                last,
                None,
                "previous_container_ended",
                pod,
                f.container.as_deref().unwrap_or(""),
                format!(
                    "last line of the previous container of {pod} ({}): the container ended after this",
                    f.name
                ),
            );
        }
    }
    out.sort_by(|a, b| (a.0, &a.1.pod, &a.1.kind).cmp(&(b.0, &b.1.pod, &b.1.kind)));
    out
}

/// The cluster's events and pods as report data, causes mapped through the cause table.
/// Terminations outside `--since`/`--until` are left out (the pods themselves are a snapshot
/// and are all listed).
fn cluster_docs(
    cluster: &ClusterObjects,
    causes: &CauseTable,
    cfg: &Config,
) -> (Vec<EventDoc>, Infrastructure, TerminationTimes) {
    let events = cluster
        .events
        .iter()
        .map(|e| EventDoc {
            time: t(e.time),
            first_seen: t(e.first_seen),
            last_seen: t(e.last_seen),
            count: e.count,
            kind: e.kind.clone(),
            reason: e.reason.clone(),
            object: e.object.display(),
            namespace: e.object.namespace.clone(),
            message: e.message.clone(),
            source: e.source.clone(),
            cause: causes.cause_for_reason(&e.reason),
        })
        .collect();
    let pods = cluster
        .pods
        .iter()
        .map(|p| PodDoc {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            phase: p.phase.clone(),
            node: p.node.clone(),
            containers: p
                .containers
                .iter()
                .map(|c| ContainerDoc {
                    name: c.name.clone(),
                    init: c.init,
                    ready: c.ready,
                    restarts: c.restart_count,
                    state: c
                        .state
                        .as_ref()
                        .map_or("(no status)".into(), |s| s.reason().to_owned()),
                    memory_limit: c.memory_limit.clone(),
                    memory_limit_bytes: c.memory_limit_bytes,
                    memory_request: c.memory_request.clone(),
                    cpu_limit: c.cpu_limit.clone(),
                    cpu_request: c.cpu_request.clone(),
                })
                .collect(),
        })
        .collect();
    let kept: Vec<_> = cluster
        .terminations(|r| causes.cause_for_reason(r))
        .into_iter()
        .filter(|x| {
            let at = x.finished_at.or(x.started_at);
            at.is_none_or(|at| {
                cfg.since.is_none_or(|s| at >= s) && cfg.until.is_none_or(|u| at <= u)
            })
        })
        .collect();
    let finished = kept.iter().map(|x| x.finished_at).collect();
    let terminations = kept
        .into_iter()
        .map(|x| TerminationDoc {
            pod: x.pod,
            namespace: x.namespace,
            container: x.container,
            exit_code: x.exit_code,
            started_at: x.started_at.map(t),
            finished_at: x.finished_at.map(t),
            cause_basis: x.cause.as_ref().map(|_| format!("reason {}", x.reason)),
            reason: x.reason,
            cause: x.cause,
            errors_before: BTreeMap::new(),
            errors_after: BTreeMap::new(),
        })
        .collect();
    (
        events,
        Infrastructure {
            pods,
            terminations,
            seen_in_logs: Vec::new(),
            memory: Vec::new(),
            findings: Vec::new(),
            before_first_firing: Vec::new(),
        },
        finished,
    )
}

/// Puts container terminations and warning events on the timeline, each with its source, and
/// re-sorts it (times are RFC 3339 UTC strings of one width, so they sort as text).
fn add_cluster_timeline(
    timeline: &mut Vec<TimelineEntry>,
    events: &[EventDoc],
    infra: &Infrastructure,
) {
    for x in &infra.terminations {
        let Some(at) = &x.finished_at else { continue };
        timeline.push(TimelineEntry {
            time: at.clone(),
            kind: "container_terminated".into(),
            source: "pods".into(),
            summary: format!(
                "container {} of pod {} terminated: {} (exit code {}){}",
                x.container,
                x.pod,
                x.reason,
                x.exit_code,
                x.cause
                    .as_deref()
                    .map_or(String::new(), |c| format!(", cause {c}"))
            ),
        });
    }
    // Warnings, and the normal events that change what runs: kills, scaling, restarts.
    let changes = |e: &EventDoc| {
        matches!(
            e.reason.as_str(),
            "Killing" | "ScalingReplicaSet" | "SuccessfulRescale" | "Preempting"
        ) || e.reason == "Started" && e.count > 1
    };
    for e in events.iter().filter(|e| e.kind == "Warning" || changes(e)) {
        // A repeated event is placed at its first sighting, unless that is long before the
        // rest of the timeline (a container started again: its first start was days ago).
        let (at, times) = if e.count > 1 && e.reason != "Started" {
            (
                e.first_seen.clone(),
                format!(" ({}x, {} .. {})", e.count, e.first_seen, e.last_seen),
            )
        } else if e.count > 1 {
            (
                e.last_seen.clone(),
                format!(" (started {} times in all)", e.count),
            )
        } else {
            (e.first_seen.clone(), String::new())
        };
        timeline.push(TimelineEntry {
            time: at,
            kind: "k8s_event".into(),
            source: "events".into(),
            summary: format!(
                "{} {} on {}: {}{}",
                e.kind, e.reason, e.object, e.message, times
            ),
        });
    }
    timeline.sort_by(|a, b| a.time.cmp(&b.time));
}

/// Error events on `pod` by cause: in the five minutes up to `at` (its minute included) and
/// in the five minutes after, at the events table's minute resolution.
fn errors_around(
    events: &DataFrame,
    pod: Sym,
    at: Millis,
    cause_id: &dyn Fn(u32) -> String,
) -> PolarsResult<(BTreeMap<String, u64>, BTreeMap<String, u64>)> {
    use polars::prelude::lit;
    let minute = at - at.rem_euclid(MINUTE);
    let window = |lo: Millis, hi: Millis| -> PolarsResult<BTreeMap<String, u64>> {
        let df = events
            .clone()
            .lazy()
            .filter(
                col("pod")
                    .eq(lit(pod))
                    .and(col("minute_ms").gt_eq(lit(lo)))
                    .and(col("minute_ms").lt_eq(lit(hi))),
            )
            .group_by([col("cause")])
            .agg([col("events").sum().alias("events")])
            .collect()?;
        let found: BTreeMap<String, u64> = u32_col(&df, "cause")?
            .zip(u64_col(&df, "events")?)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| (cause_id(c), n))
            .collect();
        Ok(found)
    };
    Ok((
        window(minute - 5 * MINUTE, minute)?,
        window(minute + MINUTE, minute + 5 * MINUTE)?,
    ))
}

/// The changes that came before the first alert fired: from half an hour before it went
/// pending until it fired, what started (error onsets, new pods) or went wrong in the cluster.
fn before_first_firing(
    timeline: &[TimelineEntry],
    series_alerts: &[&AlertInstance],
    det: &Detection,
) -> Vec<TimelineEntry> {
    // The real (per-series) alert; when none fired, the total's crossing.
    let earliest = |alerts: &mut dyn Iterator<Item = &AlertInstance>| {
        alerts
            .filter(|a| a.firing_at.is_some())
            .min_by_key(|a| (a.firing_at, a.pending_at))
            .cloned()
    };
    let first = earliest(&mut series_alerts.iter().copied())
        .or_else(|| earliest(&mut det.total_alerts.iter()));
    let Some(a) = first else {
        return Vec::new();
    };
    let (from, to) = (
        t(a.pending_at - 30 * MINUTE),
        t(a.firing_at.unwrap_or(a.pending_at)),
    );
    timeline
        .iter()
        .filter(|e| {
            matches!(
                e.kind.as_str(),
                "error_onset"
                    | "k8s_event"
                    | "container_terminated"
                    | "previous_container_ended"
                    | "process_started"
                    | "log_gap"
                    | "pod_first_seen"
            ) && e.time >= from
                && e.time <= to
        })
        .cloned()
        .collect()
}

/// Remediation for what the cluster showed: causes found only through events or container
/// terminations get their entry (with what was seen), and every entry of a memory cause says
/// the memory limits in effect, from the pod export.
fn cluster_remediation(
    out: &mut Vec<Remediation>,
    causes: &CauseTable,
    events: &[EventDoc],
    infra: &Infrastructure,
    (namespace, deployment, container): (&str, &str, &str),
) {
    // What the cluster said, per cause: a description of each sighting and a pod to name.
    let mut seen: BTreeMap<String, (Vec<String>, Option<String>)> = BTreeMap::new();
    for e in events {
        if let Some(c) = &e.cause {
            let entry = seen.entry(c.clone()).or_default();
            entry.0.push(format!(
                "{} {} on {} ({}x)",
                e.kind, e.reason, e.object, e.count
            ));
            if entry.1.is_none() {
                entry.1 = e.object.strip_prefix("Pod/").map(str::to_owned);
            }
        }
    }
    for x in &infra.terminations {
        if let Some(c) = &x.cause {
            let entry = seen.entry(c.clone()).or_default();
            entry.0.push(format!(
                "container {} of {} terminated {} (exit code {}) at {}",
                x.container,
                x.pod,
                x.reason,
                x.exit_code,
                x.finished_at.as_deref().unwrap_or("an unknown time")
            ));
            entry.1.get_or_insert_with(|| x.pod.clone());
        }
    }
    for (id, (sightings, pod)) in &seen {
        let shown = sightings
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = sightings.len().saturating_sub(3);
        let said = format!(
            "the cluster shows it: {shown}{}",
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        if let Some(r) = out.iter_mut().find(|r| &r.cause == id) {
            r.because = format!("{}; {said}", r.because);
            continue;
        }
        let Some(cause) = causes.causes.iter().find(|c| &c.id == id) else {
            continue;
        };
        let pod = pod.as_deref().unwrap_or("");
        out.push(cause_remediation(
            cause,
            said,
            (namespace, deployment, container, pod),
        ));
    }
    // The limits in effect, for a memory cause.
    let limits: BTreeMap<String, Vec<String>> = infra
        .pods
        .iter()
        .flat_map(|p| {
            p.containers.iter().filter_map(|c| {
                c.memory_limit
                    .as_ref()
                    .map(|l| (format!("{} ({})", l, c.name), p.name.clone()))
            })
        })
        .fold(BTreeMap::new(), |mut m, (limit, pod)| {
            m.entry(limit).or_insert_with(Vec::new).push(pod);
            m
        });
    if !limits.is_empty() {
        let text = limits
            .iter()
            .map(|(l, pods)| format!("{l} on {} pod(s)", pods.len()))
            .collect::<Vec<_>>()
            .join(", ");
        for r in out.iter_mut().filter(|r| r.cause == "memory_exhaustion") {
            r.because = format!("{}; memory limit in the pod export: {text}", r.because);
        }
    }
}
