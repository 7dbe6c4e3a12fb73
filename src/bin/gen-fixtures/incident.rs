//! The bundled example incident: three `mcp-backend` pods on 2026-11-20 between 09:00 and
//! 10:30 UTC, exported the ways on-call engineers export them, plus `truth.json` with the
//! counts the generator knows, for the tests. The story is in `fixtures/incident.md`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

use crate::bulk::Rng;
use crate::metrics;

const NS: &str = "mcp-everything";
const A: &str = "mcp-backend-7c9d5b8f6d-x2kqp";
const B: &str = "mcp-backend-7c9d5b8f6d-9wzlm";
const C: &str = "mcp-backend-7c9d5b8f6d-r4t8n";
/// 2026-11-20T09:00:00Z in milliseconds.
const T0: i64 = 1_795_165_200_000;
const MIN: i64 = 60_000;
/// x2kqp's first container dies of heap exhaustion here; the new one starts 11 s later.
const CRASH: i64 = T0 + 58 * MIN + 30_000;
const RESTART: i64 = CRASH + 11_000;
const END: i64 = T0 + 90 * MIN;
const C_START: i64 = T0 + 65 * MIN;

/// One physical line of a pod's output, before export formatting.
struct Out {
    ms: i64,
    ns: u32,
    text: String,
    /// (cause, is the first record of its error event) for error records.
    error: Option<(&'static str, bool)>,
}

fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn kubelet(ms: i64, ns: u32) -> String {
    let base = DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    format!("{base}.{:03}{:06}Z", ms.rem_euclid(1000), ns % 1_000_000)
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// A service log line, keys in the logger's order.
fn json_line(
    ms: i64,
    level: &str,
    message: &str,
    service: &str,
    corr: &str,
    extra: &[(&str, String)],
    trace: Option<&str>,
) -> String {
    let mut s = format!(
        "{{\"timestamp\":{},\"level\":{},\"message\":{},\"service\":{},\"correlationId\":{}",
        q(&iso(ms)),
        q(level),
        q(message),
        q(service),
        q(corr)
    );
    for (k, v) in extra {
        s.push_str(&format!(",{}:{}", q(k), v));
    }
    if let Some(t) = trace {
        s.push_str(&format!(",\"trace\":{}", q(t)));
    }
    s.push('}');
    s
}

const CORR: [&str; 6] = [
    "6f1c2a9e-3b1d-4c8e-9a57-1e2f3a4b5c6d",
    "0b7e4d2c-8f61-4a93-b2d5-7c9e1f3a6b80",
    "9d3f6a1b-2c4e-4f8a-8b1d-3e5f7a9c2b4d",
    "5e7a9c1b-3d5f-4a7c-9e1b-3d5f7a9c1b3d",
    "7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d",
    "3b5d7f9a-1c3e-4a5c-8e7f-9a1c3e5a7c9e",
];

struct Pod {
    lines: Vec<Out>,
    rng: Rng,
}

impl Pod {
    fn push(&mut self, ms: i64, text: String, error: Option<(&'static str, bool)>) {
        let ns = (self.rng.next() % 1_000_000) as u32;
        self.lines.push(Out {
            ms,
            ns,
            text,
            error,
        });
    }

    fn traffic(&mut self, from: i64, to: i64) {
        let mut t = from;
        while t < to {
            t += 1500 + self.rng.below(3500) as i64;
            let conv = format!("\"c-{}\"", 80000 + self.rng.below(5000));
            let line = match self.rng.below(6) {
                0 => json_line(
                    t,
                    "info",
                    "Generation request received",
                    "GenerationController",
                    CORR[0],
                    &[
                        ("conversationId", conv),
                        ("userId", format!("\"u-{}\"", 5000 + self.rng.below(900))),
                    ],
                    None,
                ),
                1 => json_line(
                    t,
                    "debug",
                    "Analyzing repository structure",
                    "GitHubAnalysisService",
                    CORR[1],
                    &[("conversationId", conv)],
                    None,
                ),
                2 => json_line(
                    t,
                    "info",
                    "Anthropic call completed",
                    "AnthropicService",
                    CORR[2],
                    &[
                        ("conversationId", conv),
                        ("duration", (2000 + self.rng.below(9000)).to_string()),
                    ],
                    None,
                ),
                3 => json_line(
                    t,
                    "verbose",
                    "Graph node completed: generate_tools",
                    "GraphOrchestrationService",
                    CORR[3],
                    &[("conversationId", conv)],
                    None,
                ),
                4 => json_line(
                    t,
                    "info",
                    "GET /api/v1/health/ready 200",
                    "HttpLogger",
                    CORR[0],
                    &[("duration", (1 + self.rng.below(5)).to_string())],
                    None,
                ),
                _ => json_line(
                    t,
                    "info",
                    "Generation completed",
                    "GenerationService",
                    CORR[5],
                    &[
                        ("conversationId", conv),
                        ("duration", (20000 + self.rng.below(60000)).to_string()),
                    ],
                    None,
                ),
            };
            self.push(t, line, None);
        }
    }

    /// Failures at about `per_sec` per second between `from` and `to`.
    fn burst(
        &mut self,
        from: i64,
        to: i64,
        per_sec: f64,
        mut emit: impl FnMut(&mut Pod, i64, u64),
    ) {
        let mean_gap = 1000.0 / per_sec;
        let mut t = from;
        let mut n = 0;
        loop {
            t += (mean_gap * (0.45 + 1.1 * self.rng.unit())) as i64;
            if t >= to {
                break;
            }
            emit(self, t, n);
            n += 1;
        }
    }
}

fn anthropic(p: &mut Pod, t: i64, n: u64) {
    let (msg, class) = match n % 9 {
        0..=5 => (r#"529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.to_owned(), "InternalServerError"),
        6 => ("Anthropic API call failed: Anthropic API error: 529".to_owned(), "Error"),
        7 => (r#"429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#.to_owned(), "RateLimitError"),
        _ => ("Request timed out.".to_owned(), "APIConnectionTimeoutError"),
    };
    let trace = format!("{class}: {msg}\n    at APIError.generate (/app/node_modules/@anthropic-ai/sdk/error.js:58:20)\n    at Anthropic.makeStatusError (/app/node_modules/@anthropic-ai/sdk/core.js:263:33)\n    at Anthropic.makeRequest (/app/node_modules/@anthropic-ai/sdk/core.js:306:30)\n    at async AnthropicService.generate (/app/dist/anthropic/anthropic.service.js:88:26)");
    let conv = format!("\"c-{}\"", 80000 + p.rng.below(5000));
    let l1 = json_line(
        t,
        "error",
        &format!("Graph execution failed: {msg}"),
        "GraphOrchestrationService",
        CORR[3],
        &[("conversationId", conv.clone())],
        Some(&trace),
    );
    let l2 = json_line(
        t,
        "error",
        &format!("[GraphOrchestrationService::executeGraph] {msg}"),
        "ErrorLogger",
        CORR[4],
        &[("conversationId", conv)],
        Some(&trace),
    );
    p.push(t, l1, Some(("anthropic_api_error", true)));
    p.push(t, l2, Some(("anthropic_api_error", false)));
}

fn database(p: &mut Pod, t: i64, n: u64) {
    let msg = match n % 5 {
        0 | 1 => "connect ECONNREFUSED 10.96.44.12:5432",
        2 => "Connection terminated unexpectedly",
        3 => "sorry, too many clients already",
        _ => "timeout exceeded when trying to connect",
    };
    let trace = format!("Error: {msg}\n    at Client._connectionCallback (/app/node_modules/pg/lib/client.js:132:24)\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)");
    p.push(
        t,
        json_line(t, "error", msg, "TypeOrmModule", CORR[4], &[], Some(&trace)),
        Some(("database_error", true)),
    );
}

fn github(p: &mut Pod, t: i64, n: u64) {
    let msg = if n % 3 == 2 {
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    } else {
        "API rate limit exceeded for user ID 1234567."
    };
    let trace = format!(
        "HttpError: {msg}\n    at /app/node_modules/@octokit/request/dist-node/index.js:86:21"
    );
    p.push(
        t,
        json_line(
            t,
            "error",
            msg,
            "GitHubAnalysisService",
            CORR[1],
            &[],
            Some(&trace),
        ),
        Some(("github_api_error", true)),
    );
}

fn validation(p: &mut Pod, t: i64, n: u64) {
    let detail = [
        "githubUrl must be a URL address",
        "property repoName should not exist",
        "githubUrl must be a string",
    ][(n % 3) as usize];
    let msg = format!("Bad Request Exception: {detail}");
    p.push(
        t,
        json_line(
            t,
            "warn",
            &msg,
            "AllExceptionsFilter",
            CORR[0],
            &[("duration", "3".into())],
            None,
        ),
        Some(("validation_error", true)),
    );
    if n.is_multiple_of(2) {
        // Retries logged at warn are not errors.
        p.push(
            t + 40,
            json_line(
                t + 40,
                "warn",
                "Rate limit hit, waiting 2000ms before retry 1/3",
                "GitHubAnalysisService",
                CORR[1],
                &[],
                None,
            ),
            None,
        );
    }
}

fn unclassified(p: &mut Pod, t: i64, n: u64) {
    let (msg, trace) = if n.is_multiple_of(2) {
        ("TypeError: Cannot read properties of undefined (reading 'map')".to_owned(), "TypeError: Cannot read properties of undefined (reading 'map')\n    at GenerationService.buildTools (/app/dist/generation/generation.service.js:212:41)".to_owned())
    } else {
        let pos = p.rng.below(400);
        (format!("Unexpected token < in JSON at position {pos}"), format!("SyntaxError: Unexpected token < in JSON at position {pos}\n    at JSON.parse (<anonymous>)"))
    };
    p.push(
        t,
        json_line(
            t,
            "error",
            &msg,
            "GenerationService",
            CORR[5],
            &[],
            Some(&trace),
        ),
        Some(("unclassified", true)),
    );
}

fn nest_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%-m/%-d/%Y, %-I:%M:%S %p")
        .to_string()
}

fn nest(ms: i64, level: &str, ctx: &str, msg: &str) -> String {
    format!("[Nest] 1  - {}  {:>7} [{ctx}] {msg}", nest_time(ms), level)
}

/// Lines of `p` within [from, to), sorted by time (stable, so same-ms echoes keep their order).
fn sorted(mut lines: Vec<Out>) -> Vec<Out> {
    lines.sort_by_key(|l| l.ms);
    lines
}

#[derive(Default)]
struct Truth {
    records: BTreeMap<(String, String), u64>,
    events: BTreeMap<(String, String), u64>,
    /// Every error event: pod, cause, time (for the metrics).
    at: Vec<metrics::ErrorAt>,
}

impl Truth {
    fn count(&mut self, pod: &'static str, lines: &[Out]) {
        for l in lines {
            if let Some((cause, first)) = l.error {
                *self.records.entry((cause.into(), pod.into())).or_default() += 1;
                if first {
                    *self.events.entry((cause.into(), pod.into())).or_default() += 1;
                    self.at.push((pod, cause, l.ms));
                }
            }
        }
    }
}

fn write_lines(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s)
}

/// The files written, with their line counts.
type Files = BTreeMap<String, u64>;

/// Pod A's first container, exported with `--previous --timestamps`: the bursts, then Node's
/// heap-exhaustion report as it crashes.
fn pod_a_previous(dir: &Path, truth: &mut Truth, files: &mut Files) -> std::io::Result<()> {
    let mut a = Pod {
        lines: Vec::new(),
        rng: Rng(11),
    };
    a.traffic(T0, CRASH - 2000);
    a.burst(T0 + 40 * MIN, T0 + 56 * MIN, 0.15, anthropic);
    a.burst(T0 + 50 * MIN, CRASH - 2000, 0.06, database);
    a.burst(T0 + 3 * MIN, CRASH - 2000, 1.0 / 150.0, validation);
    a.burst(T0 + 10 * MIN, CRASH - 2000, 1.0 / 700.0, unclassified);
    let mut a_prev = sorted(a.lines);
    for (i, text) in [
        "<--- Last few GCs --->".to_owned(),
        "[1:0x6a3c1a0]  3512340 ms: Mark-Compact 507.3 (519.1) -> 505.9 (519.4) MB, 1840.21 / 0.00 ms  (average mu = 0.121, current mu = 0.033) allocation failure; scavenge might not succeed".to_owned(),
        "<--- JS stacktrace --->".to_owned(),
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory".to_owned(),
        " 1: 0xb7c3b0 node::Abort() [node]".to_owned(),
        " 2: 0xa8d2f4 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]".to_owned(),
        " 3: 0xd5f1c0 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, v8::OOMDetails const&) [node]".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        let error = (i == 3).then_some(("memory_exhaustion", true));
        a_prev.push(Out { ms: CRASH, ns: 100 + i as u32, text, error });
    }
    truth.count(A, &a_prev);
    let prev_lines: Vec<String> = a_prev
        .iter()
        .map(|l| format!("{} {}", kubelet(l.ms, l.ns), l.text))
        .collect();
    files.insert(format!("{A}.previous.log"), prev_lines.len() as u64);
    write_lines(&dir.join(format!("{A}.previous.log")), &prev_lines)?;

    Ok(())
}

/// Pod A's second container, exported with `--timestamps`, starting with Nest's text lines;
/// returns its lines for the overlapping export.
fn pod_a_current(dir: &Path, truth: &mut Truth, files: &mut Files) -> std::io::Result<Vec<Out>> {
    let mut a2 = Pod {
        lines: Vec::new(),
        rng: Rng(12),
    };
    let boot = [
        (0, "LOG", "NestFactory", "Starting Nest application..."),
        (
            40,
            "LOG",
            "InstanceLoader",
            "AppModule dependencies initialized +38ms",
        ),
        (
            60,
            "LOG",
            "InstanceLoader",
            "TypeOrmModule dependencies initialized +1ms",
        ),
    ];
    for (d, level, ctx, msg) in boot {
        a2.push(RESTART + d, nest(RESTART + d, level, ctx, msg), None);
    }
    a2.push(
        RESTART + 900,
        nest(
            RESTART + 900,
            "ERROR",
            "TypeOrmModule",
            "Unable to connect to the database. Retrying (1)...",
        ),
        Some(("database_error", true)),
    );
    for frame in ["    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)", "    at async TypeOrmCoreModule.createConnectionFactory (/app/node_modules/@nestjs/typeorm/dist/typeorm-core.module.js:171:20)"] {
        a2.push(RESTART + 900, frame.to_string(), None);
    }
    a2.push(
        RESTART + 4000,
        nest(
            RESTART + 4000,
            "LOG",
            "NestApplication",
            "Nest application successfully started +3ms",
        ),
        None,
    );
    a2.traffic(RESTART + 5000, END);
    a2.burst(RESTART + 5000, T0 + 62 * MIN, 0.06, database);
    a2.burst(RESTART + 5000, END, 1.0 / 150.0, validation);
    let a_cur = sorted(a2.lines);
    truth.count(A, &a_cur);
    let cur_lines: Vec<String> = a_cur
        .iter()
        .map(|l| format!("{} {}", kubelet(l.ms, l.ns), l.text))
        .collect();
    files.insert(format!("{A}.log"), cur_lines.len() as u64);
    write_lines(&dir.join(format!("{A}.log")), &cur_lines)?;

    Ok(a_cur)
}

/// Pod B: `--timestamps --prefix`, gzipped; its `--previous` export has nothing.
fn pod_b(dir: &Path, truth: &mut Truth, files: &mut Files) -> std::io::Result<()> {
    let mut b = Pod {
        lines: Vec::new(),
        rng: Rng(21),
    };
    b.traffic(T0, END);
    b.burst(T0 + 40 * MIN + 20_000, T0 + 56 * MIN, 0.15, anthropic);
    b.burst(T0 + 50 * MIN, T0 + 62 * MIN, 0.06, database);
    b.burst(T0 + 60 * MIN, T0 + 80 * MIN, 0.02, github);
    b.burst(T0 + 2 * MIN, END, 1.0 / 150.0, validation);
    b.burst(T0 + 5 * MIN, END, 1.0 / 400.0, unclassified);
    let b_lines = sorted(b.lines);
    truth.count(B, &b_lines);
    let text: Vec<String> = b_lines
        .iter()
        .map(|l| format!("[pod/{B}/backend] {} {}", kubelet(l.ms, l.ns), l.text))
        .collect();
    files.insert(format!("{B}.log.gz"), text.len() as u64);
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all((text.join("\n") + "\n").as_bytes())?;
    std::fs::write(dir.join(format!("{B}.log.gz")), gz.finish()?)?;
    let not_found = format!("Error from server (BadRequest): previous terminated container \"backend\" in pod \"{B}\" not found");
    files.insert(format!("{B}.previous.log"), 1);
    write_lines(&dir.join(format!("{B}.previous.log")), &[not_found])?;

    Ok(())
}

/// Pod C: started by the scale-up at 10:05; plain kubectl logs (the JSON has its own time).
fn pod_c(dir: &Path, truth: &mut Truth, files: &mut Files) -> std::io::Result<()> {
    let mut c = Pod {
        lines: Vec::new(),
        rng: Rng(31),
    };
    // A new pod's log starts with Nest's bootstrap, in its text format.
    for (d, level, ctx, msg) in [
        (0, "LOG", "NestFactory", "Starting Nest application..."),
        (
            45,
            "LOG",
            "InstanceLoader",
            "AppModule dependencies initialized +41ms",
        ),
        (
            2600,
            "LOG",
            "NestApplication",
            "Nest application successfully started +4ms",
        ),
    ] {
        c.push(C_START + d, nest(C_START + d, level, ctx, msg), None);
    }
    c.traffic(C_START + 3000, END);
    c.burst(C_START + 30_000, T0 + 80 * MIN, 0.02, github);
    c.burst(C_START + 3000, END, 1.0 / 150.0, validation);
    let c_lines = sorted(c.lines);
    truth.count(C, &c_lines);
    let text: Vec<String> = c_lines.iter().map(|l| l.text.clone()).collect();
    files.insert(format!("{C}_backend.log"), text.len() as u64);
    write_lines(&dir.join(format!("{C}_backend.log")), &text)?;

    Ok(())
}

/// `incident-truth.json` (what the generator wrote, for `tests/incident_truth.rs`) and
/// `incident.md` beside the bundle.
fn write_truth(dir: &Path, truth: &Truth, files: Files, overlap: usize) -> std::io::Result<()> {
    let rows: Vec<serde_json::Value> = truth
        .records
        .iter()
        .map(|((cause, pod), r)| json!({"cause": cause, "pod": pod, "records": r, "events": truth.events.get(&(cause.clone(), pod.clone())).copied().unwrap_or(0)}))
        .collect();
    let doc = json!({
        "namespace": NS,
        "deployment": "mcp-backend",
        "window": {"start": iso(T0), "end": iso(END)},
        "bursts": {
            "anthropic_api_error": {"pods": [A, B], "start": iso(T0 + 40 * MIN), "end": iso(T0 + 56 * MIN), "per_pod_rate": 0.15},
            "database_error": {"pods": [A, B], "start": iso(T0 + 50 * MIN), "end": iso(T0 + 62 * MIN), "per_pod_rate": 0.06},
            "memory_exhaustion": {"pods": [A], "at": iso(CRASH)},
            "github_api_error": {"pods": [B, C], "start": iso(T0 + 60 * MIN), "end": iso(T0 + 80 * MIN), "per_pod_rate": 0.02}
        },
        "files": files,
        "overlap_duplicate_lines": overlap,
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
    pod_a_previous(dir, &mut truth, &mut files)?;
    let a_cur = pod_a_current(dir, &mut truth, &mut files)?;
    // An overlapping export taken at 10:30 with --since=15m: A's last 15 minutes again.
    let overlap: Vec<String> = a_cur
        .iter()
        .filter(|l| l.ms >= END - 15 * MIN)
        .map(|l| format!("[pod/{A}/backend] {} {}", kubelet(l.ms, l.ns), l.text))
        .collect();
    files.insert(
        "deployment-mcp-backend-prefix.log".into(),
        overlap.len() as u64,
    );
    write_lines(&dir.join("deployment-mcp-backend-prefix.log"), &overlap)?;

    pod_b(dir, &mut truth, &mut files)?;
    pod_c(dir, &mut truth, &mut files)?;
    let (events_lines, pods_lines) = cluster(&dir.join("cluster"))?;
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
    files.extend(metrics::generate(dir, &targets, &truth.at, T0, END)?);

    write_truth(dir, &truth, files, overlap.len())
}

/// kubectl's timestamps: whole seconds (events' `eventTime` and the series' times are
/// microseconds).
fn secs(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms - ms.rem_euclid(1000))
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn micros(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Writes JSON the way kubectl does (four-space indent); returns its line count.
fn write_kubectl_json(path: &Path, v: &serde_json::Value) -> std::io::Result<u64> {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    v.serialize(&mut ser)?;
    out.push(b'\n');
    std::fs::write(path, &out)?;
    Ok(out.iter().filter(|&&b| b == b'\n').count() as u64)
}

/// A core/v1 event, as `kubectl get events -o json` lists it.
fn core_event(
    name: &str,
    (kind, object): (&str, &str),
    reason: &str,
    message: &str,
    (first, last, count): (i64, i64, u64),
    kind_of: &str,
) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "count": count,
        "eventTime": null,
        "firstTimestamp": secs(first),
        "involvedObject": {"apiVersion": "v1", "kind": kind, "name": object, "namespace": NS},
        "kind": "Event",
        "lastTimestamp": secs(last),
        "message": message,
        "metadata": {"name": name, "namespace": NS},
        "reason": reason,
        "reportingComponent": "kubelet",
        "reportingInstance": "gke-prod-pool-1-a8c2",
        "source": {"component": if kind == "Pod" { "kubelet" } else { "replicaset-controller" }, "host": "gke-prod-pool-1-a8c2"},
        "type": kind_of
    })
}

/// The cluster as exported at 10:30: `kubectl get events -o json` (core/v1 events mixed with
/// events.k8s.io/v1 ones, as a cluster with newer controllers lists them) and `kubectl get pods
/// -o json`. Pod A's container ran out of JavaScript heap at 09:58:30 (exit code 134, reason
/// `Error`: a heap abort, not a kill at the limit) after its probes had been failing (the
/// liveness probe twice, one short of the default failureThreshold of 3: no kill).
fn cluster(dir: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::create_dir_all(dir)?;
    let events = json!({
        "apiVersion": "v1",
        "items": [
            core_event(&format!("{A}.187a1f0c2b3d4e01"), ("Pod", A), "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                (T0 + 52 * MIN, CRASH - 5_000, 14), "Warning"),
            core_event(&format!("{A}.187a1f0c2b3d4e02"), ("Pod", A), "Unhealthy",
                "Liveness probe failed: Get \"http://10.52.1.17:3000/api/v1/health/live\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                (T0 + 57 * MIN + 40_000, CRASH - 10_000, 2), "Warning"),
            core_event(&format!("{A}.187a1f0c2b3d4e03"), ("Pod", A), "Pulled",
                "Container image \"ghcr.io/mcp-everything/backend:1.14.2\" already present on machine",
                (T0 - 20 * 60 * MIN + 3_000, RESTART - 1_000, 2), "Normal"),
            core_event(&format!("{A}.187a1f0c2b3d4e04"), ("Pod", A), "Started",
                "Started container backend",
                (T0 - 20 * 60 * MIN + 4_000, RESTART, 2), "Normal"),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": "mcp-backend.187a1f9d00000001", "namespace": NS},
                "eventTime": micros(C_START - 20_000),
                "reportingController": "deployment-controller",
                "reportingInstance": "",
                "action": "ScalingReplicaSet",
                "reason": "ScalingReplicaSet",
                "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "mcp-backend", "namespace": NS},
                "note": "Scaled up replica set mcp-backend-7c9d5b8f6d from 2 to 3",
                "type": "Normal"
            }),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": format!("{C}.187a1f9d00000002"), "namespace": NS},
                "eventTime": micros(C_START - 18_500),
                "reportingController": "default-scheduler",
                "reportingInstance": "default-scheduler-gke-prod",
                "action": "Binding",
                "reason": "Scheduled",
                "regarding": {"apiVersion": "v1", "kind": "Pod", "name": C, "namespace": NS},
                "note": format!("Successfully assigned {NS}/{C} to gke-prod-pool-1-f3d9"),
                "type": "Normal"
            }),
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": format!("{C}.187a1f9d00000003"), "namespace": NS},
                "eventTime": micros(C_START - 15_000),
                "series": {"count": 4, "lastObservedTime": micros(C_START - 3_000)},
                "reportingController": "kubelet",
                "reportingInstance": "gke-prod-pool-1-f3d9",
                "action": "Probe",
                "reason": "Unhealthy",
                "regarding": {"apiVersion": "v1", "kind": "Pod", "name": C, "namespace": NS, "fieldPath": "spec.containers{backend}"},
                "note": "Readiness probe failed: Get \"http://10.52.2.9:3000/api/v1/health/ready\": dial tcp 10.52.2.9:3000: connect: connection refused",
                "type": "Warning"
            })
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    let container = |ready: bool, restarts: u64, started: i64, last: serde_json::Value| {
        json!({
            "containerID": "containerd://4f1c0d2e9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1",
            "image": "ghcr.io/mcp-everything/backend:1.14.2",
            "lastState": last,
            "name": "backend",
            "ready": ready,
            "restartCount": restarts,
            "started": true,
            "state": {"running": {"startedAt": secs(started)}}
        })
    };
    let pod = |name: &str, node: &str, started: i64, status: serde_json::Value| {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "creationTimestamp": secs(started - 20_000),
                "labels": {"app": "mcp-backend", "pod-template-hash": "7c9d5b8f6d"},
                "name": name,
                "namespace": NS
            },
            "spec": {
                "containers": [{
                    "image": "ghcr.io/mcp-everything/backend:1.14.2",
                    "name": "backend",
                    "ports": [{"containerPort": 3000, "protocol": "TCP"}],
                    "resources": {
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                        "requests": {"cpu": "250m", "memory": "256Mi"}
                    }
                }],
                "nodeName": node
            },
            "status": {
                "containerStatuses": [status],
                "phase": "Running",
                "startTime": secs(started - 15_000)
            }
        })
    };
    let day_before = T0 - 20 * 60 * MIN;
    let pods = json!({
        "apiVersion": "v1",
        "items": [
            pod(B, "gke-prod-pool-1-b71e", day_before, container(true, 0, day_before, json!({}))),
            pod(C, "gke-prod-pool-1-f3d9", C_START, container(true, 0, C_START, json!({}))),
            pod(A, "gke-prod-pool-1-a8c2", day_before, container(true, 1, RESTART, json!({
                "terminated": {
                    "containerID": "containerd://9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
                    "exitCode": 134,
                    "finishedAt": secs(CRASH + 1_000),
                    "reason": "Error",
                    "startedAt": secs(day_before)
                }
            })))
        ],
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    });
    Ok((
        write_kubectl_json(&dir.join("events.json"), &events)?,
        write_kubectl_json(&dir.join("pods.json"), &pods)?,
    ))
}

const README: &str = "# Example incident: HighGenerationErrorRate on mcp-backend, 2026-11-20

Generated by `cargo run --release --bin gen-fixtures -- incident` (deterministic; do not edit by hand).

Namespace `mcp-everything`, deployment `mcp-backend`, container `backend`, 09:00 to 10:30 UTC.

- 09:40-09:56 the Anthropic API is overloaded (529 `overloaded_error`, some 429 and timeouts): about
  0.15 failures/s on each of x2kqp and 9wzlm, so each pod's series breaches 0.1/s. Every failure is
  logged twice in the same millisecond (`Graph execution failed: X` and the error logger's
  `[GraphOrchestrationService::executeGraph] X`): two records, one error event.
- 09:50-10:02 PostgreSQL refuses connections: about 0.06/s per pod. No pod's series crosses
  0.1/s on its own.
- 09:58:30 x2kqp's container dies: `FATAL ERROR: Reached heap limit ... JavaScript heap out of
  memory`. The new container starts at 09:58:41 with Nest's text lines and a database error.
- 10:00-10:20 GitHub rate limits (`API rate limit exceeded for user ID 1234567.`) on 9wzlm and on
  r4t8n, which the scale-up started at 10:05.
- Throughout: validation failures at `warn` (`Bad Request Exception: githubUrl must be a URL
  address`), retry warnings that are not errors, and a few errors no cause covers.

| File | Export |
|---|---|
| `mcp-backend-7c9d5b8f6d-x2kqp.previous.log` | `kubectl logs --previous --timestamps` (the container that died) |
| `mcp-backend-7c9d5b8f6d-x2kqp.log` | `kubectl logs --timestamps` (the new container) |
| `deployment-mcp-backend-prefix.log` | `kubectl logs deployment/mcp-backend --prefix --timestamps --since=15m`: overlaps the file above |
| `mcp-backend-7c9d5b8f6d-9wzlm.log.gz` | `kubectl logs --timestamps --prefix`, gzipped |
| `mcp-backend-7c9d5b8f6d-9wzlm.previous.log` | `--previous` of a pod that never restarted: kubectl's error only |
| `mcp-backend-7c9d5b8f6d-r4t8n_backend.log` | plain `kubectl logs` (no timestamps; the JSON has its own) |
| `cluster/events.json` | `kubectl get events -o json` at 10:30: x2kqp's failing probes before the crash, its restart, the scale-up, r4t8n's first probes (core/v1 and events.k8s.io/v1 events mixed) |
| `cluster/pods.json` | `kubectl get pods -o json` at 10:30: x2kqp restarted once, its last container ended with exit code 134 (the heap abort) |
| `metrics/generation-errors-range.json` | `mcp_generation_errors_total[90m]` from the Prometheus API: raw scrapes, each pod at its own phase |
| `metrics/memory-working-set-query-range.json` | `container_memory_working_set_bytes` as a `query_range` at a 30s step (re-sampled) |
| `metrics/process.tsdb-dump.txt` | `promtool tsdb dump` of the process metrics and kube-state-metrics' memory limits |
| `metrics/alerts-range.json` | `{__name__=~\"ALERTS\\|ALERTS_FOR_STATE\"}[90m]`: what Prometheus recorded, each rule group at its own evaluation phase (the generation group at +4.287s), so the reconstruction runs at Prometheus' real instants |
| `rules/mcp-everything-alerts.yaml` | the service's PrometheusRule (system.md's rules) |
| `../incident-truth.json` | what the generator knows: error records and events per cause and pod, the bursts |
";
