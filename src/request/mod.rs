//! What a handler receives: the request record and its body.
//!
//! - `raw`: `RawRequest`, the read-only record handed to Python (method, path, headers...);
//! - `body`: request bodies, read whole for sync handlers or streamed to async ones, with the
//!   size limit and the failures (413, 400) owning their responses;
//! - `whole`: a body read whole, straight into the Python `bytes` handed to the handler;
//! - `leftover`: what a handler left unread of the body, drained (or the connection closed)
//!   before the response goes out;
//! - `multipart`: the streaming multipart/form-data parser (pure Rust, unit tests);
//! - `form`: forms for Python: multipart parsing from read or unread bodies, spilled file
//!   parts handed over as file descriptors, urlencoded bodies, `parse_options_header`.

use pyo3::prelude::*;

mod body;
mod form;
mod leftover;
mod multipart;
mod raw;
mod whole;

pub(crate) use body::{collect, BodySlot, Source};
pub(crate) use leftover::{closing, settle};
#[cfg(test)]
pub(crate) mod multipart_api {
    pub(crate) use super::multipart::{parse_all, Limits};
}
pub(crate) use raw::{Https, RawRequest};

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RawRequest>()?;
    m.add_function(wrap_pyfunction!(form::parse_multipart, m)?)?;
    m.add_function(wrap_pyfunction!(form::parse_options_header, m)?)?;
    m.add_function(wrap_pyfunction!(form::parse_urlencoded, m)?)
}
