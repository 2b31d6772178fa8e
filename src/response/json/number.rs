//! JSON numbers as Python spells them: ints in decimal, floats as `repr(float)` (the shortest
//! digits that read back as the same float, in Python's layout), non-finite floats refused as
//! `json.dumps(allow_nan=False)` refuses them. Both are written straight into spare capacity
//! the caller has reserved (at most 24 bytes).

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyValueError;
use pyo3::{ffi, PyErr};

/// Set once at start-up when ints are stored in 30-bit digits (`sys.int_info.bits_per_digit`,
/// the default wherever a C long has 64 bits): `compact_int` reads them only then.
static DIGITS_30: AtomicBool = AtomicBool::new(false);

/// Records the interpreter's int layout (see `DIGITS_30`).
pub(super) fn init(bits_per_digit: u32) {
    DIGITS_30.store(bits_per_digit == 30, Ordering::Relaxed);
}

/// The head of an int object: its size (3.11: signed digit count) or tag (3.12+: digit count,
/// then sign in the low bits), and its first digit.
#[repr(C)]
struct LongHead {
    ob_base: ffi::PyObject,
    size_or_tag: isize,
    digit0: u32,
}

/// The value of `p`, an exact int, when it has at most one 30-bit digit (every int below 2**30
/// in magnitude, so nearly all): read from the object as CPython's own `_PyLong_CompactValue`
/// does. `None`: ask `PyLong_AsLongLongAndOverflow`.
///
/// # Safety
/// `p` is a live exact int. An int never changes after creation.
#[inline(always)]
pub(super) unsafe fn compact_int(p: *mut ffi::PyObject) -> Option<i64> {
    if !DIGITS_30.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `p` is an int, whose head is `LongHead`'s layout; a digit is read only when the
    // size or tag says there is one.
    unsafe {
        let head = p.cast::<LongHead>();
        let size_or_tag = (*head).size_or_tag;
        #[cfg(not(Py_3_12))]
        let sign = match size_or_tag {
            -1..=1 => size_or_tag as i64,
            _ => return None,
        };
        #[cfg(Py_3_12)]
        let sign = {
            // lv_tag: digit count << 3 | sign (0 positive, 1 zero, 2 negative)
            if size_or_tag as usize >= 2 << 3 {
                return None;
            }
            1 - (size_or_tag & 3) as i64
        };
        if sign == 0 {
            return Some(0);
        }
        Some(sign * i64::from((*head).digit0))
    }
}

/// Two decimal digits for each value below 100.
static PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

/// Writes `v` in decimal.
///
/// # Safety
/// `out` has 20 bytes to spare.
#[inline(always)]
pub(super) unsafe fn put_i64(v: i64, out: &mut Vec<u8>) {
    // SAFETY: at most 20 bytes (`-9223372036854775808`) within the spare capacity.
    unsafe {
        let len = out.len();
        let mut dst = out.as_mut_ptr().add(len);
        if v < 0 {
            *dst = b'-';
            dst = dst.add(1);
        }
        let digits = put_u64(v.unsigned_abs(), dst);
        out.set_len(len + usize::from(v < 0) + digits);
    }
}

/// `n` in decimal at `dst`; returns its length.
///
/// # Safety
/// 20 bytes are writable at `dst`.
#[inline(always)]
unsafe fn put_u64(n: u64, dst: *mut u8) -> usize {
    // SAFETY: at most 20 bytes at `dst`.
    unsafe {
        // Most ints are small: up to four digits without a digit count or a loop.
        if n < 10 {
            *dst = b'0' + n as u8;
            1
        } else if n < 100 {
            dst.cast::<[u8; 2]>().write_unaligned(PAIRS[n as usize]);
            2
        } else if n < 10_000 {
            let (high, low) = ((n / 100) as usize, (n % 100) as usize);
            if high < 10 {
                *dst = b'0' + high as u8;
                dst.add(1).cast::<[u8; 2]>().write_unaligned(PAIRS[low]);
                3
            } else {
                dst.cast::<[u8; 2]>().write_unaligned(PAIRS[high]);
                dst.add(2).cast::<[u8; 2]>().write_unaligned(PAIRS[low]);
                4
            }
        } else {
            put_long(n, dst)
        }
    }
}

/// `n` (at least 10,000) in decimal at `dst`; returns its length.
///
/// # Safety
/// 20 bytes are writable at `dst`.
#[inline(never)]
unsafe fn put_long(mut n: u64, dst: *mut u8) -> usize {
    let digits = n.ilog10() as usize + 1;
    // SAFETY: `digits` <= 20 bytes at `dst`.
    unsafe {
        let mut end = dst.add(digits);
        while n >= 100 {
            end = end.sub(2);
            end.cast::<[u8; 2]>().write_unaligned(PAIRS[(n % 100) as usize]);
            n /= 100;
        }
        if n >= 10 {
            end.sub(2).cast::<[u8; 2]>().write_unaligned(PAIRS[n as usize]);
        } else {
            *end.sub(1) = b'0' + n as u8;
        }
    }
    digits
}

/// Writes `v` as `repr(v)`, or refuses it when it is not finite.
///
/// # Safety
/// `out` has 24 bytes to spare (the longest repr, `-1.7976931348623157e+308`).
#[inline(always)]
pub(super) unsafe fn put_float(v: f64, out: &mut Vec<u8>) -> Result<(), PyErr> {
    if !v.is_finite() {
        return Err(not_finite(v));
    }
    // SAFETY: as the caller vouches (at most 16 bytes).
    if unsafe { put_short_float(v, out) } {
        return Ok(());
    }
    // SAFETY: as the caller vouches.
    unsafe { put_shortest(v, out) };
    Ok(())
}

/// Writes finite `v` as `repr(v)` with zmij's shortest digits. Not inlined: the encoder's loops
/// stay small, and zmij's own code is a call anyway.
///
/// # Safety
/// `out` has 24 bytes to spare.
#[inline(never)]
unsafe fn put_shortest(v: f64, out: &mut Vec<u8>) {
    // SAFETY: zmij's buffer is 24 bytes of `MaybeUninit<u8>` (asserted below), so the spare
    // capacity the caller vouches for is a valid one: zmij writes its digits straight into the
    // output, and `python_layout` adjusts them there.
    unsafe {
        let len = out.len();
        let at = out.as_mut_ptr().add(len);
        let n = (*at.cast::<zmij::Buffer>()).format_finite(v).len();
        let n = python_layout(at, n, v.abs() < 1e-4);
        out.set_len(len + n);
    }
}

// `put_float` lends zmij 24 bytes of the output as its buffer.
const _: () = assert!(std::mem::size_of::<zmij::Buffer>() == 24 && std::mem::align_of::<zmij::Buffer>() == 1);

/// Integral floats and floats with one decimal digit below 1e13 in magnitude (`3.0`, `19.5`,
/// `-0.0`: common in real documents), written without the shortest-digits search. Returns
/// false, having written nothing, for anything else.
///
/// Below 1e13 a float's neighbours are less than 0.002 away, so at most one one-decimal string
/// reads back as `v`, and none with fewer digits does unless `v` is integral (checked first): when `N / 10.0 == v` (a correctly rounded
/// division of exact values, so exactly what parsing `"N/10"` gives), `N/10` is the shortest
/// repr, and Python writes it positionally (it is at least 0.1).
///
/// # Safety
/// `out` has 16 bytes to spare.
#[inline(always)]
// Exact equality is the point (the digits must read back as `v`), and below 1e13 every integer
// converts to f64 exactly.
#[allow(clippy::float_cmp, clippy::cast_precision_loss)]
unsafe fn put_short_float(v: f64, out: &mut Vec<u8>) -> bool {
    let magnitude = v.abs();
    if magnitude >= 1e13 {
        return false;
    }
    // Conversions to and from integers (SSE2) rather than `trunc`/`round` (libm calls without
    // SSE4.1); below 1e13 every conversion is exact or truncates.
    // (signed: one instruction each way, unsigned is not).
    let whole = magnitude as i64;
    let (whole, tenth) = if whole as f64 == magnitude {
        (whole.unsigned_abs(), None)
    } else {
        let scaled = magnitude * 10.0;
        let tenths = scaled as i64;
        if tenths as f64 != scaled || tenths as f64 / 10.0 != magnitude {
            return false;
        }
        let tenths = tenths.unsigned_abs();
        (tenths / 10, Some(tenths % 10))
    };
    // SAFETY: a sign, at most 13 digits, a point and a digit: 16 bytes, as the caller vouches.
    unsafe {
        let len = out.len();
        let mut dst = out.as_mut_ptr().add(len);
        if v.is_sign_negative() {
            *dst = b'-';
            dst = dst.add(1);
        }
        let digits = put_u64(whole, dst);
        dst.add(digits).cast::<[u8; 2]>().write_unaligned([b'.', b'0' + tenth.unwrap_or(0) as u8]);
        out.set_len(len + usize::from(v.is_sign_negative()) + digits + 2);
    }
    true
}

#[cold]
pub(super) fn not_finite(v: f64) -> PyErr {
    PyValueError::new_err(format!("Out of range float values are not JSON compliant: {v}"))
}

/// Lays out zmij's shortest digits, the `n` bytes at `text`, as Python's `repr(float)`, in
/// place; returns the new length. Both write a value whose decimal exponent is in -5..=15 in
/// positional notation with at least one fractional digit (`1000000000000000.0`, `0.001`), the
/// rest as `d.ddde±X`. Python's exponent has at least two digits (`1e-07`, zmij `1e-7`), and
/// Python writes exponent -5 in scientific notation too (`1.5e-05`, zmij `0.000015`).
///
/// The text is left where zmij wrote it, never copied: a wide load of bytes just stored
/// piecemeal cannot be forwarded from those stores and waits for them to reach the cache (with
/// zmij's own buffer and a copy out of it, that wait was a fifth of the time of a list of
/// floats, in perf). For the same reason `tiny` (below 1e-4 in magnitude: only then can zmij
/// have written `0.0000…`) comes from the value, and otherwise only single bytes are read.
///
/// # Safety
/// 24 bytes are writable at `text`, of which `n` hold zmij's output.
#[inline(always)]
unsafe fn python_layout(text: *mut u8, n: usize, tiny: bool) -> usize {
    // SAFETY: every read is within the `n` bytes, every write within 24 bytes of `text`.
    unsafe {
        // An exponent is `e±X`, `e±XX` or `e±XXX`: one digit shows as `e` three bytes from the
        // end.
        if n >= 3 && *text.add(n - 3) == b'e' {
            *text.add(n) = *text.add(n - 1);
            *text.add(n - 1) = b'0';
            return n + 1;
        }
        if tiny {
            let written = std::slice::from_raw_parts(text, n);
            let body = if written[0] == b'-' { &written[1..] } else { written };
            if body.starts_with(b"0.0000") {
                return slow_exponent_5(text, n);
            }
        }
        n
    }
}

/// `0.0000ddd` (exponent -5; smaller values are scientific already) as `d.ddde-05`, in place.
///
/// # Safety
/// As `python_layout`.
#[cold]
unsafe fn slow_exponent_5(dst: *mut u8, n: usize) -> usize {
    // SAFETY: the caller vouches for `n` bytes.
    let text = unsafe { std::slice::from_raw_parts(dst, n) }.to_vec();
    let mut out = Vec::with_capacity(24);
    let (sign, body) = if text[0] == b'-' { (&text[..1], &text[1..]) } else { (&text[..0], &text[..]) };
    let digits = &body[6..];
    out.extend_from_slice(sign);
    out.push(digits[0]);
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.extend_from_slice(b"e-05");
    // SAFETY: `out` is shorter than `text` + 3 bytes, well within 24 ("-0.0000" + 17 digits
    // becomes "-" + 17 digits + "." + "e-05").
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), dst, out.len()) };
    out.len()
}

#[cfg(test)]
mod tests {
    use super::{put_float, put_i64};

    #[test]
    fn floats_like_python_repr() {
        for (v, want) in [
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (1.5e-5, "1.5e-05"),
            (-1e-5, "-1e-05"),
            (-1.2345678901234567e-5, "-1.2345678901234568e-05"),
            (1e-4, "0.0001"),
            (1.2345e-4, "0.00012345"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-f64::MAX, "-1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (-2.5e16, "-2.5e+16"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456.789, "123456.789"),
            (1e100, "1e+100"),
            (-1.5e-9, "-1.5e-09"),
            (3.0, "3.0"),
            (-3.0, "-3.0"),
            (19.5, "19.5"),
            (-0.5, "-0.5"),
            (0.3, "0.3"),
            (9999999999999.9, "9999999999999.9"),
            (1e13, "10000000000000.0"),
            (0.30000000000000004, "0.30000000000000004"),
            (12345.67, "12345.67"),
            // Either side of 1e-4, where the layout switches (see `python_layout`'s `tiny`).
            (f64::from_bits(1e-4f64.to_bits() - 1), "9.999999999999999e-05"),
            (-f64::from_bits(1e-4f64.to_bits() - 1), "-9.999999999999999e-05"),
            (f64::from_bits(1e-4f64.to_bits() + 1), "0.00010000000000000002"),
            (9.9999e-5, "9.9999e-05"),
        ] {
            let mut out = Vec::with_capacity(24);
            unsafe { put_float(v, &mut out) }.unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v}");
        }
        assert!(unsafe { put_float(f64::NAN, &mut Vec::with_capacity(24)) }.is_err());
    }

    /// The one-decimal fast path against the full search, around and between its cases.
    #[test]
    fn short_floats_like_the_full_search() {
        let mut values = Vec::new();
        for tenths in (-200_000i64..200_000).chain((0..2000).map(|i| 99_999_999_999_000 + i)) {
            let v = tenths as f64 / 10.0;
            values.extend([v, f64::from_bits(v.to_bits() + 1), f64::from_bits(v.to_bits().saturating_sub(1))]);
        }
        for v in values {
            let mut fast = Vec::with_capacity(24);
            unsafe { put_float(v, &mut fast) }.unwrap();
            let mut want = [0u8; 24];
            let full = zmij::Buffer::new().format_finite(v).as_bytes().to_vec();
            want[..full.len()].copy_from_slice(&full);
            let n = unsafe { super::python_layout(want.as_mut_ptr(), full.len(), v.abs() < 1e-4) };
            let want = want[..n].to_vec();
            assert_eq!(fast, want, "{v:?}");
        }
    }

    #[test]
    fn ints_in_decimal() {
        for v in [0, 1, -1, 9, 10, 99, 100, -100, 999, 1000, -9999, 10000, 12345, 99999, 100000, i64::MAX, i64::MIN, 1 << 30, -(1 << 30) + 1] {
            let mut out = Vec::with_capacity(20);
            unsafe { put_i64(v, &mut out) };
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }
}
