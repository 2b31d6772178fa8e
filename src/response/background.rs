//! `Response.background`: a zero-argument callable returning an awaitable, run once the
//! response is over, as a task on the worker's stepper.
//!
//! The body carries an [`AfterSend`]; hyper drops the body when it has queued the last frame
//! for writing (or the connection went away), and the drop spawns the task on the worker's
//! runtime. A failure is logged to `fastcore.error`; the server carries on.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::runtime::{self, live, Begun, Driver, Task};

/// The background callable of a response, run when dropped, in `context` (the handler's) if
/// given.
pub(crate) struct AfterSend(Option<(Py<PyAny>, Option<Py<PyAny>>)>);

impl AfterSend {
    pub(crate) fn new(background: Py<PyAny>, context: Option<Py<PyAny>>) -> Self {
        Self(Some((background, context)))
    }
}

impl Drop for AfterSend {
    fn drop(&mut self) {
        let Some((background, context)) = self.0.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if !live::closing() => {
                handle.spawn(run(background, context));
            }
            // The worker is shutting down: there is no runtime left to run it on.
            _ => Python::attach(|py| {
                log_error(py, "Background task not run: the worker is shutting down", None);
                drop((background, context));
            }),
        }
    }
}

async fn run(background: Py<PyAny>, context: Option<Py<PyAny>>) {
    let driver = Python::attach(|py| match start(background.bind(py), context) {
        Ok(driver) => driver,
        Err(err) => {
            log_failure(py, err);
            None
        }
    });
    if let Some(driver) = driver {
        if let Err(err) = driver.run().await {
            Python::attach(|py| log_failure(py, err));
        }
    }
}

/// Calls the callable and takes the first step of the coroutine it returned, both in `context`.
fn start(background: &Bound<'_, PyAny>, context: Option<Py<PyAny>>) -> PyResult<Option<Driver>> {
    let py = background.py();
    let awaitable = match &context {
        Some(ctx) => runtime::run_in(ctx.bind(py), || background.call0())??,
        None => background.call0()?,
    };
    if awaitable.is_none() {
        return Ok(None);
    }
    let coro = if awaitable.hasattr("send")? && awaitable.hasattr("throw")? {
        awaitable
    } else {
        // Any other awaitable (a fastcore awaitable, a future): await it from a coroutine.
        wrap_awaitable(py)?.call1((awaitable,))?
    };
    let task = Bound::new(py, Task::new(py, coro.unbind(), context, Some("fastcore-background".to_owned()))?)?;
    match runtime::begin(task) {
        Begun::Done(result) => result.map(|_| None),
        Begun::Suspended(driver) => Ok(Some(driver)),
    }
}

/// `fastcore.background._await`: `async def _await(aw): return await aw`.
fn wrap_awaitable(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static AWAIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    AWAIT.import(py, "fastcore.background", "_await")
}

fn log_failure(py: Python<'_>, err: PyErr) {
    // A task cancelled at shutdown was told to stop; that is not a failure.
    if err.is_instance(py, &py.get_type::<pyo3::exceptions::asyncio::CancelledError>()) {
        return;
    }
    log_error(py, "Exception in background task", Some(err));
}

/// Logs `message` (with the exception's traceback, if any) to the `fastcore.error` logger.
pub(crate) fn log_error(py: Python<'_>, message: &str, err: Option<PyErr>) {
    static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let logged = LOGGER
        .get_or_try_init(py, || {
            py.import("logging")?.getattr("getLogger")?.call1(("fastcore.error",)).map(Bound::unbind)
        })
        .and_then(|logger| {
            let kwargs = pyo3::types::PyDict::new(py);
            if let Some(err) = &err {
                // `into_value` attaches the traceback to the exception, which logging prints.
                kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
            }
            logger.bind(py).call_method("error", (message,), Some(&kwargs)).map(drop)
        });
    if let Err(e) = logged {
        e.print(py);
        if let Some(err) = err {
            err.print(py);
        }
    }
}
