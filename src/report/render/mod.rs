//! The report's outputs, as hyperfine's `export/` does them: one module per format behind the
//! small [`Renderer`] trait, every renderer a pure function of the same [`Document`] returning
//! bytes, and [`write_all`] the one writer that puts them in the report folder. The charts'
//! SVGs are drawn once, into the document, for both the SVG files and the HTML page.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod promtool;
pub mod terminal;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::charts::{Chart, ImageFormat};
use super::model::Report;
use crate::config::Format;

/// What every renderer reads: the report, its charts, and each chart's SVG.
pub struct Document {
    pub report: Report,
    pub charts: Vec<Chart>,
    /// Each chart's SVG, in the order of `charts` (empty unless SVG files or the HTML page
    /// are written).
    pub svgs: Vec<Vec<u8>>,
    /// The incident as a promtool regression test (`promtool-test/`), when the runbook's
    /// alert could be replayed.
    pub regression: Option<crate::detect::regression::RegressionTest>,
}

/// One output of the report.
pub trait Renderer {
    /// Its file, relative to the report folder.
    fn file(&self) -> String;
    /// Its bytes.
    fn render(&self, doc: &Document) -> Result<Vec<u8>>;
}

/// A chart's image file.
struct ChartImage {
    chart: usize,
    file: String,
    format: ImageFormat,
}

fn extension(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Svg => "svg",
        ImageFormat::Png => "png",
    }
}

impl Renderer for ChartImage {
    fn file(&self) -> String {
        self.file.clone()
    }

    fn render(&self, doc: &Document) -> Result<Vec<u8>> {
        match (self.format, doc.svgs.get(self.chart)) {
            (ImageFormat::Svg, Some(svg)) => Ok(svg.clone()),
            (format, _) => Ok(doc.charts[self.chart].spec.render(format)?),
        }
    }
}

/// The image formats among `formats`.
fn images(formats: &[Format]) -> Vec<ImageFormat> {
    formats
        .iter()
        .filter_map(|f| match f {
            Format::Svg => Some(ImageFormat::Svg),
            Format::Png => Some(ImageFormat::Png),
            _ => None,
        })
        .collect()
}

/// Every output `formats` asks for: each chart's images, then the documents.
fn renderers(doc: &Document, formats: &[Format]) -> Vec<Box<dyn Renderer>> {
    let mut out: Vec<Box<dyn Renderer>> = Vec::new();
    for (i, chart) in doc.charts.iter().enumerate() {
        for format in images(formats) {
            out.push(Box::new(ChartImage {
                chart: i,
                file: format!("{}.{}", chart.file, extension(format)),
                format,
            }));
        }
    }
    for f in formats {
        match f {
            Format::Markdown => out.push(Box::new(markdown::Markdown)),
            Format::Json => out.push(Box::new(json::Json)),
            Format::Html => out.push(Box::new(html::Html)),
            Format::Junit => out.push(Box::new(junit::Junit)),
            Format::Svg | Format::Png => {}
        }
    }
    // Every analysis that replayed the alert writes its regression test.
    if doc.regression.is_some() {
        out.push(Box::new(promtool::RulesFile));
        out.push(Box::new(promtool::TestFile));
    }
    out
}

/// The document: the chart files `formats` will write are listed in the report (by chart
/// key), and each chart's SVG is drawn once when SVG files or the HTML page are written.
pub fn document(
    mut report: Report,
    charts: Vec<Chart>,
    regression: Option<crate::detect::regression::RegressionTest>,
    formats: &[Format],
) -> Result<Document> {
    for chart in &charts {
        for format in images(formats) {
            report
                .charts
                .entry(chart.key.clone())
                .or_default()
                .push(format!("{}.{}", chart.file, extension(format)));
        }
    }
    let svgs = if formats.contains(&Format::Svg) || formats.contains(&Format::Html) {
        charts
            .iter()
            .map(|c| c.spec.render(ImageFormat::Svg))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok(Document {
        report,
        charts,
        svgs,
        regression,
    })
}

/// The list of the files a run wrote into its output folder, kept there (one relative path
/// per line), so that the next run into the same folder removes what it no longer writes,
/// and nothing it did not write.
pub const MANIFEST: &str = ".postmortem-files";

/// Renders every output `formats` asks for and writes it under `dir`; returns the files
/// written, in order. Files an earlier run wrote there (its manifest says which) that this
/// run does not write are removed, and folders they leave empty; nothing else is touched.
pub fn write_all(doc: &Document, formats: &[Format], dir: &Path) -> Result<Vec<PathBuf>> {
    let before = read_manifest(dir);
    let mut files = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for r in renderers(doc, formats) {
        let bytes = r.render(doc)?;
        let name = r.file();
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the output folder {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
        names.insert(name);
    }
    for stale in before.difference(&names) {
        remove_stale(dir, stale);
    }
    let manifest: String = names.iter().map(|n| format!("{n}\n")).collect();
    std::fs::write(dir.join(MANIFEST), manifest)
        .with_context(|| format!("writing {}", dir.join(MANIFEST).display()))?;
    Ok(files)
}

/// The files the last run wrote into `dir`, as its manifest lists them (none without one).
fn read_manifest(dir: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(dir.join(MANIFEST))
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Removes `name` from `dir` if it is a plain relative path to a regular file (a manifest
/// edited to name `../x` or `/etc/x` removes nothing), then its folders left empty.
fn remove_stale(dir: &Path, name: &str) {
    use std::path::Component;
    let rel = Path::new(name);
    if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return;
    }
    let path = dir.join(rel);
    let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
    if !is_file || std::fs::remove_file(&path).is_err() {
        return;
    }
    let mut parent = path.parent();
    while let Some(p) = parent.filter(|p| *p != dir && p.starts_with(dir)) {
        // Fails (and stops) unless empty.
        if std::fs::remove_dir(p).is_err() {
            break;
        }
        parent = p.parent();
    }
}
