//! The request path: one request from hyper's parts to a response, on the worker that read it.
//!
//! - `serve`: `serve → handle → dispatch → call → respond`, read top-down;
//! - `access_log`: the access-log line, captured before the request is consumed;
//! - `forwarded`: `X-Forwarded-For`/`-Proto`, believed only from trusted proxies;
//! - `redirect`: the trailing-slash redirect, on the not-found path only.
//!
//! Registers no Python classes: everything here runs inside a worker.

mod access_log;
mod forwarded;
mod redirect;
mod serve;

pub(crate) use forwarded::Proxies;
pub(crate) use serve::{serve, Config};
