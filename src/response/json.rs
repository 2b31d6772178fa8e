//! Python values to JSON bytes, written straight into the response buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are handled here without
//! calling back into Python. Anything else goes through a Python fallback (pydantic models,
//! dataclasses, datetimes, enums...) that must return something JSON-able; an object nobody can
//! serialise becomes a `TypeError` naming its type, which the caller turns into a 500.

use std::cell::Cell;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::critical_section::with_critical_section;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deep enough for any sane payload, shallow enough to stay clear of the thread's stack limit.
const MAX_DEPTH: usize = 255;

/// The largest first guess at a document's size: below glibc's mmap threshold, so a guess costs
/// an ordinary allocation.
const MAX_GUESS: usize = 64 * 1024;

thread_local! {
    /// A little over the size of the last document this thread encoded: the next one's buffer
    /// starts there, so a route that answers alike every time grows no buffer while encoding.
    static LAST_SIZE: Cell<usize> = const { Cell::new(64) };
}

pub(crate) struct Encoder<'a, 'py> {
    fallback: Option<&'a Bound<'py, PyAny>>,
}

impl<'a, 'py> Encoder<'a, 'py> {
    pub(crate) fn new(fallback: Option<&'a Bound<'py, PyAny>>) -> Self {
        Self { fallback }
    }

    pub(crate) fn encode(&self, obj: &Bound<'py, PyAny>) -> PyResult<Vec<u8>> {
        let mut out = Vec::with_capacity(LAST_SIZE.with(Cell::get));
        self.write(obj, &mut out, 0)?;
        LAST_SIZE.with(|last| last.set((out.len() + out.len() / 8).clamp(64, MAX_GUESS)));
        Ok(out)
    }

    /// `obj` may be borrowed from its container (no reference of its own). Only what can be
    /// written without running code, allocating Python objects or taking a lock is written in
    /// place: None, bools, compact ASCII strs, ints that fit in 64 bits and floats. Anything else
    /// is owned first, since encoding it may run code (or wait on a lock, which suspends the
    /// parent container's lock on 3.13t) that frees it.
    fn write(&self, obj: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyValueError::new_err("JSON nesting is deeper than 255 levels"));
        }
        let p = obj.as_ptr();
        // One read of the type, compared with the exact builtins (subclasses take `write_other`).
        // SAFETY: `p` is a live object; each cast below follows an exact type match.
        let ty = unsafe { ffi::Py_TYPE(p) };
        unsafe {
            if ty == &raw mut ffi::PyUnicode_Type {
                write_py_str(obj.cast_unchecked::<PyString>(), out)?;
            } else if ty == &raw mut ffi::PyLong_Type {
                write_int(obj, out)?;
            } else if ty == &raw mut ffi::PyFloat_Type {
                write_float(ffi::PyFloat_AS_DOUBLE(p), out)?;
            } else if ty == &raw mut ffi::PyDict_Type {
                self.write_dict(&obj.cast_unchecked::<PyDict>().clone(), out, depth)?;
            } else if ty == &raw mut ffi::PyList_Type {
                self.write_list(&obj.cast_unchecked::<PyList>().clone(), out, depth)?;
            } else if obj.is_none() {
                out.extend_from_slice(b"null");
            } else if ty == &raw mut ffi::PyBool_Type {
                out.extend_from_slice(if p == ffi::Py_True() { b"true" } else { b"false" });
            } else if ty == &raw mut ffi::PyTuple_Type {
                self.write_tuple(&obj.cast_unchecked::<PyTuple>().clone(), out, depth)?;
            } else {
                self.write_other(&obj.clone(), out, depth)?;
            }
        }
        Ok(())
    }

    /// Iterates under the dict's lock (3.13t; the GIL elsewhere). A compact ASCII str key is
    /// written in place and its value handed to `write` still borrowed: no reference-count
    /// traffic per item, which matters for objects owned by another thread. Any other key is
    /// owned, and its value with it, before the key is written: that may run code (rendering a
    /// big int runs signal handlers) or wait on a lock (filling a non-ASCII str's UTF-8 cache),
    /// and either lets the dict be mutated and the pair freed. After a mutation `pos` may be
    /// stale; PyDict_Next checks it against the current table, so the walk stops or goes on,
    /// never reading freed memory.
    fn write_dict(&self, d: &Bound<'py, PyDict>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        let py = d.py();
        out.push(b'{');
        with_critical_section(d.as_any(), || -> PyResult<()> {
            let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
            let mut first = true;
            // SAFETY: attached and holding the dict's lock; `pos`, `key` and `value` are valid
            // out-pointers.
            while unsafe { ffi::PyDict_Next(d.as_ptr(), &raw mut pos, &raw mut key, &raw mut value) } != 0 {
                if !first {
                    out.push(b',');
                }
                first = false;
                // SAFETY: PyDict_Next returned 1, so both are non-null references borrowed from
                // the dict, which nothing has been able to mutate since (its lock is held and no
                // code has run).
                let (k, v) = unsafe { (Borrowed::from_ptr(py, key), Borrowed::from_ptr(py, value)) };
                let str_key = k.cast_exact::<PyString>().ok();
                if let Some(text) = str_key.as_deref().and_then(ascii_in_place) {
                    write_str(text, out);
                    out.push(b':');
                    self.write(&v, out, depth + 1)?;
                } else {
                    let (k, v) = (k.to_owned(), v.to_owned());
                    write_key(&k, out)?;
                    out.push(b':');
                    self.write(&v, out, depth + 1)?;
                }
            }
            Ok(())
        })?;
        out.push(b'}');
        Ok(())
    }

    fn write_list(&self, l: &Bound<'py, PyList>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        let py = l.py();
        out.push(b'[');
        with_critical_section(l.as_any(), || -> PyResult<()> {
            let mut i = 0;
            // SAFETY: attached and holding the list's lock; the length is read again on every
            // turn, since writing an item may run code that shrinks the list.
            while i < unsafe { ffi::PyList_GET_SIZE(l.as_ptr()) } {
                if i > 0 {
                    out.push(b',');
                }
                // SAFETY: `i` is below the length just read, under the lock, with no code run
                // since: the slot holds a live item, borrowed from the list; `write` owns it
                // before anything can run, as in `write_dict`.
                let item = unsafe { Borrowed::from_ptr(py, ffi::PyList_GET_ITEM(l.as_ptr(), i)) };
                self.write(&item, out, depth + 1)?;
                i += 1;
            }
            Ok(())
        })?;
        out.push(b']');
        Ok(())
    }

    fn write_tuple(&self, t: &Bound<'py, PyTuple>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        out.push(b'[');
        // A tuple is immutable and we own it, so its items live at least as long.
        for (i, item) in t.iter_borrowed().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write(&item, out, depth + 1)?;
        }
        out.push(b']');
        Ok(())
    }

    /// Subclasses of the builtins keep their builtin meaning (except int subclasses such as
    /// IntEnum, which the fallback renders by value); everything else asks the fallback.
    fn write_other(&self, obj: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        if let Ok(d) = obj.cast::<PyDict>() {
            return self.write_dict(d, out, depth);
        }
        if let Ok(l) = obj.cast::<PyList>() {
            return self.write_list(l, out, depth);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return write_float(f.value(), out);
        }
        let converted = match self.fallback {
            Some(fallback) => fallback.call1((obj,))?,
            None => return Err(not_serialisable(obj)),
        };
        if converted.get_type().is(obj.get_type()) {
            return Err(not_serialisable(obj));
        }
        self.write(&converted, out, depth + 1)
    }
}

/// `encode_json(obj) -> bytes`: the encoder `JSONResponse` uses, with the same fallback.
#[pyfunction]
pub(crate) fn encode_json<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let fallback = crate::response::hooks::jsonable_fallback(obj.py());
    let body = Encoder::new(fallback.as_ref()).encode(obj)?;
    Ok(PyBytes::new(obj.py(), &body))
}

fn not_serialisable(obj: &Bound<'_, PyAny>) -> PyErr {
    let name = obj.get_type().qualname().map_or_else(|_| "<unknown>".to_owned(), |n| n.to_string());
    PyTypeError::new_err(format!("Object of type {name} is not JSON serializable"))
}

/// Keys follow `json.dumps`: str as is; bool and None as JSON spells them; int and float
/// subclasses by value (`int.__repr__`, `float.__repr__`), never through their own `__str__`.
/// A non-finite float key is refused like a non-finite value.
fn write_key(k: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Ok(s) = k.cast::<PyString>() {
        write_str(s.to_str()?, out);
    } else if let Ok(b) = k.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"\"true\"" } else { b"\"false\"" });
    } else if k.is_none() {
        out.extend_from_slice(b"\"null\"");
    } else if k.is_instance_of::<PyInt>() {
        out.push(b'"');
        write_int(k, out)?;
        out.push(b'"');
    } else if let Ok(f) = k.cast::<PyFloat>() {
        let exact = PyFloat::new(k.py(), finite(f.value())?);
        write_str(exact.repr()?.to_str()?, out);
    } else {
        let name = k.get_type().qualname()?;
        return Err(PyTypeError::new_err(format!("keys must be str, int, float, bool or None, not {name}")));
    }
    Ok(())
}

/// A compact ASCII str is its own UTF-8, stored right after its header: reading it takes no
/// lock, allocates nothing and cannot fail, so it can be read while only borrowed.
#[cfg(not(Py_3_14))]
fn ascii_in_place<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    let p = s.as_ptr();
    // SAFETY: `p` is a live str for at least 'a, and its compact and ascii bits never change
    // after creation. When both are set, its `length` characters are that many ASCII bytes
    // (valid UTF-8) inline in the object, unchanged for as long as it lives.
    unsafe {
        if ffi::PyUnicode_IS_COMPACT_ASCII(p) == 0 {
            return None;
        }
        let bytes = std::slice::from_raw_parts(ffi::PyUnicode_1BYTE_DATA(p), ffi::PyUnicode_GET_LENGTH(p) as usize);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

/// PyO3 does not expose the str layout of 3.14: every str takes the owned path.
#[cfg(Py_3_14)]
fn ascii_in_place<'a>(_: &'a Bound<'_, PyString>) -> Option<&'a str> {
    None
}

/// `s` may be borrowed: see `ascii_in_place`. Any other str is owned before its UTF-8 is made,
/// which may take the str's lock (3.13t) or raise (lone surrogates).
fn write_py_str(s: &Bound<'_, PyString>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Some(text) = ascii_in_place(s) {
        write_str(text, out);
    } else {
        let owned = s.clone();
        write_str(owned.to_str()?, out);
    }
    Ok(())
}

/// `obj` is an int or int subclass, possibly borrowed: its value is read without running code
/// (no `__index__`, no exception, so no collection either); past 64 bits it is owned, then
/// rendered by `int.__repr__`, which can run signal handlers (and `_pylong` on 3.12+).
fn write_int(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let mut overflow = 0;
    // SAFETY: attached, and `obj` is a live int (or int subclass), for which this only reads its
    // digits: it cannot fail, and reports a value beyond 64 bits through `overflow`, not an
    // exception.
    let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &raw mut overflow) };
    if overflow == 0 {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    } else {
        let obj = obj.clone();
        let text = obj.py().get_type::<PyInt>().call_method1(intern!(obj.py(), "__repr__"), (&obj,))?;
        out.extend_from_slice(text.cast::<PyString>()?.to_str()?.as_bytes());
    }
    Ok(())
}

fn write_float(v: f64, out: &mut Vec<u8>) -> PyResult<()> {
    write_float_repr(ryu::Buffer::new().format_finite(finite(v)?), out);
    Ok(())
}

/// ryu's shortest digits, laid out as Python's `repr(float)` (what `json.dumps` writes): an
/// exponent has a sign and at least two digits (`1e+20`, `1e-07`), and values below 1e-4 use
/// one (`1e-05`, where ryu writes `0.00001`).
fn write_float_repr(text: &str, out: &mut Vec<u8>) {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    if let Some((mantissa, exp)) = body.split_once('e') {
        let (exp_sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(mantissa.as_bytes());
        out.push(b'e');
        out.push(exp_sign as u8);
        if digits.len() < 2 {
            out.push(b'0');
        }
        out.extend_from_slice(digits.as_bytes());
    } else if let Some(fraction) = body.strip_prefix("0.0000") {
        // 0.0000ddd: below 1e-4, scientific in Python
        let zeros = 4 + fraction.bytes().take_while(|&b| b == b'0').count();
        let digits = &body[2 + zeros..];
        out.extend_from_slice(sign.as_bytes());
        out.push(digits.as_bytes()[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        let exp = zeros + 1;
        out.extend_from_slice(format!("e-{exp:02}").as_bytes());
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

fn finite(v: f64) -> PyResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!("Out of range float values are not JSON compliant: {v}")))
    }
}

/// For each byte, what follows the backslash that escapes it (`u`: `\u00XX`), or 0 when it is
/// written as is: `json.dumps`'s escapes (`\b` and `\f` included) and nothing else, since
/// FastAPI's JSON is not ASCII-only.
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

/// Whether any of the 8 bytes of `word` needs escaping (a control byte, `"` or `\`): the usual
/// "has a zero byte" bit trick, on `word` and on `word` with each special byte turned to zero.
/// It can only err towards yes, and then the bytes are looked at one by one.
#[inline]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES) & !(word ^ (ONES * u64::from(b'"')));
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES) & !(word ^ (ONES * u64::from(b'\\')));
    (control | quote | backslash) & HIGH != 0
}

pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let (mut start, mut i) = (0, 0);
    // Eight bytes at a time past text that needs no escape (most of it), one by one otherwise.
    while let Some(chunk) = bytes.get(i..i + 8) {
        if needs_escape(u64::from_le_bytes(chunk.try_into().expect("8 bytes"))) {
            for at in i..i + 8 {
                escape_at(bytes, at, &mut start, out);
            }
        }
        i += 8;
    }
    for at in i..bytes.len() {
        escape_at(bytes, at, &mut start, out);
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes the pending text before `at` and the escape of the byte at `at`, if it needs one.
#[inline]
fn escape_at(bytes: &[u8], at: usize, start: &mut usize, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = bytes[at];
    let esc = ESCAPES[usize::from(b)];
    if esc == 0 {
        return;
    }
    out.extend_from_slice(&bytes[*start..at]);
    if esc == b'u' {
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
    } else {
        out.extend_from_slice(&[b'\\', esc]);
    }
    *start = at + 1;
}

#[cfg(test)]
mod tests {
    use super::{write_float_repr, write_str};

    #[test]
    fn floats_like_python_repr() {
        for (v, want) in [
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (1.5e-5, "1.5e-05"),
            (-1e-5, "-1e-05"),
            (1e-4, "0.0001"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1, "0.1"),
            (-2.5e16, "-2.5e+16"),
            (1e15, "1000000000000000.0"),
        ] {
            let mut out = Vec::new();
            write_float_repr(ryu::Buffer::new().format_finite(v), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v}");
        }
    }

    #[test]
    fn escapes_like_json() {
        let mut out = Vec::new();
        write_str("a\"b\\c\nd\u{1}é\u{8}\u{c}\u{1f}\u{7f}", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é\\b\\f\\u001f\u{7f}\"");
    }
}
