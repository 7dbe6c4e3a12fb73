//! Validated settings: everything `cli.rs` collected, checked together and completed (times
//! read in `--tz`, `--since` counted back from `--as-of`, the cause table and the rules file
//! loaded and compiled). Every error says what to fix. Nothing after this module sees clap.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::classify::CauseTable;
use crate::cli::{
    AnalyzeArgs, CollectArgs, FormatArg, LiveArgs, QueryArgs, QueryOutput, RateModeArg,
};
use crate::ingest::rules;
use crate::model::alert::{RateMode, RuleVariant};
use crate::model::rules::{RuleSet, RulesSource};
use crate::model::time::{format_duration, parse_time_in, Zone};
use crate::model::Millis;
use crate::promql::PromCompat;

/// The evaluation interval of the logs-based rule (and of rule groups without their own)
/// when `--eval-interval` is not given: the service's `evaluation_interval`.
pub const DEFAULT_EVAL_INTERVAL: Millis = 15_000;

/// The alert being reconstructed.
#[derive(Clone, Debug)]
pub struct AlertSettings {
    pub name: String,
    pub threshold: f64,
    pub for_ms: Millis,
    pub window_ms: Millis,
    /// `--eval-interval`: the logs-based rule's grid, and it overrides every rule group's own
    /// `interval`. `None`: [`DEFAULT_EVAL_INTERVAL`] for the logs, the groups' own for rules.
    pub eval_interval: Option<Millis>,
    /// `--eval-offset`. `None`: the phase of the dump's ALERTS samples where there are some
    /// (Prometheus' real one), else 0.
    pub eval_offset: Option<Millis>,
    pub scrape_interval_ms: Millis,
    pub rate_mode: RateMode,
    pub compat: PromCompat,
    pub dedup_window_ms: Millis,
    /// `--what-if`: rows the what-if table adds to its defaults.
    pub what_if: Vec<RuleVariant>,
}

impl AlertSettings {
    /// The logs-based rule's evaluation interval.
    pub fn logs_interval(&self) -> Millis {
        self.eval_interval.unwrap_or(DEFAULT_EVAL_INTERVAL)
    }
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Markdown,
    Json,
    Html,
    Svg,
    Png,
    /// `report.junit.xml`: one test case per alert rule.
    Junit,
}

/// What to do with the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write the report.
    Analyze,
    /// One verdict line and an exit code.
    Check,
}

/// Which part of a split analysis a run is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The whole analysis of the inputs.
    Whole,
    /// The map step: write this shard's partial here instead of a report.
    Map(PathBuf),
    /// The reduce step (`postmortem merge`): the inputs are partials.
    Merge,
}

/// Table export format, from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Parquet,
    Csv,
}

/// The time window the user asked for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    /// Records before this are ignored (`--since`, counted back from `as_of`).
    pub since: Option<Millis>,
    /// Records after this are ignored (`--until`).
    pub until: Option<Millis>,
    /// `--since` as given (a duration), for messages.
    pub since_flag: Option<Millis>,
    /// "Now": `--as-of`, or the wall clock when `as_of_given` is false.
    pub as_of: Millis,
    pub as_of_given: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub step: Step,
    pub inputs: Vec<PathBuf>,
    /// Collect from the cluster first (`--live`, or no path with a terminal on stdin); the
    /// inputs are then the bundle collected.
    pub live: Option<LiveSettings>,
    /// `--prom-compat` was given (else a collection record may set it).
    pub compat_given: bool,
    /// `GITHUB_STEP_SUMMARY`: the file a CI job's summary is appended to.
    pub step_summary: Option<PathBuf>,
    pub window: Window,
    /// When relative-age event tables were captured (`--captured-at`).
    pub captured_at: Option<Millis>,
    pub zone: Zone,
    pub alert: AlertSettings,
    /// `--baseline`: an earlier run's report.json or inputs, and `--max-increase`.
    pub baseline: Option<PathBuf>,
    pub max_increase: f64,
    /// The alerting rules of `--rules` (else none: rules files among the inputs, else the
    /// built-in one, are chosen once the inputs are read).
    pub rules: Option<(RuleSet, RulesSource)>,
    pub causes: CauseTable,
    pub namespace: Option<String>,
    pub deployment: Option<String>,
    pub out: Option<PathBuf>,
    pub formats: Vec<Format>,
    pub export: Option<(PathBuf, ExportKind)>,
    pub quiet: bool,
    pub threads: Option<usize>,
    pub max_line_bytes: usize,
    /// Decompressed bytes read of one input at most.
    pub max_input_bytes: u64,
    /// Error records kept in memory before sorted runs spill to a temporary file.
    pub spill_after: usize,
    /// Secrets in the input are redacted in every output (off with `--no-redact`).
    pub redact: bool,
}

/// The namespace and deployment a live collection defaults to: the runbook's.
pub const DEFAULT_NAMESPACE: &str = "mcp-everything";
pub const DEFAULT_DEPLOYMENT: &str = "mcp-backend";
/// How far back a live collection reaches without `--since`.
pub const DEFAULT_LIVE_SINCE: Millis = 2 * 3_600_000;

/// Whose pods a live collection reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveTarget {
    Deployment(String),
    Selector(String),
}

impl LiveTarget {
    pub fn describe(&self) -> String {
        match self {
            LiveTarget::Deployment(d) => format!("deployment/{d}"),
            LiveTarget::Selector(s) => format!("selector {s}"),
        }
    }
}

/// Validated settings of a live collection (`--live`, `collect`).
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// The kubectl to run (`kubectl`, found on PATH).
    pub kubectl: PathBuf,
    pub context: Option<String>,
    pub namespace: String,
    pub target: LiveTarget,
    /// The window: logs since `since`, samples (and the rules' look-back) up to `as_of`.
    pub since: Millis,
    pub as_of: Millis,
    pub max_requests: usize,
    pub prometheus: Option<String>,
    /// Sent to Prometheus; never written anywhere.
    pub headers: Vec<(String, String)>,
    /// `--prom-compat` when given (else the server's version decides).
    pub compat: Option<PromCompat>,
    pub quiet: bool,
}

impl LiveSettings {
    #[allow(clippy::too_many_arguments)]
    fn new(
        l: LiveArgs,
        namespace: Option<String>,
        deployment: Option<String>,
        since: Millis,
        as_of: Millis,
        compat: Option<PromCompat>,
        quiet: bool,
    ) -> Result<LiveSettings> {
        if l.max_requests == 0 || l.max_requests > 64 {
            bail!("--max-requests {}: give 1 to 64", l.max_requests);
        }
        if let Some(url) = &l.prometheus {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--prometheus {url:?}: give the base URL with its scheme, e.g. http://localhost:9090");
            }
        }
        let namespace = namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        if !crate::model::is_kubernetes_name(&namespace) || namespace.contains('.') {
            bail!("--namespace {namespace:?}: not a Kubernetes namespace name");
        }
        let target = match (l.selector, deployment) {
            (Some(_), Some(_)) => {
                bail!("-l/--selector and --deployment both name the pods: give one")
            }
            (Some(sel), None) => {
                if sel.trim().is_empty() {
                    bail!("-l/--selector is empty: give a label selector such as app=mcp-backend");
                }
                LiveTarget::Selector(sel)
            }
            (None, d) => {
                let d = d.unwrap_or_else(|| DEFAULT_DEPLOYMENT.to_owned());
                if !crate::model::is_kubernetes_name(&d) {
                    bail!("--deployment {d:?}: not a Kubernetes name");
                }
                LiveTarget::Deployment(d)
            }
        };
        Ok(LiveSettings {
            kubectl: PathBuf::from("kubectl"),
            context: l.context,
            namespace,
            target,
            since,
            as_of,
            max_requests: l.max_requests,
            prometheus: l.prometheus.map(|u| u.trim_end_matches('/').to_owned()),
            headers: l.prometheus_headers,
            compat,
            quiet,
        })
    }
}

/// Validated `postmortem collect` settings.
#[derive(Clone, Debug)]
pub struct CollectConfig {
    pub out: PathBuf,
    pub live: LiveSettings,
}

impl CollectConfig {
    pub fn from_args(a: CollectArgs, wall_clock: Millis) -> Result<CollectConfig> {
        let as_of = optional_time("--as-of", a.as_of.as_deref(), Zone::Utc)?.unwrap_or(wall_clock);
        Ok(CollectConfig {
            out: a.out,
            live: LiveSettings::new(
                a.live,
                Some(a.namespace),
                a.deployment,
                as_of - a.since,
                as_of,
                a.prom_compat,
                a.quiet,
            )?,
        })
    }
}

/// Parses a time flag (RFC 3339; one without a zone is read in `zone`).
fn time_flag(flag: &str, text: &str, zone: Zone) -> Result<Millis> {
    parse_time_in(text, zone).with_context(|| {
        format!("{flag} {text:?}: not a time; write it as RFC 3339, e.g. 2026-11-20T10:30:00Z")
    })
}

fn optional_time(flag: &str, text: Option<&str>, zone: Zone) -> Result<Option<Millis>> {
    text.map(|t| time_flag(flag, t, zone)).transpose()
}

/// Where the input comes from: the paths given; else the cluster (`--live`, or no path and
/// a terminal on stdin, where nothing would ever arrive); else stdin (a pipe or a file).
fn inputs(paths: Vec<PathBuf>, live: bool) -> Result<(Vec<PathBuf>, bool)> {
    use std::io::IsTerminal;
    if live && !paths.is_empty() {
        bail!("--live collects from the cluster: leave out the paths, or drop --live to read them");
    }
    if !paths.is_empty() {
        return Ok((paths, false));
    }
    if live || std::io::stdin().is_terminal() {
        return Ok((Vec::new(), true));
    }
    Ok((vec![PathBuf::from("-")], false))
}

/// The largest cause table or rules file read (each pattern is compiled, each rule evaluated).
const MAX_CONFIG_BYTES: u64 = 8 << 20;

/// Refuses a configuration file over [`MAX_CONFIG_BYTES`] before reading it.
fn not_too_big(path: &Path, flag: &str, what: &str) -> Result<()> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_CONFIG_BYTES {
        bail!(
            "{flag} {}: {size} bytes; {what} is at most {} MiB: is this the right file?",
            path.display(),
            MAX_CONFIG_BYTES >> 20
        );
    }
    Ok(())
}

/// The cause table: the built-in one, or `--causes FILE` (validated).
pub fn load_causes(path: Option<&Path>) -> Result<CauseTable> {
    match path {
        None => Ok(CauseTable::builtin()),
        Some(p) => {
            not_too_big(p, "--causes", "a cause table")?;
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("--causes {}: cannot read the cause table", p.display())
            })?;
            Ok(CauseTable::from_toml(&text, &p.display().to_string())?)
        }
    }
}

/// The rules file of `--rules`. A file that cannot be read at all is an error; rules in it
/// that cannot be used are named in the report and the rest evaluated.
fn load_rules(path: &Path) -> Result<(RuleSet, RulesSource)> {
    not_too_big(path, "--rules", "a rules file")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--rules {}: cannot read the rules file", path.display()))?;
    let set = rules::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "--rules {}{}: {}",
            path.display(),
            e.line.map_or(String::new(), |l| format!(":{l}")),
            e.message
        )
    })?;
    Ok((set, RulesSource::Flag(path.display().to_string())))
}

fn formats(args: &[FormatArg]) -> Vec<Format> {
    let mut formats: Vec<Format> = args
        .iter()
        .map(|f| match f {
            FormatArg::Md => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Html => Format::Html,
            FormatArg::Svg => Format::Svg,
            FormatArg::Png => Format::Png,
            FormatArg::Junit => Format::Junit,
        })
        .collect();
    formats.sort();
    formats.dedup();
    formats
}

fn export(path: Option<&PathBuf>) -> Result<Option<(PathBuf, ExportKind)>> {
    let Some(p) = path else { return Ok(None) };
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let kind = match ext.as_str() {
        "parquet" => ExportKind::Parquet,
        "csv" => ExportKind::Csv,
        _ => bail!(
            "--export {}: name the file .parquet or .csv so the format is clear",
            p.display()
        ),
    };
    Ok(Some((p.clone(), kind)))
}

impl Window {
    fn from_args(a: &AnalyzeArgs, wall_clock: Millis) -> Result<Window> {
        let as_of = optional_time("--as-of", a.as_of.as_deref(), a.tz)?;
        let until = optional_time("--until", a.until.as_deref(), a.tz)?;
        let w = Window {
            since: a.since.map(|s| as_of.unwrap_or(wall_clock) - s),
            until,
            since_flag: a.since,
            as_of: as_of.unwrap_or(wall_clock),
            as_of_given: as_of.is_some(),
        };
        if let (Some(s), Some(u), Some(d)) = (w.since, w.until, w.since_flag) {
            if s > u {
                bail!(
                    "--since {} reaches back to a time after --until: nothing can match; widen --since or move --until",
                    format_duration(d)
                );
            }
        }
        Ok(w)
    }

    /// Whether `t` is inside the window.
    pub fn contains(&self, t: Millis) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

impl Config {
    pub fn from_args(mode: Mode, mut a: AnalyzeArgs, wall_clock: Millis) -> Result<Config> {
        let step = match a.partial.take() {
            None => Step::Whole,
            Some(p) => {
                let refuse = |flag: &str| {
                    anyhow::anyhow!(
                        "--partial writes only this shard's partial; {flag} belongs to the merge (postmortem merge PARTIAL... {flag} ...)"
                    )
                };
                if mode == Mode::Check {
                    bail!("check --partial: write partials with analyze --partial, then check them together with check --merge PARTIAL...");
                }
                if a.live {
                    bail!("--partial with --live: collect first (postmortem collect), then write the partials from the bundle's files");
                }
                if a.export.is_some() {
                    return Err(refuse("--export"));
                }
                if a.baseline.is_some() {
                    return Err(refuse("--baseline"));
                }
                if a.out.is_some() {
                    return Err(refuse("--out"));
                }
                if a.paths.is_empty() {
                    bail!("--partial: name this shard's inputs (files, folders or archives)");
                }
                Step::Map(p)
            }
        };
        let (inputs, live) = inputs(std::mem::take(&mut a.paths), a.live)?;
        let mut window = Window::from_args(&a, wall_clock)?;
        let live = if live {
            // The window collected: --since (default 2h) back from --as-of (default now).
            let since_flag = window.since_flag.unwrap_or(DEFAULT_LIVE_SINCE);
            window.since_flag = Some(since_flag);
            window.since = Some(window.as_of - since_flag);
            window.until = Some(window.until.map_or(window.as_of, |u| u.min(window.as_of)));
            Some(LiveSettings::new(
                a.live_args.clone(),
                a.namespace.clone(),
                a.deployment.clone(),
                window.as_of - since_flag,
                window.as_of,
                a.prom_compat,
                a.quiet,
            )?)
        } else {
            None
        };
        if !(a.threshold.is_finite() && a.threshold >= 0.0) {
            bail!(
                "--threshold {}: must be a non-negative number of errors per second, e.g. 0.1",
                a.threshold
            );
        }
        let alert = AlertSettings {
            name: "HighGenerationErrorRate".into(),
            threshold: a.threshold,
            for_ms: a.for_,
            window_ms: a.window,
            eval_interval: a.eval_interval,
            eval_offset: a.eval_offset,
            scrape_interval_ms: a.scrape_interval,
            rate_mode: match a.rate_mode {
                RateModeArg::Prometheus => RateMode::Prometheus,
                RateModeArg::Loki => RateMode::Loki,
            },
            compat: a.prom_compat.unwrap_or(PromCompat::V2),
            dedup_window_ms: a.dedup_window,
            what_if: a.what_if.clone(),
        };
        if a.max_line_bytes < 1024 {
            bail!(
                "--max-line-bytes {}: must be at least 1024",
                a.max_line_bytes
            );
        }
        if a.threads == Some(0) {
            bail!("--threads 0: give at least 1, or leave it out for one per core");
        }
        if !(a.max_increase.is_finite() && a.max_increase >= 1.0) {
            bail!(
                "--max-increase {}: give a factor of 1 or more, e.g. 2 (twice the baseline's rate)",
                a.max_increase
            );
        }
        if let Some(b) = &a.baseline {
            if !b.exists() {
                bail!(
                    "--baseline {}: no such file or folder; give an earlier run's report.json or its inputs",
                    b.display()
                );
            }
        }
        Ok(Config {
            step,
            baseline: a.baseline.clone(),
            max_increase: a.max_increase,
            mode,
            window,
            captured_at: optional_time("--captured-at", a.captured_at.as_deref(), a.tz)?,
            zone: a.tz,
            alert,
            rules: a.rules.as_deref().map(load_rules).transpose()?,
            causes: load_causes(a.causes.as_deref())?,
            formats: formats(&a.format),
            export: export(a.export.as_ref())?,
            inputs,
            live,
            compat_given: a.prom_compat.is_some(),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            namespace: a.namespace,
            deployment: a.deployment,
            out: a.out,
            quiet: a.quiet,
            threads: a.threads,
            max_line_bytes: a.max_line_bytes,
            max_input_bytes: a.max_input_bytes,
            spill_after: a.spill_after.max(1),
            redact: !a.no_redact,
        })
    }
}

impl Config {
    /// `postmortem merge` (and `analyze --merge`, `check --merge`): the paths are partials;
    /// every other flag as for `analyze` (those that shape the partials must be the shards').
    pub fn for_merge(mode: Mode, mut a: AnalyzeArgs, wall_clock: Millis) -> Result<Config> {
        if a.partial.is_some() {
            bail!(
                "merge --partial: merge writes a report; partials are written by analyze --partial"
            );
        }
        if a.live {
            bail!("merge --live: merge reads partials; collect and write them first");
        }
        if a.export.is_some() {
            bail!("merge --export: partials hold no records; give --export to analyze over the inputs themselves");
        }
        if a.paths.is_empty() {
            bail!("merge: name the partials (written by analyze SHARD... --partial FILE.parquet)");
        }
        if let Some(p) = a.paths.iter().find(|p| p.as_os_str() == "-") {
            bail!("merge {}: partials are files, not a stream", p.display());
        }
        a.live = false;
        let mut cfg = Config::from_args(mode, a, wall_clock)?;
        cfg.step = Step::Merge;
        Ok(cfg)
    }
}

/// Validated `postmortem query` settings.
#[derive(Clone, Debug)]
pub struct QueryConfig {
    pub expr: String,
    pub inputs: Vec<PathBuf>,
    pub at: Option<Millis>,
    /// start, end, step of a range query.
    pub range: Option<(Millis, Millis, Millis)>,
    pub json: bool,
    pub compat: PromCompat,
    pub captured_at: Option<Millis>,
    /// `--tz`: the zone of times written without one.
    pub zone: Zone,
}

/// The default step of a range query.
const DEFAULT_STEP: Millis = 15_000;

impl QueryConfig {
    pub fn from_args(a: QueryArgs) -> Result<QueryConfig> {
        let zone = a.tz;
        let start = optional_time("--start", a.start.as_deref(), zone)?;
        let end = optional_time("--end", a.end.as_deref(), zone)?;
        let range = match (start, end) {
            (Some(s), Some(e)) => {
                if e < s {
                    bail!("--end is before --start: swap them");
                }
                let step = a.step.unwrap_or(DEFAULT_STEP);
                if (e - s) / step > 1_000_000 {
                    bail!(
                        "--start..--end at --step {} is more than a million steps: use a longer --step",
                        format_duration(step)
                    );
                }
                Some((s, e, step))
            }
            _ => {
                if a.step.is_some() {
                    bail!("--step needs --start and --end (a range query)");
                }
                None
            }
        };
        Ok(QueryConfig {
            at: optional_time("--at", a.at.as_deref(), zone)?,
            captured_at: optional_time("--captured-at", a.captured_at.as_deref(), zone)?,
            expr: a.expr,
            inputs: a.paths,
            range,
            json: a.output == QueryOutput::Json,
            compat: a.prom_compat,
            zone,
        })
    }
}
