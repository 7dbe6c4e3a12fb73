//! The subcommands, each wiring the stages it needs: `analyze` and `check` (every stage, then
//! the report or the verdict line), `query` (ingest and the PromQL evaluator), `causes` (the
//! cause table), `collect` (live collection into a bundle, nothing else).

pub mod analyze;
pub mod causes;
pub mod collect;
pub mod query;
