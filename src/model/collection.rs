//! What a live collection did (`collected.json` in a bundle): where it collected from, the
//! window, every request with its outcome, and the gaps (what could not be collected, why,
//! and what to do). Written by `collect/`, read back by ingest so that analysing a saved
//! bundle later says the same about its completeness. No credentials are ever held here:
//! `--prometheus-header` values are not part of it.

use serde::{Deserialize, Serialize};

/// The `kind` that marks a collection record (so ingest can tell it from Kubernetes objects).
pub const KIND: &str = "PostmortemCollection";
pub const API_VERSION: &str = "postmortem/v1";

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Collection {
    pub kind: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `postmortem 0.1.0`.
    pub tool: String,
    /// The kube context used, and the API server's version.
    pub context: Option<String>,
    pub server_version: Option<String>,
    pub kubectl_version: Option<String>,
    pub namespace: String,
    /// `deployment/NAME` or `selector app=x`.
    pub target: String,
    /// The label selector the pods were listed with.
    pub selector: Option<String>,
    /// The window (RFC 3339): logs since `since`, everything up to `as_of`.
    pub since: String,
    pub as_of: String,
    /// Wall clock of the collection itself (RFC 3339).
    pub started_at: String,
    pub finished_at: String,
    pub prometheus: Option<PrometheusInfo>,
    pub pods: Vec<PodCollected>,
    /// Every request made, in the order they were planned.
    pub requests: Vec<Request>,
    /// What could not be collected.
    pub gaps: Vec<Gap>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PrometheusInfo {
    /// The URL given, or `service NS/NAME:PORT through the API server`.
    pub via: String,
    pub version: Option<String>,
    /// The `--prom-compat` followed: `2` or `3`, and whether it came from the server.
    pub compat: String,
    pub compat_from: String,
    /// The server's `storage.tsdb.retention.time`.
    pub retention: Option<String>,
    /// Rules read from `/api/v1/rules`, and the series they read.
    pub rules: usize,
    pub selectors: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PodCollected {
    pub name: String,
    pub node: Option<String>,
    pub containers: Vec<ContainerCollected>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ContainerCollected {
    pub name: String,
    pub restarts: u64,
    /// Bundle-relative files holding its logs (`logs/POD.log`), and the ended container's.
    pub logs: Option<String>,
    pub previous: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Request {
    /// What was asked, in words (`pods`, `logs mcp-backend-x/backend --previous`).
    pub what: String,
    /// The command line (kubectl) or the request path (Prometheus), without credentials.
    pub request: String,
    pub ok: bool,
    /// Milliseconds it took (wall clock), bytes received, the bundle file written.
    pub ms: u64,
    pub bytes: u64,
    pub file: Option<String>,
    pub error: Option<String>,
}

/// Why something is missing from the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// RBAC refused a request.
    Forbidden,
    /// A request failed otherwise (the server's error, a timeout).
    RequestFailed,
    /// The selector (or the deployment's) matched no pod.
    NoPods,
    /// A pod that existed in the window is gone: its logs cannot be collected.
    PodGone,
    /// A log starts well after the window began while its container was running: rotated
    /// away by the kubelet.
    LogRotated,
    /// A container restarted more than once in the window: `--previous` reaches only the last
    /// ended one.
    EarlierContainersLost,
    /// Prometheus keeps less history than the window (plus the rules' look-back) needs.
    RetentionTooShort,
    /// No Prometheus was given or found, or it could not be reached.
    NoPrometheus,
}

impl GapKind {
    /// Whether the gap can change what the analysis finds (logs or metrics are missing), as
    /// opposed to context (a pod's events).
    pub fn affects_findings(self) -> bool {
        !matches!(self, GapKind::NoPrometheus)
    }

    pub fn describe(self) -> &'static str {
        match self {
            GapKind::Forbidden => "forbidden by RBAC",
            GapKind::RequestFailed => "request failed",
            GapKind::NoPods => "no pods matched",
            GapKind::PodGone => "pod gone",
            GapKind::LogRotated => "log rotated away",
            GapKind::EarlierContainersLost => "earlier containers lost",
            GapKind::RetentionTooShort => "Prometheus retention too short",
            GapKind::NoPrometheus => "no Prometheus",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub kind: GapKind,
    /// What is missing (`logs of mcp-backend-x/backend`, `events`).
    pub subject: String,
    /// Why, with this cluster's facts.
    pub detail: String,
    /// What to do about it.
    pub fix: String,
}

impl Collection {
    /// The gaps that can change the findings.
    pub fn material_gaps(&self) -> usize {
        self.gaps
            .iter()
            .filter(|g| g.kind.affects_findings())
            .count()
    }
}
