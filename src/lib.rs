//! fastcore's Rust core: an HTTP server whose workers call Python handlers in place.
//!
//! Table of contents, in the order a request meets them:
//! - [`server`]: the `Server` Python drives (bind, start, stop, wait) and its worker threads,
//!   one current-thread Tokio runtime each, accepting and serving HTTP/1 connections;
//! - [`dispatch`]: one request from hyper's parts to a response (body, route, call, respond),
//!   and the access log;
//! - [`middleware`]: the app's middleware around each request: Starlette's CORS, GZip,
//!   TrustedHost and HTTPSRedirect done in Rust, and the entry to the Python middleware;
//! - [`routing`]: the pure path matcher (unit-tested) and the route table Python fills,
//!   swapped atomically with `ArcSwap`;
//! - [`request`]: the read-only request record handed to Python, and request bodies;
//! - [`response`]: handler results and failures to HTTP responses, JSON encoding, and the
//!   Python hooks (`fastcore.Response`, the JSON fallback) they use;
//! - [`runtime`]: the coroutine runtime on each worker: thread attachment, awaitables, the
//!   stepper, tasks, the asyncio loop's scheduling, sleep/gather/wait_for/to_thread and the
//!   Lock/Event/Semaphore/Queue primitives;
//! - [`ws`]: WebSocket upgrades, the channel Python drives, and the per-socket frame pump;
//! - [`client`]: outgoing HTTP requests (`fastcore.http`) on the worker's runtime;
//! - [`util`]: small helpers every folder uses (poison-free locking, the coroutine check).
//!
//! Dependencies between folders point one way: `server` → `dispatch` → (`middleware`, `ws`) → `request` →
//! `response` → `routing`, and every folder may use `runtime` and `util` (which use nothing
//! outside themselves); `client` uses only `runtime` and `util`. No two modules import each
//! other (`python3 /work/shared/tools/cycles.py .` checks files).

use pyo3::prelude::*;

mod client;
mod dispatch;
mod middleware;
mod request;
mod response;
mod routing;
mod runtime;
mod server;
mod util;
mod ws;
#[cfg(test)]
mod proptests;

/// `fastcore._core`: declared GIL-free, so importing it on 3.13t keeps the GIL off.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GIL_DISABLED", cfg!(Py_GIL_DISABLED))?;
    client::init_pymodule(m)?;
    request::init_pymodule(m)?;
    response::init_pymodule(m)?;
    routing::init_pymodule(m)?;
    runtime::init_pymodule(m)?;
    server::init_pymodule(m)?;
    ws::init_pymodule(m)?;
    Ok(())
}
