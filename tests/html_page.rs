//! The example report's page (`reports/example/report.html`, kept fresh by `tests/readme.rs`)
//! as a reader gets it: every link of its contents lands on a section, it loads nothing from
//! the network and runs no script, it fits a phone, has a dark scheme and prints.

use std::collections::BTreeSet;

fn page() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reports/example/report.html"
    ))
    .expect("reports/example/report.html")
}

/// The values of `attr="..."` in `html`.
fn values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn every_contents_link_lands_on_a_section() {
    let html = page();
    let ids: BTreeSet<&str> = values(&html, "id").into_iter().collect();
    let anchors: Vec<&str> = values(&html, "href")
        .into_iter()
        .filter_map(|h| h.strip_prefix('#'))
        .collect();
    assert!(anchors.len() >= 10, "a table of contents: {anchors:?}");
    for a in anchors {
        assert!(ids.contains(a), "#{a} has no section");
    }
}

#[test]
fn self_contained_no_script_nothing_from_the_network() {
    let html = page();
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"));
    assert!(!lower.contains("<link"));
    assert!(!lower.contains("<img"));
    let sources = values(&html, "src");
    assert!(sources.is_empty(), "loads {sources:?}");
    // Links go out only where the reader clicks: the status pages the runbook names.
    let out: Vec<&str> = values(&html, "href")
        .into_iter()
        .filter(|h| !h.starts_with('#'))
        .collect();
    assert!(out.contains(&"https://status.anthropic.com"), "{out:?}");
    assert!(out.iter().all(|h| h.starts_with("https://")), "{out:?}");
    // Every chart is inline.
    assert!(html.matches("<figure><svg").count() >= 5);
}

#[test]
fn fits_a_phone_has_a_dark_scheme_and_prints() {
    let html = page();
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    assert!(html.contains("@media (prefers-color-scheme:dark)"));
    assert!(html.contains("@media print"));
    // Wide tables scroll inside their own box; code wraps.
    assert!(html.contains(
        "table{border-collapse:collapse;margin:1em 0;font-size:14px;display:block;overflow-x:auto"
    ));
    assert!(html.contains("code,pre code{overflow-wrap:anywhere}pre code{white-space:pre-wrap}"));
}
