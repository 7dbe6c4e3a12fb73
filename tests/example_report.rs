//! `reports/example/` is the report of the bundled incident, committed so readers can see
//! one. This regenerates it and fails if the committed copy is stale. To refresh it, run the
//! first command of the README.

use std::process::Command;

#[test]
fn committed_example_report_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::env::temp_dir().join(format!("postmortem-example-{}", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze",
            "fixtures/incident",
            "--as-of",
            "2026-11-20T10:30:00Z",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    for name in [
        "report.md",
        "report.json",
        "report.html",
        "charts/error-rate.svg",
        "charts/errors-by-type.svg",
    ] {
        let fresh = std::fs::read_to_string(out.join(name)).unwrap();
        let committed =
            std::fs::read_to_string(format!("{root}/reports/example/{name}")).unwrap_or_default();
        assert!(
            fresh == committed,
            "reports/example/{name} is stale: regenerate it with the README's first command"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
