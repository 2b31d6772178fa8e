//! Small helpers shared by every folder: poison-free locking and the coroutine check.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// Locks `m`, ignoring poisoning: a panic while serving one request (caught and turned into a
/// 500) must not make every later request on the same state panic too.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ok for a coroutine, or any object with the coroutine protocol's `send` and `throw`.
pub(crate) fn check_coroutine(obj: &Bound<'_, PyAny>) -> PyResult<()> {
    // SAFETY: attached; a type check on a live object.
    if unsafe { pyo3::ffi::PyCoro_CheckExact(obj.as_ptr()) } == 1 || obj.hasattr("send")? && obj.hasattr("throw")? {
        Ok(())
    } else {
        let ty = obj.get_type().qualname()?;
        Err(PyTypeError::new_err(format!("a coroutine was expected, got {ty}")))
    }
}
