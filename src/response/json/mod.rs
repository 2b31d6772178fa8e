//! Python values to JSON bytes, written straight into the response buffer.
//!
//! The common types (dict, list, tuple, str, int, float, bool, None) are handled here without
//! calling back into Python. Anything else goes through a Python fallback (pydantic models,
//! dataclasses, datetimes, enums...) that must return something JSON-able; an object nobody can
//! serialise becomes a `TypeError` naming its type, which the caller turns into a 500.
//!
//! - `text`: strs, their UTF-8 read in place and escaped into the buffer;
//! - `number`: ints and floats as Python spells them.
//!
//! The walk dispatches on the exact type pointer and works on raw object pointers; a failure is
//! kept in the encoder and the walk unwinds with a one-bit `Failed`.

// The walk's per-value steps are inlined into the container loops on purpose: measured with
// bench/json_encode.sh (NOTES.md, "JSON encoding").
#![allow(clippy::inline_always)]

mod number;
mod text;

use std::cell::{Cell, RefCell};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::critical_section::with_critical_section;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

pub(crate) use text::write_str;

/// Deep enough for any sane payload, shallow enough to stay clear of the thread's stack limit.
const MAX_DEPTH: usize = 255;

/// The largest first guess at a document's size: below glibc's mmap threshold, so a guess costs
/// an ordinary allocation.
const MAX_GUESS: usize = 64 * 1024;

/// Spare capacity `Encoder::write` may use without checking: enough for any number, `null`,
/// `true`, `false` or an opening bracket. Strs reserve what they need themselves.
const HEADROOM: usize = 32;

/// `encode_json` keeps its buffer between calls unless it grew past this.
const MAX_KEPT: usize = 1024 * 1024;

thread_local! {
    /// A little over the size of the last document this thread encoded: the next one's buffer
    /// starts there, so a route that answers alike every time grows no buffer while encoding.
    static LAST_SIZE: Cell<usize> = const { Cell::new(64) };
    /// `encode_json`'s buffer: its result is copied into a new `bytes`, so the buffer is reused.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The walk failed; the error is in `Encoder::error`.
struct Failed;

type Step = Result<(), Failed>;

pub(crate) struct Encoder<'a, 'py> {
    py: Python<'py>,
    fallback: Option<&'a Bound<'py, PyAny>>,
    error: Option<PyErr>,
}

impl<'a, 'py> Encoder<'a, 'py> {
    pub(crate) fn new(py: Python<'py>, fallback: Option<&'a Bound<'py, PyAny>>) -> Self {
        Self { py, fallback, error: None }
    }

    /// A new buffer, sized from the thread's last document.
    pub(crate) fn encode(self, obj: &Bound<'py, PyAny>) -> PyResult<Vec<u8>> {
        let mut out = Vec::with_capacity(LAST_SIZE.with(Cell::get));
        self.encode_into(obj, &mut out)?;
        LAST_SIZE.with(|last| last.set((out.len() + out.len() / 8).clamp(64, MAX_GUESS)));
        Ok(out)
    }

    fn encode_into(mut self, obj: &Bound<'py, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
        out.reserve(HEADROOM);
        // SAFETY: `obj` is a live reference held by the caller for the whole walk; `out` has
        // HEADROOM to spare.
        match unsafe { self.write(obj.as_ptr(), out, 0) } {
            Ok(()) => Ok(()),
            Err(Failed) => Err(self.error.take().expect("a failed walk keeps its error")),
        }
    }

    #[cold]
    fn fail(&mut self, err: PyErr) -> Failed {
        self.error = Some(err);
        Failed
    }

    fn check<T>(&mut self, result: PyResult<T>) -> Result<T, Failed> {
        result.map_err(|e| self.fail(e))
    }

    /// # Safety
    /// `out` has `HEADROOM` bytes to spare. `p` is a live object, possibly borrowed from its
    /// container (no reference of its own).
    /// Only what can be written without running code, allocating Python objects or taking a
    /// lock is written while borrowed: None, bools, strs whose UTF-8 is at hand, ints that fit
    /// in 64 bits and floats. Anything else is owned first, since encoding it may run
    /// code (or wait on a lock, which suspends the parent container's lock on 3.13t) that frees
    /// it.
    #[inline(always)]
    unsafe fn write(&mut self, p: *mut ffi::PyObject, out: &mut Vec<u8>, depth: usize) -> Step {
        // One read of the type, compared with the exact builtins (subclasses take `write_other`).
        // SAFETY: `p` is live; each branch follows an exact type match.
        unsafe {
            let ty = ffi::Py_TYPE(p);
            if ty == &raw mut ffi::PyUnicode_Type {
                self.write_str_object(p, out)
            } else if ty == &raw mut ffi::PyLong_Type {
                self.write_int(p, out)
            } else if ty == &raw mut ffi::PyFloat_Type {
                let r = number::put_float(ffi::PyFloat_AS_DOUBLE(p), out);
                self.check(r)
            } else if p == ffi::Py_None() {
                put(out, b"null");
                Ok(())
            } else if p == ffi::Py_True() {
                put(out, b"true");
                Ok(())
            } else if p == ffi::Py_False() {
                put(out, b"false");
                Ok(())
            } else if ty == &raw mut ffi::PyDict_Type {
                if empty_in_place(p) {
                    put(out, b"{}");
                    return Ok(());
                }
                let owned = Bound::from_borrowed_ptr(self.py, p);
                self.write_dict(&owned, out, depth)
            } else if ty == &raw mut ffi::PyList_Type {
                if empty_in_place(p) {
                    put(out, b"[]");
                    return Ok(());
                }
                let owned = Bound::from_borrowed_ptr(self.py, p);
                self.write_list(&owned, out, depth)
            } else if ty == &raw mut ffi::PyTuple_Type {
                let owned = Bound::from_borrowed_ptr(self.py, p);
                self.write_tuple(&owned, out, depth)
            } else {
                let owned = Bound::from_borrowed_ptr(self.py, p);
                self.write_other(&owned, out, depth)
            }
        }
    }

    /// # Safety
    /// `p` is a live exact str, possibly borrowed: read in place when its UTF-8 is at hand (see
    /// `text::utf8_in_place`); otherwise owned first and read through `PyUnicode_AsUTF8AndSize`,
    /// which fills its UTF-8 cache (so the next encoding of the same str reads it in place) and
    /// may take its lock (3.13t) or raise (lone surrogates).
    #[inline(always)]
    unsafe fn write_str_object(&mut self, p: *mut ffi::PyObject, out: &mut Vec<u8>) -> Step {
        // SAFETY: as the caller vouches.
        match unsafe { text::utf8_in_place(p) } {
            Some(bytes) => {
                text::write_utf8(bytes, out);
                Ok(())
            }
            // SAFETY: `p` is live.
            None => unsafe { self.write_str_owned(p, out) },
        }
    }

    /// # Safety
    /// `p` is a live str.
    #[cold]
    #[inline(never)]
    unsafe fn write_str_owned(&mut self, p: *mut ffi::PyObject, out: &mut Vec<u8>) -> Step {
        // SAFETY: `p` is live.
        let owned = unsafe { Bound::from_borrowed_ptr(self.py, p) };
        let s = self.check(owned.cast::<PyString>().map_err(PyErr::from).and_then(|s| s.to_str()))?;
        write_str(s, out);
        Ok(())
    }

    /// # Safety
    /// `out` has `HEADROOM` to spare; `p` is a live exact int, possibly borrowed: its value is
    /// read without running code (no `__index__`, no exception, so no collection either); past
    /// 64 bits it is owned, then rendered by `int.__repr__`, which can run signal handlers (and
    /// `_pylong` on 3.12+).
    #[inline(always)]
    unsafe fn write_int(&mut self, p: *mut ffi::PyObject, out: &mut Vec<u8>) -> Step {
        // SAFETY: as the caller vouches.
        unsafe {
            if let Some(v) = number::compact_int(p) {
                number::put_i64(v, out);
                return Ok(());
            }
            self.write_int_slow(p, out)
        }
    }

    /// # Safety
    /// As `write_int`.
    #[inline(never)]
    unsafe fn write_int_slow(&mut self, p: *mut ffi::PyObject, out: &mut Vec<u8>) -> Step {
        let mut overflow = 0;
        // SAFETY: attached, and `p` is a live int: this only reads its digits, cannot fail, and
        // reports a value beyond 64 bits through `overflow`, not an exception.
        let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(p, &raw mut overflow) };
        if overflow == 0 {
            // SAFETY: HEADROOM holds any i64.
            unsafe { number::put_i64(v, out) };
            Ok(())
        } else {
            // SAFETY: `p` is live.
            let owned = unsafe { Bound::from_borrowed_ptr(self.py, p) };
            let r = big_int(&owned, out);
            self.check(r)
        }
    }

    #[cold]
    fn too_deep(&mut self) -> Failed {
        self.fail(PyValueError::new_err("JSON nesting is deeper than 255 levels"))
    }

    /// Iterates under the dict's lock (3.13t; the GIL elsewhere). A str key whose UTF-8 is at
    /// hand is written in place and its value handed to `write` still borrowed: no
    /// reference-count traffic per item, which matters for objects owned by another thread. Any
    /// other key is owned, and its value with it, before the key is written: that may run code
    /// (rendering a big int runs signal handlers) or wait on a lock (filling a str's UTF-8
    /// cache), and either lets the dict be mutated and the pair freed. After a mutation `pos`
    /// may be stale; PyDict_Next checks it against the current table, so the walk stops or goes
    /// on, never reading freed memory.
    #[inline(never)]
    fn write_dict(&mut self, d: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> Step {
        // SAFETY: HEADROOM, as `write`'s caller vouches.
        unsafe { put(out, b"{") };
        with_critical_section(d, || -> Step {
            let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
            let mut first = true;
            // SAFETY: attached and holding the dict's lock; `pos`, `key` and `value` are valid
            // out-pointers.
            while unsafe { dict_next(d.as_ptr(), &raw mut pos, &raw mut key, &raw mut value) } != 0 {
                if first && depth >= MAX_DEPTH {
                    return Err(self.too_deep());
                }
                // SAFETY: PyDict_Next returned 1, so both are non-null references borrowed from
                // the dict, which nothing has been able to mutate since (its lock is held and no
                // code has run). Writing a str key from its UTF-8 in place runs no code either;
                // `write_key` leaves HEADROOM after the colon.
                unsafe {
                    let in_place = if ffi::Py_TYPE(key) == &raw mut ffi::PyUnicode_Type { text::utf8_in_place(key) } else { None };
                    if let Some(bytes) = in_place {
                        text::write_key(bytes, !first, HEADROOM, out);
                        self.write(value, out, depth + 1)?;
                    } else {
                        let (k, v) = (Bound::from_borrowed_ptr(self.py, key), Bound::from_borrowed_ptr(self.py, value));
                        if !first {
                            out.push(b',');
                        }
                        let r = write_key(&k, out);
                        self.check(r)?;
                        out.push(b':');
                        out.reserve(HEADROOM);
                        self.write(v.as_ptr(), out, depth + 1)?;
                    }
                }
                first = false;
            }
            Ok(())
        })?;
        out.push(b'}');
        Ok(())
    }

    #[inline(never)]
    fn write_list(&mut self, l: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> Step {
        // SAFETY: HEADROOM, as `write`'s caller vouches.
        unsafe { put(out, b"[") };
        with_critical_section(l, || -> Step {
            let p = l.as_ptr();
            // SAFETY: `p` is a live list.
            if depth >= MAX_DEPTH && unsafe { ffi::PyList_GET_SIZE(p) } > 0 {
                return Err(self.too_deep());
            }
            let mut i = 0;
            // SAFETY: attached and holding the list's lock; the length is read again on every
            // turn, since writing an item may run code that shrinks the list.
            while i < unsafe { ffi::PyList_GET_SIZE(p) } {
                out.reserve(HEADROOM + 1);
                // SAFETY: `i` is below the length just read, under the lock, with no code run
                // since: the slot holds a live item, borrowed from the list; `write` owns it
                // before anything can run, as in `write_dict`. The comma leaves HEADROOM.
                unsafe {
                    if i > 0 {
                        put(out, b",");
                    }
                    self.write(ffi::PyList_GET_ITEM(p, i), out, depth + 1)?;
                }
                i += 1;
            }
            Ok(())
        })?;
        out.push(b']');
        Ok(())
    }

    #[inline(never)]
    fn write_tuple(&mut self, t: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> Step {
        let p = t.as_ptr();
        // SAFETY: `p` is a live tuple, owned by the caller; a tuple is immutable, so its items
        // live at least as long.
        let n = unsafe { ffi::PyTuple_GET_SIZE(p) };
        if depth >= MAX_DEPTH && n > 0 {
            return Err(self.too_deep());
        }
        out.push(b'[');
        for i in 0..n {
            out.reserve(HEADROOM + 1);
            // SAFETY: as above, `i` is in range; the comma leaves HEADROOM.
            unsafe {
                if i > 0 {
                    put(out, b",");
                }
                self.write(ffi::PyTuple_GET_ITEM(p, i), out, depth + 1)?;
            }
        }
        out.push(b']');
        Ok(())
    }

    /// Subclasses of the builtins keep their builtin meaning (except int subclasses such as
    /// IntEnum, which the fallback renders by value); everything else asks the fallback.
    #[inline(never)]
    fn write_other(&mut self, obj: &Bound<'py, PyAny>, out: &mut Vec<u8>, depth: usize) -> Step {
        if obj.is_instance_of::<PyDict>() {
            return self.write_dict(obj, out, depth);
        }
        if obj.is_instance_of::<PyList>() {
            return self.write_list(obj, out, depth);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            // SAFETY: HEADROOM, as `write`'s caller vouches.
            let r = unsafe { number::put_float(f.value(), out) };
            return self.check(r);
        }
        let converted = match self.fallback {
            Some(fallback) => fallback.call1((obj,)),
            None => Err(not_serialisable(obj)),
        };
        let converted = self.check(converted)?;
        if converted.get_type().is(obj.get_type()) {
            return Err(self.fail(not_serialisable(obj)));
        }
        if depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        out.reserve(HEADROOM);
        // SAFETY: `converted` is owned here for the whole call; HEADROOM is reserved.
        unsafe { self.write(converted.as_ptr(), out, depth + 1) }
    }
}

/// Records what the encoder needs to know of the interpreter, once at import.
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    let bits: u32 = py.import("sys")?.getattr("int_info")?.getattr("bits_per_digit")?.extract()?;
    number::init(bits);
    Ok(())
}

/// `encode_json(obj) -> bytes`: the encoder `JSONResponse` uses, with the same fallback.
#[pyfunction]
pub(crate) fn encode_json<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = obj.py();
    let fallback = crate::response::hooks::jsonable_fallback(py);
    // The fallback may call `encode_json` again: that call finds the slot empty and uses a new
    // buffer.
    let mut out = SCRATCH.with(RefCell::take);
    out.clear();
    let done = Encoder::new(py, fallback.as_ref()).encode_into(obj, &mut out);
    let result = done.map(|()| PyBytes::new(py, &out));
    if out.capacity() <= MAX_KEPT {
        SCRATCH.with(|s| *s.borrow_mut() = out);
    }
    result
}

fn not_serialisable(obj: &Bound<'_, PyAny>) -> PyErr {
    let name = obj.get_type().qualname().map_or_else(|_| "<unknown>".to_owned(), |n| n.to_string());
    PyTypeError::new_err(format!("Object of type {name} is not JSON serializable"))
}

/// `obj` is an int or int subclass beyond 64 bits, rendered by `int.__repr__`.
#[cold]
fn big_int(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let py = obj.py();
    let text = py.get_type::<PyInt>().call_method1(intern!(py, "__repr__"), (obj,))?;
    out.extend_from_slice(text.cast::<PyString>()?.to_str()?.as_bytes());
    Ok(())
}

/// Keys follow `json.dumps`: str as is; bool and None as JSON spells them; int and float
/// subclasses by value (`int.__repr__`, `float.__repr__`), never through their own `__str__`.
/// A non-finite float key is refused like a non-finite value.
#[cold]
fn write_key(k: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if let Ok(s) = k.cast::<PyString>() {
        write_str(s.to_str()?, out);
    } else if let Ok(b) = k.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"\"true\"" } else { b"\"false\"" });
    } else if k.is_none() {
        out.extend_from_slice(b"\"null\"");
    } else if k.is_instance_of::<PyInt>() {
        out.push(b'"');
        let mut overflow = 0;
        // SAFETY: attached, and `k` is an owned int (or int subclass): see `write_int`.
        let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(k.as_ptr(), &raw mut overflow) };
        if overflow == 0 {
            out.reserve(HEADROOM);
            // SAFETY: reserved just above.
            unsafe { number::put_i64(v, out) };
        } else {
            big_int(k, out)?;
        }
        out.push(b'"');
    } else if let Ok(f) = k.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(number::not_finite(v));
        }
        write_str(PyFloat::new(k.py(), v).repr()?.to_str()?, out);
    } else {
        let name = k.get_type().qualname()?;
        return Err(PyTypeError::new_err(format!("keys must be str, int, float, bool or None, not {name}")));
    }
    Ok(())
}

/// `PyDict_Next`. On 3.11 that is a wrapper around `_PyDict_Next` (exported there), called
/// directly to save a call per item.
///
/// # Safety
/// As `PyDict_Next`.
#[inline(always)]
unsafe fn dict_next(
    d: *mut ffi::PyObject,
    pos: *mut ffi::Py_ssize_t,
    key: *mut *mut ffi::PyObject,
    value: *mut *mut ffi::PyObject,
) -> std::os::raw::c_int {
    #[cfg(not(Py_3_12))]
    {
        unsafe extern "C" {
            fn _PyDict_Next(
                d: *mut ffi::PyObject,
                pos: *mut ffi::Py_ssize_t,
                key: *mut *mut ffi::PyObject,
                value: *mut *mut ffi::PyObject,
                hash: *mut ffi::Py_hash_t,
            ) -> std::os::raw::c_int;
        }
        // SAFETY: as the caller vouches; a null `hash` is not written.
        unsafe { _PyDict_Next(d, pos, key, value, std::ptr::null_mut()) }
    }
    #[cfg(Py_3_12)]
    // SAFETY: as the caller vouches.
    unsafe {
        ffi::PyDict_Next(d, pos, key, value)
    }
}

/// Appends `bytes` (a few) without checking capacity.
///
/// # Safety
/// `out` has `bytes.len()` bytes to spare.
#[inline(always)]
unsafe fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    // SAFETY: as the caller vouches.
    unsafe {
        let len = out.len();
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().add(len), bytes.len());
        out.set_len(len + bytes.len());
    }
}

/// Whether `p`, a live exact dict or list, is empty, read without its lock: only on GIL builds,
/// where nothing can change it meanwhile. Elsewhere every container is owned and read under its
/// lock.
///
/// # Safety
/// `p` is a live exact dict or list.
#[inline(always)]
unsafe fn empty_in_place(p: *mut ffi::PyObject) -> bool {
    #[cfg(not(Py_GIL_DISABLED))]
    // SAFETY: a list's length is its `ob_size`, a dict's its `ma_used`; the GIL is held.
    unsafe {
        if ffi::Py_TYPE(p) == &raw mut ffi::PyList_Type {
            ffi::PyList_GET_SIZE(p) == 0
        } else {
            (*p.cast::<ffi::PyDictObject>()).ma_used == 0
        }
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        let _ = p;
        false
    }
}
