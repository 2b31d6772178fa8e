//! The server: the `Server` object Python drives, and the worker threads it starts.
//!
//! - `control`: `Server` (bind one listening socket, start N workers, stop, wait);
//! - `keepalive`: the keep-alive idle timeout (requests in flight and bytes read per connection);
//! - `limits`: per-connection limits (head size, header count, header-read timeout) and the
//!   cap on open connections, with backpressure at accept;
//! - `worker`: one thread = one current-thread Tokio runtime accepting HTTP/1 connections and
//!   handing each request to [`crate::dispatch`]; shutdown drains, then cancels coroutines.

use pyo3::prelude::*;

mod control;
mod keepalive;
mod limits;
mod worker;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<control::Server>()
}
