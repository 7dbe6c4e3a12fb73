//! A reused `--out` ends with exactly the new report's files: what an earlier run wrote and
//! this one does not is removed; anything else in the folder is left alone.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Analyzes the example incident into `out` (not emptied first) with `extra` flags.
fn analyze_into(out: &Path, extra: &[&str]) {
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze",
            "fixtures/incident",
            "--as-of",
            "2026-11-20T10:30:00Z",
            "--quiet",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_reused_output_folder_holds_only_the_new_report_and_what_was_not_ours() {
    let out = std::env::temp_dir().join(format!("postmortem-reuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    analyze_into(&out, &[]);
    let first = files(&out);
    assert!(first.iter().any(|f| f.starts_with("charts/")), "{first:?}");
    assert!(first.contains(".postmortem-files"));
    // The user's own files, and a manifest edited to point outside the folder.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("charts/mine.svg"), "<svg/>").unwrap();
    let outside = out.with_extension("outside");
    std::fs::write(&outside, "not yours").unwrap();
    let manifest = out.join(".postmortem-files");
    let mut listed = std::fs::read_to_string(&manifest).unwrap();
    listed.push_str(&format!(
        "../{}\n",
        outside.file_name().unwrap().to_string_lossy()
    ));
    listed.push_str(&format!("{}\n", outside.display()));
    std::fs::write(&manifest, listed).unwrap();

    analyze_into(&out, &["--format", "md"]);
    let second = files(&out);
    // Every analysis writes its promtool regression test too.
    let expected: BTreeSet<String> = [
        ".postmortem-files",
        "report.md",
        "promtool-test/rules.yml",
        "promtool-test/test.yml",
        "notes.txt",
        "charts/mine.svg",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(second, expected);
    assert!(outside.exists(), "a file outside the folder was removed");
    let _ = std::fs::remove_file(&outside);

    // Only Markdown, charts gone: the charts folder went with them once empty.
    std::fs::remove_file(out.join("charts/mine.svg")).unwrap();
    analyze_into(&out, &["--format", "md,svg"]);
    analyze_into(&out, &["--format", "md"]);
    assert!(!out.join("charts").exists() || files(&out.join("charts")).is_empty());
    let _ = std::fs::remove_dir_all(&out);
}
