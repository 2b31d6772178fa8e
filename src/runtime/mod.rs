//! The coroutine runtime on each worker: no event-loop thread, coroutines driven in place.
//!
//! From the bottom up (each module uses only those above it):
//! - `attach`: a thread's Python thread state, created once; detached while Tokio parks it on
//!   3.13t; safe points for stop-the-world pauses on paths that run no Python;
//! - `context`: entering `contextvars` contexts under guards; shared-context claims;
//! - `live`: the drivers alive on a worker, cancelled at shutdown;
//! - `awaitable`: a Rust future behind a Python awaitable;
//! - `schedule`: the worker's loop (thread-local), `call_soon`/`call_later`, timer handles;
//! - `task`: the asyncio-compatible task around each driven coroutine;
//! - `stepper`: drives a task's coroutine with `PyIter_Send`: first step, then the rest;
//! - `fdwatch`: file-descriptor readiness on the worker's reactor: the worker loop's selector;
//! - `eventloop`: installs the per-worker asyncio loop; `create_task` and `fastcore.spawn`;
//! - `aio`: sleep, gather, wait_for, to_thread;
//! - `sync`: Lock, Event, Semaphore and Queue on `tokio::sync`, shared across workers.

use pyo3::prelude::*;

mod aio;
pub(crate) mod attach;
mod awaitable;
mod context;
mod eventloop;
mod fdwatch;
pub(crate) mod live;
mod schedule;
mod stepper;
mod sync;
mod task;

pub(crate) use awaitable::{Awaitable, Completion};
pub(crate) use context::{copy_current as copy_context, run_in};
pub(crate) use eventloop::{install, uninstall};
pub(crate) use stepper::{begin, start, Begun, Driver};
pub(crate) use task::Task;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<awaitable::Awaitable>()?;
    m.add_class::<task::Task>()?;
    m.add_class::<schedule::TimerHandle>()?;
    m.add_class::<eventloop::Scheduler>()?;
    m.add_function(wrap_pyfunction!(eventloop::spawn, m)?)?;
    m.add_function(wrap_pyfunction!(aio::sleep, m)?)?;
    m.add_function(wrap_pyfunction!(aio::gather, m)?)?;
    m.add_function(wrap_pyfunction!(aio::wait_for, m)?)?;
    m.add_function(wrap_pyfunction!(aio::to_thread, m)?)?;
    m.add_class::<sync::Lock>()?;
    m.add_class::<sync::Event>()?;
    m.add_class::<sync::Semaphore>()?;
    m.add_class::<sync::Queue>()
}
