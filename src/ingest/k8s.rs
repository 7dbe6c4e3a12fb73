//! Kubernetes objects as users export them: `kubectl get events -o json|yaml` (a `List` or
//! `EventList` of core/v1 or events.k8s.io/v1 events, or both mixed) and `kubectl get pods -o
//! json|yaml` (a `List`/`PodList` or a single `Pod`). JSON goes through serde_json, YAML (one
//! document or a `---` stream) through serde-saphyr, both into the same JSON value, which is
//! then read field by field so that a missing or null field costs that field, not the object.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::cluster::{
    quantity_bytes, ClusterEvent, ClusterObjects, ContainerInfo, ContainerState, ObjectRef, PodInfo,
};
use crate::model::time::parse_timestamp_prefix;
use crate::model::Millis;

/// Why a document could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DocError {
    pub message: String,
    /// 1-based line of the error, when the parser knows it.
    pub line: Option<u64>,
    pub yaml: bool,
}

/// What one document held, and what was passed over in it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: ClusterObjects,
    /// Objects of kinds this version does not read, by kind.
    pub other_kinds: BTreeMap<String, u64>,
    /// Objects that could not be used, each with why (e.g. an event with no time at all).
    pub unusable: Vec<String>,
}

/// Parses a JSON or YAML document (told apart by its first character). Causes are left for
/// the caller to map (it has the cause table).
pub fn parse(text: &str) -> Result<Parsed, DocError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let docs: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let leading = text[..text.len() - trimmed.len()].matches('\n').count() as u64;
        let v: Value = serde_json::from_str(trimmed).map_err(|e| DocError {
            message: format!("malformed JSON: {e}"),
            line: Some(e.line() as u64 + leading),
            yaml: false,
        })?;
        vec![v]
    } else {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| {
            let message = e.to_string();
            DocError {
                line: yaml_error_line(&message),
                message: format!("malformed YAML: {}", first_line(&message)),
                yaml: true,
            }
        })?
    };
    let mut out = Parsed::default();
    for doc in docs {
        walk(&doc, &mut out);
    }
    out.objects
        .events
        .sort_by(|a, b| (a.time, &a.object, &a.reason).cmp(&(b.time, &b.object, &b.reason)));
    Ok(out)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

/// serde-saphyr's messages carry `line N` (or `N:M`); the first number after "line" is taken.
fn yaml_error_line(message: &str) -> Option<u64> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn walk(v: &Value, out: &mut Parsed) {
    if let Value::Array(items) = v {
        for item in items {
            walk(item, out);
        }
        return;
    }
    let kind = str_at(v, &["kind"]);
    match kind {
        "List" | "EventList" | "PodList" => {
            if let Some(Value::Array(items)) = v.get("items") {
                for item in items {
                    walk(item, out);
                }
            }
        }
        "Event" => match event(v) {
            Ok(e) => out.objects.events.push(e),
            Err(why) => out.unusable.push(why),
        },
        "Pod" => out.objects.pods.push(pod(v)),
        "" if v.is_null() => {}
        "" => *out.other_kinds.entry("(no kind)".into()).or_default() += 1,
        other => *out.other_kinds.entry(other.to_owned()).or_default() += 1,
    }
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = v;
    for key in path {
        match cur.get(key) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

fn time_at(v: &Value, path: &[&str]) -> Option<Millis> {
    let s = str_at(v, path);
    let p = parse_timestamp_prefix(s.as_bytes())?;
    (p.len == s.len() && p.has_zone).then_some(p.millis)
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_u64()
        .or_else(|| cur.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn object_ref(v: Option<&Value>) -> ObjectRef {
    let Some(v) = v else {
        return ObjectRef::default();
    };
    ObjectRef {
        kind: str_at(v, &["kind"]).to_owned(),
        name: str_at(v, &["name"]).to_owned(),
        namespace: str_at(v, &["namespace"]).to_owned(),
    }
}

/// One event, either API. Its time follows kubectl: the series' last observation, then
/// `lastTimestamp`, then `firstTimestamp`, then `eventTime` (events.k8s.io/v1 names the first
/// two `deprecatedLastTimestamp` / `deprecatedFirstTimestamp`).
fn event(v: &Value) -> Result<ClusterEvent, String> {
    let object = object_ref(v.get("involvedObject").or_else(|| v.get("regarding")));
    let reason = str_at(v, &["reason"]).to_owned();
    let series_last = time_at(v, &["series", "lastObservedTime"]);
    let last = time_at(v, &["lastTimestamp"]).or_else(|| time_at(v, &["deprecatedLastTimestamp"]));
    let first =
        time_at(v, &["firstTimestamp"]).or_else(|| time_at(v, &["deprecatedFirstTimestamp"]));
    let event_time = time_at(v, &["eventTime"]);
    let Some(time) = series_last.or(last).or(first).or(event_time) else {
        return Err(format!(
            "event {} on {}: no time in it (series.lastObservedTime, lastTimestamp, firstTimestamp and eventTime all empty); not placed on the timeline",
            if reason.is_empty() { "(no reason)" } else { &reason },
            object.display()
        ));
    };
    let count = u64_at(v, &["series", "count"])
        .or_else(|| u64_at(v, &["count"]))
        .or_else(|| u64_at(v, &["deprecatedCount"]))
        .unwrap_or(1)
        .max(1);
    let first_seen = first.or(event_time).unwrap_or(time).min(time);
    let message = match str_at(v, &["message"]) {
        "" => str_at(v, &["note"]),
        m => m,
    };
    let source = [
        str_at(v, &["source", "component"]),
        str_at(v, &["reportingController"]),
        str_at(v, &["reportingComponent"]),
        str_at(v, &["deprecatedSource", "component"]),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or("")
    .to_owned();
    Ok(ClusterEvent {
        time,
        first_seen,
        last_seen: time,
        count,
        kind: str_at(v, &["type"]).to_owned(),
        cause: None,
        reason,
        object,
        message: message.trim().to_owned(),
        source,
    })
}

fn state(v: Option<&Value>) -> Option<ContainerState> {
    let v = v?;
    if let Some(r) = v.get("running").filter(|r| r.is_object()) {
        return Some(ContainerState::Running {
            started_at: time_at(r, &["startedAt"]),
        });
    }
    if let Some(w) = v.get("waiting").filter(|w| w.is_object()) {
        return Some(ContainerState::Waiting {
            reason: str_at(w, &["reason"]).to_owned(),
            message: str_at(w, &["message"]).to_owned(),
        });
    }
    if let Some(t) = v.get("terminated").filter(|t| t.is_object()) {
        return Some(ContainerState::Terminated {
            reason: str_at(t, &["reason"]).to_owned(),
            exit_code: t.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
            started_at: time_at(t, &["startedAt"]),
            finished_at: time_at(t, &["finishedAt"]),
            message: str_at(t, &["message"]).trim().to_owned(),
        });
    }
    None
}

fn pod(v: &Value) -> PodInfo {
    // Resources come from the spec, by container name.
    let mut resources: BTreeMap<(bool, String), &Value> = BTreeMap::new();
    for (init, key) in [(false, "containers"), (true, "initContainers")] {
        if let Some(Value::Array(cs)) = v.get("spec").and_then(|s| s.get(key)) {
            for c in cs {
                if let Some(r) = c.get("resources") {
                    resources.insert((init, str_at(c, &["name"]).to_owned()), r);
                }
            }
        }
    }
    let mut containers = Vec::new();
    for (init, key) in [
        (true, "initContainerStatuses"),
        (false, "containerStatuses"),
    ] {
        let Some(Value::Array(statuses)) = v.get("status").and_then(|s| s.get(key)) else {
            continue;
        };
        for s in statuses {
            let name = str_at(s, &["name"]).to_owned();
            let res = resources.remove(&(init, name.clone()));
            let quantity = |path: &[&str]| {
                res.map(|r| str_at(r, path))
                    .filter(|q| !q.is_empty())
                    .map(str::to_owned)
            };
            let memory_limit = quantity(&["limits", "memory"]);
            containers.push(ContainerInfo {
                name,
                init,
                ready: s.get("ready").and_then(Value::as_bool).unwrap_or(false),
                restart_count: u64_at(s, &["restartCount"]).unwrap_or(0),
                state: state(s.get("state")),
                last_state: state(s.get("lastState")),
                memory_limit_bytes: memory_limit.as_deref().and_then(quantity_bytes),
                memory_limit,
                memory_request: quantity(&["requests", "memory"]),
                cpu_limit: quantity(&["limits", "cpu"]),
                cpu_request: quantity(&["requests", "cpu"]),
            });
        }
    }
    // Containers the spec names but the status does not (a pod exported without status).
    for ((init, name), r) in resources {
        let q = |path: &[&str]| {
            Some(str_at(r, path))
                .filter(|q| !q.is_empty())
                .map(str::to_owned)
        };
        let memory_limit = q(&["limits", "memory"]);
        containers.push(ContainerInfo {
            name,
            init,
            ready: false,
            restart_count: 0,
            state: None,
            last_state: None,
            memory_limit_bytes: memory_limit.as_deref().and_then(quantity_bytes),
            memory_limit,
            memory_request: q(&["requests", "memory"]),
            cpu_limit: q(&["limits", "cpu"]),
            cpu_request: q(&["requests", "cpu"]),
        });
    }
    PodInfo {
        name: str_at(v, &["metadata", "name"]).to_owned(),
        namespace: str_at(v, &["metadata", "namespace"]).to_owned(),
        phase: str_at(v, &["status", "phase"]).to_owned(),
        node: str_at(v, &["spec", "nodeName"]).to_owned(),
        containers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::format_rfc3339;

    fn cause_of(reason: &str) -> Option<String> {
        matches!(reason, "OOMKilled" | "OOMKilling" | "Evicted").then(|| "memory_exhaustion".into())
    }

    const EVENTS: &str = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "count": 40,
            "firstTimestamp": "2026-11-20T09:40:00Z",
            "lastTimestamp": "2026-11-20T10:00:00Z",
            "eventTime": null,
            "involvedObject": {"kind": "Pod", "name": "mcp-backend-7c9d5b8f6d-x2kqp", "namespace": "mcp-everything"},
            "kind": "Event",
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "metadata": {"name": "mcp-backend-7c9d5b8f6d-x2kqp.1", "namespace": "mcp-everything"},
            "reason": "Unhealthy",
            "source": {"component": "kubelet", "host": "node-1"},
            "type": "Warning"
        },
        {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "eventTime": "2026-11-20T09:50:00.123456Z",
            "series": {"count": 3, "lastObservedTime": "2026-11-20T09:55:00.000000Z"},
            "reason": "BackOff",
            "note": "Back-off restarting failed container backend",
            "regarding": {"kind": "Pod", "name": "mcp-backend-7c9d5b8f6d-9wzlm", "namespace": "mcp-everything"},
            "reportingController": "kubelet",
            "type": "Warning",
            "metadata": {"name": "x"}
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "reason": "Scheduled",
            "involvedObject": {"kind": "Pod", "name": "p"},
            "firstTimestamp": null,
            "lastTimestamp": null,
            "eventTime": null
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}"#;

    #[test]
    fn both_event_apis_with_kubectls_time_rule() {
        let p = parse(EVENTS).unwrap();
        assert_eq!(p.objects.events.len(), 2);
        let backoff = &p.objects.events[0];
        assert_eq!(backoff.reason, "BackOff");
        assert_eq!(format_rfc3339(backoff.time), "2026-11-20T09:55:00.000Z");
        assert_eq!(
            format_rfc3339(backoff.first_seen),
            "2026-11-20T09:50:00.123Z"
        );
        assert_eq!(backoff.count, 3);
        assert_eq!(
            backoff.message,
            "Back-off restarting failed container backend"
        );
        assert_eq!(backoff.source, "kubelet");
        let probe = &p.objects.events[1];
        assert_eq!(probe.count, 40);
        assert_eq!(format_rfc3339(probe.first_seen), "2026-11-20T09:40:00.000Z");
        assert_eq!(format_rfc3339(probe.last_seen), "2026-11-20T10:00:00.000Z");
        assert_eq!(probe.object.display(), "Pod/mcp-backend-7c9d5b8f6d-x2kqp");
        assert_eq!(p.unusable.len(), 1, "the event with no time is named");
        assert!(p.unusable[0].contains("Scheduled"));
        assert_eq!(p.other_kinds.get("ConfigMap"), Some(&1));
    }

    #[test]
    fn pods_in_yaml_with_an_oom_kill() {
        let yaml = r#"---
apiVersion: v1
kind: Pod
metadata:
  name: mcp-backend-7c9d5b8f6d-x2kqp
  namespace: mcp-everything
spec:
  nodeName: node-1
  containers:
  - name: backend
    resources:
      limits: {memory: 512Mi, cpu: 500m}
      requests: {memory: 256Mi}
status:
  phase: Running
  containerStatuses:
  - name: backend
    ready: true
    restartCount: 2
    state:
      running: {startedAt: "2026-11-20T10:05:00Z"}
    lastState:
      terminated: {reason: OOMKilled, exitCode: 1, startedAt: "2026-11-20T09:30:00Z", finishedAt: "2026-11-20T10:04:58Z"}
---
apiVersion: v1
kind: Pod
metadata: {name: no-status, namespace: mcp-everything}
spec:
  containers:
  - name: backend
    resources: {limits: {memory: 1Gi}}
"#;
        let p = parse(yaml).unwrap();
        assert_eq!(p.objects.pods.len(), 2);
        let pod = &p.objects.pods[0];
        let c = &pod.containers[0];
        assert_eq!(c.restart_count, 2);
        assert_eq!(c.memory_limit_bytes, Some(512 << 20));
        assert_eq!(c.last_state.as_ref().unwrap().reason(), "OOMKilled");
        let t = p.objects.terminations(cause_of);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].exit_code, 1);
        assert_eq!(t[0].cause.as_deref(), Some("memory_exhaustion"));
        assert_eq!(
            p.objects.pods[1].containers[0].memory_limit.as_deref(),
            Some("1Gi")
        );
        assert_eq!(p.objects.pods[1].phase, "");
    }

    #[test]
    fn broken_documents_say_where() {
        let e = parse("{\"kind\": \"List\", \"items\": [\n{\"kind\": \"Event\",\n").unwrap_err();
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        assert_eq!(e.line, Some(3));
        let e =
            parse("apiVersion: v1\nkind: List\nitems:\n  - kind: Event\n   bad: [\n").unwrap_err();
        assert!(
            e.yaml && e.message.starts_with("malformed YAML"),
            "{}",
            e.message
        );
    }
}
