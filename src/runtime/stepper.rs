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

use crate::runtime::awaitable::{Awaitable, Completion, RustFuture};
use crate::runtime::context::{self, Claim};
use crate::runtime::live;
use crate::runtime::schedule::Waker;
use crate::runtime::task::{cancelled_error, Task};

/// How to resume a suspended coroutine.
enum Resume {
    Send,
    Complete(Py<Awaitable>, Completion),
    Throw(PyErr),
    /// Cancelled while awaiting `Awaitable`: its future was dropped unfinished.
    Cancel(Option<Py<Awaitable>>),
}

/// What the driver must do next.
enum Step {
    Done(PyResult<Py<PyAny>>),
    Await(Py<Awaitable>, RustFuture),
    Yield,
    Wait(oneshot::Receiver<()>),
    /// The task's shared context is inside a step on another worker: try again shortly.
    Retry(Resume),
}

/// What taking a task's first step left to do.
pub(crate) enum Begun {
    /// The coroutine finished without suspending: nothing left to drive.
    Done(PyResult<Py<PyAny>>),
    /// It suspended: [`Driver::run`] drives it on.
    Suspended(Driver),
}

/// A task that suspended on its first step. Dropping it unrun cancels the task, as dropping
/// a running driver does.
pub(crate) struct Driver {
    guard: Driving,
    next: Step,
}

impl Driver {
    /// Drives the task to completion and returns its outcome (also recorded on the task).
    pub(crate) fn run(self) -> impl std::future::Future<Output = PyResult<Py<PyAny>>> + Send {
        drive(self.guard, self.next)
    }
}

/// Takes `task`'s first step, attached: the one way every task starts.
///
/// It reuses the caller's attach, so a request handler that never suspends costs the request
/// one attach in all (the dispatcher calls this right after calling the handler); only a
/// coroutine that suspends gets a [`Driver`].
pub(crate) fn begin(task: Bound<'_, Task>) -> Begun {
    match step(&task, Resume::Send) {
        Step::Done(result) => Begun::Done(result),
        next => Begun::Suspended(Driver { guard: Driving(Some(task.unbind())), next }),
    }
}

/// [`begin`] from a detached caller, then [`Driver::run`]: the first step is taken right away,
/// when this is called, not when the future is first polled.
pub(crate) fn start(task: Py<Task>) -> impl std::future::Future<Output = PyResult<Py<PyAny>>> + Send {
    let begun = Python::attach(|py| begin(task.into_bound(py)));
    async move {
        match begun {
            Begun::Done(result) => result,
            Begun::Suspended(driver) => driver.run().await,
        }
    }
}

/// Drives the task `guard` owns to completion, starting from `first`.
///
/// If the returned future is dropped before the coroutine finishes (the client went away, a
/// timeout fired, a sibling in `gather` failed), even before its first poll, `CancelledError`
/// is thrown into the coroutine and it is driven on, detached, so that its `finally` blocks
/// run. At worker shutdown every live driver is cancelled the same way (see [`live`]).
/// Gives the worker's other ready tasks a turn, then resumes: the task goes to the back of the
/// run queue at once, as asyncio's bare `yield` (`asyncio.sleep(0)`) puts it at the back of the
/// ready queue. (`tokio::task::yield_now` instead defers it until after the next I/O poll,
/// which reorders wake-ups that asyncio code such as httpcore's connection pool relies on.)
fn requeue() -> impl std::future::Future<Output = ()> {
    let mut queued = false;
    std::future::poll_fn(move |cx| {
        if queued {
            std::task::Poll::Ready(())
        } else {
            queued = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}

async fn drive(mut guard: Driving, first: Step) -> PyResult<Py<PyAny>> {
    let mut counted = live::Counted::register();
    let mut next = first;
    loop {
        let resume = match next {
            Step::Done(result) => {
                guard.finish();
                return result;
            }
            Step::Await(aw, fut) => {
                let task = guard.task();
                if task.get().cancel_pending() {
                    // Never polled, so dropping it loses nothing.
                    Resume::Cancel(Some(aw))
                } else {
                    tokio::select! {
                        biased;
                        completion = fut => Resume::Complete(aw, completion),
                        () = task.get().cancellation() => Resume::Cancel(Some(aw)),
                        () = counted.shutting_down() => Resume::Cancel(Some(aw)),
                    }
                }
            }
            Step::Yield => {
                requeue().await;
                Resume::Send
            }
            Step::Retry(resume) => {
                tokio::task::yield_now().await;
                resume
            }
            Step::Wait(done) => {
                let task = guard.task();
                tokio::select! {
                    biased;
                    _ = done => Resume::Send,
                    () = task.get().cancellation() => Resume::Cancel(None),
                    () = counted.shutting_down() => Resume::Cancel(None),
                }
            }
        };
        next = Python::attach(|py| step(guard.task().bind(py), resume));
    }
}

/// Runs one step. Attached; loops only to throw a `RuntimeError` back into a coroutine that
/// yielded something fastcore cannot wait on.
///
/// A pending `cancel()` is thrown in at the next suspension, but never in place of a result
/// that an awaited Rust future already produced (a lock acquired, a queue item taken): that
/// result is delivered first, and the cancellation waits for the next suspension, as asyncio
/// does. A coroutine that returns with a cancellation still pending ends cancelled.
fn step(task: &Bound<'_, Task>, mut resume: Resume) -> Step {
    let py = task.py();
    let t = task.get();
    let claim = if t.shared_context { Claim::take(t.context.bind(py)) } else { Some(Claim::unshared()) };
    let Some(_claim) = claim else { return Step::Retry(resume) };
    let mut waited = t.take_waiting_on();
    loop {
        let mut cancelling = matches!(resume, Resume::Cancel(_));
        if !matches!(resume, Resume::Complete(..)) {
            if let Some(cancel) = t.take_cancellation(py) {
                cancelling = true;
                resume = match resume {
                    Resume::Cancel(Some(aw)) => {
                        aw.get().finish(py, Err(cancel.clone_ref(py)));
                        Resume::Throw(cancel)
                    }
                    _ => Resume::Throw(cancel),
                };
            }
        }
        // As asyncio's Task does: cancelling a task that waits on a future or task cancels
        // that instead, and the coroutine gets its `CancelledError` once it is done, so
        // children (a gather, a task) are cancelled and finish before their parent goes on.
        if let Some(w) = waited.take().filter(|_| cancelling) {
            let w = w.into_bound(py);
            // With `cancel()`'s message: anyio recognises its own cancellations by it.
            let msg = t.cancel_message(py);
            if w.call_method1(intern!(py, "cancel"), (msg,)).and_then(|r| r.is_truthy()).unwrap_or(false) {
                match wait_on(task, &w) {
                    Ok(step) => return step,
                    Err(err) => resume = Resume::Throw(err),
                }
            }
        }
        let result = match in_task(task, resume) {
            Sent::Yielded(obj) => match classify(task, &obj) {
                Ok(step) => {
                    Task::list_in_all_tasks(task);
                    return step;
                }
                Err(err) => {
                    resume = Resume::Throw(err);
                    continue;
                }
            },
            Sent::Returned(v) => t.take_cancellation(py).map_or_else(|| Ok(v.unbind()), Err),
            Sent::Raised(e) => Err(e),
        };
        Task::complete(task, &result);
        return Step::Done(result);
    }
}

/// Resumes the coroutine as `resume` says. Runs inside the caller's context.
fn resume_coro<'py>(py: Python<'py>, coro: &Bound<'py, PyAny>, resume: Resume) -> Sent<'py> {
    match resume {
        Resume::Send => send(py, coro),
        Resume::Complete(aw, completion) => {
            aw.get().finish(py, completion(py));
            send(py, coro)
        }
        Resume::Throw(err) => throw(coro, err),
        Resume::Cancel(aw) => {
            let err = cancelled_error(py, None);
            if let Some(aw) = aw {
                aw.get().finish(py, Err(err.clone_ref(py)));
            }
            throw(coro, err)
        }
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
        return wait_on(task, obj);
    }
    // An asyncio Future (or anything following its protocol) announces itself this way.
    let blocking = intern!(py, "_asyncio_future_blocking");
    if obj.getattr(blocking).is_ok_and(|b| b.is_truthy().unwrap_or(false)) {
        obj.setattr(blocking, false)?;
        check_same_loop(task, obj)?;
        return wait_on(task, obj);
    }
    let repr = obj.repr().map_or_else(|_| "<unprintable object>".to_owned(), |r| r.to_string());
    Err(PyRuntimeError::new_err(format!(
        "fastcore cannot wait on {repr}: a handler may await coroutines, fastcore awaitables, \
         fastcore tasks and asyncio futures of its worker's loop"
    )))
}

/// Waits until `obj` (a fastcore task or an asyncio future) is done, remembering it as what
/// the task waits on (asyncio's `_fut_waiter`), so that a cancellation can be passed on to it.
fn wait_on(task: &Bound<'_, Task>, obj: &Bound<'_, PyAny>) -> PyResult<Step> {
    let step = if let Ok(other) = obj.cast::<Task>() {
        other.get().done_signal().map_or(Step::Yield, Step::Wait)
    } else {
        let (waker, done) = Waker::new();
        obj.call_method1(intern!(obj.py(), "add_done_callback"), (waker,))?;
        Step::Wait(done)
    };
    task.get().set_waiting_on(obj.clone().unbind());
    Ok(step)
}

/// A future of another worker's loop (a connection opened on another worker, say) would be
/// completed on that worker while this one reads it: refuse, as asyncio's own Task does.
fn check_same_loop(task: &Bound<'_, Task>, fut: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = task.py();
    let Some(own) = task.get().event_loop.as_ref() else { return Ok(()) };
    let Ok(theirs) = fut.call_method0(intern!(py, "get_loop")) else { return Ok(()) };
    if theirs.is(own.bind(py)) {
        return Ok(());
    }
    Err(PyRuntimeError::new_err(format!(
        "{} awaited {} attached to a different loop: asyncio connections and futures belong to \
         the fastcore worker that created them; create clients per worker (or in the handler), \
         or run with --threads 1 and --workers N",
        task.repr().map_or_else(|_| "a task".to_owned(), |r| r.to_string()),
        fut.repr().map_or_else(|_| "a future".to_owned(), |r| r.to_string()),
    )))
}

/// Resumes the task's coroutine inside the task's context, registered as asyncio's current
/// task; both are restored by guards, so even a panic unwinding from the coroutine (PyO3
/// resumes `PanicException` as a panic) leaves the worker as it found it.
///
/// If the context cannot be entered (code outside fastcore has it entered), the
/// `RuntimeError` is thrown into the coroutine instead, inside a new empty context, so that
/// nothing the coroutine does while handling it leaks into the worker's own context.
fn in_task<'py>(task: &Bound<'py, Task>, resume: Resume) -> Sent<'py> {
    let py = task.py();
    let t = task.get();
    let coro = t.coro.bind(py);
    let ctx = t.context.bind(py);
    match context::Entered::enter(ctx) {
        Ok(_entered) => {
            let _current = CurrentTask::register(task);
            resume_coro(py, coro, resume)
        }
        Err(err) => {
            if let Resume::Complete(aw, completion) = resume {
                aw.get().finish(py, completion(py));
            }
            let refused = PyRuntimeError::new_err(format!("fastcore could not enter the task's context: {err}"));
            refused.set_cause(py, Some(err));
            let empty = match context::empty(py) {
                Ok(empty) => empty,
                Err(e) => return Sent::Raised(e),
            };
            let sent = match context::Entered::enter(&empty) {
                Ok(_entered) => throw(coro, refused),
                Err(e) => Sent::Raised(e),
            };
            sent
        }
    }
}

/// The task registered as `asyncio.current_task()` of its loop until dropped.
///
/// `asyncio.current_task()` reads `_asyncio._current_tasks[loop]`. The previous entry is put
/// back on drop, and an absent one removed again: asyncio's own C `Task` refuses to start a
/// step while the key exists at all (even with the value None), and it runs on this loop too.
struct CurrentTask<'py> {
    swapped: Option<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)>,
}

impl<'py> CurrentTask<'py> {
    fn register(task: &Bound<'py, Task>) -> Self {
        let py = task.py();
        let Some(lp) = task.get().event_loop.as_ref().map(|l| l.bind(py).clone()) else {
            return Self { swapped: None };
        };
        let tasks = current_tasks(py);
        let previous = tasks.get_item(&lp).ok().flatten();
        if let Err(e) = tasks.set_item(&lp, task) {
            e.write_unraisable(py, Some(&lp));
        }
        Self { swapped: Some((lp, previous)) }
    }
}

impl Drop for CurrentTask<'_> {
    fn drop(&mut self) {
        if let Some((lp, previous)) = self.swapped.take() {
            let py = lp.py();
            let tasks = current_tasks(py);
            let restored = match previous {
                Some(previous) => tasks.set_item(&lp, previous),
                None => tasks.del_item(&lp),
            };
            if let Err(e) = restored {
                e.write_unraisable(py, Some(&lp));
            }
        }
    }
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
        if Python::attach(|py| task.bind(py).get().is_done()) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if !live::closing() => {
                handle.spawn(async move {
                    let first = Python::attach(|py| step(task.bind(py), Resume::Cancel(None)));
                    let _ = drive(Driving(Some(task)), first).await;
                });
            }
            // The runtime is going away: no more awaiting is possible, so just close it.
            _ => Python::attach(|py| {
                if let Err(e) = task.bind(py).get().coro.bind(py).call_method0("close") {
                    e.print(py);
                }
            }),
        }
    }
}
