//! The report's outputs, as hyperfine's `export/` does them: one module per format behind the
//! small [`Renderer`] trait, every renderer a pure function of the same [`Document`] returning
//! bytes, and [`write_all`] the one writer that puts them in the report folder. The charts'
//! SVGs are drawn once, into the document, for both the SVG files and the HTML page.

pub mod html;
pub mod json;
pub mod markdown;
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
            Format::Svg | Format::Png => {}
        }
    }
    out
}

/// The document: the chart files `formats` will write are listed in the report (by chart
/// key), and each chart's SVG is drawn once when SVG files or the HTML page are written.
pub fn document(mut report: Report, charts: Vec<Chart>, formats: &[Format]) -> Result<Document> {
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
    })
}

/// Renders every output `formats` asks for and writes it under `dir`; returns the files
/// written, in order.
pub fn write_all(doc: &Document, formats: &[Format], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for r in renderers(doc, formats) {
        let bytes = r.render(doc)?;
        let path = dir.join(r.file());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the output folder {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}
