//! The awaitables fastcore provides: sleep, gather, wait_for, to_thread.
//!
//! Each returns an `Awaitable` over a Rust future; the stepper awaits that future on the
//! worker, so none of them needs an event loop. Futures are built lazily inside `async`
//! blocks, so creating an awaitable off a worker thread is harmless until it is awaited.

use std::time::Duration;

use futures_util::future::{join_all, try_join_all};
use pyo3::exceptions::{PyTimeoutError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::runtime::awaitable::{none, Awaitable, Completion};
use crate::runtime::context;
use crate::runtime::stepper;
use crate::runtime::task::Task;
use crate::util::check_coroutine;

fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    if value.is_nan() {
        return Err(PyValueError::new_err(format!("{what} must be a number of seconds, not NaN")));
    }
    Ok(Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::MAX / 2))
}

/// A task driving `aw`: coroutines directly, other awaitables through `await aw`.
fn child(py: Python<'_>, aw: &Bound<'_, PyAny>) -> PyResult<Py<Task>> {
    if let Ok(task) = aw.cast::<Task>() {
        // Already running: wait for it through a wrapper so its outcome is shared, not re-driven.
        return child(py, &await_one(py)?.call1((task,))?);
    }
    let coro = if check_coroutine(aw).is_ok() {
        aw.clone()
    } else if aw.hasattr("__await__")? {
        await_one(py)?.call1((aw,))?
    } else {
        let ty = aw.get_type().qualname()?;
        return Err(PyTypeError::new_err(format!("an awaitable was expected, got {ty}")));
    };
    Py::new(py, Task::new(py, coro.unbind(), None, None)?)
}

fn await_one(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static F: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(F.import(py, "fastcore._loop", "await_one")?.clone())
}

fn value(v: Py<PyAny>) -> Completion {
    Box::new(move |_| Ok(v))
}

fn failure(e: PyErr) -> Completion {
    Box::new(move |_| Err(e))
}

/// `await fastcore.sleep(seconds, result=None)`: a Tokio timer; the worker serves others meanwhile.
#[pyfunction]
#[pyo3(signature = (seconds, result = None))]
pub(crate) fn sleep(seconds: f64, result: Option<Py<PyAny>>) -> PyResult<Awaitable> {
    let delay = self::seconds(seconds, "sleep")?;
    Ok(Awaitable::new("fastcore.sleep", async move {
        if delay.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(delay).await;
        }
        result.map_or_else(none, value)
    }))
}

/// `await fastcore.gather(*aws, return_exceptions=False)`: runs the children concurrently on
/// this worker; the first failure cancels the rest unless `return_exceptions` is true.
#[pyfunction]
#[pyo3(signature = (*aws, return_exceptions = false))]
pub(crate) fn gather(py: Python<'_>, aws: &Bound<'_, PyTuple>, return_exceptions: bool) -> PyResult<Awaitable> {
    let children = aws.iter().map(|aw| child(py, &aw)).collect::<PyResult<Vec<_>>>()?;
    Ok(Awaitable::new("fastcore.gather", async move {
        // Every child takes its first step before any is awaited, as asyncio starts every
        // child: one that fails at once must not leave later ones never started.
        let runs: Vec<_> = children.into_iter().map(stepper::start).collect();
        if return_exceptions {
            let results = join_all(runs).await;
            Box::new(move |py: Python<'_>| {
                let items = results.into_iter().map(|r| r.unwrap_or_else(|e| e.into_value(py).into_any()));
                Ok(PyList::new(py, items)?.into_any().unbind())
            }) as Completion
        } else {
            match try_join_all(runs).await {
                Ok(values) => Box::new(move |py: Python<'_>| Ok(PyList::new(py, values)?.into_any().unbind())),
                Err(e) => failure(e),
            }
        }
    }))
}

/// `await fastcore.wait_for(aw, timeout)`: `TimeoutError` if `aw` takes longer, after
/// cancelling it (its `finally` blocks run).
#[pyfunction]
#[pyo3(signature = (aw, timeout))]
pub(crate) fn wait_for(py: Python<'_>, aw: &Bound<'_, PyAny>, timeout: Option<f64>) -> PyResult<Awaitable> {
    let task = child(py, aw)?;
    let limit = timeout.map(|t| seconds(t, "timeout")).transpose()?;
    Ok(Awaitable::new("fastcore.wait_for", async move {
        let outcome = match limit {
            Some(limit) => tokio::time::timeout(limit, stepper::start(task)).await,
            None => Ok(stepper::start(task).await),
        };
        match outcome {
            Ok(Ok(v)) => value(v),
            Ok(Err(e)) => failure(e),
            Err(_) => failure(PyTimeoutError::new_err("the awaited operation timed out")),
        }
    }))
}

/// `await fastcore.to_thread(fn, *args, **kwargs)`: runs blocking code on the worker's bounded
/// blocking pool, in a copy of the current context, and awaits the result.
#[pyfunction]
#[pyo3(signature = (func, *args, **kwargs))]
pub(crate) fn to_thread(
    py: Python<'_>,
    func: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
) -> PyResult<Awaitable> {
    let context = context::copy_current(py)?;
    Ok(Awaitable::new("fastcore.to_thread", async move {
        let joined = tokio::task::spawn_blocking(move || {
            Python::attach(|py| {
                let mut call = vec![func.into_bound(py)];
                call.extend(args.bind(py).iter());
                let call = PyTuple::new(py, call)?;
                context.bind(py).call_method("run", call, kwargs.as_ref().map(|k| k.bind(py))).map(Bound::unbind)
            })
        })
        .await;
        match joined {
            Ok(result) => Box::new(move |_: Python<'_>| result) as Completion,
            Err(e) => failure(pyo3::exceptions::PyRuntimeError::new_err(format!("to_thread worker failed: {e}"))),
        }
    }))
}
