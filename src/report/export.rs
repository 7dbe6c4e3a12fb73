//! `--export events.parquet|.csv`: every error record, names spelled out, streamed to the file
//! in batches as the merge produces them, so exporting a huge input never holds its records in
//! memory. The file is created before anything is read (a bad path fails at once) and is the
//! one output written outside [`super::write_all`], because it is written while the run goes.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::io::csv::write::BatchedWriter as BatchedCsvWriter;
use polars::io::parquet::write::BatchedWriter as BatchedParquetWriter;
use polars::prelude::{
    Column, CsvWriter, DataFrame, DataType, Field, ParquetWriter, PolarsResult, Schema, SerWriter,
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

/// One batch of rows, column by column.
#[derive(Default)]
struct Batch {
    time: Vec<String>,
    ts_ms: Vec<i64>,
    cause: Vec<String>,
    level: Vec<&'static str>,
    pod: Vec<String>,
    container: Vec<String>,
    namespace: Vec<String>,
    event: Vec<bool>,
    signature: Vec<String>,
    input: Vec<String>,
    line: Vec<u64>,
}

/// The streaming exporter.
pub struct Exporter {
    path: PathBuf,
    writer: Writer,
    cause_ids: Vec<String>,
    unclassified: String,
    inputs: Vec<String>,
    batch: Batch,
    rows: u64,
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
        Field::new("event".into(), DataType::Boolean),
        Field::new("signature".into(), DataType::String),
        Field::new("input".into(), DataType::String),
        Field::new("line".into(), DataType::UInt64),
    ])
}

impl Exporter {
    /// Creates the file (and its folder). `cause_ids` are the cause table's ids in order;
    /// `unclassified` names errors no cause matched.
    pub fn create(
        path: &Path,
        kind: ExportKind,
        cause_ids: Vec<String>,
        unclassified: &str,
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
            inputs: Vec::new(),
            batch: Batch::default(),
            rows: 0,
        })
    }

    /// The inputs' names, indexed as the records' `input`.
    pub fn set_inputs(&mut self, names: Vec<String>) {
        self.inputs = names;
    }

    /// Adds one record; writes a batch when enough have gathered.
    pub fn row(&mut self, r: &ErrorEvent, syms: &Interner) -> Result<()> {
        let b = &mut self.batch;
        b.time.push(format_rfc3339(r.ts));
        b.ts_ms.push(r.ts);
        b.cause.push(
            self.cause_ids
                .get(r.cause as usize)
                .unwrap_or(&self.unclassified)
                .clone(),
        );
        b.level.push(r.level.as_str());
        b.pod.push(syms.get(r.pod).to_owned());
        b.container.push(syms.get(r.container).to_owned());
        b.namespace.push(syms.get(r.namespace).to_owned());
        b.event.push(r.first_of_event);
        b.signature.push(syms.get(r.signature).to_owned());
        b.input.push(
            self.inputs
                .get(r.input as usize)
                .cloned()
                .unwrap_or_default(),
        );
        b.line.push(r.line);
        self.rows += 1;
        if b.ts_ms.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let b = std::mem::take(&mut self.batch);
        let df = frame(b).context("building a batch of the export")?;
        match &mut self.writer {
            Writer::Parquet(w) => w.write_batch(&df),
            Writer::Csv(w) => w.write_batch(&df),
        }
        .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Writes what is left and closes the file; returns its path and the records written.
    pub fn finish(mut self) -> Result<(PathBuf, u64)> {
        if !self.batch.ts_ms.is_empty() || self.rows == 0 {
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

fn frame(b: Batch) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("time".into(), b.time),
        Column::new("ts_ms".into(), b.ts_ms),
        Column::new("cause".into(), b.cause),
        Column::new("level".into(), b.level),
        Column::new("pod".into(), b.pod),
        Column::new("container".into(), b.container),
        Column::new("namespace".into(), b.namespace),
        Column::new("event".into(), b.event),
        Column::new("signature".into(), b.signature),
        Column::new("input".into(), b.input),
        Column::new("line".into(), b.line),
    ])
}
