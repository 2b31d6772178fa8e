//! The worker's loop and its scheduling: a leaf every runtime module may call into.
//!
//! The thread-local loop (the `WorkerLoop` asyncio sees, and the Tokio runtime handle behind
//! it), `call_soon`/`call_later` as Tokio tasks on that runtime, and the timer handles they
//! return. It knows nothing of tasks or the stepper, so `Task` can schedule its done
//! callbacks here without the loop depending back on tasks.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::util::lock;

thread_local! {
    static LOOP: RefCell<Option<(Py<PyAny>, Handle)>> = const { RefCell::new(None) };
}

/// This worker's loop, or None off the workers.
pub(crate) fn current(py: Python<'_>) -> Option<Py<PyAny>> {
    LOOP.with(|l| l.borrow().as_ref().map(|(lp, _)| lp.clone_ref(py)))
}

pub(crate) fn current_handle() -> PyResult<Handle> {
    LOOP.with(|l| l.borrow().as_ref().map(|(_, h)| h.clone()))
        .or_else(|| Handle::try_current().ok())
        .ok_or_else(|| PyRuntimeError::new_err("not on a fastcore worker thread"))
}

/// Makes `lp`, driven by `handle`, this thread's loop; None forgets it.
pub(crate) fn set_current(current: Option<(Py<PyAny>, Handle)>) {
    LOOP.with(|l| *l.borrow_mut() = current);
}

/// Schedules `callback(*args)` to run soon on this worker, inside `context` if given.
pub(crate) fn call_soon(
    py: Python<'_>,
    callback: Py<PyAny>,
    args: Option<Bound<'_, PyTuple>>,
    context: Option<Py<PyAny>>,
) -> PyResult<Py<TimerHandle>> {
    schedule(py, &current_handle()?, Duration::ZERO, callback, args, context)
}

pub(crate) fn schedule(
    py: Python<'_>,
    handle: &Handle,
    delay: Duration,
    callback: Py<PyAny>,
    args: Option<Bound<'_, PyTuple>>,
    context: Option<Py<PyAny>>,
) -> PyResult<Py<TimerHandle>> {
    let when = monotonic() + delay.as_secs_f64();
    if delay.is_zero() {
        if let Ok(waker) = callback.bind(py).cast::<Waker>() {
            // A future done, waking a fastcore driver: that only sends on a channel, so it is
            // done now rather than in a Tokio task of its own (no Python runs).
            waker.get().wake();
            return Py::new(py, TimerHandle { abort: Mutex::new(None), cancelled: AtomicBool::new(false), when });
        }
    }
    let args = args.map_or_else(|| PyTuple::empty(py).unbind(), Bound::unbind);
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

pub(crate) fn monotonic() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// What `call_soon` / `call_later` return: asyncio's `Handle`/`TimerHandle` interface.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct TimerHandle {
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

/// The done-callback the stepper hands to asyncio futures: wakes the driver waiting on them.
/// `call_soon` runs it at once instead of scheduling it, since it runs no Python.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Waker(Mutex<Option<oneshot::Sender<()>>>);

impl Waker {
    pub(crate) fn new() -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Self(Mutex::new(Some(tx))), rx)
    }

    fn wake(&self) {
        if let Some(tx) = lock(&self.0).take() {
            let _ = tx.send(());
        }
    }
}

#[pymethods]
impl Waker {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        self.wake();
    }
}
