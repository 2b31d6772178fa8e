//! Python values to JSON bytes, written straight into the response buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are handled here without
//! calling back into Python. Anything else goes through a Python fallback (pydantic models,
//! dataclasses, datetimes, enums...) that must return something JSON-able; an object nobody can
//! serialise becomes a `TypeError` naming its type, which the caller turns into a 500.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::critical_section::with_critical_section;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deep enough for any sane payload, shallow enough to stay clear of the thread's stack limit.
const MAX_DEPTH: usize = 255;

pub struct Encoder<'a, 'py> {
    fallback: Option<&'a Bound<'py, PyAny>>,
}

impl<'a, 'py> Encoder<'a, 'py> {
    pub fn new(fallback: Option<&'a Bound<'py, PyAny>>) -> Self {
        Self { fallback }
    }

    pub fn encode(&self, obj: &Bound<'py, PyAny>) -> PyResult<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        self.write(obj, &mut out, 0)?;
        Ok(out)
    }

    /// `obj` may be borrowed from its container (no reference of its own): scalars are written
    /// as they are; a container or an unknown object is first owned, since encoding it may run
    /// code (or wait on a lock) while the parent container's lock is suspended.
    fn write(&self, obj: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        if depth > MAX_DEPTH {
            return Err(PyValueError::new_err("JSON nesting is deeper than 255 levels"));
        }
        if obj.is_none() {
            out.extend_from_slice(b"null");
        } else if let Ok(s) = obj.cast_exact::<PyString>() {
            write_str(s.to_str()?, out);
        } else if let Ok(b) = obj.cast_exact::<PyBool>() {
            out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        } else if obj.is_exact_instance_of::<PyInt>() {
            write_int(obj, out)?;
        } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
            write_float(f.value(), out)?;
        } else if let Ok(d) = obj.cast_exact::<PyDict>() {
            self.write_dict(&d.clone(), out, depth)?;
        } else if let Ok(l) = obj.cast_exact::<PyList>() {
            self.write_list(&l.clone(), out, depth)?;
        } else if let Ok(t) = obj.cast_exact::<PyTuple>() {
            self.write_tuple(&t.clone(), out, depth)?;
        } else {
            self.write_other(&obj.clone(), out, depth)?;
        }
        Ok(())
    }

    /// Iterates with borrowed keys and values under the dict's lock (3.13t; the GIL elsewhere):
    /// no reference-count traffic per item, which matters for objects owned by another thread.
    fn write_dict(&self, d: &Bound<'py, PyDict>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
        let py = d.py();
        out.push(b'{');
        with_critical_section(d.as_any(), || -> PyResult<()> {
            let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
            let mut first = true;
            // SAFETY: attached and holding the dict's lock; PyDict_Next hands out borrowed
            // references that stay valid while the dict is not mutated, and `write` owns
            // anything it recurses into before code can run.
            while unsafe { ffi::PyDict_Next(d.as_ptr(), &raw mut pos, &raw mut key, &raw mut value) } != 0 {
                if !first {
                    out.push(b',');
                }
                first = false;
                let k = unsafe { Borrowed::from_ptr(py, key) };
                write_key(&k, out)?;
                out.push(b':');
                let v = unsafe { Borrowed::from_ptr(py, value) };
                self.write(&v, out, depth + 1)?;
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
            // turn and items are borrowed, as in `write_dict`.
            while i < unsafe { ffi::PyList_GET_SIZE(l.as_ptr()) } {
                if i > 0 {
                    out.push(b',');
                }
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
fn encode_json<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let fallback = crate::response::jsonable_fallback(obj.py());
    let body = Encoder::new(fallback.as_ref()).encode(obj)?;
    Ok(PyBytes::new(obj.py(), &body))
}

pub fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_json, m)?)
}

pub fn not_serialisable(obj: &Bound<'_, PyAny>) -> PyErr {
    let name = obj.get_type().qualname().map_or_else(|_| "<unknown>".to_owned(), |n| n.to_string());
    PyTypeError::new_err(format!("Object of type {name} is not JSON serializable"))
}

/// Keys follow `json.dumps`: str as is; int, float, bool and None become strings.
fn write_key(k: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Ok(s) = k.cast::<PyString>() {
        write_str(s.to_str()?, out);
    } else if let Ok(b) = k.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"\"true\"" } else { b"\"false\"" });
    } else if k.is_none() {
        out.extend_from_slice(b"\"null\"");
    } else if k.is_instance_of::<PyInt>() || k.is_instance_of::<PyFloat>() {
        let s = k.str()?;
        write_str(s.to_str()?, out);
    } else {
        let name = k.get_type().qualname()?;
        return Err(PyTypeError::new_err(format!("keys must be str, int, float, bool or None, not {name}")));
    }
    Ok(())
}

fn write_int(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Ok(v) = obj.extract::<i64>() {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    } else {
        // Beyond 64 bits: Python's own decimal rendering is exact.
        out.extend_from_slice(obj.str()?.to_str()?.as_bytes());
    }
    Ok(())
}

fn write_float(v: f64, out: &mut Vec<u8>) -> PyResult<()> {
    if !v.is_finite() {
        return Err(PyValueError::new_err(format!("Out of range float values are not JSON compliant: {v}")));
    }
    out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    Ok(())
}

pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::write_str;

    #[test]
    fn escapes_like_json() {
        let mut out = Vec::new();
        write_str("a\"b\\c\nd\u{1}é", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}
