//! The recipe in contrib/spark (docs/scaling.md) on Apache Spark in local mode: PySpark finds
//! each file's pods, makes shards of the files that share one, runs the map step on the
//! executors and the merge on the driver. The merged report must be the one `analyze` over
//! the same inputs (in the shards' order) writes. Needs a Python with `pyspark` and Java:
//! `.ci/run` makes `target/spark-venv`; `POSTMORTEM_PYSPARK_PYTHON` names another. Skips,
//! saying so, without them.

use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-20T10:30:00Z";

fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("POSTMORTEM_PYSPARK_PYTHON").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/spark-venv/bin/python")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import pyspark"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn spark_map_and_merge_give_the_single_report() {
    let Some(python) = python() else {
        eprintln!(
            "skipped: no Python with pyspark (run .ci/run, or set POSTMORTEM_PYSPARK_PYTHON)"
        );
        return;
    };
    if !Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no Java for Spark");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let incident = root.join("fixtures/incident");
    let out = std::env::temp_dir().join(format!("postmortem-spark-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let binary = env!("CARGO_BIN_EXE_postmortem");
    let run = Command::new(&python)
        .arg(root.join("contrib/spark/postmortem_spark.py"))
        .args(["--postmortem", binary, "--master", "local[2]", "--root"])
        .arg(&incident)
        .arg("--out")
        .arg(out.join("merged"))
        .args(["--", "--as-of", AS_OF, "-q"])
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "the Spark job failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The plan: files that share a pod together, documents by folder.
    let shards: Vec<Vec<String>> =
        serde_json::from_slice(&std::fs::read(out.join("merged/partials/shards.json")).unwrap())
            .unwrap();
    assert!(shards.len() >= 4, "{shards:?}");
    let together = shards
        .iter()
        .find(|s| s.iter().any(|f| f == "first-look-app-mcp-backend.log"))
        .unwrap();
    for f in [
        "mcp-backend-7c9d5b8f6d-9wzlm.log.gz",
        "mcp-backend-7c9d5b8f6d-x2kqp.previous.log",
        "deployment-mcp-backend-prefix.log",
    ] {
        assert!(
            together.iter().any(|g| g == f),
            "{f} not with first-look: {shards:?}"
        );
    }
    // One analyze over the same inputs in the same order.
    let single = out.join("single");
    let files: Vec<&String> = shards.iter().flatten().collect();
    let one = Command::new(binary)
        .arg("analyze")
        .args(&files)
        .args(["--as-of", AS_OF, "-q", "--out"])
        .arg(&single)
        .current_dir(&incident)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let json = |p: PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    assert_eq!(
        json(single.join("report.json")),
        json(out.join("merged/report.json")),
        "the merged report.json differs from one analyze's"
    );
    assert_eq!(
        std::fs::read_to_string(single.join("report.md")).unwrap(),
        std::fs::read_to_string(out.join("merged/report.md")).unwrap()
    );
}
