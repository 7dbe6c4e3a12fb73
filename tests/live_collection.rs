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
            "--prometheus-header",
            "Authorization: Bearer pm-test-s3cr3t-token",
            "--out",
            out_live.to_str().unwrap(),
            "-q",
        ],
    );
    assert!(o.status.success());
    let live = report(&out_live);
    // The header's value is sent, never written.
    for f in walk(&out_live) {
        let bytes = std::fs::read(&f).unwrap();
        let secret = b"pm-test-s3cr3t-token";
        let found = bytes.windows(secret.len()).any(|w| w == secret);
        assert!(!found, "{} holds the header's value", f.display());
    }
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

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn each_failure_says_what_to_do_and_exits_2_only_when_nothing_was_collected() {
    if !have("kubectl") {
        return;
    }
    let (_tmp, dir) = scratch();
    let dir = dir.as_path();
    let out = dir.join("out");
    let out = out.to_str().unwrap();

    // No kubectl on PATH.
    let o = Command::new(BIN)
        .args(["analyze", "--live", "--out", out])
        .env("PATH", dir.join("empty"))
        .env("HOME", dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("kubectl is not on PATH: install it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stderr(&o).lines().count(),
        1,
        "one clear line: {}",
        stderr(&o)
    );

    // No current context.
    let empty = dir.join("empty-kubeconfig");
    std::fs::write(
        &empty,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let o = run(dir, &empty, &["analyze", "--live", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no current kube context"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("kubectl config use-context NAME"));

    // The cluster unreachable (nothing listens on the port).
    let dead = {
        let api = FakeApi::start(Variant::default());
        api.kubeconfig(&dir.join("dead"))
    };
    let o = run(dir, &dead, &["check", "--live"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the cluster is unreachable"),
        "{}",
        stderr(&o)
    );

    // Prometheus unreachable: the cluster's part still makes a report (exit 0), and says so.
    let api = FakeApi::start(Variant::default());
    let kc = api.kubeconfig(dir);
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
            "http://127.0.0.1:9",
            "--out",
            out,
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("Prometheus (http://127.0.0.1:9) did not answer"),
        "{}",
        stderr(&o)
    );
    let r = report(Path::new(out));
    assert_eq!(r["verdict"]["basis"], "logs");
    assert_eq!(r["verdict"]["error_records"], 1770);
    assert_eq!(
        r["inputs"]["collection"]["gaps"][0]["kind"],
        "no_prometheus"
    );
    // Without metrics the logs still fire the alert; a missing Prometheus is not a gap in them.
    assert!(!r["verdict"]["summary"]
        .as_str()
        .unwrap()
        .contains("incomplete"));

    // A selector matching nothing: the events are still collected; the verdict qualifies itself.
    let o = run(
        dir,
        &kc,
        &[
            "check",
            "--live",
            "--as-of",
            AS_OF,
            "--since",
            "90m",
            "-l",
            "app=nothing",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = String::from_utf8_lossy(&o.stdout);
    assert!(line.starts_with("NOT-BREACHED"), "{line}");
    assert!(
        stderr(&o).contains("no pod in namespace mcp-everything matches app=nothing"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn what_could_not_be_collected_is_named_and_the_verdict_says_the_input_looks_incomplete() {
    if !have("kubectl") || !have("prometheus") {
        return;
    }
    let (_tmp, dir) = scratch();
    let dir = dir.as_path();
    // A Prometheus that keeps one day: the incident is older than that.
    let prom = Prometheus::start(&dir.join("prometheus"), false, "1d");
    let api = FakeApi::start(Variant {
        forbid_events: true,
        restarts: Some(3),
        gone_pod: false,
        prometheus_service: Some(prom.port),
    });
    let kc = api.kubeconfig(dir);
    let out = dir.join("out");
    // Three hours back: 9wzlm ran all along but its log starts at 09:00.
    let o = run(
        dir,
        &kc,
        &[
            "analyze",
            "--live",
            "--as-of",
            AS_OF,
            "--since",
            "3h",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&out);
    let gaps: Vec<(String, String)> = r["inputs"]["collection"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap().to_owned(),
                g["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let kinds: Vec<&str> = gaps.iter().map(|g| g.0.as_str()).collect();
    assert!(kinds.contains(&"forbidden"), "{gaps:?}");
    assert!(kinds.contains(&"log_rotated"), "{gaps:?}");
    assert!(kinds.contains(&"earlier_containers_lost"), "{gaps:?}");
    assert!(kinds.contains(&"retention_too_short"), "{gaps:?}");
    assert!(
        gaps.contains(&(
            "log_rotated".into(),
            "logs of mcp-backend-7c9d5b8f6d-9wzlm/backend".into()
        )),
        "{gaps:?}"
    );
    // Prometheus was found through the API server's proxy, without --prometheus.
    assert!(r["inputs"]["collection"]["prometheus"]["via"]
        .as_str()
        .unwrap()
        .contains("monitoring/prometheus-server:web"));
    let summary = r["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("the input looks incomplete"), "{summary}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| Not collected | Why | What to do |"));
    assert!(md.contains("events is forbidden"));
    for line in stderr(&o).lines().filter(|l| l.contains("not collected:")) {
        assert!(
            line.starts_with("postmortem: warning: not collected: "),
            "{line}"
        );
    }
}

#[test]
fn collect_writes_a_bundle_and_names_gone_pods() {
    if !have("kubectl") {
        return;
    }
    let (_tmp, dir) = scratch();
    let dir = dir.as_path();
    let api = FakeApi::start(Variant {
        gone_pod: true,
        ..Variant::default()
    });
    let kc = api.kubeconfig(dir);
    let bundle = dir.join("ticket-1234");
    let o = run(
        dir,
        &kc,
        &[
            "collect",
            "--as-of",
            AS_OF,
            "--since",
            "90m",
            "--out",
            bundle.to_str().unwrap(),
            "--max-requests",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("3 pods, 4 log files"), "{stdout}");
    assert!(
        stdout.contains("analyze it with: postmortem analyze"),
        "{stdout}"
    );
    assert!(
        stderr(&o).contains("mcp-backend-7c9d5b8f6d-q7m2z"),
        "{}",
        stderr(&o)
    );
    // A second collection replaces the bundle; a folder that is not one is refused.
    let o = run(
        dir,
        &kc,
        &[
            "collect",
            "--as-of",
            AS_OF,
            "--since",
            "90m",
            "--out",
            bundle.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = run(
        dir,
        &kc,
        &[
            "collect",
            "--out",
            live::root().join("fixtures").to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a bundle postmortem collected"));
    // The bundle analyzed offline names the gone pod in data quality.
    let out = dir.join("report");
    let o = run(
        dir,
        &kc,
        &[
            "analyze",
            bundle.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("logs of pod mcp-backend-7c9d5b8f6d-q7m2z (pod gone)"),
        "{md}"
    );
}
