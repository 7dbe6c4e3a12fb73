//! What an input's name says about where its lines came from: `POD.log`, `POD_CONTAINER.log`,
//! `POD.previous.log`, `NAMESPACE/POD/CONTAINER.log` (support bundles and archives).
//! Used only for lines that carry no `[pod/NAME/CONTAINER]` prefix of their own.

/// Pod, container and namespace implied by an input's path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathHints {
    pub pod: Option<String>,
    pub container: Option<String>,
    pub namespace: Option<String>,
    /// The name says `previous` (a `kubectl logs --previous` export).
    pub previous: bool,
}

/// Whether `s` can be a Kubernetes object name that looks like a pod (a DNS-1123 label with at
/// least one dash, e.g. `mcp-backend-7c9d5b8f6d-x2kqp`, `mcp-postgres-0`).
pub fn looks_like_pod(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.contains('-')
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// Whether `s` looks like a pod a controller made: a ReplicaSet's, DaemonSet's or Job's
/// (`name-7c9d5b8f6d-x2kqp`, `name-x2kqp`: a five-character suffix) or a StatefulSet's
/// (`name-0`). Folder names like `bench-data` are not.
pub(crate) fn looks_like_workload_pod(s: &str) -> bool {
    let Some((rest, suffix)) = s.rsplit_once('-') else {
        return false;
    };
    looks_like_pod(s)
        && !rest.is_empty()
        && (suffix.bytes().all(|c| c.is_ascii_digit())
            || (suffix.len() == 5 && suffix.bytes().all(|c| c.is_ascii_alphanumeric())))
}

fn looks_like_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// Reads hints from a path such as `logs/mcp-backend-7c9d5b8f6d-x2kqp.previous.log.gz` or an
/// archive member `cluster-resources/pods/logs/mcp-everything/mcp-backend-x/backend.log`.
pub fn from_path(path: &str) -> PathHints {
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let Some(file) = parts.last() else {
        return PathHints::default();
    };
    let mut stem = *file;
    for ext in [".gz", ".log", ".txt", ".out"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    let mut hints = PathHints::default();
    for marker in [".previous", "-previous", "_previous"] {
        if let Some(s) = stem.strip_suffix(marker) {
            stem = s;
            hints.previous = true;
        }
    }
    if stem == "previous" {
        hints.previous = true;
    }
    // The node's CRI files: /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log (N counts the
    // container's restarts; folders are read in name order) and the
    // /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log links to them.
    if parts.len() >= 3 && stem.bytes().all(|c| c.is_ascii_digit()) && !stem.is_empty() {
        let dir = parts[parts.len() - 3];
        let mut it = dir.splitn(3, '_');
        if let (Some(ns), Some(pod), Some(_uid)) = (it.next(), it.next(), it.next()) {
            if looks_like_name(ns) && looks_like_pod(pod) {
                hints.namespace = Some(ns.to_owned());
                hints.pod = Some(pod.to_owned());
                hints.container = Some(parts[parts.len() - 2].to_owned());
                return hints;
            }
        }
    }
    if parts.len() >= 2 && parts[parts.len() - 2] == "containers" {
        let mut it = stem.splitn(3, '_');
        if let (Some(pod), Some(ns), Some(rest)) = (it.next(), it.next(), it.next()) {
            if let Some((container, id)) = rest.rsplit_once('-') {
                if looks_like_pod(pod) && looks_like_name(ns) && id.len() == 64 {
                    hints.namespace = Some(ns.to_owned());
                    hints.pod = Some(pod.to_owned());
                    hints.container = Some(container.to_owned());
                    return hints;
                }
            }
        }
    }
    // NAMESPACE/POD/CONTAINER.log
    if parts.len() >= 3 {
        let (ns, pod) = (parts[parts.len() - 3], parts[parts.len() - 2]);
        if looks_like_workload_pod(pod)
            && looks_like_name(ns)
            && (looks_like_name(stem) || hints.previous)
        {
            hints.namespace = Some(ns.to_owned());
            hints.pod = Some(pod.to_owned());
            if stem != "previous" {
                hints.container = Some(stem.to_owned());
            }
            return hints;
        }
    }
    // POD_CONTAINER.log or POD.log
    if let Some((pod, container)) = stem.rsplit_once('_') {
        if looks_like_pod(pod) && looks_like_name(container) {
            hints.pod = Some(pod.to_owned());
            hints.container = Some(container.to_owned());
            return hints;
        }
    }
    if looks_like_pod(stem) {
        hints.pod = Some(stem.to_owned());
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_cri_paths() {
        let h = from_path("var/log/pods/mcp-everything_mcp-backend-7c9d5b8f6d-x2kqp_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/backend/1.log");
        assert_eq!(h.pod.as_deref(), Some("mcp-backend-7c9d5b8f6d-x2kqp"));
        assert_eq!(h.container.as_deref(), Some("backend"));
        assert_eq!(h.namespace.as_deref(), Some("mcp-everything"));
        let id = "a".repeat(64);
        let h = from_path(&format!(
            "/var/log/containers/mcp-backend-7c9d5b8f6d-x2kqp_mcp-everything_backend-{id}.log"
        ));
        assert_eq!(h.container.as_deref(), Some("backend"));
    }

    #[test]
    fn kubectl_export_names() {
        let h = from_path("incident/mcp-backend-7c9d5b8f6d-x2kqp.previous.log");
        assert_eq!(h.pod.as_deref(), Some("mcp-backend-7c9d5b8f6d-x2kqp"));
        assert!(h.previous);
        let h = from_path("mcp-backend-7c9d5b8f6d-r4t8n_backend.log");
        assert_eq!(h.container.as_deref(), Some("backend"));
        assert_eq!(h.pod.as_deref(), Some("mcp-backend-7c9d5b8f6d-r4t8n"));
        let h = from_path("mcp-backend-7c9d5b8f6d-9wzlm.log.gz");
        assert_eq!(h.pod.as_deref(), Some("mcp-backend-7c9d5b8f6d-9wzlm"));
    }

    #[test]
    fn archive_layout() {
        let h = from_path(
            "cluster-resources/pods/logs/mcp-everything/mcp-backend-7c9d5b8f6d-x2kqp/backend.log",
        );
        assert_eq!(h.namespace.as_deref(), Some("mcp-everything"));
        assert_eq!(h.pod.as_deref(), Some("mcp-backend-7c9d5b8f6d-x2kqp"));
        assert_eq!(h.container.as_deref(), Some("backend"));
        let h = from_path("mcp-everything/mcp-postgres-0/postgres.log");
        assert_eq!(h.pod.as_deref(), Some("mcp-postgres-0"));
        // A folder that merely has a dash is not a pod, nor its parent a namespace.
        let h = from_path("target/tmp/bench-data/bulk-500mb-50pct.log");
        assert_eq!(h.namespace, None);
    }

    #[test]
    fn ordinary_names_say_nothing() {
        assert_eq!(from_path("app.log"), PathHints::default());
        assert_eq!(from_path("Notes_2026.txt").pod, None);
    }
}
