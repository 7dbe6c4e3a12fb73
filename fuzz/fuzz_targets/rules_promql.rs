//! Prometheus rules files (plain, ConfigMap, PrometheusRule) and PromQL expressions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = postmortem::ingest::rules::parse(&text);
    if text.len() < 4096 {
        let _ = postmortem::promql::parse(&text);
    }
});
