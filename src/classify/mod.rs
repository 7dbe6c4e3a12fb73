//! Classification: which cause produced each error record. The table is data (`causes.toml`,
//! or the user's `--causes FILE`) compiled into one regex set; the ingest workers call
//! [`CauseTable::classify`] in parallel on every record at or above the table's lowest level.

pub mod collect;
pub mod failures;
pub mod matcher;
pub mod overlap;
pub mod signature;
pub mod spill;
pub mod table;

pub use collect::{
    merge, Classifier, Collector, EventSink, EventTable, MergeSettings, PodSeen, RowConsumer,
};
pub use matcher::Conditions;

use crate::model::Millis;

/// How far anything found per pod reaches across a silence in its log: a failure stays open
/// to wrappers and echoes [`failures::CASCADE_HORIZON`], a start's announcements are one start
/// within [`collect::BOOT_SPAN`], an outcome nested in a counted one within `nested_window`
/// (`--dedup-window`). A pod's logs split at a longer silence classify apart exactly as
/// together (the merge of partials relies on it).
pub fn pod_reach(nested_window: Millis) -> Millis {
    failures::CASCADE_HORIZON
        .max(collect::BOOT_SPAN)
        .max(nested_window)
}
pub use table::{Action, Cause, CauseTable, CauseTableError, UNCLASSIFIED_ID};
