//! Exposes `Py_GIL_DISABLED` and the Python-version cfgs to the crate.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
