//! The Python-facing route table: endpoints registered from Python, read by every worker.
//!
//! The table is immutable once published; `add` copies it, changes the copy and swaps it in
//! with `ArcSwap`, so workers read routes with no lock and see a change on their next request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::routing::matcher::{Lookup, ParamValue, Params, Router};
use crate::routing::mount::{DirectoryCheck, FileRoot, MimeTable, Mount, MountMatch};
use crate::util::lock;

/// A handler as the workers call it.
pub(crate) struct Endpoint {
    pub(crate) func: Py<PyAny>,
    /// `func(raw_request)` when true; `func(**path_params)` when false (the fast path for
    /// handlers whose only inputs are path parameters).
    pub(crate) takes_request: bool,
    /// A coroutine function: its body is left unread for it to await or stream.
    pub(crate) is_async: bool,
    /// How many of the app's mounts come before this route and may take some of its paths:
    /// those are tried first (`Table::lookup`), as Starlette tries routes and mounts in
    /// the order they were declared. 0 for a route no earlier mount overlaps (the common case).
    pub(crate) mounts_before: usize,
}

/// What a mount hands its requests to.
pub(crate) enum Target {
    /// Another app: its routes, error handler and mounts answer under the prefix.
    App(Arc<Routes>),
    /// A `StaticFiles` directory, served from Rust.
    Files(Arc<FileRoot>),
}

/// What one app routes: its routes and its mounts. A mount is tried when no route matched, or
/// before a route declared after it (`Endpoint::mounts_before`).
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) router: Router<Endpoint>,
    pub(crate) mounts: Vec<Mount<Target>>,
}

impl Table {
    /// The first mount, in the order they were added, that takes `raw_path`.
    pub(crate) fn mount_for(&self, raw_path: &str) -> Option<MountMatch<'_, Target>> {
        self.mounts.iter().find_map(|m| m.matches(raw_path))
    }

    /// The route for `method` and `raw_path` as the router finds it, unless a mount declared
    /// before that route takes the path: then `NotFound`, and the caller's `mount_for` finds
    /// that mount, as Starlette tries routes and mounts in declaration order. (It shadows
    /// `Router::lookup`, so every caller gets the order.) One comparison for routes that no
    /// earlier mount overlaps.
    pub(crate) fn lookup(&self, method: &str, raw_path: &str) -> Lookup<'_, Endpoint> {
        match self.router.lookup(method, raw_path) {
            Lookup::Found { handler, .. }
                if handler.mounts_before > 0
                    && self.mounts[..handler.mounts_before].iter().any(|m| m.matches(raw_path).is_some()) =>
            {
                Lookup::NotFound
            }
            found => found,
        }
    }

    /// `mounts_before` of a route on `path` added now: up to the last mount that may take a
    /// path of it.
    fn mounts_before(&self, path: &str) -> usize {
        self.mounts.iter().rposition(|m| m.may_take(path)).map_or(0, |i| i + 1)
    }

    fn copy(&self) -> Self {
        let mounts = self
            .mounts
            .iter()
            .map(|m| Mount {
                prefix: m.prefix.clone(),
                target: match &m.target {
                    Target::App(routes) => Target::App(Arc::clone(routes)),
                    Target::Files(root) => Target::Files(Arc::clone(root)),
                },
            })
            .collect();
        Self { router: self.router.clone(), mounts }
    }
}

impl std::ops::Deref for Table {
    type Target = Router<Endpoint>;

    fn deref(&self) -> &Router<Endpoint> {
        &self.router
    }
}

pub(crate) struct Routes {
    pub(crate) table: ArcSwap<Table>,
    /// WebSocket routes, matched only by upgrade requests (as the `GET` method).
    pub(crate) websockets: ArcSwap<Router<Endpoint>>,
    /// `error_handler(exc, raw_request) -> Response | coroutine`, called for every handler
    /// exception (and for results that cannot be sent); a coroutine is driven like a handler's.
    pub(crate) error_handler: Py<PyAny>,
    /// Answer a path no route has with a 307 to the same path with its trailing slash toggled,
    /// when a route has that one (FastAPI's default).
    pub(crate) redirect_slashes: bool,
    /// `route_error(raw_request, status, detail)`, set while the app has its own handler for
    /// what the router answers itself (404, 405, a path parameter's 422); None: Rust answers.
    route_error: Mutex<Option<Py<PyAny>>>,
    has_route_error: AtomicBool,
    /// The server's root path (`fastcore run --root-path`), which uvicorn puts in front of the
    /// request path: the trailing-slash redirect's `Location` carries it. Read on that path only.
    path_prefix: Mutex<String>,
    writer: Mutex<()>,
}

impl Routes {
    pub(crate) fn has_route_error(&self) -> bool {
        self.has_route_error.load(Ordering::Acquire)
    }

    /// The app's hook for the router's own errors, if it set one. One atomic load when unset.
    pub(crate) fn route_error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        if !self.has_route_error.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.route_error).as_ref().map(|hook| hook.clone_ref(py))
    }

    pub(crate) fn path_prefix(&self) -> String {
        lock(&self.path_prefix).clone()
    }
}

#[pyclass(frozen, module = "fastcore._core", name = "Router")]
pub(crate) struct PyRouter {
    pub(crate) routes: Arc<Routes>,
}

impl PyRouter {
    fn add_mount(&self, prefix: &str, target: Target) -> PyResult<()> {
        if !(prefix.is_empty() || prefix.starts_with('/')) || prefix.ends_with('/') || prefix.contains('{') {
            return Err(PyValueError::new_err(format!(
                "a mount path must be empty or start with '/', without a trailing '/' or parameters: {prefix:?}"
            )));
        }
        let _writer = lock(&self.routes.writer);
        let mut table = self.routes.table.load().copy();
        table.mounts.push(Mount { prefix: prefix.to_owned(), target });
        self.routes.table.store(Arc::new(table));
        Ok(())
    }
}

#[pymethods]
impl PyRouter {
    #[new]
    #[pyo3(signature = (error_handler, redirect_slashes = true))]
    fn new(error_handler: Py<PyAny>, redirect_slashes: bool) -> Self {
        let routes = Routes {
            table: ArcSwap::from_pointee(Table::default()),
            websockets: ArcSwap::from_pointee(Router::default()),
            error_handler,
            redirect_slashes,
            route_error: Mutex::new(None),
            has_route_error: AtomicBool::new(false),
            path_prefix: Mutex::new(String::new()),
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
        let mut table = self.routes.table.load().copy();
        let mounts_before = table.mounts_before(path);
        table
            .router
            .add(&methods, path, Arc::new(Endpoint { func: endpoint, takes_request, is_async, mounts_before }))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.routes.table.store(Arc::new(table));
        Ok(())
    }

    /// Registers a WebSocket route: `endpoint(raw_request, channel)` returns the coroutine that
    /// serves the connection (`fastcore.websockets`).
    fn add_websocket(&self, path: &str, endpoint: Py<PyAny>) -> PyResult<()> {
        let _writer = lock(&self.routes.writer);
        let mut table = Router::clone(&self.routes.websockets.load());
        table
            .add(&["GET"], path, Arc::new(Endpoint { func: endpoint, takes_request: true, is_async: true, mounts_before: 0 }))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        self.routes.websockets.store(Arc::new(table));
        Ok(())
    }

    /// Hands requests under `prefix` to another app's router (`app.mount(prefix, sub_app)`).
    fn mount_app(&self, prefix: &str, app: &PyRouter) -> PyResult<()> {
        self.add_mount(prefix, Target::App(Arc::clone(&app.routes)))
    }

    /// Serves the files under `prefix` from `directories` (`app.mount(prefix, StaticFiles(...))`),
    /// with Python's `mimetypes` tables (`types_map`, `suffix_map`, `encodings_map` keys);
    /// `check`: the `directory` argument, whose absence fails requests (Starlette's check).
    #[allow(clippy::too_many_arguments)] // StaticFiles' options and mimetypes' three tables
    #[pyo3(signature = (prefix, directories, check, html, follow_symlink, types, suffixes, encodings))]
    fn mount_files(
        &self,
        prefix: &str,
        directories: Vec<std::path::PathBuf>,
        check: Option<String>,
        html: bool,
        follow_symlink: bool,
        types: HashMap<String, String>,
        suffixes: HashMap<String, String>,
        encodings: Vec<String>,
    ) -> PyResult<()> {
        let mime = MimeTable { types, suffixes, encodings };
        let check = check.map(|directory| DirectoryCheck { directory, passed: AtomicBool::new(false) });
        self.add_mount(prefix, Target::Files(Arc::new(FileRoot { directories, check, html, follow_symlink, mime })))
    }

    /// Sends 404s, 405s and path-parameter 422s to `hook(raw_request, status, detail)` instead
    /// of answering them in Rust (`detail`: the `Allow` value for 405, the error list for 422);
    /// None turns that off again.
    fn set_route_error(&self, hook: Option<Py<PyAny>>) {
        let set = hook.is_some();
        *lock(&self.routes.route_error) = hook;
        self.routes.has_route_error.store(set, Ordering::Release);
    }

    /// The path in front of every request path in redirect URLs (the server's root path).
    fn set_path_prefix(&self, prefix: String) {
        *lock(&self.routes.path_prefix) = prefix;
    }

    fn __len__(&self) -> usize {
        self.routes.table.load().len()
    }
}

/// Converted path parameters as the keyword arguments of a handler (or `path_params`).
pub(crate) fn params_dict(py: Python<'_>, params: Params) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in params {
        match value {
            ParamValue::Str(s) => dict.set_item(name, s)?,
            ParamValue::Int(i) => dict.set_item(name, i)?,
            ParamValue::Float(f) => dict.set_item(name, f)?,
        }
    }
    Ok(dict)
}
