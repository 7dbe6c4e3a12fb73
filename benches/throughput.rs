//! Throughput of `postmortem analyze` on a generated `kubectl logs --timestamps --prefix` JSON
//! log at 1% and 50% error lines, plain and gzipped, side by side with `rg -c` over the cause
//! table's literals and `pigz -dc` (also with `-p 1`: on some virtual machines pigz's helper
//! threads spend more time waiting on each other than inflating), with the peak memory of
//! each run (ru_maxrss); then the 1% file's lines as a Cloud Logging JSON array, cut to the
//! same size and whole; and the map step of a split analysis (`--partial`) on the plain files.
//!
//! `cargo bench` (500 MB per file by default; `POSTMORTEM_BENCH_MB=100 cargo bench` for a quick run).

#[path = "../src/bin/gen-fixtures/bulk.rs"]
mod bulk;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs a command, returning (seconds, peak RSS in MB), or None if it could not run.
fn measure(cmd: &mut Command) -> Option<(f64, f64)> {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    std::mem::forget(child);
    (r == pid).then_some((secs, usage.ru_maxrss as f64 / 1024.0))
}

fn best_of(n: usize, mut make: impl FnMut() -> Command) -> Option<(f64, f64)> {
    (0..n)
        .filter_map(|_| measure(&mut make()))
        .fold(None, |best, (t, m)| match best {
            Some((bt, bm)) if bt <= t => Some((bt, f64::max(bm, m))),
            Some((_, bm)) => Some((t, f64::max(bm, m))),
            None => Some((t, m)),
        })
}

fn generate(path: &Path, mb: u64, error_pct: f64, gzip: bool) {
    if path.exists() {
        return;
    }
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        bulk::write_bulk(&mut gz, mb * 1_000_000, error_pct, 42).unwrap();
        gz.finish().unwrap().flush().unwrap();
    } else {
        let mut f = file;
        bulk::write_bulk(&mut f, mb * 1_000_000, error_pct, 42).unwrap();
        f.flush().unwrap();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let mb: u64 = std::env::var("POSTMORTEM_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_postmortem");
    let literals = [
        "overloaded_error",
        "rate_limit_error",
        "ECONNREFUSED",
        "Connection terminated unexpectedly",
        "too many clients already",
        "JavaScript heap out of memory",
        "Bad Request Exception",
        "API rate limit exceeded for",
    ];
    println!(
        "postmortem throughput, {mb} MB per file, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<34} {:>9} {:>10} {:>10} | {:>9} {:>10} {:>15}",
        "input", "seconds", "MB/s", "peak MB", "rg -c s", "pigz -dc s", "pigz -p1 -dc s"
    );
    for pct in [1.0, 50.0] {
        for gz in [false, true] {
            let name = format!("bulk-{mb}mb-{pct}pct.log{}", if gz { ".gz" } else { "" });
            let path = dir.join(&name);
            generate(&path, mb, pct, gz);
            let out = dir.join("out");
            let ours = best_of(3, || {
                let mut c = Command::new(bin);
                c.args([
                    "analyze",
                    "--quiet",
                    "--format",
                    "json",
                    "--as-of",
                    "2026-11-21T00:00:00Z",
                    "--out",
                ])
                .arg(&out)
                .arg(&path);
                c
            });
            let rg = (!gz)
                .then(|| {
                    best_of(3, || {
                        let mut c = Command::new("rg");
                        c.arg("-c");
                        for l in literals {
                            c.args(["-F", "-e", l]);
                        }
                        c.arg(&path);
                        c
                    })
                })
                .flatten();
            let pigz = |threads: &[&str]| {
                gz.then(|| {
                    best_of(3, || {
                        let mut c = Command::new("pigz");
                        c.args(threads).arg("-dc").arg(&path);
                        c
                    })
                })
                .flatten()
            };
            let (pigz, pigz1) = (pigz(&[]), pigz(&["-p", "1"]));
            let (t, m) = ours.expect("postmortem ran");
            println!(
                "{:<34} {:>9.2} {:>10.0} {:>10.0} | {:>9} {:>10} {:>15}",
                name,
                t,
                mb as f64 / t,
                m,
                rg.map_or("-".into(), |r| format!("{:.2}", r.0)),
                pigz.map_or("-".into(), |p| format!("{:.2}", p.0)),
                pigz1.map_or("-".into(), |p| format!("{:.2}", p.0))
            );
        }
    }
    // The map step of a split analysis (analyze --partial): the same reading, no report.
    for pct in [1.0, 50.0] {
        let path = dir.join(format!("bulk-{mb}mb-{pct}pct.log"));
        let part = dir.join(format!("bulk-{mb}mb-{pct}pct.parquet"));
        let (t, m) = best_of(3, || {
            let mut c = Command::new(bin);
            c.args([
                "analyze",
                "--quiet",
                "--as-of",
                "2026-11-21T00:00:00Z",
                "--partial",
            ])
            .arg(&part)
            .arg(&path);
            c
        })
        .expect("postmortem ran");
        let size = std::fs::metadata(&part).map_or(0, |m| m.len());
        println!(
            "{:<34} {:>9.2} {:>10.0} {:>10.0} | partial {:.0} KB, {:.3}% of the input",
            format!("map step (--partial), {pct}%"),
            t,
            mb as f64 / t,
            m,
            size as f64 / 1000.0,
            100.0 * size as f64 / (mb as f64 * 1e6)
        );
    }
    // JSON-array exports (gcloud logging read --format=json's shape, compact, one entry per
    // line of the kubectl file), read by the foreign-format path: the same lines as the 1%
    // file (larger: the envelope around each line), and the first of them up to the same size.
    let kubectl = dir.join(format!("bulk-{mb}mb-1pct.log"));
    let same_lines = dir.join(format!("gcloud-{mb}mb-1pct.json"));
    to_gcloud(&kubectl, &same_lines, None);
    let same_size = dir.join(format!("gcloud-{mb}mb-1pct-cut.json"));
    to_gcloud(&kubectl, &same_size, Some(mb * 1_000_000));
    let out = dir.join("out");
    let run = |path: &Path| {
        best_of(3, || {
            let mut c = Command::new(bin);
            c.args([
                "analyze",
                "--quiet",
                "--format",
                "json",
                "--as-of",
                "2026-11-21T00:00:00Z",
                "--out",
            ])
            .arg(&out)
            .arg(path);
            c
        })
        .expect("postmortem ran")
    };
    let (tk, _) = run(&kubectl);
    for (json, what) in [(&same_size, "cut to"), (&same_lines, "lines of")] {
        let (tj, mj) = run(json);
        let size = std::fs::metadata(json).map_or(0, |m| m.len()) as f64 / 1e6;
        println!(
            "{:<34} {:>9.2} {:>10.0} {:>10.0} | {:.1}x the kubectl file's {:.2} s ({what} it)",
            format!("gcloud JSON array ({size:.0} MB)"),
            tj,
            size / tj,
            mj,
            tj / tk,
            tk
        );
    }
}

/// Writes the kubectl bulk file's lines as a Cloud Logging JSON array, of at most `cap` bytes.
fn to_gcloud(kubectl: &Path, json: &Path, cap: Option<u64>) {
    use std::io::BufRead;
    if json.exists() {
        return;
    }
    let src = std::io::BufReader::new(std::fs::File::open(kubectl).unwrap());
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(json).unwrap());
    out.write_all(b"[\n").unwrap();
    let mut written = 2u64;
    for (i, line) in src.lines().enumerate() {
        let line = line.unwrap();
        let Some((prefix, rest)) = line.split_once("] ") else {
            continue;
        };
        let pod = prefix.split('/').nth(1).unwrap_or("pod");
        let Some((ts, payload)) = rest.split_once(' ') else {
            continue;
        };
        let entry = format!(
            "{}{{\"insertId\":\"{i:x}\",\"jsonPayload\":{payload},\"resource\":{{\"labels\":{{\"container_name\":\"backend\",\"namespace_name\":\"mcp-everything\",\"pod_name\":\"{pod}\"}},\"type\":\"k8s_container\"}},\"severity\":\"INFO\",\"timestamp\":\"{ts}\"}}",
            if i > 0 { ",\n" } else { "" }
        );
        if cap.is_some_and(|c| written + entry.len() as u64 + 3 > c) {
            break;
        }
        out.write_all(entry.as_bytes()).unwrap();
        written += entry.len() as u64;
    }
    out.write_all(b"\n]\n").unwrap();
    out.flush().unwrap();
}
