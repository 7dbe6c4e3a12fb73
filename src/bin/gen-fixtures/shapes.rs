//! `fixtures/formats/shapes/`: each shape of the service's logs that counting depends on, small
//! enough to count by hand (the structured cases `shapes-records` and `shapes-overlap` assert
//! the exact figures).
//!
//! `records/` holds one container's two runs of x2kqp: the first (`--previous --timestamps`)
//! ends with Node's full heap report; the second (`--timestamps`) boots in Nest's text form
//! with four database retries (each stack's first line unindented), then fails one generation
//! each way: a three-service GitHub cascade, PostgreSQL starting up (inside the graph, reported
//! twice by the pipeline), an Anthropic 401, a 400 on the generation endpoint and one on the
//! chat endpoint.
//!
//! `overlap/` holds x2kqp's `--timestamps` export (with a pool's three identical lines in one
//! chunk), 9wzlm's plain export (no timestamps), and a `kubectl logs -l app=mcp-backend
//! --prefix --timestamps --since-time=...` export of both pods' last lines.

use std::path::Path;

use crate::services::{self as svc, kubelet, Out, Pg, Pod};

const A: &str = "mcp-backend-7c9d5b8f6d-x2kqp";
const B: &str = "mcp-backend-7c9d5b8f6d-9wzlm";
/// 2026-11-20T09:40:00Z.
const T: i64 = 1_795_167_600_000;

fn timestamped(lines: &[Out]) -> String {
    lines
        .iter()
        .map(|l| format!("{} {}\n", kubelet(l.ms, l.ns), l.text))
        .collect()
}

fn prefixed(pod: &str, lines: &[Out]) -> String {
    lines
        .iter()
        .map(|l| format!("[pod/{pod}/backend] {} {}\n", kubelet(l.ms, l.ns), l.text))
        .collect()
}

fn records(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut first = Pod::new(101);
    first.traffic(T, T + 60_000);
    svc::heap_report(&mut first, T + 62_000);
    std::fs::write(
        dir.join(format!("{A}.previous.log")),
        timestamped(&first.finish()),
    )?;

    let mut second = Pod::new(102);
    let up = svc::nest_boot_with_db_retries(&mut second, T + 73_000, 4);
    second.traffic(up + 500, up + 120_000);
    svc::github(&mut second, up + 5_000, 0);
    svc::database(Pg::Restarting)(&mut second, up + 40_000, 3);
    svc::anthropic_401(&mut second, up + 60_000, 0);
    svc::validation(&mut second, up + 70_000, 0);
    svc::validation(&mut second, up + 80_000, 2);
    std::fs::write(dir.join(format!("{A}.log")), timestamped(&second.finish()))
}

fn overlap(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut a = Pod::new(201);
    a.traffic(T, T + 100_000);
    svc::pool_terminated(&mut a, T + 80_000, 3);
    let a = a.finish();
    let mut b = Pod::new(202);
    b.traffic(T, T + 100_000);
    svc::unclassified(&mut b, T + 90_000, 0);
    let b = b.finish();
    std::fs::write(dir.join(format!("{A}.log")), timestamped(&a))?;
    let plain: String = b.iter().map(|l| format!("{}\n", l.text)).collect();
    std::fs::write(dir.join(format!("{B}.log")), plain)?;
    // Taken at T + 100 s with --since-time=T + 70 s: both pods, one after the other.
    let since = T + 70_000;
    let recent =
        |lines: Vec<Out>| -> Vec<Out> { lines.into_iter().filter(|l| l.ms >= since).collect() };
    let mut look = prefixed(A, &recent(a));
    look.push_str(&prefixed(B, &recent(b)));
    std::fs::write(dir.join("app-mcp-backend-since.log"), look)
}

pub fn generate(dir: &Path) -> std::io::Result<()> {
    records(&dir.join("records"))?;
    overlap(&dir.join("overlap"))
}
