//! End-to-end tests as data (after angle-grinder's structured tests): each folder under
//! `tests/structured/` is one test, named after the folder, holding `cmd.json` (the
//! arguments, an array of strings, paths relative to the repo root) and `expect.json` (exit
//! code, text stdout/stderr must contain (`stdout_contains`, `stderr_contains`) or must not
//! (`stderr_lacks`), environment for the run (`env`, `{out}` standing for the output
//! folder), text files in the output folder must contain (`files_contain`), and JSON-pointer
//! values the written `report.json` must have (`report`)). Every case runs the real binary. For every report the data-quality invariant is
//! checked too: lines read = used + skipped. Run one case with
//! `cargo test --test structured -- <case>`.

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Lines read = used + skipped, for the whole run and for each input.
fn check_accounting(report: &Value) -> Result<(), String> {
    let sum = |v: &Value| -> u64 {
        v.as_object()
            .map_or(0, |o| o.values().filter_map(Value::as_u64).sum())
    };
    let inputs = &report["inputs"];
    let (read, used, skipped) = (
        inputs["lines_read"].as_u64().unwrap_or(0),
        inputs["lines_used"].as_u64().unwrap_or(0),
        sum(&inputs["skipped"]),
    );
    if read != used + skipped {
        return Err(format!(
            "data quality does not add up: {read} read != {used} used + {skipped} skipped"
        ));
    }
    for f in inputs["files"].as_array().into_iter().flatten() {
        let (r, u) = (f["lines_read"].as_u64(), f["lines_used"].as_u64());
        if r != u.map(|u| u + sum(&f["skipped"])) {
            return Err(format!("data quality does not add up for {}", f["name"]));
        }
    }
    Ok(())
}

/// The report's values at the JSON pointers `expect` names, and the files every report has.
fn check_report(out_dir: &Path, expect: &Value) -> Result<(), String> {
    let report = read_json(&out_dir.join("report.json"))?;
    for (pointer, want) in expect.as_object().into_iter().flatten() {
        let got = report.pointer(pointer);
        if got != Some(want) {
            return Err(format!(
                "report.json {pointer}: got {got:?}, expected {want}"
            ));
        }
    }
    check_accounting(&report)?;
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
    Ok(())
}

fn run_case(dir: &Path) -> Result<(), String> {
    let args: Vec<String> = serde_json::from_value(read_json(&dir.join("cmd.json"))?)
        .map_err(|e| format!("cmd.json: an array of strings, please ({e})"))?;
    let expect = read_json(&dir.join("expect.json"))?;
    let out_dir = std::env::temp_dir().join(format!(
        "postmortem-structured-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postmortem"));
    cmd.args(&args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if args.first().map(String::as_str) == Some("analyze") {
        cmd.arg("--out").arg(&out_dir);
    }
    // Environment for the run; `{out}` stands for the case's output folder.
    for (k, v) in expect
        .get("env")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let v = v.as_str().unwrap_or_default();
        cmd.env(k, v.replace("{out}", &out_dir.display().to_string()));
    }
    let output = cmd.output().map_err(|e| e.to_string())?;
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
    for want in expect
        .get("stderr_lacks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let want = want.as_str().unwrap_or_default();
        if stderr.contains(want) {
            return Err(format!("stderr_lacks: {want:?} was printed{}", ctx()));
        }
    }
    // Files in the output folder and the text each must contain.
    for (file, wants) in expect
        .get("files_contain")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let text = std::fs::read_to_string(out_dir.join(file))
            .map_err(|e| format!("files_contain: {file}: {e}{}", ctx()))?;
        for want in wants.as_array().into_iter().flatten() {
            let want = want.as_str().unwrap_or_default();
            if !text.contains(want) {
                return Err(format!("{file}: {want:?} not found in\n{text}"));
            }
        }
    }
    if out_dir.join("report.json").exists() {
        check_report(&out_dir, expect.get("report").unwrap_or(&Value::Null))
            .map_err(|e| e + &ctx())?;
    } else if expect.get("report").is_some() {
        return Err(format!("no report.json was written{}", ctx()));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/structured");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/structured exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run_case(&dir).map_err(Failed::from))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
