//! Where a JSON text's structure is, found 64 bytes at a time the way simdjson's first stage
//! finds it: bit masks of quotes, backslashes and structural characters (`{ } [ ] ,`), the
//! escaped characters from the runs of backslashes, the inside of strings from the unescaped
//! quotes (a prefix XOR), and so the structural characters outside strings, without a branch
//! per byte. The masks come from SSE2 compares on x86_64 (part of every x86_64 target) and
//! from a plain loop elsewhere. Used to cut a document's elements and to skip a value.

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
fn masks(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let (mut quote, mut backslash, mut structural) = (0u64, 0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is enabled on every x86_64 target, and the load reads the 16 bytes
        // at 16 * k of the 64-byte array.
        let (q, b, s) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            // `[` and `{` differ only in the 0x20 bit, as `]` and `}` do.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let s = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
                    _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
                ),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)),
            );
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))),
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))),
                _mm_movemask_epi8(s),
            )
        };
        let shift = 16 * k;
        quote |= u64::from(q as u16) << shift;
        backslash |= u64::from(b as u16) << shift;
        structural |= u64::from(s as u16) << shift;
    }
    (quote, backslash, structural)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks(block: &[u8; 64]) -> (u64, u64, u64) {
    let (mut quote, mut backslash, mut structural) = (0u64, 0u64, 0u64);
    for (i, &c) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match c {
            b'"' => quote |= bit,
            b'\\' => backslash |= bit,
            b'{' | b'}' | b'[' | b']' | b',' => structural |= bit,
            _ => {}
        }
    }
    (quote, backslash, structural)
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

/// Calls `f(position, byte)` for every `{ } [ ] ,` outside strings in `b[from..to]`, which
/// starts in `st`; stops early when `f` returns false. Leaves `st` as it stands at the stop.
pub fn structurals(
    b: &[u8],
    from: usize,
    to: usize,
    st: &mut StrState,
    mut f: impl FnMut(usize, u8) -> bool,
) {
    let mut prev_escaped = u64::from(st.escaped);
    let mut prev_quoted = if st.quoted { u64::MAX } else { 0 };
    let mut at = from;
    let mut pad;
    while at < to {
        let n = (to - at).min(64);
        let block: &[u8; 64] = if n == 64 {
            b[at..at + 64].try_into().expect("64 bytes")
        } else {
            pad = [b' '; 64];
            pad[..n].copy_from_slice(&b[at..to]);
            &pad
        };
        let (quote, backslash, structural) = masks(block);
        let esc = escaped(backslash, &mut prev_escaped);
        let quotes = quote & !esc;
        let inside = prefix_xor(quotes) ^ prev_quoted;
        let mut outside = structural & !inside;
        while outside != 0 {
            let i = outside.trailing_zeros() as usize;
            if !f(at + i, b[at + i]) {
                // The state just after the stopping character: outside any string.
                *st = StrState::default();
                return;
            }
            outside &= outside - 1;
        }
        prev_quoted = ((inside as i64) >> 63) as u64;
        if n < 64 {
            // The padding is blank: the state is the last real byte's.
            let last = 1u64 << (n - 1);
            // `inside` holds an opening quote and not a closing one: it is the state after.
            let quoted_after = inside & last != 0;
            let escaped_after = backslash & last != 0 && esc & last == 0;
            *st = StrState {
                quoted: quoted_after,
                escaped: escaped_after,
            };
            return;
        }
        at += 64;
    }
    *st = StrState {
        quoted: prev_quoted != 0,
        escaped: prev_escaped != 0,
    };
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
                b'{' | b'}' | b'[' | b']' | b',' => out.push(i),
                _ => {}
            }
        }
        (out, st)
    }

    fn fast(b: &[u8], mut st: StrState) -> (Vec<usize>, StrState) {
        let mut out = Vec::new();
        structurals(b, 0, b.len(), &mut st, |i, _| {
            out.push(i);
            true
        });
        (out, st)
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
    fn stops_when_told() {
        let b = br#"{"a":[1,2]} , {"b":3}"#;
        let mut seen = Vec::new();
        let mut st = StrState::default();
        structurals(b, 0, b.len(), &mut st, |i, c| {
            seen.push(i);
            c != b'}'
        });
        assert_eq!(seen, [0, 5, 7, 9, 10]);
    }
}
