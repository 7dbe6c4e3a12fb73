//! The remediation's target: the namespace, deployment and container the runbook's commands
//! act on, from the flags, else the names most of the error records carry, else the
//! Kubernetes objects, else the runbook's own, and how each was found.

use std::collections::BTreeMap;

use polars::prelude::PolarsResult;

use super::events::Events;
use crate::classify::EventTable;
use crate::model::cluster::ClusterObjects;

/// The runbook's namespace and deployment, assumed when nothing names them.
pub const RUNBOOK_NAMESPACE: &str = "mcp-everything";
pub const RUNBOOK_DEPLOYMENT: &str = "mcp-backend";
/// The container assumed when nothing names one.
pub const RUNBOOK_CONTAINER: &str = "backend";

/// Where the namespace came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceFrom {
    Flag,
    /// The records' paths (`NAMESPACE/POD/CONTAINER.log`).
    InputPaths,
    KubernetesObjects,
    /// Nothing named one: the runbook's.
    Assumed,
}

/// Where the deployment came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentFrom {
    Flag,
    /// Derived from the pod names (logs and Kubernetes objects).
    PodNames,
    /// No pod name says it: the runbook's.
    Assumed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub namespace_from: NamespaceFrom,
    pub deployment: String,
    pub deployment_from: DeploymentFrom,
    pub container: String,
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

/// Namespace, deployment and container for the remediation commands. `namespace` and
/// `deployment` are the flags.
pub fn target(
    (namespace, deployment): (Option<&str>, Option<&str>),
    table: &EventTable,
    events: &Events,
    cluster: &ClusterObjects,
) -> PolarsResult<Target> {
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
    let (namespace, namespace_from) = match namespace {
        Some(n) => (n.to_owned(), NamespaceFrom::Flag),
        None => match most_common(events.name_counts(table, "namespace")?.into_iter()) {
            Some(n) => (n.to_owned(), NamespaceFrom::InputPaths),
            None => match most_common(k8s_namespaces.into_iter()) {
                Some(n) => (n.to_owned(), NamespaceFrom::KubernetesObjects),
                None => (RUNBOOK_NAMESPACE.to_owned(), NamespaceFrom::Assumed),
            },
        },
    };
    let (deployment, deployment_from) = match deployment {
        Some(d) => (d.to_owned(), DeploymentFrom::Flag),
        None => match most_common(
            events
                .name_counts(table, "pod")?
                .into_iter()
                .chain(k8s_pods)
                .filter_map(|(p, n)| Some((deployment_of(p)?, n))),
        ) {
            Some(d) => (d.to_owned(), DeploymentFrom::PodNames),
            None => (RUNBOOK_DEPLOYMENT.to_owned(), DeploymentFrom::Assumed),
        },
    };
    let k8s_containers = cluster
        .pods
        .iter()
        .flat_map(|p| p.containers.iter().filter(|c| !c.init))
        .map(|c| (c.name.as_str(), 1u64));
    let container = most_common(events.name_counts(table, "container")?.into_iter())
        .or_else(|| most_common(k8s_containers))
        .unwrap_or(RUNBOOK_CONTAINER)
        .to_owned();
    Ok(Target {
        namespace,
        namespace_from,
        deployment,
        deployment_from,
        container,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_from_pod_names() {
        assert_eq!(
            deployment_of("mcp-backend-7c9d5b8f6d-x2kqp"),
            Some("mcp-backend")
        );
        assert_eq!(deployment_of("mcp-postgres-0"), Some("mcp-postgres"));
        assert_eq!(deployment_of("standalone"), None);
        assert_eq!(deployment_of("web-abc"), None);
    }

    #[test]
    fn the_most_common_name_wins_and_ties_go_to_the_first() {
        let items = [("b", 2), ("a", 2), ("c", 1), ("", 9)];
        assert_eq!(most_common(items.into_iter()), Some("a"));
        assert_eq!(most_common([("", 3)].into_iter()), None);
    }

    #[test]
    fn flags_then_logs_then_objects_then_the_runbook() {
        let table = EventTable::default();
        let events = Events::build(
            Default::default(),
            &table,
            &crate::classify::CauseTable::builtin(),
        )
        .unwrap();
        let mut cluster = ClusterObjects::default();
        let t = target((None, None), &table, &events, &cluster).unwrap();
        assert_eq!(
            (t.namespace.as_str(), t.namespace_from.clone()),
            (RUNBOOK_NAMESPACE, NamespaceFrom::Assumed)
        );
        assert_eq!(t.deployment_from, DeploymentFrom::Assumed);
        assert_eq!(t.container, RUNBOOK_CONTAINER);
        cluster.pods.push(crate::model::cluster::PodInfo {
            name: "web-5d9c7b8f4-abcde".into(),
            namespace: "shop".into(),
            phase: "Running".into(),
            node: String::new(),
            containers: Vec::new(),
        });
        let t = target((None, None), &table, &events, &cluster).unwrap();
        assert_eq!(t.namespace, "shop");
        assert_eq!(t.namespace_from, NamespaceFrom::KubernetesObjects);
        assert_eq!(
            (t.deployment.as_str(), t.deployment_from),
            ("web", DeploymentFrom::PodNames)
        );
        let t = target((Some("ns"), Some("dep")), &table, &events, &cluster).unwrap();
        assert_eq!(
            (t.namespace_from, t.deployment_from),
            (NamespaceFrom::Flag, DeploymentFrom::Flag)
        );
    }
}
