//! Every exporter's version of one container's output (`fixtures/exports/`, see its README)
//! gives the records, error records, counted failures and causes of the kubectl export of the
//! same container; read beside it, the lines it repeats are counted once.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const KUBECTL: &str = "fixtures/incident/mcp-backend-7c9d5b8f6d-x2kqp.log";

fn analyze(inputs: &[&str]) -> Value {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .args(inputs)
        .args(["--format", "json", "-q", "--out"])
        .arg(out.path())
        .current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{inputs:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap()).unwrap()
}

/// What must not depend on the exporter.
fn counts(r: &Value) -> Value {
    let causes: Vec<Value> = r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| serde_json::json!([c["id"], c["count"], c["events"]]))
        .collect();
    serde_json::json!({
        "records": r["inputs"]["records"],
        "error_records": r["inputs"]["error_records"],
        "counted": r["verdict"]["error_events"],
        "causes": causes,
    })
}

fn exports() -> Vec<String> {
    let dir = root().join("fixtures/exports");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .map(|n| format!("fixtures/exports/{n}"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_export_gives_what_the_kubectl_export_gives() {
    let want = counts(&analyze(&[KUBECTL]));
    assert_eq!(want["error_records"], 80);
    let all = exports();
    assert_eq!(all.len(), 11, "{all:?}");
    for e in &all {
        let r = analyze(&[e]);
        assert_eq!(counts(&r), want, "{e}");
        let i = &r["inputs"];
        assert_eq!(
            i["lines_read"].as_u64().unwrap(),
            i["lines_used"].as_u64().unwrap()
                + i["skipped"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .sum::<u64>(),
            "{e}: every line accounted for"
        );
        // The container is named (compose names its service instance instead).
        let files = i["files"].as_array().unwrap();
        let log = files
            .iter()
            .find(|f| f["records"].as_u64() > Some(0))
            .unwrap();
        if !e.contains("compose") {
            let pods = r["causes"][0]["by_pod"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default();
            assert!(
                pods.iter().any(|p| p.contains("x2kqp")),
                "{e}: {pods:?} {log}"
            );
        }
    }
}

#[test]
fn an_export_beside_the_kubectl_one_repeats_its_lines_and_is_counted_once() {
    let want = counts(&analyze(&[KUBECTL]));
    // The exports that keep the kubelet's nanosecond time, the line as written and the same
    // container. (Cloud Logging stores a JSON line as a structure and prints its keys sorted:
    // not the same text, so not provably the same line; compose names its service instead.)
    for e in [
        "fixtures/exports/stern.log.gz",
        "fixtures/exports/stern.json.gz",
        "fixtures/exports/logcli.log.gz",
        "fixtures/exports/logcli.jsonl.gz",
        "fixtures/exports/loki-query-range.json.gz",
        "fixtures/exports/elasticsearch-search.json.gz",
        "fixtures/exports/var",
    ] {
        let r = analyze(&[KUBECTL, e]);
        assert_eq!(counts(&r), want, "{e} beside {KUBECTL}");
    }
}

#[test]
fn newest_first_exports_are_read_in_time_order_and_say_so() {
    let r = analyze(&["fixtures/exports/gcloud-logging.json.gz"]);
    let f = &r["inputs"]["files"][0];
    let a = f["assumptions"].as_object().unwrap();
    assert!(
        a.contains_key("read as gcloud logging read --format=json"),
        "{a:?}"
    );
    assert!(
        a.keys().any(|k| k.starts_with("entries put in time order")),
        "{a:?}"
    );
    assert_eq!(f["namespace"], "mcp-everything");
    let p = Path::new(&r["inputs"]["files"][0]["name"].as_str().unwrap().to_owned()).to_path_buf();
    assert!(p.ends_with("gcloud-logging.json.gz"));
}
