//! The README's commands, run as a new user would run them.
//!
//! - Its first code block holds the two commands: the first (`cargo run --release -- ARGS`)
//!   must reproduce the committed `reports/example/` byte for byte (run here with the built
//!   binary and the same ARGS), and the second must be the test command `.ci/run` runs.
//! - Every other bash block made only of `postmortem ...` lines is run line by line through
//!   bash, with the built binary first on the PATH, in a scratch folder where `fixtures/` is the
//!   repository's: each must succeed (`check` may say breached: exit 1).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bash code blocks of a Markdown text, each as its lines (comments and blanks dropped).
fn bash_blocks(markdown: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```bash") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(lines), l) if !l.is_empty() && !l.starts_with('#') => lines.push(l.to_owned()),
            _ => {}
        }
    }
    blocks
}

fn readme_blocks() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    bash_blocks(&readme)
}

#[test]
fn the_first_command_reproduces_the_example_report() {
    let blocks = readme_blocks();
    let first = &blocks.first().expect("a first code block")[..];
    assert_eq!(
        first.len(),
        2,
        "the README starts with two commands: {first:?}"
    );
    let args = first[0]
        .strip_prefix("cargo run --release -- ")
        .expect("the first command runs postmortem with cargo");
    let mut args: Vec<&str> = args.split_whitespace().collect();
    let out_flag = args.iter().position(|a| *a == "--out").expect("--out");
    assert_eq!(args[out_flag + 1], "reports/example");
    let out = std::env::temp_dir().join(format!("postmortem-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_text = out.display().to_string();
    args[out_flag + 1] = &out_text;
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(&args)
        .current_dir(root())
        .output()
        .expect("postmortem runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let committed = root().join("reports/example");
    // The browser test's screenshot sits beside the report; the tool does not write it.
    let written = |dir: &Path| -> Vec<PathBuf> {
        walk(dir)
            .into_iter()
            .filter(|p| !p.ends_with("screenshot.png"))
            .collect()
    };
    for entry in written(&committed) {
        let rel = entry.strip_prefix(&committed).unwrap();
        let fresh = std::fs::read(out.join(rel)).unwrap_or_default();
        assert!(
            fresh == std::fs::read(&entry).unwrap(),
            "reports/example/{} is stale: regenerate it with the README's first command",
            rel.display()
        );
    }
    assert_eq!(
        written(&out).len(),
        written(&committed).len(),
        "files written"
    );
    let _ = std::fs::remove_dir_all(&out);

    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == first[1]),
        "`.ci/run` runs the README's test command `{}`",
        first[1]
    );
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_usage_examples_run() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_postmortem"))
        .parent()
        .unwrap();
    let scratch = std::env::temp_dir().join(format!("postmortem-usage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    std::os::unix::fs::symlink(root().join("fixtures"), scratch.join("fixtures")).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let blocks: Vec<Vec<String>> = readme_blocks()
        .into_iter()
        .skip(1)
        .filter(|b| b.iter().all(|l| l.starts_with("postmortem ")))
        .collect();
    assert!(blocks.len() >= 3, "the README shows how to use postmortem");
    for line in blocks.iter().flatten() {
        let run = Command::new("bash")
            .args(["-c", line])
            .env("PATH", &path)
            .current_dir(&scratch)
            .output()
            .expect("bash runs");
        let ok = match run.status.code() {
            Some(0) => true,
            Some(1) => line.starts_with("postmortem check "),
            _ => false,
        };
        assert!(
            ok,
            "`{line}` failed ({:?}):\n{}",
            run.status.code(),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
