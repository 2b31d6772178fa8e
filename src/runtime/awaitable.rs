//! A Rust future behind a Python awaitable: the stepper awaits the future on the worker.
//!
//! `await aw` calls `aw.__await__()` (itself), then `__next__()`. While the future is pending,
//! `__next__` yields the object itself, so the stepper receives it, takes the future out and
//! awaits it inside the request's Tokio task. When the future completes, the stepper stores
//! the result and resumes the coroutine with `None`; the coroutine's `await` calls `__next__`
//! again, which now ends the iteration with the result (or raises the error).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;

use crate::util::lock;

/// Turns a finished future's output into a Python value, once attached again.
pub(crate) type Completion = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;
pub(crate) type RustFuture = Pin<Box<dyn Future<Output = Completion> + Send>>;

enum State {
    Pending(RustFuture),
    Running,
    Done(PyResult<Py<PyAny>>),
}

#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Awaitable {
    state: Mutex<State>,
    what: &'static str,
}

impl Awaitable {
    /// `what` names the operation in errors and reprs (`fastcore.sleep`, ...).
    pub(crate) fn new(what: &'static str, fut: impl Future<Output = Completion> + Send + 'static) -> Self {
        Self { state: Mutex::new(State::Pending(Box::pin(fut))), what }
    }

    /// An awaitable whose result is already there: `await` returns it without suspending.
    pub(crate) fn ready(what: &'static str, value: Py<PyAny>) -> Self {
        Self { state: Mutex::new(State::Done(Ok(value))), what }
    }

    /// Takes the future out for the stepper. None if another driver already took it.
    pub(crate) fn take(&self) -> Option<RustFuture> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut *state, State::Running) {
            State::Pending(fut) => Some(fut),
            other => {
                *state = other;
                None
            }
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        matches!(*lock(&self.state), State::Done(_))
    }

    /// Stores the result. The error is normalised first and the old state dropped after the
    /// lock is released, so no Python runs under it (nor in `__next__`'s clone of the error).
    pub(crate) fn finish(&self, py: Python<'_>, result: PyResult<Py<PyAny>>) {
        if let Err(e) = &result {
            let _ = e.value(py);
        }
        let old = std::mem::replace(&mut *lock(&self.state), State::Done(result));
        drop(old);
    }

    pub(crate) fn what(&self) -> &'static str {
        self.what
    }
}

#[pymethods]
impl Awaitable {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Option<Py<PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        let state = lock(&this.state);
        match &*state {
            State::Pending(_) | State::Running => Ok(Some(slf.clone().into_any().unbind())),
            State::Done(Ok(v)) => end_iteration(py, v),
            State::Done(Err(e)) => Err(e.clone_ref(py)),
        }
    }

    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        if !value.is_none() {
            return Err(PyRuntimeError::new_err("fastcore awaitables are resumed with None"));
        }
        Self::__next__(slf)
    }

    fn __repr__(&self) -> String {
        let state = match &*lock(&self.state) {
            State::Pending(_) => "pending",
            State::Running => "running",
            State::Done(_) => "done",
        };
        format!("<{} awaitable {state}>", self.what)
    }
}

/// Ends an awaitable's iteration with `v` as the value of the `await` expression.
pub(crate) fn end_iteration(py: Python<'_>, v: &Py<PyAny>) -> PyResult<Option<Py<PyAny>>> {
    if v.is_none(py) {
        Ok(None)
    } else {
        Err(PyStopIteration::new_err((v.clone_ref(py),)))
    }
}

/// A completion that returns None.
pub(crate) fn none() -> Completion {
    Box::new(|py| Ok(py.None()))
}
