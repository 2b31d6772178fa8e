//! `CORSMiddleware`, Starlette's: preflight answers, and the `Access-Control-*` and `Vary`
//! headers of other responses.
//!
//! Python (`fastcore/middleware/cors.py`) works out the fixed headers once, as Starlette's
//! constructor does; here is only what depends on the request. An `allow_origin_regex` is
//! Python's own compiled pattern, matched (`fullmatch`) only for an origin not in the list.

use hyper::header::{HeaderName, HeaderValue, ORIGIN};
use hyper::{HeaderMap, Method, StatusCode};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::middleware::{add_vary, latin1, Note, Request, Step};
use crate::response::{self, HttpResponse};

const ALLOW_ORIGIN: HeaderName = HeaderName::from_static("access-control-allow-origin");
const ALLOW_HEADERS: HeaderName = HeaderName::from_static("access-control-allow-headers");
const ALLOW_PRIVATE_NETWORK: HeaderName = HeaderName::from_static("access-control-allow-private-network");
const REQUEST_METHOD: HeaderName = HeaderName::from_static("access-control-request-method");
const REQUEST_HEADERS: HeaderName = HeaderName::from_static("access-control-request-headers");
const REQUEST_PRIVATE_NETWORK: HeaderName = HeaderName::from_static("access-control-request-private-network");

type Headers = Vec<(HeaderName, HeaderValue)>;

#[allow(clippy::struct_excessive_bools)] // Starlette's settings, one to one
pub(crate) struct Cors {
    allow_all_origins: bool,
    allow_origins: Vec<String>,
    /// A compiled `re.Pattern`.
    origin_regex: Option<Py<PyAny>>,
    allow_methods: Vec<String>,
    allow_all_headers: bool,
    /// Lower-cased, the safelisted ones included.
    allow_headers: Vec<String>,
    allow_credentials: bool,
    allow_private_network: bool,
    preflight_explicit_allow_origin: bool,
    simple_headers: Headers,
    preflight_headers: Headers,
}

impl Cors {
    pub(crate) fn from_python(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let headers = |i: usize| -> PyResult<Headers> {
            let pairs: Vec<(String, String)> = spec.get_item(i)?.extract()?;
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let name = HeaderName::from_bytes(k.as_bytes())
                        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("header {k:?}: {e}")))?;
                    let value = HeaderValue::from_str(&v)
                        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("header {k:?}: {e}")))?;
                    Ok((name, value))
                })
                .collect()
        };
        let regex = spec.get_item(3)?;
        Ok(Self {
            allow_all_origins: spec.get_item(1)?.extract()?,
            allow_origins: spec.get_item(2)?.extract()?,
            origin_regex: (!regex.is_none()).then(|| regex.unbind()),
            allow_methods: spec.get_item(4)?.extract()?,
            allow_all_headers: spec.get_item(5)?.extract()?,
            allow_headers: spec.get_item(6)?.extract()?,
            allow_credentials: spec.get_item(7)?.extract()?,
            allow_private_network: spec.get_item(8)?.extract()?,
            preflight_explicit_allow_origin: spec.get_item(9)?.extract()?,
            simple_headers: headers(10)?,
            preflight_headers: headers(11)?,
        })
    }

    pub(crate) fn request(&self, req: &Request) -> Step {
        let origin = req.headers().get(ORIGIN);
        match origin {
            Some(origin) if req.method() == Method::OPTIONS && req.headers().contains_key(REQUEST_METHOD) => {
                Step::Answer(self.preflight(origin, req.headers()))
            }
            _ => Step::Next(Note::Cors(origin.cloned())),
        }
    }

    fn is_allowed_origin(&self, origin: &str) -> bool {
        if self.allow_all_origins {
            return true;
        }
        if let Some(regex) = &self.origin_regex {
            let matched =
                Python::attach(|py| regex.bind(py).call_method1("fullmatch", (origin,)).is_ok_and(|m| !m.is_none()));
            if matched {
                return true;
            }
        }
        self.allow_origins.iter().any(|o| o == origin)
    }

    fn preflight(&self, origin: &HeaderValue, request: &HeaderMap) -> HttpResponse {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.preflight_headers {
            headers.insert(name.clone(), value.clone());
        }
        let mut failures: Vec<&str> = Vec::new();
        if self.is_allowed_origin(&latin1(origin)) {
            if self.preflight_explicit_allow_origin {
                headers.insert(ALLOW_ORIGIN, origin.clone());
            }
        } else {
            failures.push("origin");
        }
        let method = request.get(REQUEST_METHOD).map(latin1).unwrap_or_default();
        if !self.allow_methods.contains(&method) {
            failures.push("method");
        }
        if let Some(requested) = request.get(REQUEST_HEADERS) {
            if self.allow_all_headers {
                headers.insert(ALLOW_HEADERS, requested.clone());
            } else {
                let requested = latin1(requested).to_lowercase();
                if requested.split(',').any(|h| !self.allow_headers.iter().any(|a| a == h.trim())) {
                    failures.push("headers");
                }
            }
        }
        if request.contains_key(REQUEST_PRIVATE_NETWORK) {
            if self.allow_private_network {
                headers.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
            } else {
                failures.push("private-network");
            }
        }
        let mut resp = if failures.is_empty() {
            response::plain_text(StatusCode::OK, "OK")
        } else {
            response::plain_text(StatusCode::BAD_REQUEST, format!("Disallowed CORS {}", failures.join(", ")))
        };
        for (name, value) in headers {
            if let Some(name) = name {
                resp.headers_mut().insert(name, value);
            }
        }
        resp
    }

    /// Starlette's `CORSMiddleware.send`: the simple headers when the request had an `Origin`,
    /// the origin mirrored when it must be, `Vary: Origin` otherwise.
    pub(crate) fn response(&self, mut resp: HttpResponse, origin: Option<&HeaderValue>) -> HttpResponse {
        let headers = resp.headers_mut();
        if let Some(origin) = origin {
            for (name, value) in &self.simple_headers {
                headers.insert(name.clone(), value.clone());
            }
            let explicit =
                if self.allow_all_origins { self.allow_credentials } else { self.is_allowed_origin(&latin1(origin)) };
            if explicit {
                headers.insert(ALLOW_ORIGIN, origin.clone());
            }
        }
        add_vary(headers, "Origin");
        resp
    }
}
