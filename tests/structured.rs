//! End-to-end tests as data (after angle-grinder's structured tests): each folder under
//! `tests/structured/` holds `cmd` (the arguments, one line, paths relative to the repo root)
//! and `expect.json` (exit code, text stdout/stderr must contain, and JSON-pointer values the
//! written `report.json` must have). Every case runs the real binary. For every report the
//! data-quality invariant is checked too: lines read = used + skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn run_case(dir: &Path) -> Result<(), String> {
    let cmd = std::fs::read_to_string(dir.join("cmd")).map_err(|e| e.to_string())?;
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expect.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("expect.json: {e}"))?;
    let mut args: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
    let out_dir = std::env::temp_dir().join(format!(
        "postmortem-structured-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&out_dir);
    if args.first().map(String::as_str) == Some("analyze") {
        args.push("--out".into());
        args.push(out_dir.display().to_string());
    }
    let output = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ctx = || format!("\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    if let Some(code) = expect.get("exit").and_then(Value::as_i64) {
        if output.status.code() != Some(code as i32) {
            return Err(format!(
                "exit {:?}, expected {code}{}",
                output.status.code(),
                ctx()
            ));
        }
    }
    for (key, text) in [("stdout_contains", &stdout), ("stderr_contains", &stderr)] {
        for want in expect
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let want = want.as_str().unwrap_or_default();
            if !text.contains(want) {
                return Err(format!("{key}: {want:?} not found{}", ctx()));
            }
        }
    }
    let report_path = out_dir.join("report.json");
    if report_path.exists() {
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(&report_path).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        for (pointer, want) in expect
            .get("report")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let got = report.pointer(pointer);
            if got != Some(want) {
                return Err(format!(
                    "report.json {pointer}: got {got:?}, expected {want}"
                ));
            }
        }
        let inputs = &report["inputs"];
        let skipped: u64 = inputs["skipped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        let (read, used) = (
            inputs["lines_read"].as_u64().unwrap(),
            inputs["lines_used"].as_u64().unwrap(),
        );
        if read != used + skipped {
            return Err(format!(
                "data quality does not add up: {read} read != {used} used + {skipped} skipped"
            ));
        }
        for f in inputs["files"].as_array().unwrap() {
            let s: u64 = f["skipped"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            if f["lines_read"].as_u64().unwrap() != f["lines_used"].as_u64().unwrap() + s {
                return Err(format!("data quality does not add up for {}", f["name"]));
            }
        }
        for name in [
            "report.md",
            "report.html",
            "charts/error-rate.svg",
            "charts/error-rate.png",
            "charts/errors-by-type.svg",
            "charts/errors-by-type.png",
        ] {
            if !out_dir.join(name).exists() {
                return Err(format!("{name} was not written"));
            }
        }
    } else if expect.get("report").is_some() {
        return Err(format!("no report.json was written{}", ctx()));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    Ok(())
}

#[test]
fn structured_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/structured");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            run_case(c)
                .err()
                .map(|e| format!("case {}: {e}", c.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
