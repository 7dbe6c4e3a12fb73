//! Nest's and plain text records: level, time, context, message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::logs::text;

fuzz_target!(|data: &[u8]| {
    let _ = text::parse_nest(data);
    let _ = text::parse_plain(data);
    let _ = text::infer_error(data);
    let _ = text::is_start_message(data);
});
