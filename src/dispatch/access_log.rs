//! The access log: one line per request, handed to a Python callable once its response is ready.

use std::net::SocketAddr;

use hyper::StatusCode;
use pyo3::prelude::*;

/// The request half of an access-log line, captured before the request is consumed.
pub(crate) struct AccessLine {
    client: String,
    method: String,
    target: String,
    version: &'static str,
}

impl AccessLine {
    pub(crate) fn new<B>(req: &hyper::Request<B>, peer: SocketAddr) -> Self {
        let target = req.uri().path_and_query().map_or_else(|| "/".to_owned(), ToString::to_string);
        let version = match req.version() {
            hyper::Version::HTTP_10 => "1.0",
            hyper::Version::HTTP_2 => "2",
            _ => "1.1",
        };
        Self { client: peer.to_string(), method: req.method().to_string(), target, version }
    }

    pub(crate) fn emit(self, log: &Py<PyAny>, status: StatusCode) {
        Python::attach(|py| {
            if let Err(e) = log.bind(py).call1((self.client, self.method, self.target, self.version, status.as_u16())) {
                e.print(py);
            }
        });
    }
}
