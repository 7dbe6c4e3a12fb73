//! What the cluster said about itself: Kubernetes events (core/v1 and events.k8s.io/v1, made
//! one shape) and the state of pods and their containers (`kubectl get events|pods -o
//! json|yaml`). Times are the event's own, chosen by kubectl's rules; nothing here does I/O.

use serde::Serialize;

use super::Millis;

/// The object an event is about (`involvedObject` / `regarding`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl ObjectRef {
    /// `Pod/mcp-backend-...`, as kubectl prints it.
    pub fn display(&self) -> String {
        match (self.kind.is_empty(), self.name.is_empty()) {
            (false, false) => format!("{}/{}", self.kind, self.name),
            (true, false) => self.name.clone(),
            (false, true) => self.kind.clone(),
            (true, true) => "(unknown object)".into(),
        }
    }
}

/// One Kubernetes event, whichever API wrote it. An aggregated event (`count` > 1) happened
/// `count` times between `first_seen` and `last_seen`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClusterEvent {
    /// When it (last) happened, by kubectl's rule: the series' last observation, else
    /// `lastTimestamp`, else `firstTimestamp`, else `eventTime`.
    pub time: Millis,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub count: u64,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub object: ObjectRef,
    pub message: String,
    /// The component that reported it (`kubelet`, `default-scheduler`, ...).
    pub source: String,
}

/// A container's state (`state` or `lastState` in a pod's status).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ContainerState {
    Running {
        started_at: Option<Millis>,
    },
    Waiting {
        reason: String,
        message: String,
    },
    Terminated {
        reason: String,
        exit_code: i64,
        started_at: Option<Millis>,
        finished_at: Option<Millis>,
        message: String,
    },
}

impl ContainerState {
    /// The reason word (`Running` for a running container).
    pub fn reason(&self) -> &str {
        match self {
            ContainerState::Running { .. } => "Running",
            ContainerState::Waiting { reason, .. } | ContainerState::Terminated { reason, .. } => {
                reason
            }
        }
    }
}

/// One container of a pod, from its status and spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerInfo {
    pub name: String,
    /// An init container.
    pub init: bool,
    pub ready: bool,
    pub restart_count: u64,
    pub state: Option<ContainerState>,
    pub last_state: Option<ContainerState>,
    /// Resource limits and requests as written (`512Mi`, `500m`), and the memory limit in bytes.
    pub memory_limit: Option<String>,
    pub memory_limit_bytes: Option<u64>,
    pub memory_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub cpu_request: Option<String>,
}

/// A pod as `kubectl get pods -o json` showed it when it was exported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodInfo {
    pub name: String,
    pub namespace: String,
    /// `Running`, `Pending`, `Failed`, ... (empty when the export had no status).
    pub phase: String,
    pub node: String,
    pub containers: Vec<ContainerInfo>,
}

/// A container's end, from a pod's status: the termination that the current or last state
/// records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Termination {
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub reason: String,
    pub exit_code: i64,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
}

/// Everything read from the Kubernetes objects of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterObjects {
    pub events: Vec<ClusterEvent>,
    pub pods: Vec<PodInfo>,
}

impl ClusterObjects {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.pods.is_empty()
    }

    /// Adds another input's objects; events in time order, pods by namespace and name (the
    /// later export of a pod replaces an earlier one).
    pub fn absorb(&mut self, mut other: ClusterObjects) {
        other.redact();
        self.events.extend(other.events);
        self.events.sort_by(|a, b| {
            (a.time, &a.object, &a.reason, &a.message)
                .cmp(&(b.time, &b.object, &b.reason, &b.message))
        });
        self.events.dedup();
        for pod in other.pods {
            match self
                .pods
                .iter_mut()
                .find(|p| p.name == pod.name && p.namespace == pod.namespace)
            {
                Some(p) => *p = pod,
                None => self.pods.push(pod),
            }
        }
        self.pods
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }

    /// Replaces the secrets in the text the objects carry (messages, reasons, names).
    fn redact(&mut self) {
        use crate::redact::owned;
        for e in &mut self.events {
            e.message = owned(&e.message);
            e.reason = owned(&e.reason);
            e.object.name = owned(&e.object.name);
        }
        for p in &mut self.pods {
            for c in &mut p.containers {
                for s in [&mut c.state, &mut c.last_state].into_iter().flatten() {
                    if let ContainerState::Waiting { message, .. }
                    | ContainerState::Terminated { message, .. } = s
                    {
                        *message = owned(message);
                    }
                }
            }
        }
    }

    /// Keeps the events that overlap the window (an aggregated event from its first to its
    /// last sighting); returns how many were dropped. Pods are a snapshot and are kept.
    pub fn retain_window(&mut self, since: Option<Millis>, until: Option<Millis>) -> usize {
        let before = self.events.len();
        self.events.retain(|e| {
            since.is_none_or(|s| e.last_seen >= s) && until.is_none_or(|u| e.first_seen <= u)
        });
        before - self.events.len()
    }

    /// Every container termination the pods record (current state first, then last state).
    pub fn terminations(&self) -> Vec<Termination> {
        let mut out = Vec::new();
        for pod in &self.pods {
            for c in &pod.containers {
                for s in [&c.state, &c.last_state].into_iter().flatten() {
                    if let ContainerState::Terminated {
                        reason,
                        exit_code,
                        started_at,
                        finished_at,
                        ..
                    } = s
                    {
                        out.push(Termination {
                            pod: pod.name.clone(),
                            namespace: pod.namespace.clone(),
                            container: c.name.clone(),
                            reason: reason.clone(),
                            exit_code: *exit_code,
                            started_at: *started_at,
                            finished_at: *finished_at,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            (a.finished_at, &a.pod, &a.container).cmp(&(b.finished_at, &b.pod, &b.container))
        });
        out
    }
}

/// Bytes in a Kubernetes quantity (`512Mi`, `1Gi`, `500M`, `1e9`); `None` if unreadable.
pub fn quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "m" => 1e-3,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("512Mi"), Some(512 * 1024 * 1024));
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert_eq!(quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(quantity_bytes("1e9"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("lots"), None);
    }
}
