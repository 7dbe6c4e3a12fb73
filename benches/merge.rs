//! The reduce step at scale: 100 shards of `kubectl logs --timestamps --prefix` output, 20 pods
//! each with errors of 5 causes every other minute for 3 hours (10,000 alert series in all),
//! each shard's partial written by the map step (`analyze SHARD --partial`), then the time of
//! `postmortem merge` over the 100 partials (target: under 2 s), with only report.json and
//! with every format (charts included), and the partials' total size against the logs'.
//!
//! `cargo bench --bench merge`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SHARDS: usize = 100;
const PODS: usize = 20;
const MINUTES: i64 = 180;
/// One message per cause: Anthropic, the database, GitHub, validation, and one no cause names.
const MESSAGES: [&str; 5] = [
    "Anthropic API call failed: 529 overloaded_error",
    "Failed to persist error log: sorry, too many clients already",
    "API rate limit exceeded for user ID 1234567.",
    "Bad Request Exception: content should not be empty",
    "TypeError: Cannot read properties of undefined (reading 'map')",
];

fn shard_log(path: &Path, shard: usize) {
    let mut f = BufWriter::new(std::fs::File::create(path).unwrap());
    let start = 1_763_629_200_000i64; // 2026-11-20T09:00:00Z
    for m in 0..MINUTES {
        for pod in 0..PODS {
            for (c, msg) in MESSAGES.iter().enumerate() {
                if !(m as usize + pod + c).is_multiple_of(2) {
                    continue;
                }
                let ms = start + m * 60_000 + (pod * 997 + c * 7919) as i64 % 60_000;
                let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
                writeln!(
                    f,
                    "[pod/mcp-backend-7c9d5b8f6d-{shard:03}{pod:02}/backend] {} {{\"level\":\"error\",\"message\":\"{msg}\",\"service\":\"Bench\"}}",
                    t.format("%Y-%m-%dT%H:%M:%S%.9fZ")
                )
                .unwrap();
            }
        }
    }
    f.flush().unwrap();
}

fn time(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success(), "{cmd:?} failed");
    start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_postmortem");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-merge");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut logs_bytes, mut parts_bytes, mut map_secs) = (0u64, 0u64, 0.0);
    let mut partials = Vec::new();
    for s in 0..SHARDS {
        let log = dir.join(format!("shard-{s:03}.log"));
        if !log.exists() {
            shard_log(&log, s);
        }
        let part = dir.join(format!("shard-{s:03}.parquet"));
        map_secs += time(
            Command::new(bin)
                .args(["analyze", "-q", "--as-of", "2026-11-20T12:00:00Z"])
                .arg(&log)
                .arg("--partial")
                .arg(&part),
        );
        logs_bytes += std::fs::metadata(&log).unwrap().len();
        parts_bytes += std::fs::metadata(&part).unwrap().len();
        partials.push(part);
    }
    println!(
        "postmortem merge: {SHARDS} partials, {} series ({:.0} MB of logs; partials {:.1} MB, {:.2}%); map steps {:.2} s in all",
        SHARDS * PODS * MESSAGES.len(),
        logs_bytes as f64 / 1e6,
        parts_bytes as f64 / 1e6,
        100.0 * parts_bytes as f64 / logs_bytes as f64,
        map_secs
    );
    for (what, formats) in [
        ("report.json only", "json"),
        ("every format", "md,json,html,svg,png"),
    ] {
        let out = dir.join(format!("out-{formats}"));
        let best = (0..3)
            .map(|_| {
                time(
                    Command::new(bin)
                        .args([
                            "merge",
                            "-q",
                            "--as-of",
                            "2026-11-20T12:00:00Z",
                            "--format",
                            formats,
                            "--out",
                        ])
                        .arg(&out)
                        .args(&partials),
                )
            })
            .fold(f64::INFINITY, f64::min);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
        println!(
            "merge, {what:<17} {best:>6.2} s (best of 3; {} error records)",
            report["inputs"]["error_records"]
        );
    }
}
