//! `kubectl describe pod` text, one pod or many: the pod's namespace, node and phase, each
//! container's (and init container's) state and last state with reasons, exit codes and
//! times (RFC 2822 with an offset, as describe prints them), ready, restart count, limits
//! and requests, and the pod's Events table, whose ages are counted back from a capture time
//! like any events table. Read line by line by indentation; a field that is missing or
//! unreadable costs that field, not the pod.

use chrono::DateTime;

use super::{table_columns, table_event, Parsed};
use crate::model::cluster::{quantity_bytes, ContainerInfo, ContainerState, ObjectRef, PodInfo};
use crate::model::Millis;

/// Whether `text` is `kubectl describe pod` output: `Name:` first, then the pod's
/// `Namespace:` and a top-level `Containers:` section (a deployment's describe nests its
/// containers under `Pod Template:`).
pub fn is_describe(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("Name:")
        && t.contains("\nNamespace:")
        && (t.contains("\nContainers:") || t.contains("\nInit Containers:"))
}

/// Parses every pod in a `kubectl describe pod(s)` output. The Events tables' ages count back
/// from `captured`; without it the pods are still read and their events are named as
/// unplaced.
pub fn parse_describe(text: &str, captured: Option<(Millis, &str)>) -> Parsed {
    let mut out = Parsed::default();
    let mut unplaced = 0u64;
    let lines: Vec<&str> = text.lines().collect();
    let mut starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Name:"))
        .map(|(i, _)| i)
        .collect();
    starts.push(lines.len());
    for w in starts.windows(2) {
        let (pod, events) = pod_block(&lines[w[0]..w[1]], w[0]);
        let object = ObjectRef {
            kind: "Pod".into(),
            name: pod.name.clone(),
            namespace: pod.namespace.clone(),
        };
        if let Some((cols, rows)) = events {
            for (no, row) in rows {
                let Some((now, _)) = captured else {
                    unplaced += 1;
                    continue;
                };
                match table_event(&cols, row, now, &object) {
                    Ok(e) => out.objects.events.push(e),
                    Err(why) => out.unusable.push(format!(
                        "line {}: event of {}: {why}; row skipped",
                        no + 1,
                        object.display()
                    )),
                }
            }
        }
        out.objects.pods.push(pod);
    }
    if unplaced > 0 {
        out.unusable.push(format!(
            "{unplaced} events in the describe output carry only ages (\"6m40s\") and there is no time to count them back from: pass --captured-at TIME to place them (the pods' states, which carry real times, are used)"
        ));
    }
    if let (Some((now, from)), false) = (captured, out.objects.events.is_empty()) {
        out.assumed = Some(format!(
            "event times from the describe output's ages counted back from {} ({from}); ages are rounded, so times are approximate",
            crate::model::time::format_rfc3339(now)
        ));
    }
    out.objects
        .events
        .sort_by(|a, b| (a.time, &a.object, &a.reason).cmp(&(b.time, &b.object, &b.reason)));
    out
}

/// A line's indentation and its `Key: value` (key `None` for a line that is not a field, such
/// as a mount path or a table row).
fn field(line: &str) -> (usize, Option<&str>, &str) {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    if let Some(colon) = trimmed.find(':') {
        let key = &trimmed[..colon];
        let rest = &trimmed[colon + 1..];
        let is_key = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
            && !key.contains("  ")
            && (rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t'));
        if is_key {
            return (indent, Some(key), rest.trim());
        }
    }
    (indent, None, trimmed)
}

/// describe's times: `Thu, 27 Feb 2025 07:36:21 +0100`.
fn describe_time(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A state (`State:` or `Last State:`) as its fields arrive.
#[derive(Default)]
struct StateFields {
    word: String,
    reason: String,
    exit_code: Option<i64>,
    started: Option<Millis>,
    finished: Option<Millis>,
    message: String,
}

impl StateFields {
    fn build(self) -> Option<ContainerState> {
        match self.word.as_str() {
            "Running" => Some(ContainerState::Running {
                started_at: self.started,
            }),
            "Waiting" => Some(ContainerState::Waiting {
                reason: self.reason,
                message: self.message,
            }),
            "Terminated" => Some(ContainerState::Terminated {
                reason: self.reason,
                exit_code: self.exit_code.unwrap_or(0),
                started_at: self.started,
                finished_at: self.finished,
                message: self.message,
            }),
            _ => None,
        }
    }
}

/// A container as its fields arrive.
struct ContainerFields {
    info: ContainerInfo,
    state: StateFields,
    last_state: StateFields,
}

impl ContainerFields {
    fn new(name: &str, init: bool) -> Self {
        ContainerFields {
            info: ContainerInfo {
                name: name.to_owned(),
                init,
                ready: false,
                restart_count: 0,
                state: None,
                last_state: None,
                memory_limit: None,
                memory_limit_bytes: None,
                memory_request: None,
                cpu_limit: None,
                cpu_request: None,
            },
            state: StateFields::default(),
            last_state: StateFields::default(),
        }
    }

    fn build(self) -> ContainerInfo {
        let mut info = self.info;
        info.state = self.state.build();
        info.last_state = self.last_state.build();
        info.memory_limit_bytes = info.memory_limit.as_deref().and_then(quantity_bytes);
        info
    }
}

type EventRows<'a> = (Vec<(String, usize)>, Vec<(usize, &'a str)>);

/// One pod's block (from its `Name:` line to the next pod's), and its Events table's columns
/// and rows (with their 0-based line numbers in the whole text).
fn pod_block<'a>(lines: &[&'a str], first_line: usize) -> (PodInfo, Option<EventRows<'a>>) {
    let mut pod = PodInfo {
        name: String::new(),
        namespace: String::new(),
        phase: String::new(),
        node: String::new(),
        containers: Vec::new(),
    };
    let mut section = "";
    let mut current: Option<ContainerFields> = None;
    // Inside a container: which field's children are being read, and at what indentation the
    // container's own fields sit.
    let mut sub = String::new();
    let mut field_indent = usize::MAX;
    let mut name_indent: Option<usize> = None;
    let mut events: Option<EventRows<'a>> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (indent, key, value) = field(line);
        if indent == 0 {
            if let Some(c) = current.take() {
                pod.containers.push(c.build());
            }
            section = key.unwrap_or("");
            name_indent = None;
            match section {
                "Name" => pod.name = value.to_owned(),
                "Namespace" => pod.namespace = value.to_owned(),
                "Node" => pod.node = value.split('/').next().unwrap_or("").to_owned(),
                "Status" => {
                    pod.phase = value.split_whitespace().next().unwrap_or("").to_owned();
                }
                "Events" if value != "<none>" => events = Some((Vec::new(), Vec::new())),
                _ => {}
            }
            continue;
        }
        match section {
            "Containers" | "Init Containers" => {
                let init = section == "Init Containers";
                let names_at = *name_indent.get_or_insert(indent);
                if indent <= names_at {
                    // A container's name line: `  backend:`.
                    if let (Some(name), "") = (key, value) {
                        if let Some(c) = current.take() {
                            pod.containers.push(c.build());
                        }
                        current = Some(ContainerFields::new(name, init));
                        field_indent = usize::MAX;
                        sub.clear();
                    }
                    continue;
                }
                let Some(c) = current.as_mut() else { continue };
                let Some(key) = key else { continue };
                if field_indent == usize::MAX {
                    field_indent = indent;
                }
                if indent == field_indent {
                    sub = key.to_owned();
                    match key {
                        "State" => c.state.word = value.to_owned(),
                        "Last State" => c.last_state.word = value.to_owned(),
                        "Ready" => c.info.ready = value.eq_ignore_ascii_case("true"),
                        "Restart Count" => c.info.restart_count = value.parse().unwrap_or(0),
                        _ => {}
                    }
                    continue;
                }
                // A field's child: a state's Reason/Exit Code/..., a limit or request.
                match sub.as_str() {
                    "State" | "Last State" => {
                        let s = if sub == "State" {
                            &mut c.state
                        } else {
                            &mut c.last_state
                        };
                        match key {
                            "Reason" => s.reason = value.to_owned(),
                            "Exit Code" => s.exit_code = value.parse().ok(),
                            "Started" => s.started = describe_time(value),
                            "Finished" => s.finished = describe_time(value),
                            "Message" => s.message = value.to_owned(),
                            _ => {}
                        }
                    }
                    "Limits" | "Requests" => {
                        let q = Some(value.to_owned()).filter(|v| !v.is_empty());
                        match (sub.as_str(), key) {
                            ("Limits", "memory") => c.info.memory_limit = q,
                            ("Limits", "cpu") => c.info.cpu_limit = q,
                            ("Requests", "memory") => c.info.memory_request = q,
                            ("Requests", "cpu") => c.info.cpu_request = q,
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            "Events" => {
                let Some((cols, rows)) = events.as_mut() else {
                    continue;
                };
                if cols.is_empty() {
                    *cols = table_columns(line);
                } else if !line.trim_start().starts_with("--") {
                    rows.push((first_line + i, line));
                }
            }
            _ => {}
        }
    }
    if let Some(c) = current.take() {
        pod.containers.push(c.build());
    }
    (pod, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::format_rfc3339;

    /// Trimmed from a real `kubectl describe pod` (HolmesGPT's OOM-kill fixture).
    const DESCRIBE: &str = "Name:             analytics-exporter-fast-76897854c-cw5wh
Namespace:        default
Priority:         0
Node:             grafana-cloud-control-plane/172.18.0.2
Start Time:       Thu, 27 Feb 2025 07:30:28 +0100
Labels:           app=analytics-exporter-fast
                  pod-template-hash=76897854c
Status:           Running
Containers:
  memory-eater:
    Container ID:  containerd://0ca62d24c10e
    Image:         us-central1-docker.pkg.dev/genuine-flight-317411/devel/memory-eater:1.0
    Port:          <none>
    Args:
      80Mi
      0
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Thu, 27 Feb 2025 07:36:21 +0100
      Finished:     Thu, 27 Feb 2025 07:36:22 +0100
    Ready:          False
    Restart Count:  6
    Limits:
      memory:  100Mi
    Requests:
      memory:     100Mi
    Environment:  <none>
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-2vlp9 (ro)
Conditions:
  Type                        Status
  Ready                       False
QoS Class:                   Burstable
Events:
  Type     Reason     Age                    From               Message
  ----     ------     ----                   ----               -------
  Normal   Scheduled  6m40s                  default-scheduler  Successfully assigned default/analytics-exporter-fast-76897854c-cw5wh to grafana-cloud-control-plane
  Warning  BackOff    87s (x23 over 6m33s)   kubelet            Back-off restarting failed container memory-eater in pod analytics-exporter-fast-76897854c-cw5wh_default(a954616f)
";

    #[test]
    fn a_real_describe_with_an_oom_kill_and_its_events() {
        assert!(is_describe(DESCRIBE));
        let now = DateTime::parse_from_rfc3339("2025-02-27T06:37:49Z")
            .unwrap()
            .timestamp_millis();
        let p = parse_describe(DESCRIBE, Some((now, "--captured-at")));
        let pod = &p.objects.pods[0];
        assert_eq!(pod.name, "analytics-exporter-fast-76897854c-cw5wh");
        assert_eq!(
            (pod.namespace.as_str(), pod.phase.as_str()),
            ("default", "Running")
        );
        assert_eq!(pod.node, "grafana-cloud-control-plane");
        let c = &pod.containers[0];
        assert_eq!(
            (c.name.as_str(), c.restart_count, c.ready),
            ("memory-eater", 6, false)
        );
        assert_eq!(c.memory_limit_bytes, Some(100 << 20));
        assert_eq!(c.memory_request.as_deref(), Some("100Mi"));
        assert_eq!(c.state.as_ref().unwrap().reason(), "CrashLoopBackOff");
        let t = p.objects.terminations();
        assert_eq!((t[0].reason.as_str(), t[0].exit_code), ("OOMKilled", 137));
        assert_eq!(
            format_rfc3339(t[0].finished_at.unwrap()),
            "2025-02-27T06:36:22.000Z"
        );
        let e = &p.objects.events;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].reason, "Scheduled");
        assert_eq!(format_rfc3339(e[0].time), "2025-02-27T06:31:09.000Z");
        let backoff = &e[1];
        assert_eq!((backoff.count, backoff.source.as_str()), (23, "kubelet"));
        assert_eq!(
            backoff.object.display(),
            "Pod/analytics-exporter-fast-76897854c-cw5wh"
        );
        assert_eq!(
            format_rfc3339(backoff.first_seen),
            "2025-02-27T06:31:16.000Z"
        );
        assert!(p.assumed.is_some());
    }

    #[test]
    fn without_a_capture_time_pods_are_read_and_events_named() {
        let p = parse_describe(DESCRIBE, None);
        assert_eq!(p.objects.pods.len(), 1);
        assert!(p.objects.events.is_empty());
        assert!(p.unusable[0].contains("--captured-at"), "{:?}", p.unusable);
        assert!(p.assumed.is_none());
    }

    #[test]
    fn several_pods_and_init_containers() {
        let text = "Name:         a
Namespace:    ns
Status:       Pending
Init Containers:
  install:
    State:          Waiting
      Reason:       RunContainerError
    Last State:     Terminated
      Reason:       ContainerCannotRun
      Exit Code:    127
      Started:      Mon, 10 Jul 2023 19:07:58 +0000
      Finished:     Mon, 10 Jul 2023 19:07:58 +0000
    Ready:          False
    Restart Count:  1
Containers:
  app:
    State:          Waiting
      Reason:       PodInitializing
    Ready:          False
    Restart Count:  0
Events:            <none>


Name:         b
Namespace:    ns
Status:       Running
Containers:
  app:
    State:          Running
      Started:      Mon, 10 Jul 2023 19:00:00 +0000
    Ready:          True
    Restart Count:  0
Events:            <none>
";
        assert!(is_describe(text));
        let p = parse_describe(text, None);
        assert!(p.unusable.is_empty(), "{:?}", p.unusable);
        let pods = &p.objects.pods;
        assert_eq!(pods.len(), 2);
        assert_eq!(pods[0].containers.len(), 2);
        assert!(pods[0].containers[0].init);
        assert_eq!(pods[0].containers[0].restart_count, 1);
        assert_eq!(
            pods[0].containers[0].last_state.as_ref().unwrap().reason(),
            "ContainerCannotRun"
        );
        assert!(pods[1].containers[0].ready);
        assert!(!is_describe(
            "Name: a deployment\nNamespace: x\nPod Template:\n  Containers:\n"
        ));
    }
}
