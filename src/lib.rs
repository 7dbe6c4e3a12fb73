//! postmortem: exported `kubectl logs`, Prometheus dumps and Kubernetes objects in, an incident
//! report you can trust out.
//!
//! The data flows one way, and the modules say so: `ingest` (read every input, streamed and
//! parsed in parallel) -> `classify` (which cause produced each error) -> `detect` (when each
//! alert was pending, firing and resolved, as Prometheus would have decided) -> `correlate`
//! (what the stages' results say together: the verdict, terminations and their causes,
//! restarts, the timeline) -> `report` (the one place findings become words; Markdown, HTML,
//! JSON, charts). `commands` wires them per subcommand; `cli` and `config` turn flags into
//! validated settings; `model` is the plain data they share; `promql` evaluates PromQL;
//! `messages` writes everything that goes to stderr. `collect` is what comes before ingest
//! when there are no files yet: it exports them from the current cluster (kubectl) and
//! Prometheus into a bundle folder, which ingest then reads like any other. See
//! ARCHITECTURE.md.

pub mod classify;
pub mod cli;
#[cfg(feature = "report")]
pub mod collect;
#[cfg(feature = "report")]
pub mod commands;
pub mod config;
#[cfg(feature = "report")]
pub mod correlate;
pub mod detect;
pub mod ingest;
pub mod messages;
pub mod model;
#[cfg(feature = "report")]
pub mod partial;
pub mod promql;
pub mod redact;
#[cfg(feature = "report")]
pub mod report;
