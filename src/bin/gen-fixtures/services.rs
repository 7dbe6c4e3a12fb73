//! What `mcp-backend` writes, line by line: its JSON logger's lines (keys in the logger's
//! order), Nest's text lines, and the shapes of its failures as the real service logs them:
//! one failed generation is logged by two to four classes in a cascade plus the error logger's
//! echo, and only the pipeline's top-level record is an increment of
//! `mcp_generation_errors_total`. Each line carries what the generator knows about it (its
//! cause, whether the counter counts it) for `incident-truth.json`.

use chrono::{DateTime, Utc};

use crate::bulk::Rng;

/// What the generator knows about an error record.
#[derive(Clone, Copy, Debug)]
pub struct Err {
    pub cause: &'static str,
    /// The outcome rule of the built-in cause table that counts it (an increment of the real
    /// counter), if any.
    pub counted: Option<&'static str>,
}

/// One physical line of a pod's output, before export formatting.
pub struct Out {
    pub ms: i64,
    /// The kubelet's sub-millisecond nanoseconds (assigned by [`Pod::finish`]).
    pub ns: u32,
    /// Written in the same chunk as the line before: the kubelet gives it the same time.
    pub same_stamp: bool,
    pub text: String,
    pub error: Option<Err>,
}

pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The kubelet's RFC 3339 time with nine fraction digits.
pub fn kubelet(ms: i64, ns: u32) -> String {
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
pub fn json_line(
    ms: i64,
    level: &str,
    message: &str,
    service: &str,
    extra: &[(&str, String)],
    trace: Option<&str>,
) -> String {
    let corr = correlation(service);
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

/// The correlation id is fixed per logger instance, not per request.
fn correlation(service: &str) -> &'static str {
    const CORR: [&str; 8] = [
        "6f1c2a9e-3b1d-4c8e-9a57-1e2f3a4b5c6d",
        "0b7e4d2c-8f61-4a93-b2d5-7c9e1f3a6b80",
        "9d3f6a1b-2c4e-4f8a-8b1d-3e5f7a9c2b4d",
        "5e7a9c1b-3d5f-4a7c-9e1b-3d5f7a9c1b3d",
        "7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d",
        "3b5d7f9a-1c3e-4a5c-8e7f-9a1c3e5a7c9e",
        "8e0a2c4e-6a8c-4e0a-9c2e-4a6c8e0a2c4e",
        "1d3f5b7d-9f1b-4d3f-8b5d-7f9b1d3f5b7d",
    ];
    let h = service
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    CORR[(h % CORR.len() as u64) as usize]
}

fn nest_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("valid")
        .format("%-m/%-d/%Y, %-I:%M:%S %p")
        .to_string()
}

/// A line of Nest's text logger (local time, here UTC, no zone).
pub fn nest(ms: i64, level: &str, ctx: &str, msg: &str) -> String {
    format!("[Nest] 1  - {}  {:>7} [{ctx}] {msg}", nest_time(ms), level)
}

const PG_FRAMES: [&str; 4] = [
    "    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:287:98)",
    "    at Parser.handlePacket (/app/node_modules/pg-protocol/dist/parser.js:126:29)",
    "    at Parser.parse (/app/node_modules/pg-protocol/dist/parser.js:39:38)",
    "    at Socket.<anonymous> (/app/node_modules/pg-protocol/dist/index.js:11:42)",
];

/// The message and error class of one Anthropic API failure.
fn anthropic_error(n: u64) -> (&'static str, &'static str) {
    match n % 9 {
        0..=5 => (
            r#"529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "InternalServerError",
        ),
        6 => (
            r#"429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
            "RateLimitError",
        ),
        7 => ("Request timed out.", "APIConnectionTimeoutError"),
        _ => ("Connection error.", "APIConnectionError"),
    }
}

fn anthropic_trace(class: &str, msg: &str) -> String {
    format!("{class}: {msg}\n    at APIError.generate (/app/node_modules/@anthropic-ai/sdk/error.js:58:20)\n    at Anthropic.makeStatusError (/app/node_modules/@anthropic-ai/sdk/core.js:263:33)\n    at Anthropic.makeRequest (/app/node_modules/@anthropic-ai/sdk/core.js:306:30)\n    at async AnthropicService.generate (/app/dist/anthropic/anthropic.service.js:88:26)")
}

/// What PostgreSQL answers at a moment of the incident (see `incident.md`).
#[derive(Clone, Copy)]
pub enum Pg {
    /// Restarted by an operator: sessions terminated, then refused, then starting up.
    Restarting,
    /// Back with too few connection slots for the pods' pools.
    Exhausted,
}

fn pg_error(state: Pg, n: u64) -> &'static str {
    match (state, n % 4) {
        (Pg::Restarting, 0) => "terminating connection due to administrator command",
        (Pg::Restarting, 1) => "connect ECONNREFUSED 10.96.44.12:5432",
        (Pg::Restarting, _) => "the database system is starting up",
        (Pg::Exhausted, 0 | 1) => "sorry, too many clients already",
        (Pg::Exhausted, 2) => "timeout exceeded when trying to connect",
        (Pg::Exhausted, _) => "Connection terminated unexpectedly",
    }
}

fn pg_trace(msg: &str) -> String {
    let mut t = format!("error: {msg}");
    for f in PG_FRAMES {
        t.push('\n');
        t.push_str(f);
    }
    t
}

/// One pod's (one container's) output.
pub struct Pod {
    pub lines: Vec<Out>,
    pub rng: Rng,
}

impl Pod {
    pub fn new(seed: u64) -> Pod {
        Pod {
            lines: Vec::new(),
            rng: Rng(seed),
        }
    }

    pub fn push(&mut self, ms: i64, text: String, error: Option<Err>) {
        self.lines.push(Out {
            ms,
            ns: 0,
            same_stamp: false,
            text,
            error,
        });
    }

    /// An error line of the service's JSON logger.
    pub fn error(
        &mut self,
        t: i64,
        message: &str,
        service: &str,
        ctx: &[(&str, String)],
        trace: Option<&str>,
        err: Option<Err>,
    ) {
        self.push(t, json_line(t, "error", message, service, ctx, trace), err);
    }

    /// A line written in the same chunk as the one before (same kubelet time).
    pub fn push_same(&mut self, text: String, error: Option<Err>) {
        let ms = self.lines.last().map_or(0, |l| l.ms);
        self.lines.push(Out {
            ms,
            ns: 0,
            same_stamp: true,
            text,
            error,
        });
    }

    fn conversation(&mut self) -> String {
        format!("\"c-{}\"", 80000 + self.rng.below(5000))
    }

    /// Ordinary requests between `from` and `to`.
    pub fn traffic(&mut self, from: i64, to: i64) {
        let mut t = from;
        while t < to {
            t += 1500 + self.rng.below(3500) as i64;
            let conv = self.conversation();
            let (level, msg, service, extra): (&str, &str, &str, Vec<(&str, String)>) =
                match self.rng.below(6) {
                    0 => (
                        "info",
                        "Generation request received",
                        "GenerationController",
                        vec![
                            ("conversationId", conv),
                            ("userId", format!("\"u-{}\"", 5000 + self.rng.below(900))),
                        ],
                    ),
                    1 => (
                        "debug",
                        "Analyzing repository structure",
                        "RepositoryAnalysisService",
                        vec![("conversationId", conv)],
                    ),
                    2 => (
                        "info",
                        "Anthropic call completed",
                        "AnthropicService",
                        vec![
                            ("conversationId", conv),
                            ("duration", (2000 + self.rng.below(9000)).to_string()),
                        ],
                    ),
                    3 => (
                        "verbose",
                        "Graph node completed: generate_tools",
                        "GraphOrchestrationService",
                        vec![("conversationId", conv)],
                    ),
                    4 => (
                        "info",
                        "GET /api/v1/health/ready 200",
                        "HttpLogger",
                        vec![("duration", (1 + self.rng.below(5)).to_string())],
                    ),
                    _ => (
                        "info",
                        "Generation completed",
                        "McpGenerationService",
                        vec![
                            ("conversationId", conv),
                            ("duration", (20000 + self.rng.below(60000)).to_string()),
                        ],
                    ),
                };
            let line = json_line(t, level, msg, service, &extra, None);
            self.push(t, line, None);
        }
    }

    /// Calls `emit` at about `per_sec` per second between `from` and `to`.
    pub fn burst(
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

    /// Sorts the lines by time (stable: a cascade logged in one millisecond keeps its order)
    /// and gives them the kubelet's nanoseconds, ascending within a millisecond; a line
    /// written in the same chunk as the one before gets its time.
    pub fn finish(mut self) -> Vec<Out> {
        self.lines.sort_by_key(|l| l.ms);
        let mut i = 0;
        while i < self.lines.len() {
            let ms = self.lines[i].ms;
            let j = i + self.lines[i..].iter().take_while(|l| l.ms == ms).count();
            let mut ns: Vec<u32> = (i..j)
                .map(|_| (self.rng.next() % 1_000_000) as u32)
                .collect();
            ns.sort_unstable();
            for (k, n) in (i..j).zip(ns) {
                self.lines[k].ns = if self.lines[k].same_stamp && k > i {
                    self.lines[k - 1].ns
                } else {
                    n
                };
            }
            i = j;
        }
        self.lines
    }
}

fn counted(cause: &'static str, rule: &'static str) -> Option<Err> {
    Some(Err {
        cause,
        counted: Some(rule),
    })
}

fn explains(cause: &'static str) -> Option<Err> {
    Some(Err {
        cause,
        counted: None,
    })
}

pub const GENERATION_FAILED: &str = "generation failed";
pub const GRAPH_FAILED: &str = "graph execution failed";
pub const REJECTED: &str = "generation request rejected";

/// A generation that failed at Anthropic: the client's error, the graph's failure (the
/// counted outcome) and the error logger's echo, within a few milliseconds.
pub fn anthropic(p: &mut Pod, t: i64, n: u64) {
    let (msg, class) = anthropic_error(n);
    anthropic_failure(p, t, msg, class);
}

/// A generation that failed because the Anthropic key was rejected (401).
pub fn anthropic_401(p: &mut Pod, t: i64, _n: u64) {
    let msg = r#"401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
    anthropic_failure(p, t, msg, "AuthenticationError");
}

fn anthropic_failure(p: &mut Pod, t: i64, msg: &str, class: &str) {
    let trace = anthropic_trace(class, msg);
    let conv = p.conversation();
    let ctx = [("conversationId", conv)];
    let cause = "anthropic_api_error";
    p.error(
        t,
        &format!("Anthropic API call failed: {msg}"),
        "AnthropicService",
        &ctx,
        Some(&trace),
        explains(cause),
    );
    let t2 = t + 2;
    p.error(
        t2,
        &format!("Graph execution failed: {msg}"),
        "GraphOrchestrationService",
        &ctx,
        Some(&trace),
        counted(cause, GRAPH_FAILED),
    );
    p.error(
        t2,
        &format!("[GraphOrchestrationService::executeGraph] {msg}"),
        "ErrorLogger",
        &ctx,
        Some(&trace),
        explains(cause),
    );
}

/// A chat message whose own Anthropic call failed: an Anthropic error, not a generation.
pub fn chat_anthropic(p: &mut Pod, t: i64, n: u64) {
    let (msg, class) = anthropic_error(n + 3);
    let trace = anthropic_trace(class, msg);
    let conv = p.conversation();
    p.error(
        t,
        &format!("Chat completion failed: {msg}"),
        "ChatService",
        &[("conversationId", conv)],
        Some(&trace),
        explains("anthropic_api_error"),
    );
}

/// A generation that failed at the database. Half of them fail inside the graph, which the
/// pipeline then reports again around it (two outcome records, one failure).
pub fn database(state: Pg) -> impl FnMut(&mut Pod, i64, u64) {
    move |p: &mut Pod, t: i64, n: u64| {
        let msg = pg_error(state, n);
        let trace = pg_trace(msg);
        let conv = p.conversation();
        let ctx = [("conversationId", conv)];
        let cause = "database_error";
        if n.is_multiple_of(2) {
            p.error(
                t,
                &format!("Failed to load conversation: {msg}"),
                "ConversationService",
                &ctx,
                Some(&trace),
                explains(cause),
            );
            let t2 = t + 4;
            p.error(
                t2,
                &format!("MCP server generation failed: {msg}"),
                "McpGenerationService",
                &ctx,
                Some(&trace),
                counted(cause, GENERATION_FAILED),
            );
            p.error(
                t2,
                &format!("[McpGenerationService::generate] {msg}"),
                "ErrorLogger",
                &ctx,
                Some(&trace),
                explains(cause),
            );
        } else {
            p.error(
                t,
                &format!("Graph execution failed: {msg}"),
                "GraphOrchestrationService",
                &ctx,
                Some(&trace),
                counted(cause, GRAPH_FAILED),
            );
            let t2 = t + 3;
            p.error(
                t2,
                &format!("MCP server generation failed: Graph execution failed: {msg}"),
                "McpGenerationService",
                &ctx,
                Some(&trace),
                explains(cause),
            );
            p.error(
                t2,
                &format!("[McpGenerationService::generate] Graph execution failed: {msg}"),
                "ErrorLogger",
                &ctx,
                Some(&trace),
                explains(cause),
            );
        }
    }
}

/// The readiness endpoint's database check failing: a database error, not a generation.
pub fn health_check(state: Pg) -> impl FnMut(&mut Pod, i64, u64) {
    move |p: &mut Pod, t: i64, n: u64| {
        let msg = pg_error(state, n + 1);
        p.error(
            t,
            &format!("Health check failed: database: {msg}"),
            "HealthController",
            &[],
            None,
            explains("database_error"),
        );
    }
}

/// The pool's idle clients all dropped at once when PostgreSQL terminated their sessions:
/// `clients` identical lines written in one chunk (one kubelet time).
pub fn pool_terminated(p: &mut Pod, t: i64, clients: usize) {
    let msg = "terminating connection due to administrator command";
    let trace = pg_trace(msg);
    let line = json_line(t, "error", msg, "TypeOrmModule", &[], Some(&trace));
    p.push(t, line.clone(), explains("database_error"));
    for _ in 1..clients {
        p.push_same(line.clone(), explains("database_error"));
    }
}

/// The error logger writing each error to the database: while PostgreSQL is unavailable the
/// write fails too (a database error, not a generation), shortly after every echo.
pub fn persist_failures(p: &mut Pod, from: i64, to: i64, state: Pg) {
    let echoes: Vec<i64> = p
        .lines
        .iter()
        .filter(|l| l.ms >= from && l.ms < to && l.text.contains("\"service\":\"ErrorLogger\""))
        .map(|l| l.ms)
        .collect();
    for (n, t) in echoes.into_iter().enumerate() {
        let t = t + 35;
        let msg = pg_error(state, n as u64 + 2);
        p.error(
            t,
            &format!("Failed to persist error log: {msg}"),
            "ErrorLogService",
            &[],
            Some(&pg_trace(msg)),
            explains("database_error"),
        );
    }
}

/// A generation that failed on GitHub's rate limit, logged by three services: the GitHub
/// client gives up after its retries (its message names no service: only the logger says
/// GitHub), the analysis service wraps it over a second later, the pipeline wraps that (the
/// counted outcome), and the error logger echoes the pipeline.
pub fn github(p: &mut Pod, t: i64, n: u64) {
    let conv = p.conversation();
    let ctx = [("conversationId", conv)];
    let cause = "github_api_error";
    let inner = if n % 4 == 3 {
        "API rate limit exceeded for user ID 1234567."
    } else {
        "Rate limit exceeded after 4 attempts"
    };
    let mut at = t;
    for (k, wait) in [2000, 4000, 8000].into_iter().enumerate() {
        p.push(
            at,
            json_line(
                at,
                "warn",
                &format!("Rate limit hit, waiting {wait}ms before retry {}/3", k + 1),
                "GitHubRepoProvider",
                &ctx,
                None,
            ),
            None,
        );
        at += wait + 180;
    }
    let trace = format!("Error: {inner}\n    at GitHubRepoProvider.withRetry (/app/dist/github/github-repo.provider.js:77:19)\n    at async GitHubRepoProvider.getRepository (/app/dist/github/github-repo.provider.js:41:22)");
    p.error(
        at,
        inner,
        "GitHubRepoProvider",
        &ctx,
        Some(&trace),
        explains(cause),
    );
    let at2 = at + 1_150 + p.rng.below(400) as i64;
    p.error(
        at2,
        &format!("Failed to analyze repository: {inner}"),
        "RepositoryAnalysisService",
        &ctx,
        Some(&trace),
        explains(cause),
    );
    let at3 = at2 + 6;
    p.error(
        at3,
        &format!("MCP server generation failed: Repository analysis failed: {inner}"),
        "McpGenerationService",
        &ctx,
        Some(&trace),
        counted(cause, GENERATION_FAILED),
    );
    p.error(
        at3,
        &format!("[McpGenerationService::generate] Repository analysis failed: {inner}"),
        "ErrorLogger",
        &ctx,
        Some(&trace),
        explains(cause),
    );
}

/// A request the global exception filter rejects with 400, logged at warn. On the generation
/// endpoint it is a failed generation (the counter counts it); on the chat endpoint it is not.
pub fn validation(p: &mut Pod, t: i64, n: u64) {
    let generation = n % 3 != 2;
    let (path, detail) = if generation {
        (
            "/api/v1/mcp-servers/generate",
            [
                "githubUrl must be a URL address",
                "property repoName should not exist",
            ][(n % 2) as usize],
        )
    } else {
        ("/api/v1/chat/messages", "content should not be empty")
    };
    let extra = [
        ("duration", "3".to_owned()),
        ("method", "\"POST\"".to_owned()),
        ("path", q(path)),
        ("statusCode", "400".to_owned()),
    ];
    let err = if generation {
        counted("validation_error", REJECTED)
    } else {
        explains("validation_error")
    };
    p.push(
        t,
        json_line(
            t,
            "warn",
            &format!("Bad Request Exception: {detail}"),
            "AllExceptionsFilter",
            &extra,
            None,
        ),
        err,
    );
}

/// Errors no cause covers, outside the generation pipeline (the counter does not count them).
pub fn unclassified(p: &mut Pod, t: i64, n: u64) {
    let (msg, trace) = if n.is_multiple_of(2) {
        ("TypeError: Cannot read properties of undefined (reading 'map')".to_owned(), "TypeError: Cannot read properties of undefined (reading 'map')\n    at ConversationController.list (/app/dist/chat/conversation.controller.js:64:41)".to_owned())
    } else {
        let pos = p.rng.below(400);
        (format!("Unexpected token < in JSON at position {pos}"), format!("SyntaxError: Unexpected token < in JSON at position {pos}\n    at JSON.parse (<anonymous>)"))
    };
    p.error(
        t,
        &msg,
        "ConversationController",
        &[],
        Some(&trace),
        explains("unclassified"),
    );
}

/// Node's heap-exhaustion report as the dying process prints it: the GC trace, the JS stack
/// header, the fatal line and the native frames (the numbers from 10 on are not indented),
/// blank lines included. One fatal record.
pub fn heap_report(p: &mut Pod, t: i64) {
    let lines = [
        "",
        "<--- Last few GCs --->",
        "",
        "[1:0x6a3c1a0]  3508122 ms: Scavenge (reduce) 505.1 (518.9) -> 504.8 (519.4) MB, 9.82 / 0.00 ms  (average mu = 0.188, current mu = 0.054) allocation failure; ",
        "[1:0x6a3c1a0]  3510361 ms: Mark-Compact (reduce) 507.3 (519.1) -> 505.9 (519.4) MB, 1840.21 / 0.00 ms  (+ 0.1 ms in 1 steps since start of marking, biggest step 0.1 ms, walltime since start of marking 1851 ms) (average mu = 0.121, current mu = 0.033) allocation failure; scavenge might not succeed",
        "",
        "",
        "<--- JS stacktrace --->",
        "",
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        " 1: 0xb7c3b0 node::Abort() [node]",
        " 2: 0xa8d2f4 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]",
        " 3: 0xd5f1c0 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, v8::OOMDetails const&) [node]",
        " 4: 0xd5f4e7 v8::internal::V8::FatalProcessOutOfMemory(v8::internal::Isolate*, char const*, v8::OOMDetails const&) [node]",
        " 5: 0xf3c6a5  [node]",
        " 6: 0xf4e7ed v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace, v8::internal::GarbageCollectionReason, v8::GCCallbackFlags) [node]",
        " 7: 0xf28a1e v8::internal::HeapAllocator::AllocateRawWithLightRetrySlowPath(int, v8::internal::AllocationType, v8::internal::AllocationOrigin, v8::internal::AllocationAlignment) [node]",
        " 8: 0xf29de7 v8::internal::HeapAllocator::AllocateRawWithRetryOrFailSlowPath(int, v8::internal::AllocationType, v8::internal::AllocationOrigin, v8::internal::AllocationAlignment) [node]",
        " 9: 0xf0a55a v8::internal::Factory::NewFillerObject(int, v8::internal::AllocationAlignment, v8::internal::AllocationType, v8::internal::AllocationOrigin) [node]",
        "10: 0x12cb9df v8::internal::Runtime_AllocateInYoungGeneration(int, unsigned long*, v8::internal::Isolate*) [node]",
        "11: 0x16f8ef9  [node]",
    ];
    for (i, text) in lines.into_iter().enumerate() {
        let fatal = text.starts_with("FATAL ERROR");
        let error = fatal.then_some(Err {
            cause: "memory_exhaustion",
            counted: None,
        });
        // The GC trace is printed first, the rest in one go as the process aborts.
        let ms = if i < 7 { t } else { t + 1 };
        p.push(ms, text.to_owned(), error);
    }
}

/// A container starting in Nest's text form, its database connection refused while
/// PostgreSQL is out of slots: each retry's error stack starts with the unindented
/// `error: sorry, too many clients already`. Returns when the application is up.
pub fn nest_boot_with_db_retries(p: &mut Pod, t: i64, retries: usize) -> i64 {
    for (d, level, ctx, msg) in [
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
            "ConfigModule dependencies initialized +1ms",
        ),
    ] {
        p.push(t + d, nest(t + d, level, ctx, msg), None);
    }
    let mut at = t + 900;
    for k in 1..=retries {
        p.push(
            at,
            nest(
                at,
                "ERROR",
                "TypeOrmModule",
                &format!("Unable to connect to the database. Retrying ({k})..."),
            ),
            explains("database_error"),
        );
        p.push_same("error: sorry, too many clients already".to_owned(), None);
        for f in PG_FRAMES {
            p.push_same(f.to_owned(), None);
        }
        at += 3_000;
    }
    let up = at + 400;
    p.push(
        up - 20,
        nest(
            up - 20,
            "LOG",
            "InstanceLoader",
            "TypeOrmModule dependencies initialized +9817ms",
        ),
        None,
    );
    p.push(
        up,
        nest(
            up,
            "LOG",
            "NestApplication",
            "Nest application successfully started +3ms",
        ),
        None,
    );
    up
}

/// A container starting with the JSON logger already installed (the image the scale-up ran).
pub fn json_boot(p: &mut Pod, t: i64) -> i64 {
    for (d, msg, service) in [
        (0, "Starting Nest application...", "NestFactory"),
        (45, "AppModule dependencies initialized", "InstanceLoader"),
        (
            60,
            "TypeOrmModule dependencies initialized",
            "InstanceLoader",
        ),
        (
            2600,
            "Nest application successfully started",
            "NestApplication",
        ),
        (
            2604,
            "Application is running on: http://[::]:3000",
            "Bootstrap",
        ),
    ] {
        p.push(
            t + d,
            json_line(t + d, "info", msg, service, &[], None),
            None,
        );
    }
    t + 2604
}
