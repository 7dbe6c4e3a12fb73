//! Bulk `kubectl logs --timestamps --prefix` output of the service's JSON lines, for the
//! throughput benchmark: any size, any share of error lines, deterministic. Depends only on std
//! so the benchmark can include it with `#[path]`.

use std::io::{self, Write};

/// splitmix64: a tiny deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const PODS: [&str; 3] = [
    "mcp-backend-7c9d5b8f6d-x2kqp",
    "mcp-backend-7c9d5b8f6d-9wzlm",
    "mcp-backend-7c9d5b8f6d-r4t8n",
];

const INFO: [&str; 4] = [
    r#""level":"info","message":"Generation request received","service":"GenerationController","correlationId":"6f1c2a9e-3b1d-4c8e-9a57-1e2f3a4b5c6d","conversationId":"c-81234","userId":"u-5521""#,
    r#""level":"debug","message":"Analyzing repository structure","service":"GitHubAnalysisService","correlationId":"0b7e4d2c-8f61-4a93-b2d5-7c9e1f3a6b80","conversationId":"c-81234""#,
    r#""level":"info","message":"Anthropic call completed","service":"AnthropicService","correlationId":"9d3f6a1b-2c4e-4f8a-8b1d-3e5f7a9c2b4d","duration":4210"#,
    r#""level":"info","message":"Health check","service":"HealthController","correlationId":"2a4c6e8f-1b3d-4f5a-9c7e-0d2f4a6c8e1b""#,
];

const ERRORS: [&str; 4] = [
    r#""level":"error","message":"Graph execution failed: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}","service":"GraphOrchestrationService","correlationId":"5e7a9c1b-3d5f-4a7c-9e1b-3d5f7a9c1b3d","conversationId":"c-81234","trace":"InternalServerError: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n    at APIError.generate (/app/node_modules/@anthropic-ai/sdk/error.js:58:20)\n    at Anthropic.makeStatusError (/app/node_modules/@anthropic-ai/sdk/core.js:263:33)""#,
    r#""level":"error","message":"connect ECONNREFUSED 10.96.44.12:5432","service":"TypeOrmModule","correlationId":"7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d","trace":"Error: connect ECONNREFUSED 10.96.44.12:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)""#,
    r#""level":"error","message":"API rate limit exceeded for user ID 1234567.","service":"GitHubAnalysisService","correlationId":"0b7e4d2c-8f61-4a93-b2d5-7c9e1f3a6b80","trace":"HttpError: API rate limit exceeded for user ID 1234567.\n    at /app/node_modules/@octokit/request/dist-node/index.js:86:21""#,
    r#""level":"error","message":"TypeError: Cannot read properties of undefined (reading 'map')","service":"GenerationService","correlationId":"3b5d7f9a-1c3e-4a5c-8e7f-9a1c3e5a7c9e","trace":"TypeError: Cannot read properties of undefined (reading 'map')\n    at GenerationService.buildTools (/app/dist/generation/generation.service.js:212:41)""#,
];

fn two(buf: &mut Vec<u8>, v: u64) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Appends `2026-11-20THH:MM:SS.<frac>` (the caller adds the zone).
fn clock(buf: &mut Vec<u8>, (h, m, s): (u64, u64, u64), frac: &str) {
    buf.extend_from_slice(b"2026-11-20T");
    two(buf, h);
    buf.push(b':');
    two(buf, m);
    buf.push(b':');
    two(buf, s);
    buf.push(b'.');
    buf.extend_from_slice(frac.as_bytes());
}

/// Writes about `size_bytes` of log lines with `error_pct` percent error lines; returns the
/// bytes written. Pods are dumped one after another, as `kubectl logs -l ... --prefix` does.
pub fn write_bulk(
    out: &mut impl Write,
    size_bytes: u64,
    error_pct: f64,
    seed: u64,
) -> io::Result<u64> {
    let mut rng = Rng(seed);
    let mut written = 0u64;
    let per_pod = size_bytes / PODS.len() as u64 + 1;
    let mut line = Vec::with_capacity(2048);
    for pod in PODS {
        let mut pod_written = 0u64;
        // 2026-11-20T00:00:00Z plus a running offset in nanoseconds.
        let mut ns: u64 = 0;
        while pod_written < per_pod && written < size_bytes {
            ns += 1_000_000 + rng.below(40_000_000);
            let secs = ns / 1_000_000_000;
            let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
            let frac = ns % 1_000_000_000;
            line.clear();
            line.extend_from_slice(b"[pod/");
            line.extend_from_slice(pod.as_bytes());
            line.extend_from_slice(b"/backend] ");
            let kubelet_frac = format!("{frac:09}");
            clock(&mut line, (h, m, s), &kubelet_frac);
            line.extend_from_slice(b"Z {\"timestamp\":\"");
            clock(&mut line, (h, m, s), &kubelet_frac[..3]);
            line.extend_from_slice(b"Z\",");
            let body = if rng.unit() * 100.0 < error_pct {
                ERRORS[rng.below(ERRORS.len() as u64) as usize]
            } else {
                INFO[rng.below(INFO.len() as u64) as usize]
            };
            line.extend_from_slice(body.as_bytes());
            line.extend_from_slice(b"}\n");
            out.write_all(&line)?;
            pod_written += line.len() as u64;
            written += line.len() as u64;
        }
    }
    Ok(written)
}
