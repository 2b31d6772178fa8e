//! The asyncio-compatible loop each worker provides, scheduled on the worker's Tokio runtime.
//!
//! `fastcore._loop.WorkerLoop` (Python) is the object asyncio sees; its scheduling methods
//! land on [`Scheduler`] here. `call_soon` and `call_later` become Tokio tasks on the worker's
//! runtime (see `schedule`), so asyncio futures, `asyncio.sleep` and friends work with no
//! event-loop thread; `create_task` and `fastcore.spawn` start a driven [`Task`]. The loop is
//! installed as the running loop of the worker thread once, when the worker starts.

use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tokio::runtime::Handle;

use crate::runtime::fdwatch;
use crate::runtime::schedule::{current_handle, monotonic, schedule, set_current, TimerHandle};
use crate::runtime::stepper;
use crate::runtime::task::Task;
use crate::util::check_coroutine;

/// Creates this worker's loop and makes it the thread's running asyncio loop.
pub(crate) fn install(py: Python<'_>, handle: Handle) -> PyResult<()> {
    let scheduler = Bound::new(py, Scheduler { handle: handle.clone(), owner: std::thread::current().id() })?;
    let lp = py.import("fastcore._loop")?.getattr("WorkerLoop")?.call1((scheduler,))?;
    py.import("asyncio")?.getattr("_set_running_loop")?.call1((&lp,))?;
    set_current(Some((lp.unbind(), handle)));
    Ok(())
}

/// Forgets the loop at worker exit, attached, so its last reference is dropped safely.
pub(crate) fn uninstall(py: Python<'_>) {
    if let Ok(set) = py.import("asyncio").and_then(|a| a.getattr("_set_running_loop")) {
        let _ = set.call1((py.None(),));
    }
    set_current(None);
}

/// The worker-side half of `WorkerLoop`.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Scheduler {
    handle: Handle,
    /// The worker thread whose runtime `handle` drives.
    owner: std::thread::ThreadId,
}

#[pymethods]
impl Scheduler {
    /// `loop.call_soon(callback, *args, context=None)`, bound straight onto the loop.
    #[pyo3(signature = (callback, *args, context = None))]
    fn call_soon(
        &self,
        py: Python<'_>,
        callback: Py<PyAny>,
        args: Bound<'_, PyTuple>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<Py<TimerHandle>> {
        schedule(py, &self.handle, Duration::ZERO, callback, Some(args), context)
    }

    /// `loop.call_later(delay, callback, *args, context=None)`, bound straight onto the loop.
    #[pyo3(signature = (delay, callback, *args, context = None))]
    fn call_later(
        &self,
        py: Python<'_>,
        delay: f64,
        callback: Py<PyAny>,
        args: Bound<'_, PyTuple>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<Py<TimerHandle>> {
        if delay.is_nan() {
            return Err(PyValueError::new_err("delay must not be NaN"));
        }
        let delay = Duration::try_from_secs_f64(delay.max(0.0)).unwrap_or(Duration::MAX / 2);
        schedule(py, &self.handle, delay, callback, Some(args), context)
    }

    /// The worker loop's selector: call `on_ready(fd, mask)` when `fd` is ready for `events`
    /// (`selectors.EVENT_READ | EVENT_WRITE`; 0 stops watching). Only on the loop's worker.
    fn watch(&self, fd: i32, events: u8, on_ready: Py<PyAny>) -> PyResult<()> {
        self.check_owner("watch a file descriptor")?;
        fdwatch::watch(&self.handle, fd, events, on_ready)
    }

    fn unwatch(&self, fd: i32) -> PyResult<()> {
        self.check_owner("stop watching a file descriptor")?;
        fdwatch::unwatch(fd);
        Ok(())
    }

    #[allow(clippy::unused_self)] // a method because asyncio calls it as `loop.time()`
    fn time(&self) -> f64 {
        monotonic()
    }

    #[pyo3(signature = (coro, context = None, name = None))]
    fn spawn(
        &self,
        py: Python<'_>,
        coro: Py<PyAny>,
        context: Option<Py<PyAny>>,
        name: Option<String>,
    ) -> PyResult<Py<Task>> {
        // A task binds the loop of the thread that creates it, and its driver runs on this
        // loop's runtime: the two must be the same worker, as asyncio requires too.
        self.check_owner("create_task()")?;
        spawn_task(py, &self.handle, coro, context, name)
    }
}

impl Scheduler {
    fn check_owner(&self, what: &str) -> PyResult<()> {
        if std::thread::current().id() == self.owner {
            return Ok(());
        }
        Err(PyRuntimeError::new_err(format!(
            "{what} was called from another thread than the loop's worker; \
             use asyncio.run_coroutine_threadsafe(coro, loop)"
        )))
    }
}

/// Starts driving `coro` as a new task on the worker's runtime; returns the task handle.
fn spawn_task(
    py: Python<'_>,
    handle: &Handle,
    coro: Py<PyAny>,
    context: Option<Py<PyAny>>,
    name: Option<String>,
) -> PyResult<Py<Task>> {
    check_coroutine(coro.bind(py))?;
    let task = Py::new(py, Task::new(py, coro, context, name)?)?;
    let driven = task.clone_ref(py);
    handle.spawn(async move {
        let _ = stepper::start(driven).await;
    });
    Ok(task)
}

/// `fastcore.spawn(coro)`: runs `coro` concurrently on this worker and returns its task.
#[pyfunction]
#[pyo3(signature = (coro, *, name = None))]
pub(crate) fn spawn(py: Python<'_>, coro: Py<PyAny>, name: Option<String>) -> PyResult<Py<Task>> {
    spawn_task(py, &current_handle()?, coro, None, name)
}
