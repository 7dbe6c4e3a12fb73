//! `postmortem analyze --live` and `postmortem collect` end to end: the real `kubectl` against
//! a recorded Kubernetes API on 127.0.0.1, and a real Prometheus over the example incident's
//! samples (see `live/mod.rs`). Skipped, saying so, where kubectl or Prometheus is missing
//! (`.ci/run` installs Prometheus and checks for kubectl).

mod live;

use std::path::Path;
use std::process::{Command, Output};

use live::{FakeApi, Prometheus, Variant};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_postmortem");
const AS_OF: &str = "2026-11-20T10:30:00Z";

fn have(program: &str) -> bool {
    let ok = live::on_path(program);
    if !ok {
        eprintln!("skipped: {program} is not on PATH (.ci/run installs it)");
    }
    ok
}

/// Runs postmortem with kubectl pointed at `kubeconfig` (its cache in `dir`).
fn run(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", dir.join("kube-cache"))
        .env("HOME", dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    eprintln!(
        "postmortem {}\n--- stderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A scratch folder, kept (and named) when KEEP_LIVE_TEST is set, to look at what was written.
fn scratch() -> (Option<tempfile::TempDir>, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    if std::env::var_os("KEEP_LIVE_TEST").is_some() {
        let p = tmp.keep();
        eprintln!("keeping {}", p.display());
        (None, p)
    } else {
        let p = tmp.path().to_path_buf();
        (Some(tmp), p)
    }
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// What must be the same whichever way the incident was read.
fn findings(r: &Value) -> Value {
    let causes: Vec<Value> = r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| serde_json::json!([c["id"], c["records"], c["counted"]]))
        .collect();
    let alerts: Vec<Value> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            // An export with --prefix names the container too; a file per pod does not.
            let mut labels = a["labels"].clone();
            labels.as_object_mut().unwrap().remove("container");
            serde_json::json!([labels, a["pending_at"], a["firing_at"], a["resolved_at"]])
        })
        .collect();
    let mut rules: Vec<Value> = r["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            serde_json::json!([
                a["group"],
                a["alertname"],
                a["fired"],
                a["eval_offset"],
                a["instances"]
            ])
        })
        .collect();
    rules.sort_by_key(|r| r.to_string());
    let mut v = r["verdict"].clone();
    v.as_object_mut().unwrap().remove("summary");
    serde_json::json!({"verdict": v, "summary": r["verdict"]["summary"], "causes": causes, "alerts": alerts, "rules": rules})
}

#[test]
fn live_report_equals_the_offline_one_and_the_bundle_reanalyzes_the_same() {
    if !have("kubectl") || !have("prometheus") || !have("promtool") {
        return;
    }
    let (_tmp, dir) = scratch();
    let dir = dir.as_path();
    let prom = Prometheus::start(&dir.join("prometheus"), true, "100y");
    let api = FakeApi::start(Variant::default());
    let kc = api.kubeconfig(dir);
    let out_live = dir.join("live");
    let o = run(
        dir,
        &kc,
        &[
            "analyze",
            "--live",
            "--as-of",
            AS_OF,
            "--since",
            "90m",
            "--prometheus",
            &prom.url(),
            "--out",
            out_live.to_str().unwrap(),
            "-q",
        ],
    );
    assert!(o.status.success());
    let live = report(&out_live);
    let out_off = dir.join("offline");
    let fixtures = live::root().join("fixtures/incident");
    let o = run(
        dir,
        &kc,
        &[
            "analyze",
            fixtures.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--since",
            "90m",
            "--out",
            out_off.to_str().unwrap(),
            "-q",
        ],
    );
    assert!(o.status.success());
    let offline = report(&out_off);
    assert_eq!(findings(&live), findings(&offline));

    // The bundle holds what a person would have exported, and re-analyzes to the same report.
    let bundle = out_live.join("bundle");
    for f in [
        "collected.json",
        "pods.json",
        "events.json",
        "rules.yml",
        "logs/mcp-backend-7c9d5b8f6d-x2kqp.log",
        "logs/mcp-backend-7c9d5b8f6d-x2kqp.previous.log",
        "logs/mcp-backend-7c9d5b8f6d-9wzlm.log",
        "logs/mcp-backend-7c9d5b8f6d-r4t8n.log",
    ] {
        assert!(bundle.join(f).is_file(), "{f} missing from the bundle");
    }
    assert!(!bundle
        .join("logs/mcp-backend-7c9d5b8f6d-9wzlm.previous.log")
        .exists());
    let out_again = dir.join("again");
    let o = run(
        dir,
        &kc,
        &[
            "analyze",
            bundle.to_str().unwrap(),
            "--out",
            out_again.to_str().unwrap(),
            "-q",
        ],
    );
    assert!(o.status.success());
    let mut again = report(&out_again);
    let mut first = live.clone();
    for r in [&mut again, &mut first] {
        r.as_object_mut().unwrap().remove("charts");
    }
    assert_eq!(first, again);
    let collected: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("collected.json")).unwrap())
            .unwrap();
    assert_eq!(collected["context"], "incident");
    assert_eq!(collected["selector"], "app=mcp-backend");
    assert!(collected["prometheus"]["version"]
        .as_str()
        .unwrap()
        .starts_with("2.42"));
    assert_eq!(collected["gaps"], serde_json::json!([]));
    // Every log request asked for the whole window with kubelet times, never kubectl's defaults.
    let logs: Vec<&str> = collected["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["request"].as_str())
        .filter(|r| r.contains(" logs "))
        .collect();
    assert_eq!(logs.len(), 4, "{logs:?}");
    assert!(logs.iter().all(|r| r.contains("--timestamps")
        && r.contains("--tail=-1")
        && r.contains("--since-time=2026-11-20T09:00:00")));
}
