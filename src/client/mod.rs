//! The outgoing HTTP client (`fastcore.http`): requests run on the calling worker's runtime,
//! awaited by the stepper like any other fastcore awaitable.

use pyo3::prelude::*;

mod http;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<http::HttpClient>()
}
