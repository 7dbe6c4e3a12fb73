//! A 10 MB line in the middle of a log: skipped with a message naming the file and line, never
//! held in memory whole, and the lines around it still analyzed and accounted for.

use std::io::Write;
use std::process::Command;

#[test]
fn a_ten_megabyte_line_is_skipped_and_reported() {
    let dir = std::env::temp_dir().join(format!("postmortem-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("mcp-backend-7c9d5b8f6d-x2kqp.log");
    let mut f = std::fs::File::create(&log).unwrap();
    let error = |s: u32| {
        format!("2026-11-20T09:41:{s:02}.000000000Z {{\"timestamp\":\"2026-11-20T09:41:{s:02}.000Z\",\"level\":\"error\",\"message\":\"connect ECONNREFUSED 10.96.44.12:5432\",\"service\":\"TypeOrmModule\",\"correlationId\":\"7c9e1b3d-5f7a-4c9e-8b3d-5f7a9c1e3b5d\"}}\n")
    };
    f.write_all(error(1).as_bytes()).unwrap();
    let mut huge = b"2026-11-20T09:41:02.000000000Z {\"level\":\"error\",\"message\":\"".to_vec();
    huge.resize(10 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"\"}\n");
    f.write_all(&huge).unwrap();
    f.write_all(error(3).as_bytes()).unwrap();
    drop(f);

    let out = dir.join("report");
    let output = Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(["analyze", "--format", "json", "--out"])
        .arg(&out)
        .arg(&log)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("x2kqp.log:2: line of 10.5 MB skipped"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let inputs = &report["inputs"];
    assert_eq!(inputs["lines_read"], 3);
    assert_eq!(inputs["lines_used"], 2);
    assert_eq!(inputs["skipped"]["line_too_long"], 1);
    assert_eq!(report["verdict"]["error_records"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}
