//! The whole ingest on a small folder: one file of arbitrary bytes (gzip, tar, logs, dumps,
//! objects: the sniffer decides), every line accounted for: read = used + skipped.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::{self, ReadSettings, Record, RecordSink, SinkFactory};
use postmortem::model::time::Zone;
use postmortem::model::Level;

struct Count;
struct Sink(u64);

impl RecordSink for Sink {
    fn wants(&self, _: Level) -> bool {
        true
    }
    fn record(&mut self, r: &Record<'_>) {
        self.0 += 1;
        let _ = r.message.decode();
        let _ = r.trace.decode();
    }
}

impl SinkFactory for Count {
    type Sink = Sink;
    fn make(&self, _: u32, _: usize) -> Sink {
        Sink(0)
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("mcp-backend-7c9d5b8f6d-x2kqp.log"), data).expect("write");
    let settings = ReadSettings {
        zone: Zone::Utc,
        since: None,
        until: None,
        max_line: 4096,
        max_input_bytes: 64 << 20,
        captured_at: Some(1_763_630_000_000),
        only: None,
        // The sink wants every record whole (json_elements fuzzes the stubs).
        wanted: None,
        keep_documents: false,
    };
    for r in ingest::run(&[dir.path().to_owned()], &settings, &Count) {
        let q = &r.quality;
        assert_eq!(q.lines_read, q.lines_used + q.skipped_total(), "{}", q.name);
        let records: u64 = r.sinks.iter().map(|s| s.0).sum();
        assert_eq!(records, q.records, "{}", q.name);
    }
});
