//! Snapshots (insta) of what users read: the messages bad input gets, the cause table in
//! effect, and a whole Markdown report. A change shows as a diff; review it with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test`) and commit the `.snap` files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn postmortem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the postmortem binary runs")
}

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postmortem-snap-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn bad_input_messages_name_the_file_and_line() {
    let out = out_dir("formats");
    let run = postmortem(&[
        "analyze",
        "fixtures/formats",
        "--as-of",
        "2026-11-20T10:30:00Z",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&run.stderr));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_default_cause_table() {
    let run = postmortem(&["causes"]);
    assert!(run.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&run.stdout));
}

#[test]
fn report_where_only_the_total_crossed() {
    let out = out_dir("total-only");
    let run = postmortem(&[
        "analyze",
        "fixtures/formats/total-only",
        "--as-of",
        "2026-11-20T10:30:00Z",
        "--format",
        "md",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    insta::assert_snapshot!(md);
    let _ = std::fs::remove_dir_all(&out);
}
