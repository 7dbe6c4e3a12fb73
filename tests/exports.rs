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
    assert_eq!(all.len(), 12, "{all:?}");
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

#[test]
fn exports_cut_by_an_exporters_default_cap_are_flagged_and_qualify_the_verdict() {
    for (file, why, command) in [
        (
            "fixtures/formats/caps/kubectl-l-default-tail.log",
            "keeps only the last 10 lines per container",
            "--tail=-1",
        ),
        (
            "fixtures/formats/caps/logcli-default-limit.log",
            "logcli's default --limit",
            "logcli query --limit 1000000",
        ),
        (
            "fixtures/formats/caps/cloudwatch-insights-limit.json",
            "the query matched 673 records but the export holds 20",
            "aws logs filter-log-events",
        ),
        (
            "fixtures/formats/caps/elasticsearch-first-page.json",
            "the search matched 673 hits but the export holds 10",
            "search_after",
        ),
    ] {
        let r = analyze(&[file]);
        let f = &r["inputs"]["files"][0];
        let cut = &f["incomplete"];
        assert!(cut["why"].as_str().unwrap().contains(why), "{file}: {cut}");
        assert!(
            cut["export_whole"].as_str().unwrap().contains(command),
            "{file}: {cut}"
        );
        assert_eq!(r["verdict"]["incomplete"], true);
        let summary = r["verdict"]["summary"].as_str().unwrap();
        assert!(
            summary.starts_with("not breached in what was read; the input looks incomplete"),
            "{summary}"
        );
    }
    // The one line CI reads says so too.
    let out = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(["check", "fixtures/formats/caps/kubectl-l-default-tail.log"])
        .current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim_end()
        .ends_with(" input=incomplete"));
    // A whole export is not flagged.
    let r = analyze(&[KUBECTL]);
    assert!(r["inputs"]["files"][0].get("incomplete").is_none());
    assert_eq!(r["verdict"]["incomplete"], false);
}

#[test]
fn a_folder_as_people_have_it_lists_what_is_no_log_and_reads_the_rest() {
    let r = analyze(&["fixtures/formats/folder-as-people-have-it"]);
    let kinds: Vec<(String, String)> = r["inputs"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let kind = |n: &str| kinds.iter().find(|k| k.0 == n).map(|k| k.1.as_str());
    assert_eq!(kind("LICENSE"), Some("not_a_log"), "{kinds:?}");
    assert_eq!(kind("NOTES.md"), Some("not_a_log"));
    assert_eq!(kind("dashboard.png"), Some("binary"));
    assert_eq!(kind("events.json"), Some("kubernetes_objects"));
    assert_eq!(kind("mcp-backend-7c9d5b8f6d-x2kqp.log"), Some("logs"));
    // Objects and no-logs alone still make a report: exit 0, not "nothing usable".
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze",
            "fixtures/formats/folder-as-people-have-it/events.json",
            "fixtures/formats/folder-as-people-have-it/pods.json",
            "fixtures/formats/folder-as-people-have-it/LICENSE",
            "fixtures/formats/folder-as-people-have-it/NOTES.md",
            "-q",
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Only no-logs: nothing usable, exit 2.
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "check",
            "fixtures/formats/folder-as-people-have-it/LICENSE",
            "fixtures/formats/folder-as-people-have-it/NOTES.md",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a log"));
}

#[test]
fn a_cut_or_garbled_document_says_so_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(root().join("fixtures/exports/gcloud-logging.json.gz")).unwrap(),
        ),
        &mut text,
    )
    .unwrap();
    let cut = dir.path().join("cut-gcloud.json");
    std::fs::write(&cut, &text[..text.len() / 3]).unwrap();
    let garbled = dir.path().join("garbled-es.json");
    std::fs::write(&garbled, "[{\"_index\":\"l\",\"_source\":{\"time\":\"2026-11-20T09:40:05Z\",\"log\":\"ERROR connect ECONNREFUSED 10.96.44.12:5432\"}},\n{\"_index\": 7, \"_source\": [1,2,,]},\n{\"_index\":\"l\",\"_source\":{\"time\":\"2026-11-20T09:40:06Z\",\"log\":\"ok\"}}]\n").unwrap();
    let r = analyze(&[cut.to_str().unwrap(), garbled.to_str().unwrap()]);
    let files = r["inputs"]["files"].as_array().unwrap();
    let problems = |i: usize| files[i]["problems"].to_string();
    assert!(
        problems(0).contains("the document was cut; the entries before were analysed"),
        "{}",
        problems(0)
    );
    assert!(files[0]["records"].as_u64().unwrap() > 100);
    assert!(problems(1).contains("could not be read"), "{}", problems(1));
    assert_eq!(files[1]["records"], 2);
}
