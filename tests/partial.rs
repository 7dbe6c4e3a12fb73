//! The map and reduce steps through the real binary: the bundled incident split by pod into
//! shards (`analyze SHARD... --partial`), merged (`postmortem merge`), gives the report one
//! `analyze` over all of it gives; the merge refuses partials that cannot be merged exactly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AS_OF: &str = "2026-11-20T10:30:00Z";

/// The incident's inputs by shard: the two pods whose logs share an export
/// (first-look-app-mcp-backend.log holds both), the third pod, the Kubernetes objects, the
/// metric dumps and rules.
const SHARDS: &[&[&str]] = &[
    &[
        "deployment-mcp-backend-prefix.log",
        "first-look-app-mcp-backend.log",
        "mcp-backend-7c9d5b8f6d-9wzlm.log.gz",
        "mcp-backend-7c9d5b8f6d-9wzlm.previous.log",
        "mcp-backend-7c9d5b8f6d-x2kqp.log",
        "mcp-backend-7c9d5b8f6d-x2kqp.previous.log",
    ],
    &["mcp-backend-7c9d5b8f6d-r4t8n_backend.log"],
    &["cluster"],
    &["metrics", "rules"],
];

fn incident() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incident")
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("postmortem-partial-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs postmortem in the incident's folder (so that input names are the same whichever way
/// the inputs are given).
fn postmortem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
        .args(args)
        .current_dir(incident())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("the postmortem binary runs")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Writes one partial per shard into `dir` with `flags`; returns their paths.
fn partials(dir: &Path, shards: &[&[&str]], flags: &[&str]) -> Vec<String> {
    shards
        .iter()
        .enumerate()
        .map(|(i, inputs)| {
            let p = dir.join(format!("shard-{i}.parquet")).display().to_string();
            let mut args = vec!["analyze"];
            args.extend_from_slice(inputs);
            args.extend_from_slice(&["--as-of", AS_OF, "-q", "--partial", &p]);
            args.extend_from_slice(flags);
            ok(&postmortem(&args));
            p
        })
        .collect()
}

/// One analyze over every input, and the merge of the shards' partials, with `flags`.
fn single_and_merged(tag: &str, flags: &[&str]) -> (PathBuf, PathBuf) {
    let dir = scratch(tag);
    let single = dir.join("single");
    let all: Vec<&str> = SHARDS.iter().flat_map(|s| s.iter().copied()).collect();
    let mut args = vec!["analyze"];
    args.extend_from_slice(&all);
    let out = single.display().to_string();
    args.extend_from_slice(&["--as-of", AS_OF, "-q", "--out", &out]);
    args.extend_from_slice(flags);
    ok(&postmortem(&args));

    let parts = partials(&dir, SHARDS, flags);
    let merged = dir.join("merged");
    let out = merged.display().to_string();
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend_from_slice(&["--as-of", AS_OF, "-q", "--out", &out]);
    args.extend_from_slice(flags);
    ok(&postmortem(&args));
    (single, merged)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn shards_merged_give_the_report_of_one_run() {
    let (single, merged) = single_and_merged("same", &[]);
    let (a, b) = (
        json(&single.join("report.json")),
        json(&merged.join("report.json")),
    );
    // The verdict and causes first, for a readable failure; then everything.
    assert_eq!(a["verdict"], b["verdict"]);
    assert_eq!(a["causes"], b["causes"]);
    assert_eq!(a["timeline"], b["timeline"]);
    assert_eq!(a, b, "report.json differs");
    assert_eq!(
        std::fs::read_to_string(single.join("report.md")).unwrap(),
        std::fs::read_to_string(merged.join("report.md")).unwrap()
    );
    // The incident's known counts survive the split.
    assert_eq!(b["inputs"]["error_records"], 1770);
}

#[test]
fn loki_mode_merges_the_same_way() {
    let (single, merged) =
        single_and_merged("loki", &["--rate-mode", "loki", "--eval-offset", "0s"]);
    assert_eq!(
        json(&single.join("report.json")),
        json(&merged.join("report.json"))
    );
}

#[test]
fn partials_made_with_other_settings_are_refused() {
    let dir = scratch("settings");
    let mut parts = partials(&dir, &SHARDS[..2], &[]);
    // The merge's own flags differ from the shards'.
    let o = postmortem(&["merge", &parts[0], &parts[1], "--tz", "Europe/Berlin"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--tz") && err.contains("give merge the flags"),
        "{err}"
    );
    // Two shards made with different cause tables.
    let table = dir.join("causes.toml");
    let toml = postmortem(&["causes", "--toml"]);
    ok(&toml);
    let mut text = String::from_utf8(toml.stdout).unwrap();
    text = text.replacen(
        "Connection terminated unexpectedly",
        "Connection was terminated",
        1,
    );
    std::fs::write(&table, text).unwrap();
    let other = dir.join("other.parquet").display().to_string();
    let mut args = vec!["analyze"];
    args.extend_from_slice(SHARDS[2]);
    args.extend_from_slice(&[
        "--as-of",
        AS_OF,
        "-q",
        "--causes",
        table.to_str().unwrap(),
        "--partial",
        &other,
    ]);
    ok(&postmortem(&args));
    parts.push(other);
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend_from_slice(&["--as-of", AS_OF, "-q"]);
    let o = postmortem(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cause table"), "{err}");
}

/// An archive kept by day: the same pod's log of the day before is another shard. Its logs
/// are silent for almost a day between the two, so the merge adds them up exactly.
#[test]
fn a_pod_split_by_day_merges_exactly() {
    let dir = scratch("by-day");
    let day_before = dir.join("2026-11-19");
    std::fs::create_dir_all(&day_before).unwrap();
    let log = std::fs::read_to_string(incident().join("mcp-backend-7c9d5b8f6d-x2kqp.log")).unwrap();
    let earlier = day_before.join("mcp-backend-7c9d5b8f6d-x2kqp.log");
    std::fs::write(
        &earlier,
        log.replace("2026-11-20", "2026-11-19")
            .replace("11/20/2026", "11/19/2026"),
    )
    .unwrap();
    let earlier = earlier.display().to_string();
    let day: &[&str] = &[&earlier];
    let mut shards: Vec<&[&str]> = SHARDS.to_vec();
    shards.push(day);

    let single = dir.join("single").display().to_string();
    let mut args = vec!["analyze"];
    args.extend(shards.iter().flat_map(|s| s.iter().copied()));
    args.extend_from_slice(&["--as-of", AS_OF, "-q", "--out", &single]);
    ok(&postmortem(&args));
    let parts = partials(&dir, &shards, &[]);
    let merged = dir.join("merged").display().to_string();
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend_from_slice(&["--as-of", AS_OF, "-q", "--out", &merged]);
    ok(&postmortem(&args));

    let (a, b) = (
        json(&Path::new(&single).join("report.json")),
        json(&Path::new(&merged).join("report.json")),
    );
    assert_eq!(a["verdict"], b["verdict"]);
    assert_eq!(a["causes"], b["causes"]);
    assert_eq!(a, b, "report.json differs");
    // Both days' errors are in (the incident alone has 1770).
    let records = b["inputs"]["error_records"].as_u64().unwrap();
    assert!(records > 1770, "{records}");
}

#[test]
fn a_pod_in_two_shards_is_refused() {
    let dir = scratch("pod");
    let parts = partials(
        &dir,
        &[
            &["mcp-backend-7c9d5b8f6d-x2kqp.log"],
            &["mcp-backend-7c9d5b8f6d-x2kqp.previous.log"],
        ],
        &[],
    );
    let o = postmortem(&["merge", &parts[0], &parts[1], "--as-of", AS_OF, "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    // The container restarted seconds after its previous log ends: a failure could span the
    // two shards.
    assert!(
        err.contains("mcp-backend-7c9d5b8f6d-x2kqp")
            && err.contains("silent for more than 15m")
            && err.contains("shard by pod"),
        "{err}"
    );
    // The same partial twice would count everything in it twice.
    let o = postmortem(&["merge", &parts[0], &parts[0], "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("given twice"));
}

#[test]
fn what_is_no_partial_is_named() {
    let dir = scratch("foreign");
    let csv = dir.join("events.parquet");
    std::fs::write(&csv, "not parquet at all\n").unwrap();
    let o = postmortem(&["merge", csv.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("events.parquet") && err.contains("not a Parquet file"),
        "{err}"
    );
    // A Parquet file that is not a partial (the classified events export).
    let export = dir.join("export.parquet");
    ok(&postmortem(&[
        "analyze",
        "mcp-backend-7c9d5b8f6d-r4t8n_backend.log",
        "-q",
        "--out",
        dir.join("r").to_str().unwrap(),
        "--export",
        export.to_str().unwrap(),
    ]));
    let o = postmortem(&["merge", export.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a partial"));
    // Flags that belong to the other step.
    let o = postmortem(&["check", "cluster", "--partial", "x.parquet"]);
    assert_eq!(o.status.code(), Some(2));
    let o = postmortem(&["merge", "x.parquet", "--export", "e.csv"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_partial_is_a_small_fraction_of_its_logs() {
    let dir = scratch("size");
    let log = dir.join("mcp-backend-7c9d5b8f6d-x2kqp.log");
    let gen = Command::new(env!("CARGO_BIN_EXE_gen-fixtures"))
        .args(["bulk", "--out", log.to_str().unwrap(), "--size-mb", "20"])
        .output()
        .unwrap();
    ok(&gen);
    let part = dir.join("p.parquet");
    ok(&postmortem(&[
        "analyze",
        log.to_str().unwrap(),
        "-q",
        "--partial",
        part.to_str().unwrap(),
    ]));
    let (input, partial) = (
        std::fs::metadata(&log).unwrap().len(),
        std::fs::metadata(&part).unwrap().len(),
    );
    assert!(
        partial * 100 < input,
        "the partial is {partial} bytes for {input} bytes of logs"
    );
}

#[test]
fn partials_carry_no_secret() {
    let dir = scratch("secret");
    let secret = "hunter2hunter2";
    let url = format!("postgres://app:{secret}@db.internal:5432/app");
    // A Kubernetes event and a log line that quote a connection string.
    let events = std::fs::read_to_string(incident().join("cluster/events.json"))
        .unwrap()
        .replacen(
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            &format!("Readiness probe failed: cannot reach {url}"),
            1,
        );
    std::fs::write(dir.join("events.json"), events).unwrap();
    let log = std::fs::read_to_string(incident().join("mcp-backend-7c9d5b8f6d-x2kqp.log"))
        .unwrap()
        .replacen(
            "ERROR",
            &format!("ERROR [TypeOrmModule] Unable to connect to the database {url}"),
            1,
        );
    std::fs::write(dir.join("mcp-backend-7c9d5b8f6d-x2kqp.log"), log).unwrap();
    let part = dir.join("p.parquet");
    ok(&postmortem(&[
        "analyze",
        dir.join("events.json").to_str().unwrap(),
        dir.join("mcp-backend-7c9d5b8f6d-x2kqp.log")
            .to_str()
            .unwrap(),
        "--as-of",
        AS_OF,
        "-q",
        "--partial",
        part.to_str().unwrap(),
    ]));
    let shard = postmortem::partial::read(&part).unwrap();
    assert!(!shard.documents.is_empty());
    for (_, d) in &shard.documents {
        let text = String::from_utf8_lossy(&d.bytes);
        assert!(!text.contains(secret), "a document keeps the secret");
        assert!(text.contains("«redacted:url-password#"));
    }
    assert!(shard.table.examples.values().all(|e| !e.contains(secret)));
    assert!(shard
        .table
        .syms
        .strings()
        .iter()
        .all(|s| !s.contains(secret)));
    // The merged report neither.
    let out = dir.join("merged");
    ok(&postmortem(&[
        "merge",
        part.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]));
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(!report.contains(secret));
    assert!(report.contains("url-password"));
}

#[test]
fn a_damaged_partial_is_refused_never_a_crash() {
    let dir = scratch("damaged");
    let parts = partials(&dir, &SHARDS[1..2], &[]);
    let good = std::fs::read(&parts[0]).unwrap();
    let bad = dir.join("bad.parquet");
    // Cut anywhere, or bits flipped (a deterministic spread of positions).
    let mut cases: Vec<Vec<u8>> = [1, 100, good.len() / 2, good.len() - 8, good.len() - 1]
        .iter()
        .map(|&n| good[..n].to_vec())
        .collect();
    for k in 1..60usize {
        let mut b = good.clone();
        for j in 0..(1 + k % 3) {
            let at = (k * 7919 + j * 104_729) % b.len();
            b[at] ^= 1 << ((k + j) % 8);
        }
        cases.push(b);
    }
    for (i, c) in cases.iter().enumerate() {
        std::fs::write(&bad, c).unwrap();
        let o = postmortem(&[
            "merge",
            bad.to_str().unwrap(),
            "-q",
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.status.code(), Some(0 | 2)) && !err.contains("panicked"),
            "case {i}: exit {:?}: {err}",
            o.status.code()
        );
        if o.status.code() == Some(2) {
            assert!(err.contains("bad.parquet"), "case {i}: {err}");
        }
    }
}

#[test]
fn check_merge_gives_the_verdict_of_one_check() {
    let dir = scratch("check");
    let parts = partials(&dir, SHARDS, &[]);
    let all: Vec<&str> = SHARDS.iter().flat_map(|s| s.iter().copied()).collect();
    let mut args = vec!["check"];
    args.extend_from_slice(&all);
    args.extend_from_slice(&["--as-of", AS_OF, "-q"]);
    let one = postmortem(&args);
    let mut args = vec!["check", "--merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend_from_slice(&["--as-of", AS_OF, "-q"]);
    let merged = postmortem(&args);
    // The incident breached: exit 1 and the same line.
    assert_eq!(
        one.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(
        merged.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        String::from_utf8_lossy(&merged.stdout)
    );
    assert!(String::from_utf8_lossy(&merged.stdout).starts_with("BREACHED"));
}
