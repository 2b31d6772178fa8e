//! fastcore's Rust core: an HTTP server whose workers call Python handlers in place.
//!
//! Table of contents:
//! - [`router`]: path patterns, converters, method dispatch (pure Rust, unit-tested);
//! - [`routes`]: the Python-facing route table, swapped atomically with `ArcSwap`;
//! - [`server`]: binding, starting, stopping and waiting for the workers;
//! - [`worker`]: one thread = one current-thread Tokio runtime, attached to Python once;
//! - [`dispatch`]: one request from hyper's parts to a response;
//! - [`request`]: the read-only request record handed to Python;
//! - [`body`]: request bodies, read whole or streamed;
//! - [`response`]: handler results and failures to HTTP responses;
//! - [`json`]: Python values to JSON bytes;
//! - [`context`]: entering `contextvars` contexts under guards; shared-context claims;
//! - [`live`]: the drivers alive on a worker, cancelled at shutdown;
//! - [`stepper`]: drives handler coroutines with `PyIter_Send`, on the worker;
//! - [`task`]: the asyncio-compatible task around each driven coroutine;
//! - [`awaitable`]: a Rust future behind a Python awaitable;
//! - [`aio`]: sleep, gather, wait_for, to_thread;
//! - [`http_client`]: outgoing HTTP requests (`fastcore.http`) on the worker's runtime;
//! - [`eventloop`]: the per-worker asyncio loop's scheduling, on Tokio;
//! - [`fdwatch`]: file-descriptor readiness on the worker's reactor, the worker loop's selector;
//! - [`sync`]: Lock, Event, Semaphore and Queue on `tokio::sync`, shared across workers.

use pyo3::prelude::*;

pub mod aio;
pub mod awaitable;
pub mod body;
pub mod context;
pub mod dispatch;
pub mod eventloop;
pub mod fdwatch;
pub mod http_client;
pub mod json;
pub mod live;
pub mod request;
pub mod response;
pub mod router;
pub mod routes;
pub mod server;
pub mod stepper;
pub mod sync;
pub mod task;
pub mod worker;

/// `fastcore._core`: declared GIL-free, so importing it on 3.13t keeps the GIL off.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GIL_DISABLED", cfg!(Py_GIL_DISABLED))?;
    aio::init_pymodule(m)?;
    awaitable::init_pymodule(m)?;
    eventloop::init_pymodule(m)?;
    http_client::init_pymodule(m)?;
    json::init_pymodule(m)?;
    request::init_pymodule(m)?;
    response::init_pymodule(m)?;
    routes::init_pymodule(m)?;
    server::init_pymodule(m)?;
    sync::init_pymodule(m)?;
    task::init_pymodule(m)?;
    Ok(())
}
