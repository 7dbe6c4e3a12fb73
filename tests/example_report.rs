//! `reports/example/` is the report of the bundled incident, committed so readers can see
//! one. This regenerates it and fails if the committed copy is stale. To refresh it, run the
//! first command of the README.

mod common;

#[test]
fn committed_example_report_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = common::analyze_incident("example", &[]);
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
