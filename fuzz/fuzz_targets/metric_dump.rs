//! Metric dumps in every format: the Prometheus API's JSON, `promtool tsdb dump`, exposition
//! text, Grafana's CSV; what the sniffer says first, then each parser on the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::prom::{self, DumpFormat};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = prom::sniff(&text);
    for format in [
        DumpFormat::ApiJson,
        DumpFormat::TsdbDump,
        DumpFormat::Exposition,
        DumpFormat::GrafanaCsv,
    ] {
        let _ = prom::parse(&text, format, Some(1_763_630_000_000));
    }
});
