//! Small per-format fixtures (`fixtures/formats/`), one file per thing the reader must handle,
//! including the bad inputs: truncated gzip, a corrupt tar, binary garbage, a JSON line cut in
//! half, an unreadable timestamp, invalid UTF-8, an empty file and a folder with no logs.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all(bytes)?;
    gz.finish()
}

pub fn tar_gz(entries: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_795_172_400);
        header.set_cksum();
        builder.append_data(&mut header, path, *data)?;
    }
    gzip(&builder.into_inner()?)
}

const POD: &str = "mcp-backend-7c9d5b8f6d-x2kqp";

/// A rules file with a rule the evaluator cannot run and a rule that fires.
const METRIC_RULES: &str = r#"groups:
  - name: mcp-backend
    rules:
      - alert: DatabaseErrors
        expr: sum by (pod) (increase(mcp_generation_errors_total{error_type="database_error"}[2m])) > 3
        for: 1m
        keep_firing_for: 1m
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.pod }}: {{ $value }} database errors in 2m"
      - alert: MemoryTrend
        expr: predict_linear(mcp_process_resident_memory_bytes[30m], 3600) > 536870912
        for: 5m
"#;

/// A `promtool tsdb dump` of one counter: a database-error burst on x2kqp (4 per 15 s scrape
/// from 09:45 to 09:50), with a NaN sample and a duplicate line.
fn tsdb_errors() -> String {
    let t0: i64 = 1_795_167_600_000; // 09:40
    let mut out = String::new();
    let mut v = 0.0;
    for k in 0..80 {
        let t = t0 + k * 15_000 + 250;
        if (20..40).contains(&k) {
            v += 4.0;
        }
        let value = if k == 60 {
            "NaN".to_owned()
        } else {
            format!("{v}")
        };
        let line = format!("{{__name__=\"mcp_generation_errors_total\", error_type=\"database_error\", pod=\"{POD}\"}} {value} {t}\n");
        out.push_str(&line);
        if k == 30 {
            out.push_str(&line);
        }
    }
    out
}

/// `kubectl describe pod` of a pod whose last run ended with Node's heap abort (exit code 134),
/// its Events with ages as of 10:30.
const K8S_DESCRIBE: &str = r#"Name:             mcp-backend-7c9d5b8f6d-9wzlm
Namespace:        mcp-everything
Priority:         0
Service Account:  mcp-backend
Node:             gke-prod-pool-1-b71f/10.128.0.14
Start Time:       Fri, 20 Nov 2026 08:02:11 +0000
Labels:           app=mcp-backend
                  pod-template-hash=7c9d5b8f6d
Annotations:      <none>
Status:           Running
IP:               10.52.1.23
IPs:
  IP:           10.52.1.23
Controlled By:  ReplicaSet/mcp-backend-7c9d5b8f6d
Containers:
  backend:
    Container ID:   containerd://5f0c2a9e81d4b3c6a7e0f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a
    Image:          ghcr.io/mcp-everything/backend:1.14.2
    Image ID:       ghcr.io/mcp-everything/backend@sha256:3b1f9c0d2e4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c
    Port:           3000/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Fri, 20 Nov 2026 10:12:47 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    134
      Started:      Fri, 20 Nov 2026 09:48:05 +0000
      Finished:     Fri, 20 Nov 2026 10:12:44 +0000
    Ready:          True
    Restart Count:  2
    Limits:
      cpu:     500m
      memory:  512Mi
    Requests:
      cpu:      250m
      memory:   256Mi
    Liveness:   http-get http://:3000/api/v1/health/live delay=30s timeout=5s period=10s #success=1 #failure=3
    Readiness:  http-get http://:3000/api/v1/health/ready delay=10s timeout=5s period=5s #success=1 #failure=3
    Environment:
      NODE_ENV:           production
      PORT:               3000
      DATABASE_URL:       <set to the key 'url' in secret 'mcp-postgres'>  Optional: false
      ANTHROPIC_API_KEY:  <set to the key 'api-key' in secret 'anthropic'>  Optional: false
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-7xk2p (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True
  Initialized                 True
  Ready                       True
  ContainersReady             True
  PodScheduled                True
Volumes:
  kube-api-access-7xk2p:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                 From     Message
  ----     ------     ----                ----     -------
  Warning  Unhealthy  17m (x4 over 18m)   kubelet  Readiness probe failed: Get "http://10.52.1.23:3000/api/v1/health/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
  Warning  Unhealthy  17m (x2 over 17m)   kubelet  Liveness probe failed: Get "http://10.52.1.23:3000/api/v1/health/live": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
  Normal   Pulled     17m (x3 over 148m)  kubelet  Container image "ghcr.io/mcp-everything/backend:1.14.2" already present on machine
  Normal   Created    17m (x3 over 148m)  kubelet  Created container backend
  Normal   Started    17m (x3 over 148m)  kubelet  Started container backend
"#;

/// Restarts seen only in the logs (`kubectl logs --timestamps`): x2kqp boots (Nest's startup
/// lines), serves a health check every 5 s, dies of heap exhaustion at 09:50, is silent for
/// 3m20s and boots again; 9wzlm logs once a minute and is silent for 2.5 minutes, which for
/// it is not unusual.
fn restarts(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let t0: i64 = 1_795_167_600_000; // 2026-11-20T09:40:00Z
    let kubelet = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.9fZ")
            .to_string()
    };
    let nest = |ms: i64, ctx: &str, msg: &str| {
        let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
        format!(
            "{} [Nest] 1  - {}     LOG [{ctx}] {msg}",
            kubelet(ms),
            t.format("%m/%d/%Y, %-I:%M:%S %p")
        )
    };
    let json = |ms: i64, level: &str, service: &str, msg: &str| {
        format!(
            "{} {{\"timestamp\":\"{}\",\"level\":\"{level}\",\"message\":\"{msg}\",\"service\":\"{service}\",\"correlationId\":\"5d1c9a7e-3b2f-4e6d-8a9c-0f1e2d3c4b5a\"}}",
            kubelet(ms),
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        )
    };
    let mut lines = Vec::new();
    let boot = |lines: &mut Vec<String>, at: i64| {
        lines.push(nest(at, "NestFactory", "Starting Nest application..."));
        lines.push(nest(
            at + 40,
            "InstanceLoader",
            "AppModule dependencies initialized +38ms",
        ));
        lines.push(nest(
            at + 2500,
            "NestApplication",
            "Nest application successfully started +3ms",
        ));
    };
    boot(&mut lines, t0);
    let crash = t0 + 10 * 60_000;
    let mut t = t0 + 5000;
    while t < crash {
        lines.push(json(t, "info", "HealthController", "Health check"));
        t += 5000;
    }
    lines.push(format!(
        "{} FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        kubelet(crash)
    ));
    let back = crash + 200_000;
    boot(&mut lines, back);
    let mut t = back + 5000;
    while t < t0 + 20 * 60_000 {
        lines.push(json(t, "info", "HealthController", "Health check"));
        t += 5000;
    }
    std::fs::write(dir.join(format!("{POD}.log")), lines.join("\n") + "\n")?;
    let mut quiet = Vec::new();
    let mut t = t0;
    while t < t0 + 20 * 60_000 {
        quiet.push(json(
            t,
            "info",
            "GenerationService",
            "Generation queue empty",
        ));
        t += if t == t0 + 8 * 60_000 {
            150_000
        } else {
            60_000
        };
    }
    std::fs::write(
        dir.join("mcp-backend-7c9d5b8f6d-9wzlm.log"),
        quiet.join("\n") + "\n",
    )
}

pub fn generate(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("no-logs"))?;
    std::fs::create_dir_all(dir.join("total-only"))?;
    std::fs::create_dir_all(dir.join("k8s"))?;
    std::fs::create_dir_all(dir.join("metrics"))?;
    std::fs::create_dir_all(dir.join("grafana"))?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("timestamps-offsets.log", b"2026-11-20T11:41:02.5+02:00 {\"timestamp\":\"2026-11-20T09:41:02.500Z\",\"level\":\"error\",\"message\":\"connect ECONNREFUSED 10.96.44.12:5432\",\"service\":\"TypeOrmModule\",\"correlationId\":\"7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d\"}\n2026-11-20T09:41:03Z {\"timestamp\":\"2026-11-20T09:41:03.000Z\",\"level\":\"info\",\"message\":\"Health check\",\"service\":\"HealthController\",\"correlationId\":\"2a4c6e8f-1b3d-4f5a-9c7e-0d2f4a6c8e1b\"}\n2026-11-20T09:41:04.123456Z {\"timestamp\":\"2026-11-20T09:41:04.123Z\",\"level\":\"error\",\"message\":\"sorry, too many clients already\",\"service\":\"TypeOrmModule\",\"correlationId\":\"7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d\"}\n".to_vec()),
        ("prefix.log", format!("[pod/{POD}/backend] 2026-11-20T09:41:02.123456789Z {{\"timestamp\":\"2026-11-20T09:41:02.123Z\",\"level\":\"error\",\"message\":\"API rate limit exceeded for user ID 1234567.\",\"service\":\"GitHubAnalysisService\",\"correlationId\":\"0b7e4d2c-8f61-4a93-b2d5-7c9e1f3a6b80\"}}\n[pod/mcp-backend-7c9d5b8f6d-9wzlm/backend] 2026-11-20T09:41:05.000000001Z {{\"timestamp\":\"2026-11-20T09:41:05.000Z\",\"level\":\"info\",\"message\":\"Generation completed\",\"service\":\"GenerationService\",\"correlationId\":\"3b5d7f9a-1c3e-4a5c-8e7f-9a1c3e5a7c9e\"}}\n").into_bytes()),
        ("nest-plain.log", b"[Nest] 1  - 11/20/2026, 9:41:02 AM     LOG [NestFactory] Starting Nest application...\n[Nest] 1  - 11/20/2026, 9:41:03 AM   ERROR [ExceptionHandler] connect ECONNREFUSED 10.96.44.12:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at async TypeOrmCoreModule.createConnectionFactory (/app/node_modules/@nestjs/typeorm/dist/typeorm-core.module.js:171:20)\n[Nest] 1  - 11/20/2026, 9:41:04 AM    WARN [AllExceptionsFilter] Bad Request Exception: githubUrl must be a URL address\n".to_vec()),
        ("pino.log", b"{\"level\":30,\"time\":1795167662123,\"pid\":1,\"hostname\":\"mcp-backend\",\"msg\":\"request completed\",\"responseTime\":12}\n{\"level\":50,\"time\":1795167663123,\"pid\":1,\"hostname\":\"mcp-backend\",\"msg\":\"request errored\",\"err\":{\"type\":\"Error\",\"message\":\"Request timed out.\",\"stack\":\"APIConnectionTimeoutError: Request timed out.\\n    at Anthropic.makeRequest (/app/node_modules/@anthropic-ai/sdk/core.js:306:30)\"}}\n{\"level\":40,\"time\":1795167664123,\"pid\":1,\"hostname\":\"mcp-backend\",\"msg\":\"Rate limit hit, waiting 2000ms before retry 1/3\"}\n".to_vec()),
        ("other-json.log", b"{\"@timestamp\":\"2026-11-20T09:41:02.000Z\",\"severity\":\"ERROR\",\"msg\":\"Connection terminated unexpectedly\"}\n{\"ts\":1795167663.5,\"lvl\":\"warning\",\"message\":\"slow query\"}\n".to_vec()),
        ("python-traceback.log", b"2026-11-20 09:41:02,123 - INFO - Starting worker\n2026-11-20 09:41:03,456 - ERROR - SSL certificate expired\nTraceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n    connect()\nssl.SSLCertVerificationError: certificate has expired\n".to_vec()),
        ("java-stack.log", b"2026-11-20T09:41:02.000Z ERROR [main] Request failed: java.net.SocketTimeoutException: Read timed out\n\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)\n\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)\nCaused by: java.io.IOException: connection reset\n\t... 12 more\n2026-11-20T09:41:05.000Z INFO [main] recovered\n".to_vec()),
        ("ansi.log", b"2026-11-20T09:41:02.000Z \x1b[31mERROR\x1b[0m \x1b[1mconnect ECONNREFUSED 10.96.44.12:5432\x1b[0m\n2026-11-20T09:41:03.000Z \x1b[32mINFO\x1b[0m ready\n".to_vec()),
        ("invalid-utf8.log", b"2026-11-20T09:41:02.000Z ERROR caf\xe9 \xff\xfe connect ECONNREFUSED 10.96.44.12:5432\n2026-11-20T09:41:03.000Z INFO fine\n".to_vec()),
        ("cut-json.log", b"{\"timestamp\":\"2026-11-20T09:41:02.000Z\",\"level\":\"error\",\"message\":\"connect ECONNREFUSED 10.96.44.12:5432\"}\n{\"timestamp\":\"2026-11-20T09:41:03.000Z\",\"level\":\"error\",\"mess\n{\"timestamp\":\"2026-11-20T09:41:04.000Z\",\"level\":\"info\",\"message\":\"ok\"}\n".to_vec()),
        ("bad-timestamp.log", b"2026-11-20T09:41:02.000Z ERROR connect ECONNREFUSED 10.96.44.12:5432\n2026-13-45T99:41:03.000Z ERROR this time cannot exist\n2026-11-20T09:41:04.000Z INFO ok\n".to_vec()),
        ("empty.log", Vec::new()),
        ("binary.bin", (0..2048u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("k8s/events.yaml", K8S_EVENTS_YAML.as_bytes().to_vec()),
        ("k8s/pods-oom.json", K8S_PODS_JSON.as_bytes().to_vec()),
        ("k8s/events-table.txt", b"LAST SEEN   TYPE      REASON              OBJECT                             MESSAGE\n20m         Normal    ScalingReplicaSet   deployment/mcp-backend             Scaled up replica set mcp-backend-7c9d5b8f6d from 2 to 3\n5m          Warning   Unhealthy           pod/mcp-backend-7c9d5b8f6d-r4t8n   Readiness probe failed: Get \"http://10.52.2.9:3000/api/v1/health/ready\": context deadline exceeded\n".to_vec()),
        ("k8s/events-no-header.txt", b"20m         Normal    ScalingReplicaSet   deployment/mcp-backend             Scaled up replica set mcp-backend-7c9d5b8f6d from 2 to 3\n".to_vec()),
        ("k8s/describe-pod.txt", K8S_DESCRIBE.as_bytes().to_vec()),
        ("metrics/status-error.json", b"{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:31: parse error: unexpected right bracket ']'\"}\n".to_vec()),
        ("metrics/truncated-range.json", b"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[\n{\"metric\":{\"__name__\":\"mcp_generation_errors_total\",\"error_type\":\"database_error\",\"pod\":\"mcp-backend-7c9d5b8f6d-x2kqp\"},\"values\":[[1795167600.123,\"1\"],[1795167615.12\n".to_vec()),
        ("metrics/errors.tsdb-dump.txt", tsdb_errors().into_bytes()),
        ("metrics/rules.yml", METRIC_RULES.as_bytes().to_vec()),
        ("grafana/generation-errors-by-type.csv", grafana_csv().into_bytes()),
        ("k8s/broken.yaml", b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Event\n  reason: BackOff\n    message: [unclosed\n".to_vec()),
        ("no-logs/notes.bin", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes)?;
    }
    restarts(&dir.join("restarts"))?;
    crate::shapes::generate(&dir.join("shapes"))?;
    // Two pods, each one database error every 15 s (0.067/s) for 20 minutes: the total (0.133/s)
    // crosses 0.1/s, no single series does.
    let mut total_only = String::new();
    for pod in [POD, "mcp-backend-7c9d5b8f6d-9wzlm"] {
        for i in 0..80 {
            let (m, s) = (30 + i * 15 / 60, (i * 15) % 60);
            total_only.push_str(&format!("[pod/{pod}/backend] 2026-11-20T09:{m:02}:{s:02}.250000000Z {{\"timestamp\":\"2026-11-20T09:{m:02}:{s:02}.250Z\",\"level\":\"error\",\"message\":\"connect ECONNREFUSED 10.96.44.12:5432\",\"service\":\"TypeOrmModule\",\"correlationId\":\"7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d\"}}\n"));
        }
    }
    std::fs::write(dir.join("total-only/two-pods-prefix.log"), total_only)?;
    let log = "2026-11-20T09:41:02.000000000Z {\"timestamp\":\"2026-11-20T09:41:02.000Z\",\"level\":\"error\",\"message\":\"Request timed out.\",\"service\":\"AnthropicService\",\"correlationId\":\"9d3f6a1b-2c4e-4f8a-8b1d-3e5f7a9c2b4d\"}\n".to_owned();
    let many: String = (0..400).map(|i| format!("2026-11-20T09:{:02}:{:02}.000000000Z {{\"timestamp\":\"2026-11-20T09:{:02}:{:02}.000Z\",\"level\":\"info\",\"message\":\"Health check {i}\",\"service\":\"HealthController\",\"correlationId\":\"2a4c6e8f-1b3d-4f5a-9c7e-0d2f4a6c8e1b\"}}\n", 40 + i / 60, i % 60, 40 + i / 60, i % 60)).collect();
    let gz = gzip(many.as_bytes())?;
    std::fs::write(dir.join("truncated.log.gz"), &gz[..gz.len() / 2])?;
    std::fs::write(
        dir.join("bundle.tar.gz"),
        tar_gz(&[(&format!("mcp-everything/{POD}/backend.log"), log.as_bytes())])?,
    )?;
    let good = tar_gz(&[
        (&format!("mcp-everything/{POD}/backend.log"), log.as_bytes()),
        (
            "mcp-everything/mcp-backend-7c9d5b8f6d-9wzlm/backend.log",
            many.as_bytes(),
        ),
    ])?;
    // Decompress, damage the second header, compress again: a tar whose second entry is corrupt.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&good[..]), &mut raw)?;
    let second = 512 + log.len().div_ceil(512) * 512;
    for b in &mut raw[second + 100..second + 160] {
        *b = 0x5a;
    }
    std::fs::write(dir.join("corrupt.tar.gz"), gzip(&raw)?)?;
    std::fs::write(
        dir.parent().unwrap_or(Path::new(".")).join("formats.md"),
        README,
    )?;
    Ok(())
}

const README: &str = "# Per-format fixtures

Generated by `cargo run --release --bin gen-fixtures -- formats` (deterministic). Each file exercises one thing:

| File | What it exercises |
|---|---|
| `timestamps-offsets.log` | `--timestamps` with a trimmed fraction, no fraction, a 6-digit fraction and a `+02:00` offset |
| `prefix.log` | `--prefix --timestamps` with two pods |
| `nest-plain.log` | plain `kubectl logs` of Nest's text format (local time, no zone) with an indented stack |
| `pino.log` | pino JSON: numeric levels, epoch-ms `time`, `err.stack` |
| `other-json.log` | `@timestamp`/`severity`/`msg` and `ts` (epoch seconds)/`lvl` shapes |
| `python-traceback.log` | `2026-11-20 09:41:02,123 - ERROR - ...` (no zone) and a Traceback |
| `java-stack.log` | tab-indented frames, `Caused by:`, `... 12 more` |
| `ansi.log` | ANSI colour codes |
| `invalid-utf8.log` | bytes that are not UTF-8 (read lossily) |
| `cut-json.log` | a JSON line cut in half between two good ones |
| `bad-timestamp.log` | a line whose leading timestamp cannot be read |
| `empty.log` | nothing |
| `binary.bin` | binary garbage |
| `no-logs/` | a folder whose only file is not a log |
| `total-only/` | two pods at 0.067 errors/s each: the total crosses 0.1/s, no series does |
| `truncated.log.gz` | a gzip cut in the middle |
| `bundle.tar.gz` | a support-bundle layout `NAMESPACE/POD/CONTAINER.log` |
| `corrupt.tar.gz` | a tar.gz whose second entry's header is damaged |
| `shapes/records/` | x2kqp's two runs: Node's full heap report (one fatal record); a Nest text boot with four database retries, each stack starting with the unindented `error: sorry, too many clients already`; one failed generation each way: a three-service GitHub cascade (only the logger names GitHub), PostgreSQL `the database system is starting up` inside the graph (two outcome records, one failure), an Anthropic 401 `authentication_error`; a 400 on the generation endpoint (counted) and one on the chat endpoint (not) |
| `shapes/overlap/` | x2kqp with `--timestamps` (a pool's three identical lines in one chunk), 9wzlm without, and a `kubectl logs -l app=mcp-backend --prefix --timestamps --since-time=...` export of both: x2kqp's repeats are dropped, 9wzlm's cannot be proven |
";

/// `kubectl get events -o yaml` as a cluster with newer controllers lists it: core/v1 events
/// beside events.k8s.io/v1 ones, a node-problem-detector OOM kill, and an event that lost its
/// times.
const K8S_EVENTS_YAML: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  count: 6
  eventTime: null
  firstTimestamp: "2026-11-20T09:31:10Z"
  involvedObject:
    apiVersion: v1
    fieldPath: spec.containers{backend}
    kind: Pod
    name: mcp-backend-7c9d5b8f6d-q8d2w
    namespace: mcp-everything
  kind: Event
  lastTimestamp: "2026-11-20T09:44:52Z"
  message: Back-off restarting failed container backend in pod mcp-backend-7c9d5b8f6d-q8d2w_mcp-everything(5c1e9a0e-7a0b-4f0e-9b1f-2d3c4b5a6978)
  metadata:
    name: mcp-backend-7c9d5b8f6d-q8d2w.187a1c2d3e4f5a6b
    namespace: mcp-everything
  reason: BackOff
  reportingComponent: kubelet
  reportingInstance: gke-prod-pool-1-a8c2
  source:
    component: kubelet
    host: gke-prod-pool-1-a8c2
  type: Warning
- apiVersion: events.k8s.io/v1
  kind: Event
  eventTime: "2026-11-20T09:30:58.412093Z"
  metadata:
    name: gke-prod-pool-1-a8c2.187a1c2d3e4f0001
  note: "Memory cgroup out of memory: Killed process 4121 (node) total-vm:1712345kB, anon-rss:524012kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2084kB oom_score_adj:985"
  reason: OOMKilling
  regarding:
    kind: Node
    name: gke-prod-pool-1-a8c2
  reportingController: kernel-monitor
  reportingInstance: gke-prod-pool-1-a8c2
  type: Warning
- apiVersion: v1
  kind: Event
  eventTime: null
  firstTimestamp: null
  lastTimestamp: null
  involvedObject:
    kind: Pod
    name: mcp-backend-7c9d5b8f6d-q8d2w
    namespace: mcp-everything
  message: Created container backend
  metadata:
    name: mcp-backend-7c9d5b8f6d-q8d2w.187a1c2d3e4f5a6c
    namespace: mcp-everything
  reason: Created
  type: Normal
kind: List
metadata:
  resourceVersion: ""
"#;

/// `kubectl get pods -o json`: one pod OOM-killed at its limit with exit code 1 (Node exits
/// before the kernel's SIGKILL lands), one in CrashLoopBackOff.
const K8S_PODS_JSON: &str = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "mcp-backend-7c9d5b8f6d-q8d2w", "namespace": "mcp-everything"},
            "spec": {
                "containers": [{"name": "backend", "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}}}],
                "nodeName": "gke-prod-pool-1-a8c2"
            },
            "status": {
                "containerStatuses": [{
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-20T09:44:40Z", "reason": "Error", "startedAt": "2026-11-20T09:44:31Z"}},
                    "name": "backend",
                    "ready": false,
                    "restartCount": 6,
                    "started": false,
                    "state": {"waiting": {"message": "back-off 2m40s restarting failed container=backend pod=mcp-backend-7c9d5b8f6d-q8d2w_mcp-everything(5c1e9a0e-7a0b-4f0e-9b1f-2d3c4b5a6978)", "reason": "CrashLoopBackOff"}}
                }],
                "phase": "Running"
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "mcp-backend-7c9d5b8f6d-x2kqp", "namespace": "mcp-everything"},
            "spec": {
                "containers": [{"name": "backend", "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}}}],
                "nodeName": "gke-prod-pool-1-a8c2"
            },
            "status": {
                "containerStatuses": [{
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-20T09:30:58Z", "reason": "OOMKilled", "startedAt": "2026-11-19T13:00:04Z"}},
                    "name": "backend",
                    "ready": true,
                    "restartCount": 1,
                    "started": true,
                    "state": {"running": {"startedAt": "2026-11-20T09:31:02Z"}}
                }],
                "phase": "Running"
            }
        }
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}
"#;

/// Grafana's "Inspect > Data" download of the panel "Generation errors/s by type"
/// (`sum by (error_type) (rate(mcp_generation_errors_total[5m]))`, legend `{{error_type}}`) of
/// the "MCP Everything - Generation Pipeline" dashboard, "Formatted data" on for the time only:
/// the Time column is the dashboard's wall clock (Europe/Berlin, UTC+1 in November) without a
/// zone, one row per 30 s step, 09:30 to 10:10 UTC.
fn grafana_csv() -> String {
    let mut t = String::from("\"Time\",\"anthropic_api_error\",\"database_error\"\r\n");
    for i in 0..=80 {
        let secs = 30 * 60 + i * 30; // seconds after 09:00 UTC
        let (h, m, s) = (9 + secs / 3600, (secs / 60) % 60, secs % 60);
        let minute = h * 60 + m;
        let anthropic = if (9 * 60 + 40..9 * 60 + 56).contains(&minute) {
            0.29 + 0.01 * f64::from(minute % 3)
        } else {
            0.004
        };
        let database = if (9 * 60 + 50..10 * 60 + 2).contains(&minute) {
            0.12
        } else {
            0.0
        };
        // Berlin's wall clock: one hour ahead of UTC.
        t += &format!(
            "2026-11-20 {:02}:{m:02}:{s:02},{anthropic},{database}\r\n",
            h + 1
        );
    }
    t.pop();
    t.pop(); // Grafana writes no newline after the last row.
    t
}
