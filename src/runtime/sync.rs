//! Lock, Event, Semaphore and Queue on `tokio::sync`: awaitable from any worker at once.
//!
//! asyncio's primitives belong to one event loop, so an `asyncio.Lock` shared by handlers on
//! two workers misbehaves. These are plain Rust synchronisation objects behind fastcore
//! awaitables: share them freely across workers (and so across threads on 3.13t).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};
use tokio::sync::{Notify, Semaphore as TokioSemaphore};

use crate::runtime::awaitable::{none, Awaitable, Completion};
use crate::util::lock;

fn truth() -> Completion {
    Box::new(|py| Ok(pyo3::types::PyBool::new(py, true).to_owned().into_any().unbind()))
}

fn ready(what: &'static str) -> Awaitable {
    Awaitable::new(what, async { none() })
}

/// Waits for `notify` unless `ready()` already holds; registration comes first so a
/// notification between the check and the wait is not lost.
async fn wait_until(notify: &Notify, ready: impl Fn() -> bool) {
    loop {
        let mut notified = pin!(notify.notified());
        notified.as_mut().enable();
        if ready() {
            return;
        }
        notified.await;
    }
}

/// Waits for a permit and keeps it (`release` gives it back), as asyncio's acquire/release do.
fn take_permit(sem: &Arc<TokioSemaphore>, what: &'static str) -> Awaitable {
    let sem = Arc::clone(sem);
    Awaitable::new(what, async move {
        match sem.acquire().await {
            Ok(permit) => {
                permit.forget();
                truth()
            }
            // Closed: never happens, as no semaphore here is ever closed.
            Err(_) => none(),
        }
    })
}

/// `async with lock:` — mutual exclusion across every worker. Not owner-bound, like asyncio's.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Lock {
    sem: Arc<TokioSemaphore>,
}

#[pymethods]
impl Lock {
    #[new]
    fn new() -> Self {
        Self { sem: Arc::new(TokioSemaphore::new(1)) }
    }

    fn acquire(&self) -> Awaitable {
        take_permit(&self.sem, "fastcore.Lock.acquire")
    }

    fn release(&self) -> PyResult<()> {
        if self.sem.available_permits() > 0 {
            return Err(PyRuntimeError::new_err("Lock is not acquired."));
        }
        self.sem.add_permits(1);
        Ok(())
    }

    fn locked(&self) -> bool {
        self.sem.available_permits() == 0
    }

    fn __aenter__(&self) -> Awaitable {
        self.acquire()
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__(&self, _exc: &Bound<'_, PyTuple>) -> PyResult<Awaitable> {
        self.release()?;
        Ok(ready("fastcore.Lock.__aexit__"))
    }

    fn __repr__(&self) -> String {
        format!("<fastcore.Lock {}>", if self.locked() { "locked" } else { "unlocked" })
    }
}

/// `await event.wait()` until some worker calls `event.set()`.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Event {
    inner: Arc<(AtomicBool, Notify)>,
}

#[pymethods]
impl Event {
    #[new]
    fn new() -> Self {
        Self { inner: Arc::new((AtomicBool::new(false), Notify::new())) }
    }

    fn set(&self) {
        self.inner.0.store(true, Ordering::Release);
        self.inner.1.notify_waiters();
    }

    fn clear(&self) {
        self.inner.0.store(false, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        self.inner.0.load(Ordering::Acquire)
    }

    fn wait(&self) -> Awaitable {
        let inner = Arc::clone(&self.inner);
        Awaitable::new("fastcore.Event.wait", async move {
            wait_until(&inner.1, || inner.0.load(Ordering::Acquire)).await;
            truth()
        })
    }

    fn __repr__(&self) -> String {
        format!("<fastcore.Event {}>", if self.is_set() { "set" } else { "unset" })
    }
}

/// A counting semaphore shared by every worker; FIFO-fair.
///
/// Tokio's semaphore panics above `MAX_PERMITS` (2**61 - 1), so both the initial value and
/// every release are checked against it; releases are serialised so that two of them cannot
/// pass the check together and overflow.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Semaphore {
    sem: Arc<TokioSemaphore>,
    releasing: Mutex<()>,
}

#[pymethods]
impl Semaphore {
    #[new]
    #[pyo3(signature = (value = 1))]
    fn new(value: i128) -> PyResult<Self> {
        let value = usize::try_from(value).ok().filter(|v| *v <= TokioSemaphore::MAX_PERMITS).ok_or_else(|| {
            PyValueError::new_err(format!(
                "Semaphore initial value must be between 0 and {}, got {value}",
                TokioSemaphore::MAX_PERMITS
            ))
        })?;
        Ok(Self { sem: Arc::new(TokioSemaphore::new(value)), releasing: Mutex::new(()) })
    }

    fn acquire(&self) -> Awaitable {
        take_permit(&self.sem, "fastcore.Semaphore.acquire")
    }

    fn release(&self) -> PyResult<()> {
        let _serialised = lock(&self.releasing);
        if self.sem.available_permits() >= TokioSemaphore::MAX_PERMITS {
            return Err(PyValueError::new_err(format!(
                "Semaphore released too many times: it cannot hold more than {} permits",
                TokioSemaphore::MAX_PERMITS
            )));
        }
        self.sem.add_permits(1);
        Ok(())
    }

    fn locked(&self) -> bool {
        self.sem.available_permits() == 0
    }

    fn __aenter__(&self) -> Awaitable {
        self.acquire()
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__(&self, _exc: &Bound<'_, PyTuple>) -> PyResult<Awaitable> {
        self.release()?;
        Ok(ready("fastcore.Semaphore.__aexit__"))
    }

    fn __repr__(&self) -> String {
        format!("<fastcore.Semaphore value={}>", self.sem.available_permits())
    }
}

struct QueueState {
    items: Mutex<VecDeque<Py<PyAny>>>,
    maxsize: usize,
    not_empty: Notify,
    not_full: Notify,
    unfinished: AtomicUsize,
    all_done: Notify,
}

impl QueueState {
    fn try_put(&self, item: Py<PyAny>) -> Result<(), Py<PyAny>> {
        let mut items = lock(&self.items);
        if self.maxsize > 0 && items.len() >= self.maxsize {
            return Err(item);
        }
        items.push_back(item);
        self.unfinished.fetch_add(1, Ordering::AcqRel);
        drop(items);
        self.not_empty.notify_one();
        Ok(())
    }

    fn try_get(&self) -> Option<Py<PyAny>> {
        let item = lock(&self.items).pop_front();
        if item.is_some() {
            self.not_full.notify_one();
        }
        item
    }
}

/// A FIFO queue shared by every worker. `maxsize=0` means unbounded.
#[pyclass(frozen, module = "fastcore._core")]
pub(crate) struct Queue {
    state: Arc<QueueState>,
}

#[pymethods]
impl Queue {
    #[new]
    #[pyo3(signature = (maxsize = 0))]
    fn new(maxsize: usize) -> Self {
        Self {
            state: Arc::new(QueueState {
                items: Mutex::new(VecDeque::new()),
                maxsize,
                not_empty: Notify::new(),
                not_full: Notify::new(),
                unfinished: AtomicUsize::new(0),
                all_done: Notify::new(),
            }),
        }
    }

    fn put(&self, item: Py<PyAny>) -> Awaitable {
        let state = Arc::clone(&self.state);
        Awaitable::new("fastcore.Queue.put", async move {
            let mut item = item;
            loop {
                let mut notified = pin!(state.not_full.notified());
                notified.as_mut().enable();
                match state.try_put(item) {
                    Ok(()) => return none(),
                    Err(back) => item = back,
                }
                notified.await;
            }
        })
    }

    fn get(&self) -> Awaitable {
        let state = Arc::clone(&self.state);
        Awaitable::new("fastcore.Queue.get", async move {
            loop {
                let mut notified = pin!(state.not_empty.notified());
                notified.as_mut().enable();
                if let Some(item) = state.try_get() {
                    return Box::new(move |_: Python<'_>| Ok(item)) as Completion;
                }
                notified.await;
            }
        })
    }

    fn put_nowait(&self, py: Python<'_>, item: Py<PyAny>) -> PyResult<()> {
        self.state.try_put(item).map_err(|_| queue_error(py, "QueueFull", "queue is full"))
    }

    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.state.try_get().ok_or_else(|| queue_error(py, "QueueEmpty", "queue is empty"))
    }

    fn task_done(&self) -> PyResult<()> {
        let previous = self
            .state
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .map_err(|_| PyValueError::new_err("task_done() called too many times"))?;
        if previous == 1 {
            self.state.all_done.notify_waiters();
        }
        Ok(())
    }

    /// Waits until every item put has been marked with `task_done()`.
    fn join(&self) -> Awaitable {
        let state = Arc::clone(&self.state);
        Awaitable::new("fastcore.Queue.join", async move {
            wait_until(&state.all_done, || state.unfinished.load(Ordering::Acquire) == 0).await;
            none()
        })
    }

    fn qsize(&self) -> usize {
        lock(&self.state.items).len()
    }

    fn empty(&self) -> bool {
        self.qsize() == 0
    }

    fn full(&self) -> bool {
        self.state.maxsize > 0 && self.qsize() >= self.state.maxsize
    }

    #[getter]
    fn maxsize(&self) -> usize {
        self.state.maxsize
    }

    fn __repr__(&self) -> String {
        format!("<fastcore.Queue maxsize={} qsize={}>", self.state.maxsize, self.qsize())
    }
}

/// asyncio's own `QueueFull` / `QueueEmpty`, so existing `except` clauses keep working.
fn queue_error(py: Python<'_>, name: &'static str, msg: &'static str) -> PyErr {
    static FULL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static EMPTY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let cell = if name == "QueueFull" { &FULL } else { &EMPTY };
    match cell.import(py, "asyncio", name) {
        Ok(ty) => PyErr::from_type(ty.clone(), msg),
        Err(e) => e,
    }
}
