//! The app's middleware, planned once when the server is made, run around every request.
//!
//! Starlette's built-in middleware is done here in Rust (`cors`: `CORSMiddleware`, `gzip`:
//! `GZipMiddleware`, `hosts`: `TrustedHostMiddleware` and `HTTPSRedirectMiddleware`), in the
//! order the app added them: each layer may answer the request itself (a preflight, a bad
//! host, a redirect), or note what it needs and rework the response on the way out. The app's
//! Python middleware (`BaseHTTPMiddleware`, `@app.middleware("http")`) is the `python` entry,
//! which the dispatcher calls instead of the handler; it runs inside the built-in layers.
//!
//! An app with no middleware gets no `Plan` at all: its requests skip this module entirely.

use std::future::Future;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::HeaderMap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use smallvec::SmallVec;

use crate::response::HttpResponse;
use crate::runtime::attach;

mod cors;
mod gzip;
mod hosts;

pub(crate) use hosts::{quote_url, url_path};

type Request = hyper::Request<Incoming>;

/// The middleware of one app, outermost first.
pub(crate) struct Plan {
    layers: Vec<Layer>,
    /// `entry(raw_request, kind, a, b, c)` runs the Python middleware and, inside it, the
    /// route (see `python/fastcore/middleware/stack.py`); None when the app has none.
    pub(crate) python: Option<Py<PyAny>>,
}

enum Layer {
    Cors(cors::Cors),
    Gzip(gzip::Gzip),
    TrustedHost(hosts::TrustedHost),
    HttpsRedirect,
}

/// What a layer noted of the request, for its work on the response.
enum Note {
    Nothing,
    /// The request's `Origin`.
    Cors(Option<HeaderValue>),
    /// Whether the client accepts gzip.
    Gzip {
        accepts: bool,
    },
}

/// A layer's verdict on a request: answered here, or passed on with a note.
enum Step {
    Answer(HttpResponse),
    Next(Note),
}

impl Plan {
    /// Builds the plan from `(layers, entry)`: `layers` are the tuples the middleware classes'
    /// `_native()` give (`("cors", ...)`, `("gzip", ...)`, ...), outermost first.
    pub(crate) fn from_python(spec: &Bound<'_, PyAny>) -> PyResult<Option<Self>> {
        if spec.is_none() {
            return Ok(None);
        }
        let (layers, entry): (Bound<'_, PyList>, Option<Py<PyAny>>) = spec.extract()?;
        let mut built = Vec::with_capacity(layers.len());
        for layer in layers.iter() {
            let layer = layer.cast_into::<PyTuple>()?;
            let kind: String = layer.get_item(0)?.extract()?;
            built.push(match kind.as_str() {
                "cors" => Layer::Cors(cors::Cors::from_python(&layer)?),
                "gzip" => Layer::Gzip(gzip::Gzip::from_python(&layer)?),
                "trustedhost" => Layer::TrustedHost(hosts::TrustedHost::from_python(&layer)?),
                "httpsredirect" => Layer::HttpsRedirect,
                other => return Err(PyValueError::new_err(format!("unknown native middleware {other:?}"))),
            });
        }
        if built.is_empty() && entry.is_none() {
            return Ok(None);
        }
        Ok(Some(Self { layers: built, python: entry }))
    }

    /// Runs `inner` (the app) inside the layers. A layer that answers by itself sends its
    /// response out through the layers outside it only, as Starlette's stack does.
    pub(crate) async fn around<F, Fut>(&self, req: Request, inner: F) -> HttpResponse
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = HttpResponse>,
    {
        let mut notes: SmallVec<[Note; 4]> = SmallVec::new();
        for layer in &self.layers {
            let step = match layer {
                Layer::Cors(cors) => cors.request(&req),
                Layer::Gzip(_) => Step::Next(gzip::accepts(&req)),
                Layer::TrustedHost(hosts) => hosts.request(&req),
                Layer::HttpsRedirect => hosts::https_redirect(&req),
            };
            match step {
                Step::Next(note) => notes.push(note),
                Step::Answer(resp) => {
                    attach::safe_point();
                    return self.outward(resp, notes).await;
                }
            }
        }
        let resp = inner(req).await;
        self.outward(resp, notes).await
    }

    /// The response on its way out, through the layers that noted the request, innermost first.
    async fn outward(&self, mut resp: HttpResponse, notes: SmallVec<[Note; 4]>) -> HttpResponse {
        for (layer, note) in self.layers.iter().zip(notes).rev() {
            resp = match (layer, note) {
                (Layer::Cors(cors), Note::Cors(origin)) => cors.response(resp, origin.as_ref()),
                (Layer::Gzip(gzip), Note::Gzip { accepts }) => gzip.response(resp, accepts).await,
                (_, _) => resp,
            };
        }
        resp
    }
}

/// A request header as Python's ASGI servers hand it over: latin-1.
fn latin1(value: &HeaderValue) -> String {
    value.as_bytes().iter().map(|&b| char::from(b)).collect()
}

/// `", ".join([*headers.getlist("vary"), value])`, set as the one `vary` header.
fn add_vary(headers: &mut HeaderMap, value: &str) {
    let mut joined = Vec::new();
    for v in headers.get_all(hyper::header::VARY) {
        joined.extend_from_slice(v.as_bytes());
        joined.extend_from_slice(b", ");
    }
    joined.extend_from_slice(value.as_bytes());
    if let Ok(v) = HeaderValue::from_bytes(&joined) {
        headers.insert(hyper::header::VARY, v);
    }
}
