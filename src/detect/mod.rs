//! Detect: when was each alert pending, firing and resolved, as Prometheus would have decided?
//! It returns typed results (times in milliseconds, label sets, enums); the report turns them
//! into words.
//!
//! - [`plan`]: when each rule is evaluated (grids and phases), decided once;
//! - [`alert`]: Prometheus' rule engine for one alert (evaluation grid, pending/firing state
//!   machine);
//! - [`logs`]: the runbook's alert reconstructed from the error records, one counter per
//!   label set, per series and for the total;
//! - [`rules`]: the alerting and recording rules over the metric dumps;
//! - [`alerts_check`]: the reconstruction against the dump's own `ALERTS`;
//! - [`memory`]: memory against the limits, and rules that cannot fire under them.

pub mod alert;
pub mod alerts_check;
pub mod logs;
pub mod memory;
pub mod plan;
pub mod regression;
pub mod replay;
pub mod rules;
pub mod whatif;
