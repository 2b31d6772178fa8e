//! The asyncio-compatible loop each worker provides, scheduled on the worker's Tokio runtime.
//!
//! `fastcore._loop.WorkerLoop` (Python) is the object asyncio sees; its scheduling methods
//! land here. `call_soon` and `call_later` become Tokio tasks on the worker's runtime, so
//! asyncio futures, `asyncio.sleep` and friends work with no event-loop thread. The loop is
//! installed as the running loop of the worker thread once, when the worker starts.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::awaitable::lock;
use crate::stepper;
use crate::task::Task;

thread_local! {
    static LOOP: RefCell<Option<(Py<PyAny>, Handle)>> = const { RefCell::new(None) };
}

/// This worker's loop, or None off the workers.
pub fn current(py: Python<'_>) -> Option<Py<PyAny>> {
    LOOP.with(|l| l.borrow().as_ref().map(|(lp, _)| lp.clone_ref(py)))
}

fn current_handle() -> PyResult<Handle> {
    LOOP.with(|l| l.borrow().as_ref().map(|(_, h)| h.clone()))
        .or_else(|| Handle::try_current().ok())
        .ok_or_else(|| PyRuntimeError::new_err("not on a fastcore worker thread"))
}

/// Creates this worker's loop and makes it the thread's running asyncio loop.
pub fn install(py: Python<'_>, handle: Handle) -> PyResult<()> {
    let scheduler = Bound::new(py, Scheduler { handle: handle.clone(), owner: std::thread::current().id() })?;
    let lp = py.import("fastcore._loop")?.getattr("WorkerLoop")?.call1((scheduler,))?;
    py.import("asyncio")?.getattr("_set_running_loop")?.call1((&lp,))?;
    LOOP.with(|l| *l.borrow_mut() = Some((lp.unbind(), handle)));
    Ok(())
}

/// Forgets the loop at worker exit, attached, so its last reference is dropped safely.
pub fn uninstall(py: Python<'_>) {
    if let Ok(set) = py.import("asyncio").and_then(|a| a.getattr("_set_running_loop")) {
        let _ = set.call1((py.None(),));
    }
    LOOP.with(|l| l.borrow_mut().take());
}

/// Schedules `callback(*args)` to run soon on this worker, inside `context` if given.
pub fn call_soon(
    py: Python<'_>,
    callback: Py<PyAny>,
    args: Option<Bound<'_, PyTuple>>,
    context: Option<Py<PyAny>>,
) -> PyResult<Py<TimerHandle>> {
    schedule(py, &current_handle()?, Duration::ZERO, callback, args, context)
}

fn schedule(
    py: Python<'_>,
    handle: &Handle,
    delay: Duration,
    callback: Py<PyAny>,
    args: Option<Bound<'_, PyTuple>>,
    context: Option<Py<PyAny>>,
) -> PyResult<Py<TimerHandle>> {
    let args = args.map_or_else(|| PyTuple::empty(py).unbind(), Bound::unbind);
    let when = monotonic() + delay.as_secs_f64();
    let timer = Py::new(py, TimerHandle { abort: Mutex::new(None), cancelled: AtomicBool::new(false), when })?;
    let own = timer.clone_ref(py);
    let join = handle.spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Python::attach(move |py| {
            if own.get().cancelled.load(Ordering::Acquire) {
                return;
            }
            let args = args.bind(py);
            let ran = match context.as_ref().filter(|c| !c.is_none(py)) {
                Some(ctx) => {
                    let mut call = vec![callback.bind(py).clone()];
                    call.extend(args.iter());
                    ctx.bind(py).call_method1("run", PyTuple::new(py, call).expect("tuple"))
                }
                None => callback.bind(py).call1(args.clone()),
            };
            if let Err(e) = ran {
                report(py, &e, &callback);
            }
            drop((callback, args, context, own));
        });
    });
    *lock(&timer.get().abort) = Some(join.abort_handle());
    Ok(timer)
}

/// Hands a failed callback to the loop's exception handler, as asyncio does.
fn report(py: Python<'_>, err: &PyErr, callback: &Py<PyAny>) {
    let reported = (|| -> PyResult<()> {
        let lp = current(py).ok_or_else(|| PyRuntimeError::new_err("no loop"))?;
        let ctx = PyDict::new(py);
        ctx.set_item("message", "Exception in callback")?;
        ctx.set_item("exception", err.value(py))?;
        ctx.set_item("callback", callback)?;
        lp.bind(py).call_method1("call_exception_handler", (ctx,))?;
        Ok(())
    })();
    if reported.is_err() {
        err.print(py);
    }
}

pub fn monotonic() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// What `call_soon` / `call_later` return: asyncio's `Handle`/`TimerHandle` interface.
#[pyclass(frozen, module = "fastcore._core")]
pub struct TimerHandle {
    abort: Mutex<Option<AbortHandle>>,
    cancelled: AtomicBool,
    when: f64,
}

#[pymethods]
impl TimerHandle {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        if let Some(a) = lock(&self.abort).take() {
            a.abort();
        }
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    fn when(&self) -> f64 {
        self.when
    }
}

/// The worker-side half of `WorkerLoop`.
#[pyclass(frozen, module = "fastcore._core")]
pub struct Scheduler {
    handle: Handle,
    /// The worker thread whose runtime `handle` drives.
    owner: std::thread::ThreadId,
}

#[pymethods]
impl Scheduler {
    #[pyo3(signature = (callback, args, context = None))]
    fn call_soon(
        &self,
        py: Python<'_>,
        callback: Py<PyAny>,
        args: Bound<'_, PyTuple>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<Py<TimerHandle>> {
        schedule(py, &self.handle, Duration::ZERO, callback, Some(args), context)
    }

    #[pyo3(signature = (delay, callback, args, context = None))]
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
        if std::thread::current().id() != self.owner {
            return Err(PyRuntimeError::new_err(
                "create_task() was called from another thread than the loop's worker; \
                 use asyncio.run_coroutine_threadsafe(coro, loop)",
            ));
        }
        spawn_task(py, &self.handle, coro, context, name)
    }
}

/// Starts driving `coro` as a new task on the worker's runtime; returns the task handle.
pub fn spawn_task(
    py: Python<'_>,
    handle: &Handle,
    coro: Py<PyAny>,
    context: Option<Py<PyAny>>,
    name: Option<String>,
) -> PyResult<Py<Task>> {
    crate::aio::check_coroutine(coro.bind(py))?;
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
fn spawn(py: Python<'_>, coro: Py<PyAny>, name: Option<String>) -> PyResult<Py<Task>> {
    spawn_task(py, &current_handle()?, coro, None, name)
}

pub fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TimerHandle>()?;
    m.add_class::<Scheduler>()?;
    m.add_function(wrap_pyfunction!(spawn, m)?)
}
