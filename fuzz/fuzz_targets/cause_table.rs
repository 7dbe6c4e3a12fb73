//! The cause table's TOML, as a user writes it for `--causes`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = postmortem::classify::table::CauseTable::from_toml(text, "fuzz.toml");
    }
});
