//! What the cluster and the logs say about the pods: pods and their containers, container
//! terminations with the errors around them, cluster events, the starts and silences the logs
//! show, memory against the limits, and the rules that cannot fire under them.

use std::collections::BTreeMap;

use super::{round6, t};
use crate::config::Config;
use crate::correlate::events::CauseTally;
use crate::correlate::restarts::{LogSign, SignKind};
use crate::correlate::terminations::{CauseBasis, TerminationFinding, EXIT_ABORT};
use crate::correlate::Analysis;
use crate::detect::memory::{LimitFrom, NeverFires};
use crate::model::time::format_duration;
use crate::report::model::{
    ContainerDoc, EventDoc, Infrastructure, LogSignDoc, MemoryDoc, PodDoc, TerminationDoc,
};

/// What a start, end or silence in the logs means.
pub fn sign_summary(s: &LogSign) -> String {
    match &s.kind {
        SignKind::ProcessStarted { first } => format!(
            "pod {}: the service started (Nest's startup line): {}",
            s.pod,
            if *first {
                "its log begins here (a new pod, or the first line after a restart)"
            } else {
                "the container restarted"
            }
        ),
        SignKind::PodFirstSeen => {
            format!("pod {} starts logging (a new or restarted pod)", s.pod)
        }
        SignKind::LogGap {
            until,
            pace,
            restarted,
        } => format!(
            "pod {} logged nothing for {} (until {}; it usually logs every {}){}",
            s.pod,
            format_duration((until - s.at) / 1000 * 1000),
            t(*until),
            format_duration((pace / 1000 * 1000).max(1000)),
            if *restarted {
                ": it was down and restarted"
            } else {
                ": down, stuck, or not exported"
            }
        ),
        SignKind::PreviousEnded { file } => format!(
            "last line of the previous container of {} ({file}): the container ended after this",
            s.pod
        ),
    }
}

fn sign_doc(s: &LogSign) -> LogSignDoc {
    LogSignDoc {
        time: t(s.at),
        until: match s.kind {
            SignKind::LogGap { until, .. } => Some(t(until)),
            _ => None,
        },
        kind: s.kind_name().into(),
        pod: s.pod.clone(),
        container: s.container.clone(),
        summary: sign_summary(s),
    }
}

fn by_id(cfg: &Config, tally: &CauseTally) -> BTreeMap<String, u64> {
    tally
        .iter()
        .map(|(c, n)| (cfg.causes.id(*c).to_owned(), *n))
        .collect()
}

fn termination_doc(cfg: &Config, x: &TerminationFinding) -> TerminationDoc {
    let tm = &x.termination;
    TerminationDoc {
        pod: tm.pod.clone(),
        namespace: tm.namespace.clone(),
        container: tm.container.clone(),
        reason: tm.reason.clone(),
        exit_code: tm.exit_code,
        started_at: tm.started_at.map(t),
        finished_at: tm.finished_at.map(t),
        cause: x.cause.map(|(c, _)| cfg.causes.id(c).to_owned()),
        cause_basis: x.cause.map(|(c, basis)| match basis {
            CauseBasis::Reason => format!("reason {}", tm.reason),
            CauseBasis::HeapAbort => format!(
                "exit code {EXIT_ABORT} (abort) right after a {} error on the pod: Node's heap ran out",
                cfg.causes.id(c)
            ),
        }),
        errors_before: by_id(cfg, &x.errors_before),
        errors_after: by_id(cfg, &x.errors_after),
    }
}

fn never_fires(f: &NeverFires) -> String {
    format!(
        "{} can never fire under the memory limit: with {} at the limit ({} MiB) its expression is {}, not {} {}; the container is killed (or Node aborts at its heap limit) before the alert could warn",
        f.alert,
        f.metric,
        f.limit_bytes / (1024 * 1024),
        (f.value * 1000.0).round() / 1000.0,
        f.op,
        f.threshold
    )
}

/// The cluster's events, causes mapped through the cause table.
pub fn events(cfg: &Config, a: &Analysis) -> Vec<EventDoc> {
    a.cluster
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
            cause: cfg
                .causes
                .cause_for_reason(&e.reason)
                .map(|c| cfg.causes.id(c).to_owned()),
        })
        .collect()
}

fn pod_docs(a: &Analysis) -> Vec<PodDoc> {
    a.cluster
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
        .collect()
}

/// Pods, terminations, restarts in the logs, memory and findings (what changed first is
/// added by the timeline).
pub fn infrastructure(cfg: &Config, a: &Analysis) -> Infrastructure {
    Infrastructure {
        pods: pod_docs(a),
        terminations: a
            .findings
            .terminations
            .iter()
            .map(|x| termination_doc(cfg, x))
            .collect(),
        seen_in_logs: a.findings.signs.iter().map(sign_doc).collect(),
        memory: a
            .rules
            .memory
            .iter()
            .map(|m| MemoryDoc {
                pod: m.pod.clone(),
                metric: m.metric.clone(),
                peak_bytes: m.peak_bytes.max(0.0) as u64,
                peak_at: t(m.peak_at),
                limit_bytes: m.limit.map(|l| l.0),
                limit_from: match m.limit {
                    Some((_, LimitFrom::PodExport)) => "the pod export",
                    Some((_, LimitFrom::KubeStateMetrics)) => "kube_pod_container_resource_limits",
                    None => "",
                }
                .into(),
                peak_share_of_limit: m
                    .limit
                    .filter(|&(l, _)| l > 0)
                    .map(|(l, _)| round6(m.peak_bytes / l as f64)),
            })
            .collect(),
        findings: a.rules.findings.iter().map(never_fires).collect(),
        before_first_firing: Vec::new(),
    }
}
