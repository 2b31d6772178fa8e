//! JSON numbers as Python spells them: ints in decimal, floats as `repr(float)` (the shortest
//! digits that read back as the same float, in Python's layout), non-finite floats refused as
//! `json.dumps(allow_nan=False)` refuses them.

use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

/// Writes `v` in decimal.
#[inline]
pub(super) fn write_i64(v: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes `v` as `repr(v)`, or refuses it when it is not finite.
#[inline]
pub(super) fn write_float(v: f64, out: &mut Vec<u8>) -> Result<(), PyErr> {
    if !v.is_finite() {
        return Err(not_finite(v));
    }
    write_float_repr(zmij::Buffer::new().format_finite(v).as_bytes(), out);
    Ok(())
}

#[cold]
pub(super) fn not_finite(v: f64) -> PyErr {
    PyValueError::new_err(format!("Out of range float values are not JSON compliant: {v}"))
}

/// zmij's shortest digits laid out as Python's `repr(float)`. Both write a value whose decimal
/// exponent is in -5..=15 in positional notation with at least one fractional digit
/// (`1000000000000000.0`, `0.001`), the rest as `d.ddde±X`. Python's exponent has at least two
/// digits (`1e-07`, zmij `1e-7`), and Python writes exponent -5 in scientific notation too
/// (`1.5e-05`, zmij `0.000015`).
#[inline]
fn write_float_repr(text: &[u8], out: &mut Vec<u8>) {
    let n = text.len();
    // An exponent is `e±X`, `e±XX` or `e±XXX`: one digit shows as `e` three bytes from the end.
    if n >= 3 && text[n - 3] == b'e' {
        out.extend_from_slice(&text[..n - 1]);
        out.push(b'0');
        out.push(text[n - 1]);
        return;
    }
    let (sign, body) = match text.split_first() {
        Some((b'-', rest)) => (&text[..1], rest),
        _ => (&text[..0], text),
    };
    if let Some(digits) = body.strip_prefix(b"0.0000") {
        // 0.0000ddd (exponent -5; smaller values are already scientific)
        out.extend_from_slice(sign);
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(b"e-05");
        return;
    }
    out.extend_from_slice(text);
}

#[cfg(test)]
mod tests {
    use super::write_float;

    #[test]
    fn floats_like_python_repr() {
        for (v, want) in [
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (1.5e-5, "1.5e-05"),
            (-1e-5, "-1e-05"),
            (1e-4, "0.0001"),
            (1.2345e-4, "0.00012345"),
            (f64::MAX, "1.7976931348623157e+308"),
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
        ] {
            let mut out = Vec::new();
            write_float(v, &mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v}");
        }
        assert!(write_float(f64::NAN, &mut Vec::new()).is_err());
    }
}
