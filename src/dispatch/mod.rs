//! The request path: one request from hyper's parts to a response, on the worker that read it.
//!
//! - `serve`: `serve → handle → dispatch → call → respond`, read top-down;
//! - `access_log`: the access-log line, captured before the request is consumed;
//! - `forwarded`: `X-Forwarded-For`/`-Proto`, believed only from trusted proxies;
//! - `mount_call`: a request a mount answers, handed to the Python middleware to run;
//! - `redirect`: the trailing-slash redirect, on the not-found path only;
//! - `route_error`: the router's own 404/405/422 answers, or the app's hook for them.
//!
//! Registers no Python classes: everything here runs inside a worker.

mod access_log;
mod forwarded;
mod mount_call;
mod redirect;
mod route_error;
mod serve;

pub(crate) use forwarded::Proxies;
pub(crate) use serve::{serve, Config};
