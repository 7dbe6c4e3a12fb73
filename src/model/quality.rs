//! Data-quality accounting: for every input, what kind it was, how many lines were read, how
//! many became records, and why the others were skipped. The invariant the report relies on:
//! `lines_read == lines_used + sum(skipped)`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Millis;

/// What an input turned out to be, judged from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// `kubectl logs` output (any mix of prefix, kubelet timestamps, JSON, Nest, plain text).
    Logs,
    /// A `kubectl logs --previous` that holds only kubectl's "not found" message.
    KubectlError,
    /// A Prometheus API response or dump: recognised, analysed by the metrics stage.
    PrometheusDump,
    /// Kubernetes objects (`kubectl get ... -o json|yaml`): recognised, analysed by the cluster stage.
    KubernetesObjects,
    /// Prometheus alerting rules (a rules file, a ConfigMap holding one, a PrometheusRule).
    AlertRules,
    /// postmortem's record of a live collection (`collected.json`): what was collected,
    /// what failed and what is missing.
    CollectionRecord,
    /// Text that is no log at all (a LICENSE, a README, notes): no line carries a time.
    NotALog,
    /// Binary content: not text.
    Binary,
    /// Nothing in it.
    Empty,
    /// A folder or archive that held nothing readable.
    Unreadable,
}

/// Why a line did not become (or did not stay) a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Empty or whitespace-only line.
    Blank,
    /// Longer than the line limit; skipped without being held in memory.
    LineTooLong,
    /// Starts like a JSON object but is not valid JSON (e.g. cut in half).
    MalformedJson,
    /// Part of a YAML document that could not be parsed.
    MalformedYaml,
    /// Part of a `kubectl get events` table that could not be read: no header, or no time
    /// to count its ages back from.
    UnplacedEventTable,
    /// Carries a timestamp that could not be read, and no other time.
    BadTimestamp,
    /// No timestamp of its own and none before it in the file.
    NoTimestamp,
    /// Outside `--since` / `--until`.
    OutsideWindow,
    /// Dated far (a month or more) from the bulk of its input: a clock gone wrong (1970) or a
    /// hostile line (year 9999) that would otherwise stretch the evaluation over decades.
    FarOffTime,
    /// The same record already read from another (overlapping) export.
    Duplicate,
    /// kubectl's own error text (e.g. "previous terminated container ... not found").
    KubectlMessage,
    /// Part of a binary (non-text) input.
    Binary,
    /// Part of a text input that is no log (no line carries a time).
    NotALog,
    /// Part of an input of a kind this run does not analyse.
    UnsupportedKind,
    /// Lost to a read error (truncated gzip, corrupt archive): counted up to the failure.
    ReadError,
    /// A comment or metadata line of a metric dump (`# HELP`, `# TYPE`, `# EOF`).
    Comment,
    /// A tool's wrapper around a dump (`stdout:`/`stderr:` markers, metadata lines).
    ToolWrapper,
    /// A metric sample that could not be read (bad syntax, value or time).
    MalformedSample,
    /// An exposition sample without a timestamp, and no `--captured-at` to place it.
    UntimedSample,
    /// The same sample (series, time, value) already read.
    DuplicateSample,
    /// A second value for a time its series already had (the first was kept).
    ConflictingSample,
    /// A native-histogram sample (not read by this version).
    NativeHistogram,
    /// A CSV row without any value.
    NoValue,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Blank => "blank line",
            SkipReason::LineTooLong => "line longer than the limit",
            SkipReason::MalformedJson => "malformed JSON",
            SkipReason::MalformedYaml => "malformed YAML",
            SkipReason::UnplacedEventTable => "events table without header or capture time",
            SkipReason::BadTimestamp => "unreadable timestamp",
            SkipReason::NoTimestamp => "no timestamp before it in the file",
            SkipReason::OutsideWindow => "outside --since/--until",
            SkipReason::FarOffTime => "dated far from the rest of its input",
            SkipReason::Duplicate => "duplicate of a line in an overlapping export",
            SkipReason::KubectlMessage => "kubectl error message, not application output",
            SkipReason::Binary => "binary content",
            SkipReason::NotALog => "not a log (no line carries a time)",
            SkipReason::UnsupportedKind => "input kind not analysed",
            SkipReason::ReadError => "read error",
            SkipReason::Comment => "comment or metadata line of a metric dump",
            SkipReason::ToolWrapper => "a tool's wrapper around a dump",
            SkipReason::MalformedSample => "unreadable metric sample",
            SkipReason::UntimedSample => "metric sample without timestamp (pass --captured-at)",
            SkipReason::DuplicateSample => "duplicate metric sample",
            SkipReason::ConflictingSample => "second value for a sample time (first kept)",
            SkipReason::NativeHistogram => "native histogram sample (not read)",
            SkipReason::NoValue => "row without any value",
        }
    }
}

/// One problem worth telling the user about, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// 1-based line number, when the problem is on a line.
    pub line: Option<u64>,
    pub message: String,
}

/// Everything the report says about one input.
/// Serialized as the report's `inputs.files[]` shows it; read back from a partial.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileQuality {
    /// The input's name as the user gave it (`dir/file.log`, `bundle.tar.gz:ns/pod/c.log`, `-`).
    pub name: String,
    pub kind: Option<InputKind>,
    /// Pod / container / namespace the input was attributed to, and from what.
    pub pod: Option<String>,
    pub container: Option<String>,
    pub namespace: Option<String>,
    /// The name marks it as a `kubectl logs --previous` export (a container that ended).
    pub previous: bool,
    /// Physical lines read.
    pub lines_read: u64,
    /// Lines that belong to a record (first lines and continuation lines).
    pub lines_used: u64,
    /// Records (one per event, continuation lines folded in).
    pub records: u64,
    /// Error records found.
    pub error_records: u64,
    /// Lines skipped, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// First and last record time.
    #[serde(
        serialize_with = "super::time::serialize_opt_rfc3339",
        deserialize_with = "super::time::deserialize_opt_rfc3339"
    )]
    pub first_ts: Option<Millis>,
    #[serde(
        serialize_with = "super::time::serialize_opt_rfc3339",
        deserialize_with = "super::time::deserialize_opt_rfc3339"
    )]
    pub last_ts: Option<Millis>,
    /// First and last time of every timestamped record, inside the --since/--until window or not.
    #[serde(
        serialize_with = "super::time::serialize_opt_rfc3339",
        deserialize_with = "super::time::deserialize_opt_rfc3339"
    )]
    pub input_first_ts: Option<Millis>,
    #[serde(
        serialize_with = "super::time::serialize_opt_rfc3339",
        deserialize_with = "super::time::deserialize_opt_rfc3339"
    )]
    pub input_last_ts: Option<Millis>,
    /// Assumptions made while reading (zone assumed, level inferred, lossy UTF-8...), with counts.
    pub assumptions: BTreeMap<String, u64>,
    /// The first few problems, with line numbers.
    pub problems: Vec<Problem>,
    /// How many problems there were in all (`problems` keeps only the first few).
    pub problem_count: u64,
    /// Lines this input repeats of inputs read before it (the same container's lines with
    /// the same kubelet time and text), by that input's name: counted there, skipped here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repeats: BTreeMap<String, u64>,
    /// The input looks cut short by an exporter's default cap or a gap at its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// Lines per `--prefix` container (`pod/container`), for telling `kubectl logs -l`'s
    /// 10-line default; at most [`MAX_PREFIXES`] kept.
    #[serde(skip)]
    pub prefix_lines: BTreeMap<String, u64>,
}

/// Containers whose line counts an input keeps (beyond: not judged).
pub const MAX_PREFIXES: usize = 10_000;

/// Why an input looks incomplete, and the command that exports it whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    /// The cap or the gap, with this input's numbers.
    pub why: String,
    /// How to export it whole.
    pub export_whole: String,
}

/// How many problems one input keeps for the report; the rest are counted.
pub const MAX_PROBLEMS_PER_INPUT: usize = 8;

impl FileQuality {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Notes that the input looks cut short (the first reason found is kept).
    pub fn cut(&mut self, why: impl Into<String>, export_whole: impl Into<String>) {
        if self.incomplete.is_none() {
            self.incomplete = Some(Incomplete {
                why: why.into(),
                export_whole: export_whole.into(),
            });
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn skip(&mut self, reason: SkipReason, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason).or_default() += n;
        }
    }

    pub fn assume(&mut self, what: &str, n: u64) {
        if n > 0 {
            *self.assumptions.entry(what.to_owned()).or_default() += n;
        }
    }

    pub fn problem(&mut self, line: Option<u64>, message: impl Into<String>) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS_PER_INPUT {
            let message: String = message.into();
            self.problems.push(Problem {
                line,
                message: crate::redact::owned(&message),
            });
        }
    }

    pub fn widen_span(&mut self, first: Option<Millis>, last: Option<Millis>) {
        if let Some(f) = first {
            self.first_ts = Some(self.first_ts.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = last {
            self.last_ts = Some(self.last_ts.map_or(l, |x| x.max(l)));
        }
    }
}
