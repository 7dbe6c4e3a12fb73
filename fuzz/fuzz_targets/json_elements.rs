//! JSON arrays cut into elements without parsing them (`ingest::formats::elements`, with its
//! 64-byte structure masks and pieces scanned apart): on any bytes, no panic; on a valid
//! array, the elements serde_json reads, whatever the block and piece sizes; the members
//! walker and a Cloud Logging document (stubs and full parse) on the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::formats::{self, cloud_logging, elements, lean, structure};
use postmortem::model::{Level, Levels};

/// Brackets outside strings, a byte at a time.
fn reference(b: &[u8]) -> Vec<usize> {
    let (mut quoted, mut escaped, mut out) = (false, false, Vec::new());
    for (i, &c) in b.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if quoted {
            quoted = c != b'"';
        } else if c == b'"' {
            quoted = true;
        } else if matches!(c, b'{' | b'}' | b'[' | b']') {
            out.push(i);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (sizes, data) = match data.split_first() {
        Some((&s, rest)) => (s, rest),
        None => return,
    };
    let mut found = Vec::new();
    let mut st = structure::StrState::default();
    let ascii = structure::structurals(data, 0, data.len(), &mut st, |i, _| {
        found.push(i);
        true
    });
    assert_eq!(found, reference(data));
    assert_eq!(ascii, data.is_ascii());

    // Blocks of 16 bytes to 15 KB (every seam between blocks and pieces is reached on 64 KB
    // inputs while each run stays quick), pieces of 1 byte to 4 KB.
    let block = 16 + usize::from(sizes & 0x0f) * 1021;
    let piece = 1 + usize::from(sizes >> 4) * 257;
    let mut got = Vec::new();
    let cut = elements::array_elements_sized(data, block, piece, &mut |b| {
        for k in 0..b.found.ranges.len() {
            let e = b.element(k);
            let _ = lean::members(e.bytes, e.nested, (0, e.bytes.len()), |_, _| {});
            got.push(e.bytes.to_vec());
        }
    });
    if let Ok(want) = serde_json::from_slice::<Vec<Box<serde_json::value::RawValue>>>(data) {
        assert_eq!(cut, Ok(()));
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.as_slice(), w.get().trim().as_bytes());
        }
    }
    let ctx = formats::LineCtx {
        zone: postmortem::model::time::Zone::Utc,
        year: 2026,
        wanted: Some(Levels::from_fn(|l| l >= Level::Warn)),
        max_line: 1 << 16,
    };
    let _ = cloud_logging::document(data, &ctx, &mut |_| {});
});
