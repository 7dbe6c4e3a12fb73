//! The command line as clap sees it: the flags and their help. Durations, zones and the
//! Prometheus version are turned into types here, at the edge, by clap value parsers (as fd
//! does), so a bad value is refused naming its flag; `config.rs` checks how the flags go
//! together and makes the settings, and nothing after it sees clap.
// The flags' doc comments are clap's help texts, plain text for the terminal, not rustdoc.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::alert::RuleVariant;
use crate::model::time::{parse_flag_duration, Zone};
use crate::model::Millis;
use crate::promql::PromCompat;

/// A duration flag (`5m`, `90s`, `2h`, `1d`, `250ms`, `1h30m`).
fn duration(text: &str) -> Result<Millis, String> {
    parse_flag_duration(text)
}

/// A size in bytes: `500000`, `64K`, `512M`, `16G` (binary units; `KiB`/`MB`... also read).
fn byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n
        .parse()
        .map_err(|_| "give a number of bytes, optionally with K, M or G (e.g. 16G)".to_owned())?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => return Err(format!("unknown unit {other:?}: use K, M, G or T")),
    };
    n.checked_mul(1 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| "must be more than zero and less than 16 EiB".to_owned())
}

/// A duration flag that must be longer than zero.
fn positive_duration(text: &str) -> Result<Millis, String> {
    match parse_flag_duration(text)? {
        0 => Err("must be longer than zero".into()),
        ms => Ok(ms),
    }
}

/// `--prom-compat`: 2 (or 2.x) or 3 (or 3.x).
fn prom_compat(text: &str) -> Result<PromCompat, String> {
    match text.trim() {
        "2" | "2.x" => Ok(PromCompat::V2),
        "3" | "3.x" => Ok(PromCompat::V3),
        _ => Err("use 2 (Prometheus 2.x, the default; the service runs 2.47) or 3".into()),
    }
}

/// `--tz`: UTC, an IANA name or an offset.
fn zone(text: &str) -> Result<Zone, String> {
    Zone::parse(text)
}

#[derive(Parser, Debug)]
#[command(
    name = "postmortem",
    version,
    about = "Turn exported kubectl logs into an incident report you can trust",
    long_about = "Reads what an on-call engineer exports after an incident (kubectl logs, with or \
                  without --timestamps/--prefix/--previous, JSON or text, gzipped, in archives or \
                  folders), classifies the errors by cause, reconstructs when the \
                  HighGenerationErrorRate alert (0.1 errors/s for 5m) was pending and firing, and \
                  writes a report with the runbook's remediation made concrete."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze the inputs and write the incident report (exit 0 unless the analysis fails).
    Analyze(AnalyzeArgs),
    /// CI form: print one line (verdict, peak rate, firing window, top cause) and exit
    /// 0 when the threshold was not breached, 1 when it was, 2 on error.
    Check(AnalyzeArgs),
    /// Print the cause table in effect (the built-in one, or --causes FILE).
    Causes(CausesArgs),
    /// Evaluate a PromQL expression over exported metric dumps and print the result as
    /// `promtool query` does (or as the Prometheus API's JSON with -o json).
    Query(QueryArgs),
    /// Merge partials written by `analyze SHARD... --partial FILE.parquet` (the map step of an
    /// analysis split by pod) into the report one `analyze` over all the shards' inputs would
    /// write. PATH: the partials. Give the flags the shards were given; the report's as for
    /// analyze (--out, --format, --baseline, ...).
    Merge(AnalyzeArgs),
    /// Only collect: export the deployment's pods, logs, events and Prometheus' rules and
    /// samples from the current cluster into a bundle folder (to attach to the ticket;
    /// `postmortem analyze DIR` reads it later).
    Collect(CollectArgs),
}

/// A request header for Prometheus: `Name: value`.
fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or("write it as 'Name: value', e.g. 'Authorization: Bearer TOKEN'")?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
    {
        return Err(format!("{name:?} is not a header name"));
    }
    if value.bytes().any(|c| c == b'\r' || c == b'\n') {
        return Err("the value must be one line".into());
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// How a live collection reaches the cluster and Prometheus.
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// The kube context to collect from (default: kubectl's current context).
    #[arg(long, value_name = "NAME", help_heading = "Live collection")]
    pub context: Option<String>,
    /// Collect the pods matching this label selector instead of --deployment's.
    #[arg(
        short = 'l',
        long,
        value_name = "SELECTOR",
        help_heading = "Live collection"
    )]
    pub selector: Option<String>,
    /// Requests to kubectl and Prometheus in flight at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        help_heading = "Live collection"
    )]
    pub max_requests: usize,
    /// Prometheus' base URL (e.g. http://localhost:9090). Default: a Service in the cluster
    /// that looks like Prometheus, reached through the API server's proxy.
    #[arg(long, value_name = "URL", help_heading = "Live collection")]
    pub prometheus: Option<String>,
    /// A header sent to Prometheus with every request ('Authorization: Bearer ...'); never
    /// written to the bundle or the report. Repeatable.
    #[arg(long = "prometheus-header", value_name = "'NAME: VALUE'", value_parser = header, help_heading = "Live collection")]
    pub prometheus_headers: Vec<(String, String)>,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The bundle folder to write (replaced if it holds an earlier bundle).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How far back to collect, from --as-of.
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = positive_duration)]
    pub since: Millis,
    /// The end of the window (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Namespace of the deployment.
    #[arg(
        short = 'n',
        long,
        value_name = "NAME",
        default_value = "mcp-everything"
    )]
    pub namespace: String,
    /// The deployment whose pods to collect (default mcp-backend, unless -l is given).
    #[arg(long, value_name = "NAME")]
    pub deployment: Option<String>,
    /// Prometheus version whose semantics the bundle's analysis follows. Default: the server's.
    #[arg(long, value_name = "2|3", value_parser = prom_compat)]
    pub prom_compat: Option<PromCompat>,
    /// Print nothing on the terminal but errors.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// Files, folders (read recursively), .gz, .tar.gz/.tgz archives, or - for stdin (the
    /// default when stdin is a pipe). Each file's format is detected from its content.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Collect from the current cluster (see "Live collection") instead of reading files:
    /// the default when no PATH is given and stdin is a terminal. The bundle is saved as
    /// bundle/ in the report folder.
    #[arg(long, help_heading = "Live collection")]
    pub live: bool,
    #[command(flatten)]
    pub live_args: LiveArgs,

    /// Only records newer than this, relative to --as-of (e.g. 2h, 90m, 1d). Live
    /// collection: how far back to collect (default 2h).
    #[arg(long, value_name = "DURATION", value_parser = duration, help_heading = "Time")]
    pub since: Option<Millis>,
    /// Only records up to this time (RFC 3339, e.g. 2026-11-20T10:30:00Z).
    #[arg(long, value_name = "TIME", help_heading = "Time")]
    pub until: Option<String>,
    /// The "now" that --since counts back from (RFC 3339). Default: the wall clock.
    #[arg(long, value_name = "TIME", help_heading = "Time")]
    pub as_of: Option<String>,
    /// When `kubectl get events` / `kubectl events` tables were captured (RFC 3339): their
    /// ages ("12m") count back from it. Default: each file's modification time.
    #[arg(long, value_name = "TIME", help_heading = "Time")]
    pub captured_at: Option<String>,
    /// Zone of timestamps written without one (Nest's local time, `2026-11-20 09:41:02,123`):
    /// UTC, an IANA name (Europe/Berlin) or an offset (+02:00).
    #[arg(
        long,
        value_name = "ZONE",
        default_value = "UTC",
        value_parser = zone,
        help_heading = "Time"
    )]
    pub tz: Zone,

    /// Alert threshold in errors per second.
    #[arg(long, default_value_t = 0.1, help_heading = "Alert")]
    pub threshold: f64,
    /// How long the rate must stay above the threshold before the alert fires.
    #[arg(
        long = "for",
        value_name = "DURATION",
        default_value = "5m",
        value_parser = duration,
        help_heading = "Alert"
    )]
    pub for_: Millis,
    /// The rate window, as in rate(x[5m]).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        value_parser = positive_duration,
        help_heading = "Alert"
    )]
    pub window: Millis,
    /// How often Prometheus evaluates the rules. Default: each rule group's `interval`, else
    /// 15s (the service's evaluation_interval).
    #[arg(long, value_name = "DURATION", value_parser = positive_duration, help_heading = "Alert")]
    pub eval_interval: Option<Millis>,
    /// Phase of the evaluation grid (evaluations at offset + k * interval). Default: 0s, or for
    /// rules over metrics the phase of the dump's own ALERTS samples (Prometheus' real one).
    #[arg(long, value_name = "DURATION", value_parser = duration, help_heading = "Alert")]
    pub eval_offset: Option<Millis>,
    /// How often Prometheus scrapes the error counter.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "15s",
        value_parser = positive_duration,
        help_heading = "Alert"
    )]
    pub scrape_interval: Millis,
    /// How error rates are computed from logs.
    #[arg(long, value_enum, default_value_t = RateModeArg::Prometheus, help_heading = "Alert")]
    pub rate_mode: RateModeArg,
    /// Prometheus alerting rules to evaluate over the metric dumps among the inputs: a rules
    /// file (`groups:`), a ConfigMap holding one, or a PrometheusRule. Default: the runbook's
    /// HighGenerationErrorRate.
    #[arg(long, value_name = "FILE", help_heading = "Alert")]
    pub rules: Option<PathBuf>,
    /// Prometheus version whose rate() semantics to follow. Default: 2 (the service runs
    /// 2.47), or the version of the Prometheus a live collection read.
    #[arg(long, value_name = "2|3", value_parser = prom_compat, help_heading = "Alert")]
    pub prom_compat: Option<PromCompat>,
    /// An outcome record wrapping one counted this recently on the same pod is the same
    /// failure (the pipeline reporting the graph's failure again around it).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "250ms",
        value_parser = duration,
        help_heading = "Alert"
    )]
    pub dedup_window: Millis,
    /// Add a row to the what-if table: the runbook's alert re-evaluated with other settings,
    /// e.g. 'for=2m,threshold=0.05' (keys: for, threshold, window, aggregation=sum|series,
    /// keep_firing_for). Repeat for more rows.
    #[arg(long = "what-if", value_name = "KEY=VALUE,...", value_parser = RuleVariant::parse, help_heading = "Alert")]
    pub what_if: Vec<RuleVariant>,

    /// Compare with an earlier run: its report.json (a small CI artifact), or its inputs (files,
    /// a folder, an archive). The report gains "Compared with the baseline"; `check` exits 1
    /// when there are new or gone message signatures, causes that rose, or alerts that fire
    /// now and did not, and 0 otherwise.
    #[arg(long, value_name = "REPORT.json|PATH", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: a cause rose when its error events per hour grew beyond this factor
    /// (and by at least 5 events).
    #[arg(
        long,
        value_name = "FACTOR",
        default_value_t = 2.0,
        help_heading = "Baseline"
    )]
    pub max_increase: f64,

    /// Replace the cause table with this TOML file (see `postmortem causes`).
    #[arg(long, value_name = "FILE", help_heading = "Classification")]
    pub causes: Option<PathBuf>,
    /// Namespace for the remediation commands when the input does not name one; live
    /// collection: the namespace to collect from (default mcp-everything).
    #[arg(
        short = 'n',
        long,
        value_name = "NAME",
        help_heading = "Classification"
    )]
    pub namespace: Option<String>,
    /// Deployment for the remediation commands when it cannot be derived from pod names;
    /// live collection: the deployment whose pods to collect (default mcp-backend).
    #[arg(long, value_name = "NAME", help_heading = "Classification")]
    pub deployment: Option<String>,

    /// Output folder. Default: reports/<start-of-incident>/ (live: reports/<as-of>/).
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Report formats to write, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_enum,
        default_value = "md,json,html,svg,png",
        help_heading = "Output"
    )]
    pub format: Vec<FormatArg>,
    /// Also write the classified error events as a table (.parquet or .csv, by extension).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub export: Option<PathBuf>,
    /// Write this shard's partial (Parquet) for `postmortem merge` instead of a report: the
    /// map step of an analysis split by pod (all of a pod's logs in one shard, or its days in
    /// separate shards where it was silent for over 15 minutes between them; see
    /// docs/scaling.md).
    #[arg(long, value_name = "FILE.parquet", help_heading = "Output")]
    pub partial: Option<PathBuf>,
    /// The PATHs are partials (written by --partial): merge them as `postmortem merge` does;
    /// with `check`, the verdict line and exit code of all the shards together.
    #[arg(long, help_heading = "Output", conflicts_with = "partial")]
    pub merge: bool,
    /// Print nothing on the terminal but errors (and, for `check`, the verdict line).
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// Copy secrets found in the input into the outputs as they are (redaction is on by
    /// default: passwords, tokens and keys become `«redacted:KIND#abcd»`).
    #[arg(long, help_heading = "Output")]
    pub no_redact: bool,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", help_heading = "Performance")]
    pub threads: Option<usize>,
    /// Lines longer than this many bytes are skipped (and reported), never held in memory.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, help_heading = "Performance")]
    pub max_line_bytes: usize,
    /// Stop reading an input after this many (decompressed) bytes, and say so: bounds a
    /// compression bomb or an endless stream (`/dev/zero`). K, M, G suffixes.
    #[arg(long, value_name = "SIZE", default_value = "16G", value_parser = byte_size, help_heading = "Performance")]
    pub max_input_bytes: u64,
    /// Error records kept in memory (64 bytes each) before the rest go to a temporary file
    /// in sorted runs ($TMPDIR), so memory stays bounded whatever the input size.
    #[arg(long, value_name = "RECORDS", default_value_t = 1 << 20, help_heading = "Performance")]
    pub spill_after: usize,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The PromQL expression, e.g. 'rate(mcp_generation_errors_total[5m])'.
    #[arg(value_name = "EXPR")]
    pub expr: String,
    /// Metric dumps (query_range/query JSON, promtool tsdb dump, exposition text, Grafana
    /// CSV), folders or archives; other inputs are passed over.
    #[arg(value_name = "DUMP", required = true)]
    pub paths: Vec<PathBuf>,
    /// Evaluate at this instant (RFC 3339). Default: the last sample's time.
    #[arg(long, value_name = "TIME", conflicts_with_all = ["start", "end", "step"])]
    pub at: Option<String>,
    /// Range query: first evaluation (RFC 3339).
    #[arg(long, value_name = "TIME", requires_all = ["end"])]
    pub start: Option<String>,
    /// Range query: last evaluation (RFC 3339).
    #[arg(long, value_name = "TIME", requires_all = ["start"])]
    pub end: Option<String>,
    /// Range query: time between evaluations. Default: 15s.
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub step: Option<Millis>,
    /// Output: text (like promtool query) or json (the Prometheus HTTP API's shape).
    #[arg(short = 'o', long, value_enum, default_value_t = QueryOutput::Text)]
    pub output: QueryOutput,
    /// Prometheus version whose semantics to follow: 2 (default; the service runs 2.47) or 3.
    #[arg(long, value_name = "2|3", default_value = "2", value_parser = prom_compat)]
    pub prom_compat: PromCompat,
    /// When a plain /metrics scrape (exposition without timestamps) was taken (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub captured_at: Option<String>,
    /// Zone of times written without one (a Grafana CSV's Time column, --at/--start/--end
    /// without a zone): UTC, an IANA name (Europe/Berlin) or an offset (+02:00).
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = zone)]
    pub tz: Zone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryOutput {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CausesArgs {
    /// Print this table instead of the built-in one (after validating it).
    #[arg(long, value_name = "FILE")]
    pub causes: Option<PathBuf>,
    /// Print the table as TOML (to copy and extend) instead of a summary.
    #[arg(long)]
    pub toml: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RateModeArg {
    /// Counters sampled every scrape interval, Prometheus' extrapolated rate().
    Prometheus,
    /// Loki's LogQL rate(): records in the last window divided by its length.
    Loki,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Md,
    Json,
    Html,
    Svg,
    Png,
    /// `report.junit.xml`: one test case per alert rule, failed when it fired.
    Junit,
}
