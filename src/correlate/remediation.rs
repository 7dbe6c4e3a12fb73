//! Which causes the report recommends remediation for, and the evidence for each: the causes
//! found in the logs (in rank order), then the causes the cluster alone shows (an event or a
//! container termination whose reason maps to a cause), and for a memory cause the memory
//! limits in effect.

use std::collections::BTreeMap;

use super::events::{CauseStats, Counts};
use super::terminations::TerminationFinding;
use crate::classify::CauseTable;
use crate::detect::logs::LogDetection;
use crate::model::cluster::{ClusterEvent, ClusterObjects};
use crate::model::event::{CauseIdx, UNCLASSIFIED};
use crate::model::Millis;

/// What the cluster showed of a cause.
#[derive(Clone, Debug, PartialEq)]
pub enum Sighting {
    /// An event whose reason maps to the cause.
    Event(ClusterEvent),
    /// A container termination whose cause it is.
    Termination {
        container: String,
        pod: String,
        reason: String,
        exit_code: i64,
        finished_at: Option<Millis>,
    },
}

/// The logs' evidence for a cause.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvidence {
    pub counts: Counts,
    /// Pods whose series of this cause fired on their own.
    pub fired_pods: Vec<String>,
}

/// How grave a cause's evidence is: root causes are ranked by this first, then by how many
/// failures they made. Most grave first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A container was terminated (OOMKilled, a crash) or is crash-looping: the service
    /// itself went down.
    ContainerDown,
    /// Its errors alone made a series of the alert fire.
    Fired,
    /// The service's own failures, counted by the alert, without firing on their own.
    Counted,
    /// Errors the requests caused (invalid input, 4xx), however many.
    ClientErrors,
    /// Error records the alert does not count, errors matching no cause, or cluster events
    /// without a failure.
    Uncounted,
}

/// Event reasons that say a container went down or keeps failing to start.
const DOWN_REASONS: &[&str] = &["OOMKilling", "BackOff", "CrashLoopBackOff", "Evicted"];

/// One cause to remediate.
#[derive(Clone, Debug, PartialEq)]
pub struct Remedy {
    pub severity: Severity,
    /// A cause of the table, or [`UNCLASSIFIED`].
    pub cause: CauseIdx,
    /// `None`: seen only in the cluster.
    pub logs: Option<LogEvidence>,
    pub sightings: Vec<Sighting>,
    /// The pod the commands name: the one with the most error events of the cause, else the
    /// first the cluster names (empty when none is known).
    pub pod: String,
    /// For a memory cause: the memory limits in the pod export, as written with the
    /// container's name, and on how many pods.
    pub memory_limits: Vec<(String, String, usize)>,
}

/// The remedies, in order: the logs' causes as ranked, then the cluster's own.
pub fn remedies(
    causes: &CauseTable,
    ranked: &[CauseStats],
    logs: &LogDetection,
    cluster: &ClusterObjects,
    terminations: &[TerminationFinding],
) -> Vec<Remedy> {
    let mut out: Vec<Remedy> = ranked
        .iter()
        .filter(|c| c.cause == UNCLASSIFIED || causes.get(c.cause).is_some())
        .map(|c| Remedy {
            severity: Severity::Uncounted,
            cause: c.cause,
            logs: Some(LogEvidence {
                counts: c.counts,
                fired_pods: logs
                    .series
                    .iter()
                    .filter(|s| {
                        s.cause == c.cause && s.alerts.iter().any(|a| a.firing_at.is_some())
                    })
                    .map(|s| s.pod.clone())
                    .collect(),
            }),
            sightings: Vec::new(),
            pod: c
                .by_pod
                .iter()
                .max_by(|a, b| a.1.events.cmp(&b.1.events).then(b.0.cmp(a.0)))
                .map_or(String::new(), |(p, _)| p.clone()),
            memory_limits: Vec::new(),
        })
        .collect();
    // What the cluster said, per cause (in id order): each sighting, and a pod to name.
    let mut seen: BTreeMap<&str, (CauseIdx, Vec<Sighting>, Option<String>)> = BTreeMap::new();
    for e in &cluster.events {
        if let Some(c) = causes.cause_for_reason(&e.reason) {
            let entry = seen.entry(causes.id(c)).or_insert((c, Vec::new(), None));
            entry.1.push(Sighting::Event(e.clone()));
            if entry.2.is_none() && e.object.kind == "Pod" && !e.object.name.is_empty() {
                entry.2 = Some(e.object.name.clone());
            }
        }
    }
    for x in terminations {
        if let Some((c, _)) = x.cause {
            let t = &x.termination;
            let entry = seen.entry(causes.id(c)).or_insert((c, Vec::new(), None));
            entry.1.push(Sighting::Termination {
                container: t.container.clone(),
                pod: t.pod.clone(),
                reason: t.reason.clone(),
                exit_code: t.exit_code,
                finished_at: t.finished_at,
            });
            entry.2.get_or_insert_with(|| t.pod.clone());
        }
    }
    for (_, (cause, sightings, pod)) in seen {
        match out.iter_mut().find(|r| r.cause == cause) {
            Some(r) => r.sightings = sightings,
            None => out.push(Remedy {
                severity: Severity::Uncounted,
                cause,
                logs: None,
                sightings,
                pod: pod.unwrap_or_default(),
                memory_limits: Vec::new(),
            }),
        }
    }
    let limits = memory_limits(cluster);
    let memory = causes.index("memory_exhaustion");
    for r in out.iter_mut().filter(|r| Some(r.cause) == memory) {
        r.memory_limits = limits.clone();
    }
    for r in &mut out {
        r.severity = severity(causes, r);
    }
    // Stable: within a severity, the logs' rank (failures made) stays.
    out.sort_by_key(|r| r.severity);
    out
}

/// How grave the evidence for `r` is.
fn severity(causes: &CauseTable, r: &Remedy) -> Severity {
    let down = r.sightings.iter().any(|s| match s {
        Sighting::Termination { .. } => true,
        Sighting::Event(e) => DOWN_REASONS.contains(&e.reason.as_str()),
    });
    let client = causes.get(r.cause).is_some_and(|c| c.client);
    match &r.logs {
        _ if down => Severity::ContainerDown,
        _ if r.cause == UNCLASSIFIED => Severity::Uncounted,
        Some(l) if client && l.counts.events > 0 => Severity::ClientErrors,
        Some(l) if !l.fired_pods.is_empty() => Severity::Fired,
        Some(l) if l.counts.events > 0 => Severity::Counted,
        _ => Severity::Uncounted,
    }
}

/// The memory limits in the pod export: each limit as written with the container's name, and
/// on how many pods, ordered by limit then container.
fn memory_limits(cluster: &ClusterObjects) -> Vec<(String, String, usize)> {
    let mut limits: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &cluster.pods {
        for c in &p.containers {
            if let Some(l) = &c.memory_limit {
                *limits.entry((l.clone(), c.name.clone())).or_default() += 1;
            }
        }
    }
    limits.into_iter().map(|((l, c), n)| (l, c, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::terminations::CauseBasis;
    use crate::model::cluster::{ContainerInfo, ObjectRef, PodInfo, Termination};

    fn stats(cause: CauseIdx, pods: &[(&str, u64)]) -> CauseStats {
        CauseStats {
            signatures: Vec::new(),
            cause,
            counts: Counts {
                records: 10,
                events: 8,
            },
            first: 0,
            last: 1,
            by_pod: pods
                .iter()
                .map(|(p, e)| {
                    (
                        (*p).to_owned(),
                        Counts {
                            records: *e,
                            events: *e,
                        },
                    )
                })
                .collect(),
            top_messages: Vec::new(),
        }
    }

    fn event(reason: &str, kind: &str, name: &str) -> ClusterEvent {
        ClusterEvent {
            time: 5,
            first_seen: 5,
            last_seen: 5,
            count: 2,
            kind: "Warning".into(),
            reason: reason.into(),
            object: ObjectRef {
                kind: kind.into(),
                name: name.into(),
                namespace: "ns".into(),
            },
            message: String::new(),
            source: "kubelet".into(),
        }
    }

    #[test]
    fn gravest_first_then_the_logs_rank_then_what_only_the_cluster_shows() {
        let causes = CauseTable::builtin();
        let db = causes.index("database_error").unwrap();
        let memory = causes.index("memory_exhaustion").unwrap();
        let probe = causes.index("probe_failure").unwrap();
        let ranked = [
            stats(db, &[("b", 3), ("a", 3)]),
            stats(UNCLASSIFIED, &[("", 2)]),
        ];
        let mut cluster = ClusterObjects::default();
        cluster.events.push(event("Unhealthy", "Pod", "web-1"));
        cluster.pods.push(PodInfo {
            name: "web-1".into(),
            namespace: "ns".into(),
            phase: "Running".into(),
            node: String::new(),
            containers: vec![ContainerInfo {
                name: "app".into(),
                init: false,
                ready: true,
                restart_count: 1,
                state: None,
                last_state: None,
                memory_limit: Some("512Mi".into()),
                memory_limit_bytes: Some(512 << 20),
                memory_request: None,
                cpu_limit: None,
                cpu_request: None,
            }],
        });
        let heap = TerminationFinding {
            termination: Termination {
                pod: "web-1".into(),
                namespace: "ns".into(),
                container: "app".into(),
                reason: "Error".into(),
                exit_code: 134,
                started_at: None,
                finished_at: Some(9),
            },
            cause: Some((memory, CauseBasis::HeapAbort)),
            errors_before: Default::default(),
            errors_after: Default::default(),
        };
        let r = remedies(
            &causes,
            &ranked,
            &LogDetection::default(),
            &cluster,
            &[heap],
        );
        let order: Vec<CauseIdx> = r.iter().map(|x| x.cause).collect();
        // The container killed by its heap first (the cluster alone shows it), then the
        // logs' causes as ranked, then the cluster's own events (a probe failing is no
        // container down).
        assert_eq!(order, [memory, db, UNCLASSIFIED, probe]);
        let severities: Vec<Severity> = r.iter().map(|x| x.severity).collect();
        assert_eq!(
            severities,
            [
                Severity::ContainerDown,
                Severity::Counted,
                Severity::Uncounted,
                Severity::Uncounted
            ]
        );
        // Ties between pods go to the first name.
        assert_eq!(r[1].pod, "a");
        assert!(r[1].logs.as_ref().unwrap().fired_pods.is_empty());
        assert!(r[0].logs.is_none());
        assert_eq!(r[0].pod, "web-1");
        assert!(matches!(
            r[0].sightings[0],
            Sighting::Termination { exit_code: 134, .. }
        ));
        assert_eq!(r[0].memory_limits, [("512Mi".into(), "app".into(), 1)]);
        assert!(matches!(&r[3].sightings[0], Sighting::Event(e) if e.reason == "Unhealthy"));
        assert!(r[3].memory_limits.is_empty());
    }

    #[test]
    fn client_errors_rank_below_the_services_own_failures_however_many() {
        let causes = CauseTable::builtin();
        let db = causes.index("database_error").unwrap();
        let validation = causes.index("validation_error").unwrap();
        let mut many = stats(validation, &[("a", 500)]);
        many.counts.events = 500;
        let ranked = [many, stats(db, &[("a", 3)])];
        let r = remedies(
            &causes,
            &ranked,
            &LogDetection::default(),
            &ClusterObjects::default(),
            &[],
        );
        let order: Vec<(CauseIdx, Severity)> = r.iter().map(|x| (x.cause, x.severity)).collect();
        assert_eq!(
            order,
            [
                (db, Severity::Counted),
                (validation, Severity::ClientErrors)
            ]
        );
    }
}
