//! The bundled example incident: three `mcp-backend` pods on 2026-11-20 between 09:00 and
//! 10:30 UTC, exported the ways on-call engineers export them (per-pod files with and without
//! `--timestamps`, `--prefix`, gzip, `--previous`, and two exports that overlap the per-pod
//! ones), plus `incident-truth.json` with what the generator knows, for the tests. The story
//! is in `fixtures/incident.md`; the service's lines are in `services.rs`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

use crate::metrics;
use crate::services::{self as svc, iso, kubelet, Out, Pg, Pod};

pub const NS: &str = "mcp-everything";
pub const A: &str = "mcp-backend-7c9d5b8f6d-x2kqp";
pub const B: &str = "mcp-backend-7c9d5b8f6d-9wzlm";
pub const C: &str = "mcp-backend-7c9d5b8f6d-r4t8n";
/// 2026-11-20T09:00:00Z in milliseconds.
pub const T0: i64 = 1_795_165_200_000;
pub const MIN: i64 = 60_000;
/// x2kqp's first container dies of heap exhaustion here; the new one starts 11 s later.
pub const CRASH: i64 = T0 + 58 * MIN + 30_000;
pub const RESTART: i64 = CRASH + 11_000;
const END: i64 = T0 + 90 * MIN;
pub const C_START: i64 = T0 + 65 * MIN;
/// PostgreSQL is restarted by an operator at 09:50 and comes back with too few connection
/// slots; raised and restarted again at 10:02.
const PG_RESTART: i64 = T0 + 50 * MIN;
const PG_EXHAUSTED: i64 = PG_RESTART + 40_000;
const PG_FIXED: i64 = T0 + 62 * MIN;
const PG_BACK: i64 = PG_FIXED + 20_000;
/// The first look the on-call engineer took when paged: `kubectl logs -l app=mcp-backend
/// --prefix --timestamps --tail=-1 --since-time=09:40:00Z`, run at 09:57.
const FIRST_LOOK_SINCE: i64 = T0 + 40 * MIN;
const FIRST_LOOK_AT: i64 = T0 + 57 * MIN;
const FIRST_LOOK: &str = "first-look-app-mcp-backend.log";
/// `kubectl logs deployment/mcp-backend --prefix --timestamps --since=15m` at 10:30 (x2kqp).
const DEPLOYMENT: &str = "deployment-mcp-backend-prefix.log";

/// What the tests check the analysis against.
#[derive(Default)]
struct Truth {
    /// Error records per (cause, pod).
    records: BTreeMap<(String, String), u64>,
    /// Counted records (the real counter's increments) per (cause, pod).
    counted: BTreeMap<(String, String), u64>,
    /// Counted records per outcome rule.
    by_rule: BTreeMap<&'static str, u64>,
    /// Every increment: pod, cause, time (for the metrics).
    at: Vec<metrics::ErrorAt>,
    /// Repeated lines: (file, file it repeats) -> lines.
    repeats: BTreeMap<(String, String), u64>,
    /// Container starts the logs show, per pod.
    starts: BTreeMap<&'static str, Vec<i64>>,
}

impl Truth {
    fn count(&mut self, pod: &'static str, lines: &[Out]) {
        for e in lines.iter().filter_map(|l| l.error.map(|e| (l.ms, e))) {
            let (ms, e) = e;
            let key = (e.cause.to_owned(), pod.to_owned());
            *self.records.entry(key.clone()).or_default() += 1;
            if let Some(rule) = e.counted {
                *self.counted.entry(key).or_default() += 1;
                *self.by_rule.entry(rule).or_default() += 1;
                self.at.push((pod, e.cause, ms));
            }
        }
    }
}

/// Writes `dir/name`, one line per string, and notes its line count in `files`.
fn put(dir: &Path, files: &mut Files, name: String, lines: Vec<String>) -> std::io::Result<()> {
    let mut s = lines.join("\n");
    s.push('\n');
    files.insert(name.clone(), lines.len() as u64);
    std::fs::write(dir.join(name), s)
}

/// The files written, with their line counts.
type Files = BTreeMap<String, u64>;

fn timestamped(lines: &[Out]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{} {}", kubelet(l.ms, l.ns), l.text))
        .collect()
}

fn prefixed(pod: &str, lines: &[&Out]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("[pod/{pod}/backend] {} {}", kubelet(l.ms, l.ns), l.text))
        .collect()
}

/// Health checks every 10 s (the readiness probe's period) at `phase`, failing on the
/// database between `from` and `to`.
fn health_checks(p: &mut Pod, from: i64, to: i64, phase: i64) {
    let mut t = from - from.rem_euclid(10_000) + phase;
    let mut n = 0;
    while t < to {
        if t >= from {
            let state = if !(PG_EXHAUSTED..PG_FIXED).contains(&t) {
                Pg::Restarting
            } else {
                Pg::Exhausted
            };
            svc::health_check(state)(p, t, n);
            n += 1;
        }
        t += 10_000;
    }
}

/// The database's failures on one pod's container alive over `[from, to)`.
fn database_trouble(p: &mut Pod, from: i64, to: i64, phase: i64) {
    let clip = |a: i64, b: i64| (a.max(from), b.min(to));
    let (a, b) = clip(PG_RESTART, PG_EXHAUSTED);
    p.burst(a, b, 0.06, svc::database(Pg::Restarting));
    let (a, b) = clip(PG_EXHAUSTED, PG_FIXED);
    p.burst(a, b, 0.06, svc::database(Pg::Exhausted));
    let (a, b) = clip(PG_FIXED, PG_BACK);
    p.burst(a, b, 0.06, svc::database(Pg::Restarting));
    let (a, b) = clip(PG_RESTART, PG_BACK);
    health_checks(p, a, b, phase);
}

/// x2kqp's first container, until Node ran out of heap at 09:58:30.
fn pod_a_first() -> Vec<Out> {
    let mut a = Pod::new(11);
    a.traffic(T0, CRASH - 2000);
    a.burst(T0 + 40 * MIN, T0 + 56 * MIN, 0.15, svc::anthropic);
    a.burst(T0 + 40 * MIN, T0 + 56 * MIN, 0.03, svc::chat_anthropic);
    svc::pool_terminated(&mut a, PG_RESTART + 212, 3);
    database_trouble(&mut a, PG_RESTART, CRASH - 2000, 3_100);
    a.burst(T0 + 3 * MIN, CRASH - 2000, 1.0 / 150.0, svc::validation);
    a.burst(T0 + 10 * MIN, CRASH - 2000, 1.0 / 700.0, svc::unclassified);
    svc::persist_failures(&mut a, PG_RESTART, CRASH, Pg::Exhausted);
    svc::heap_report(&mut a, CRASH);
    a.finish()
}

/// x2kqp's second container: Nest's text boot with the database retries, then the service.
fn pod_a_second() -> Vec<Out> {
    let mut a = Pod::new(12);
    let up = svc::nest_boot_with_db_retries(&mut a, RESTART, 4);
    a.traffic(up + 1000, END);
    database_trouble(&mut a, up + 1000, END, 3_100);
    a.burst(up + 1000, END, 1.0 / 150.0, svc::validation);
    svc::persist_failures(&mut a, up, PG_BACK, Pg::Exhausted);
    a.finish()
}

fn pod_b() -> Vec<Out> {
    let mut b = Pod::new(21);
    b.traffic(T0, END);
    b.burst(T0 + 40 * MIN + 20_000, T0 + 56 * MIN, 0.15, svc::anthropic);
    b.burst(
        T0 + 40 * MIN + 20_000,
        T0 + 56 * MIN,
        0.03,
        svc::chat_anthropic,
    );
    svc::pool_terminated(&mut b, PG_RESTART + 437, 4);
    database_trouble(&mut b, T0, END, 7_400);
    b.burst(T0 + 60 * MIN, T0 + 80 * MIN, 0.02, svc::github);
    b.burst(T0 + 68 * MIN, T0 + 70 * MIN, 0.1, svc::anthropic_401);
    b.burst(T0 + 2 * MIN, END, 1.0 / 150.0, svc::validation);
    b.burst(T0 + 5 * MIN, END, 1.0 / 400.0, svc::unclassified);
    svc::persist_failures(&mut b, PG_RESTART, PG_BACK, Pg::Exhausted);
    b.finish()
}

/// r4t8n, started by the scale-up at 10:05 with the JSON logger from its first line.
fn pod_c() -> Vec<Out> {
    let mut c = Pod::new(31);
    let up = svc::json_boot(&mut c, C_START);
    c.traffic(up + 400, END);
    c.burst(C_START + 30_000, T0 + 80 * MIN, 0.02, svc::github);
    c.burst(up + 400, END, 1.0 / 150.0, svc::validation);
    c.finish()
}

/// The lines the first look holds of one container.
fn first_look(lines: &[Out]) -> Vec<&Out> {
    lines
        .iter()
        .filter(|l| l.ms >= FIRST_LOOK_SINCE && l.ms < FIRST_LOOK_AT)
        .collect()
}

/// Writes the log exports; returns the counted errors for the metrics.
fn logs(dir: &Path, truth: &mut Truth, files: &mut Files) -> std::io::Result<()> {
    let a1 = pod_a_first();
    let a2 = pod_a_second();
    let b = pod_b();
    let c = pod_c();
    truth.count(A, &a1);
    truth.count(A, &a2);
    truth.count(B, &b);
    truth.count(C, &c);
    truth.starts.insert(A, vec![RESTART]);
    truth.starts.insert(C, vec![C_START]);

    put(dir, files, format!("{A}.previous.log"), timestamped(&a1))?;
    put(dir, files, format!("{A}.log"), timestamped(&a2))?;
    // x2kqp's last 15 minutes again, by the deployment.
    let since = END - 15 * MIN;
    let recent: Vec<&Out> = a2.iter().filter(|l| l.ms >= since).collect();
    truth
        .repeats
        .insert((DEPLOYMENT.into(), format!("{A}.log")), recent.len() as u64);
    put(dir, files, DEPLOYMENT.into(), prefixed(A, &recent))?;
    // The first look: both running pods since 09:40, one after the other.
    let (look_a, look_b) = (first_look(&a1), first_look(&b));
    truth.repeats.insert(
        (FIRST_LOOK.into(), format!("{A}.previous.log")),
        look_a.len() as u64,
    );
    truth.repeats.insert(
        (FIRST_LOOK.into(), format!("{B}.log.gz")),
        look_b.len() as u64,
    );
    let mut look = prefixed(A, &look_a);
    look.extend(prefixed(B, &look_b));
    put(dir, files, FIRST_LOOK.into(), look)?;

    let b_text = prefixed(B, &b.iter().collect::<Vec<_>>());
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all((b_text.join("\n") + "\n").as_bytes())?;
    std::fs::write(dir.join(format!("{B}.log.gz")), gz.finish()?)?;
    files.insert(format!("{B}.log.gz"), b_text.len() as u64);
    put(
        dir,
        files,
        format!("{B}.previous.log"),
        vec![format!("Error from server (BadRequest): previous terminated container \"backend\" in pod \"{B}\" not found")],
    )?;
    put(
        dir,
        files,
        format!("{C}_backend.log"),
        c.iter().map(|l| l.text.clone()).collect(),
    )?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    crate::exports::generate(&parent.join("exports"), &a2)?;
    recorded_api(
        &parent.join("live"),
        &[(A, Some(&a1), &a2), (B, None, &b), (C, None, &c)],
    )
}

/// What the kubelet holds for each container (`fixtures/live/`), for the recorded
/// Kubernetes API that the live-collection tests serve: every line with its kubelet time,
/// the current container in `logs/POD/backend.log.gz`, the ended one in
/// `backend.previous.log.gz`.
/// A pod's name, its ended container's lines (if it restarted) and its current container's.
type PodLines<'a> = (&'a str, Option<&'a [Out]>, &'a [Out]);

fn recorded_api(root: &Path, pods: &[PodLines<'_>]) -> std::io::Result<()> {
    let gz = |path: &Path, lines: &[Out]| -> std::io::Result<()> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(9));
        e.write_all((timestamped(lines).join("\n") + "\n").as_bytes())?;
        std::fs::write(path, e.finish()?)
    };
    for (pod, previous, current) in pods {
        let d = root.join("logs").join(pod);
        std::fs::create_dir_all(&d)?;
        gz(&d.join("backend.log.gz"), current)?;
        if let Some(p) = previous {
            gz(&d.join("backend.previous.log.gz"), p)?;
        }
    }
    std::fs::write(root.join("README.md"), LIVE_README)
}

const LIVE_README: &str = "# Recorded Kubernetes API of the example incident

Generated by `cargo run --release --bin gen-fixtures -- incident` (do not edit by hand).
`tests/live.rs` serves these on 127.0.0.1 as the API server would, to the real `kubectl`:
`logs/POD/CONTAINER.log.gz` is what the kubelet holds of each container (every line with its
kubelet time; `CONTAINER.previous.log.gz` for the container that ended), filtered by
`sinceTime`, `sinceSeconds`, `tailLines`, `timestamps` and `previous` as the API server does.
The pods and events are `../incident/cluster/`; the Deployment and ReplicaSet are built by the
test from the pods' labels. The metrics are `../incident/metrics/`, loaded into a real
Prometheus with `promtool tsdb create-blocks-from openmetrics`.
";

/// `incident-truth.json` (what the generator wrote, for `tests/incident_truth.rs`) and
/// `incident.md` beside the bundle.
fn write_truth(dir: &Path, truth: &Truth, files: Files) -> std::io::Result<()> {
    let rows: Vec<serde_json::Value> = truth
        .records
        .iter()
        .map(|(key, r)| {
            let counted = truth.counted.get(key).copied().unwrap_or(0);
            json!({"cause": key.0, "pod": key.1, "records": r, "counted": counted})
        })
        .collect();
    let mut repeats: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for ((file, of), n) in &truth.repeats {
        repeats.entry(file).or_default().insert(of, *n);
    }
    let starts: BTreeMap<&str, Vec<String>> = truth
        .starts
        .iter()
        .map(|(pod, s)| (*pod, s.iter().map(|&ms| iso(ms)).collect()))
        .collect();
    let doc = json!({
        "namespace": NS,
        "deployment": "mcp-backend",
        "window": {"start": iso(T0), "end": iso(END)},
        "bursts": {
            "anthropic_api_error": {"pods": [A, B], "start": iso(T0 + 40 * MIN), "end": iso(T0 + 56 * MIN), "per_pod_rate": 0.15},
            "database_error": {"pods": [A, B], "start": iso(PG_RESTART), "end": iso(PG_BACK), "per_pod_rate": 0.06},
            "memory_exhaustion": {"pods": [A], "at": iso(CRASH)},
            "github_api_error": {"pods": [B, C], "start": iso(T0 + 60 * MIN), "end": iso(T0 + 80 * MIN), "per_pod_rate": 0.02}
        },
        "files": files,
        "repeats": repeats,
        "starts": starts,
        "records": truth.records.values().sum::<u64>(),
        "counted": truth.counted.values().sum::<u64>(),
        "counted_by_rule": truth.by_rule,
        "errors": rows,
    });
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::write(
        parent.join("incident-truth.json"),
        serde_json::to_string_pretty(&doc)? + "\n",
    )?;
    std::fs::write(parent.join("incident.md"), README)?;
    Ok(())
}

pub fn generate(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut truth = Truth::default();
    let mut files = Files::new();
    logs(dir, &mut truth, &mut files)?;
    let (events_lines, pods_lines) = crate::cluster::write(&dir.join("cluster"))?;
    files.insert("cluster/events.json".into(), events_lines);
    files.insert("cluster/pods.json".into(), pods_lines);

    let day_before = T0 - 20 * 60 * MIN;
    let targets = [
        metrics::Target {
            pod: A,
            ip: "10.52.0.17",
            phase_ms: 3_200,
            lives: vec![(day_before, CRASH), (RESTART, END + 1)],
        },
        metrics::Target {
            pod: B,
            ip: "10.52.1.23",
            phase_ms: 9_700,
            lives: vec![(day_before, END + 1)],
        },
        metrics::Target {
            pod: C,
            ip: "10.52.2.9",
            phase_ms: 12_400,
            lives: vec![(C_START, END + 1)],
        },
    ];
    truth.at.sort_by_key(|&(pod, cause, ms)| (ms, pod, cause));
    files.extend(metrics::generate(dir, &targets, &truth.at, T0, END)?);

    write_truth(dir, &truth, files)
}

const README: &str = "# Example incident: HighGenerationErrorRate on mcp-backend, 2026-11-20

Generated by `cargo run --release --bin gen-fixtures -- incident` (deterministic; do not edit by hand).

Namespace `mcp-everything`, deployment `mcp-backend`, container `backend`, 09:00 to 10:30 UTC.
`mcp_generation_errors_total` counts failed generations, not error lines: one failure is
logged by two to four classes plus the error logger's echo, and only the pipeline's
top-level record (`Graph execution failed: ...`, `MCP server generation failed: ...`, or the
400 `Bad Request Exception` of `POST /api/v1/mcp-servers/generate`) is an increment.

- 09:40-09:56 the Anthropic API is overloaded (529 `overloaded_error`, some 429, timeouts and
  connection errors): about 0.15 failed generations/s on each of x2kqp and 9wzlm, so each pod's
  series breaches 0.1/s. Each is three records in 2 ms (`AnthropicService`'s `Anthropic API call
  failed: X`, the counted `Graph execution failed: X`, the error logger's echo). Chat messages
  whose own Anthropic call failed (`Chat completion failed: X`) are Anthropic errors but not
  generations.
- 09:50 an operator restarts PostgreSQL: the pools' idle sessions are terminated at once
  (`terminating connection due to administrator command`, identical lines in one chunk: 3 on
  x2kqp, 4 on 9wzlm), connections are refused, then `the database system is starting up`. It
  comes back with too few slots (`sorry, too many clients already`, timeouts) until it is fixed
  and restarted again at 10:02. About 0.06 failed generations/s per pod: no pod's series crosses
  0.1/s. Half fail inside the graph and are reported again by the pipeline (two outcome records,
  one failure). Meanwhile the readiness check fails every 10 s (`Health check failed:
  database: ...`) and the error logger cannot store errors (`Failed to persist error log: ...`):
  database errors, not generations (counting them would invent a database alert).
- 09:58:30 x2kqp's container dies: Node's heap report (GC trace, `<--- JS stacktrace --->`,
  `FATAL ERROR: Reached heap limit ... JavaScript heap out of memory`, native frames, blank
  lines: one fatal record). The new container starts at 09:58:41 in Nest's text form; its
  database connection is retried four times, each stack starting with the unindented
  `error: sorry, too many clients already`.
- 10:00-10:20 GitHub rate limits on 9wzlm and on r4t8n (started by the scale-up at 10:05, its
  startup in JSON): `GitHubRepoProvider` retries three times (warnings), gives up (`Rate limit
  exceeded after 4 attempts`: only the logger says GitHub), `RepositoryAnalysisService` wraps it
  over a second later, `McpGenerationService` wraps that (counted) and the error logger echoes.
- 10:08-10:10 the Anthropic key is rejected on 9wzlm (401 `authentication_error`): Anthropic API
  issues.
- Throughout: 400s at `warn` (`Bad Request Exception: githubUrl must be a URL address` on the
  generation endpoint, counted; `content should not be empty` on the chat endpoint, not),
  retry warnings that are not errors, and a few errors no cause covers.

| File | Export |
|---|---|
| `mcp-backend-7c9d5b8f6d-x2kqp.previous.log` | `kubectl logs --previous --timestamps` (the container that died) |
| `mcp-backend-7c9d5b8f6d-x2kqp.log` | `kubectl logs --timestamps` (the new container) |
| `deployment-mcp-backend-prefix.log` | `kubectl logs deployment/mcp-backend --prefix --timestamps --since=15m` at 10:30: repeats the file above |
| `first-look-app-mcp-backend.log` | `kubectl logs -l app=mcp-backend --prefix --timestamps --tail=-1 --since-time=2026-11-20T09:40:00Z` run at 09:57 when paged: x2kqp's then 9wzlm's lines, repeating the per-pod files |
| `mcp-backend-7c9d5b8f6d-9wzlm.log.gz` | `kubectl logs --timestamps --prefix`, gzipped |
| `mcp-backend-7c9d5b8f6d-9wzlm.previous.log` | `--previous` of a pod that never restarted: kubectl's error only |
| `mcp-backend-7c9d5b8f6d-r4t8n_backend.log` | plain `kubectl logs` (no timestamps; the JSON has its own) |
| `cluster/events.json` | `kubectl get events -o json` at 10:30: x2kqp's failing probes before the crash, its restart, the scale-up, r4t8n's first probes (core/v1 and events.k8s.io/v1 events mixed) |
| `cluster/pods.json` | `kubectl get pods -o json` at 10:30: x2kqp restarted once, its last container ended with exit code 134 (the heap abort) |
| `metrics/generation-errors-range.json` | `mcp_generation_errors_total[90m]` from the Prometheus API: raw scrapes, each pod at its own phase, one increment per failed generation |
| `metrics/memory-working-set-query-range.json` | `container_memory_working_set_bytes` as a `query_range` at a 30s step (re-sampled) |
| `metrics/process.tsdb-dump.txt` | `promtool tsdb dump` of the process metrics and kube-state-metrics' memory limits |
| `metrics/alerts-range.json` | `{__name__=~\"ALERTS\\|ALERTS_FOR_STATE\"}[90m]`: what Prometheus recorded, each rule group at its own evaluation phase (the generation group at +4.287s), so the reconstruction runs at Prometheus' real instants |
| `rules/mcp-everything-alerts.yaml` | the service's PrometheusRule (system.md's rules) |
| `../incident-truth.json` | what the generator knows: error records and counted failures per cause and pod, counted records per outcome rule, repeated lines per pair of files, container starts |
";
