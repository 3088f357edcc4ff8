//! The objective: a data set, a model and a loss, with the loss, gradient and Hessian of the mean
//! penalty over the data as functions of the parameters.

use std::sync::Arc;

use crate::data::Dataset;
use crate::loss::Loss;
use crate::model::Model;

/// Samples per column-wise evaluation: large enough to amortise a formula's per-operation
/// dispatch, small enough that a formula's registers stay in the L1/L2 cache.
const CHUNK: usize = 1024;

/// Most f64 values of second derivatives held at once while a Hessian is summed (n * n per
/// sample): the chunk of samples shrinks as the parameter count grows, so a model with hundreds of
/// parameters needs tens of megabytes, not gigabytes.
const HESSIAN_SCRATCH: usize = 1 << 22;

/// L(theta) = (1/m) * sum_i penalty(f(x_i; theta), y_i).
#[derive(Debug, Clone)]
pub struct Objective {
    data: Dataset,
    model: Arc<dyn Model>,
    loss: Loss,
    quadratic: Option<Quadratic>,
}

impl Objective {
    /// Combines data, model and loss. When the model is `k*x + b` and the loss is mse, the loss is a
    /// quadratic whose coefficients are data moments, and [`Objective::quadratic`] returns it.
    ///
    /// # Panics
    /// If the model's inputs are not the data's input columns; [`Objective::try_new`] checks them
    /// (and the targets) and says what differs.
    pub fn new(data: Dataset, model: Arc<dyn Model>, loss: Loss) -> Objective {
        assert_eq!(model.input_names(), data.input_names(), "model inputs must be the data's input columns");
        let quadratic = match (loss, model.linear_form()) {
            (Loss::Mse, Some((slope, intercept))) => {
                Some(Quadratic::linear_mse(&data, slope, intercept, model.n_params()))
            }
            _ => None,
        };
        Objective { data, model, loss, quadratic }
    }

    /// [`Objective::new`] for what a user gave: the model must read the data's input columns, and
    /// a cross-entropy loss needs targets in [0, 1].
    pub fn try_new(data: Dataset, model: Arc<dyn Model>, loss: Loss) -> crate::Result<Objective> {
        if model.input_names() != data.input_names() {
            return Err(crate::Error::Invalid(format!(
                "model `{}` reads the inputs {} but the data `{}` has the input columns {}; \
                 name the columns with --inputs",
                model.name(),
                model.input_names().join(", "),
                data.name(),
                data.input_names().join(", ")
            )));
        }
        loss.check_targets(data.y())?;
        Ok(Objective::new(data, model, loss))
    }

    /// The same objective evaluated sample by sample even where a closed form exists: the reference
    /// the closed form is checked against, and what benchmarks of the formula path measure.
    pub fn without_closed_form(mut self) -> Objective {
        self.quadratic = None;
        self
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The model.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// The loss.
    pub fn loss_kind(&self) -> Loss {
        self.loss
    }

    /// The parameter names.
    pub fn param_names(&self) -> &[String] {
        self.model.param_names()
    }

    /// The number of parameters.
    pub fn n_params(&self) -> usize {
        self.model.n_params()
    }

    /// The closed form, when there is one (linear model, mse).
    pub fn quadratic(&self) -> Option<&Quadratic> {
        self.quadratic.as_ref()
    }

    /// The loss at `theta`, evaluated sample by sample (the reference that the closed form is
    /// tested against). Non-finite predictions give a non-finite loss.
    pub fn loss(&self, theta: &[f64]) -> f64 {
        let mut buffer = vec![0.0; CHUNK.min(self.data.len())];
        self.loss_with_buffer(theta, &mut buffer)
    }

    /// [`Objective::loss`] with a caller's scratch buffer (any non-zero length), so a grid row
    /// allocates once.
    pub fn loss_with_buffer(&self, theta: &[f64], buffer: &mut [f64]) -> f64 {
        let chunk = buffer.len().max(1);
        let mut sum = 0.0;
        self.data.for_each_chunk(chunk, |inputs, ys| {
            let out = &mut buffer[..ys.len()];
            self.model.predict(theta, inputs, out);
            sum += penalty_sum(self.loss, out, ys);
        });
        sum / self.data.len() as f64
    }

    /// The losses at the points `thetas` of one grid line through `plan` (this objective's model
    /// split by [`crate::formula::GridPlan`]), given the plan's data columns: per chunk of the
    /// data, the line stage once and then every point. Each point's chunk sums are added in the
    /// order [`Objective::loss_with_buffer`] adds them, with the same chunk length, so the
    /// losses are bit-identical to it.
    pub(crate) fn planned_line_losses(
        &self,
        plan: &crate::formula::GridPlan,
        data_columns: &[Vec<f64>],
        thetas: &[Vec<f64>],
    ) -> Vec<f64> {
        let n = self.data.len();
        let chunk = CHUNK.min(n).max(1);
        let mut sums = vec![0.0; thetas.len()];
        let (Some(first), false) = (thetas.first(), n == 0) else { return sums };
        let mut line_rows = vec![0.0; plan.line_columns() * chunk];
        let mut predicted = vec![0.0; chunk];
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let len = end - start;
            let mut inputs: Vec<&[f64]> = self.data.inputs().iter().map(|c| &c[start..end]).collect();
            inputs.extend(data_columns.iter().map(|c| &c[start..end]));
            let rows = &mut line_rows[..plan.line_columns() * len];
            plan.run_line(first, &inputs, rows);
            inputs.extend(rows.chunks(len));
            let (out, ys) = (&mut predicted[..len], &self.data.y()[start..end]);
            for (sum, theta) in sums.iter_mut().zip(thetas) {
                plan.run_point(theta, &inputs, out);
                *sum += penalty_sum(self.loss, out, ys);
            }
        }
        sums.iter().map(|s| s / n as f64).collect()
    }

    /// The loss and its gradient at `theta`.
    pub fn gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        self.gradient_on(&self.data, theta)
    }

    /// The loss and gradient over another data set with this model and loss (a mini-batch).
    pub fn gradient_on(&self, data: &Dataset, theta: &[f64]) -> (f64, Vec<f64>) {
        let n = self.n_params();
        let mut grad = vec![0.0; n];
        let mut loss = 0.0;
        let chunk = CHUNK.min(data.len());
        let (mut out, mut jac) = (vec![0.0; chunk], vec![0.0; n * chunk]);
        data.for_each_chunk(chunk, |inputs, ys| {
            let len = ys.len();
            let (out, jac) = (&mut out[..len], &mut jac[..n * len]);
            self.model.predict_jacobian(theta, inputs, out, jac);
            for i in 0..len {
                loss += self.loss.penalty(out[i], ys[i]);
                let s = self.loss.slope(out[i], ys[i]);
                for (p, g) in grad.iter_mut().enumerate() {
                    *g += s * jac[p * len + i];
                }
            }
        });
        let m = data.len() as f64;
        grad.iter_mut().for_each(|g| *g /= m);
        (loss / m, grad)
    }

    /// The exact Hessian at `theta` as a row-major n x n matrix:
    /// H_pq = (1/m) sum_i [penalty''(f_i) J_ip J_iq + penalty'(f_i) d2f_i/dtheta_p dtheta_q].
    pub fn hessian(&self, theta: &[f64]) -> Vec<f64> {
        let n = self.n_params();
        let mut h = vec![0.0; n * n];
        let chunk = (HESSIAN_SCRATCH / (n * n).max(1)).clamp(1, CHUNK).min(self.data.len());
        let (mut out, mut jac, mut second) =
            (vec![0.0; chunk], vec![0.0; n * chunk], vec![0.0; n * n * chunk]);
        self.data.for_each_chunk(chunk, |inputs, ys| {
            let len = ys.len();
            let (out, jac, second) = (&mut out[..len], &mut jac[..n * len], &mut second[..n * n * len]);
            self.model.predict_hessian(theta, inputs, out, jac, second);
            for i in 0..len {
                let (s, c) = (self.loss.slope(out[i], ys[i]), self.loss.curvature(out[i], ys[i]));
                for p in 0..n {
                    for q in 0..n {
                        h[p * n + q] +=
                            c * jac[p * len + i] * jac[q * len + i] + s * second[(p * n + q) * len + i];
                    }
                }
            }
        });
        let m = self.data.len() as f64;
        h.iter_mut().for_each(|v| *v /= m);
        h
    }

    /// The exact Hessian at `theta` as a product with vectors, for the spectral methods that a
    /// network's Hessian also uses ([`crate::spectrum`]): a formula model's few parameters make
    /// the dense matrix cheap, and its eigenvalues come out the same as [`Objective::hessian`]'s.
    pub fn hessian_operator(&self, theta: &[f64]) -> crate::spectrum::DenseSymmetric {
        crate::spectrum::DenseSymmetric::new(self.hessian(theta), self.n_params())
            .expect("the Hessian is n x n")
    }
}

/// Sum of penalties of the predictions against the targets, written per loss so each loop
/// vectorises, and compiled for the same instruction sets as the formula kernels (a grid point's
/// loss is this sum over the formula's values, so it costs as much as a cheap formula).
fn penalty_sum(loss: Loss, predicted: &[f64], target: &[f64]) -> f64 {
    crate::formula::arch_for_rows(predicted.len()).dispatch(PenaltySum { loss, predicted, target })
}

/// [`penalty_sum`]'s loops, as pulp runs them on an instruction set (a struct, not a closure,
/// so that the loops are inlined into pulp's `#[target_feature]` function; see
/// `formula/program.rs`). The additions are the same on every instruction set, so the sum is.
struct PenaltySum<'a> {
    loss: Loss,
    predicted: &'a [f64],
    target: &'a [f64],
}

impl pulp::WithSimd for PenaltySum<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f64 {
        let PenaltySum { loss, predicted, target } = self;
        match loss {
            Loss::Mse => lane_sum(predicted, target, |p, t| (p - t) * (p - t)),
            Loss::Mae => lane_sum(predicted, target, |p, t| (p - t).abs()),
            _ => lane_sum(predicted, target, |p, t| loss.penalty(p, t)),
        }
    }
}

/// Sum of `penalty(p, t)` over eight interleaved accumulators. A single running sum is one long
/// chain of dependent additions (about 4 cycles each), which capped the formula path at about 7e8
/// samples/s per core; eight independent lanes vectorise. The order of additions is fixed, so the
/// result does not depend on the machine or thread count.
#[inline(always)]
fn lane_sum(predicted: &[f64], target: &[f64], penalty: impl Fn(f64, f64) -> f64) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0; LANES];
    let split = predicted.len() - predicted.len() % LANES;
    for (p, t) in predicted[..split].chunks_exact(LANES).zip(target[..split].chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += penalty(p[k], t[k]);
        }
    }
    let tail: f64 = predicted[split..].iter().zip(&target[split..]).map(|(&p, &t)| penalty(p, t)).sum();
    acc.iter().sum::<f64>() + tail
}

/// The mse of a linear model as a quadratic in its two parameters, from centred data moments.
///
/// With s the slope and c the intercept, L(s, c) = s^2 Vxx - 2 s Vxy + Vyy + (s x̄ + c - ȳ)^2, where
/// Vxx, Vxy, Vyy are population (co)variances. Centring avoids the cancellation that raw sums
/// (sum y^2 against 2 sum xy) suffer when the data sit far from the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quadratic {
    slope: usize,
    intercept: usize,
    mean_x: f64,
    mean_y: f64,
    var_x: f64,
    cov_xy: f64,
    var_y: f64,
}

impl Quadratic {
    fn linear_mse(data: &Dataset, slope: usize, intercept: usize, n_params: usize) -> Quadratic {
        debug_assert!(slope < n_params && intercept < n_params);
        let m = data.len() as f64;
        let mean_x = data.x().iter().sum::<f64>() / m;
        let mean_y = data.y().iter().sum::<f64>() / m;
        let (mut var_x, mut cov_xy, mut var_y) = (0.0, 0.0, 0.0);
        for (x, y) in data.x().iter().zip(data.y()) {
            let (dx, dy) = (x - mean_x, y - mean_y);
            var_x += dx * dx;
            cov_xy += dx * dy;
            var_y += dy * dy;
        }
        Quadratic { slope, intercept, mean_x, mean_y, var_x: var_x / m, cov_xy: cov_xy / m, var_y: var_y / m }
    }

    /// The loss at `theta` in O(1).
    #[inline]
    pub fn loss(&self, theta: &[f64]) -> f64 {
        self.loss_at(theta[self.slope], theta[self.intercept])
    }

    /// The loss at slope `s` and intercept `c`.
    #[inline]
    pub fn loss_at(&self, s: f64, c: f64) -> f64 {
        let offset = s * self.mean_x + c - self.mean_y;
        s * (s * self.var_x - 2.0 * self.cov_xy) + self.var_y + offset * offset
    }

    /// Indices of (slope, intercept) in the parameter vector.
    pub fn indices(&self) -> (usize, usize) {
        (self.slope, self.intercept)
    }

    /// The least-squares optimum (slope, intercept), or `None` when all x are equal (the slope is
    /// then not determined).
    pub fn optimum(&self) -> Option<(f64, f64)> {
        if self.var_x <= 0.0 {
            return None;
        }
        let s = self.cov_xy / self.var_x;
        Some((s, self.mean_y - s * self.mean_x))
    }

    /// The Hessian in (slope, intercept) order: 2 * [[E x^2, E x], [E x, 1]].
    pub fn hessian(&self) -> [[f64; 2]; 2] {
        let ex2 = self.var_x + self.mean_x * self.mean_x;
        [[2.0 * ex2, 2.0 * self.mean_x], [2.0 * self.mean_x, 2.0]]
    }

    /// The six coefficients of L(s, c) = a s^2 + b s c + c2 c^2 + d s + e c + f, in that order.
    pub fn coefficients(&self) -> [f64; 6] {
        let (mx, my) = (self.mean_x, self.mean_y);
        [
            self.var_x + mx * mx,
            2.0 * mx,
            1.0,
            -2.0 * self.cov_xy - 2.0 * mx * my,
            -2.0 * my,
            self.var_y + my * my,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{linear, Activation};

    fn seed(act: Activation, loss: Loss) -> Objective {
        Objective::new(Dataset::seed(), Arc::new(linear(act)), loss)
    }

    #[test]
    fn seed_loss_at_hand_computed_points() {
        let obj = seed(Activation::Identity, Loss::Mse);
        // k = 1, b = 0: residuals x - y = -1.1, -1.2, -1.8, -1.1, -0.9, -0.2
        // squares 1.21 + 1.44 + 3.24 + 1.21 + 0.81 + 0.04 = 7.95, mean 1.325
        assert!((obj.loss(&[1.0, 0.0]) - 1.325).abs() < 1e-14);
        // k = 0, b = 0: mean y^2 = (1.21 + 4.84 + 14.44 + 16.81 + 24.01 + 27.04) / 6 = 88.35 / 6
        assert!((obj.loss(&[0.0, 0.0]) - 88.35 / 6.0).abs() < 1e-13);
        let q = obj.quadratic().expect("linear + mse has a closed form");
        assert!((q.loss(&[1.0, 0.0]) - 1.325).abs() < 1e-14);
    }

    #[test]
    fn seed_optimum_and_minimum_from_seed_figures() {
        let obj = seed(Activation::Identity, Loss::Mse);
        let (k, b) = obj.quadratic().unwrap().optimum().unwrap();
        // By hand with exact fractions: x̄ = 2.5, ȳ = 3.55, sum xy = 67.7, so cov = 67.7/6 - 8.875
        // = 2.408333..., var x = 55/6 - 6.25 = 2.916666..., k* = cov/var = 0.825714..., b* = ȳ - k* x̄.
        assert!((k - 0.825_714_285_714_285_7).abs() < 1e-12, "{k}");
        assert!((b - 1.485_714_285_714_285_7).abs() < 1e-12, "{b}");
        // Minimum = var y - cov^2 / var x = 2.1225 - 1.988595... = 0.1339047619...
        // (SEED_FIGURES.md prints "0.1338...", a truncation slip; the exact value is 0.13390476.)
        let l = obj.loss(&[k, b]);
        assert!((l - 0.133_904_761_904_761_9).abs() < 1e-12, "{l}");
    }

    #[test]
    fn closed_form_agrees_with_direct_evaluation() {
        let data = Dataset::generate("g", |x| 3.0 * x - 7.0, 997, (100.0, 140.0), 2.0, 3).unwrap();
        let obj = Objective::new(data, Arc::new(linear(Activation::Identity)), Loss::Mse);
        let q = *obj.quadratic().unwrap();
        for &(k, b) in &[(0.0, 0.0), (3.0, -7.0), (-1.5, 250.0), (2.9, -3.0), (10.0, 1e3)] {
            let (direct, closed) = (obj.loss(&[k, b]), q.loss(&[k, b]));
            assert!(((direct - closed) / direct).abs() < 1e-12, "{k},{b}: {direct} vs {closed}");
        }
    }

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        for act in Activation::ALL {
            for loss in [Loss::Mse, Loss::huber(0.8).unwrap()] {
                let obj = seed(act, loss);
                let theta = [0.37, -0.21];
                let (l, g) = obj.gradient(&theta);
                assert!((l - obj.loss(&theta)).abs() < 1e-14);
                let h = 1e-6;
                for p in 0..2 {
                    let mut a = theta;
                    let mut b = theta;
                    a[p] += h;
                    b[p] -= h;
                    let fd = (obj.loss(&a) - obj.loss(&b)) / (2.0 * h);
                    assert!((fd - g[p]).abs() < 1e-6 * (1.0 + g[p].abs()), "{act:?} {loss} g{p}");
                    let (ga, gb) = (obj.gradient(&a).1, obj.gradient(&b).1);
                    let hess = obj.hessian(&theta);
                    for q in 0..2 {
                        let fd2 = (ga[q] - gb[q]) / (2.0 * h);
                        assert!(
                            (fd2 - hess[p * 2 + q]).abs() < 1e-5 * (1.0 + fd2.abs()),
                            "{act:?} {loss} h{p}{q}: {fd2} vs {}",
                            hess[p * 2 + q]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn seed_hessian_is_the_closed_form() {
        let obj = seed(Activation::Identity, Loss::Mse);
        // 2/m [[sum x^2, sum x], [sum x, m]] = 2/6 [[55, 15], [15, 6]]
        let h = obj.hessian(&[0.3, 0.9]);
        let want = [110.0 / 6.0, 5.0, 5.0, 2.0];
        for (a, b) in h.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{h:?}");
        }
        let q = obj.quadratic().unwrap().hessian();
        assert!((q[0][0] - want[0]).abs() < 1e-12 && (q[0][1] - 5.0).abs() < 1e-12);
    }
    #[test]
    fn lanczos_on_the_formula_hessian_gives_the_closed_form_eigenvalues() {
        // 2/6 [[55, 15], [15, 6]]: eigenvalues (61 +- sqrt(49^2 + 4 * 15^2)) / 6.
        let obj = seed(Activation::Identity, Loss::Mse);
        let h = obj.hessian_operator(&[0.3, 0.9]);
        let options = crate::spectrum::LanczosOptions { k: 2, tol: 1e-12, max_steps: 2, seed: 0 };
        let pairs = crate::spectrum::top_eigenpairs(h.dim(), |v, o| h.apply(v, o), &options).unwrap();
        let root = (49.0f64 * 49.0 + 4.0 * 225.0).sqrt();
        for (got, want) in pairs.values.iter().zip([(61.0 + root) / 6.0, (61.0 - root) / 6.0]) {
            assert!((got - want).abs() < 1e-12, "{:?}", pairs.values);
        }
    }
}
