//! Python exceptions for the core's errors, with the command line's one-line messages.
//!
//! Every exception derives from `lossatlas.LossatlasError`, itself a `ValueError` (a bad value
//! given by the caller), so `except ValueError` catches them and `except lossatlas.FormulaError`
//! catches one kind.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    lossatlas,
    LossatlasError,
    PyValueError,
    "A value lossatlas cannot use; the message names it and the fix."
);
create_exception!(
    lossatlas,
    FormulaError,
    LossatlasError,
    "A formula that does not parse or names something unknown."
);
create_exception!(
    lossatlas,
    DataError,
    LossatlasError,
    "Data that cannot be used: bad shapes, non-finite values, labels out of range, too few rows."
);
create_exception!(
    lossatlas,
    WeightsError,
    LossatlasError,
    "Weights or directions that do not form the expected network."
);
create_exception!(
    lossatlas,
    GridError,
    LossatlasError,
    "A grid range or resolution that cannot be used, or a grid too large for memory."
);

/// Adds the exceptions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("LossatlasError", py.get_type::<LossatlasError>())?;
    m.add("FormulaError", py.get_type::<FormulaError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("WeightsError", py.get_type::<WeightsError>())?;
    m.add("GridError", py.get_type::<GridError>())?;
    Ok(())
}

/// The exception for a core error: its kind picks the class, its message is the command line's.
pub fn core(error: lossatlas::Error) -> PyErr {
    use lossatlas::Error as E;
    let message = error.to_string();
    match error {
        E::Formula(_) | E::ParameterCount { .. } => FormulaError::new_err(message),
        E::Csv { .. } | E::TooFewRows { .. } | E::Transform { .. } | E::Io { .. } => {
            DataError::new_err(message)
        }
        E::Weights { .. } => WeightsError::new_err(message),
        E::BadRange { .. } | E::BadResolution { .. } | E::GridTooLarge { .. } => GridError::new_err(message),
        _ => LossatlasError::new_err(message),
    }
}

/// The exception for a figure that cannot be drawn.
pub fn render(error: lossatlas_render::Error) -> PyErr {
    LossatlasError::new_err(error.to_string())
}

/// A bad argument of the Python API, named in `message`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    LossatlasError::new_err(message.into())
}

/// A file that cannot be written.
pub fn io(path: &std::path::Path, error: std::io::Error) -> PyErr {
    pyo3::exceptions::PyOSError::new_err(format!("cannot write `{}`: {error}", path.display()))
}

/// A core result (`lossatlas::Error` or an error that converts into it) as a Python result.
pub trait CoreResult<T> {
    /// Converts the core's error into its exception.
    fn py(self) -> PyResult<T>;
}

impl<T, E: Into<lossatlas::Error>> CoreResult<T> for Result<T, E> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| core(e.into()))
    }
}
