//! What goes back: handler results and failures turned into HTTP responses.
//!
//! - `body`: the body hyper writes (a whole buffer or a stream) and when the background task starts;
//! - `background`: `Response.background`, run on the worker's stepper once the response is over;
//! - `stream`: `StreamingResponse` bodies, pumped on the worker with backpressure;
//! - `file`: `FileResponse` bodies, read in chunks on the blocking pool, and `Range` rules;
//! - `static_files`: a `StaticFiles` mount answered from Rust (`file_meta`: content types,
//!   `ETag`, dates);
//! - `convert`: return values (JSON-able, bytes, `fastcore.Response`, a `JsonReply`) and fastcore's own error
//!   responses (404, 405, 422, 500) as hyper responses;
//! - `answer`: a response made in Rust (a mount's) as the Python middleware sees it;
//! - `json`: Python values to JSON bytes, with the registered fallback for other types;
//! - `hooks`: the Python objects `fastcore/__init__.py` registers once (`configure`); a leaf,
//!   so the encoder and the converter both read it without reading each other.

use pyo3::prelude::*;

mod answer;
mod background;
mod body;
mod convert;
mod file;
mod file_meta;
mod hooks;
mod json;
mod static_files;
mod stream;

pub(crate) use answer::Answer;
pub(crate) use body::Body;
pub(crate) use convert::{
    bad_param, bad_param_error, detail, from_python, internal_error, method_not_allowed, not_found, plain_text,
    redirect, HttpResponse, RequestHead,
};
pub(crate) use static_files::{serve as serve_static, Served, StaticError};
pub(crate) use stream::Aborted;

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hooks::configure, m)?)?;
    json::init(m.py())?;
    m.add_function(wrap_pyfunction!(json::encode_json, m)?)?;
    m.add_function(wrap_pyfunction!(file::byte_ranges, m)?)?;
    m.add_class::<stream::ChunkSender>()?;
    m.add_class::<convert::PanicProbe>()?;
    m.add_class::<convert::JsonReply>()
}
