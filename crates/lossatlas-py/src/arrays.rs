//! numpy arrays in and out. Inputs of any numeric dtype and layout are taken through
//! `numpy.ascontiguousarray(..., float64)`, which returns the array itself when it is already a
//! contiguous float64 array (no copy); outputs hand their `Vec` to numpy without copying.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::invalid;

/// `value` as a contiguous float64 array (a copy only when its dtype or layout differ).
pub fn float64<'py>(value: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let numpy = value.py().import("numpy")?;
    let array = numpy
        .call_method1("ascontiguousarray", (value, "float64"))
        .map_err(|e| invalid(format!("{what}: cannot read it as an array of numbers ({e})")))?;
    Ok(array.cast_into::<PyArrayDyn<f64>>()?)
}

/// A one-dimensional array of numbers as a `Vec`.
pub fn vector(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let array = float64(value, what)?;
    if array.ndim() != 1 {
        return Err(invalid(format!("{what}: expected a 1-D array, got shape {:?}", array.shape())));
    }
    Ok(array.readonly().as_slice()?.to_vec())
}

/// An array of numbers, flattened in C order, with its shape.
pub fn flat(value: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<f64>, Vec<usize>)> {
    let array = float64(value, what)?;
    let shape = array.shape().to_vec();
    Ok((array.readonly().as_slice()?.to_vec(), shape))
}

/// A 1-D numpy array owning `values`.
pub fn array1(py: Python<'_>, values: Vec<f64>) -> Bound<'_, PyArray1<f64>> {
    values.into_pyarray(py)
}

/// A 2-D numpy array of `rows` rows owning the row-major `values`.
pub fn array2(py: Python<'_>, values: Vec<f64>, rows: usize) -> PyResult<Bound<'_, PyArray2<f64>>> {
    let cols = values.len().checked_div(rows).unwrap_or(0);
    let array = Array2::from_shape_vec((rows, cols), values).map_err(|e| invalid(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// Rows of equal length as a 2-D numpy array.
pub fn rows<'py>(py: Python<'py>, rows: &[Vec<f64>]) -> PyResult<Bound<'py, PyArray2<f64>>> {
    array2(py, rows.concat(), rows.len())
}

/// A pair of numbers `(lo, hi)`.
pub fn pair(value: &Bound<'_, PyAny>, what: &str) -> PyResult<(f64, f64)> {
    value
        .extract::<(f64, f64)>()
        .map_err(|_| invalid(format!("{what}: expected two numbers (lo, hi), got {value}")))
}

/// A resolution: one count for both axes, or two.
pub fn resolution(value: &Bound<'_, PyAny>) -> PyResult<(usize, usize)> {
    if let Ok(n) = value.extract::<usize>() {
        return Ok((n, n));
    }
    value
        .extract::<(usize, usize)>()
        .map_err(|_| invalid(format!("resolution: expected a count or two counts (nu, nv), got {value}")))
}

/// A JSON value as Python objects (dicts, lists, floats, ints, strings, None).
pub fn json(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use pyo3::types::{PyDict, PyList};
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}
