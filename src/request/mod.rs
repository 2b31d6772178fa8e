//! What a handler receives: the request record and its body.
//!
//! - `raw`: `RawRequest`, the read-only record handed to Python (method, path, headers...);
//! - `body`: request bodies, read whole for sync handlers or streamed to async ones, with the
//!   size limit and the failures (413, 400) owning their responses.

use pyo3::prelude::*;

mod body;
mod raw;

pub(crate) use body::{collect, BodyError, BodySlot, Source};
pub(crate) use raw::RawRequest;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RawRequest>()
}
