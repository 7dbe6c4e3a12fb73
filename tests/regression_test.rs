//! From the incident to better alerts: the `promtool-test/` folder every analysis writes
//! passes under the real `promtool test rules` and fails when the rule is changed so that the
//! incident's outcome changes; the what-if table re-evaluates the same incident under other
//! settings, its first row being the rule as the report evaluated it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "common/promtool.rs"]
mod promtool;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn analyze(args: &[&str], out: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .args(args)
        .args([
            "--as-of",
            "2026-11-20T10:30:00Z",
            "--quiet",
            "--format",
            "md,json,svg",
            "--out",
        ])
        .arg(out)
        .current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// `promtool test rules DIR/test.yml`: whether it passed, and what it said when it did not.
fn promtool(dir: &Path) -> (bool, String) {
    match promtool::run_all(&[dir.join("test.yml")]).pop() {
        None => (true, String::new()),
        Some((_, said)) => (false, said),
    }
}

/// Replaces `from` by `to` in the runbook alert's rule of `rules.yml` only.
fn mutate(dir: &Path, from: &str, to: &str) {
    let path = dir.join("rules.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find("alert: HighGenerationErrorRate").unwrap();
    let end = text[at + 1..]
        .find("- alert:")
        .map_or(text.len(), |e| at + 1 + e);
    let rule = text[at..end].replacen(from, to, 1);
    assert_ne!(rule, text[at..end], "{from} not in the rule");
    std::fs::write(&path, format!("{}{rule}{}", &text[..at], &text[end..])).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn the_incident_is_a_promtool_test_that_fails_when_the_rule_changes_its_outcome() {
    if !promtool::available("regression-test") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // From the metric dumps (the example) and from the logs alone.
    let metrics = tmp.path().join("metrics");
    let r = analyze(&["fixtures/incident"], &metrics);
    let logs = tmp.path().join("logs");
    let logs_only: Vec<String> = std::fs::read_dir(root().join("fixtures/incident"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = logs_only.iter().map(String::as_str).collect();
    let l = analyze(&args, &logs);
    for (report, out, basis) in [(&r, &metrics, "metrics"), (&l, &logs, "logs")] {
        let t = &report["regression_test"];
        assert_eq!(t["basis"], basis);
        assert_eq!(t["same_first_firing"], true, "{t}");
        let dir = out.join("promtool-test");
        let (ok, said) = promtool(&dir);
        assert!(ok, "{basis}: {said}");
        // The checks: before and at pending, firing and resolution of both series that fired.
        let why: Vec<&str> = t["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["why"].as_str().unwrap())
            .collect();
        for moment in ["before pending", "pending", "fires", "resolved"] {
            let n = why.iter().filter(|w| w.contains(moment)).count();
            assert!(n >= 2, "{basis}: {moment} checked {n} times: {why:?}");
        }
        // Mutations that change the incident's outcome make it fail.
        for (i, (from, to)) in [
            ("> 0.1", "> 0.2"),
            ("> 0.1", "> 0.09"),
            ("for: 5m", "for: 10m"),
            ("for: 5m", "for: 4m"),
            ("[5m]", "[10m]"),
        ]
        .into_iter()
        .enumerate()
        {
            let m = tmp.path().join(format!("{basis}-mutant-{i}"));
            copy_dir(&dir, &m);
            mutate(&m, from, to);
            let (ok, said) = promtool(&m);
            assert!(!ok, "{basis}: {from} -> {to} still passes: {said}");
            assert!(said.contains("FAILED"), "{said}");
        }
        // A change that leaves the outcome alone keeps it passing: on a 15s grid, `for: 4m50s`
        // fires at the same evaluation as `for: 5m`.
        let same = tmp.path().join(format!("{basis}-same"));
        copy_dir(&dir, &same);
        mutate(&same, "for: 5m", "for: 4m50s");
        let (ok, said) = promtool(&same);
        assert!(ok, "{said}");
    }
}

#[test]
fn what_if_replays_the_incident_under_other_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let r = analyze(
        &[
            "fixtures/incident",
            "--what-if",
            "for=2m,threshold=0.05",
            "--what-if",
            "aggregation=sum,for=0s",
        ],
        tmp.path(),
    );
    let w = &r["what_if"];
    assert_eq!(w["basis"], "metrics");
    let rows = w["rows"].as_array().unwrap();
    // The rule as it is, first: what the report's metric alerts say.
    let real = &rows[0];
    assert_eq!(real["origin"], "real");
    assert_eq!(
        (
            real["for"].as_str(),
            real["threshold"].as_f64(),
            real["window"].as_str(),
            real["aggregation"].as_str()
        ),
        (Some("5m"), Some(0.1), Some("5m"), Some("series"))
    );
    let fired: Vec<&Value> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["source"] == "metrics"
                && a["alertname"] == "HighGenerationErrorRate"
                && !a["firing_at"].is_null()
        })
        .collect();
    let first = fired
        .iter()
        .map(|a| a["firing_at"].as_str().unwrap())
        .min()
        .unwrap();
    assert_eq!(real["first_firing_at"], first);
    assert_eq!(real["alerts"].as_array().unwrap().len(), fired.len());
    let row = |change: &str| {
        rows.iter()
            .find(|x| x["change"] == change)
            .unwrap_or_else(|| panic!("no row {change}: {rows:?}"))
    };
    // Shorter for: earlier by exactly the difference; a threshold of 0.2 never fires.
    assert_eq!(row("for 0s")["minutes_vs_real"], -5.0);
    assert_eq!(row("for 2m")["minutes_vs_real"], -3.0);
    assert_eq!(row("for 10m")["minutes_vs_real"], 5.0);
    assert_eq!(row("threshold 0.2")["fires"], false);
    assert_eq!(row("threshold 0.2")["versus_real"], "never fires");
    for x in [
        "window 2m",
        "window 10m",
        "summed",
        "keep_firing_for 5m",
        "threshold 0.05",
    ] {
        let x = row(x);
        for key in [
            "for",
            "threshold",
            "window",
            "aggregation",
            "keep_firing_for",
            "alerts",
            "quiet_alarms",
        ] {
            assert!(!x[key].is_null(), "{key}: {x}");
        }
    }
    // The summed row has one alert without labels.
    let summed = row("summed");
    assert_eq!(summed["aggregation"], "sum");
    assert!(summed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["labels"] == serde_json::json!({})));
    // Rows asked for.
    let asked: Vec<&Value> = rows.iter().filter(|x| x["origin"] == "asked").collect();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0]["change"], "for 2m, threshold 0.05");
    assert_eq!(asked[1]["change"], "for 0s, summed");
    // The report shows the table and the chart.
    let md = std::fs::read_to_string(tmp.path().join("report.md")).unwrap();
    assert!(md.contains("## What if the rule were different"));
    assert!(md.contains("charts/what-if.svg"));
    assert!(
        md.contains("| **the rule** | 5m | 0.1 | 5m | series | 0s | 09:48:34 |"),
        "{md}"
    );
    assert!(tmp.path().join("charts/what-if.svg").exists());
}

#[test]
fn a_bad_what_if_says_what_to_write() {
    let out = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(["analyze", "fixtures/incident", "--what-if", "for=soon"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("for=soon: give a duration such as 30s, 2m or 1h"),
        "{err}"
    );
}
