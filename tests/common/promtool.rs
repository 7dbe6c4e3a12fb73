//! Running `promtool test rules` (Debian package `prometheus`), the oracle of the
//! alert-semantics conformance suites.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether promtool can be run; says why the suite skips when it cannot.
pub fn available(suite: &str) -> bool {
    match Command::new("promtool").arg("--version").output() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            println!(
                "promtool not found: install the Debian package `prometheus` to run the \
                 {suite} conformance suite; skipping"
            );
            false
        }
        Err(e) => panic!("could not run promtool: {e}"),
    }
}

/// Runs promtool on one test file: `None` on SUCCESS, its output (cut short) otherwise.
fn run(test_file: &Path) -> Option<String> {
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .arg(test_file)
        .output()
        .expect("promtool ran a moment ago");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (!(out.status.success() && text.contains("SUCCESS"))).then(|| text.chars().take(6000).collect())
}

/// Runs promtool on every file, two processes at a time (one per core of the reference
/// machine); returns the files that failed, with promtool's output.
pub fn run_all(files: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let (first_half, second_half) = files.split_at(files.len() / 2);
    let check = |files: &[PathBuf]| -> Vec<(PathBuf, String)> {
        files
            .iter()
            .filter_map(|f| run(f).map(|out| (f.clone(), out)))
            .collect()
    };
    std::thread::scope(|s| {
        let other = s.spawn(|| check(second_half));
        let mut failures = check(first_half);
        failures.extend(other.join().expect("promtool worker panicked"));
        failures
    })
}
