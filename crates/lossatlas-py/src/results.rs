//! The typed results: a [`Landscape`] over a plane, a [`Line`], a training path in its principal
//! plane ([`Pca`]), curvature ([`Hessian`]), an optimizer's path ([`Descent`]) and a formula's
//! measurements ([`Analysis`]). Arrays come out as numpy arrays; a landscape draws itself (the
//! interactive page inline in Jupyter, PNG/SVG through lossatlas's renderer, matplotlib and xarray
//! through the Python side of the package).

use std::path::PathBuf;
use std::sync::Arc;

use lossatlas::export::{self, LandscapeFormat};
use lossatlas::report::report;
use lossatlas::{Axis, GridSpec, Objective, Trajectory, Transform, DEFAULT_GRID_BUDGET_BYTES};
use lossatlas_render::page::{self, LandscapeView, Limits, Mode, NetworkView};
use lossatlas_render::{render, ContourFigure, ImageFormat, SurfaceFigure};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays::{array1, array2, json, rows};
use crate::errors::{self, invalid, CoreResult};

/// What the interactive page says beside a landscape's map.
#[derive(Debug, Clone)]
pub enum PageSource {
    /// A formula's landscape: the page shows its measurements (`analyze`).
    Formula {
        /// The formula with its data.
        objective: Arc<Objective>,
    },
    /// A network's landscape: the page describes the network and the plane.
    Network {
        /// The network, its data, the plane and the loss at the weights.
        view: NetworkView,
        /// "2-64-64-2 tanh network on moons".
        case_title: String,
        /// The loss's name.
        loss: String,
    },
}

/// Grid points per axis of the landscape a formula page's measurements use (as `lossatlas page`).
const ANALYSIS_RESOLUTION: usize = 61;

/// The loss over a grid of a plane theta(u, v) = origin + u * d1 + v * d2.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Landscape {
    inner: lossatlas::Landscape,
    accuracy: Option<Vec<f64>>,
    title: String,
    page: PageSource,
}

impl Landscape {
    /// Wraps a computed landscape.
    pub fn new(
        inner: lossatlas::Landscape,
        accuracy: Option<Vec<f64>>,
        title: String,
        page: PageSource,
    ) -> Landscape {
        Landscape { inner, accuracy, title, page }
    }

    /// The landscape itself.
    pub fn inner(&self) -> &lossatlas::Landscape {
        &self.inner
    }

    /// The page's island for this landscape and `paths`.
    fn page_data(&self, paths: &[Trajectory]) -> PyResult<serde_json::Value> {
        let landscape = &self.inner;
        let plane = landscape.plane();
        let paths = page::path_views(paths, plane);
        let start = paths.first().and_then(|p| p.points.first()).map(|p| [p[0], p[1]]);
        let view = match &self.page {
            PageSource::Network { view, case_title, loss } => serde_json::to_value(LandscapeView::network(
                landscape,
                self.title.clone(),
                case_title.clone(),
                loss.clone(),
                view.clone(),
                start,
            )),
            PageSource::Formula { objective } => {
                // The measurements need no fine grid (critical points are refined by Newton's
                // method from the grid's candidates), as `lossatlas page` computes them.
                let coarse = |a: &Axis| Axis::new(a.name(), a.min(), a.max(), a.n().min(ANALYSIS_RESOLUTION));
                let grid = GridSpec::new(
                    coarse(landscape.u()).py()?,
                    coarse(landscape.v()).py()?,
                    DEFAULT_GRID_BUDGET_BYTES,
                )
                .py()?;
                let coarse_landscape = lossatlas::evaluate(objective, plane, &grid).py()?;
                let analysis = report(objective, &coarse_landscape, Transform::None);
                serde_json::to_value(LandscapeView {
                    case: "formula".into(),
                    case_title: self.title.clone(),
                    title: self.title.clone(),
                    model: objective.model().name().to_string(),
                    loss: objective.loss_kind().to_string(),
                    data: Some(analysis.data.clone()),
                    start,
                    analysis: Some(analysis),
                    ..LandscapeView::of(landscape, page::nice_levels(landscape, 12))
                })
            }
        }
        .map_err(|e| invalid(e.to_string()))?;
        let paths = serde_json::to_value(&paths).map_err(|e| invalid(e.to_string()))?;
        // A static page: the live server's limits only bound controls it does not show.
        let limits = Limits { max_steps: 5000, max_lr: 100.0 };
        let selected: Vec<&str> = Vec::new();
        Ok(page::page_data(Mode::Static, &[], view, paths, 0.0, &selected, limits))
    }
}

/// The trajectories of `paths` (a `Descent`, a list of them, or None).
fn trajectories(paths: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Trajectory>> {
    let Some(paths) = paths else { return Ok(Vec::new()) };
    if let Ok(one) = paths.cast::<Descent>() {
        return Ok(vec![one.get().trajectory.clone()]);
    }
    let mut out = Vec::new();
    for item in paths.try_iter()? {
        let item = item?;
        let type_name = item.get_type().name()?.to_string();
        let descent = item
            .cast::<Descent>()
            .map_err(|_| invalid(format!("paths: expected Descent results, got {type_name}")))?;
        out.push(descent.get().trajectory.clone());
    }
    Ok(out)
}

#[pymethods]
impl Landscape {
    /// The loss, shape (n_v, n_u): rows along the second direction, as the NPY export.
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        array2(py, self.inner.values().to_vec(), self.inner.v().n())
    }

    /// The accuracy at each grid point (a classifier network's plane), or None.
    #[getter]
    fn accuracy<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        self.accuracy.as_ref().map(|a| array2(py, a.clone(), self.inner.v().n())).transpose()
    }

    /// The grid's values along the first direction (the columns).
    #[getter]
    fn u<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.inner.u().values())
    }

    /// The grid's values along the second direction (the rows).
    #[getter]
    fn v<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.inner.v().values())
    }

    /// The axis names (u, v).
    #[getter]
    fn names(&self) -> (String, String) {
        let [u, v] = self.inner.plane().names();
        (u.clone(), v.clone())
    }

    /// The plane's origin (every parameter).
    #[getter]
    fn origin<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.inner.plane().origin().to_vec())
    }

    /// The plane's two directions, shape (2, n_params).
    #[getter]
    fn directions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (d1, d2) = self.inner.plane().directions();
        rows(py, &[d1.to_vec(), d2.to_vec()])
    }

    /// The lowest finite loss on the grid as (u, v, loss), or None.
    #[getter]
    fn minimum(&self) -> Option<(f64, f64, f64)> {
        self.inner.minimum().map(|m| (m.u, m.v, m.loss))
    }

    /// What the landscape shows, as figures title it.
    #[getter]
    fn title(&self) -> String {
        self.title.clone()
    }

    /// (n_v, n_u).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.v().n(), self.inner.u().n())
    }

    /// The parameters at the grid point (u, v) of the plane.
    fn point<'py>(&self, py: Python<'py>, u: f64, v: f64) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.inner.plane().point(u, v))
    }

    /// Writes the landscape as .json, .csv, .npy or .vts (a VTK structured grid for ParaView), the
    /// command line's export formats.
    fn export(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let Some(format) = LandscapeFormat::from_extension(ext) else {
            return Err(invalid(format!(
                "export `{}`: use a name ending in .json, .csv, .npy or .vts",
                path.display()
            )));
        };
        let bytes = py.detach(|| export::landscape(&self.inner, format));
        std::fs::write(&path, bytes).map_err(|e| errors::io(&path, e))
    }

    /// The landscape as a VTK structured grid (.vts XML), as bytes.
    fn vts<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| export::landscape(&self.inner, LandscapeFormat::Vts));
        PyBytes::new(py, &bytes)
    }

    /// Draws the landscape with lossatlas's renderer into .png or .svg: `kind` "contour" (a
    /// filled contour map, 800 x 700) or "surface" (900 x 700), `levels` automatic levels or a
    /// list, `paths` Descent results drawn on it.
    #[pyo3(signature = (path, kind = "contour", levels = None, size = None, paths = None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        kind: &str,
        levels: Option<&Bound<'_, PyAny>>,
        size: Option<(u32, u32)>,
        paths: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let format = ImageFormat::from_path(&path).map_err(errors::render)?;
        let levels = match levels {
            None => lossatlas::auto_levels(&self.inner, 12),
            Some(l) => match l.extract::<usize>() {
                Ok(count) => lossatlas::auto_levels(&self.inner, count),
                Err(_) => l
                    .extract::<Vec<f64>>()
                    .map_err(|_| invalid("levels: give a count or a list of losses"))?,
            },
        };
        let overlays = overlays(&self.inner, &trajectories(paths)?);
        let (u_name, v_name) = self.names();
        let bytes = py.detach(|| match kind {
            "contour" => {
                let figure = ContourFigure::new(&self.inner, levels)
                    .title(self.title.as_str())
                    .x_label(u_name.as_str())
                    .y_label(v_name.as_str())
                    .filled(true)
                    .paths(overlays);
                render(&figure, format, size.unwrap_or((800, 700))).map_err(errors::render)
            }
            "surface" => {
                let figure = SurfaceFigure::new(&self.inner)
                    .title(self.title.as_str())
                    .x_label(u_name.as_str())
                    .y_label(v_name.as_str())
                    .paths(overlays);
                figure.validate().map_err(errors::render)?;
                render(&figure, format, size.unwrap_or((900, 700))).map_err(errors::render)
            }
            other => Err(invalid(format!("kind `{other}`: use \"contour\" or \"surface\""))),
        })?;
        std::fs::write(&path, bytes).map_err(|e| errors::io(&path, e))
    }

    /// The interactive page (one self-contained HTML document, no network needed), with `paths`
    /// (Descent results) on it.
    #[pyo3(signature = (paths = None))]
    fn page_html(&self, paths: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let data = self.page_data(&trajectories(paths)?)?;
        Ok(page::page(&data))
    }

    /// The interactive page inline in Jupyter: the page in an iframe of its own (its script and
    /// styles kept apart from the notebook's), with nothing fetched from anywhere.
    fn _repr_html_(&self) -> PyResult<String> {
        let html = self.page_html(None)?;
        Ok(format!(
            "<iframe srcdoc=\"{}\" style=\"width: 100%; height: 760px; border: 0\" \
             sandbox=\"allow-scripts\" title=\"{}\"></iframe>",
            page::html_escape(&html),
            page::html_escape(&self.title)
        ))
    }

    /// Draws the landscape with matplotlib (filled contours and lines) on `ax` (a new figure if
    /// None) and returns the axes. Needs matplotlib.
    #[pyo3(signature = (ax = None, levels = None, filled = true))]
    fn plot<'py>(
        slf: &Bound<'py, Self>,
        ax: Option<&Bound<'py, PyAny>>,
        levels: Option<&Bound<'py, PyAny>>,
        filled: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let interop = slf.py().import("lossatlas._interop")?;
        interop.call_method1("plot_landscape", (slf, ax, levels, filled))
    }

    /// The landscape as an `xarray.DataArray` with coordinates named after the axes (and the
    /// accuracy as a second variable in a Dataset when there is one). Needs xarray.
    fn to_xarray<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let interop = slf.py().import("lossatlas._interop")?;
        interop.call_method1("landscape_to_xarray", (slf,))
    }

    fn __repr__(&self) -> String {
        let (u, v) = self.names();
        let minimum =
            self.inner.minimum().map_or("none".to_string(), |m| format!("{}", page::round(m.loss, 6)));
        format!(
            "<lossatlas.Landscape {}: {} x {} grid over ({u}, {v}), lowest loss {minimum}>",
            self.title,
            self.inner.v().n(),
            self.inner.u().n()
        )
    }
}

/// `paths` as the renderer draws them: projected on the landscape's plane.
fn overlays(landscape: &lossatlas::Landscape, paths: &[Trajectory]) -> Vec<lossatlas_render::PathOverlay> {
    let plane = landscape.plane();
    paths
        .iter()
        .enumerate()
        .map(|(k, t)| lossatlas_render::PathOverlay {
            label: t.spec().label(),
            color: lossatlas_render::PATH_COLORS[k % lossatlas_render::PATH_COLORS.len()],
            points: t
                .steps()
                .iter()
                .take_while(|s| s.loss.is_finite())
                .map(|s| {
                    let (u, v) = plane.project(&s.params);
                    [u, v]
                })
                .collect(),
            losses: Some(t.steps().iter().take_while(|s| s.loss.is_finite()).map(|s| s.loss).collect()),
        })
        .collect()
}

/// A network's loss (and accuracy) along a straight line through weight space:
/// weights(alpha) = origin + alpha * direction.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Line {
    /// The line's positions.
    pub alpha: Vec<f64>,
    /// The loss at each position.
    pub loss: Vec<f64>,
    /// The accuracy at each position (a classifier), or none.
    pub accuracy: Option<Vec<f64>>,
    /// Where the line goes, in words.
    pub description: String,
}

#[pymethods]
impl Line {
    /// The positions alpha along the line.
    #[getter]
    fn alpha<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.alpha.clone())
    }

    /// The loss at each alpha.
    #[getter]
    fn loss<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.loss.clone())
    }

    /// The accuracy at each alpha, or None for a regression network.
    #[getter]
    fn accuracy<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.accuracy.clone().map(|a| array1(py, a))
    }

    /// Where the line goes.
    #[getter]
    fn description(&self) -> String {
        self.description.clone()
    }

    fn __repr__(&self) -> String {
        format!("<lossatlas.Line {}: {} points>", self.description, self.alpha.len())
    }
}

/// A training path in its principal plane, checked against the truth: each snapshot's
/// projection, its distance from the plane, its true loss and the plane's loss at its projection.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Pca {
    /// The share of the path's variance along each principal direction.
    pub explained_variance_ratio: Vec<f64>,
    /// Each snapshot's projection, first coordinate.
    pub u: Vec<f64>,
    /// Each snapshot's projection, second coordinate.
    pub v: Vec<f64>,
    /// Each snapshot's distance from the plane.
    pub distance: Vec<f64>,
    /// The loss at each snapshot.
    pub loss: Vec<f64>,
    /// The plane's loss at each snapshot's projection.
    pub plane_loss: Vec<f64>,
    /// The principal plane's landscape.
    pub landscape: Py<Landscape>,
}

#[pymethods]
impl Pca {
    /// The share of the path's variance along each principal direction.
    #[getter]
    fn explained_variance_ratio<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.explained_variance_ratio.clone())
    }

    /// Each snapshot's projection on the plane, shape (snapshots, 2).
    #[getter]
    fn projection<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let flat: Vec<f64> = self.u.iter().zip(&self.v).flat_map(|(u, v)| [*u, *v]).collect();
        array2(py, flat, self.u.len())
    }

    /// Each snapshot's Euclidean distance from the plane.
    #[getter]
    fn distance<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.distance.clone())
    }

    /// The true loss at each snapshot.
    #[getter]
    fn loss<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.loss.clone())
    }

    /// The plane's loss at each snapshot's projection (what a picture of the path shows).
    #[getter]
    fn plane_loss<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.plane_loss.clone())
    }

    /// The loss over the principal plane around the path.
    #[getter]
    fn landscape(&self, py: Python<'_>) -> Py<Landscape> {
        self.landscape.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        let r = &self.explained_variance_ratio;
        format!(
            "<lossatlas.Pca {} snapshots, explained variance {:.3} and {:.3}>",
            self.u.len(),
            r.first().copied().unwrap_or(0.0),
            r.get(1).copied().unwrap_or(0.0)
        )
    }
}

/// A curve as two arrays of equal length (x, y).
type Curve<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The curvature of the loss: the largest Hessian eigenvalues and their eigenvectors, and for a
/// network the trace and the eigenvalue density.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Hessian {
    /// Eigenvalues, largest first.
    pub eigenvalues: Vec<f64>,
    /// One unit eigenvector per eigenvalue.
    pub eigenvectors: Vec<Vec<f64>>,
    /// The trace and its standard error (Hutchinson), if estimated.
    pub trace: Option<(f64, f64)>,
    /// The eigenvalue density (grid, density), if estimated.
    pub density: Option<(Vec<f64>, Vec<f64>)>,
    /// The whole matrix, row-major, when it is small enough to form (a formula's).
    pub matrix: Option<Vec<f64>>,
}

#[pymethods]
impl Hessian {
    /// Eigenvalues, largest first.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.eigenvalues.clone())
    }

    /// Eigenvectors, one per row, in the order of the eigenvalues.
    #[getter]
    fn eigenvectors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        rows(py, &self.eigenvectors)
    }

    /// The trace (Hutchinson's estimate for a network, exact for a formula), or None.
    #[getter]
    fn trace(&self) -> Option<f64> {
        self.trace.map(|t| t.0)
    }

    /// The trace estimate's standard error (0 when exact), or None.
    #[getter]
    fn trace_stderr(&self) -> Option<f64> {
        self.trace.map(|t| t.1)
    }

    /// The eigenvalue density as (grid, density) arrays, or None.
    #[getter]
    fn density<'py>(&self, py: Python<'py>) -> Option<Curve<'py>> {
        self.density.clone().map(|(g, d)| (array1(py, g), array1(py, d)))
    }

    /// The Hessian matrix (a formula's, n x n), or None for a network (matrix-free).
    #[getter]
    fn matrix<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        self.matrix
            .as_ref()
            .map(|m| array2(py, m.clone(), (m.len() as f64).sqrt().round() as usize))
            .transpose()
    }

    /// lambda_max / lambda_min of the computed eigenvalues when all are positive, else None.
    #[getter]
    fn condition_number(&self) -> Option<f64> {
        let max = self.eigenvalues.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = self.eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
        (min > 0.0).then(|| max / min)
    }

    fn __repr__(&self) -> String {
        format!("<lossatlas.Hessian eigenvalues {:?}>", self.eigenvalues)
    }
}

/// An optimizer's path through the full parameter space.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Descent {
    /// The run.
    pub trajectory: Trajectory,
}

#[pymethods]
impl Descent {
    /// The parameters at every step, shape (steps + 1, n_params).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let rows_: Vec<Vec<f64>> = self.trajectory.steps().iter().map(|s| s.params.clone()).collect();
        rows(py, &rows_)
    }

    /// The loss at every step.
    #[getter]
    fn loss<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.trajectory.steps().iter().map(|s| s.loss).collect())
    }

    /// The gradient at every step, shape (steps + 1, n_params).
    #[getter]
    fn grad<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let rows_: Vec<Vec<f64>> = self.trajectory.steps().iter().map(|s| s.grad.clone()).collect();
        rows(py, &rows_)
    }

    /// Why it stopped: "max_steps", "converged" or "diverged".
    #[getter]
    fn stopped(&self) -> &'static str {
        self.trajectory.stopped().name()
    }

    /// The optimizer with its settings, e.g. "adam (lr=0.1)".
    #[getter]
    fn optimizer(&self) -> String {
        self.trajectory.spec().label()
    }

    /// The parameters where it ended.
    #[getter]
    fn final_params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.trajectory.last().params.clone())
    }

    /// The trajectory as the command line's JSON export.
    fn to_json(&self) -> String {
        String::from_utf8_lossy(&export::trajectory_json(&self.trajectory, None)).into_owned()
    }

    fn __repr__(&self) -> String {
        let last = self.trajectory.last();
        format!(
            "<lossatlas.Descent {}: {} steps, {}, final loss {}>",
            self.trajectory.spec().label(),
            last.step,
            self.trajectory.stopped().name(),
            page::round(last.loss, 6)
        )
    }
}

/// What `analyze` measures about a formula's landscape: the minimum, the Hessian there, its
/// condition number, stable and best step sizes, and every critical point.
#[pyclass(frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Analysis {
    /// The report, as the command line's `analyze --json` writes it.
    pub report: serde_json::Value,
}

#[pymethods]
impl Analysis {
    /// The whole report as a dict (the command line's `analyze --json` document).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json(py, &self.report)
    }

    /// The minimum as a dict (at, loss, gradient_norm, ...), or None.
    #[getter]
    fn minimum(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json(py, &self.report["minimum"])
    }

    /// The parameters at the minimum, or None.
    #[getter]
    fn minimum_at<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        let at = self.report["minimum"]["at"].as_array()?;
        Some(array1(py, at.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()))
    }

    /// The loss at the minimum, or None.
    #[getter]
    fn minimum_loss(&self) -> Option<f64> {
        self.report["minimum"]["loss"].as_f64()
    }

    /// The Hessian's eigenvalues at the minimum, or None.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        let values = self.report["eigenvalues"].as_array()?;
        Some(array1(py, values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()))
    }

    /// The condition number at the minimum, or None.
    #[getter]
    fn condition_number(&self) -> Option<f64> {
        self.report["condition_number"].as_f64()
    }

    /// The largest learning rate at which gradient descent converges near the minimum (2 /
    /// lambda_max), or None.
    #[getter]
    fn max_stable_learning_rate(&self) -> Option<f64> {
        self.report["gradient_descent"]["max_stable_learning_rate"].as_f64()
    }

    /// The critical points found on the grid (minima, saddles, maxima) as dicts.
    #[getter]
    fn critical_points(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json(py, &self.report["critical_points"])
    }

    /// The report's one-sentence summary, if it has one.
    #[getter]
    fn statement(&self) -> Option<String> {
        self.report["statement"].as_str().map(str::to_string)
    }

    fn __repr__(&self) -> String {
        format!(
            "<lossatlas.Analysis minimum loss {}, condition number {}>",
            self.minimum_loss().map_or("none".into(), |l| format!("{}", page::round(l, 6))),
            self.condition_number().map_or("none".into(), |c| format!("{}", page::round(c, 4)))
        )
    }
}
