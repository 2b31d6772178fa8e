//! A thread's Python thread state: created once per worker (and per blocking-pool thread) and
//! kept for the thread's life, never one per request.
//!
//! On free-threaded builds a worker stays attached while its runtime works and detaches only
//! when Tokio parks it ([`park`]), so a stop-the-world pause never waits on an idle worker;
//! paths that answer without running Python call [`safe_point`] so that a pause waiting for a
//! busy worker can go ahead. On GIL builds threads attach only around Python calls.

use pyo3::ffi;

/// This thread's Python thread state, created once and released when the worker exits.
pub(crate) struct ThreadState {
    gil_state: ffi::PyGILState_STATE,
    tstate: *mut ffi::PyThreadState,
}

impl ThreadState {
    pub(crate) fn create() -> Self {
        // SAFETY: the interpreter is initialised (we were started from Python) and this thread
        // has no thread state yet. Ensure creates one; SaveThread detaches without destroying it,
        // so later `Python::attach` calls only re-attach it.
        let gil_state = unsafe { ffi::PyGILState_Ensure() };
        let tstate = unsafe { ffi::PyEval_SaveThread() };
        #[cfg(Py_GIL_DISABLED)]
        park::remember(tstate);
        Self { gil_state, tstate }
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // A panic that escaped `block_on` may leave a free-threaded worker attached; restoring
        // an attached thread state is fatal, so detach first (a no-op when already detached).
        #[cfg(Py_GIL_DISABLED)]
        park::detach();
        // SAFETY: same thread as `create`, now detached; Release needs the state attached
        // and, being the last count, destroys it.
        unsafe {
            ffi::PyEval_RestoreThread(self.tstate);
            ffi::PyGILState_Release(self.gil_state);
        }
    }
}

/// Free-threaded builds: stay attached while the runtime works, detach while it is parked.
#[cfg(Py_GIL_DISABLED)]
pub(crate) mod park {
    use std::cell::Cell;
    use std::ptr;

    use pyo3::ffi;
    use pyo3::prelude::*;
    use pyo3::sync::PyOnceLock;

    thread_local! {
        static TSTATE: Cell<*mut ffi::PyThreadState> = const { Cell::new(ptr::null_mut()) };
        static ATTACHED: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn remember(tstate: *mut ffi::PyThreadState) {
        TSTATE.with(|t| t.set(tstate));
    }

    pub(crate) fn attach() {
        let ts = TSTATE.with(Cell::get);
        if !ts.is_null() && !ATTACHED.with(Cell::get) {
            // SAFETY: `ts` is this thread's own state, currently detached.
            unsafe { ffi::PyEval_RestoreThread(ts) };
            ATTACHED.with(|a| a.set(true));
        }
    }

    /// Lets a stop-the-world pause (the GC) that is waiting for this thread go ahead. Called
    /// on paths that answer without running Python, which otherwise never reach an
    /// eval-breaker check and would stall every Python thread for as long as a client keeps
    /// the worker busy with them.
    ///
    /// A bare detach/re-attach is not enough: the thread asking for the pause only looks for
    /// detached threads every millisecond, and a thread that re-attaches at once is never
    /// seen. Calling a Python function is: its `RESUME` checks the eval breaker and parks this
    /// thread for the pause, exactly as running Python code would (about 50 ns otherwise).
    pub(crate) fn safe_point() {
        static CHECK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        if ATTACHED.with(Cell::get) {
            Python::attach(|py| {
                let check =
                    CHECK.get_or_init(py, || py.eval(c"lambda: None", None, None).expect("a lambda compiles").unbind());
                if let Err(e) = check.call0(py) {
                    e.write_unraisable(py, None);
                }
            });
        }
    }

    pub(crate) fn detach() {
        if ATTACHED.with(Cell::get) {
            // SAFETY: attached by `attach` above, and no Python call is in progress: Tokio parks
            // only between task polls, never inside `Python::attach`.
            let ts = unsafe { ffi::PyEval_SaveThread() };
            TSTATE.with(|t| t.set(ts));
            ATTACHED.with(|a| a.set(false));
        }
    }
}

/// A safe point for stop-the-world pauses on paths that run no Python (see `park::safe_point`);
/// nothing to do on GIL builds, where such paths never hold the GIL.
pub(crate) fn safe_point() {
    #[cfg(Py_GIL_DISABLED)]
    park::safe_point();
}
