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
pub use table::{Action, Cause, CauseTable, CauseTableError, UNCLASSIFIED_ID};
