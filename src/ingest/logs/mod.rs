//! Log records: what a chunk of `kubectl logs` output (any of its forms) becomes. The reader
//! cuts record-aligned chunks (`chunker.rs`); each is scanned on a worker (`scan.rs`): the
//! kubectl layers peeled (`line.rs`: `--prefix`, kubelet timestamps, continuation lines),
//! the content parsed (`json_log.rs` for JSON lines, `text.rs` for Nest and plain text), the
//! pod and container taken from the prefix or the file name (`hints.rs`), and every record
//! pushed into the consumer's sink (`sink.rs`).

pub mod chunker;
pub mod hints;
pub mod json_log;
pub mod line;
pub mod scan;
pub mod sink;
pub mod text;
