//! The Python objects the response path needs, registered once by `fastcore/__init__.py`.
//!
//! A leaf: the converter and the JSON encoder both read it, and neither reads the other's
//! registry through the other.

use std::sync::OnceLock;

use pyo3::prelude::*;

/// `fastcore.Response` and the JSON fallback encoder.
pub(crate) struct Hooks {
    pub(crate) response_type: Py<PyAny>,
    pub(crate) jsonable: Py<PyAny>,
}

static HOOKS: OnceLock<Hooks> = OnceLock::new();

/// Registers `fastcore.Response` and the JSON fallback encoder. Later calls are ignored, so
/// re-importing the package cannot swap them under running workers.
#[pyfunction]
pub(crate) fn configure(response_type: Py<PyAny>, jsonable: Py<PyAny>) {
    let _ = HOOKS.set(Hooks { response_type, jsonable });
}

/// The registered hooks, or None before `configure`.
pub(crate) fn get() -> Option<&'static Hooks> {
    HOOKS.get()
}

/// The registered fallback encoder, bound to `py`.
pub(crate) fn jsonable_fallback(py: Python<'_>) -> Option<Bound<'_, PyAny>> {
    HOOKS.get().map(|h| h.jsonable.bind(py).clone())
}
