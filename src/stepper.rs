//! The coroutine stepper: drives a Python coroutine on the worker thread with `PyIter_Send`.
//!
//! Each step sends a value (or throws an exception) into the coroutine and looks at what it
//! yields:
//! - a fastcore `Awaitable`: its Rust future is awaited right here, in this Tokio task, and
//!   the coroutine is resumed with the result; the worker serves other requests meanwhile;
//! - `None` (a bare yield, `asyncio.sleep(0)`): give other tasks a turn, then resume;
//! - a fastcore `Task` or an asyncio future: wait until it is done, then resume;
//! - anything else: throw a `RuntimeError` naming the object into the coroutine.
//!
//! There is no event-loop thread: the coroutine never leaves the worker that read the request.
//! A step runs inside the task's own `contextvars.Context` and with the task registered as
//! asyncio's current task, so `contextvars`, `asyncio.current_task()` and `asyncio.timeout()`
//! behave as they do under asyncio.

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::{ffi, intern};
use tokio::sync::oneshot;

use crate::awaitable::{Awaitable, Completion, RustFuture};
use crate::task::{cancelled_error, Task};

/// How to resume a suspended coroutine.
pub enum Resume {
    Send,
    Complete(Py<Awaitable>, Completion),
    Throw(PyErr),
    /// Cancelled while awaiting `Awaitable`: its future was dropped unfinished.
    Cancel(Option<Py<Awaitable>>),
}

/// What the driver must do next.
pub enum Step {
    Done(PyResult<Py<PyAny>>),
    Await(Py<Awaitable>, RustFuture),
    Yield,
    Wait(oneshot::Receiver<()>),
}

/// Drives `task` to completion and returns its outcome (also recorded on the task).
///
/// If this future is dropped before the coroutine finishes (the client went away, a timeout
/// fired, a sibling in `gather` failed), `CancelledError` is thrown into the coroutine and it
/// is driven on, detached, so that its `finally` blocks run.
pub async fn drive(task: Py<Task>, first: Step) -> PyResult<Py<PyAny>> {
    let mut guard = Driving(Some(task));
    let mut next = first;
    loop {
        let resume = match next {
            Step::Done(result) => {
                guard.finish();
                return result;
            }
            Step::Await(aw, fut) => {
                let task = guard.task();
                tokio::select! {
                    biased;
                    completion = fut => Resume::Complete(aw, completion),
                    () = task.get().cancellation() => Resume::Cancel(Some(aw)),
                }
            }
            Step::Yield => {
                tokio::task::yield_now().await;
                Resume::Send
            }
            Step::Wait(done) => {
                let task = guard.task();
                tokio::select! {
                    biased;
                    _ = done => Resume::Send,
                    () = task.get().cancellation() => Resume::Cancel(None),
                }
            }
        };
        next = Python::attach(|py| step(guard.task().bind(py), resume));
    }
}

/// Runs one step. Attached; loops only to throw a `RuntimeError` back into a coroutine that
/// yielded something fastcore cannot wait on.
pub fn step(task: &Bound<'_, Task>, mut resume: Resume) -> Step {
    let py = task.py();
    let t = task.get();
    loop {
        if let Some(cancel) = t.take_cancellation(py) {
            resume = match resume {
                Resume::Complete(aw, completion) => {
                    aw.get().finish(completion(py));
                    Resume::Throw(cancel)
                }
                Resume::Cancel(aw) => {
                    if let Some(aw) = aw {
                        aw.get().finish(Err(cancel.clone_ref(py)));
                    }
                    Resume::Throw(cancel)
                }
                Resume::Send | Resume::Throw(_) => Resume::Throw(cancel),
            };
        }
        let sent = in_task(task, || match resume {
            Resume::Send => send(py, t.coro.bind(py)),
            Resume::Complete(aw, completion) => {
                aw.get().finish(completion(py));
                send(py, t.coro.bind(py))
            }
            Resume::Throw(err) => throw(t.coro.bind(py), err),
            Resume::Cancel(aw) => {
                let err = cancelled_error(py, None);
                if let Some(aw) = aw {
                    aw.get().finish(Err(err.clone_ref(py)));
                }
                throw(t.coro.bind(py), err)
            }
        });
        let result = match sent {
            Sent::Yielded(obj) => match classify(task, &obj) {
                Ok(step) => return step,
                Err(err) => {
                    resume = Resume::Throw(err);
                    continue;
                }
            },
            Sent::Returned(v) => Ok(v.unbind()),
            Sent::Raised(e) => Err(e),
        };
        Task::complete(task, &result);
        return Step::Done(result);
    }
}

enum Sent<'py> {
    Yielded(Bound<'py, PyAny>),
    Returned(Bound<'py, PyAny>),
    Raised(PyErr),
}

fn send<'py>(py: Python<'py>, coro: &Bound<'py, PyAny>) -> Sent<'py> {
    let mut out: *mut ffi::PyObject = std::ptr::null_mut();
    // SAFETY: attached; `coro` is a live object; PyIter_Send returns a new reference in `out`
    // for RETURN and NEXT, and sets an exception for ERROR. Coroutines fail PyIter_Check, so
    // this, not PyIterator, is the way in.
    let r = unsafe { ffi::PyIter_Send(coro.as_ptr(), ffi::Py_None(), &raw mut out) };
    match r {
        ffi::PySendResult::PYGEN_RETURN => Sent::Returned(unsafe { Bound::from_owned_ptr(py, out) }),
        ffi::PySendResult::PYGEN_NEXT => Sent::Yielded(unsafe { Bound::from_owned_ptr(py, out) }),
        ffi::PySendResult::PYGEN_ERROR => Sent::Raised(
            PyErr::take(py).unwrap_or_else(|| PyRuntimeError::new_err("coroutine failed without an exception")),
        ),
    }
}

fn throw<'py>(coro: &Bound<'py, PyAny>, err: PyErr) -> Sent<'py> {
    let py = coro.py();
    match coro.call_method1(intern!(py, "throw"), (err.into_value(py),)) {
        Ok(v) => Sent::Yielded(v),
        Err(e) if e.is_instance_of::<PyStopIteration>(py) => {
            let value = e.value(py).getattr(intern!(py, "value")).unwrap_or_else(|_| py.None().into_bound(py));
            Sent::Returned(value)
        }
        Err(e) => Sent::Raised(e),
    }
}

/// Decides how to wait for what the coroutine yielded.
fn classify(task: &Bound<'_, Task>, obj: &Bound<'_, PyAny>) -> PyResult<Step> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(Step::Yield);
    }
    if let Ok(aw) = obj.cast::<Awaitable>() {
        return match aw.get().take() {
            Some(fut) => Ok(Step::Await(aw.clone().unbind(), fut)),
            None if aw.get().is_done() => Ok(Step::Yield),
            None => Err(PyRuntimeError::new_err(format!(
                "{} is already being awaited by another coroutine",
                aw.get().what()
            ))),
        };
    }
    if let Ok(other) = obj.cast::<Task>() {
        if other.is(task) {
            return Err(PyRuntimeError::new_err("a task cannot await itself"));
        }
        return Ok(other.get().done_signal().map_or(Step::Yield, Step::Wait));
    }
    // An asyncio Future (or anything following its protocol) announces itself this way.
    let blocking = intern!(py, "_asyncio_future_blocking");
    if obj.getattr(blocking).is_ok_and(|b| b.is_truthy().unwrap_or(false)) {
        obj.setattr(blocking, false)?;
        let (waker, done) = Waker::new();
        obj.call_method1(intern!(py, "add_done_callback"), (waker,))?;
        return Ok(Step::Wait(done));
    }
    let repr = obj.repr().map_or_else(|_| "<unprintable object>".to_owned(), |r| r.to_string());
    Err(PyRuntimeError::new_err(format!(
        "fastcore cannot wait on {repr}: a handler may await coroutines, fastcore awaitables, \
         fastcore tasks and asyncio futures of its worker's loop"
    )))
}

/// Runs `f` inside the task's context, registered as asyncio's current task.
///
/// `asyncio.current_task()` reads `_asyncio._current_tasks[loop]`. `_enter_task` and
/// `_leave_task` insert and delete that key on every step; here the key stays and only its
/// value is swapped (the task, then whatever was there before — None between steps), which
/// `current_task()` reads the same way at a fraction of the cost.
fn in_task<R>(task: &Bound<'_, Task>, f: impl FnOnce() -> R) -> R {
    let py = task.py();
    let t = task.get();
    in_context(t.context.bind(py), || {
        let Some(lp) = t.event_loop.as_ref().map(|l| l.bind(py)) else { return f() };
        let tasks = current_tasks(py);
        let previous = match tasks.get_item(lp) {
            Ok(Some(p)) => p,
            _ => py.None().into_bound(py),
        };
        if let Err(e) = tasks.set_item(lp, task) {
            e.print(py);
        }
        let out = f();
        if let Err(e) = tasks.set_item(lp, previous) {
            e.print(py);
        }
        out
    })
}

/// The dict behind `asyncio.current_task()`.
fn current_tasks(py: Python<'_>) -> &Bound<'_, PyDict> {
    static TASKS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    TASKS
        .get_or_init(py, || {
            py.import("_asyncio")
                .and_then(|m| m.getattr("_current_tasks"))
                .and_then(|d| d.cast_into::<PyDict>().map_err(Into::into))
                .expect("_asyncio._current_tasks")
                .unbind()
        })
        .bind(py)
}

/// Runs `f` inside `ctx` (a `contextvars.Context`), as `ctx.run` would.
pub fn in_context<R>(ctx: &Bound<'_, PyAny>, f: impl FnOnce() -> R) -> R {
    // SAFETY: attached; `ctx` is a live Context. Enter fails only if the context is already
    // entered, in which case we run in it anyway and skip the matching exit.
    let entered = unsafe { ffi::PyContext_Enter(ctx.as_ptr()) } == 0;
    if !entered {
        PyErr::take(ctx.py());
    }
    let out = f();
    if entered {
        // SAFETY: pairs with the successful Enter above, on the same thread.
        unsafe { ffi::PyContext_Exit(ctx.as_ptr()) };
    }
    out
}

/// Owns a task while it is being driven; cancels and detaches it if dropped unfinished.
struct Driving(Option<Py<Task>>);

impl Driving {
    fn task(&self) -> &Py<Task> {
        self.0.as_ref().expect("task present while driving")
    }

    fn finish(&mut self) {
        if let Some(task) = self.0.take() {
            Python::attach(|_| drop(task));
        }
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        let Some(task) = self.0.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let first = Python::attach(|py| step(task.bind(py), Resume::Cancel(None)));
                    let _ = drive(task, first).await;
                });
            }
            // The runtime is going away: no more awaiting is possible, so just close it.
            Err(_) => Python::attach(|py| {
                if let Err(e) = task.bind(py).get().coro.bind(py).call_method0("close") {
                    e.print(py);
                }
            }),
        }
    }
}

/// The done-callback handed to asyncio futures: wakes the driver waiting on them.
#[pyclass(frozen, module = "fastcore._core")]
struct Waker(std::sync::Mutex<Option<oneshot::Sender<()>>>);

impl Waker {
    fn new() -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Self(std::sync::Mutex::new(Some(tx))), rx)
    }
}

#[pymethods]
impl Waker {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        if let Some(tx) = crate::awaitable::lock(&self.0).take() {
            let _ = tx.send(());
        }
    }
}
