//! `--export events.parquet|.csv`: every error record, names spelled out, streamed to the file
//! in batches as the merge produces them, so exporting a huge input never holds its records in
//! memory. The file is created before anything is read (a bad path fails at once) and is the
//! one output written outside `render::write_all`, because it is written while the run goes.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::io::csv::write::BatchedWriter as BatchedCsvWriter;
use polars::io::parquet::write::BatchedWriter as BatchedParquetWriter;
use polars::prelude::{
    Column, CsvWriter, DataFrame, DataType, Field, IntoColumn, ParquetWriter, PolarsResult, Schema,
    SerWriter, StringChunkedBuilder,
};

use crate::config::ExportKind;
use crate::model::time::format_rfc3339;
use crate::model::{ErrorEvent, Interner};

/// Records per batch written.
const BATCH: usize = 64 * 1024;

enum Writer {
    Parquet(Box<BatchedParquetWriter<File>>),
    Csv(BatchedCsvWriter<File>),
}

/// One batch of rows, column by column, appended straight into polars' builders (no string
/// allocated per row).
struct Batch {
    rows: usize,
    time: StringChunkedBuilder,
    ts_ms: Vec<i64>,
    cause: StringChunkedBuilder,
    level: StringChunkedBuilder,
    pod: StringChunkedBuilder,
    container: StringChunkedBuilder,
    namespace: StringChunkedBuilder,
    counted: Vec<bool>,
    outcome: StringChunkedBuilder,
    signature: StringChunkedBuilder,
    input: StringChunkedBuilder,
    line: Vec<u64>,
}

impl Batch {
    fn new() -> Self {
        let s = |name: &str| StringChunkedBuilder::new(name.into(), BATCH);
        Batch {
            rows: 0,
            time: s("time"),
            ts_ms: Vec::with_capacity(BATCH),
            cause: s("cause"),
            level: s("level"),
            pod: s("pod"),
            container: s("container"),
            namespace: s("namespace"),
            counted: Vec::with_capacity(BATCH),
            outcome: s("outcome"),
            signature: s("signature"),
            input: s("input"),
            line: Vec::with_capacity(BATCH),
        }
    }
}

/// The streaming exporter.
pub struct Exporter {
    path: PathBuf,
    writer: Writer,
    cause_ids: Vec<String>,
    unclassified: String,
    outcomes: Vec<String>,
    inputs: Vec<String>,
    batch: Batch,
    rows: u64,
    /// The last second formatted (`2026-11-20T09:41:02.`) and a buffer for the time column.
    second: Option<(i64, String)>,
    time_buf: String,
}

fn schema() -> Schema {
    Schema::from_iter([
        Field::new("time".into(), DataType::String),
        Field::new("ts_ms".into(), DataType::Int64),
        Field::new("cause".into(), DataType::String),
        Field::new("level".into(), DataType::String),
        Field::new("pod".into(), DataType::String),
        Field::new("container".into(), DataType::String),
        Field::new("namespace".into(), DataType::String),
        Field::new("counted".into(), DataType::Boolean),
        Field::new("outcome".into(), DataType::String),
        Field::new("signature".into(), DataType::String),
        Field::new("input".into(), DataType::String),
        Field::new("line".into(), DataType::UInt64),
    ])
}

impl Exporter {
    /// Creates the file (and its folder). `cause_ids` are the cause table's ids in order,
    /// `unclassified` names errors no cause matched, `outcomes` the outcome rules' names.
    pub fn create(
        path: &Path,
        kind: ExportKind,
        cause_ids: Vec<String>,
        unclassified: &str,
        outcomes: Vec<String>,
    ) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| {
                format!(
                    "--export {}: cannot create {}",
                    path.display(),
                    parent.display()
                )
            })?;
        }
        let file = File::create(path)
            .with_context(|| format!("--export {}: cannot create the file", path.display()))?;
        let schema = schema();
        let writer = match kind {
            ExportKind::Parquet => {
                Writer::Parquet(Box::new(ParquetWriter::new(file).batched(&schema)?))
            }
            ExportKind::Csv => Writer::Csv(CsvWriter::new(file).batched(&schema)?),
        };
        Ok(Exporter {
            path: path.to_owned(),
            writer,
            cause_ids,
            unclassified: unclassified.to_owned(),
            outcomes,
            inputs: Vec::new(),
            batch: Batch::new(),
            rows: 0,
            second: None,
            time_buf: String::with_capacity(32),
        })
    }

    /// The inputs' names, indexed as the records' `input`.
    pub fn set_inputs(&mut self, names: Vec<String>) {
        self.inputs = names;
    }

    /// Adds one record; writes a batch when enough have gathered.
    pub fn row(&mut self, r: &ErrorEvent, syms: &Interner) -> Result<()> {
        // RFC 3339 with milliseconds; the part up to the second is formatted once per second.
        let (sec, ms) = (r.ts.div_euclid(1000), r.ts.rem_euclid(1000));
        if self.second.as_ref().is_none_or(|(s, _)| *s != sec) {
            let full = format_rfc3339(sec * 1000);
            let prefix = full.strip_suffix("000Z").unwrap_or(&full).to_owned();
            self.second = Some((sec, prefix));
        }
        let prefix = &self.second.as_ref().expect("just set").1;
        self.time_buf.clear();
        self.time_buf.push_str(prefix);
        let _ = write!(self.time_buf, "{ms:03}Z");
        let b = &mut self.batch;
        b.time.append_value(&self.time_buf);
        b.ts_ms.push(r.ts);
        b.cause.append_value(
            self.cause_ids
                .get(r.cause as usize)
                .unwrap_or(&self.unclassified),
        );
        b.level.append_value(r.level.as_str());
        let csv = matches!(self.writer, Writer::Csv(_));
        fn pick(csv: bool, s: &str) -> std::borrow::Cow<'_, str> {
            if csv {
                csv_safe(s)
            } else {
                std::borrow::Cow::Borrowed(s)
            }
        }
        let cell = |s| pick(csv, s);
        b.pod.append_value(cell(syms.get(r.pod)));
        b.container.append_value(cell(syms.get(r.container)));
        b.namespace.append_value(cell(syms.get(r.namespace)));
        b.counted.push(r.counted);
        b.outcome
            .append_option(r.outcome.and_then(|o| self.outcomes.get(o as usize)));
        b.signature.append_value(cell(syms.get(r.signature)));
        b.input.append_value(cell(
            self.inputs.get(r.input as usize).map_or("", String::as_str),
        ));
        b.line.push(r.line);
        b.rows += 1;
        self.rows += 1;
        if b.rows >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let b = std::mem::replace(&mut self.batch, Batch::new());
        let df = frame(b).context("building a batch of the export")?;
        match &mut self.writer {
            Writer::Parquet(w) => w.write_batch(&df),
            Writer::Csv(w) => w.write_batch(&df),
        }
        .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Writes what is left and closes the file; returns its path and the records written.
    pub fn finish(mut self) -> Result<(PathBuf, u64)> {
        if self.batch.rows > 0 || self.rows == 0 {
            self.flush()?;
        }
        match &mut self.writer {
            Writer::Parquet(w) => w.finish().map(|_| ()),
            Writer::Csv(w) => w.finish(),
        }
        .with_context(|| format!("writing {}", self.path.display()))?;
        Ok((self.path, self.rows))
    }
}

/// A CSV cell a spreadsheet will not run as a formula: one starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'` (OWASP's advice for CSV injection).
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    // Control characters written as escapes (`\x1b`): `cat events.csv` must not drive the
    // terminal.
    let s = crate::messages::escape_controls(s, false);
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => std::borrow::Cow::Owned(format!("'{s}")),
        _ => s,
    }
}

fn frame(b: Batch) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        b.time.finish().into_column(),
        Column::new("ts_ms".into(), b.ts_ms),
        b.cause.finish().into_column(),
        b.level.finish().into_column(),
        b.pod.finish().into_column(),
        b.container.finish().into_column(),
        b.namespace.finish().into_column(),
        Column::new("counted".into(), b.counted),
        b.outcome.finish().into_column(),
        b.signature.finish().into_column(),
        b.input.finish().into_column(),
        Column::new("line".into(), b.line),
    ])
}
