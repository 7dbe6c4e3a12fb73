//! Shared by the integration tests: run the real binary on the bundled incident.

use std::path::PathBuf;
use std::process::Command;

/// Runs `postmortem analyze fixtures/incident --as-of 2026-11-20T10:30:00Z --quiet` with `extra`
/// flags into a fresh temporary folder named after `tag`, asserts success, returns the folder.
pub fn analyze_incident(tag: &str, extra: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("postmortem-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
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
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("the postmortem binary runs");
    assert!(status.success(), "postmortem analyze failed for {tag}");
    out
}
