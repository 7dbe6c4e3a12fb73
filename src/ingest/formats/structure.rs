//! Where a JSON text's structure is, found 64 bytes at a time the way simdjson's first stage
//! finds it: bit masks of quotes, backslashes and brackets (`{ } [ ]`), the
//! escaped characters from the runs of backslashes, the inside of strings from the unescaped
//! quotes (a prefix XOR), and so the structural characters outside strings, without a branch
//! per byte. The masks come from SSE2 compares on x86_64 (part of every x86_64 target; AVX2
//! and PCLMULQDQ when the processor has them) and from a plain loop elsewhere. Used to cut a
//! document's elements and to skip a value.

/// Whether the text before a position ended inside a string, or just after a backslash in
/// one (the state the next 64 bytes start in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrState {
    pub quoted: bool,
    pub escaped: bool,
}

/// Quote, backslash and structural-character masks of 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let (mut quote, mut backslash, mut structural, mut high) = (0u64, 0u64, 0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is enabled on every x86_64 target, and the load reads the 16 bytes
        // at 16 * k of the 64-byte array.
        let (q, b, s, h) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            // `[` and `{` differ only in the 0x20 bit, as `]` and `}` do.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let s = _mm_or_si128(
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
            );
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))),
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))),
                _mm_movemask_epi8(s),
                _mm_movemask_epi8(v),
            )
        };
        let shift = 16 * k;
        quote |= u64::from(q as u16) << shift;
        backslash |= u64::from(b as u16) << shift;
        structural |= u64::from(s as u16) << shift;
        high |= u64::from(h as u16) << shift;
    }
    (quote, backslash, structural, high)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    let (mut quote, mut backslash, mut structural, mut high) = (0u64, 0u64, 0u64, 0u64);
    for (i, &c) in block.iter().enumerate() {
        let bit = 1u64 << i;
        if c >= 0x80 {
            high |= bit;
        }
        match c {
            b'"' => quote |= bit,
            b'\\' => backslash |= bit,
            b'{' | b'}' | b'[' | b']' => structural |= bit,
            _ => {}
        }
    }
    (quote, backslash, structural, high)
}

/// The first quote or backslash at or after `b[from]`, 16 bytes at a time: keys and short
/// values end within the first compare, without a search's setup.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn quote_or_backslash(b: &[u8], mut from: usize) -> Option<usize> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    while from + 16 <= b.len() {
        // SAFETY: SSE2 is enabled on every x86_64 target, and the load reads b[from..from + 16].
        let mask = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(from).cast::<__m128i>());
            _mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
            ))
        };
        if mask != 0 {
            return Some(from + mask.trailing_zeros() as usize);
        }
        from += 16;
    }
    memchr::memchr2(b'"', b'\\', b.get(from..)?).map(|k| from + k)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub fn quote_or_backslash(b: &[u8], from: usize) -> Option<usize> {
    memchr::memchr2(b'"', b'\\', b.get(from..)?).map(|k| from + k)
}

/// The characters escaped by a backslash (simdjson's `find_escaped`): runs of backslashes
/// escape every other character, the run's length deciding whether the one after is.
#[inline]
fn escaped(backslash: u64, prev_escaped: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*prev_escaped;
    let follows = backslash << 1 | *prev_escaped;
    let odd_starts = backslash & !EVEN & !follows;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
    *prev_escaped = u64::from(overflow);
    let invert = even_starts << 1;
    (EVEN ^ invert) & follows
}

/// Each bit the XOR of itself and every bit below it: from an opening quote up to (not
/// including) its closing quote.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// [`prefix_xor`] as one carry-less multiplication by all ones (simdjson's way).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set1_epi8, _mm_set_epi64x,
    };
    let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
    _mm_cvtsi128_si64(product) as u64
}

/// The walk over 64-byte blocks, with the mask and prefix-XOR functions given (SSE2 and
/// shifts, or AVX2 and a carry-less multiplication).
macro_rules! walk {
    ($masks:ident, $prefix_xor:ident, $b:ident, $from:ident, $to:ident, $st:ident, $f:ident) => {{
        let mut prev_escaped = u64::from($st.escaped);
        let mut prev_quoted = if $st.quoted { u64::MAX } else { 0 };
        let mut at = $from;
        let mut pad;
        let mut non_ascii = 0u64;
        while at < $to {
            let n = ($to - at).min(64);
            let block: &[u8; 64] = if n == 64 {
                $b[at..at + 64].try_into().expect("64 bytes")
            } else {
                pad = [b' '; 64];
                pad[..n].copy_from_slice(&$b[at..$to]);
                &pad
            };
            let (quote, backslash, structural, high) = $masks(block);
            non_ascii |= high;
            let esc = escaped(backslash, &mut prev_escaped);
            let quotes = quote & !esc;
            let inside = $prefix_xor(quotes) ^ prev_quoted;
            // (An escaped character is never structural, even outside a string, where JSON
            // has no backslash.)
            let mut outside = structural & !inside & !esc;
            while outside != 0 {
                let i = outside.trailing_zeros() as usize;
                if !$f(at + i, $b[at + i]) {
                    // The state just after the stopping character: outside any string.
                    *$st = StrState::default();
                    return non_ascii == 0;
                }
                outside &= outside - 1;
            }
            prev_quoted = ((inside as i64) >> 63) as u64;
            if n < 64 {
                // The padding is blank: the state is the last real byte's. `inside` holds an
                // opening quote and not a closing one: it is the state after.
                let last = 1u64 << (n - 1);
                *$st = StrState {
                    quoted: inside & last != 0,
                    escaped: backslash & last != 0 && esc & last == 0,
                };
                return non_ascii == 0;
            }
            at += 64;
        }
        *$st = StrState {
            quoted: prev_quoted != 0,
            escaped: prev_escaped != 0,
        };
        non_ascii == 0
    }};
}

/// Calls `f(position, byte)` for every `{ } [ ]` outside strings in `b[from..to]`, which
/// starts in `st`; stops early when `f` returns false. Leaves `st` as it stands at the stop,
/// and returns whether every byte it read was ASCII (no UTF-8 to check there). Uses AVX2
/// and a carry-less multiplication when the processor has them.
pub fn structurals(
    b: &[u8],
    from: usize,
    to: usize,
    st: &mut StrState,
    f: impl FnMut(usize, u8) -> bool,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("pclmulqdq")
    {
        // SAFETY: the processor has AVX2 and PCLMULQDQ, checked just above.
        return unsafe { structurals_avx2(b, from, to, st, f) };
    }
    structurals_plain(b, from, to, st, f)
}

/// [`structurals`] with [`masks`] (SSE2 on x86_64).
fn structurals_plain(
    b: &[u8],
    from: usize,
    to: usize,
    st: &mut StrState,
    mut f: impl FnMut(usize, u8) -> bool,
) -> bool {
    walk!(masks, prefix_xor, b, from, to, st, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq")]
fn structurals_avx2(
    b: &[u8],
    from: usize,
    to: usize,
    st: &mut StrState,
    mut f: impl FnMut(usize, u8) -> bool,
) -> bool {
    walk!(masks_avx2, prefix_xor_clmul, b, from, to, st, f)
}

/// [`masks`] with two 32-byte compares.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn masks_avx2(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let (mut quote, mut backslash, mut structural, mut high) = (0u64, 0u64, 0u64, 0u64);
    for k in 0..2 {
        // SAFETY: the load reads the 32 bytes at 32 * k of the 64-byte array.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k).cast::<__m256i>()) };
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let s = _mm256_or_si256(
            _mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'{' as i8)),
            _mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'}' as i8)),
        );
        let q = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8)));
        let bs = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8)));
        let shift = 32 * k;
        quote |= u64::from(q as u32) << shift;
        backslash |= u64::from(bs as u32) << shift;
        structural |= u64::from(_mm256_movemask_epi8(s) as u32) << shift;
        high |= u64::from(_mm256_movemask_epi8(v) as u32) << shift;
    }
    (quote, backslash, structural, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same, a byte at a time (a backslash escapes the next byte even outside a string,
    /// where JSON has none, as in simdjson).
    fn slow(b: &[u8], mut st: StrState) -> (Vec<usize>, StrState) {
        let mut out = Vec::new();
        for (i, &c) in b.iter().enumerate() {
            if st.escaped {
                st.escaped = false;
                continue;
            }
            if c == b'\\' {
                st.escaped = true;
                continue;
            }
            if st.quoted {
                if c == b'"' {
                    st.quoted = false;
                }
                continue;
            }
            match c {
                b'"' => st.quoted = true,
                b'{' | b'}' | b'[' | b']' => out.push(i),
                _ => {}
            }
        }
        (out, st)
    }

    fn fast(b: &[u8], st: StrState) -> (Vec<usize>, StrState) {
        let (mut out, mut st1) = (Vec::new(), st);
        let ascii = structurals(b, 0, b.len(), &mut st1, |i, _| {
            out.push(i);
            true
        });
        assert_eq!(ascii, b.is_ascii());
        // The plain path gives the same, whatever the processor.
        let (mut out2, mut st2) = (Vec::new(), st);
        structurals_plain(b, 0, b.len(), &mut st2, |i, _| {
            out2.push(i);
            true
        });
        assert_eq!((&out, st1), (&out2, st2));
        (out, st1)
    }

    #[test]
    fn agrees_with_a_byte_at_a_time() {
        let texts = [
            r#"{"a":"x\"y","b":[1,{"c":"\\"}],"d":"\\\"]"}"#.to_owned(),
            r#"["\\\\\\", "\\\\\"", {"k": "{[,]}"}, 3]"#.repeat(7),
            format!(
                r#"[{{"long":"{}"}}, "{}\\", 1]"#,
                "y".repeat(200),
                "\\\\".repeat(40)
            ),
            "\\\"\"\\\\\"".repeat(50),
            String::new(),
            format!("[\"{}\", \"Müller\"]", "x".repeat(70)),
            // Found by fuzzing: a backslash outside a string (not JSON) escapes the bracket.
            r#"\":\{"kubernetes":{"a":[1]}"#.repeat(5),
        ];
        for t in &texts {
            for start in [
                StrState::default(),
                StrState {
                    quoted: true,
                    escaped: false,
                },
                StrState {
                    quoted: true,
                    escaped: true,
                },
            ] {
                // Every cut of the text, to test the state carried between calls.
                for cut in [0, 1, 17, 63, 64, 65, 100, t.len() / 2, t.len()] {
                    let cut = cut.min(t.len());
                    let b = t.as_bytes();
                    let (mut a, st) = fast(&b[..cut], start);
                    let (rest, end) = {
                        let mut st2 = st;
                        let mut out = Vec::new();
                        structurals(b, cut, b.len(), &mut st2, |i, _| {
                            out.push(i);
                            true
                        });
                        (out, st2)
                    };
                    a.extend(rest);
                    assert_eq!((a, end), slow(b, start), "{t:.40} from {start:?} cut {cut}");
                }
            }
        }
    }

    #[test]
    fn quotes_and_backslashes_found_anywhere() {
        let text = format!("{}\\{}\"{}", "a".repeat(20), "b".repeat(3), "c".repeat(40));
        let b = text.as_bytes();
        for from in 0..b.len() {
            let want = b[from..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .map(|k| from + k);
            assert_eq!(quote_or_backslash(b, from), want, "{from}");
        }
        assert_eq!(quote_or_backslash(b, b.len() + 5), None);
    }

    #[test]
    fn stops_when_told() {
        let b = br#"{"a":[1,2]} , {"b":3}"#;
        let mut seen = Vec::new();
        let mut st = StrState::default();
        structurals(b, 0, b.len(), &mut st, |i, c| {
            seen.push(i);
            c != b'}'
        });
        assert_eq!(seen, [0, 5, 9, 10]);
    }
}
