//! One `kubectl logs` line: the `--prefix`, the kubelet's time, a JSON record, the line's time.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::logs::{json_log, line, scan};
use postmortem::model::time::Zone;

fuzz_target!(|data: &[u8]| {
    let (_, rest) = line::split_prefix(data);
    let (_, content) = line::split_kubelet_ts(rest);
    if let Ok(s) = std::str::from_utf8(content) {
        let _ = json_log::parse(s);
    }
    let _ = json_log::quick_level_and_rest(content);
    let _ = json_log::quick_time(content);
    let _ = scan::line_time(data, Zone::Utc);
});
