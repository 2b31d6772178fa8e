//! A request body read whole, and the Python `bytes` object it was read straight into.
//!
//! `await request.body()` has to end as a `bytes` object. Collecting the pieces into a Rust
//! buffer and then copying that into a new `bytes` copies the body twice; a body of declared
//! length (`Content-Length`) that arrives in more than one piece is instead copied once, piece
//! by piece, into a `bytes` object allocated at its full size when the second piece arrives.
//! Python then gets that object itself, and the Rust side (form parsers, `request.stream()`)
//! reads the same memory through a [`Bytes`] that keeps the object alive.

use std::ptr::NonNull;
use std::sync::Arc;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A body read whole: its bytes, and the `bytes` object holding them when it was read into one.
#[derive(Clone)]
pub(crate) struct Whole {
    pub(crate) bytes: Bytes,
    object: Option<Arc<Filled>>,
}

impl From<Bytes> for Whole {
    fn from(bytes: Bytes) -> Self {
        Self { bytes, object: None }
    }
}

impl Whole {
    /// The body as a Python `bytes`: the object it was read into, or else a copy.
    pub(crate) fn to_py<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        match &self.object {
            Some(filled) => filled.object.bind(py).clone(),
            None => PyBytes::new(py, &self.bytes),
        }
    }
}

/// A fresh `bytes` object of a declared length, being filled.
///
/// It is referenced by nothing but this (and, once full, the [`Whole`] made of it), so writing
/// into its buffer needs no attachment to the interpreter: no other thread, and no Python code,
/// can see it until it is handed out, full, by [`Whole::to_py`].
pub(crate) struct Filling {
    filled: Filled,
    written: usize,
}

struct Filled {
    object: Py<PyBytes>,
    start: NonNull<u8>,
    len: usize,
}

// SAFETY: `start` points into the buffer of `object`, which this value keeps alive; the buffer
// is written only through `&mut Filling` (one thread at a time) and read only once it is full.
unsafe impl Send for Filled {}
// SAFETY: shared (`Arc<Filled>`) only once full, after which the buffer is only read.
unsafe impl Sync for Filled {}

impl Filling {
    /// An uninitialised `bytes` of `len` bytes (attaches to the interpreter to allocate it).
    pub(crate) fn new(len: usize) -> PyResult<Self> {
        let size = isize::try_from(len).map_err(|_| pyo3::exceptions::PyOverflowError::new_err("body too large"))?;
        Python::attach(|py| {
            // SAFETY: a NULL source asks CPython for an uninitialised buffer of `size` bytes;
            // the result is a new reference (or NULL with an exception set, turned into Err).
            let object = unsafe {
                Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size))?
                    .cast_into_unchecked::<PyBytes>()
            };
            // SAFETY: the object is a bytes object; its buffer holds `len` bytes (plus a NUL).
            let start = unsafe { pyo3::ffi::PyBytes_AsString(object.as_ptr()) }.cast::<u8>();
            let start = NonNull::new(start).ok_or_else(|| PyErr::fetch(py))?;
            Ok(Self { filled: Filled { object: object.unbind(), start, len }, written: 0 })
        })
    }

    /// Appends `data`; false (and nothing written) if it would run past the declared length.
    pub(crate) fn push(&mut self, data: &[u8]) -> bool {
        let Filled { start, len, .. } = self.filled;
        if data.len() > len - self.written {
            return false;
        }
        // SAFETY: `written + data.len() <= len`, within the object's buffer, which nothing else
        // reads or writes while it is being filled (see the type's summary).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), start.as_ptr().add(self.written), data.len()) };
        self.written += data.len();
        true
    }

    /// The body, if exactly the declared length was written.
    pub(crate) fn finish(self) -> Option<Whole> {
        if self.written != self.filled.len {
            return None;
        }
        let filled = Arc::new(self.filled);
        let bytes = Bytes::from_owner(View(Arc::clone(&filled)));
        Some(Whole { bytes, object: Some(filled) })
    }
}

/// The full buffer, as a [`Bytes`] owner.
struct View(Arc<Filled>);

impl AsRef<[u8]> for View {
    fn as_ref(&self) -> &[u8] {
        let Filled { start, len, .. } = *self.0;
        // SAFETY: full (see `finish`), alive as long as `self.0`, and never written again.
        unsafe { std::slice::from_raw_parts(start.as_ptr(), len) }
    }
}
