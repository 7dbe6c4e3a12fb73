//! The report page in a real browser: headless Chromium (Debian package `chromium`; `.ci/run`
//! installs it) opens a fresh report of the example incident at 1400 and 390 px wide and
//! measures it. The page has no script of its own: a wrapper page next to it holds the report
//! in an iframe of the width under test and writes what it measured into its DOM, which
//! `--dump-dom` prints. Asserted: no page-wide horizontal scroll, every contents link lands on
//! a section, every chart is drawn with a size, nothing is requested from the network, no
//! console error. Screenshots go to `target/browser/`. Without Chromium the test says so and
//! passes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
    })
}

/// The wrapper: the report in an iframe `width` px wide; what it measures lands in
/// `<pre id="probe">` as JSON.
fn wrapper(width: u32) -> String {
    format!(
        r##"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:{width}px;height:1000px;border:0"></iframe>
<script>
const f = document.getElementById('f');
f.addEventListener('load', () => {{
  const d = f.contentDocument, w = f.contentWindow;
  const out = {{
    scrollWidth: d.documentElement.scrollWidth,
    innerWidth: w.innerWidth,
    wide: [...d.body.querySelectorAll('*')]
      .filter(e => !e.closest('table,pre') && e.getBoundingClientRect().right > w.innerWidth + 0.5)
      .slice(0, 5).map(e => e.tagName + ': ' + (e.textContent || '').slice(0, 60)),
    anchors: [...d.querySelectorAll('a[href^="#"]')].length,
    badAnchors: [...d.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1))
      .filter(id => !d.getElementById(id)),
    svgs: [...d.querySelectorAll('figure svg')].map(s => {{
      const r = s.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)];
    }}),
    resources: w.performance.getEntriesByType('resource').map(e => e.name),
  }};
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}});
</script></body></html>"##
    )
}

fn headless(chrome: &Path, args: &[&str]) -> std::process::Output {
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--allow-file-access-from-files",
            // Any request that leaves the file fails (and would show in `resources`).
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(args)
        .output()
        .expect("chromium runs")
}

#[test]
fn the_report_page_in_a_real_browser() {
    let Some(chrome) = chromium() else {
        eprintln!("skipping the browser test: no Chromium (install the Debian package chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("postmortem-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args([
            "analyze",
            "fixtures/incident",
            "--as-of",
            "2026-11-20T10:30:00Z",
            "-q",
        ])
        .args(["--format", "html", "--out"])
        .arg(&dir)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    for width in [1400u32, 390] {
        let page = dir.join(format!("probe-{width}.html"));
        std::fs::write(&page, wrapper(width)).unwrap();
        let url = format!("file://{}", page.display());
        let out = headless(&chrome, &["--window-size=1500,1100", "--dump-dom", &url]);
        let dom = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let json = dom
            .split("<pre id=\"probe\">")
            .nth(1)
            .and_then(|s| s.split("</pre>").next())
            .unwrap_or_else(|| panic!("no measurement at {width}px: {stderr}"));
        let json = json
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        let m: serde_json::Value = serde_json::from_str(&json).unwrap();
        let (sw, iw) = (
            m["scrollWidth"].as_u64().unwrap(),
            m["innerWidth"].as_u64().unwrap(),
        );
        assert_eq!(iw, u64::from(width), "{m}");
        assert!(
            sw <= iw,
            "the page scrolls sideways at {width}px ({sw} > {iw}): {}",
            m["wide"]
        );
        assert!(m["anchors"].as_u64().unwrap() >= 10, "{m}");
        assert_eq!(m["badAnchors"], serde_json::json!([]), "{m}");
        let svgs = m["svgs"].as_array().unwrap();
        assert!(svgs.len() >= 5, "{m}");
        for s in svgs {
            assert!(
                s[0].as_u64().unwrap() > 100 && s[1].as_u64().unwrap() > 50,
                "a chart drawn too small at {width}px: {m}"
            );
        }
        assert_eq!(m["resources"], serde_json::json!([]), "requests: {m}");
        let console: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("CONSOLE") && l.contains("report.html"))
            .collect();
        assert!(console.is_empty(), "console messages: {console:?}");
    }
    // Screenshots: the page itself at 1400 px; at 390, the narrowest wrapper.
    let report = format!("file://{}", dir.join("report.html").display());
    let shot = format!("--screenshot={}", shots.join("report-1400.png").display());
    let out = headless(&chrome, &["--window-size=1400,1800", &shot, &report]);
    assert!(
        shots.join("report-1400.png").exists(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let narrow = format!("file://{}", dir.join("probe-390.html").display());
    let shot = format!("--screenshot={}", shots.join("report-390.png").display());
    headless(&chrome, &["--window-size=390,1000", &shot, &narrow]);
    let _ = std::fs::remove_dir_all(&dir);
}
