//! The plain data every stage shares: times, log levels, classified error events, per-input
//! data-quality accounting and alert episodes. Nothing here does I/O or knows about the CLI.

pub mod alert;
pub mod cluster;
pub mod event;
pub mod labels;
pub mod level;
pub mod metrics;
pub mod quality;
pub mod rules;
pub mod time;

pub use alert::{AlertInstance, AlertSource, AlertState};
pub use event::{ErrorEvent, Interner};
pub use level::Level;
pub use quality::{FileQuality, InputKind, Problem, SkipReason};
pub use time::Millis;
