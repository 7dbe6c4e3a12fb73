//! Memory against the limit: each pod's memory series from the metric dumps beside the limit
//! it runs under (the pod export's, else `kube_pod_container_resource_limits`), and the
//! alerting rules on memory that cannot fire under that limit (the container is killed before
//! their threshold could be reached).

use crate::model::labels;
use crate::model::metrics::{MetricSeries, Resolution, Sample};
use crate::model::rules::RuleSet;
use crate::model::Millis;
use crate::promql::{self, Engine, Storage};

use super::rules::compare;

/// One pod's memory over the dumps' span against its limit.
#[derive(Clone, Debug)]
pub struct MemoryUse {
    pub pod: String,
    /// `container_memory_working_set_bytes` or `mcp_process_resident_memory_bytes`.
    pub metric: String,
    pub samples: Vec<Sample>,
    pub peak_bytes: f64,
    pub peak_at: Millis,
    /// The memory limit in bytes, and where it came from.
    pub limit: Option<(u64, LimitFrom)>,
}

/// Where a pod's memory limit was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitFrom {
    /// `kubectl get pods` (or describe) among the inputs.
    PodExport,
    /// kube-state-metrics' `kube_pod_container_resource_limits{resource="memory"}`.
    KubeStateMetrics,
}

/// The memory metrics looked at, preferred first.
const MEMORY_METRICS: [&str; 2] = [
    "container_memory_working_set_bytes",
    "mcp_process_resident_memory_bytes",
];

/// An alerting rule whose threshold cannot be reached while the container stays under its
/// memory limit: its left-hand side with `metric` pinned at the limit is `value`, which does
/// not pass `op threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct NeverFires {
    pub alert: String,
    pub metric: &'static str,
    pub limit_bytes: u64,
    pub value: f64,
    pub op: String,
    pub threshold: f64,
}

/// Each pod's memory series (the first of the memory metrics the dumps have for it, summed
/// over its series) with its peak and its limit: the pod export's, else
/// `kube_pod_container_resource_limits{resource="memory"}`.
pub fn memory_use(storage: &Storage, limits: &[(String, u64)]) -> Vec<MemoryUse> {
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
            let Some(peak) =
                s.samples
                    .iter()
                    .filter(|x| x.v.is_finite())
                    .fold(None::<&Sample>, |best, x| match best {
                        Some(b) if b.v >= x.v => Some(b),
                        _ => Some(x),
                    })
            else {
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
                    limit: None,
                }),
            }
        }
    }
    for m in &mut out {
        if let Some((_, l)) = limits.iter().find(|(p, _)| *p == m.pod) {
            m.limit = Some((*l, LimitFrom::PodExport));
            continue;
        }
        let from_ksm = storage.series().iter().find(|s| {
            s.name() == "kube_pod_container_resource_limits"
                && s.labels.get("resource").map(String::as_str) == Some("memory")
                && s.labels.get("pod") == Some(&m.pod)
        });
        if let Some(v) = from_ksm.and_then(|s| s.samples.last()) {
            m.limit = Some((v.v as u64, LimitFrom::KubeStateMetrics));
        }
    }
    out.sort_by(|a, b| a.pod.cmp(&b.pod));
    out
}

/// Alerting rules on a memory metric whose threshold cannot be reached under the memory
/// limit: the rule's left-hand side evaluated with the metric pinned at the (largest) limit
/// still does not pass the comparison, so the container is killed before the alert fires.
pub fn never_fire_findings(
    engine: &Engine,
    rules: &RuleSet,
    memory: &[MemoryUse],
    at: Millis,
) -> Vec<NeverFires> {
    let Some((pod, limit)) = memory
        .iter()
        .filter_map(|m| Some((&m.pod, m.limit?.0)))
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
            let labels = labels::from_pairs(&[("__name__", metric), ("pod", pod.as_str())]);
            if !lhs.selects(&labels) {
                continue;
            }
            let pinned = Storage::new(vec![MetricSeries {
                labels,
                samples: vec![Sample {
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
                    out.push(NeverFires {
                        alert: a.alert.clone(),
                        metric,
                        limit_bytes: limit,
                        value: *value,
                        op: op.clone(),
                        threshold,
                    });
                }
            }
        }
    }
    out
}
