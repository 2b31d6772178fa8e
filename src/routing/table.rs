//! The Python-facing route table: endpoints registered from Python, read by every worker.
//!
//! The table is immutable once published; `add` copies it, changes the copy and swaps it in
//! with `ArcSwap`, so workers read routes with no lock and see a change on their next request.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::routing::matcher::Router;
use crate::util::lock;

/// A handler as the workers call it.
pub(crate) struct Endpoint {
    pub(crate) func: Py<PyAny>,
    /// `func(raw_request)` when true; `func(**path_params)` when false (the fast path for
    /// handlers whose only inputs are path parameters).
    pub(crate) takes_request: bool,
    /// A coroutine function: its body is left unread for it to await or stream.
    pub(crate) is_async: bool,
}

pub(crate) struct Routes {
    pub(crate) table: ArcSwap<Router<Endpoint>>,
    /// `error_handler(exc, raw_request) -> Response | coroutine`, called for every handler
    /// exception (and for results that cannot be sent); a coroutine is driven like a handler's.
    pub(crate) error_handler: Py<PyAny>,
    /// Answer a path no route has with a 307 to the same path with its trailing slash toggled,
    /// when a route has that one (FastAPI's default).
    pub(crate) redirect_slashes: bool,
    writer: Mutex<()>,
}

#[pyclass(frozen, module = "fastcore._core", name = "Router")]
pub(crate) struct PyRouter {
    pub(crate) routes: Arc<Routes>,
}

#[pymethods]
impl PyRouter {
    #[new]
    #[pyo3(signature = (error_handler, redirect_slashes = true))]
    fn new(error_handler: Py<PyAny>, redirect_slashes: bool) -> Self {
        let routes = Routes {
            table: ArcSwap::from_pointee(Router::default()),
            error_handler,
            redirect_slashes,
            writer: Mutex::new(()),
        };
        Self { routes: Arc::new(routes) }
    }

    /// Registers `endpoint` for `methods` on `path` (e.g. `/users/{user_id:int}`).
    #[pyo3(signature = (methods, path, endpoint, takes_request, is_async = false))]
    fn add(
        &self,
        methods: Vec<String>,
        path: &str,
        endpoint: Py<PyAny>,
        takes_request: bool,
        is_async: bool,
    ) -> PyResult<()> {
        if methods.is_empty() {
            return Err(PyValueError::new_err("a route needs at least one method"));
        }
        let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
        let _writer = lock(&self.routes.writer);
        let mut table = Router::clone(&self.routes.table.load());
        table
            .add(&methods, path, Arc::new(Endpoint { func: endpoint, takes_request, is_async }))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.routes.table.store(Arc::new(table));
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.routes.table.load().len()
    }
}
