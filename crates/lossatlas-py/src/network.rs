//! `lossatlas.Network` and its kinds: a trained network with its data and loss, sliced along
//! planes and lines through its weights, its curvature measured, its training path put in its
//! principal plane; as `lossatlas net` does from files, here from numpy arrays.
//!
//! `Network` holds what every kind shares (the weights, the data's name and size, the objective)
//! and its methods; a kind is a subclass that only builds one: [`Mlp`] from a safetensors file or a
//! state_dict, [`Onnx`] from an ONNX model (a file, or the bytes `lossatlas.from_torch` exports).
//! Each kind is a variant of [`NetKind`].

use std::collections::HashMap;
use std::path::PathBuf;

use lossatlas::net::{
    parse_direction, parse_weights, path_pca, project_path, read_weights, Activation, BiasDirections,
    CurvatureOptions, Directions, Evaluation, Head, Mlp as CoreMlp, NetHessian, NetObjective, Normalization,
    OnnxLoss, OnnxModel, OnnxObjective, ParamLayout, PathFile, PathPca, PlaneEvaluator, PlaneValues,
    Projection, Real, Samples, Snapshots, Targets,
};
use lossatlas::spectrum::DensityOptions;
use lossatlas::{Axis, GridSpec, Plane, PlaneKind, DEFAULT_GRID_BUDGET_BYTES};
use lossatlas_render::page::NetworkView;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::PyClassInitializer;
use safetensors::tensor::{Dtype, TensorView};

use crate::arrays::{array1, array2, flat, float64, pair, resolution};
use crate::errors::{invalid, CoreResult, DataError, WeightsError};
use crate::results::{Hessian, Landscape, Line, PageSource, Pca};

/// A network's objective in the precision chosen: `f32` as PyTorch, or `f64`.
#[derive(Debug)]
enum Precision {
    F32(NetObjective<f32>),
    F64(NetObjective<f64>),
}

/// `$body` with `$o` the objective, whatever its precision.
macro_rules! with_objective {
    ($precision:expr, $o:ident => $body:expr) => {
        match $precision {
            Precision::F32($o) => $body,
            Precision::F64($o) => $body,
        }
    };
}

/// The kinds of network; the methods of [`Network`] dispatch on them.
#[derive(Debug)]
// One per network object, never in bulk: the MLP's objective stays inline.
#[allow(clippy::large_enum_variant)]
enum NetKind {
    /// A multilayer perceptron in PyTorch's `nn.Sequential`-of-`nn.Linear` layout.
    Mlp { mlp: CoreMlp, objective: Precision },
    /// Any network exported to ONNX, run in float32 by tract (boxed: it holds the graph and the
    /// data as tensors).
    Onnx(Box<OnnxObjective>),
}

/// A trained network with its data and loss (create one with `lossatlas.Mlp`).
#[pyclass(subclass, frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Network {
    kind: NetKind,
    /// The trained weights, the origin of every plane and line.
    weights: Vec<f64>,
    /// The data's name and size, for titles.
    data: String,
    n_points: usize,
}

impl Network {
    /// The MLP and its objective, for what only MLPs have (exact Hessians).
    fn mlp_objective(&self, what: &str) -> PyResult<(&CoreMlp, &Precision)> {
        match &self.kind {
            NetKind::Mlp { mlp, objective } => Ok((mlp, objective)),
            NetKind::Onnx(o) => Err(invalid(format!(
                "{what} needs an Mlp (exact Hessian-vector products); {} is an ONNX model",
                o.model().name()
            ))),
        }
    }

    /// The names and shapes of the weights.
    fn layout(&self) -> &dyn ParamLayout {
        match &self.kind {
            NetKind::Mlp { mlp, .. } => mlp,
            NetKind::Onnx(o) => o.model(),
        }
    }

    /// "cross-entropy", "mse", or "loss" for a model that computes its own.
    fn loss_name(&self) -> &'static str {
        match &self.kind {
            NetKind::Mlp { mlp, .. } => mlp.head().name(),
            NetKind::Onnx(o) => match o.loss() {
                OnnxLoss::Head(head) => head.name(),
                OnnxLoss::Output => "loss",
            },
        }
    }

    /// "a 2-64-64-2 tanh network" or "model.onnx": the network in a title.
    fn short(&self) -> String {
        match &self.kind {
            NetKind::Mlp { mlp, .. } => {
                let widths: Vec<String> = mlp.widths().iter().map(|w| w.to_string()).collect();
                format!("a {} {} network", widths.join("-"), mlp.activation().name())
            }
            NetKind::Onnx(o) => o.model().file_name().to_string(),
        }
    }

    /// "2-64-64-2 tanh, cross-entropy" or "model.onnx (Conv, Relu, Gemm; 1234 parameters), cross-entropy".
    fn describe(&self) -> String {
        match &self.kind {
            NetKind::Mlp { mlp, .. } => mlp.describe(),
            NetKind::Onnx(o) => format!("{}, {}", o.model().describe(), self.loss_name()),
        }
    }

    /// What the page shows of the network and the plane `how`, with `centre` the loss at the
    /// trained weights.
    fn page(&self, landscape: &lossatlas::Landscape, how: String, centre: Evaluation) -> PageSource {
        let view = NetworkView {
            network: self.describe(),
            weights: self.weights.len(),
            data: format!("{} ({} points)", self.data, self.n_points),
            plane: how,
            loss: centre.loss,
            accuracy: centre.accuracy,
            lowest: landscape.minimum().map(|m| ([m.u, m.v], m.loss)),
        };
        let short = self.short();
        PageSource::Network {
            view,
            case_title: format!("{} on {}", short.strip_prefix("a ").unwrap_or(&short), self.data),
            loss: self.loss_name().to_string(),
        }
    }

    fn evaluate_at(&self, params: &[f64]) -> PyResult<Evaluation> {
        match &self.kind {
            NetKind::Mlp { objective, .. } => with_objective!(objective, o => o.evaluate(params)).py(),
            NetKind::Onnx(o) => o.evaluate(params).py(),
        }
    }

    /// Loss and accuracy over the grid `us` x `vs` of origin + u d1 + v d2.
    fn plane_values(
        &self,
        origin: &[f64],
        d1: &[f64],
        d2: &[f64],
        us: &[f64],
        vs: &[f64],
    ) -> PyResult<PlaneValues> {
        fn values<T: Real>(
            o: &NetObjective<T>,
            origin: &[f64],
            d1: &[f64],
            d2: &[f64],
            us: &[f64],
            vs: &[f64],
        ) -> lossatlas::Result<PlaneValues> {
            Ok(PlaneEvaluator::new(o, origin, d1, d2)?.evaluate(us, vs))
        }
        match &self.kind {
            NetKind::Mlp { objective, .. } => {
                with_objective!(objective, o => values(o, origin, d1, d2, us, vs)).py()
            }
            NetKind::Onnx(o) => o.plane(origin, d1, d2).and_then(|p| p.evaluate(us, vs)).py(),
        }
    }

    /// A vector in the weights' layout: a flat array of n_params numbers, or a state_dict-like
    /// dict of arrays with the weights' names and shapes.
    fn vector(&self, value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
        let layout = self.layout();
        if let Ok(dict) = value.cast::<PyDict>() {
            let bytes = safetensors_bytes(dict)?;
            return parse_direction(what, &bytes, layout).py();
        }
        let (values, _) = flat(value, what)?;
        if values.len() != self.weights.len() {
            return Err(WeightsError::new_err(format!(
                "{what} has {} numbers but the network ({}) has {} weights; give one number per weight \
                 (flattened in state_dict order) or a dict with the state_dict's names",
                values.len(),
                self.describe(),
                self.weights.len()
            )));
        }
        Ok(values)
    }

    /// The principal plane of `snapshots` through the trained weights, each snapshot's
    /// projection on it, and the loss at each snapshot.
    fn path_in_plane<S: Snapshots + ?Sized>(
        &self,
        snapshots: &S,
    ) -> PyResult<(PathPca, Vec<Projection>, Vec<f64>)> {
        let n = self.weights.len();
        if snapshots.width() != n {
            return Err(WeightsError::new_err(format!(
                "path holds snapshots of {} weights, but the network has {n}; give the path recorded while \
                 training these weights",
                snapshots.width()
            )));
        }
        if snapshots.count() < 3 {
            return Err(DataError::new_err(format!(
                "path holds {} snapshot(s); a principal plane needs at least 3",
                snapshots.count()
            )));
        }
        let pca = path_pca(snapshots, &self.weights).py()?;
        let projections = project_path(snapshots, &self.weights, &pca.d1, &pca.d2).py()?;
        let mut losses = Vec::with_capacity(projections.len());
        let mut failure = None;
        snapshots
            .visit(&mut |_, snapshot| match self.evaluate_at(snapshot) {
                Ok(e) => losses.push(e.loss),
                Err(e) => failure = failure.take().or(Some(e)),
            })
            .py()?;
        match failure {
            Some(e) => Err(e),
            None => Ok((pca, projections, losses)),
        }
    }

    /// Two directions as `directions` says, and how they were chosen.
    fn directions(
        &self,
        py: Python<'_>,
        directions: &Bound<'_, PyAny>,
        seed: u64,
        bias: &str,
        orthogonalize: bool,
    ) -> PyResult<(Vec<f64>, Vec<f64>, PlaneKind, String)> {
        if let Ok(name) = directions.extract::<String>() {
            if name == "hessian" {
                let (_, objective) = self.mlp_objective("directions=\"hessian\"")?;
                let (d, pairs) = with_objective!(objective, o => py.detach(|| -> lossatlas::Result<_> {
                    NetHessian::new(o, &self.weights)?.top_directions(1e-4, 300, seed)
                }))
                .py()?;
                let how = format!(
                    "top two Hessian eigenvectors, eigenvalues {:.4}, {:.4}",
                    pairs.values[0], pairs.values[1]
                );
                return Ok((d.d1, d.d2, PlaneKind::Given, how));
            }
            let normalization = Normalization::parse(&name).map_err(|_| {
                invalid(format!(
                    "directions `{name}`: use \"filter\", \"layer\", \"none\", \"hessian\" or two arrays (d1, d2)"
                ))
            })?;
            let bias_directions = BiasDirections::parse(bias).py()?;
            let d = Directions::random(
                self.layout(),
                &self.weights,
                seed,
                normalization,
                bias_directions,
                orthogonalize,
            )
            .py()?;
            let orthogonal = if orthogonalize { ", orthogonalized" } else { "" };
            let how = format!("{name}-normalized random plane, seed {seed}{orthogonal}");
            return Ok((d.d1, d.d2, PlaneKind::Normalized { seed }, how));
        }
        let (a, b) = directions
            .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
            .map_err(|_| invalid("directions: give a name (\"filter\", \"layer\", \"none\", \"hessian\") or two arrays (d1, d2)"))?;
        Ok((
            self.vector(&a, "directions[0]")?,
            self.vector(&b, "directions[1]")?,
            PlaneKind::Given,
            "plane of the given directions".into(),
        ))
    }
}

/// A grid of `resolution` points over `range` on both axes of a plane named "direction 1",
/// "direction 2" (or the names given), as `lossatlas net plane --range --resolution` makes.
fn grid(plane: &Plane, range: &Bound<'_, PyAny>, resolution_: &Bound<'_, PyAny>) -> PyResult<GridSpec> {
    let (ru, rv) = match range.extract::<((f64, f64), (f64, f64))>() {
        Ok(both) => both,
        Err(_) => {
            let r = pair(range, "range")?;
            (r, r)
        }
    };
    let (nu, nv) = resolution(resolution_)?;
    let [un, vn] = plane.names().clone();
    GridSpec::new(
        Axis::new(un, ru.0, ru.1, nu).py()?,
        Axis::new(vn, rv.0, rv.1, nv).py()?,
        DEFAULT_GRID_BUDGET_BYTES,
    )
    .py()
}

#[pymethods]
impl Network {
    /// The trained weights, flat, in state_dict order.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array1(py, self.weights.clone())
    }

    /// The number of weights.
    #[getter]
    fn n_params(&self) -> usize {
        self.weights.len()
    }

    /// The network, e.g. "2-64-64-2 tanh, cross-entropy".
    #[getter]
    fn description(&self) -> String {
        self.describe()
    }

    /// Loss and accuracy (None for a regression network) at `weights` (default: the trained
    /// weights), a flat array or a state_dict-like dict.
    #[pyo3(signature = (weights = None))]
    fn evaluate(&self, py: Python<'_>, weights: Option<&Bound<'_, PyAny>>) -> PyResult<(f64, Option<f64>)> {
        let params = match weights {
            Some(w) => self.vector(w, "weights")?,
            None => self.weights.clone(),
        };
        let e = py.detach(|| self.evaluate_at(&params))?;
        Ok((e.loss, e.accuracy))
    }

    /// The loss (and accuracy) over a plane through the trained weights, as `lossatlas net
    /// plane`: `directions` "filter" (Li et al. 2018's filter-normalized random directions, the
    /// default), "layer", "none", "hessian" (the top two eigenvectors) or two arrays (d1, d2);
    /// `seed` draws the random ones, `bias` "zero" or "normalize" their bias entries;
    /// `range` (lo, hi) for both axes or ((lo, hi), (lo, hi)); `resolution` points per axis.
    #[pyo3(signature = (directions = None, range = None, resolution = None, seed = 1, bias = "zero", orthogonalize = false))]
    // The arguments are the Python method's keywords.
    #[allow(clippy::too_many_arguments)]
    fn plane(
        &self,
        py: Python<'_>,
        directions: Option<&Bound<'_, PyAny>>,
        range: Option<&Bound<'_, PyAny>>,
        resolution: Option<&Bound<'_, PyAny>>,
        seed: u64,
        bias: &str,
        orthogonalize: bool,
    ) -> PyResult<Landscape> {
        let filter = pyo3::types::PyString::new(py, "filter").into_any();
        let (d1, d2, kind, how) =
            self.directions(py, directions.unwrap_or(&filter), seed, bias, orthogonalize)?;
        let names = ["direction 1".to_string(), "direction 2".to_string()];
        let plane = Plane::new(self.weights.clone(), d1, d2, names).py()?.with_kind(kind);
        let default_range = (-1.0f64, 1.0f64).into_pyobject(py)?.into_any();
        let default_resolution = 51usize.into_pyobject(py)?.into_any();
        let grid = grid(&plane, range.unwrap_or(&default_range), resolution.unwrap_or(&default_resolution))?;
        let (us, vs) = (grid.u().values(), grid.v().values());
        let (d1, d2) = plane.directions();
        let (values, centre) = py.detach(|| -> PyResult<_> {
            Ok((self.plane_values(&self.weights, d1, d2, &us, &vs)?, self.evaluate_at(&self.weights)?))
        })?;
        let landscape = lossatlas::Landscape::from_values(grid, plane, values.loss).py()?;
        let title = format!("{} of {} on {} ({how})", self.loss_name(), self.short(), self.data);
        let page = self.page(&landscape, how, centre);
        Ok(Landscape::new(landscape, values.accuracy, title, page))
    }

    /// The loss (and accuracy) along a straight line, as `lossatlas net line`: from `start`
    /// (other weights: a flat array or a state_dict-like dict, e.g. the initial ones) to the
    /// trained weights, alpha 0 at `start` and 1 at the trained weights (default range -0.5 to
    /// 1.5); or along `direction` from the trained weights; or, with neither, along a random
    /// direction normalized as `normalization` says (default range -1 to 1).
    #[pyo3(signature = (start = None, direction = None, range = None, resolution = 51, seed = 1, normalization = "filter", bias = "zero"))]
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        direction: Option<&Bound<'_, PyAny>>,
        range: Option<(f64, f64)>,
        resolution: usize,
        seed: u64,
        normalization: &str,
        bias: &str,
    ) -> PyResult<Line> {
        if resolution < 2 {
            return Err(invalid(format!("resolution {resolution}: use at least 2 points along the line")));
        }
        let (origin, direction, default_range, description) = match (start, direction) {
            (Some(_), Some(_)) => return Err(invalid("line: give start or direction, not both")),
            (Some(start), None) => {
                let from = self.vector(start, "start")?;
                let d: Vec<f64> = self.weights.iter().zip(&from).map(|(w, s)| w - s).collect();
                (from, d, (-0.5, 1.5), "from start (alpha 0) to the trained weights (alpha 1)".to_string())
            }
            (None, Some(direction)) => (
                self.weights.clone(),
                self.vector(direction, "direction")?,
                (-1.0, 1.0),
                "along the given direction".into(),
            ),
            (None, None) => {
                let n = Normalization::parse(normalization).py()?;
                let b = BiasDirections::parse(bias).py()?;
                let d = Directions::random(self.layout(), &self.weights, seed, n, b, false).py()?;
                (
                    self.weights.clone(),
                    d.d1,
                    (-1.0, 1.0),
                    format!("along a {normalization}-normalized random direction, seed {seed}"),
                )
            }
        };
        let (lo, hi) = range.unwrap_or(default_range);
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(invalid(format!(
                "range ({lo}, {hi}): it needs finite ends with lo < hi, e.g. (-1, 1)"
            )));
        }
        let alpha = lossatlas::linspace(lo, hi, resolution);
        let zero = vec![0.0; direction.len()];
        let values = py.detach(|| self.plane_values(&origin, &direction, &zero, &alpha, &[0.0]))?;
        Ok(Line { alpha, loss: values.loss, accuracy: values.accuracy, description })
    }

    /// A training path in its principal plane, as `lossatlas net pca`: `path` is an array of
    /// snapshots (snapshots, n_params) or a path file recorded by `lossatlas net train
    /// --record-path`; the plane goes through the trained weights along the first two principal
    /// directions of the snapshots' offsets from them. `range` defaults to the projected path
    /// with a margin of a quarter of its extent.
    #[pyo3(signature = (path, range = None, resolution = None))]
    fn pca(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        range: Option<&Bound<'_, PyAny>>,
        resolution: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pca> {
        let n = self.weights.len();
        let weights = &self.weights;
        let (pca, projections, losses) = if let Ok(file) = path.extract::<PathBuf>() {
            let file = PathFile::open(&file).py()?;
            py.detach(|| self.path_in_plane(&file))?
        } else {
            let array = float64(path, "path")?;
            match array.shape() {
                [_, width] if *width == n => {}
                shape => {
                    return Err(DataError::new_err(format!(
                        "path: expected an array of snapshots of shape (snapshots, {n}), got {shape:?}"
                    )))
                }
            }
            let values = array.readonly().as_slice()?.to_vec();
            let snapshots: Vec<Vec<f64>> = values.chunks(n).map(<[f64]>::to_vec).collect();
            py.detach(|| self.path_in_plane(snapshots.as_slice()))?
        };
        let plane =
            Plane::new(weights.clone(), pca.d1.clone(), pca.d2.clone(), ["PC 1".into(), "PC 2".into()])
                .py()?
                .with_kind(PlaneKind::PathPca);
        let plane_losses = py.detach(|| {
            projections
                .iter()
                .map(|p| Ok(self.evaluate_at(&plane.point(p.u, p.v))?.loss))
                .collect::<PyResult<Vec<f64>>>()
        })?;
        let around = |coordinate: fn(&lossatlas::net::Projection) -> f64| {
            let (lo, hi) =
                projections.iter().map(coordinate).fold((0.0f64, 0.0f64), |(a, b), c| (a.min(c), b.max(c)));
            let pad = 0.25 * (hi - lo).max(1e-12);
            (lo - pad, hi + pad)
        };
        let default_range = (around(|p| p.u), around(|p| p.v)).into_pyobject(py)?.into_any();
        let default_resolution = 51usize.into_pyobject(py)?.into_any();
        let grid = grid(&plane, range.unwrap_or(&default_range), resolution.unwrap_or(&default_resolution))?;
        let (us, vs) = (grid.u().values(), grid.v().values());
        let (d1, d2) = (pca.d1.clone(), pca.d2.clone());
        let (values, centre) = py.detach(|| -> PyResult<_> {
            Ok((self.plane_values(weights, &d1, &d2, &us, &vs)?, self.evaluate_at(weights)?))
        })?;
        let landscape = lossatlas::Landscape::from_values(grid, plane, values.loss).py()?;
        let ratio = &pca.explained_variance_ratio;
        let how = format!(
            "principal directions of the training path ({:.1}% and {:.1}% of its variance)",
            100.0 * ratio[0],
            100.0 * ratio.get(1).copied().unwrap_or(0.0)
        );
        let title = format!(
            "{} of {} on {}: training path in its PCA plane",
            self.loss_name(),
            self.short(),
            self.data
        );
        let page = self.page(&landscape, how, centre);
        let landscape = Py::new(py, Landscape::new(landscape, values.accuracy, title, page))?;
        Ok(Pca {
            explained_variance_ratio: pca.explained_variance_ratio.clone(),
            u: projections.iter().map(|p| p.u).collect(),
            v: projections.iter().map(|p| p.v).collect(),
            distance: projections.iter().map(|p| p.distance).collect(),
            loss: losses,
            plane_loss: plane_losses,
            landscape,
        })
    }

    /// The curvature at the trained weights, as `lossatlas net hessian` (and PyHessian): the
    /// `top` largest eigenvalues to relative tolerance `tol` in at most `lanczos_steps`
    /// Hessian-vector products, the trace from `probes` Hutchinson probes, the eigenvalue
    /// density from `density_probes` runs of `density_steps` Lanczos steps; `seed` fixes every
    /// random vector.
    #[pyo3(signature = (top = 5, tol = 1e-3, lanczos_steps = 200, probes = 100, density_probes = 1, density_steps = 90, seed = 0))]
    #[allow(clippy::too_many_arguments)]
    fn hessian(
        &self,
        py: Python<'_>,
        top: usize,
        tol: f64,
        lanczos_steps: usize,
        probes: usize,
        density_probes: usize,
        density_steps: usize,
        seed: u64,
    ) -> PyResult<Hessian> {
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(invalid(format!("tol {tol}: the tolerance must be a positive number, e.g. 1e-3")));
        }
        if top == 0 || top > self.weights.len() {
            return Err(invalid(format!(
                "top {top}: ask for 1 to {} eigenvalues (one per weight)",
                self.weights.len()
            )));
        }
        if lanczos_steps < top {
            return Err(invalid(format!(
                "lanczos_steps {lanczos_steps} cannot give top {top} eigenvalues (each step adds one)"
            )));
        }
        if probes < 2 {
            return Err(invalid(format!(
                "probes {probes}: the trace's standard error needs at least 2 probes (e.g. 100)"
            )));
        }
        if density_probes == 0 || density_steps == 0 {
            return Err(invalid("density_probes and density_steps must be at least 1"));
        }
        let options = CurvatureOptions {
            top,
            tol,
            lanczos_steps,
            probes,
            density: DensityOptions {
                probes: density_probes,
                steps: density_steps,
                ..DensityOptions::default()
            },
            seed,
        };
        let (_, objective) = self.mlp_objective("hessian()")?;
        let curvature = with_objective!(objective, o => py.detach(|| -> lossatlas::Result<_> {
            NetHessian::new(o, &self.weights)?.curvature(&options)
        }))
        .py()?;
        Ok(Hessian {
            eigenvalues: curvature.top.values,
            eigenvectors: curvature.top.vectors,
            trace: Some((curvature.trace.trace, curvature.trace.standard_error)),
            density: Some((curvature.density.grid, curvature.density.density)),
            matrix: None,
        })
    }

    fn __repr__(&self) -> String {
        format!("<lossatlas.Network {} on {} ({} points)>", self.describe(), self.data, self.n_points)
    }
}

/// A multilayer perceptron, PyTorch's `nn.Sequential` of `nn.Linear` layers with one activation
/// between them, with its data and loss (as `lossatlas net` reads them).
#[pyclass(extends = Network, frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Mlp;

#[pymethods]
impl Mlp {
    /// `weights` is a .safetensors file saved from `model.state_dict()` or the state_dict itself
    /// (a dict of arrays, "0.weight" [out, in], "0.bias", ...); `x` the features (n, d); `y` the
    /// class labels (n,) for "cross-entropy" or the targets (n,) or (n, k) for "mse";
    /// `activation` the one between layers (relu, tanh, sigmoid, gelu, identity); `precision`
    /// "f32" (as PyTorch) or "f64".
    #[new]
    #[pyo3(signature = (weights, x, y, *, activation = "tanh", loss = "cross-entropy", precision = "f32", name = "data"))]
    fn new(
        weights: &Bound<'_, PyAny>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        activation: &str,
        loss: &str,
        precision: &str,
        name: &str,
    ) -> PyResult<PyClassInitializer<Mlp>> {
        let activation = Activation::parse(activation).py()?;
        let head = head(loss)?;
        let loaded = if let Ok(dict) = weights.cast::<PyDict>() {
            parse_weights("state_dict", &safetensors_bytes(dict)?, activation, head).py()?
        } else if let Ok(path) = weights.extract::<PathBuf>() {
            read_weights(&path, activation, head).py()?
        } else {
            return Err(invalid("weights: give a .safetensors file name or a state_dict (a dict of arrays)"));
        };
        let mlp = loaded.mlp;
        let inputs = Some((mlp.inputs(), mlp.describe()));
        let samples = samples(name, x, y, mlp.head(), mlp.outputs(), inputs)?;
        let objective = match precision {
            "f32" => Precision::F32(NetObjective::new(&mlp, &samples).py()?),
            "f64" => Precision::F64(NetObjective::new(&mlp, &samples).py()?),
            other => {
                return Err(invalid(format!("precision `{other}`: use \"f32\" (as PyTorch) or \"f64\"")))
            }
        };
        let network = Network {
            kind: NetKind::Mlp { mlp, objective },
            weights: loaded.params,
            data: name.to_string(),
            n_points: samples.len(),
        };
        Ok(PyClassInitializer::from(network).add_subclass(Mlp))
    }
}

/// The head a `loss` keyword names.
fn head(loss: &str) -> PyResult<Head> {
    match loss {
        "cross-entropy" | "cross_entropy" => Ok(Head::CrossEntropy),
        "mse" => Ok(Head::Mse),
        other => Err(invalid(format!(
            "loss `{other}`: a network's loss is \"cross-entropy\" or \"mse\" (or \"output\" for an ONNX model \
             that ends in its own loss)"
        ))),
    }
}

/// Any network exported to ONNX (`torch.onnx.export(model, example, "model.onnx")`), with its
/// data and loss; its weights are the graph's float initializers.
#[pyclass(extends = Network, frozen, module = "lossatlas")]
#[derive(Debug)]
pub struct Onnx;

#[pymethods]
impl Onnx {
    /// `model` is an .onnx file or its bytes; `x` the inputs (n, ...) in the model's input shape
    /// (images (n, C, H, W), say); `y` the class labels (n,) for "cross-entropy", the targets
    /// (n,) or (n, k) for "mse", or what the model's second input takes for "output" (a model
    /// that ends in its own loss). The model runs in float32, as exported.
    #[new]
    #[pyo3(signature = (model, x, y, *, loss = "cross-entropy", name = "data"))]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        loss: &str,
        name: &str,
    ) -> PyResult<PyClassInitializer<Onnx>> {
        let loss = match loss {
            "output" => OnnxLoss::Output,
            other => OnnxLoss::Head(head(other)?),
        };
        let model = if let Ok(bytes) = model.cast::<pyo3::types::PyBytes>() {
            OnnxModel::parse("model", bytes.as_bytes())
        } else if let Ok(path) = model.extract::<PathBuf>() {
            OnnxModel::load(&path)
        } else {
            return Err(invalid("model: give an .onnx file name or the model's bytes"));
        }
        .map_err(|e| WeightsError::new_err(e.to_string()))?;
        // Targets for a model's own loss go in as numbers, like mse's.
        let as_head = match loss {
            OnnxLoss::Head(head) => head,
            OnnxLoss::Output => Head::Mse,
        };
        let samples = samples(name, x, y, as_head, model.outputs().max(1), None)?;
        let objective = py
            .detach(|| OnnxObjective::new(&model, &samples, loss))
            .map_err(|e| DataError::new_err(e.to_string()))?;
        let network = Network {
            weights: model.values().to_vec(),
            kind: NetKind::Onnx(Box::new(objective)),
            data: name.to_string(),
            n_points: samples.len(),
        };
        Ok(PyClassInitializer::from(network).add_subclass(Onnx))
    }
}

/// The network's data from numpy arrays: inputs (n, d), or (n, ...) of any per-sample shape when
/// `inputs` is `None` (an ONNX model checks the shape itself), and labels below `outputs` or
/// targets. `inputs` is the width an MLP takes and its description.
fn samples(
    name: &str,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    head: Head,
    outputs: usize,
    inputs: Option<(usize, String)>,
) -> PyResult<Samples> {
    let x = float64(x, "x")?;
    let (n, d, sample_shape) = match (x.shape(), &inputs) {
        ([n, d], _) => (*n, *d, vec![*d]),
        ([n], _) => (*n, 1, vec![1]),
        ([n, rest @ ..], None) if !rest.is_empty() => (*n, rest.iter().product(), rest.to_vec()),
        (shape, _) => return Err(DataError::new_err(format!("x: expected shape (n, d), got {shape:?}"))),
    };
    if let Some((width, network)) = &inputs {
        if d != *width {
            return Err(DataError::new_err(format!(
                "x has {d} feature(s) per row but the {network} network takes {width}; give x of shape (n, {width})"
            )));
        }
    }
    let features = x.readonly().as_slice()?.to_vec();
    let (values, shape) = flat(y, "y")?;
    if shape.first() != Some(&n) {
        return Err(DataError::new_err(format!(
            "x has {n} rows but y has shape {shape:?}; give one target per row"
        )));
    }
    let targets = match head {
        Head::CrossEntropy => {
            if shape.len() != 1 {
                return Err(DataError::new_err(format!(
                    "y: class labels are one per row, shape (n,), got {shape:?}"
                )));
            }
            let labels = values
                .iter()
                .enumerate()
                .map(|(row, &l)| {
                    if l >= 0.0 && l.fract() == 0.0 && l < u32::MAX as f64 {
                        Ok(l as u32)
                    } else {
                        Err(DataError::new_err(format!(
                            "y: label {l} in row {row} is not a class number; labels must be 0..{}",
                            outputs.saturating_sub(1)
                        )))
                    }
                })
                .collect::<PyResult<Vec<u32>>>()?;
            Targets::Classes { labels, n_classes: outputs }
        }
        Head::Mse => Targets::Values { values, width: shape.get(1).copied().unwrap_or(1) },
    };
    // Every error here is about the data (shapes, values, labels out of range).
    Samples::new(name, features, d, targets)
        .and_then(|s| s.with_sample_shape(sample_shape))
        .map_err(|e| DataError::new_err(e.to_string()))
}

/// A state_dict (names to arrays) as the bytes of a safetensors file in float64, so it goes
/// through the same checks as a file: names, shapes, layers that chain.
fn safetensors_bytes(dict: &Bound<'_, PyDict>) -> PyResult<Vec<u8>> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let name: String =
            key.extract().map_err(|_| invalid(format!("state_dict: key {key} is not a string")))?;
        let (values, shape) = flat(&value, &format!("state_dict[\"{name}\"]"))?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((name, shape, bytes));
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F64, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| WeightsError::new_err(format!("state_dict[\"{name}\"]: {e}")))
        })
        .collect::<PyResult<HashMap<String, TensorView<'_>>>>()?;
    safetensors::serialize(views, None).map_err(|e| WeightsError::new_err(format!("state_dict: {e}")))
}

/// Features (n, d) and their class labels (n,).
type Labelled<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<i64>>);

/// A seeded synthetic data set, as `lossatlas net --dataset` makes it: "moons", "circles",
/// "spirals" or "blobs" of `n` points with `noise`; returns (x of shape (n, 2), labels (n,)).
#[pyfunction]
#[pyo3(signature = (name, n = 1000, noise = 0.1, seed = 0, classes = 3))]
pub fn dataset<'py>(
    py: Python<'py>,
    name: &str,
    n: usize,
    noise: f64,
    seed: u64,
    classes: usize,
) -> PyResult<Labelled<'py>> {
    let samples = match name {
        "moons" => Samples::moons(n, noise, seed),
        "circles" => Samples::circles(n, noise, seed),
        "spirals" => Samples::spirals(n, classes, noise, seed),
        "blobs" => Samples::blobs(n, 2, classes, noise, seed),
        other => {
            return Err(invalid(format!("unknown dataset `{other}`; use moons, circles, spirals or blobs")))
        }
    }
    .py()?;
    let Targets::Classes { labels, .. } = samples.targets() else {
        return Err(invalid("synthetic data sets have class labels"));
    };
    let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    let x = array2(py, samples.features().to_vec(), samples.len())?;
    Ok((x, labels.into_pyarray(py)))
}
