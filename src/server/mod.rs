//! The server: the `Server` object Python drives, and the worker threads it starts.
//!
//! - `control`: `Server` (bind one listening socket, start N workers, stop, wait);
//! - `keepalive`: the keep-alive idle timeout (requests in flight and bytes read per connection)
//!   and `run_connection`, which serves a connection to its end under it and under shutdown;
//! - `limits`: per-connection limits (head size, header count, header-read timeout) and the
//!   cap on open connections, with backpressure at accept;
//! - `malloc`: glibc malloc's mmap and trim thresholds, set at start from the largest body, so
//!   large bodies stop being mapped and unmapped (page faults) request after request;
//! - `protocol`: HTTP/1.1 and HTTP/2 (`http="1"|"2"|"auto"`, ALPN over TLS, h2c by prior
//!   knowledge) and serving one connection with them; the HTTP/2 limits;
//! - `tls`: the rustls configuration from the certificate and key files (errors at start-up);
//! - `worker`: one thread = one current-thread Tokio runtime accepting connections and
//!   handing each request to [`crate::dispatch`]; shutdown drains, then cancels coroutines.

use pyo3::prelude::*;

mod control;
mod keepalive;
mod limits;
mod malloc;
mod protocol;
mod tls;
mod worker;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<control::Server>()
}
