//! `contextvars` contexts: copying one, and running code inside one, restored by guards.
//!
//! The rules this module enforces:
//! - a context entered here is always exited by a Drop guard, so a panic unwinding through the
//!   code inside (PyO3 resumes `PanicException`s as panics) cannot leave it entered;
//! - a failed enter is an error for the caller, never "run in whatever context is current";
//! - a failed exit is reported as unraisable at once, never left pending for an unrelated call;
//! - a context shared by several tasks (`loop.create_task(coro, context=ctx)`) is entered by
//!   one thread at a time: [`Claim`] makes a task's step wait while another worker is inside
//!   it, because `PyContext_Enter`'s own "already entered" check is not atomic on 3.13t.

use std::sync::Mutex;
use std::thread::ThreadId;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::util::lock;

/// A copy of the calling thread's current context (`contextvars.copy_context()`).
pub(crate) fn copy_current(py: Python<'_>) -> PyResult<Py<PyAny>> {
    // SAFETY: attached; returns a new reference or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyContext_CopyCurrent()) }.map(Bound::unbind)
}

/// A new, empty context (`contextvars.Context()`).
pub(crate) fn empty(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: attached; returns a new reference or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyContext_New()) }
}

/// `ctx` entered on this thread until the guard is dropped.
pub(crate) struct Entered<'a, 'py> {
    ctx: &'a Bound<'py, PyAny>,
}

impl<'a, 'py> Entered<'a, 'py> {
    /// Enters `ctx`. Fails (with the interpreter's `RuntimeError`) if it is already entered.
    pub(crate) fn enter(ctx: &'a Bound<'py, PyAny>) -> PyResult<Self> {
        // SAFETY: attached; `ctx` is a live object (PyContext_Enter type-checks it).
        if unsafe { ffi::PyContext_Enter(ctx.as_ptr()) } == 0 {
            Ok(Self { ctx })
        } else {
            Err(PyErr::fetch(ctx.py()))
        }
    }
}

impl Drop for Entered<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: attached (the guard lives inside an attached scope) and pairs with the
        // successful enter on this thread. Exit fails only if code inside left another context
        // entered on top of ours; that error is reported here rather than left pending.
        if unsafe { ffi::PyContext_Exit(self.ctx.as_ptr()) } != 0 {
            PyErr::fetch(self.ctx.py()).write_unraisable(self.ctx.py(), Some(self.ctx));
        }
    }
}

/// Runs `f` inside `ctx`, as `ctx.run(f)` would; an enter failure is returned, `f` not run.
pub(crate) fn run_in<R>(ctx: &Bound<'_, PyAny>, f: impl FnOnce() -> R) -> PyResult<R> {
    let _entered = Entered::enter(ctx)?;
    Ok(f())
}

/// Shared contexts currently inside a step, by address, with the thread that is inside.
static CLAIMED: Mutex<Vec<(usize, ThreadId)>> = Mutex::new(Vec::new());

/// The right to enter a shared context on this thread; released when dropped.
pub(crate) struct Claim(Option<usize>);

impl Claim {
    /// None while another thread is inside `ctx`. A claim already held by this thread is
    /// granted again without ownership: the nested enter then fails, and that is reported.
    pub(crate) fn take(ctx: &Bound<'_, PyAny>) -> Option<Self> {
        let key = ctx.as_ptr() as usize;
        let me = std::thread::current().id();
        let mut claimed = lock(&CLAIMED);
        match claimed.iter().find(|(k, _)| *k == key) {
            Some((_, owner)) if *owner == me => Some(Self(None)),
            Some(_) => None,
            None => {
                claimed.push((key, me));
                Some(Self(Some(key)))
            }
        }
    }

    /// For contexts owned by one task only: nothing to claim.
    pub(crate) fn unshared() -> Self {
        Self(None)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(key) = self.0 {
            lock(&CLAIMED).retain(|(k, _)| *k != key);
        }
    }
}
