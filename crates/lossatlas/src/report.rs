//! The analysis report: everything `analyze` measures about a landscape, as one typed,
//! serializable value. The command's table, its JSON, the page and the live server all read this
//! one struct, so they always agree.

use serde::Serialize;

use crate::analysis::{
    critical_points, find_minimum, plane_hessian, MinimumMethod, StepSizeReport, SymmetricEigen,
    MAX_HESSIAN_PARAMS,
};
use crate::landscape::{Axis, Landscape};
use crate::objective::Objective;
use crate::plane::PlaneDoc;
use crate::transform::Transform;

/// Where the data came from.
#[derive(Debug, Clone, Serialize)]
pub struct DataSummary {
    /// Its name (`seed`, a file, `generated ...`).
    pub name: String,
    /// Its number of rows.
    pub rows: usize,
    /// Its input columns.
    pub inputs: Vec<String>,
}

/// An axis of the grid.
#[derive(Debug, Clone, Serialize)]
pub struct AxisSummary {
    /// Its name.
    pub name: String,
    /// Its first value.
    pub min: f64,
    /// Its last value.
    pub max: f64,
    /// Its number of points.
    pub n: usize,
}

impl From<&Axis> for AxisSummary {
    fn from(a: &Axis) -> AxisSummary {
        AxisSummary { name: a.name().to_string(), min: a.min(), max: a.max(), n: a.n() }
    }
}

/// The grid the report was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct GridSummary {
    /// The u and v axes.
    pub axes: [AxisSummary; 2],
    /// Grid points with no finite loss.
    pub non_finite_points: usize,
}

/// How the minimum was found.
#[derive(Debug, Clone, Serialize)]
pub struct FoundBy {
    /// In words.
    pub method: String,
    /// Iterations, for an iterative method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<usize>,
}

/// The minimum over the whole parameter space.
#[derive(Debug, Clone, Serialize)]
pub struct MinimumSummary {
    /// The parameters there.
    pub at: Vec<f64>,
    /// Its projection on the drawn plane, (u, v).
    pub plane_at: [f64; 2],
    /// Its distance from the drawn plane (0 when the plane passes through it).
    pub distance_from_plane: f64,
    /// The loss there.
    pub loss: f64,
    /// The gradient norm there (how close to stationary the search got).
    pub gradient_norm: f64,
    /// How it was found.
    pub found_by: FoundBy,
    /// Whether its projection lies inside the drawn range.
    pub inside_range: bool,
}

/// What gradient descent can do near the minimum.
#[derive(Debug, Clone, Serialize)]
pub struct GradientDescentSummary {
    /// 2 / lambda_max.
    pub max_stable_learning_rate: f64,
    /// 2 / (lambda_max + lambda_min).
    pub best_learning_rate: f64,
    /// The error's contraction per step at the best rate.
    pub contraction_per_step: f64,
    /// Steps to shrink the error by 1e-6 at the best rate.
    #[serde(rename = "steps_to_shrink_error_1e-6")]
    pub steps_to_shrink_error: f64,
}

/// What heavy-ball momentum can do near the minimum.
#[derive(Debug, Clone, Serialize)]
pub struct MomentumSummary {
    /// The best learning rate.
    pub best_learning_rate: f64,
    /// The best momentum.
    pub best_momentum: f64,
    /// The error's contraction per step at the best settings.
    pub contraction_per_step: f64,
    /// Steps to shrink the error by 1e-6 at the best settings.
    #[serde(rename = "steps_to_shrink_error_1e-6")]
    pub steps_to_shrink_error: f64,
}

/// The curvature of the drawn plane: the Hessian restricted to its two directions.
#[derive(Debug, Clone, Serialize)]
pub struct PlaneCurvature {
    /// Where on the plane it is measured: the plane's lowest point, (u, v).
    pub at: [f64; 2],
    /// [[d1'H d1, d1'H d2], [d2'H d1, d2'H d2]].
    pub hessian: [[f64; 2]; 2],
    /// Its eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// Their ratio, when both are positive.
    pub condition_number: Option<f64>,
    /// `exact` or `finite differences of exact gradients` (past [`MAX_HESSIAN_PARAMS`]).
    pub method: &'static str,
}

/// A critical point on the drawn plane.
#[derive(Debug, Clone, Serialize)]
pub struct CriticalSummary {
    /// `minimum`, `saddle`, `maximum` or `degenerate`.
    pub kind: &'static str,
    /// The parameters there.
    pub at: Vec<f64>,
    /// Its (u, v) on the plane.
    pub plane_at: [f64; 2],
    /// The loss.
    pub loss: f64,
    /// The eigenvalues of the plane's 2 x 2 Hessian there.
    pub eigenvalues: Vec<f64>,
    /// The plane gradient's norm after refinement.
    pub gradient_norm: f64,
    /// Newton iterations of the refinement.
    pub newton_iterations: usize,
}

/// Everything `analyze` measures.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    /// The model's name (formula).
    pub model: String,
    /// The parameter names.
    pub params: Vec<String>,
    /// The loss's name.
    pub loss: String,
    /// The data.
    pub data: DataSummary,
    /// The input transform's name.
    pub transform: &'static str,
    /// The drawn plane.
    pub plane: PlaneDoc<'a>,
    /// The grid.
    pub grid: GridSummary,
    /// The minimum over the whole parameter space, if any grid value is finite.
    pub minimum: Option<MinimumSummary>,
    /// The full Hessian at the minimum (up to [`MAX_HESSIAN_PARAMS`] parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hessian: Option<Vec<Vec<f64>>>,
    /// Its eigenvalues, ascending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eigenvalues: Option<Vec<f64>>,
    /// Its eigenvectors, in the eigenvalues' order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eigenvectors: Option<Vec<Vec<f64>>>,
    /// lambda_max / lambda_min, when the Hessian is positive definite.
    pub condition_number: Option<f64>,
    /// Gradient descent's limits and best settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient_descent: Option<GradientDescentSummary>,
    /// Momentum's best settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<MomentumSummary>,
    /// The curvature of the drawn plane.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plane_curvature: Option<PlaneCurvature>,
    /// Every critical point the grid reveals on the plane, by loss.
    pub critical_points: Vec<CriticalSummary>,
    /// What could not be measured, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

/// Measures `landscape` of `objective` (see [`Report`]).
pub fn report<'a>(objective: &Objective, landscape: &'a Landscape, transform: Transform) -> Report<'a> {
    let plane = landscape.plane();
    let names = objective.param_names().to_vec();
    let n = names.len();
    let data = objective.data();
    let mut report = Report {
        model: objective.model().name().to_string(),
        params: names,
        loss: objective.loss_kind().to_string(),
        data: DataSummary {
            name: data.name().to_string(),
            rows: data.len(),
            inputs: data.input_names().to_vec(),
        },
        transform: transform.name(),
        plane: plane.doc(),
        grid: GridSummary {
            axes: [landscape.u().into(), landscape.v().into()],
            non_finite_points: landscape.non_finite_count(),
        },
        minimum: None,
        hessian: None,
        eigenvalues: None,
        eigenvectors: None,
        condition_number: None,
        gradient_descent: None,
        momentum: None,
        plane_curvature: None,
        critical_points: Vec::new(),
        statement: None,
    };
    let Some(minimum) = find_minimum(objective, landscape) else {
        report.statement = Some(
            "the loss is not finite anywhere on the grid: there is no minimum to measure; change --range or the model"
                .into(),
        );
        return report;
    };
    let found_by = match minimum.method {
        MinimumMethod::ClosedForm => {
            FoundBy { method: "closed form (least squares)".into(), iterations: None }
        }
        MinimumMethod::Newton(i) => {
            FoundBy { method: "best grid point refined by Newton's method".into(), iterations: Some(i) }
        }
        MinimumMethod::Search { iterations } => FoundBy {
            method: "best grid point refined by L-BFGS (and Newton's method for small models)".into(),
            iterations: Some(iterations),
        },
    };
    let (u, v) = plane.project(&minimum.theta);
    let (_, gradient) = objective.gradient(&minimum.theta);
    report.minimum = Some(MinimumSummary {
        plane_at: [u, v],
        distance_from_plane: plane.distance(&minimum.theta),
        loss: minimum.loss,
        gradient_norm: gradient.iter().map(|g| g * g).sum::<f64>().sqrt(),
        found_by,
        inside_range: landscape.u().contains(u) && landscape.v().contains(v),
        at: minimum.theta.clone(),
    });
    if n <= MAX_HESSIAN_PARAMS {
        let hessian = objective.hessian(&minimum.theta);
        report.hessian = Some(hessian.chunks(n).map(<[f64]>::to_vec).collect());
        match SymmetricEigen::new(&hessian, n) {
            None => {
                report.statement = Some(
                    "the Hessian at the minimum is not finite, so curvature cannot be measured there".into(),
                )
            }
            Some(eigen) => {
                match StepSizeReport::from_eigen(&eigen) {
                    Some(r) => {
                        report.condition_number = Some(r.condition_number);
                        report.gradient_descent = Some(GradientDescentSummary {
                            max_stable_learning_rate: r.max_stable_learning_rate,
                            best_learning_rate: r.best_learning_rate,
                            contraction_per_step: r.gd_contraction,
                            steps_to_shrink_error: r.gd_steps_to_1e_minus_6,
                        });
                        report.momentum = Some(MomentumSummary {
                            best_learning_rate: r.momentum_best_learning_rate,
                            best_momentum: r.momentum_best_momentum,
                            contraction_per_step: r.momentum_contraction,
                            steps_to_shrink_error: r.momentum_steps_to_1e_minus_6,
                        });
                    }
                    None => {
                        report.statement = Some(format!(
                            "the Hessian at the minimum has eigenvalues {:?}: it is singular or not positive \
                             definite, so the minimum is not isolated and there is no finite condition number or \
                             stable step to report",
                            eigen.values
                        ))
                    }
                }
                report.eigenvalues = Some(eigen.values);
                report.eigenvectors = Some(eigen.vectors);
            }
        }
    } else {
        report.statement = Some(format!(
            "the model has {n} parameters: the full Hessian is measured up to {MAX_HESSIAN_PARAMS}; the plane's \
             curvature is below"
        ));
    }
    let points = critical_points(objective, landscape);
    report.plane_curvature = plane_curvature(objective, landscape, &points, n);
    report.critical_points = points
        .iter()
        .map(|p| CriticalSummary {
            kind: p.kind.name(),
            at: p.theta.clone(),
            plane_at: p.at,
            loss: p.loss,
            eigenvalues: p.eigen.values.clone(),
            gradient_norm: p.gradient_norm,
            newton_iterations: p.iterations,
        })
        .collect();
    report
}

/// The plane's Hessian at its lowest critical point, or at its lowest grid point when no minimum
/// was refined.
fn plane_curvature(
    objective: &Objective,
    landscape: &Landscape,
    points: &[crate::analysis::CriticalPoint],
    n: usize,
) -> Option<PlaneCurvature> {
    let plane = landscape.plane();
    let at = match points.iter().find(|p| p.kind == crate::analysis::CriticalKind::Minimum) {
        Some(p) => p.at,
        None => {
            let m = landscape.minimum()?;
            [m.u, m.v]
        }
    };
    let (d1, d2) = plane.directions();
    let h = plane_hessian(objective, &plane.point(at[0], at[1]), d1, d2);
    if h.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let eigen = SymmetricEigen::new(&h, 2)?;
    Some(PlaneCurvature {
        at,
        hessian: [[h[0], h[1]], [h[2], h[3]]],
        condition_number: eigen.condition_number(),
        eigenvalues: eigen.values,
        method: if n <= MAX_HESSIAN_PARAMS { "exact" } else { "finite differences of exact gradients" },
    })
}
