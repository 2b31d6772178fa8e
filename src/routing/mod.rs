//! Routing: from a method and path to an endpoint and its converted path parameters.
//!
//! - `matcher`: patterns, converters, method dispatch; pure Rust with unit tests, no Python;
//! - `mount`: path prefixes handed to another app's routes or to a static directory;
//! - `table`: the route table Python fills (`_core.Router`), read lock-free by every worker.

use pyo3::prelude::*;

mod matcher;
mod mount;
mod table;

pub(crate) use matcher::{ConversionError, Converter, Lookup, Params};
pub(crate) use mount::{FileRoot, MimeTable, MountMatch};
pub(crate) use table::{params_dict, Endpoint, PyRouter, Routes, Table, Target};

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRouter>()
}

#[cfg(test)]
pub(crate) mod matcher_api {
    pub(crate) use super::matcher::{Lookup, ParamValue, Router};
}
