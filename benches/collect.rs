//! The live-collection benchmark of issue 14: `postmortem collect --since 3h` of the example
//! incident's 3 pods (4 containers' logs, pods, events, node events) from the recorded
//! Kubernetes API through the real kubectl, and the rules and raw samples from a real local
//! Prometheus over the incident's TSDB blocks. Target: under 10 s on the 2-core machine.
//! Best and median of 5. Needs kubectl, prometheus and promtool on PATH (skips otherwise).
//! Run with `cargo bench --bench collect`.

#[path = "../tests/live/mod.rs"]
mod live;

use std::process::Command;
use std::time::Instant;

fn main() {
    if !["kubectl", "prometheus", "promtool"]
        .iter()
        .all(|p| live::on_path(p))
    {
        eprintln!("collect benchmark skipped: it needs kubectl, prometheus and promtool on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let prom = live::Prometheus::start(&dir.join("prometheus"), true, "100y");
    let api = live::FakeApi::start(live::Variant::default());
    let kc = api.kubeconfig(dir);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_postmortem"))
            .args([
                "collect",
                "--as-of",
                "2026-11-20T10:30:00Z",
                "--since",
                "3h",
                "-q",
                "--prometheus",
                &prom.url(),
                "--out",
            ])
            .arg(dir.join("bundle"))
            .env("KUBECONFIG", &kc)
            .env("KUBECACHEDIR", dir.join("cache"))
            .output()
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bundle/collected.json")).unwrap())
            .unwrap();
    let requests = record["requests"].as_array().map_or(0, Vec::len);
    let bytes: u64 = record["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["bytes"].as_u64())
        .sum();
    times.sort_by(f64::total_cmp);
    println!(
        "collect --since 3h, 3 pods: best {:.2} s, median {:.2} s ({requests} requests, {:.1} MB; target < 10 s)",
        times[0],
        times[2],
        bytes as f64 / 1e6
    );
}
