//! The Kubernetes side of a live collection, through kubectl: the context and server, the
//! Deployment's selector, the matching pods, the namespace's events and the pods' nodes'
//! events, every container's logs over the window (`--timestamps --since-time --tail=-1`,
//! never kubectl's defaults) and `--previous` for each container that restarted; pods that
//! existed in the window but are gone (named by events and ReplicaSets); and a Service that
//! looks like Prometheus. What could not be collected becomes a gap with what to do.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};

use serde_json::Value;

use super::kubectl::{Kubectl, KubectlError};
use super::prometheus::Endpoint;
use super::{parallel, Bundle, Journal};
use crate::config::{LiveSettings, LiveTarget};
use crate::model::collection::{Collection, ContainerCollected, GapKind, PodCollected};
use crate::model::time::{format_duration, format_rfc3339, format_short, parse_time_in, Zone};
use crate::model::Millis;

/// What the cluster side found that the metrics side needs.
pub struct ClusterFound {
    pub prometheus_service: Option<Endpoint>,
}

/// A log starting this long after the window began (while its container ran) was cut.
const ROTATED_SLACK: Millis = 10 * 60_000;

fn time(v: &Value) -> Option<Millis> {
    parse_time_in(v.as_str()?, Zone::Utc)
}

/// One container of a pod, as its status says.
#[derive(Clone, Debug)]
struct ContainerState {
    name: String,
    restarts: u64,
    /// When the running (or last) container started, and when the ended one started/ended.
    started: Option<Millis>,
    previous_started: Option<Millis>,
    previous_finished: Option<Millis>,
}

#[derive(Clone, Debug)]
struct PodState {
    name: String,
    node: Option<String>,
    containers: Vec<ContainerState>,
}

fn pods_from(list: &Value) -> Vec<PodState> {
    let mut pods = Vec::new();
    for p in list["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(name) = p["metadata"]["name"].as_str() else {
            continue;
        };
        let statuses: BTreeMap<&str, &Value> = p["status"]["containerStatuses"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| Some((s["name"].as_str()?, s)))
            .collect();
        let containers = p["spec"]["containers"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .map(|c| {
                let st = statuses.get(c).copied().unwrap_or(&Value::Null);
                let state = &st["state"];
                let last = &st["lastState"]["terminated"];
                ContainerState {
                    name: c.to_owned(),
                    restarts: st["restartCount"].as_u64().unwrap_or(0),
                    started: time(&state["running"]["startedAt"])
                        .or_else(|| time(&state["terminated"]["startedAt"])),
                    previous_started: time(&last["startedAt"]),
                    previous_finished: time(&last["finishedAt"]),
                }
            })
            .collect();
        pods.push(PodState {
            name: name.to_owned(),
            node: p["spec"]["nodeName"].as_str().map(str::to_owned),
            containers,
        });
    }
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods
}

/// `matchLabels` and `matchExpressions` as a label selector (`a=b,c in (d,e)`).
fn selector_from(deployment: &Value) -> Option<String> {
    let sel = &deployment["spec"]["selector"];
    let mut parts: Vec<String> = sel["matchLabels"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    for e in sel["matchExpressions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let key = e["key"].as_str()?;
        let values: Vec<&str> = e["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match e["operator"].as_str()? {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Runs one kubectl request and journals it; output returned.
fn get(
    k: &Kubectl,
    j: &Journal,
    what: &str,
    args: &[&str],
    namespaced: bool,
) -> Result<Vec<u8>, KubectlError> {
    j.run(
        what.to_owned(),
        k.display(args, namespaced),
        || k.output(args, namespaced),
        |b| Ok((b.len() as u64, None)),
    )
}

/// Saves a `get -o json` answer in the bundle, journaled with its file.
fn save(
    k: &Kubectl,
    j: &Journal,
    b: &Bundle,
    what: &str,
    args: &[&str],
    file: &str,
) -> Result<Vec<u8>, KubectlError> {
    j.run(
        what.to_owned(),
        k.display(args, true),
        || k.output(args, true),
        |bytes| b.write(file, bytes).map(|n| (n, Some(file.to_owned()))),
    )
}

/// A failure that ends the cluster side (kubectl missing, no context, unreachable), said once.
fn fatal(j: &Journal, e: &KubectlError) -> bool {
    if matches!(
        e,
        KubectlError::NotInstalled | KubectlError::NoContext(_) | KubectlError::Unreachable(_)
    ) {
        j.gap(
            GapKind::RequestFailed,
            "Kubernetes",
            e.to_string(),
            "no logs, pods or events were collected",
        );
        true
    } else {
        false
    }
}

fn forbidden_or_failed(j: &Journal, subject: &str, e: &KubectlError, fix: &str) {
    match e {
        KubectlError::Forbidden(m) => j.gap(
            GapKind::Forbidden,
            subject,
            m.clone(),
            format!("ask for RBAC to read it ({fix})"),
        ),
        other => j.gap(
            GapKind::RequestFailed,
            subject,
            other.to_string(),
            fix.to_owned(),
        ),
    }
}

pub fn collect(
    s: &LiveSettings,
    b: &Bundle,
    j: &Journal,
    record: &mut Collection,
) -> Option<ClusterFound> {
    let mut k = Kubectl {
        program: s.kubectl.clone(),
        context: s.context.clone(),
        namespace: s.namespace.clone(),
    };
    // The context: given, or the current one (its absence is the first thing to say).
    if k.context.is_none() {
        match get(
            &k,
            j,
            "current context",
            &["config", "current-context"],
            false,
        ) {
            Ok(out) => {
                let c = String::from_utf8_lossy(&out).trim().to_owned();
                record.context = Some(c);
            }
            Err(e) => {
                let e = match e {
                    KubectlError::Failed(m) | KubectlError::NotFound(m) => {
                        KubectlError::NoContext(m)
                    }
                    other => other,
                };
                fatal(j, &e);
                return None;
            }
        }
    } else {
        record.context = k.context.clone();
    }
    match get(&k, j, "versions", &["version", "-o", "json"], false) {
        Ok(out) => {
            let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
            record.kubectl_version = v["clientVersion"]["gitVersion"].as_str().map(str::to_owned);
            record.server_version = v["serverVersion"]["gitVersion"].as_str().map(str::to_owned);
        }
        Err(e) => {
            if fatal(j, &e) {
                return None;
            }
        }
    }
    // Keep the context fixed for every later request, even if the user switches meanwhile.
    k.context = record.context.clone();

    let selector = match &s.target {
        LiveTarget::Selector(sel) => Some(sel.clone()),
        LiveTarget::Deployment(name) => {
            let args = ["get", "deployment", name.as_str(), "-o", "json"];
            match get(&k, j, &format!("deployment {name}"), &args, true) {
                Ok(out) => {
                    let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
                    let sel = selector_from(&v);
                    if sel.is_none() {
                        j.gap(
                            GapKind::NoPods,
                            format!("deployment {name}"),
                            "it has no label selector",
                            "pass -l/--selector",
                        );
                    }
                    sel
                }
                Err(e) => {
                    if fatal(j, &e) {
                        return None;
                    }
                    let fix = format!("pass --deployment NAME or -l SELECTOR (kubectl -n {} get deployments lists them)", s.namespace);
                    match e {
                        KubectlError::NotFound(m) => {
                            j.gap(GapKind::NoPods, format!("deployment {name}"), m, fix)
                        }
                        other => {
                            forbidden_or_failed(j, &format!("deployment {name}"), &other, &fix)
                        }
                    }
                    None
                }
            }
        }
    };
    record.selector = selector.clone();

    let mut pods = Vec::new();
    if let Some(sel) = &selector {
        match save(
            &k,
            j,
            b,
            "pods",
            &["get", "pods", "-l", sel, "-o", "json"],
            "pods.json",
        ) {
            Ok(out) => {
                let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
                pods = pods_from(&v);
                if pods.is_empty() {
                    j.gap(
                        GapKind::NoPods,
                        format!("pods matching {sel}"),
                        format!("no pod in namespace {} matches {sel}", s.namespace),
                        "check the namespace (-n) and the selector (-l), or whether the deployment is scaled to zero",
                    );
                }
            }
            Err(e) => {
                if fatal(j, &e) {
                    return None;
                }
                forbidden_or_failed(j, "pods", &e, "their logs cannot be listed without them");
            }
        }
    }

    // Events of the namespace, then of the pods' nodes (Node events live in `default`).
    let events = match save(
        &k,
        j,
        b,
        "events",
        &["get", "events", "-o", "json"],
        "events.json",
    ) {
        Ok(out) => serde_json::from_slice::<Value>(&out).unwrap_or(Value::Null),
        Err(e) => {
            forbidden_or_failed(
                j,
                "events",
                &e,
                "probe failures, kills and scheduling will be missing from the report",
            );
            Value::Null
        }
    };
    let nodes: BTreeSet<&str> = pods.iter().filter_map(|p| p.node.as_deref()).collect();
    let node_jobs: Vec<String> = nodes.iter().map(|n| (*n).to_owned()).collect();
    let node_events = parallel(node_jobs, s.max_requests, |node| {
        let field = format!("involvedObject.kind=Node,involvedObject.name={node}");
        let args = [
            "get",
            "events",
            "-n",
            "default",
            "--field-selector",
            field.as_str(),
            "-o",
            "json",
        ];
        let r = get(&k, j, &format!("events of node {node}"), &args, false);
        (node, r)
    });
    let mut items = Vec::new();
    let mut failed: BTreeMap<String, (Vec<String>, KubectlError)> = BTreeMap::new();
    for (node, r) in node_events {
        match r {
            Ok(out) => {
                let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
                items.extend(v["items"].as_array().cloned().unwrap_or_default());
            }
            // The same refusal for every node is one gap.
            Err(e) => failed
                .entry(format!("{:?}", std::mem::discriminant(&e)))
                .or_insert_with(|| (Vec::new(), e))
                .0
                .push(node),
        }
    }
    for (_, (nodes, e)) in failed {
        let subject = format!(
            "events of node{} {}",
            if nodes.len() == 1 { "" } else { "s" },
            nodes.join(", ")
        );
        forbidden_or_failed(
            j,
            &subject,
            &e,
            "node pressure and OOM kills by the node will be missing",
        );
    }
    if !items.is_empty() {
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
        let _ = b.write(
            "events-nodes.json",
            &serde_json::to_vec_pretty(&list).unwrap_or_default(),
        );
    }

    // Pods gone since: named by the ReplicaSets' events and the pods' own events.
    if let Some(sel) = &selector {
        let rs: Vec<String> = match get(
            &k,
            j,
            "replicasets",
            &["get", "replicasets", "-l", sel, "-o", "json"],
            true,
        ) {
            Ok(out) => {
                let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
                v["items"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| r["metadata"]["name"].as_str().map(str::to_owned))
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        for (pod, last) in gone_pods(&events, &rs, &pods, s.since) {
            j.gap(
                GapKind::PodGone,
                format!("logs of pod {pod}"),
                format!("it existed in the window (last seen in events at {}) but is gone: its logs cannot be collected", format_short(last)),
                "look for them in your log store (Loki, Cloud Logging, Elasticsearch) and analyze that export beside this bundle",
            );
        }
    }

    record.pods = logs(s, &k, b, j, &pods);
    let prometheus_service = find_prometheus(&k, j, s);
    Some(ClusterFound { prometheus_service })
}

/// Pods named in events (their own, or a ReplicaSet's `Created pod:`/`Deleted pod:`) within
/// the window that no longer exist, with the last time they were seen.
fn gone_pods(
    events: &Value,
    rs: &[String],
    pods: &[PodState],
    since: Millis,
) -> Vec<(String, Millis)> {
    let live: BTreeSet<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    let ours = |name: &str| rs.iter().any(|r| name.starts_with(&format!("{r}-")));
    let mut gone: BTreeMap<String, Millis> = BTreeMap::new();
    for e in events["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let at = time(&e["lastTimestamp"])
            .or_else(|| time(&e["eventTime"]))
            .or_else(|| time(&e["firstTimestamp"]))
            .or_else(|| time(&e["metadata"]["creationTimestamp"]));
        let Some(at) = at.filter(|&t| t >= since) else {
            continue;
        };
        let obj = &e["involvedObject"];
        let mut names = Vec::new();
        match obj["kind"].as_str() {
            Some("Pod") => names.extend(obj["name"].as_str()),
            Some("ReplicaSet") => {
                let m = e["message"].as_str().unwrap_or_default();
                for prefix in ["Created pod: ", "Deleted pod: "] {
                    if let Some(n) = m.strip_prefix(prefix) {
                        names.push(n.trim());
                    }
                }
            }
            _ => {}
        }
        for n in names {
            if ours(n) && !live.contains(n) {
                let t = gone.entry(n.to_owned()).or_insert(at);
                *t = (*t).max(at);
            }
        }
    }
    gone.into_iter().collect()
}

/// One log request: a container's current or previous output.
struct LogJob {
    pod: String,
    container: String,
    previous: bool,
    file: String,
    /// When the container whose output this is started (for the rotation check).
    started: Option<Millis>,
}

/// Every container's logs (and `--previous` where it restarted), in parallel.
fn logs(
    s: &LiveSettings,
    k: &Kubectl,
    b: &Bundle,
    j: &Journal,
    pods: &[PodState],
) -> Vec<PodCollected> {
    let since = format_rfc3339(s.since);
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    for p in pods {
        let mut pc = PodCollected {
            name: p.name.clone(),
            node: p.node.clone(),
            containers: Vec::new(),
        };
        let single = p.containers.len() == 1;
        for c in &p.containers {
            let stem = if single {
                p.name.clone()
            } else {
                format!("{}_{}", p.name, c.name)
            };
            let file = format!("logs/{stem}.log");
            jobs.push(LogJob {
                pod: p.name.clone(),
                container: c.name.clone(),
                previous: false,
                file: file.clone(),
                started: c.started,
            });
            let mut cc = ContainerCollected {
                name: c.name.clone(),
                restarts: c.restarts,
                logs: Some(file),
                previous: None,
            };
            if c.restarts > 0 && c.previous_finished.is_none_or(|f| f >= s.since) {
                let prev = format!("logs/{stem}.previous.log");
                jobs.push(LogJob {
                    pod: p.name.clone(),
                    container: c.name.clone(),
                    previous: true,
                    file: prev.clone(),
                    started: c.previous_started,
                });
                cc.previous = Some(prev);
            }
            if c.restarts > 1 && c.previous_started.is_some_and(|t| t > s.since) {
                j.gap(
                    GapKind::EarlierContainersLost,
                    format!("logs of {}/{}", p.name, c.name),
                    format!(
                        "it restarted {} times and its last ended container started at {}, inside the window: kubectl --previous reaches only that one, the {} before it are lost",
                        c.restarts,
                        format_short(c.previous_started.unwrap_or_default()),
                        c.restarts - 1
                    ),
                    "read the earlier containers' output from your log store, or from the node's /var/log/pods while it lasts",
                );
            }
            pc.containers.push(cc);
        }
        out.push(pc);
    }
    let results = parallel(jobs, s.max_requests, |job| {
        let mut args = vec![
            "logs",
            job.pod.as_str(),
            "-c",
            job.container.as_str(),
            "--timestamps",
            "--tail=-1",
        ];
        let since_arg = format!("--since-time={since}");
        args.push(&since_arg);
        if job.previous {
            args.push("--previous");
        }
        let what = format!(
            "logs {}/{}{}",
            job.pod,
            job.container,
            if job.previous { " --previous" } else { "" }
        );
        let r = j.run(
            what,
            k.display(&args, true),
            || k.to_file(&args, &b.path(&job.file)),
            |&n| Ok((n, Some(job.file.clone()))),
        );
        (job, r)
    });
    for (job, r) in results {
        let subject = format!(
            "logs of {}/{}{}",
            job.pod,
            job.container,
            if job.previous {
                " (previous container)"
            } else {
                ""
            }
        );
        match r {
            Ok(_) => {
                if let Some(first) = first_time(&b.path(&job.file)) {
                    let from = job.started.map_or(s.since, |st| st.max(s.since));
                    if job.started.is_some_and(|st| st <= s.since) && first > from + ROTATED_SLACK {
                        j.gap(
                            GapKind::LogRotated,
                            subject,
                            format!(
                                "its container ran since before the window ({}) but its log starts at {}, {} after the window began: the kubelet rotated the earlier output away",
                                format_short(s.since),
                                format_short(first),
                                format_duration((first - s.since) / 1000 * 1000)
                            ),
                            "read the window's start from your log store; raise the kubelet's containerLogMaxSize to keep more",
                        );
                    }
                }
            }
            Err(e) => {
                let _ = std::fs::remove_file(b.path(&job.file));
                for pc in out.iter_mut().filter(|p| p.name == job.pod) {
                    for cc in pc.containers.iter_mut().filter(|c| c.name == job.container) {
                        if job.previous {
                            cc.previous = None;
                        } else {
                            cc.logs = None;
                        }
                    }
                }
                forbidden_or_failed(j, &subject, &e, "its errors are missing from the counts");
            }
        }
    }
    out
}

/// The kubelet time of a log file's first line.
fn first_time(path: &std::path::Path) -> Option<Millis> {
    let f = std::fs::File::open(path).ok()?;
    let mut line = String::new();
    BufReader::new(f.take(4096)).read_line(&mut line).ok()?;
    let stamp = line.split(' ').next()?;
    parse_time_in(stamp, Zone::Utc)
}

/// Ports Prometheus serves on, most likely first.
const PROM_PORTS: [&str; 3] = ["web", "http-web", "http"];

/// A Service that looks like Prometheus (name has `prometheus`, not one of its companions),
/// reached through the API server's service proxy.
fn find_prometheus(k: &Kubectl, j: &Journal, s: &LiveSettings) -> Option<Endpoint> {
    if s.prometheus.is_some() {
        return None;
    }
    let out = get(
        k,
        j,
        "services (looking for Prometheus)",
        &["get", "services", "-A", "-o", "json"],
        false,
    )
    .ok()?;
    let v: Value = serde_json::from_slice(&out).ok()?;
    let mut best: Option<(u32, String, String, String)> = None;
    for svc in v["items"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = svc["metadata"]["name"].as_str().unwrap_or_default();
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if !lower.contains("prometheus")
            || [
                "alertmanager",
                "operator",
                "exporter",
                "kube-state",
                "pushgateway",
                "adapter",
                "blackbox",
                "node",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            continue;
        }
        for p in svc["spec"]["ports"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let port = p["port"].as_u64().unwrap_or(0);
            let pname = p["name"].as_str().unwrap_or_default();
            let mut score = 0;
            if port == 9090 {
                score += 4;
            }
            if PROM_PORTS.contains(&pname) {
                score += 2;
            }
            if [
                "prometheus-operated",
                "prometheus-server",
                "prometheus-k8s",
                "prometheus",
            ]
            .contains(&name)
                || lower.ends_with("-prometheus")
            {
                score += 1;
            }
            if score == 0 {
                continue;
            }
            let port_ref = if pname.is_empty() {
                port.to_string()
            } else {
                pname.to_owned()
            };
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, ns.to_owned(), name.to_owned(), port_ref));
            }
        }
    }
    let (_, ns, name, port) = best?;
    Some(Endpoint::Proxy {
        kubectl: k.clone(),
        prefix: format!("/api/v1/namespaces/{ns}/services/{name}:{port}/proxy"),
        service: format!("{ns}/{name}:{port}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_from_deployments() {
        let d: Value = serde_json::from_str(r#"{"spec":{"selector":{"matchLabels":{"app":"mcp-backend","tier":"api"},"matchExpressions":[{"key":"track","operator":"In","values":["stable","canary"]}]}}}"#).unwrap();
        assert_eq!(
            selector_from(&d).as_deref(),
            Some("app=mcp-backend,tier=api,track in (stable,canary)")
        );
        assert_eq!(selector_from(&Value::Null), None);
    }

    #[test]
    fn gone_pods_are_named_from_events() {
        let events: Value = serde_json::from_str(r#"{"items":[
            {"involvedObject":{"kind":"ReplicaSet","name":"mcp-backend-7c9d5b8f6d"},"reason":"SuccessfulDelete","message":"Deleted pod: mcp-backend-7c9d5b8f6d-old11","lastTimestamp":"2026-11-20T10:20:00Z"},
            {"involvedObject":{"kind":"Pod","name":"mcp-backend-7c9d5b8f6d-x2kqp"},"lastTimestamp":"2026-11-20T10:00:00Z"},
            {"involvedObject":{"kind":"Pod","name":"mcp-backend-7c9d5b8f6d-gone2"},"lastTimestamp":"2026-11-20T09:30:00Z"},
            {"involvedObject":{"kind":"Pod","name":"other-5d-abc"},"lastTimestamp":"2026-11-20T10:00:00Z"},
            {"involvedObject":{"kind":"Pod","name":"mcp-backend-7c9d5b8f6d-early"},"lastTimestamp":"2026-11-20T07:00:00Z"}]}"#).unwrap();
        let pods = vec![PodState {
            name: "mcp-backend-7c9d5b8f6d-x2kqp".into(),
            node: None,
            containers: vec![],
        }];
        let since = parse_time_in("2026-11-20T09:00:00Z", Zone::Utc).unwrap();
        let gone = gone_pods(&events, &["mcp-backend-7c9d5b8f6d".into()], &pods, since);
        let names: Vec<&str> = gone.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "mcp-backend-7c9d5b8f6d-gone2",
                "mcp-backend-7c9d5b8f6d-old11"
            ]
        );
    }
}
