//! The Python package `lossatlas`: the engine of the command line under a small numpy API.
//!
//! Models carry their data, as the command line's problems do: a [`formula::Formula`] (a formula
//! with data arrays) and a [`network::Network`] (a trained network with its data: an
//! [`network::Mlp`] or an [`network::Onnx`] model, subclasses of `Network`). Their
//! methods mirror the command line's nouns (`plane`, `line`, `pca`, `hessian`, `descend`,
//! `analyze`) and return the typed results of [`results`], whose arrays are numpy arrays in the
//! orientation of the NPY export (rows along the second direction). Every computation runs with
//! the GIL released, so a notebook stays responsive and Python threads run in parallel.
//!
//! The Python side of the package (python/lossatlas) re-exports these classes, adds the
//! module-level functions and the optional matplotlib and xarray interop, and carries the type
//! stub.

mod arrays;
mod errors;
mod formula;
mod network;
mod results;

use pyo3::prelude::*;

/// The extension module `lossatlas._lossatlas`.
#[pymodule]
fn _lossatlas(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<formula::Formula>()?;
    m.add_class::<network::Network>()?;
    m.add_class::<network::Mlp>()?;
    m.add_class::<network::Onnx>()?;
    m.add_class::<results::Landscape>()?;
    m.add_class::<results::Line>()?;
    m.add_class::<results::Pca>()?;
    m.add_class::<results::Hessian>()?;
    m.add_class::<results::Descent>()?;
    m.add_class::<results::Analysis>()?;
    m.add_function(wrap_pyfunction!(network::dataset, m)?)?;
    Ok(())
}
