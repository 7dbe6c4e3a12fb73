//! Live collection (`analyze --live`, `collect`): what the on-call engineer would export by
//! hand, taken from the current cluster through the real `kubectl` and from Prometheus, and
//! saved as a bundle of exactly those files (`logs/POD[.previous].log`, `pods.json`,
//! `events.json`, `metrics/*.json`, `rules.yml`) plus `collected.json`, which says what was
//! asked, what failed and what could not be collected (the gaps), so the bundle analyzed
//! later gives the same answer. Requests run in parallel, at most `--max-requests` at once.
//!
//! `cluster.rs` owns the Kubernetes side, `prometheus.rs` the metrics side, `kubectl.rs`
//! running kubectl; this module the order, the journal of requests and the progress display.

pub mod cluster;
pub mod kubectl;
pub mod prometheus;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::LiveSettings;
use crate::messages;
use crate::model::collection::{self, Collection, Gap, GapKind, Request};
use crate::model::time::format_rfc3339;

/// The record's file name inside a bundle.
pub const RECORD: &str = "collected.json";

/// What a collection gives the analysis.
pub struct Collected {
    pub record: Collection,
    /// Files written (logs, objects, dumps, rules).
    pub files: usize,
}

/// The requests made and the gaps found, shared by the parallel workers.
pub struct Journal {
    requests: Mutex<Vec<(usize, Request)>>,
    gaps: Mutex<Vec<Gap>>,
    order: AtomicUsize,
    progress: ProgressBar,
}

impl Journal {
    fn new(quiet: bool) -> Journal {
        let progress = if quiet {
            ProgressBar::hidden()
        } else {
            // Drawn only when stderr is a terminal (indicatif hides it otherwise).
            let p = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            p.set_style(
                ProgressStyle::with_template("{spinner} collecting {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            p
        };
        Journal {
            requests: Mutex::new(Vec::new()),
            gaps: Mutex::new(Vec::new()),
            order: AtomicUsize::new(0),
            progress,
        }
    }

    /// Reserves a place for a request (so `collected.json` lists them in plan order).
    pub fn plan(&self, n: usize) -> usize {
        self.progress.inc_length(n as u64);
        self.order.fetch_add(n, Ordering::Relaxed)
    }

    /// Runs one request: plans its place, times it, and records what it gave (`size`: the
    /// bytes received and the bundle file written) or why it failed.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        what: String,
        request: String,
        op: impl FnOnce() -> Result<T, E>,
        size: impl FnOnce(&T) -> Result<(u64, Option<String>), String>,
    ) -> Result<T, E> {
        let slot = self.plan(1);
        let t = Timer::start();
        let r = op();
        let outcome = match &r {
            Ok(v) => size(v),
            Err(e) => Err(e.to_string()),
        };
        self.record(slot, t.done(what, request, outcome));
        r
    }

    /// Records a finished request.
    pub fn record(&self, slot: usize, r: Request) {
        self.progress.set_message(r.what.clone());
        self.progress.inc(1);
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((slot, r));
    }

    /// Records a gap (said on stderr once the collection is over).
    pub fn gap(
        &self,
        kind: GapKind,
        subject: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let g = Gap {
            kind,
            subject: subject.into(),
            detail: detail.into(),
            fix: fix.into(),
        };
        self.gaps.lock().unwrap_or_else(|e| e.into_inner()).push(g);
    }

    fn finish(self) -> (Vec<Request>, Vec<Gap>) {
        self.progress.finish_and_clear();
        let mut r = self
            .requests
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        r.sort_by_key(|(slot, _)| *slot);
        let mut gaps = self.gaps.into_inner().unwrap_or_else(|e| e.into_inner());
        gaps.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
        (r.into_iter().map(|(_, r)| r).collect(), gaps)
    }
}

/// Times a request and builds its journal entry.
struct Timer(Instant);

impl Timer {
    pub fn start() -> Timer {
        Timer(Instant::now())
    }

    pub fn done(
        &self,
        what: String,
        request: String,
        outcome: Result<(u64, Option<String>), String>,
    ) -> Request {
        let ms = self.0.elapsed().as_millis() as u64;
        match outcome {
            Ok((bytes, file)) => Request {
                what,
                request,
                ok: true,
                ms,
                bytes,
                file,
                error: None,
            },
            Err(e) => Request {
                what,
                request,
                ok: false,
                ms,
                bytes: 0,
                file: None,
                error: Some(e),
            },
        }
    }
}

/// Runs `f` on every job with at most `n` at once; results in job order.
pub fn parallel<T: Send, R: Send>(jobs: Vec<T>, n: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let total = jobs.len();
    let jobs: Vec<Mutex<Option<T>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..total).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..n.clamp(1, total.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let job = jobs[i].lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(job) = job {
                    let r = f(job);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// Makes `dir` an empty bundle folder: a bundle postmortem wrote before is replaced; any
/// other non-empty folder is refused.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("{}: cannot list it", dir.display()))?
            .next()
            .is_none();
        if !empty {
            if !dir.join(RECORD).is_file() {
                bail!(
                    "{} exists and is not a bundle postmortem collected (no {RECORD}): choose another --out",
                    dir.display()
                );
            }
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("{}: cannot replace the earlier bundle", dir.display()))?;
        }
    }
    for sub in ["", "logs", "metrics"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("{}: cannot create the bundle folder", dir.display()))?;
    }
    Ok(())
}

/// Collects into `dir` (the bundle's root). Fails only when nothing at all could be
/// collected; everything else that went wrong is in the record's gaps and requests.
pub fn collect(s: &LiveSettings, dir: &Path) -> Result<Collected> {
    prepare(dir)?;
    let started = chrono::Utc::now().timestamp_millis();
    let journal = Journal::new(s.quiet);
    let mut record = Collection {
        kind: collection::KIND.into(),
        api_version: collection::API_VERSION.into(),
        tool: format!("postmortem {}", env!("CARGO_PKG_VERSION")),
        namespace: s.namespace.clone(),
        target: s.target.describe(),
        since: format_rfc3339(s.since),
        as_of: format_rfc3339(s.as_of),
        started_at: format_rfc3339(started),
        ..Collection::default()
    };
    let bundle = Bundle {
        root: dir.to_path_buf(),
    };
    let cluster = cluster::collect(s, &bundle, &journal, &mut record);
    prometheus_part(s, &bundle, &journal, &mut record, cluster);
    let (requests, gaps) = journal.finish();
    record.requests = requests;
    record.gaps = gaps;
    record.finished_at = format_rfc3339(chrono::Utc::now().timestamp_millis());
    let files = record
        .requests
        .iter()
        .filter(|r| r.ok && r.file.is_some())
        .count();
    let json = serde_json::to_string_pretty(&record)? + "\n";
    std::fs::write(dir.join(RECORD), json)
        .with_context(|| format!("{}: cannot write {RECORD}", dir.display()))?;
    if files == 0 {
        // One line: why nothing came (the cluster's reason first), and what to do.
        let cluster = record.gaps.iter().find(|g| g.kind != GapKind::NoPrometheus);
        let prometheus = record.gaps.iter().find(|g| g.kind == GapKind::NoPrometheus);
        let why = match (cluster, prometheus) {
            (Some(c), Some(p)) => format!(
                "{}; and Prometheus: {} ({})",
                c.detail,
                p.detail,
                if s.prometheus.is_some() {
                    "check --prometheus"
                } else {
                    "pass --prometheus URL"
                }
            ),
            (Some(g), None) | (None, Some(g)) => format!("{}; {}", g.detail, g.fix),
            (None, None) => "no request succeeded (see collected.json)".to_owned(),
        };
        bail!("nothing could be collected: {why}");
    }
    for g in &record.gaps {
        messages::warning(&format!(
            "not collected: {} ({}): {}; {}",
            g.subject,
            g.kind.describe(),
            g.detail,
            g.fix
        ));
    }
    Ok(Collected { record, files })
}

/// The bundle folder being written.
pub struct Bundle {
    pub root: PathBuf,
}

impl Bundle {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a small file (objects, rules, metric answers); returns its size.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<u64, String> {
        std::fs::write(self.path(rel), bytes)
            .map(|_| bytes.len() as u64)
            .map_err(|e| format!("cannot write {rel}: {e}"))
    }
}

/// The Prometheus side: through `--prometheus`, else a Service found in the cluster.
fn prometheus_part(
    s: &LiveSettings,
    bundle: &Bundle,
    journal: &Journal,
    record: &mut Collection,
    cluster: Option<cluster::ClusterFound>,
) {
    let endpoint = match &s.prometheus {
        Some(url) => prometheus::Endpoint::http(url, s.headers.clone()),
        None => match cluster.map(|c| c.prometheus_service) {
            Some(Some(ep)) => ep,
            reached => {
                journal.gap(
                    GapKind::NoPrometheus,
                    "metrics",
                    if reached.is_some() {
                        "no --prometheus given and no Service that looks like Prometheus was found in the cluster"
                    } else {
                        "no --prometheus given (and the cluster, where one would be looked for, was not reached)"
                    },
                    "pass --prometheus URL (e.g. http://localhost:9090 after kubectl port-forward); the alert is reconstructed from the logs meanwhile",
                );
                return;
            }
        },
    };
    prometheus::run::collect(s, &endpoint, bundle, journal, record);
}

/// What a collection got, for the terminal: counts, the gaps, and how to analyze it.
pub fn summary(r: &Collection, dir: &Path) -> String {
    let logs = r
        .requests
        .iter()
        .filter(|q| q.ok && q.file.as_deref().is_some_and(|f| f.starts_with("logs/")))
        .count();
    let metrics = r
        .requests
        .iter()
        .filter(|q| q.ok && q.file.as_deref().is_some_and(|f| f.starts_with("metrics/")))
        .count();
    let failed = r.requests.iter().filter(|q| !q.ok).count();
    let mut out = format!(
        "collected {} (context {}, namespace {}, {}) from {} to {}: {} pods, {} log files, {} metric answers{}\n",
        dir.display(),
        r.context.as_deref().unwrap_or("-"),
        r.namespace,
        r.target,
        r.since,
        r.as_of,
        r.pods.len(),
        logs,
        metrics,
        if failed > 0 {
            format!(", {failed} requests failed")
        } else {
            String::new()
        }
    );
    for g in &r.gaps {
        out.push_str(&format!(
            "  missing: {} ({}): {}\n",
            g.subject,
            g.kind.describe(),
            g.detail
        ));
    }
    out.push_str(&format!(
        "analyze it with: postmortem analyze {}\n",
        crate::model::shell_quote(&dir.display().to_string())
    ));
    out
}
