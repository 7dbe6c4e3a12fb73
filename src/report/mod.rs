//! Report: the document (`model.rs`), how it is built from the [`Analysis`] (`build/`, the one
//! place findings become words), the charts (`charts/`: what to draw, and drawing it with
//! plotters), and the outputs (`render/`: one renderer per format, all reading the same
//! document, and the one writer). The `--export` table streams out as the run goes
//! (`export.rs`).
//!
//! [`Analysis`]: crate::correlate::Analysis

pub mod baseline;
pub mod build;
pub mod charts;
pub mod export;
pub mod model;
pub mod render;
