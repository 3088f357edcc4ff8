//! Numbers that describe a landscape: where its minimum is, how curved it is there, and what that
//! means for gradient descent.
//!
//! For a quadratic with Hessian H (eigenvalues lambda_min <= lambda_max, condition number
//! kappa = lambda_max / lambda_min), gradient descent with step eta contracts the error along
//! eigenvector i by |1 - eta * lambda_i| per step, so it is stable only for eta < 2 / lambda_max, and
//! at its best step eta = 2 / (lambda_min + lambda_max) it contracts by (kappa - 1) / (kappa + 1).
//! Heavy-ball momentum at its best settings contracts by (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
//! (Polyak 1964). These are the textbook results, e.g. Nesterov, "Lectures on Convex Optimization".

use crate::landscape::Landscape;
use crate::objective::Objective;

/// Eigenvalues (ascending) and unit eigenvectors (`vectors[k]` belongs to `values[k]`) of a
/// symmetric n x n matrix given row-major, by cyclic Jacobi rotations (exact to rounding for the
/// small matrices of a plane or a few parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricEigen {
    /// Eigenvalues, ascending.
    pub values: Vec<f64>,
    /// Unit eigenvectors, one per eigenvalue.
    pub vectors: Vec<Vec<f64>>,
}

impl SymmetricEigen {
    /// Decomposes `matrix` (n x n, row-major; only its symmetric part is used). Returns `None` if
    /// any entry is not finite.
    pub fn new(matrix: &[f64], n: usize) -> Option<SymmetricEigen> {
        assert_eq!(matrix.len(), n * n, "matrix must be n x n");
        if matrix.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut a: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                0.5 * (matrix[i * n + j] + matrix[j * n + i])
            })
            .collect();
        let mut v: Vec<f64> = (0..n * n).map(|k| if k / n == k % n { 1.0 } else { 0.0 }).collect();
        for _sweep in 0..100 {
            let off: f64 = (0..n)
                .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
                .map(|(i, j)| a[i * n + j].powi(2))
                .sum();
            let scale: f64 = a.iter().map(|x| x * x).sum();
            if off <= 1e-32 * scale || off == 0.0 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    let apq = a[p * n + q];
                    if apq == 0.0 {
                        continue;
                    }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let t = if theta == 0.0 { 1.0 } else { t };
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    for k in 0..n {
                        let (akp, akq) = (a[k * n + p], a[k * n + q]);
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for k in 0..n {
                        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for k in 0..n {
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| a[i * n + i].total_cmp(&a[j * n + j]));
        Some(SymmetricEigen {
            values: order.iter().map(|&k| a[k * n + k]).collect(),
            vectors: order.iter().map(|&k| (0..n).map(|r| v[r * n + k]).collect()).collect(),
        })
    }

    /// lambda_max / lambda_min when every eigenvalue is positive (a true minimum); `None` otherwise,
    /// since a condition number of a saddle or a flat direction would be a made-up number. An
    /// eigenvalue below 1e-10 of the largest counts as zero: the Hessian's own rounding error is
    /// about that size, so a larger ratio says only that the Hessian is singular.
    pub fn condition_number(&self) -> Option<f64> {
        let lo = *self.values.first()?;
        let hi = *self.values.last()?;
        (lo > 1e-10 * hi.abs()).then(|| hi / lo)
    }
}

/// What curvature at a minimum predicts for gradient descent and momentum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSizeReport {
    /// The largest eigenvalue of the Hessian.
    pub lambda_max: f64,
    /// The smallest eigenvalue of the Hessian.
    pub lambda_min: f64,
    /// lambda_max / lambda_min.
    pub condition_number: f64,
    /// Gradient descent diverges for learning rates above 2 / lambda_max.
    pub max_stable_learning_rate: f64,
    /// The best constant learning rate for gradient descent, 2 / (lambda_min + lambda_max).
    pub best_learning_rate: f64,
    /// The error contraction per step of gradient descent at its best rate, (kappa-1)/(kappa+1).
    pub gd_contraction: f64,
    /// The contraction per step of heavy-ball momentum at its best settings,
    /// (sqrt(kappa)-1)/(sqrt(kappa)+1).
    pub momentum_contraction: f64,
    /// Heavy ball's best learning rate, 4 / (sqrt(lambda_max) + sqrt(lambda_min))^2.
    pub momentum_best_learning_rate: f64,
    /// Heavy ball's best momentum, ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2.
    pub momentum_best_momentum: f64,
    /// Steps gradient descent at its best rate needs to shrink the error by 1e-6.
    pub gd_steps_to_1e_minus_6: f64,
    /// Steps heavy-ball momentum at its best settings needs to shrink the error by 1e-6
    /// (asymptotically).
    pub momentum_steps_to_1e_minus_6: f64,
}

impl StepSizeReport {
    /// The report for a positive definite Hessian's eigenvalues; `None` if it is not positive
    /// definite.
    pub fn from_eigen(eigen: &SymmetricEigen) -> Option<StepSizeReport> {
        let kappa = eigen.condition_number()?;
        let (lambda_min, lambda_max) = (eigen.values[0], *eigen.values.last()?);
        let gd = (kappa - 1.0) / (kappa + 1.0);
        let sk = kappa.sqrt();
        let heavy = (sk - 1.0) / (sk + 1.0);
        let steps = |rate: f64| if rate <= 0.0 { 1.0 } else { (1e-6f64.ln() / rate.ln()).ceil() };
        Some(StepSizeReport {
            lambda_max,
            lambda_min,
            condition_number: kappa,
            max_stable_learning_rate: 2.0 / lambda_max,
            best_learning_rate: 2.0 / (lambda_min + lambda_max),
            gd_contraction: gd,
            momentum_contraction: heavy,
            momentum_best_learning_rate: 4.0 / (lambda_max.sqrt() + lambda_min.sqrt()).powi(2),
            momentum_best_momentum: heavy * heavy,
            gd_steps_to_1e_minus_6: steps(gd),
            momentum_steps_to_1e_minus_6: steps(heavy),
        })
    }
}

/// A minimum found by [`find_minimum`].
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The parameters.
    pub theta: Vec<f64>,
    /// The loss there.
    pub loss: f64,
    /// How it was found.
    pub method: MinimumMethod,
}

/// How a minimum was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinimumMethod {
    /// Solved exactly (linear model, mse: least squares).
    ClosedForm,
    /// The best grid point refined by damped Newton steps; the number of iterations.
    Newton(usize),
    /// Found without a grid from fixed starts by [`crate::best_point`] (L-BFGS, then Newton for
    /// small models).
    Search {
        /// Iterations of the search.
        iterations: usize,
    },
}

/// The global minimum over a landscape's plane: the least-squares solution where the model is
/// linear with mse, else the best finite grid point refined by Newton's method with a backtracking
/// line search (falling back to a gradient step where the Hessian is not positive definite). `None`
/// when no grid value is finite.
pub fn find_minimum(objective: &Objective, landscape: &Landscape) -> Option<Minimum> {
    if let Some(q) = objective.quadratic() {
        if let Some((s, c)) = q.optimum() {
            let (si, ci) = q.indices();
            let mut theta = vec![0.0; objective.n_params()];
            theta[si] = s;
            theta[ci] = c;
            let loss = objective.loss(&theta);
            return Some(Minimum { theta, loss, method: MinimumMethod::ClosedForm });
        }
    }
    let start = landscape.minimum()?;
    let theta = landscape.plane().point(start.u, start.v);
    if objective.n_params() > 2 {
        // Newton's method needs the Hessian at every step; a search that needs only gradients
        // scales to many parameters (and polishes with Newton where that is cheap).
        return crate::minimize::minimize_from(objective, theta);
    }
    let (theta, loss, iterations) = newton(objective, theta);
    Some(Minimum { theta, loss, method: MinimumMethod::Newton(iterations) })
}

/// Largest parameter count for which the analysis forms the exact n x n Hessian (its symbolic
/// second derivatives and an O(n^3) eigen-decomposition); beyond it only curvature along given
/// directions is measured.
pub const MAX_HESSIAN_PARAMS: usize = 200;

/// The Hessian restricted to the plane spanned by `d1` and `d2` at `theta`, as a row-major 2 x 2
/// matrix [d1'H d1, d1'H d2; d2'H d1, d2'H d2]: the curvature a picture of that plane shows. Exact
/// for models of up to [`MAX_HESSIAN_PARAMS`] parameters; beyond, from central differences of the
/// exact gradient along each direction (two gradients per direction, no n x n matrix).
pub fn plane_hessian(objective: &Objective, theta: &[f64], d1: &[f64], d2: &[f64]) -> [f64; 4] {
    let n = theta.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (h12, h21, h11, h22);
    if n <= MAX_HESSIAN_PARAMS {
        let h = objective.hessian(theta);
        let apply = |d: &[f64]| -> Vec<f64> { (0..n).map(|p| dot(&h[p * n..(p + 1) * n], d)).collect() };
        let (a1, a2) = (apply(d1), apply(d2));
        (h11, h12, h21, h22) = (dot(d1, &a1), dot(d1, &a2), dot(d2, &a1), dot(d2, &a2));
    } else {
        let scale = 1.0 + dot(theta, theta).sqrt() / (n as f64).sqrt();
        let along = |d: &[f64]| -> Vec<f64> {
            let h = 1e-5 * scale / dot(d, d).sqrt();
            let shifted =
                |sign: f64| -> Vec<f64> { theta.iter().zip(d).map(|(t, x)| t + sign * h * x).collect() };
            let (plus, minus) = (objective.gradient(&shifted(1.0)).1, objective.gradient(&shifted(-1.0)).1);
            plus.iter().zip(&minus).map(|(a, b)| (a - b) / (2.0 * h)).collect()
        };
        let (a1, a2) = (along(d1), along(d2));
        (h11, h12, h21, h22) = (dot(d1, &a1), dot(d1, &a2), dot(d2, &a1), dot(d2, &a2));
    }
    // Symmetric by definition; averaging removes rounding (and finite-difference) asymmetry.
    let off = 0.5 * (h12 + h21);
    [h11, off, off, h22]
}

/// The global minimum ([`find_minimum`]) with the eigen-decomposition of the exact Hessian there:
/// what the compare titles, the transform table and the eigen-axis overlays all start from. `None`
/// when there is no finite minimum or its Hessian is not finite.
pub fn curvature_at_minimum(
    objective: &Objective,
    landscape: &Landscape,
) -> Option<(Minimum, SymmetricEigen)> {
    let minimum = find_minimum(objective, landscape)?;
    let eigen = SymmetricEigen::new(&objective.hessian(&minimum.theta), objective.n_params())?;
    Some((minimum, eigen))
}

/// Damped Newton iterations from `theta` until the gradient is tiny or steps stop helping.
pub fn newton(objective: &Objective, mut theta: Vec<f64>) -> (Vec<f64>, f64, usize) {
    let n = theta.len();
    let (mut loss, mut grad) = objective.gradient(&theta);
    let mut iterations = 0;
    while iterations < 100 {
        let gnorm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if gnorm.is_nan() || gnorm <= 1e-13 * (1.0 + loss.abs()) {
            break;
        }
        iterations += 1;
        let h = objective.hessian(&theta);
        let direction = match SymmetricEigen::new(&h, n) {
            // Newton direction -H^{-1} g through the eigen-decomposition, when H is positive definite.
            Some(e) if e.values[0] > 0.0 => {
                let mut d = vec![0.0; n];
                for (lambda, vec) in e.values.iter().zip(&e.vectors) {
                    let proj: f64 = vec.iter().zip(&grad).map(|(a, b)| a * b).sum();
                    for k in 0..n {
                        d[k] -= proj / lambda * vec[k];
                    }
                }
                d
            }
            _ => grad.iter().map(|g| -g).collect(),
        };
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..60 {
            let trial: Vec<f64> = theta.iter().zip(&direction).map(|(t, d)| t + step * d).collect();
            let trial_loss = objective.loss(&trial);
            if trial_loss.is_finite() && trial_loss <= loss {
                let (l, g) = objective.gradient(&trial);
                theta = trial;
                loss = l;
                grad = g;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }
    (theta, loss, iterations)
}

/// What kind of critical point (gradient zero) a point is, from its Hessian's eigenvalues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticalKind {
    /// All eigenvalues positive.
    Minimum,
    /// Eigenvalues of both signs.
    Saddle,
    /// All eigenvalues negative.
    Maximum,
    /// An eigenvalue is (numerically) zero: the test is inconclusive.
    Degenerate,
}

impl CriticalKind {
    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CriticalKind::Minimum => "minimum",
            CriticalKind::Saddle => "saddle",
            CriticalKind::Maximum => "maximum",
            CriticalKind::Degenerate => "degenerate",
        }
    }

    /// Classifies eigenvalues; those smaller than `1e-6` times the largest magnitude count as zero
    /// (a ridge or valley floor along which the loss is flat to rounding).
    pub fn of(eigenvalues: &[f64]) -> CriticalKind {
        let scale = eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let zero = 1e-6 * scale;
        if scale == 0.0 || eigenvalues.iter().any(|v| v.abs() <= zero) {
            CriticalKind::Degenerate
        } else if eigenvalues.iter().all(|&v| v > 0.0) {
            CriticalKind::Minimum
        } else if eigenvalues.iter().all(|&v| v < 0.0) {
            CriticalKind::Maximum
        } else {
            CriticalKind::Saddle
        }
    }
}

/// A point where the gradient vanishes, refined from a grid candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalPoint {
    /// Its (u, v) on the landscape's plane.
    pub at: [f64; 2],
    /// The parameters.
    pub theta: Vec<f64>,
    /// The loss.
    pub loss: f64,
    /// The gradient norm after refinement (how critical it really is).
    pub gradient_norm: f64,
    /// The Hessian's eigen-decomposition there.
    pub eigen: SymmetricEigen,
    /// Its kind.
    pub kind: CriticalKind,
    /// Newton iterations the refinement took.
    pub iterations: usize,
}

/// Every critical point of the landscape's plane that the grid reveals: grid nodes where the
/// exact gradient norm is smaller than at all eight neighbours are refined by Newton's method on the
/// gradient (which converges to minima, saddles and maxima alike), kept if they converge inside the
/// grid's range, classified by their Hessian's eigenvalues and de-duplicated. Sorted by loss.
///
/// Works on the landscape's own grid; the caller picks its resolution (a 60 x 60 grid finds the
/// critical points of smooth two-parameter models in well under a second).
pub fn critical_points(objective: &Objective, landscape: &Landscape) -> Vec<CriticalPoint> {
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let norms = grid_gradient_norms(landscape);
    let mut found: Vec<CriticalPoint> = Vec::new();
    let (du, dv) = (landscape.u().step(), landscape.v().step());
    for j in 0..nv {
        for i in 0..nu {
            let here = norms[j * nu + i];
            if !here.is_finite() {
                continue;
            }
            let mut is_local_min = true;
            for (di, dj) in [(-1i64, -1i64), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
                let (ii, jj) = (i as i64 + di, j as i64 + dj);
                if ii < 0 || jj < 0 || ii >= nu as i64 || jj >= nv as i64 {
                    continue;
                }
                let other = norms[jj as usize * nu + ii as usize];
                // Ties go to the first in row-major order so a flat patch yields one candidate.
                let earlier = (jj as usize, ii as usize) < (j, i);
                if other < here || (other == here && earlier) {
                    is_local_min = false;
                    break;
                }
            }
            if !is_local_min {
                continue;
            }
            let Some(point) =
                refine_critical(objective, landscape, [landscape.u().value(i), landscape.v().value(j)])
            else {
                continue;
            };
            let duplicate = found.iter().any(|p| {
                let same_place =
                    ((p.at[0] - point.at[0]) / du).abs() < 0.5 && ((p.at[1] - point.at[1]) / dv).abs() < 0.5;
                // A valley or ridge of critical points (a flat direction, e.g. a*b*x along a*b = c)
                // is reported once, not once per grid cell it crosses.
                let same_continuum = p.kind == CriticalKind::Degenerate
                    && point.kind == CriticalKind::Degenerate
                    && (p.loss - point.loss).abs() <= 1e-9 * (1.0 + p.loss.abs());
                same_place || same_continuum
            });
            if !duplicate {
                found.push(point);
            }
        }
    }
    found.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    found
}

/// The norm of the loss's gradient on the plane at every grid node, from central differences of
/// the grid's own values (one-sided at the border): candidates only, refined with exact derivatives
/// afterwards. Reading the grid costs nothing per data row, where an exact gradient at every node
/// would cost a pass over the data each (minutes for a million rows).
fn grid_gradient_norms(landscape: &Landscape) -> Vec<f64> {
    let (nu, nv) = (landscape.u().n(), landscape.v().n());
    let (du, dv) = (landscape.u().step(), landscape.v().step());
    let derivative = |at: &dyn Fn(usize) -> f64, k: usize, n: usize, h: f64| -> f64 {
        match k {
            0 => (at(1) - at(0)) / h,
            k if k == n - 1 => (at(k) - at(k - 1)) / h,
            k => (at(k + 1) - at(k - 1)) / (2.0 * h),
        }
    };
    (0..nu * nv)
        .map(|index| {
            let (i, j) = (index % nu, index / nu);
            let gu = derivative(&|ii| landscape.at(ii, j), i, nu, du);
            let gv = derivative(&|jj| landscape.at(i, jj), j, nv, dv);
            let n = gu.hypot(gv);
            if n.is_finite() {
                n
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Newton's method on the plane gradient from `start` (u, v); `None` if it does not converge to a
/// point inside the grid with a tiny gradient.
fn refine_critical(objective: &Objective, landscape: &Landscape, start: [f64; 2]) -> Option<CriticalPoint> {
    let plane = landscape.plane();
    let (d1, d2) = plane.directions();
    let project = |theta: &[f64]| -> (f64, [f64; 2], [f64; 4]) {
        let (loss, g) = objective.gradient(theta);
        let dot = |d: &[f64]| g.iter().zip(d).map(|(a, b)| a * b).sum::<f64>();
        (loss, [dot(d1), dot(d2)], plane_hessian(objective, theta, d1, d2))
    };
    let mut at = start;
    let mut iterations = 0;
    let scale = 1.0 + objective.loss(&plane.point(at[0], at[1])).abs();
    loop {
        let (loss, g, h) = project(&plane.point(at[0], at[1]));
        let gnorm = g[0].hypot(g[1]);
        if !(loss.is_finite() && gnorm.is_finite()) {
            return None;
        }
        if gnorm <= 1e-10 * scale {
            let eigen = SymmetricEigen::new(&h, 2)?;
            let kind = CriticalKind::of(&eigen.values);
            let margin = |a: &crate::landscape::Axis| 1e-9 * (a.max() - a.min());
            let (u, v) = (landscape.u(), landscape.v());
            if at[0] < u.min() - margin(u)
                || at[0] > u.max() + margin(u)
                || at[1] < v.min() - margin(v)
                || at[1] > v.max() + margin(v)
            {
                return None;
            }
            return Some(CriticalPoint {
                at,
                theta: plane.point(at[0], at[1]),
                loss,
                gradient_norm: gnorm,
                eigen,
                kind,
                iterations,
            });
        }
        if iterations >= 50 {
            return None;
        }
        iterations += 1;
        let det = h[0] * h[3] - h[1] * h[2];
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let step = [(h[3] * g[0] - h[1] * g[1]) / det, (h[0] * g[1] - h[2] * g[0]) / det];
        at = [at[0] - step[0], at[1] - step[1]];
    }
}

/// Where each start of a grid of starts ends up under an optimizer: the index of the minimum it
/// reaches, or why it reached none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasinLabel {
    /// It ended within tolerance of `minima[index]`.
    Minimum(usize),
    /// It ended somewhere else (still moving, a plateau, a minimum outside the range).
    Elsewhere,
    /// The run diverged.
    Diverged,
}

/// Basins of attraction: for every start (u, v) of `starts` (a grid spec), runs `spec` for
/// `options` and labels the start with the minimum of `minima` whose (u, v) is nearest to the end
/// point, if within `tolerance` (in plane units). Runs in parallel; labels do not depend on the
/// thread count. `labels[j * nu + i]` belongs to start (u_i, v_j). `on_start_done` is called
/// (from any thread) as each start's run ends, for a caller's progress report.
// Each argument is a separate part of the experiment; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn basins(
    objective: &Objective,
    plane: &crate::plane::Plane,
    starts: &crate::landscape::GridSpec,
    spec: &crate::optim::OptimizerSpec,
    options: &crate::trajectory::RunOptions,
    minima: &[[f64; 2]],
    tolerance: f64,
    on_start_done: impl Fn() + Sync,
) -> crate::error::Result<Vec<BasinLabel>> {
    let nu = starts.u().n();
    let label = |k: usize| -> crate::error::Result<BasinLabel> {
        let theta = plane.point(starts.u().value(k % nu), starts.v().value(k / nu));
        let t = crate::trajectory::run(objective, spec, &theta, options)?;
        on_start_done();
        if t.stopped() == crate::trajectory::Stopped::Diverged {
            return Ok(BasinLabel::Diverged);
        }
        let (u, v) = plane.project(&t.last().params);
        let nearest = minima
            .iter()
            .enumerate()
            .map(|(m, p)| (m, (p[0] - u).hypot(p[1] - v)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        Ok(match nearest {
            Some((m, d)) if d <= tolerance => BasinLabel::Minimum(m),
            _ => BasinLabel::Elsewhere,
        })
    };
    let count = starts.len();
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..count).into_par_iter().map(label).collect()
    }
    #[cfg(not(feature = "parallel"))]
    (0..count).map(label).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{linear, Activation, Dataset, Loss, Transform};

    fn seed_objective(t: Transform) -> Objective {
        let data = t.apply(&Dataset::seed()).unwrap();
        Objective::new(data, Arc::new(linear(Activation::Identity)), Loss::Mse)
    }

    #[test]
    fn jacobi_on_a_hand_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, -1)/sqrt2 and (1, 1)/sqrt2.
        let e = SymmetricEigen::new(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((e.values[0] - 1.0).abs() < 1e-14 && (e.values[1] - 3.0).abs() < 1e-14);
        assert!((e.vectors[1][0].abs() - 0.5f64.sqrt()).abs() < 1e-14);
        assert!((e.vectors[1][0] - e.vectors[1][1]).abs() < 1e-14);
        assert_eq!(SymmetricEigen::new(&[1.0, 0.0, 0.0, -1.0], 2).unwrap().condition_number(), None);
        // Singular to rounding: no condition number is claimed.
        assert_eq!(SymmetricEigen::new(&[1e-15, 0.0, 0.0, 60.0], 2).unwrap().condition_number(), None);
        assert_eq!(SymmetricEigen::new(&[1e-6, 0.0, 0.0, 60.0], 2).unwrap().condition_number(), Some(6e7));
    }

    #[test]
    fn seed_condition_numbers_from_seed_figures() {
        let kappa = |t| {
            let obj = seed_objective(t);
            SymmetricEigen::new(&obj.hessian(&[0.0, 0.0]), 2).unwrap().condition_number().unwrap()
        };
        // SEED_FIGURES.md: about 33.4 raw, about 2.92 for mean-var, exactly 1 for the z-score.
        // By hand: H = 1/3 [[55, 15], [15, 6]], trace 61/3, det 105/9, so
        // lambda = (61/3 +- sqrt((61/3)^2 - 4 * 105/9)) / 2 = 19.7424, 0.59095; ratio 33.408.
        assert!((kappa(Transform::None) - 33.408_162_433).abs() < 1e-6);
        // mean-var: x' has mean 0 and E[x'^2] = var / var^2 = 12/35, so H = 2 diag(12/35, 1) and
        // kappa = 35/12 = 2.9167.
        assert!((kappa(Transform::MeanVar) - 35.0 / 12.0).abs() < 1e-12);
        assert!((kappa(Transform::Zscore) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn seed_stable_learning_rate() {
        let obj = seed_objective(Transform::None);
        let e = SymmetricEigen::new(&obj.hessian(&[0.0, 0.0]), 2).unwrap();
        let r = StepSizeReport::from_eigen(&e).unwrap();
        assert!((r.max_stable_learning_rate - 0.101_304_866).abs() < 1e-8);
    }

    #[test]
    fn the_predicted_stable_learning_rate_is_where_gd_starts_to_diverge() {
        let obj = seed_objective(Transform::None);
        let e = SymmetricEigen::new(&obj.hessian(&[0.0, 0.0]), 2).unwrap();
        let limit = StepSizeReport::from_eigen(&e).unwrap().max_stable_learning_rate;
        let distance_after = |lr: f64| {
            let spec = crate::OptimizerSpec::parse(&format!("gd:lr={lr}")).unwrap();
            let options = crate::RunOptions { max_steps: 3000, tolerance: 0.0, ..Default::default() };
            let t = crate::run(&obj, &spec, &[0.0, 0.0], &options).unwrap();
            let p = &t.last().params;
            ((p[0] - 0.825_714_285_714_285_7).hypot(p[1] - 1.485_714_285_714_285_7), t.stopped())
        };
        // 1% below the limit the error still shrinks (slowly along the steep axis: |1 - 1.98| = 0.98).
        let (below, stopped) = distance_after(0.99 * limit);
        assert!(below < 1e-6 && stopped == crate::Stopped::MaxSteps, "{below}");
        // 1% above, it grows by |1 - 2.02| = 1.02 a step and diverges.
        let (_, stopped) = distance_after(1.01 * limit);
        assert_eq!(stopped, crate::Stopped::Diverged);
    }

    #[test]
    fn heavy_ball_at_its_best_settings_contracts_as_predicted() {
        let obj = seed_objective(Transform::None);
        let e = SymmetricEigen::new(&obj.hessian(&[0.0, 0.0]), 2).unwrap();
        let r = StepSizeReport::from_eigen(&e).unwrap();
        // torch's momentum buffer b = mu b + g with theta -= lr b is Polyak's heavy ball with
        // step lr and momentum mu, so its error shrinks like momentum_contraction^t.
        let spec = crate::OptimizerSpec::parse(&format!(
            "momentum:lr={},momentum={}",
            r.momentum_best_learning_rate, r.momentum_best_momentum
        ))
        .unwrap();
        let options = crate::RunOptions { max_steps: 60, tolerance: 0.0, ..Default::default() };
        let t = crate::run(&obj, &spec, &[0.0, 0.0], &options).unwrap();
        let err = |s: &crate::Step| {
            (s.params[0] - 0.825_714_285_714_285_7).hypot(s.params[1] - 1.485_714_285_714_285_7)
        };
        let observed = (err(&t.steps()[60]) / err(&t.steps()[30])).powf(1.0 / 30.0);
        // At the optimum the iteration matrix has a repeated eigenvalue, so the observed rate
        // carries a polynomial factor; it must still be close to the predicted 0.705.
        assert!((observed - r.momentum_contraction).abs() < 0.03, "{observed} vs {}", r.momentum_contraction);
        assert!((r.momentum_contraction - 0.7049).abs() < 1e-3, "{}", r.momentum_contraction);
    }

    #[test]
    fn newton_refines_a_nonlinear_minimum() {
        // tanh(k*x + b) fitted to data generated by it: the minimum is at the true parameters
        // when there is no noise.
        let f = crate::Formula::parse("tanh(k*x + b)").unwrap();
        let data = Dataset::generate("g", |x| (0.7 * x - 0.2f64).tanh(), 50, (-3.0, 3.0), 0.0, 1).unwrap();
        let obj = Objective::new(data, Arc::new(f), Loss::Mse);
        let (theta, loss, iters) = newton(&obj, vec![0.5, 0.0]);
        assert!((theta[0] - 0.7).abs() < 1e-9 && (theta[1] + 0.2).abs() < 1e-9, "{theta:?}");
        assert!(loss < 1e-20 && iters > 0);
    }

    /// L = ((a^2 - 1)^2 + b^2) / 2, from the model (a^2 - 1) x + b (1 - x) on x = [1, 0], y = [0, 0]:
    /// minima at (-1, 0) and (1, 0), a saddle at (0, 0), nothing else.
    fn double_well() -> Objective {
        let f = crate::Formula::parse("(a^2 - 1)*x + b*(1 - x)").unwrap();
        let data = Dataset::new("two points", vec![1.0, 0.0], vec![0.0, 0.0]).unwrap();
        Objective::new(data, Arc::new(f), Loss::Mse)
    }

    fn double_well_landscape(n: usize) -> Landscape {
        let obj = double_well();
        let plane = crate::Plane::parameter_axes(obj.param_names()).unwrap();
        let grid = crate::GridSpec::new(
            crate::Axis::new("a", -2.0, 2.0, n).unwrap(),
            crate::Axis::new("b", -1.5, 1.5, n).unwrap(),
            crate::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        crate::evaluate(&obj, &plane, &grid).unwrap()
    }

    #[test]
    fn double_well_critical_points_are_found_and_classified() {
        let obj = double_well();
        let points = critical_points(&obj, &double_well_landscape(41));
        let kinds: Vec<(CriticalKind, [f64; 2])> = points.iter().map(|p| (p.kind, p.at)).collect();
        assert_eq!(points.len(), 3, "{kinds:?}");
        let find =
            |a: f64| points.iter().find(|p| (p.at[0] - a).abs() < 1e-8 && p.at[1].abs() < 1e-8).unwrap();
        assert_eq!(find(-1.0).kind, CriticalKind::Minimum);
        assert_eq!(find(1.0).kind, CriticalKind::Minimum);
        let saddle = find(0.0);
        assert_eq!(saddle.kind, CriticalKind::Saddle);
        // Hessian at the saddle: d2/da2 of (a^2-1)^2/2 = 6a^2 - 2 = -2, d2/db2 = 1.
        assert!((saddle.eigen.values[0] + 2.0).abs() < 1e-9 && (saddle.eigen.values[1] - 1.0).abs() < 1e-9);
        assert!((saddle.loss - 0.5).abs() < 1e-12);
        // At the minima: 6 - 2 = 4 along a, 1 along b.
        let m = find(1.0);
        assert!((m.eigen.values[0] - 1.0).abs() < 1e-9 && (m.eigen.values[1] - 4.0).abs() < 1e-9);
    }

    /// A model that counts how often its derivatives are evaluated (each call is a pass over the
    /// data, which for a million rows is what makes an analysis slow).
    #[derive(Debug)]
    struct Counting {
        inner: crate::Formula,
        derivative_calls: std::sync::atomic::AtomicUsize,
    }

    impl crate::Model for Counting {
        fn name(&self) -> &str {
            self.inner.source()
        }
        fn param_names(&self) -> &[String] {
            self.inner.params()
        }
        fn input_names(&self) -> &[String] {
            self.inner.inputs()
        }
        fn predict(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64]) {
            self.inner.eval_columns(params, inputs, out);
        }
        fn predict_jacobian(&self, params: &[f64], inputs: &[&[f64]], out: &mut [f64], jac: &mut [f64]) {
            self.derivative_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.eval_jacobian_columns(params, inputs, out, jac);
        }
        fn predict_hessian(
            &self,
            params: &[f64],
            inputs: &[&[f64]],
            out: &mut [f64],
            jac: &mut [f64],
            hess: &mut [f64],
        ) {
            self.derivative_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.eval_hessian_columns(params, inputs, out, jac, hess);
        }
    }

    #[test]
    fn critical_points_pass_over_the_data_a_few_times_not_once_per_grid_node() {
        let model = Arc::new(Counting {
            inner: crate::Formula::parse("(a^2 - 1)*x + b*(1 - x)").unwrap(),
            derivative_calls: Default::default(),
        });
        let data = Dataset::new("two points", vec![1.0, 0.0], vec![0.0, 0.0]).unwrap();
        let obj = Objective::new(data, model.clone(), Loss::Mse);
        let landscape = double_well_landscape(101);
        let points = critical_points(&obj, &landscape);
        assert_eq!(points.len(), 3);
        // 101 x 101 = 10201 nodes; candidates are read off the grid's values, and only a few
        // are refined with exact derivatives.
        let calls = model.derivative_calls.load(std::sync::atomic::Ordering::Relaxed);
        assert!(calls < 500, "{calls} passes over the data");
    }

    #[test]
    fn double_well_basins_split_at_a_equals_zero() {
        let obj = double_well();
        let plane = crate::Plane::parameter_axes(obj.param_names()).unwrap();
        let starts = crate::GridSpec::new(
            crate::Axis::new("a", -1.9, 1.9, 8).unwrap(),
            crate::Axis::new("b", -1.0, 1.0, 3).unwrap(),
            crate::DEFAULT_GRID_BUDGET_BYTES,
        )
        .unwrap();
        let spec = crate::OptimizerSpec::parse("gd:lr=0.05").unwrap();
        let options = crate::RunOptions { max_steps: 2000, ..crate::RunOptions::default() };
        let labels =
            basins(&obj, &plane, &starts, &spec, &options, &[[-1.0, 0.0], [1.0, 0.0]], 1e-3, || {}).unwrap();
        for (k, label) in labels.iter().enumerate() {
            let a = starts.u().value(k % 8);
            let want = if a < 0.0 { BasinLabel::Minimum(0) } else { BasinLabel::Minimum(1) };
            assert_eq!(*label, want, "start a = {a}");
        }
    }
}
