//! `lossatlas.Formula`: a formula model with its data and loss, as `lossatlas contour --model`
//! takes them, on numpy arrays.

use std::collections::HashMap;
use std::sync::Arc;

use lossatlas::analysis::SymmetricEigen;
use lossatlas::report::report;
use lossatlas::{
    evaluate, Axis, Dataset, GridSpec, Loss, Objective, OptimizerSpec, Plane, RunOptions, Transform,
    DEFAULT_GRID_BUDGET_BYTES,
};
use pyo3::prelude::*;

use crate::arrays::{float64, pair, resolution, vector};
use crate::errors::{invalid, CoreResult, DataError};
use crate::results::{Analysis, Descent, Hessian, Landscape, PageSource};
use numpy::{PyArrayMethods, PyUntypedArrayMethods};

/// The default range of a parameter axis, as the command line's.
const DEFAULT_RANGE: (f64, f64) = (-5.0, 5.0);

/// A formula model y = f(inputs; parameters) with its data and loss.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Formula {
    objective: Arc<Objective>,
    source: String,
}

#[pymethods]
impl Formula {
    /// `expr` names the inputs (`inputs`, default `x` for one column, `x1, x2, ...` for several)
    /// and the parameters (every other name, in order of appearance unless `params` orders them);
    /// `x` is (n,) or (n, d), `y` is (n,); `loss` is mse, mae, huber or the others the command
    /// line knows.
    #[new]
    #[pyo3(signature = (expr, x, y, *, loss = "mse", inputs = None, params = None, name = "data"))]
    fn new(
        expr: &str,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: &str,
        inputs: Option<Vec<String>>,
        params: Option<Vec<String>>,
        name: &str,
    ) -> PyResult<Formula> {
        let loss = Loss::parse(loss).py()?;
        let x = float64(x, "x")?;
        let y = vector(y, "y")?;
        let (n, d) = match x.shape() {
            [n] => (*n, 1),
            [n, d] => (*n, *d),
            shape => {
                return Err(DataError::new_err(format!("x: expected shape (n,) or (n, d), got {shape:?}")))
            }
        };
        if n != y.len() {
            return Err(DataError::new_err(format!(
                "x has {n} rows but y has {} values; give one target per row",
                y.len()
            )));
        }
        let flat = x.readonly().as_slice()?.to_vec();
        let columns: Vec<Vec<f64>> = (0..d).map(|k| (0..n).map(|i| flat[i * d + k]).collect()).collect();
        let names = match inputs {
            Some(names) if names.len() == d => names,
            Some(names) => {
                return Err(DataError::new_err(format!(
                    "inputs names {} column(s) but x has {d}; give one name per column",
                    names.len()
                )))
            }
            None if d == 1 => vec!["x".to_string()],
            None => (1..=d).map(|k| format!("x{k}")).collect(),
        };
        // Every error here is about the data (lengths, non-finite values, too few rows).
        let data =
            Dataset::with_inputs(name, names, columns, y).map_err(|e| DataError::new_err(e.to_string()))?;
        let order: Option<Vec<&str>> = params.as_ref().map(|p| p.iter().map(String::as_str).collect());
        let formula = lossatlas::Formula::parse_with(expr, data.input_names(), order.as_deref()).py()?;
        if formula.params().is_empty() {
            return Err(crate::errors::FormulaError::new_err(format!(
                "formula `{expr}` has no parameters (every name in it is an input); a landscape needs parameters"
            )));
        }
        loss.check_targets(data.y()).py()?;
        let objective = Objective::try_new(data, Arc::new(formula), loss).py()?;
        Ok(Formula { objective: Arc::new(objective), source: expr.to_string() })
    }

    /// The parameter names, in order.
    #[getter]
    fn params(&self) -> Vec<String> {
        self.objective.param_names().to_vec()
    }

    /// The loss at `theta` (one value per parameter, or a dict by name).
    fn loss(&self, py: Python<'_>, theta: &Bound<'_, PyAny>) -> PyResult<f64> {
        let theta = self.theta(theta, "theta")?;
        Ok(py.detach(|| self.objective.loss(&theta)))
    }

    /// The loss and its gradient at `theta`.
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
    ) -> PyResult<(f64, Bound<'py, numpy::PyArray1<f64>>)> {
        let theta = self.theta(theta, "theta")?;
        let (loss, grad) = py.detach(|| self.objective.gradient(&theta));
        Ok((loss, crate::arrays::array1(py, grad)))
    }

    /// The loss over a grid of two parameters: `axes` names them (default: the two parameters of
    /// a two-parameter formula), `at` holds the others ({"c": 1.0}), `ranges` gives each axis's
    /// (lo, hi) by name (default -5 to 5), `resolution` the points per axis.
    #[pyo3(signature = (ranges = None, resolution = None, axes = None, at = None))]
    fn plane(
        &self,
        py: Python<'_>,
        ranges: Option<HashMap<String, Bound<'_, PyAny>>>,
        resolution: Option<&Bound<'_, PyAny>>,
        axes: Option<(String, String)>,
        at: Option<HashMap<String, f64>>,
    ) -> PyResult<Landscape> {
        let (plane, grid) = self.plane_grid(ranges, resolution, axes, at, 101)?;
        let objective = &self.objective;
        let landscape = py.detach(|| evaluate(objective, &plane, &grid)).py()?;
        let title =
            format!("{} of y = {} on {}", objective.loss_kind(), self.source, objective.data().name());
        Ok(Landscape::new(landscape, None, title, PageSource::Formula { objective: objective.clone() }))
    }

    /// An optimizer's path from `start` (one value per parameter, or a dict by name):
    /// `optimizer` as the command line writes it ("adam:lr=0.1", "momentum:lr=0.05,beta=0.9"),
    /// at most `steps` steps, stopping early when the gradient norm falls below `tolerance`.
    #[pyo3(signature = (start, optimizer = "gd:lr=0.1", steps = 400, tolerance = 1e-8))]
    fn descend(
        &self,
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        optimizer: &str,
        steps: usize,
        tolerance: f64,
    ) -> PyResult<Descent> {
        let theta = self.theta(start, "start")?;
        let spec = OptimizerSpec::parse(optimizer).py()?;
        if steps == 0 {
            return Err(invalid("steps 0: take at least 1 step"));
        }
        if tolerance.is_nan() || tolerance < 0.0 {
            return Err(invalid(format!(
                "tolerance {tolerance}: use 0 (never stop early) or a positive number"
            )));
        }
        let options = RunOptions { max_steps: steps, tolerance, ..RunOptions::default() };
        let trajectory = py.detach(|| lossatlas::run(&self.objective, &spec, &theta, &options)).py()?;
        Ok(Descent { trajectory })
    }

    /// What `lossatlas analyze` measures on the plane `plane` would draw (same arguments): the
    /// minimum, the Hessian there, conditioning, stable step sizes, the critical points.
    #[pyo3(signature = (ranges = None, resolution = None, axes = None, at = None))]
    fn analyze(
        &self,
        py: Python<'_>,
        ranges: Option<HashMap<String, Bound<'_, PyAny>>>,
        resolution: Option<&Bound<'_, PyAny>>,
        axes: Option<(String, String)>,
        at: Option<HashMap<String, f64>>,
    ) -> PyResult<Analysis> {
        let (plane, grid) = self.plane_grid(ranges, resolution, axes, at, 61)?;
        let objective = &self.objective;
        let report = py.detach(|| -> lossatlas::Result<serde_json::Value> {
            let landscape = evaluate(objective, &plane, &grid)?;
            let report = report(objective, &landscape, Transform::None);
            Ok(serde_json::to_value(&report).expect("the report is numbers and strings"))
        });
        Ok(Analysis { report: report.py()? })
    }

    /// The exact Hessian at `at` (one value per parameter, or a dict by name), with its
    /// eigenvalues (largest first) and eigenvectors.
    fn hessian(&self, py: Python<'_>, at: &Bound<'_, PyAny>) -> PyResult<Hessian> {
        let theta = self.theta(at, "at")?;
        let n = theta.len();
        let matrix = py.detach(|| self.objective.hessian(&theta));
        let Some(eigen) = SymmetricEigen::new(&matrix, n) else {
            return Err(invalid(
                "the Hessian at this point is not finite; choose a point where the loss is finite",
            ));
        };
        // SymmetricEigen sorts ascending; results list the largest first, as for networks.
        let eigenvalues: Vec<f64> = eigen.values.iter().rev().copied().collect();
        let eigenvectors: Vec<Vec<f64>> = eigen.vectors.iter().rev().cloned().collect();
        let trace = (0..n).map(|i| matrix[i * n + i]).sum::<f64>();
        Ok(Hessian {
            eigenvalues,
            eigenvectors,
            trace: Some((trace, 0.0)),
            density: None,
            matrix: Some(matrix),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<lossatlas.Formula y = {} ({}), {} on {} rows>",
            self.source,
            self.objective.param_names().join(", "),
            self.objective.loss_kind(),
            self.objective.data().len()
        )
    }
}

impl Formula {
    /// A point in parameter space from a sequence (one value per parameter) or a dict by name.
    fn theta(&self, value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
        let names = self.objective.param_names();
        let theta = if let Ok(by_name) = value.extract::<HashMap<String, f64>>() {
            if let Some(unknown) = by_name.keys().find(|k| !names.contains(k)) {
                return Err(invalid(format!(
                    "{what} names `{unknown}`, which is not a parameter ({})",
                    names.join(", ")
                )));
            }
            names
                .iter()
                .map(|n| {
                    by_name.get(n).copied().ok_or_else(|| invalid(format!("{what} gives no value for `{n}`")))
                })
                .collect::<PyResult<Vec<f64>>>()?
        } else {
            vector(value, what)?
        };
        if theta.len() != names.len() {
            return Err(invalid(format!(
                "{what} has {} value(s) but the formula has {} parameter(s) ({})",
                theta.len(),
                names.len(),
                names.join(", ")
            )));
        }
        Ok(theta)
    }

    /// The plane of two parameters (the others held) and the grid on it.
    fn plane_grid(
        &self,
        ranges: Option<HashMap<String, Bound<'_, PyAny>>>,
        resolution_: Option<&Bound<'_, PyAny>>,
        axes: Option<(String, String)>,
        at: Option<HashMap<String, f64>>,
        default_resolution: usize,
    ) -> PyResult<(Plane, GridSpec)> {
        let names = self.objective.param_names();
        let index = |name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                invalid(format!("axes names `{name}`, which is not a parameter ({})", names.join(", ")))
            })
        };
        let (p, q) = match &axes {
            Some((a, b)) => (index(a)?, index(b)?),
            None if names.len() == 2 => (0, 1),
            None => {
                return Err(invalid(format!(
                    "the formula has {} parameters ({}); pick two with axes=(\"{}\", \"{}\") and hold the rest with at={{...}}",
                    names.len(),
                    names.join(", "),
                    names[0],
                    names[1]
                )))
            }
        };
        let at = at.unwrap_or_default();
        if let Some(unknown) = at.keys().find(|k| !names.contains(k)) {
            return Err(invalid(format!(
                "at names `{unknown}`, which is not a parameter ({})",
                names.join(", ")
            )));
        }
        let mut held = vec![0.0; names.len()];
        for (k, name) in names.iter().enumerate() {
            match at.get(name) {
                Some(&value) => held[k] = value,
                None if k != p && k != q => {
                    return Err(invalid(format!(
                        "at gives no value for `{name}`, which the plane holds fixed"
                    )))
                }
                None => {}
            }
        }
        let plane = if names.len() == 2 && (p, q) == (0, 1) && at.is_empty() {
            Plane::parameter_axes(names).py()?
        } else {
            Plane::axes(held, p, q, names).py()?
        };
        let mut ranges = ranges.unwrap_or_default();
        let [u_name, v_name] = plane.names().clone();
        let range = |name: &str, ranges: &mut HashMap<String, Bound<'_, PyAny>>| -> PyResult<(f64, f64)> {
            ranges
                .remove(name)
                .map(|r| pair(&r, &format!("ranges[\"{name}\"]")))
                .transpose()
                .map(|r| r.unwrap_or(DEFAULT_RANGE))
        };
        let (u_lo, u_hi) = range(&u_name, &mut ranges)?;
        let (v_lo, v_hi) = range(&v_name, &mut ranges)?;
        if let Some(other) = ranges.keys().next() {
            return Err(invalid(format!(
                "ranges names `{other}`, which is not an axis of the plane ({u_name}, {v_name})"
            )));
        }
        let (nu, nv) = match resolution_ {
            Some(r) => resolution(r)?,
            None => (default_resolution, default_resolution),
        };
        let grid = GridSpec::new(
            Axis::new(u_name, u_lo, u_hi, nu).py()?,
            Axis::new(v_name, v_lo, v_hi, nv).py()?,
            DEFAULT_GRID_BUDGET_BYTES,
        )
        .py()?;
        Ok((plane, grid))
    }
}
