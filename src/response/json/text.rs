//! JSON strings as `json.dumps(..., ensure_ascii=False)` writes them, then UTF-8 encoded (what
//! Starlette's `JSONResponse` sends): `"`, `\` and control characters escaped (`\b \f \n \r \t`
//! by name, the rest as `\u00XX`), everything else as UTF-8.
//!
//! The UTF-8 comes from the str itself: an ASCII str's characters are their own UTF-8, stored
//! right after its header, and any other str caches its UTF-8 once asked for it (as orjson also
//! relies on). It is checked for bytes to escape 8 or 16 at a time and copied whole when there
//! are none, which is nearly always.

use pyo3::ffi;

/// For each byte, what follows the backslash that escapes it (`u`: `\u00XX`), or 0 when it is
/// written as is.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Bytes escaped per reservation: the output grows by at most six bytes per input byte
/// (`\u00XX`), so a chunk reserves `6 * CHUNK` and writes through a raw pointer with no capacity
/// checks, whatever the text's length.
const CHUNK: usize = 2048;

/// The UTF-8 of `p`, an exact str, when it can be had without running code, allocating or
/// taking a lock: a compact ASCII str's own characters, or a compact str's cached UTF-8.
/// `None` for any other str (the caller owns it and asks CPython, which fills the cache).
///
/// # Safety
/// `p` is a live exact str; the slice lives as long as it does. A str's kind, compactness and
/// characters never change after creation. Its UTF-8 cache, once set, is not changed or freed
/// before the str is; on 3.13t it is published with a release store after its length, which
/// the acquire load here pairs with (CPython's `PyUnicode_UTF8` reads it the same way).
#[cfg(not(Py_3_14))]
#[inline(always)]
pub(super) unsafe fn utf8_in_place<'a>(p: *mut ffi::PyObject) -> Option<&'a [u8]> {
    unsafe {
        if ffi::PyUnicode_IS_COMPACT_ASCII(p) != 0 {
            let len = ffi::PyUnicode_GET_LENGTH(p) as usize;
            return Some(std::slice::from_raw_parts(ffi::PyUnicode_1BYTE_DATA(p), len));
        }
        if ffi::PyUnicode_IS_COMPACT(p) == 0 {
            return None;
        }
        let compact = p.cast::<ffi::PyCompactUnicodeObject>();
        #[cfg(Py_GIL_DISABLED)]
        let utf8 = {
            use std::sync::atomic::{AtomicPtr, Ordering};
            AtomicPtr::from_ptr(&raw mut (*compact).utf8).load(Ordering::Acquire)
        };
        #[cfg(not(Py_GIL_DISABLED))]
        let utf8 = (*compact).utf8;
        if utf8.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(utf8.cast::<u8>(), (*compact).utf8_length as usize))
    }
}

/// PyO3 does not expose the str layout of 3.14: every str takes the owned path.
#[cfg(Py_3_14)]
#[inline(always)]
pub(super) unsafe fn utf8_in_place<'a>(_: *mut ffi::PyObject) -> Option<&'a [u8]> {
    None
}

/// Writes `s` (UTF-8) as a quoted JSON string.
#[inline]
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    write_utf8(s.as_bytes(), out);
}

/// Writes `bytes` (UTF-8) as a quoted JSON string: copied whole while it needs no escape (one
/// pass that checks and copies), escaped from the first byte that does.
#[inline(always)]
pub(super) fn write_utf8(bytes: &[u8], out: &mut Vec<u8>) {
    let n = bytes.len();
    out.reserve(n + 2);
    // SAFETY: `out` has room for `n + 2` bytes past its length; `copy_clean` writes at most
    // `n` bytes at `dst + 1`, all copied from `bytes`.
    let clean = unsafe {
        let at = out.len();
        let dst = out.as_mut_ptr().add(at);
        *dst = b'"';
        let clean = copy_clean(bytes, dst.add(1));
        if clean == n {
            *dst.add(1 + n) = b'"';
            out.set_len(at + n + 2);
            return;
        }
        out.set_len(at + 1 + clean);
        clean
    };
    escape_rest(&bytes[clean..], out);
}

/// Writes a dict key: a comma first unless it is the first, the quoted, escaped key, and the
/// colon, leaving `headroom` bytes to spare after it, all under one capacity check when the key
/// needs no escape.
#[inline(always)]
pub(super) fn write_key(bytes: &[u8], comma: bool, headroom: usize, out: &mut Vec<u8>) {
    let n = bytes.len();
    out.reserve(n + 4 + headroom);
    // SAFETY: `out` has room for `n + 4` bytes past its length; `copy_clean` writes at most `n`
    // bytes at `dst`, all copied from `bytes`.
    let clean = unsafe {
        let at = out.len();
        let mut dst = out.as_mut_ptr().add(at);
        if comma {
            *dst = b',';
            dst = dst.add(1);
        }
        *dst = b'"';
        let clean = copy_clean(bytes, dst.add(1));
        let start = at + usize::from(comma) + 1;
        if clean == n {
            dst.add(1 + n).cast::<[u8; 2]>().write_unaligned(*b"\":");
            out.set_len(start + n + 2);
            return;
        }
        out.set_len(start + clean);
        clean
    };
    escape_rest(&bytes[clean..], out);
    out.push(b':');
    out.reserve(headroom);
}

#[inline(never)]
fn escape_rest(bytes: &[u8], out: &mut Vec<u8>) {
    write_escaped(bytes, out);
    out.push(b'"');
}

/// Whether any of the 8 bytes of `word` needs escaping (a control byte, `"` or `\`): the usual
/// "has a zero byte" bit trick, on `word` and on `word` with each special byte turned to zero.
/// It can only err towards yes (then the caller escapes byte by byte).
#[inline(always)]
fn special8(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = word.wrapping_sub(ONES * 0x20);
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (control | quote | backslash) & !word & HIGH != 0
}

/// Bit `i` set when byte `i` of the 16 at `src` is a control byte, `"` or `\`.
///
/// # Safety
/// 16 bytes are readable at `src`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn special16(src: *const u8) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86_64; the caller vouches for the 16 bytes.
    unsafe {
        let v = _mm_loadu_si128(src.cast());
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn special16(src: *const u8) -> u32 {
    let mut mask = 0;
    for i in 0..16 {
        // SAFETY: the caller vouches for the 16 bytes.
        if ESCAPES[usize::from(unsafe { *src.add(i) })] != 0 {
            mask |= 1 << i;
        }
    }
    mask
}

/// Copies the longest prefix of `bytes` that needs no escape to `dst` and returns its length
/// (`bytes.len()` when all of it is clean). Short texts are checked with two overlapping loads
/// and copied with two overlapping stores; anything special in them reports a clean prefix of
/// 0, and the escaping path takes the whole text.
///
/// # Safety
/// `bytes.len()` bytes are writable at `dst`.
#[inline(always)]
unsafe fn copy_clean(bytes: &[u8], dst: *mut u8) -> usize {
    let n = bytes.len();
    let src = bytes.as_ptr();
    // SAFETY: every load is within `bytes` and every store within `dst[..n]`.
    unsafe {
        if n <= 16 {
            if n >= 8 {
                let (a, b) = (src.cast::<u64>().read_unaligned(), src.add(n - 8).cast::<u64>().read_unaligned());
                if special8(a) || special8(b) {
                    return 0;
                }
                dst.cast::<u64>().write_unaligned(a);
                dst.add(n - 8).cast::<u64>().write_unaligned(b);
            } else if n >= 4 {
                let (a, b) = (src.cast::<u32>().read_unaligned(), src.add(n - 4).cast::<u32>().read_unaligned());
                if special8(u64::from(a) | u64::from(b) << 32) {
                    return 0;
                }
                dst.cast::<u32>().write_unaligned(a);
                dst.add(n - 4).cast::<u32>().write_unaligned(b);
            } else if n > 0 {
                let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
                if ESCAPES[usize::from(a)] | ESCAPES[usize::from(b)] | ESCAPES[usize::from(c)] != 0 {
                    return 0;
                }
                *dst = a;
                *dst.add(n / 2) = b;
                *dst.add(n - 1) = c;
            }
            return n;
        }
        let mut i = 0;
        while i + 16 <= n {
            let mask = special16(src.add(i));
            std::ptr::copy_nonoverlapping(src.add(i), dst.add(i), 16);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
        if i < n {
            // The last 16 bytes, overlapping what was checked: only its new bytes count.
            let mask = special16(src.add(n - 16)) >> (16 - (n - i));
            std::ptr::copy_nonoverlapping(src.add(n - 16), dst.add(n - 16), 16);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
        }
        n
    }
}

/// Each byte's escape, as the bytes to write (in a word, written whole) and their number.
static ESCAPE_SEQUENCES: [(u64, u8); 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [(0u64, 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let esc = ESCAPES[i];
        let bytes: [u8; 8] = if esc == 0 {
            [i as u8, 0, 0, 0, 0, 0, 0, 0]
        } else if esc == b'u' {
            [b'\\', b'u', b'0', b'0', HEX[i >> 4], HEX[i & 15], 0, 0]
        } else {
            [b'\\', esc, 0, 0, 0, 0, 0, 0]
        };
        let len = if esc == 0 { 1 } else if esc == b'u' { 6 } else { 2 };
        table[i] = (u64::from_le_bytes(bytes), len);
        i += 1;
    }
    table
};

/// One step over the text at `src`, of which `avail` bytes remain (16 are readable): copies
/// the clean bytes of the next 16 and, if one of them needs an escape, that escape; returns the
/// bytes consumed and written.
///
/// # Safety
/// 16 bytes are readable at `src`; 24 are writable at `dst`.
#[inline(always)]
unsafe fn escape_step(src: *const u8, avail: usize, dst: *mut u8) -> (usize, usize) {
    // SAFETY: as the caller vouches; an escape is at most 8 bytes written at `dst + clean`,
    // `clean` < 16.
    unsafe {
        let mut mask = special16(src);
        if avail < 16 {
            mask &= (1 << avail) - 1;
        }
        std::ptr::copy_nonoverlapping(src, dst, 16);
        if mask == 0 {
            let n = avail.min(16);
            return (n, n);
        }
        let clean = mask.trailing_zeros() as usize;
        let (sequence, len) = ESCAPE_SEQUENCES[usize::from(*src.add(clean))];
        dst.add(clean).cast::<u64>().write_unaligned(sequence.to_le());
        (clean + 1, clean + usize::from(len))
    }
}

/// UTF-8 text without its quotes: bytes other than `"`, `\` and controls are copied as they
/// are, 16 at a time; the last few go through a padded copy, so every step is a whole block.
fn write_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    for chunk in bytes.chunks(CHUNK) {
        out.reserve(chunk.len() * 6 + 32);
        let n = chunk.len();
        let src = chunk.as_ptr();
        // SAFETY: `out` has room for 6 output bytes per input byte plus 32 past its length;
        // each step writes at most 6 bytes per byte it consumes within its length, and its
        // whole-block stores reach at most 24 bytes ahead (left past the length, or
        // overwritten). Steps read 16 bytes from the text while 16 remain, then from `pad`.
        unsafe {
            let base = out.as_mut_ptr().add(out.len());
            let mut dst = base;
            let mut i = 0;
            while n - i >= 16 {
                let (read, written) = escape_step(src.add(i), 16, dst);
                i += read;
                dst = dst.add(written);
            }
            if i < n {
                let rest = n - i;
                let mut pad = [b' '; 32];
                std::ptr::copy_nonoverlapping(src.add(i), pad.as_mut_ptr(), rest);
                let mut j = 0;
                while j < rest {
                    let (read, written) = escape_step(pad.as_ptr().add(j), rest - j, dst);
                    j += read;
                    dst = dst.add(written);
                }
            }
            out.set_len(out.len() + dst.offset_from(base) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_str;

    fn expected(text: &str) -> String {
        let mut want = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => want.push_str("\\\""),
                '\\' => want.push_str("\\\\"),
                '\n' => want.push_str("\\n"),
                '\r' => want.push_str("\\r"),
                '\t' => want.push_str("\\t"),
                '\u{8}' => want.push_str("\\b"),
                '\u{c}' => want.push_str("\\f"),
                c if (c as u32) < 0x20 => want.push_str(&format!("\\u{:04x}", c as u32)),
                c => want.push(c),
            }
        }
        want.push('"');
        want
    }

    #[test]
    fn escapes_like_json() {
        let mut out = Vec::new();
        write_str("a\"b\\c\nd\u{1}é\u{8}\u{c}\u{1f}\u{7f}", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é\\b\\f\\u001f\u{7f}\"");
    }

    #[test]
    fn every_length_and_position() {
        for n in 0..70 {
            for special in [None, Some('"'), Some('\n'), Some('\u{1}'), Some('\\'), Some('é')] {
                for at in 0..n.max(1) {
                    let mut text: String = "abcdefghijklmnopqrstuvwxyz0123456789".chars().cycle().take(n).collect();
                    if let (Some(c), true) = (special, at < n) {
                        text.replace_range(at..=at, &c.to_string());
                    }
                    let mut out = b"x".to_vec();
                    write_str(&text, &mut out);
                    assert_eq!(String::from_utf8(out).unwrap(), format!("x{}", expected(&text)), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn long_text_in_chunks() {
        let text = "0123456789abcdef\"0123456789abcdef\n".repeat(200) + "tail\t" + &"é".repeat(3000);
        let mut out = Vec::new();
        write_str(&text, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), expected(&text));
    }
}
