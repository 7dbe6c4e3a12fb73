//! Log archives in CI compared with a baseline: a later run of the same service (other pods,
//! other ids, another day) gives no new signature and `check --baseline` exits 0, breached or
//! not; a new kind of error makes it exit 1 and name it; a kept report.json serves as well as
//! the baseline's logs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example incident's logs (no metrics: the alert from the logs), as they are.
fn logs() -> Vec<(String, String)> {
    let dir = root().join("fixtures/incident");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if !p.is_file() {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let text = if p.extension().is_some_and(|x| x == "gz") {
            let mut s = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut s)
                .unwrap();
            s
        } else {
            String::from_utf8(bytes).unwrap()
        };
        let name = p.file_name().unwrap().to_string_lossy().replace(".gz", "");
        out.push((name, text));
    }
    out.sort();
    out
}

/// The same service on another day: other pods (names without a digit in their suffix),
/// another ReplicaSet, fresh UUIDs, other addresses and durations, a day later.
fn another_run(text: &str) -> String {
    let mut t = text
        .replace("7c9d5b8f6d", "bfhkdzcbxw")
        .replace("x2kqp", "kqzxw")
        .replace("9wzlm", "bvntd")
        .replace("r4t8n", "hzpcq")
        .replace("2026-11-20", "2026-11-21")
        .replace("11/20/2026", "11/21/2026");
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    t = uuid
        .replace_all(&t, |c: &regex::Captures| {
            let h = xxhash_rust::xxh3::xxh3_64(c[0].as_bytes());
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                h >> 32,
                h & 0xffff,
                h & 0xfff,
                (h >> 12) & 0xfff,
                h >> 16
            )
        })
        .into_owned();
    let ip = regex::Regex::new(r"\b10\.(\d+)\.(\d+)\.(\d+)\b").unwrap();
    t = ip.replace_all(&t, "10.$3.$2.$1").into_owned();
    let duration = regex::Regex::new(r#""duration":(\d+)"#).unwrap();
    duration
        .replace_all(&t, |c: &regex::Captures| {
            format!("\"duration\":{}", c[1].parse::<u64>().unwrap() * 3 + 7)
        })
        .into_owned()
}

fn write(dir: &Path, files: &[(String, String)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn check(new: &Path, baseline: &Path, out: &Path) -> (Option<i32>, String, Value) {
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("check")
        .arg(new)
        .arg("--baseline")
        .arg(baseline)
        .arg("-q")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&run.stdout).trim_end().to_owned();
    // The report, for the details.
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(new)
        .arg("--baseline")
        .arg(baseline)
        .args(["-q", "--format", "json,md", "--out"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
    let report = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    (run.status.code(), line, report)
}

#[test]
fn the_same_service_with_other_ids_is_no_regression_and_a_new_error_is() {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old");
    let new = tmp.path().join("new");
    let original = logs();
    write(&old, &original);
    let moved: Vec<(String, String)> = original
        .iter()
        .map(|(n, t)| (another_run(n), another_run(t)))
        .collect();
    write(&new, &moved);

    // Breached in both: the alert is no regression; nothing new either.
    let (code, line, r) = check(&new, &old, &tmp.path().join("r1"));
    assert!(line.starts_with("BREACHED "), "{line}");
    assert!(line.ends_with(" baseline=no-regression"), "{line}");
    assert_eq!(code, Some(0), "{line}");
    let b = &r["baseline"];
    assert_eq!(b["new_signatures"], serde_json::json!([]), "{b}");
    assert_eq!(b["gone_signatures"], serde_json::json!([]), "{b}");
    assert_eq!(b["increased_causes"], serde_json::json!([]));
    assert_eq!(b["new_alerts"], serde_json::json!([]));
    assert!(r["signatures"].as_array().unwrap().len() > 10);

    // A kept report.json is as good a baseline as the logs.
    let kept = tmp.path().join("r1/report.json");
    let old_report = tmp.path().join("old-report");
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(&old)
        .args(["-q", "--format", "json", "--out"])
        .arg(&old_report)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(kept.exists());
    let (code, line, _) = check(
        &new,
        &old_report.join("report.json"),
        &tmp.path().join("r2"),
    );
    assert_eq!(code, Some(0), "{line}");

    // A new kind of error, and one cause five times as frequent.
    let mut worse = moved.clone();
    let (_, x2kqp) = worse
        .iter_mut()
        .find(|(n, _)| n == "mcp-backend-bfhkdzcbxw-kqzxw.log")
        .unwrap();
    for i in 0..12 {
        x2kqp.push_str(&format!(
            "2026-11-21T10:2{}:0{}.000000000Z {{\"timestamp\":\"2026-11-21T10:2{}:0{}.000Z\",\"level\":\"error\",\"message\":\"Stripe webhook signature mismatch for event evt_{i}Xa9\",\"service\":\"BillingService\"}}\n",
            i % 10, i % 10, i % 10, i % 10
        ));
    }
    let worse_dir = tmp.path().join("worse");
    write(&worse_dir, &worse);
    let (code, line, r) = check(&worse_dir, &old, &tmp.path().join("r3"));
    assert_eq!(code, Some(1), "{line}");
    assert!(
        line.contains(" baseline=REGRESSED(new_signatures=1"),
        "{line}"
    );
    let b = &r["baseline"];
    assert_eq!(
        b["new_signatures"][0]["signature"],
        "Stripe webhook signature mismatch for event <*>"
    );
    assert_eq!(b["new_signatures"][0]["records"], 12);
    let md = std::fs::read_to_string(tmp.path().join("r3/report.md")).unwrap();
    assert!(md.contains("## Compared with the baseline"));
    assert!(md.contains("Stripe webhook signature mismatch for event <*>"));
}

#[test]
fn a_baseline_that_is_not_there_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "check",
            "fixtures/incident",
            "--baseline",
            "no/such/report.json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--baseline no/such/report.json: no such file or folder"),
        "{err}"
    );
}
