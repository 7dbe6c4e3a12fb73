//! The parts a live collection talks to, for the tests: a recorded Kubernetes API served on
//! 127.0.0.1 to the real `kubectl` (discovery, pods, events, deployments, replicasets, services,
//! `pods/NAME/log` honouring `timestamps`, `sinceTime`, `sinceSeconds`, `previous` and
//! `tailLines` as the API server does, and the service proxy), serving the example incident;
//! and a real Prometheus over TSDB blocks built from the incident's metric dumps with
//! `promtool tsdb create-blocks-from openmetrics`. Both are stopped when dropped (the
//! Prometheus process by its PID).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub const NS: &str = "mcp-everything";

/// What the recorded API serves differently from the example incident.
#[derive(Clone, Default)]
pub struct Variant {
    /// Events are forbidden (RBAC).
    pub forbid_events: bool,
    /// x2kqp's container restarted this many times, the last ended one started at 10:20.
    pub restarts: Option<u64>,
    /// An event names a pod of the ReplicaSet that no longer exists.
    pub gone_pod: bool,
    /// A Service `monitoring/prometheus-server:web` proxied to this port.
    pub prometheus_service: Option<u16>,
}

pub struct FakeApi {
    pub port: u16,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The pods of the example incident (with the variant's changes).
fn pods(v: &Variant) -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/incident/cluster/pods.json")).unwrap();
    let mut pods: Value = serde_json::from_str(&text).unwrap();
    if let Some(n) = v.restarts {
        for p in pods["items"].as_array_mut().unwrap() {
            if p["metadata"]["name"] == "mcp-backend-7c9d5b8f6d-x2kqp" {
                let s = &mut p["status"]["containerStatuses"][0];
                s["restartCount"] = json!(n);
                s["lastState"]["terminated"]["startedAt"] = json!("2026-11-20T09:20:00Z");
            }
        }
    }
    pods
}

fn events(v: &Variant) -> Value {
    let text =
        std::fs::read_to_string(root().join("fixtures/incident/cluster/events.json")).unwrap();
    let mut e: Value = serde_json::from_str(&text).unwrap();
    // The core API answers with core/v1 Events, whichever API wrote them.
    for item in e["items"].as_array_mut().unwrap() {
        if item["apiVersion"] == "events.k8s.io/v1" {
            let m = item.as_object_mut().unwrap();
            m.insert("apiVersion".into(), json!("v1"));
            if let Some(r) = m.remove("regarding") {
                m.insert("involvedObject".into(), r);
            }
            if let Some(n) = m.remove("note") {
                m.insert("message".into(), n);
            }
            for (from, to) in [
                ("deprecatedCount", "count"),
                ("deprecatedFirstTimestamp", "firstTimestamp"),
                ("deprecatedLastTimestamp", "lastTimestamp"),
                ("deprecatedSource", "source"),
            ] {
                if let Some(x) = m.remove(from) {
                    m.insert(to.into(), x);
                }
            }
        }
    }
    if v.gone_pod {
        e["items"].as_array_mut().unwrap().push(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "mcp-backend-7c9d5b8f6d.gone", "namespace": NS},
            "involvedObject": {"kind": "ReplicaSet", "name": "mcp-backend-7c9d5b8f6d", "namespace": NS},
            "reason": "SuccessfulDelete", "message": "Deleted pod: mcp-backend-7c9d5b8f6d-q7m2z",
            "type": "Normal", "count": 1,
            "firstTimestamp": "2026-11-20T09:45:00Z", "lastTimestamp": "2026-11-20T09:45:00Z"
        }));
    }
    e
}

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "mcp-backend", "namespace": NS, "labels": {"app": "mcp-backend"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "mcp-backend"}},
                 "template": {"metadata": {"labels": {"app": "mcp-backend"}}}}})
}

fn replicasets() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSetList", "metadata": {}, "items": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "mcp-backend-7c9d5b8f6d", "namespace": NS,
                      "labels": {"app": "mcp-backend", "pod-template-hash": "7c9d5b8f6d"}}}]})
}

fn services(v: &Variant) -> Value {
    let items = match v.prometheus_service {
        Some(_) => vec![
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "prometheus-alertmanager", "namespace": "monitoring"},
                "spec": {"ports": [{"name": "web", "port": 9093}]}}),
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "prometheus-server", "namespace": "monitoring"},
                "spec": {"ports": [{"name": "web", "port": 9090}]}}),
        ],
        None => vec![json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "mcp-backend", "namespace": NS},
            "spec": {"ports": [{"name": "http", "port": 3000}]}})],
    };
    json!({"apiVersion": "v1", "kind": "ServiceList", "metadata": {}, "items": items})
}

/// `k=v,k2!=v2` against a label map (what the tests need of label selectors).
fn selects(selector: &str, labels: &Value) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            labels[k].as_str() != Some(v)
        } else if let Some((k, v)) = term.split_once('=') {
            labels[k.trim_end_matches('=')].as_str() == Some(v.trim_start_matches('='))
        } else {
            !labels[term].is_null()
        }
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(url: &str) -> BTreeMap<String, String> {
    url.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (decode(k), decode(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn status(code: u16, reason: &str, message: &str) -> (u16, String) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code})
        .to_string(),
    )
}

fn rfc3339_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `pods/NAME/log` as the API server answers it.
fn log(pod: &str, q: &BTreeMap<String, String>) -> (u16, String) {
    let container = q.get("container").map_or("backend", String::as_str);
    let previous = q.get("previous").is_some_and(|v| v == "true");
    let file = root().join(format!(
        "fixtures/live/logs/{pod}/{container}{}.log.gz",
        if previous { ".previous" } else { "" }
    ));
    let Ok(bytes) = std::fs::read(&file) else {
        return if previous {
            status(
                400,
                "BadRequest",
                &format!(
                    "previous terminated container \"{container}\" in pod \"{pod}\" not found"
                ),
            )
        } else {
            status(404, "NotFound", &format!("pods \"{pod}\" not found"))
        };
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let since = q.get("sinceTime").and_then(|s| rfc3339_ms(s)).or_else(|| {
        let secs: i64 = q.get("sinceSeconds")?.parse().ok()?;
        Some(chrono::Utc::now().timestamp_millis() - secs * 1000)
    });
    let timestamps = q.get("timestamps").is_some_and(|v| v == "true");
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let t = l.split(' ').next().and_then(rfc3339_ms);
            since.is_none_or(|s| t.is_some_and(|t| t >= s))
        })
        .collect();
    if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(if timestamps {
            l
        } else {
            l.split_once(' ').map_or(l, |x| x.1)
        });
        out.push('\n');
    }
    (200, out)
}

fn route(v: &Variant, url: &str) -> (u16, String) {
    let path = url.split('?').next().unwrap_or("");
    let q = query(url);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let version = json!({"major": "1", "minor": "30", "gitVersion": "v1.30.5-recorded", "platform": "linux/amd64"});
    match parts.as_slice() {
        ["version"] => (200, version.to_string()),
        ["api"] => (200, json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}).to_string()),
        ["apis"] => (200, json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]}).to_string()),
        ["api", "v1"] => (200, json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"], "shortNames": ["po"]},
            {"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]},
            {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event", "verbs": ["get", "list"], "shortNames": ["ev"]},
            {"name": "services", "singularName": "service", "namespaced": true, "kind": "Service", "verbs": ["get", "list"], "shortNames": ["svc"]},
            {"name": "services/proxy", "singularName": "", "namespaced": true, "kind": "ServiceProxyOptions", "verbs": ["get"]},
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]}]}).to_string()),
        ["apis", "apps", "v1"] => (200, json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "verbs": ["get", "list"], "shortNames": ["deploy"]},
            {"name": "replicasets", "singularName": "replicaset", "namespaced": true, "kind": "ReplicaSet", "verbs": ["get", "list"], "shortNames": ["rs"]}]}).to_string()),
        ["api", "v1", "namespaces", NS, "pods"] => {
            let mut list = pods(v);
            if let Some(sel) = q.get("labelSelector") {
                let items: Vec<Value> = list["items"].as_array().unwrap().iter()
                    .filter(|p| selects(sel, &p["metadata"]["labels"])).cloned().collect();
                list["items"] = json!(items);
            }
            (200, list.to_string())
        }
        ["api", "v1", "namespaces", NS, "pods", name] => {
            match pods(v)["items"].as_array().unwrap().iter().find(|p| p["metadata"]["name"] == *name) {
                Some(p) => (200, p.to_string()),
                None => status(404, "NotFound", &format!("pods \"{name}\" not found")),
            }
        }
        ["api", "v1", "namespaces", NS, "pods", name, "log"] => log(name, &q),
        ["api", "v1", "namespaces", ns, "events"] => {
            if v.forbid_events {
                return status(403, "Forbidden", &format!("events is forbidden: User \"oncall\" cannot list resource \"events\" in API group \"\" in the namespace \"{ns}\""));
            }
            if *ns == NS {
                (200, events(v).to_string())
            } else {
                (200, json!({"apiVersion": "v1", "kind": "EventList", "metadata": {}, "items": []}).to_string())
            }
        }
        ["api", "v1", "services"] => (200, services(v).to_string()),
        ["apis", "apps", "v1", "namespaces", NS, "deployments", "mcp-backend"] => (200, deployment().to_string()),
        ["apis", "apps", "v1", "namespaces", _, "deployments", name] => {
            status(404, "NotFound", &format!("deployments.apps \"{name}\" not found"))
        }
        ["apis", "apps", "v1", "namespaces", NS, "replicasets"] => (200, replicasets().to_string()),
        ["api", "v1", "namespaces", "monitoring", "services", "prometheus-server:web", "proxy", rest @ ..] => {
            let Some(port) = v.prometheus_service else {
                return status(404, "NotFound", "services \"prometheus-server\" not found");
            };
            let tail = url.split_once("/proxy").map_or("", |x| x.1);
            let _ = rest;
            let mut r = ureq::get(&format!("http://127.0.0.1:{port}{tail}"))
                .config().http_status_as_error(false).build().call().unwrap();
            let code = r.status().as_u16();
            (code, r.body_mut().read_to_string().unwrap_or_default())
        }
        _ => status(404, "NotFound", "the server could not find the requested resource"),
    }
}

impl FakeApi {
    pub fn start(v: Variant) -> FakeApi {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            for req in s.incoming_requests() {
                let v = v.clone();
                std::thread::spawn(move || {
                    let (code, body) = route(&v, req.url());
                    let header =
                        tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
                    let resp = tiny_http::Response::from_string(body)
                        .with_status_code(code)
                        .with_header(header);
                    let _ = req.respond(resp);
                });
            }
        });
        FakeApi {
            port,
            server,
            thread: Some(thread),
        }
    }

    /// A kubeconfig whose current context is this server, in `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join("kubeconfig");
        std::fs::write(&p, format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: http://127.0.0.1:{}\ncontexts:\n- name: incident\n  context:\n    cluster: recorded\n    user: oncall\ncurrent-context: incident\nusers:\n- name: oncall\n  user:\n    token: not-a-real-token\n",
            self.port
        )).unwrap();
        p
    }
}

pub fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A real Prometheus on a free loopback port, over the incident's samples.
pub struct Prometheus {
    pub port: u16,
    child: Child,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Stopped by its PID.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The incident's metric dumps as OpenMetrics text (for `promtool tsdb create-blocks-from`).
pub fn openmetrics() -> String {
    use postmortem::ingest::prom;
    let mut dumps = Vec::new();
    for e in std::fs::read_dir(root().join("fixtures/incident/metrics")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let format = prom::sniff(&text).unwrap();
        dumps.push(prom::parse(&text, format, None).unwrap());
    }
    let (series, _) = prom::merge(dumps);
    let mut by_name: BTreeMap<String, Vec<&postmortem::model::metrics::MetricSeries>> =
        BTreeMap::new();
    for s in &series {
        by_name
            .entry(s.labels.get("__name__").cloned().unwrap_or_default())
            .or_default()
            .push(s);
    }
    let mut out = String::new();
    for (name, list) in by_name {
        for s in list {
            let labels: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap()))
                .collect();
            for p in &s.samples {
                out.push_str(&format!(
                    "{name}{{{}}} {} {}.{:03}\n",
                    labels.join(","),
                    p.v,
                    p.t_ms / 1000,
                    p.t_ms % 1000
                ));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The service's rules as a plain rules file (the PrometheusRule's `spec`).
pub fn rules_file() -> String {
    let text =
        std::fs::read_to_string(root().join("fixtures/incident/rules/mcp-everything-alerts.yaml"))
            .unwrap();
    let spec = text.split_once("\nspec:\n").unwrap().1;
    spec.lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Prometheus {
    /// Starts Prometheus in `dir` over the incident's samples (`with_data`) keeping
    /// `retention` of history.
    pub fn start(dir: &Path, with_data: bool, retention: &str) -> Prometheus {
        std::fs::create_dir_all(dir).unwrap();
        let data = dir.join("data");
        if with_data {
            let om = dir.join("incident.om");
            std::fs::write(&om, openmetrics()).unwrap();
            let out = Command::new("promtool")
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&om)
                .arg(&data)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "promtool: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(dir.join("rules.yml"), rules_file()).unwrap();
        std::fs::write(
            dir.join("prometheus.yml"),
            "global:\n  evaluation_interval: 15s\nrule_files:\n  - rules.yml\n",
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--storage.tsdb.retention.time={retention}"))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .unwrap();
        let p = Prometheus { port, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = ureq::get(&format!("http://127.0.0.1:{port}/-/ready"))
                .call()
                .is_ok();
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus did not become ready: see {}",
                dir.join("prometheus.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
