//! Shared by the integration tests: run the real binary on the bundled incident.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `postmortem analyze fixtures/incident --as-of 2026-11-20T10:30:00Z --quiet` with `extra`
/// flags and `env` variables into a fresh temporary folder named after `tag`; returns the
/// folder and what the run printed.
pub fn run_on_incident(tag: &str, extra: &[&str], env: &[(&str, &str)]) -> (PathBuf, Output) {
    let out = std::env::temp_dir().join(format!("postmortem-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze",
            "fixtures/incident",
            "--as-of",
            "2026-11-20T10:30:00Z",
            "--quiet",
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the postmortem binary runs");
    (out, output)
}

/// [`run_on_incident`] without extra environment; asserts success, returns the folder.
pub fn analyze_incident(tag: &str, extra: &[&str]) -> PathBuf {
    let (out, output) = run_on_incident(tag, extra, &[]);
    assert!(
        output.status.success(),
        "postmortem analyze failed for {tag}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}
