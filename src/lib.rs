//! postmortem: exported `kubectl logs` in, an incident report you can trust out.
//!
//! The data flows one way, and the modules say so:
//! `ingest` (read every input, streamed and parsed in parallel) -> `classify` (which cause
//! produced each error) -> `detect` (when the alert threshold was breached, as Prometheus would
//! have decided) -> `report` (Markdown, HTML, JSON, charts). `pipeline` wires them; `cli` and
//! `config` turn flags into validated settings; `model` is the plain data they share.

pub mod classify;
pub mod cli;
pub mod config;
pub mod detect;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod promql;
pub mod report;
