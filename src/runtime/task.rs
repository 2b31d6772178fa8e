//! A coroutine being driven by fastcore, exposed to Python as an asyncio-compatible task.
//!
//! Every request handler coroutine, `fastcore.spawn`ed coroutine, `gather` child and
//! `loop.create_task` result is a `Task`. It speaks the asyncio Future protocol (`done`,
//! `result`, `add_done_callback`, `cancel`, `_asyncio_future_blocking`...) so that
//! `asyncio.gather`, `asyncio.wait_for` and `asyncio.timeout` accept it, and it is what
//! `asyncio.current_task()` returns while its coroutine runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use tokio::sync::{oneshot, Notify};

use crate::runtime::awaitable::end_iteration;
use crate::runtime::context;
use crate::runtime::schedule;
use crate::util::lock;

enum Outcome {
    Value(Py<PyAny>),
    Error(PyErr),
    Cancelled(PyErr),
}

#[derive(Default)]
struct Inner {
    outcome: Option<Outcome>,
    callbacks: Vec<(Py<PyAny>, Option<Py<PyAny>>)>,
    waiters: Vec<oneshot::Sender<()>>,
    cancels_requested: u32,
    must_cancel: bool,
    cancel_message: Option<Py<PyAny>>,
    name: Option<String>,
}

#[pyclass(frozen, weakref, module = "fastcore._core")]
pub(crate) struct Task {
    pub(crate) coro: Py<PyAny>,
    pub(crate) context: Py<PyAny>,
    pub(crate) event_loop: Option<Py<PyAny>>,
    /// The context was handed in (`create_task(coro, context=ctx)`) and may be shared with
    /// other tasks: steps must claim it first (see `context::Claim`).
    pub(crate) shared_context: bool,
    inner: Mutex<Inner>,
    cancel_requested: Notify,
    blocking: AtomicBool,
    log_destroy_pending: AtomicBool,
    /// The task or asyncio future the coroutine waits on, if any (asyncio's `_fut_waiter`).
    waiting_on: Mutex<Option<Py<PyAny>>>,
    /// Listed in asyncio's task registry (`asyncio.all_tasks()`); done at the first suspension,
    /// since a task that finishes in its first step is never visible as pending anyway.
    listed: AtomicBool,
}

impl Task {
    /// A task for `coro` in `context` (a copy of the current context when None), bound to this
    /// worker's loop if there is one.
    pub(crate) fn new(
        py: Python<'_>,
        coro: Py<PyAny>,
        context: Option<Py<PyAny>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let (context, shared_context) = match context {
            Some(c) if !c.is_none(py) => (c, true),
            _ => (context::copy_current(py)?, false),
        };
        Ok(Self {
            coro,
            context,
            event_loop: schedule::current(py),
            shared_context,
            inner: Mutex::new(Inner { name, ..Inner::default() }),
            cancel_requested: Notify::new(),
            blocking: AtomicBool::new(false),
            log_destroy_pending: AtomicBool::new(true),
            listed: AtomicBool::new(false),
            waiting_on: Mutex::new(None),
        })
    }

    /// Consumes a pending cancellation request, returning the `CancelledError` to throw.
    pub(crate) fn take_cancellation(&self, py: Python<'_>) -> Option<PyErr> {
        let mut inner = lock(&self.inner);
        if !inner.must_cancel {
            return None;
        }
        inner.must_cancel = false;
        let msg = inner.cancel_message.as_ref().map(|m| m.clone_ref(py));
        Some(cancelled_error(py, msg))
    }

    /// Adds the task to asyncio's registry of tasks (`asyncio.all_tasks()`), once, if it
    /// belongs to a worker loop. Called when it first suspends.
    pub(crate) fn list_in_all_tasks(slf: &Bound<'_, Self>) {
        static REGISTER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let t = slf.get();
        if t.event_loop.is_none() || t.listed.swap(true, Ordering::Relaxed) {
            return;
        }
        let py = slf.py();
        let listed = REGISTER.import(py, "asyncio.tasks", "_register_task").and_then(|f| f.call1((slf,)));
        if let Err(e) = listed {
            e.write_unraisable(py, Some(slf.as_any()));
        }
    }

    /// The message of the latest `cancel(msg)`, if any.
    pub(crate) fn cancel_message(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        lock(&self.inner).cancel_message.as_ref().map(|m| m.clone_ref(py))
    }

    pub(crate) fn set_waiting_on(&self, obj: Py<PyAny>) {
        let replaced = lock(&self.waiting_on).replace(obj);
        drop(replaced); // outside the lock: a decref may run Python
    }

    pub(crate) fn take_waiting_on(&self) -> Option<Py<PyAny>> {
        lock(&self.waiting_on).take()
    }

    /// True while a `cancel()` waits to be thrown into the coroutine.
    pub(crate) fn cancel_pending(&self) -> bool {
        lock(&self.inner).must_cancel
    }

    /// Resolves when `cancel()` has been called (and not yet consumed by the stepper).
    pub(crate) async fn cancellation(&self) {
        loop {
            self.cancel_requested.notified().await;
            if lock(&self.inner).must_cancel {
                return;
            }
        }
    }

    /// Records the coroutine's outcome, wakes awaiting drivers and schedules done callbacks.
    pub(crate) fn complete(slf: &Bound<'_, Self>, result: &PyResult<Py<PyAny>>) {
        let py = slf.py();
        if let Err(e) = result {
            // Normalise now, outside the lock: later clones under it are then plain increfs.
            let _ = e.value(py);
        }
        let outcome = match result {
            Ok(v) => Outcome::Value(v.clone_ref(py)),
            Err(e) if e.is_instance(py, &cancelled_error_type(py)) => Outcome::Cancelled(e.clone_ref(py)),
            Err(e) => Outcome::Error(e.clone_ref(py)),
        };
        let (callbacks, waiters) = {
            let mut inner = lock(&slf.get().inner);
            inner.outcome = Some(outcome);
            (std::mem::take(&mut inner.callbacks), std::mem::take(&mut inner.waiters))
        };
        for w in waiters {
            let _ = w.send(());
        }
        for (cb, ctx) in callbacks {
            if let Err(e) = schedule::call_soon(py, cb, (slf.clone(),).into_pyobject(py).ok(), ctx) {
                e.print(py);
            }
        }
    }

    /// A receiver that fires when the task is done, or None if it already is.
    pub(crate) fn done_signal(&self) -> Option<oneshot::Receiver<()>> {
        let mut inner = lock(&self.inner);
        if inner.outcome.is_some() {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        inner.waiters.push(tx);
        Some(rx)
    }

    pub(crate) fn is_done(&self) -> bool {
        lock(&self.inner).outcome.is_some()
    }
}

#[pymethods]
impl Task {
    fn done(&self) -> bool {
        self.is_done()
    }

    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &lock(&self.inner).outcome {
            Some(Outcome::Value(v)) => Ok(v.clone_ref(py)),
            Some(Outcome::Error(e) | Outcome::Cancelled(e)) => Err(e.clone_ref(py)),
            None => Err(invalid_state(py, "Result is not set.")),
        }
    }

    fn exception(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match &lock(&self.inner).outcome {
            Some(Outcome::Value(_)) => Ok(None),
            Some(Outcome::Error(e)) => Ok(Some(e.value(py).clone().into_any().unbind())),
            Some(Outcome::Cancelled(e)) => Err(e.clone_ref(py)),
            None => Err(invalid_state(py, "Exception is not set.")),
        }
    }

    /// The loop the task belongs to (asyncio's private name; anyio reads it).
    #[getter]
    fn _loop(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.event_loop.as_ref().map(|l| l.clone_ref(py))
    }

    /// The pending done-callbacks as `(callback, context)` pairs, a copy; anyio looks for its
    /// root task among them.
    #[getter]
    fn _callbacks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pairs: Vec<(Py<PyAny>, Py<PyAny>)> = lock(&self.inner)
            .callbacks
            .iter()
            .map(|(cb, ctx)| (cb.clone_ref(py), ctx.as_ref().map_or_else(|| py.None(), |c| c.clone_ref(py))))
            .collect();
        PyList::new(py, pairs)
    }

    /// asyncio's flag for a cancellation not yet thrown in; anyio's cancel scopes read it.
    #[getter]
    fn _must_cancel(&self) -> bool {
        self.cancel_pending()
    }

    /// asyncio's "future this task waits on": the task or asyncio future it awaits now, or
    /// None (also while it awaits a fastcore awaitable); anyio's cancel scopes read it.
    #[getter]
    fn _fut_waiter(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        lock(&self.waiting_on).as_ref().map(|w| w.clone_ref(py))
    }

    /// The message given to `cancel()`; `asyncio.gather` reads it.
    #[getter]
    fn _cancel_message(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        lock(&self.inner).cancel_message.as_ref().map(|m| m.clone_ref(py))
    }

    /// The `CancelledError` a cancelled task ends with; `asyncio.gather` asks for it.
    fn _make_cancelled_error(&self, py: Python<'_>) -> Py<PyAny> {
        let inner = lock(&self.inner);
        if let Some(Outcome::Cancelled(e)) = &inner.outcome {
            return e.value(py).clone().into_any().unbind();
        }
        let msg = inner.cancel_message.as_ref().map(|m| m.clone_ref(py));
        drop(inner);
        cancelled_error(py, msg).into_value(py).into_any()
    }

    fn cancelled(&self) -> bool {
        matches!(lock(&self.inner).outcome, Some(Outcome::Cancelled(_)))
    }

    /// Requests cancellation: `CancelledError` is thrown into the coroutine at its next
    /// suspension point (or right away if it is suspended now).
    #[pyo3(signature = (msg = None))]
    fn cancel(&self, msg: Option<Py<PyAny>>) -> bool {
        let replaced = {
            let mut inner = lock(&self.inner);
            if inner.outcome.is_some() {
                return false;
            }
            inner.cancels_requested += 1;
            inner.must_cancel = true;
            std::mem::replace(&mut inner.cancel_message, msg)
        };
        // Dropped outside the lock: a decref can run arbitrary Python (`__del__`).
        drop(replaced);
        self.cancel_requested.notify_one();
        true
    }

    fn cancelling(&self) -> u32 {
        lock(&self.inner).cancels_requested
    }

    fn uncancel(&self) -> u32 {
        let mut inner = lock(&self.inner);
        if inner.cancels_requested > 0 {
            inner.cancels_requested -= 1;
            if inner.cancels_requested == 0 {
                inner.must_cancel = false;
            }
        }
        inner.cancels_requested
    }

    #[pyo3(signature = (callback, *, context = None))]
    fn add_done_callback(slf: &Bound<'_, Self>, callback: Py<PyAny>, context: Option<Py<PyAny>>) -> PyResult<()> {
        let py = slf.py();
        let mut inner = lock(&slf.get().inner);
        if inner.outcome.is_some() {
            drop(inner);
            schedule::call_soon(py, callback, (slf.clone(),).into_pyobject(py).ok(), context)?;
        } else {
            inner.callbacks.push((callback, context));
        }
        Ok(())
    }

    /// Removes every registered `callback` (compared with `==`, as asyncio does). The
    /// comparisons run Python, so they run on a copy, outside the lock; the matches are then
    /// removed by identity, leaving callbacks added meanwhile in place.
    fn remove_done_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<usize> {
        let registered: Vec<Py<PyAny>> = lock(&self.inner).callbacks.iter().map(|(cb, _)| cb.clone_ref(py)).collect();
        let mut matching = Vec::new();
        for cb in &registered {
            if cb.bind(py).eq(callback)? {
                matching.push(cb.as_ptr());
            }
        }
        let removed: Vec<_> = {
            let mut inner = lock(&self.inner);
            let (removed, kept) =
                std::mem::take(&mut inner.callbacks).into_iter().partition(|(cb, _)| matching.contains(&cb.as_ptr()));
            inner.callbacks = kept;
            removed
        };
        Ok(removed.len())
    }

    fn get_loop(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.event_loop
            .as_ref()
            .map(|l| l.clone_ref(py))
            .ok_or_else(|| PyRuntimeError::new_err("this task is not bound to a fastcore worker loop"))
    }

    fn get_coro(&self, py: Python<'_>) -> Py<PyAny> {
        self.coro.clone_ref(py)
    }

    fn get_context(&self, py: Python<'_>) -> Py<PyAny> {
        self.context.clone_ref(py)
    }

    fn get_name(&self) -> String {
        lock(&self.inner).name.clone().unwrap_or_else(|| "fastcore-task".to_owned())
    }

    fn set_name(&self, name: String) {
        lock(&self.inner).name = Some(name);
    }

    #[getter]
    fn _asyncio_future_blocking(&self) -> bool {
        self.blocking.load(Ordering::Relaxed)
    }

    #[setter(_asyncio_future_blocking)]
    fn set_asyncio_future_blocking(&self, value: bool) {
        self.blocking.store(value, Ordering::Relaxed);
    }

    /// Set by `asyncio.gather`; kept only so that it can be set.
    #[getter]
    fn _log_destroy_pending(&self) -> bool {
        self.log_destroy_pending.load(Ordering::Relaxed)
    }

    #[setter(_log_destroy_pending)]
    fn set_log_destroy_pending(&self, value: bool) {
        self.log_destroy_pending.store(value, Ordering::Relaxed);
    }

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Yields the task itself while it runs (the stepper then waits for it); afterwards ends
    /// with its result.
    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Option<Py<PyAny>>> {
        let py = slf.py();
        match &lock(&slf.get().inner).outcome {
            None => {
                slf.get().blocking.store(true, Ordering::Relaxed);
                Ok(Some(slf.clone().into_any().unbind()))
            }
            Some(Outcome::Value(v)) => end_iteration(py, v),
            Some(Outcome::Error(e) | Outcome::Cancelled(e)) => Err(e.clone_ref(py)),
        }
    }

    fn __repr__(&self) -> String {
        let inner = lock(&self.inner);
        let state = match inner.outcome {
            None => "pending",
            Some(Outcome::Value(_)) => "finished",
            Some(Outcome::Error(_)) => "failed",
            Some(Outcome::Cancelled(_)) => "cancelled",
        };
        format!("<Task {} {state}>", inner.name.as_deref().unwrap_or("fastcore-task"))
    }
}

fn cancelled_error_type(py: Python<'_>) -> Bound<'_, PyType> {
    static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    T.import(py, "asyncio", "CancelledError").expect("asyncio.CancelledError").clone()
}

pub(crate) fn cancelled_error(py: Python<'_>, msg: Option<Py<PyAny>>) -> PyErr {
    let ty = cancelled_error_type(py);
    match msg {
        Some(m) if !m.is_none(py) => PyErr::from_type(ty, (m,)),
        _ => PyErr::from_type(ty, ()),
    }
}

fn invalid_state(py: Python<'_>, msg: &'static str) -> PyErr {
    static T: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    match T.import(py, "asyncio", "InvalidStateError") {
        Ok(ty) => PyErr::from_type(ty.clone(), msg),
        Err(e) => e,
    }
}
