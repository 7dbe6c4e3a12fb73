//! Kubernetes objects as users export them: `kubectl get events -o json|yaml` (a `List` or
//! `EventList` of core/v1 or events.k8s.io/v1 events, or both mixed), `kubectl get pods -o
//! json|yaml` (a `List`/`PodList` or a single `Pod`), and `kubectl get events` / `kubectl
//! events` tables (ages counted back from a capture time). JSON goes through serde_json, YAML
//! (one document or a `---` stream) through serde-saphyr, both into the same JSON value, which
//! is then read field by field so that a missing or null field costs that field, not the
//! object. `kubectl describe pod(s)` text is read in [`describe`].

pub mod describe;

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
    pub format: DocFormat,
}

/// What kind of document failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocFormat {
    Json,
    Yaml,
    /// A `kubectl get events` table that cannot be placed in time or split into columns.
    Table,
}

/// What one document held, and what was passed over in it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: ClusterObjects,
    /// Objects of kinds this version does not read, by kind.
    pub other_kinds: BTreeMap<String, u64>,
    /// Objects that could not be used, each with why (e.g. an event with no time at all).
    pub unusable: Vec<String>,
    /// An assumption the times rest on (a table's ages counted back from a capture time).
    pub assumed: Option<String>,
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
            format: DocFormat::Json,
        })?;
        vec![v]
    } else {
        super::yaml::documents(text).map_err(|e| DocError {
            line: e.line,
            message: e.message,
            format: DocFormat::Yaml,
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

/// Whether `text` is a `kubectl get events` / `kubectl events` table: its header (`LAST SEEN`,
/// maybe after `NAMESPACE`), or rows that start with an age and an event type (a table
/// printed with `--no-headers`).
pub fn is_event_table(text: &str) -> bool {
    let first = text.trim_start().lines().next().unwrap_or("");
    let words: Vec<&str> = first.split_whitespace().take(3).collect();
    match words.as_slice() {
        ["LAST", "SEEN", ..] | ["NAMESPACE", "LAST", "SEEN"] => true,
        [age, "Normal" | "Warning", ..] => parse_age(age).is_some(),
        _ => false,
    }
}

/// kubectl's short durations (`45s`, `12m`, `3m2s`, `5h10m`, `2d`, `3y`) in milliseconds.
pub fn parse_age(s: &str) -> Option<Millis> {
    let mut total: Millis = 0;
    let mut num = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: Millis = num.parse().ok()?;
        num.clear();
        let unit = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'y' => 365 * 86_400_000,
            _ => return None,
        };
        total += n * unit;
        any = true;
    }
    (num.is_empty() && any).then_some(total)
}

/// Parses a `kubectl get events` or `kubectl events` table. Its ages count back from
/// `captured` (a time and where it came from); without one the table cannot be placed and
/// is refused. Columns are found by the header's positions (kubectl aligns every row to them).
pub fn parse_event_table(text: &str, captured: Option<(Millis, &str)>) -> Result<Parsed, DocError> {
    let refuse = |message: String, line: Option<u64>| DocError {
        message,
        line,
        format: DocFormat::Table,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_no, header)) = lines.next() else {
        return Ok(Parsed::default());
    };
    if !header.trim_start().starts_with("LAST SEEN")
        && !header.trim_start().starts_with("NAMESPACE")
    {
        return Err(refuse(
            "a kubectl events table without its header line (LAST SEEN  TYPE  REASON  OBJECT  MESSAGE): its columns cannot be told apart; export it again without --no-headers".into(),
            Some(header_no as u64 + 1),
        ));
    }
    let Some((now, from)) = captured else {
        return Err(refuse(
            "a kubectl events table gives only ages (\"12m\"), and there is no time to count them back from: pass --captured-at TIME (when the table was printed)".into(),
            Some(header_no as u64 + 1),
        ));
    };
    let cols = table_columns(header);
    let mut out = Parsed::default();
    for (no, line) in lines {
        match table_event(&cols, line, now, &ObjectRef::default()) {
            Ok(e) => out.objects.events.push(e),
            Err(why) => out
                .unusable
                .push(format!("line {}: {why}; row skipped", no + 1)),
        }
    }
    out.objects
        .events
        .sort_by(|a, b| (a.time, &a.object, &a.reason).cmp(&(b.time, &b.object, &b.reason)));
    out.assumed = Some(format!(
        "event times from the table's ages counted back from {} ({from}); ages are rounded, so times are approximate",
        crate::model::time::format_rfc3339(now)
    ));
    Ok(out)
}

/// A kubectl table header's column names (upper-cased) and their start positions, in
/// characters. A name may hold one space ("LAST SEEN"); two end it.
pub(super) fn table_columns(header: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = header.chars().collect();
    let mut cols = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        cols.push((name.trim().to_uppercase(), start));
    }
    cols
}

/// One row of an events table (`kubectl get events`, `kubectl events`, or the Events of
/// `kubectl describe`), placed by counting its age back from `now`. Rows without an OBJECT
/// column are about `object` (describe's events are about the described pod).
pub(super) fn table_event(
    cols: &[(String, usize)],
    line: &str,
    now: Millis,
    object: &ObjectRef,
) -> Result<ClusterEvent, String> {
    let row: Vec<char> = line.chars().collect();
    let field = |names: &[&str]| -> String {
        let Some(k) = cols.iter().position(|(n, _)| names.contains(&n.as_str())) else {
            return String::new();
        };
        let start = cols[k].1.min(row.len());
        let end = cols.get(k + 1).map_or(row.len(), |c| c.1.min(row.len()));
        row[start..end].iter().collect::<String>().trim().to_owned()
    };
    // `kubectl events` and describe write "3m (x4 over 10m)" in LAST SEEN / Age.
    let last_cell = field(&["LAST SEEN", "AGE"]);
    let (last_age, repeat) = match last_cell.split_once(" (x") {
        Some((age, rest)) => (
            age.trim().to_owned(),
            Some(rest.trim_end_matches(')').to_owned()),
        ),
        None => (last_cell.clone(), None),
    };
    let Some(last_ago) = parse_age(&last_age) else {
        return Err(format!("{last_cell:?} is not an age like 12m or 3m2s"));
    };
    let (mut count, mut first_ago) = (1u64, last_ago);
    if let Some(rep) = repeat {
        // "4 over 10m"
        if let Some((n, over)) = rep.split_once(" over ") {
            count = n.trim().parse().unwrap_or(1);
            first_ago = parse_age(over.trim()).unwrap_or(last_ago).max(last_ago);
        }
    }
    if let Some(a) = parse_age(&field(&["FIRST SEEN"])) {
        first_ago = a.max(last_ago);
    }
    if let Ok(n) = field(&["COUNT"]).parse::<u64>() {
        count = n.max(1);
    }
    let object_cell = field(&["OBJECT"]);
    let object = match object_cell.split_once('/') {
        Some((k, n)) => ObjectRef {
            kind: capitalize(k),
            name: n.to_owned(),
            namespace: field(&["NAMESPACE"]),
        },
        None if cols.iter().any(|(n, _)| n == "KIND" || n == "NAME") => ObjectRef {
            kind: field(&["KIND"]),
            name: field(&["NAME"]),
            namespace: field(&["NAMESPACE"]),
        },
        None => object.clone(),
    };
    Ok(ClusterEvent {
        time: now - last_ago,
        first_seen: now - first_ago,
        last_seen: now - last_ago,
        count,
        kind: field(&["TYPE"]),
        reason: field(&["REASON"]),
        object,
        message: field(&["MESSAGE"]),
        source: field(&["SOURCE", "FROM"]),
    })
}

/// kubectl prints kinds lower-case in OBJECT (`pod/x`); events name them `Pod`.
fn capitalize(kind: &str) -> String {
    match kind {
        "replicaset" => "ReplicaSet".into(),
        "statefulset" => "StatefulSet".into(),
        "daemonset" => "DaemonSet".into(),
        "horizontalpodautoscaler" => "HorizontalPodAutoscaler".into(),
        "persistentvolumeclaim" => "PersistentVolumeClaim".into(),
        _ => {
            let mut c = kind.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        }
    }
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

/// One container from its status (if the export has one) and its spec's resources.
fn container(
    name: String,
    init: bool,
    status: Option<&Value>,
    resources: Option<&Value>,
) -> ContainerInfo {
    let quantity = |path: &[&str]| {
        resources
            .map(|r| str_at(r, path))
            .filter(|q| !q.is_empty())
            .map(str::to_owned)
    };
    let memory_limit = quantity(&["limits", "memory"]);
    ContainerInfo {
        name,
        init,
        ready: status
            .and_then(|s| s.get("ready"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        restart_count: status
            .and_then(|s| u64_at(s, &["restartCount"]))
            .unwrap_or(0),
        state: state(status.and_then(|s| s.get("state"))),
        last_state: state(status.and_then(|s| s.get("lastState"))),
        memory_limit_bytes: memory_limit.as_deref().and_then(quantity_bytes),
        memory_limit,
        memory_request: quantity(&["requests", "memory"]),
        cpu_limit: quantity(&["limits", "cpu"]),
        cpu_request: quantity(&["requests", "cpu"]),
    }
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
            containers.push(container(name, init, Some(s), res));
        }
    }
    // Containers the spec names but the status does not (a pod exported without status).
    for ((init, name), r) in resources {
        containers.push(container(name, init, None, Some(r)));
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
        let t = p.objects.terminations();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].reason.as_str(), t[0].exit_code), ("OOMKilled", 1));
        assert_eq!(
            p.objects.pods[1].containers[0].memory_limit.as_deref(),
            Some("1Gi")
        );
        assert_eq!(p.objects.pods[1].phase, "");
    }

    #[test]
    fn event_tables_count_ages_back_from_the_capture_time() {
        let table = "LAST SEEN   TYPE      REASON      OBJECT                             MESSAGE
12m         Warning   Unhealthy   pod/mcp-backend-7c9d5b8f6d-x2kqp   Readiness probe failed: HTTP probe failed with statuscode: 503
3m2s        Normal    Started     pod/mcp-backend-7c9d5b8f6d-x2kqp   Started container backend
";
        assert!(is_event_table(table));
        let now = crate::model::time::parse_timestamp_prefix(b"2026-11-20T10:30:00Z")
            .unwrap()
            .millis;
        let p = parse_event_table(table, Some((now, "--captured-at"))).unwrap();
        let e = &p.objects.events;
        assert_eq!(e.len(), 2);
        assert_eq!(format_rfc3339(e[0].time), "2026-11-20T10:18:00.000Z");
        assert_eq!(e[0].object.display(), "Pod/mcp-backend-7c9d5b8f6d-x2kqp");
        assert_eq!(
            e[0].message,
            "Readiness probe failed: HTTP probe failed with statuscode: 503"
        );
        assert_eq!(format_rfc3339(e[1].time), "2026-11-20T10:26:58.000Z");
        assert!(p.assumed.unwrap().contains("approximate"));

        let events_cmd = "NAMESPACE        LAST SEEN               TYPE      REASON    OBJECT                             MESSAGE
mcp-everything   2m (x4 over 10m)        Warning   BackOff   Pod/mcp-backend-7c9d5b8f6d-q8d2w   Back-off restarting failed container backend
";
        let p = parse_event_table(events_cmd, Some((now, "x"))).unwrap();
        let e = &p.objects.events[0];
        assert_eq!((e.count, e.reason.as_str()), (4, "BackOff"));
        assert_eq!(format_rfc3339(e.first_seen), "2026-11-20T10:20:00.000Z");
        assert_eq!(format_rfc3339(e.last_seen), "2026-11-20T10:28:00.000Z");
        assert_eq!(e.object.namespace, "mcp-everything");

        let refused = parse_event_table(table, None).unwrap_err();
        assert!(
            refused.message.contains("--captured-at"),
            "{}",
            refused.message
        );
        let headless = "12m   Warning   Unhealthy   pod/x   Readiness probe failed\n";
        assert!(is_event_table(headless));
        let e = parse_event_table(headless, Some((now, "x"))).unwrap_err();
        assert!(e.message.contains("without its header"), "{}", e.message);
    }

    #[test]
    fn broken_documents_say_where() {
        let e = parse("{\"kind\": \"List\", \"items\": [\n{\"kind\": \"Event\",\n").unwrap_err();
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        assert_eq!(e.line, Some(3));
        let e =
            parse("apiVersion: v1\nkind: List\nitems:\n  - kind: Event\n   bad: [\n").unwrap_err();
        assert!(
            e.format == DocFormat::Yaml && e.message.starts_with("malformed YAML"),
            "{}",
            e.message
        );
    }
}
