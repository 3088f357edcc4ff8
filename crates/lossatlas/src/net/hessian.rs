//! The Hessian of a network's loss as an operator: exact products H v at the cost of about two
//! gradients, so the spectral methods of [`crate::spectrum`] can find its largest eigenvalues,
//! trace and eigenvalue density without ever forming the matrix (4e10 entries for 200,000
//! weights).
//!
//! The product is Pearlmutter's R-operator (1994), forward-over-reverse: R{f} is the directional
//! derivative of f along v at the weights. Pushing R through the forward pass gives R{z} for every
//! layer's pre-activations (R{z_l} = R{a_l} W_l' + a_l V_l' + c_l, R{a_{l+1}} = f'(z_l) R{z_l}),
//! and pushing it through backpropagation gives R{gradient} = H v, with the loss's own curvature
//! at the logits (softmax: diag(s) - s s'; mse: 2) and the activations' second derivatives
//! f''(z) where the chain rule differentiates f'(z).
//!
//! Everything that does not depend on v (the forward pass, the gradient's backward pass, f' and
//! f'' at every unit) is computed once per weights and kept when it fits in [`CACHE_BYTES`], so a
//! Lanczos run pays per product only the 2 + 6 (L - 1) matrix products that involve v; the first
//! layer, by far the largest for image-sized inputs, costs just two.

use std::borrow::Cow;

use super::directions::Directions;
use super::mlp::{specialize, Activation, Head, Mlp};
use super::objective::{score, to_real, NetObjective, TargetRows, CHUNK};
use super::real::{gemm, vectorized, Real};
use crate::error::{Error, Result};
use crate::spectrum::{
    self, dot, DensityOptions, Eigenpairs, LanczosOptions, SpectralDensity, TraceEstimate,
};

/// The most memory the per-weights quantities may take; above it they are recomputed for every
/// product (a product then costs about three gradients instead of two).
pub const CACHE_BYTES: usize = 1 << 30;

/// Chunks whose products are held at once before they are added up (bounds memory).
const WINDOW: usize = 32;

/// The exact Hessian of a network's loss at fixed weights, as a product with vectors.
///
/// # Example
///
/// The curvature of a network as PyHessian reports it, the largest stable gradient-descent step,
/// and the plane of the top two eigenvectors.
///
/// ```
/// use lossatlas::net::*;
///
/// let (train_set, _) = Samples::moons(200, 0.1, 0)?.split(0.2, 0)?;
/// let mlp = Mlp::new(&[2, 8, 2], Activation::Tanh, Head::CrossEntropy)?;
/// let objective = NetObjective::<f32>::new(&mlp, &train_set)?;
/// let weights = mlp.init_params(0);
/// let hessian = NetHessian::new(&objective, &weights)?;
/// let curvature = hessian.curvature(&CurvatureOptions { top: 3, ..CurvatureOptions::default() })?;
/// let lambda_max = curvature.top.values[0];
/// assert!(curvature.top.converged && lambda_max >= curvature.top.values[1]);
/// let largest_stable_learning_rate = 2.0 / lambda_max;
/// assert!(largest_stable_learning_rate > 0.0);
/// // curvature.trace.trace +- curvature.trace.standard_error; curvature.density.grid / .density
/// // for lossatlas_render::SpectrumFigure.
/// assert!((curvature.density.integral() - 1.0).abs() < 1e-6);
/// let (plane, _) = hessian.top_directions(1e-4, 200, 0)?;
/// assert!((hessian.curvature_along(&plane.d1)? - lambda_max).abs() < 1e-3 * lambda_max);
/// # Ok::<(), lossatlas::Error>(())
/// ```
///
/// Computed in the objective's type (`f32` or `f64`); vectors come and go as `f64`, and the
/// chunks' products are added in `f64` in chunk order, so a product is the same for any number of
/// threads.
#[derive(Debug)]
pub struct NetHessian<'a, T: Real> {
    objective: &'a NetObjective<T>,
    weights: Vec<T>,
    cached: Option<Vec<ChunkState<T>>>,
}

/// What one chunk of samples contributes that does not depend on v.
#[derive(Debug, Clone)]
struct ChunkState<T> {
    /// The hidden layers' activations a_l = f(z_l), m x width each.
    a: Vec<Vec<T>>,
    /// f'(z_l) of the hidden layers.
    slope: Vec<Vec<T>>,
    /// f''(z_l) * d(loss)/d(a_l) of the hidden layers: the term of R{delta} that comes from the
    /// change of f'(z) itself.
    curl: Vec<Vec<T>>,
    /// d(loss)/d(z_l) for every layer (the gradient's backward pass).
    delta: Vec<Vec<T>>,
    /// The softmax of the logits (cross-entropy only).
    softmax: Vec<T>,
}

impl<'a, T: Real> NetHessian<'a, T> {
    /// The Hessian of `objective`'s loss at `weights`.
    pub fn new(objective: &'a NetObjective<T>, weights: &[f64]) -> Result<NetHessian<'a, T>> {
        let mlp = objective.mlp();
        mlp.check_params("the weights", weights)?;
        let mut hessian = NetHessian { objective, weights: to_real(weights), cached: None };
        let hidden: usize = mlp.widths()[1..mlp.widths().len() - 1].iter().sum();
        let bytes = objective.len() * (4 * hidden + 2 * mlp.outputs()) * std::mem::size_of::<T>();
        if bytes <= CACHE_BYTES {
            let n_chunks = objective.len().div_ceil(CHUNK);
            hessian.cached = Some(super::map_ordered(0..n_chunks, |c| hessian.prepare(c)));
        }
        Ok(hessian)
    }

    /// The number of weights (the Hessian is this square).
    pub fn dim(&self) -> usize {
        self.weights.len()
    }

    /// H v, checked: `v` must have one entry per weight.
    pub fn product(&self, v: &[f64]) -> Result<Vec<f64>> {
        self.objective.mlp().check_params("the vector", v)?;
        let mut out = vec![0.0; v.len()];
        self.apply(v, &mut out);
        Ok(out)
    }

    /// Writes H v to `out`, the form the methods of [`crate::spectrum`] take.
    ///
    /// # Panics
    ///
    /// If `v` or `out` does not have one entry per weight ([`NetHessian::product`] checks).
    pub fn apply(&self, v: &[f64], out: &mut [f64]) {
        assert!(v.len() == self.dim() && out.len() == self.dim(), "one entry per weight");
        let vt: Vec<T> = to_real(v);
        let n_chunks = self.objective.len().div_ceil(CHUNK);
        out.fill(0.0);
        for window in (0..n_chunks).step_by(WINDOW) {
            let parts = super::map_ordered(window..(window + WINDOW).min(n_chunks), |c| {
                let state = match &self.cached {
                    Some(states) => Cow::Borrowed(&states[c]),
                    None => Cow::Owned(self.prepare(c)),
                };
                self.chunk_product(c, &state, &vt)
            });
            for part in parts {
                for (o, p) in out.iter_mut().zip(&part) {
                    *o += p.to_f64();
                }
            }
        }
    }

    /// The `options.k` largest eigenvalues and their eigenvectors (Lanczos).
    pub fn top_eigenpairs(&self, options: &LanczosOptions) -> Result<Eigenpairs> {
        spectrum::top_eigenpairs(self.dim(), |v, out| self.apply(v, out), options)
    }

    /// The trace (Hutchinson, `probes` Rademacher vectors).
    pub fn trace(&self, probes: usize, seed: u64) -> Result<TraceEstimate> {
        spectrum::hutchinson_trace(self.dim(), |v, out| self.apply(v, out), probes, seed)
    }

    /// The eigenvalue density (stochastic Lanczos quadrature).
    pub fn density(&self, options: &DensityOptions) -> Result<SpectralDensity> {
        spectrum::spectral_density(self.dim(), |v, out| self.apply(v, out), options)
    }

    /// The curvature of the loss along `v`: v' H v / v' v, the second derivative of the loss
    /// along the unit vector of `v` (what a plane's axis shows at its centre, per unit of the
    /// axis squared times |v|^2). A sharp valley has a large value, a flat one a small one.
    pub fn curvature_along(&self, v: &[f64]) -> Result<f64> {
        let hv = self.product(v)?;
        let vv = dot(v, v);
        if vv == 0.0 {
            return Err(Error::Invalid("a zero direction has no curvature; give a nonzero direction".into()));
        }
        Ok(dot(v, &hv) / vv)
    }

    /// The plane of the two largest eigenvalues: their unit eigenvectors as `d1` and `d2` (each
    /// with its sign chosen so its largest entry is positive, so a rerun draws the same picture),
    /// with the eigenpairs themselves.
    pub fn top_directions(&self, tol: f64, max_steps: usize, seed: u64) -> Result<(Directions, Eigenpairs)> {
        if self.dim() < 2 {
            return Err(Error::Invalid("a plane needs a network with at least 2 weights".into()));
        }
        let pairs = self.top_eigenpairs(&LanczosOptions { k: 2, tol, max_steps, seed })?;
        let oriented = |v: &[f64]| {
            let top = v.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            v.iter().map(|x| if top < 0.0 { -x } else { *x }).collect::<Vec<f64>>()
        };
        let directions = Directions { d1: oriented(&pairs.vectors[0]), d2: oriented(&pairs.vectors[1]) };
        Ok((directions, pairs))
    }

    /// The largest eigenvalues, the trace and the density in one go, as `lossatlas net hessian`
    /// and the tour report them.
    pub fn curvature(&self, options: &CurvatureOptions) -> Result<Curvature> {
        let top = self.top_eigenpairs(&LanczosOptions {
            k: options.top,
            tol: options.tol,
            max_steps: options.lanczos_steps,
            seed: options.seed,
        })?;
        let trace = self.trace(options.probes, options.seed)?;
        let density = self.density(&DensityOptions { seed: options.seed, ..options.density })?;
        Ok(Curvature { top, trace, density })
    }

    /// The forward pass, the gradient's backward pass and f', f'' of one chunk.
    fn prepare(&self, c: usize) -> ChunkState<T> {
        let objective = self.objective;
        let mlp = objective.mlp();
        let n = objective.len();
        let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
        let m = end - start;
        let d = mlp.inputs();
        let x = &objective.x()[start * d..end * d];
        let layers = mlp.layers();
        let last = layers.len() - 1;
        let mut a: Vec<Vec<T>> = Vec::new();
        let mut slope: Vec<Vec<T>> = Vec::new();
        let mut bend: Vec<Vec<T>> = Vec::new();
        let mut logits = Vec::new();
        for l in 0..=last {
            let input: &[T] = if l == 0 { x } else { &a[l - 1] };
            let mut z = vec![T::default(); m * layers[l].outputs];
            dense(mlp, l, &self.weights, input, m, &mut z);
            if l < last {
                let (mut al, mut s, mut b) = (z.clone(), z.clone(), z.clone());
                derivatives(mlp.activation(), &z, &mut al, &mut s, &mut b);
                a.push(al);
                slope.push(s);
                bend.push(b);
            } else {
                logits = z;
            }
        }
        let k = mlp.outputs();
        let mut dlogits = vec![T::default(); m * k];
        let rows = objective.target_rows(start, end);
        score(mlp.outputs(), &logits, m, rows, Some(&mut dlogits), loss_scale(mlp, n));
        let softmax = match rows {
            TargetRows::Classes(_) => softmax(&logits, k),
            TargetRows::Values(_) => Vec::new(),
        };
        // Backpropagation of the gradient, keeping d(loss)/d(a) for the f'' term.
        let mut delta = vec![Vec::new(); last + 1];
        let mut curl = vec![Vec::new(); last];
        delta[last] = dlogits;
        for l in (1..=last).rev() {
            let layer = layers[l];
            let mut grad_a = vec![T::default(); m * layer.inputs];
            gemm(
                m,
                layer.outputs,
                layer.inputs,
                &delta[l],
                false,
                &self.weights[layer.weight_range()],
                false,
                T::default(),
                &mut grad_a,
            );
            delta[l - 1] = grad_a.iter().zip(&slope[l - 1]).map(|(&g, &s)| g * s).collect();
            curl[l - 1] = grad_a.iter().zip(&bend[l - 1]).map(|(&g, &b)| g * b).collect();
        }
        ChunkState { a, slope, curl, delta, softmax }
    }

    /// This chunk's part of H v (in `T`, one entry per weight).
    fn chunk_product(&self, c: usize, state: &ChunkState<T>, v: &[T]) -> Vec<T> {
        let objective = self.objective;
        let mlp = objective.mlp();
        let n = objective.len();
        let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
        let m = end - start;
        let d = mlp.inputs();
        let x = &objective.x()[start * d..end * d];
        let layers = mlp.layers();
        let last = layers.len() - 1;
        // Forward: R{z_l} for every layer, and R{a_{l-1}} = f'(z_{l-1}) R{z_{l-1}} (the input's
        // change) for the layers after the first.
        let mut rz: Vec<Vec<T>> = Vec::with_capacity(last + 1);
        let mut r_input: Vec<Vec<T>> = vec![Vec::new()];
        for l in 0..=last {
            let layer = layers[l];
            let input: &[T] = if l == 0 { x } else { &state.a[l - 1] };
            let mut z = vec![T::default(); m * layer.outputs];
            // a_l V_l' + c_l ...
            dense(mlp, l, v, input, m, &mut z);
            if l > 0 {
                // ... + R{a_l} W_l'.
                let ri: Vec<T> = rz[l - 1].iter().zip(&state.slope[l - 1]).map(|(&r, &s)| r * s).collect();
                gemm(
                    m,
                    layer.inputs,
                    layer.outputs,
                    &ri,
                    false,
                    &self.weights[layer.weight_range()],
                    true,
                    T::one(),
                    &mut z,
                );
                r_input.push(ri);
            }
            rz.push(z);
        }
        // R{delta} at the logits: the loss's Hessian with respect to the logits times R{logits}.
        let k = mlp.outputs();
        let scale: T = loss_scale(mlp, n);
        let mut r_delta: Vec<T> = match mlp.head() {
            Head::CrossEntropy => {
                let mut out = vec![T::default(); m * k];
                for ((o, r), s) in
                    out.chunks_exact_mut(k).zip(rz[last].chunks_exact(k)).zip(state.softmax.chunks_exact(k))
                {
                    let mut mean = T::default();
                    for (&rj, &sj) in r.iter().zip(s) {
                        mean += rj * sj;
                    }
                    for ((oj, &rj), &sj) in o.iter_mut().zip(r).zip(s) {
                        *oj = scale * sj * (rj - mean);
                    }
                }
                out
            }
            Head::Mse => rz[last].iter().map(|&r| scale * r).collect(),
        };
        // Backward: R{dW_l} = R{delta_l}' a_l + delta_l' R{a_l}; R{db_l} = column sums of R{delta}.
        let mut out = vec![T::default(); mlp.n_params()];
        for l in (0..=last).rev() {
            let layer = layers[l];
            let input: &[T] = if l == 0 { x } else { &state.a[l - 1] };
            let w = &mut out[layer.weight_range()];
            gemm(layer.outputs, m, layer.inputs, &r_delta, true, input, false, T::one(), w);
            if l > 0 {
                gemm(layer.outputs, m, layer.inputs, &state.delta[l], true, &r_input[l], false, T::one(), w);
            }
            let db = &mut out[layer.bias_range()];
            for row in r_delta.chunks_exact(layer.outputs) {
                for (b, &r) in db.iter_mut().zip(row) {
                    *b += r;
                }
            }
            if l > 0 {
                // R{d(loss)/d(a)} = R{delta} W + delta V, then through f' and f''.
                let mut r_grad_a = vec![T::default(); m * layer.inputs];
                let (wl, vl) = (&self.weights[layer.weight_range()], &v[layer.weight_range()]);
                gemm(m, layer.outputs, layer.inputs, &r_delta, false, wl, false, T::default(), &mut r_grad_a);
                gemm(
                    m,
                    layer.outputs,
                    layer.inputs,
                    &state.delta[l],
                    false,
                    vl,
                    false,
                    T::one(),
                    &mut r_grad_a,
                );
                r_delta = r_grad_a
                    .iter()
                    .zip(&state.slope[l - 1])
                    .zip(state.curl[l - 1].iter().zip(&rz[l - 1]))
                    .map(|((&g, &s), (&b, &r))| g * s + b * r)
                    .collect();
            }
        }
        out
    }
}

/// What [`NetHessian::curvature`] computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvatureOptions {
    /// How many of the largest eigenvalues.
    pub top: usize,
    /// Their tolerance ([`LanczosOptions::tol`]).
    pub tol: f64,
    /// The most Lanczos steps for them.
    pub lanczos_steps: usize,
    /// Hutchinson probes for the trace.
    pub probes: usize,
    /// The density's settings (its seed is replaced by `seed`).
    pub density: DensityOptions,
    /// One seed for all three (each method draws from its own stream).
    pub seed: u64,
}

impl Default for CurvatureOptions {
    /// The 5 largest eigenvalues to 1e-3 in at most 200 steps, 100 trace probes, PyHessian's
    /// density settings, seed 0.
    fn default() -> CurvatureOptions {
        CurvatureOptions {
            top: 5,
            tol: 1e-3,
            lanczos_steps: 200,
            probes: 100,
            density: DensityOptions::default(),
            seed: 0,
        }
    }
}

/// The curvature of a network at its weights, as PyHessian reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Curvature {
    /// The largest eigenvalues and eigenvectors.
    pub top: Eigenpairs,
    /// The trace with its standard error.
    pub trace: TraceEstimate,
    /// The eigenvalue density.
    pub density: SpectralDensity,
}

/// d(mean loss)/d(summed loss), times 2 for mse (whose per-element loss e^2 has slope 2e), as the
/// objective's gradient uses it.
fn loss_scale<T: Real>(mlp: &Mlp, n: usize) -> T {
    T::from_f64(match mlp.head() {
        Head::CrossEntropy => 1.0 / n as f64,
        Head::Mse => 2.0 / (n * mlp.outputs()) as f64,
    })
}

/// z = input W_l' + b_l for layer `l` with parameters `p` (the weights, or a direction).
fn dense<T: Real>(mlp: &Mlp, l: usize, p: &[T], input: &[T], m: usize, z: &mut [T]) {
    let layer = mlp.layers()[l];
    for row in z.chunks_exact_mut(layer.outputs) {
        row.copy_from_slice(&p[layer.bias_range()]);
    }
    gemm(m, layer.inputs, layer.outputs, input, false, &p[layer.weight_range()], true, T::one(), z);
}

/// Row-wise softmax of m x k logits.
fn softmax<T: Real>(logits: &[T], k: usize) -> Vec<T> {
    let mut out = logits.to_vec();
    for row in out.chunks_exact_mut(k) {
        let top = row.iter().copied().fold(row[0], |m, v| if v > m { v } else { m });
        let mut total = T::default();
        for v in row.iter_mut() {
            *v = (*v - top).exp();
            total += *v;
        }
        let inv = T::one() / total;
        for v in row.iter_mut() {
            *v = *v * inv;
        }
    }
    out
}

/// a = f(z), slope = f'(z), bend = f''(z), elementwise.
fn derivatives<T: Real>(f: Activation, z: &[T], a: &mut [T], slope: &mut [T], bend: &mut [T]) {
    f.apply(z, a);
    vectorized(
        #[inline(always)]
        || {
            specialize!(f, f => {
                for (((&z, &a), s), b) in z.iter().zip(a.iter()).zip(slope.iter_mut()).zip(bend.iter_mut()) {
                    (*s, *b) = second_order(f, z, a);
                }
            })
        },
    );
}

/// (f'(z), f''(z)) given z and a = f(z), inlined into the vectorised loop of each activation.
#[inline(always)]
fn second_order<T: Real>(f: Activation, z: T, a: T) -> (T, T) {
    let (zero, half, one, two) = (T::from_f64(0.0), T::from_f64(0.5), T::one(), T::from_f64(2.0));
    match f {
        Activation::Relu => (if z > zero { one } else { zero }, zero),
        Activation::Tanh => {
            let s = one - a * a;
            (s, -(two * a * s))
        }
        Activation::Sigmoid => {
            let s = a * (one - a);
            (s, s * (one - two * a))
        }
        Activation::Gelu => {
            // d/dz z Phi(z) = Phi(z) + z phi(z); d2/dz2 = phi(z) (2 - z^2).
            let cdf = half * (one + (z * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf());
            let pdf = T::from_f64(1.0 / (2.0 * std::f64::consts::PI).sqrt()) * (-(half * z * z)).exp();
            (cdf + z * pdf, pdf * (two - z * z))
        }
        Activation::Identity => (one, zero),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::analysis::SymmetricEigen;
    use crate::net::{Samples, Targets};

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).unwrap();
        (0..n).map(|_| normal.sample(&mut rng)).collect()
    }

    fn class_data(n: usize, d: usize, k: usize, seed: u64) -> Samples {
        let labels = (0..n).map(|i| ((i * 7 + seed as usize) % k) as u32).collect();
        Samples::new("random", random(n * d, seed), d, Targets::Classes { labels, n_classes: k }).unwrap()
    }

    fn value_data(n: usize, d: usize, w: usize, seed: u64) -> Samples {
        Samples::new(
            "random",
            random(n * d, seed),
            d,
            Targets::Values { values: random(n * w, seed + 1), width: w },
        )
        .unwrap()
    }

    /// The dense Hessian by central differences of the backpropagated gradient (each column from
    /// two gradients), symmetrized.
    fn dense_by_differences(objective: &NetObjective<f64>, params: &[f64]) -> Vec<f64> {
        let n = params.len();
        let h = 1e-5;
        let mut dense = vec![0.0; n * n];
        let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
        for j in 0..n {
            let (mut plus, mut minus) = (params.to_vec(), params.to_vec());
            plus[j] += h;
            minus[j] -= h;
            objective.gradient(&plus, &mut gp).unwrap();
            objective.gradient(&minus, &mut gm).unwrap();
            for i in 0..n {
                dense[i * n + j] = (gp[i] - gm[i]) / (2.0 * h);
            }
        }
        (0..n * n).map(|k| 0.5 * (dense[k] + dense[(k % n) * n + k / n])).collect()
    }

    fn check_against_differences(mlp: &Mlp, data: &Samples, seed: u64) {
        let objective = NetObjective::<f64>::new(mlp, data).unwrap();
        let params: Vec<f64> = random(mlp.n_params(), seed).iter().map(|v| 0.7 * v).collect();
        let dense = dense_by_differences(&objective, &params);
        let hessian = NetHessian::new(&objective, &params).unwrap();
        let n = params.len();
        let scale = dense.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // Every column (H e_j) and a random vector.
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let column = hessian.product(&e).unwrap();
            for i in 0..n {
                let want = dense[i * n + j];
                assert!(
                    (column[i] - want).abs() <= 1e-6 * scale.max(1.0),
                    "{}: H[{i},{j}] = {want} by differences, {} by the R-operator",
                    mlp.describe(),
                    column[i]
                );
            }
        }
        let v = random(n, seed + 100);
        let hv = hessian.product(&v).unwrap();
        for i in 0..n {
            let want: f64 = (0..n).map(|j| dense[i * n + j] * v[j]).sum();
            assert!((hv[i] - want).abs() <= 1e-6 * scale.max(1.0) * n as f64);
        }
    }

    #[test]
    fn products_match_the_dense_hessian_of_gradient_differences() {
        for (i, activation) in [Activation::Tanh, Activation::Sigmoid, Activation::Gelu, Activation::Identity]
            .into_iter()
            .enumerate()
        {
            let seed = 20 + i as u64;
            let mlp = Mlp::new(&[3, 4, 3, 3], activation, Head::CrossEntropy).unwrap();
            check_against_differences(&mlp, &class_data(31, 3, 3, seed), seed);
            let mlp = Mlp::new(&[2, 5, 2], activation, Head::Mse).unwrap();
            check_against_differences(&mlp, &value_data(23, 2, 2, seed), seed);
        }
        // relu: f'' is 0 away from the kinks, and no unit sits within h of one here.
        let mlp = Mlp::new(&[3, 6, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        check_against_differences(&mlp, &class_data(17, 3, 2, 4), 4);
    }

    #[test]
    fn a_linear_least_squares_network_has_the_closed_form_hessian() {
        // One identity layer y = W x + b with mse over n samples and k outputs: the loss is
        // (1/(n k)) sum ||W x_i + b - y_i||^2, so for each output row the Hessian is
        // (2/(n k)) [x_i x_i', x_i; x_i', 1] summed over samples, and rows do not couple.
        let (n, d, k) = (40, 3, 2);
        let data = value_data(n, d, k, 5);
        let mlp = Mlp::new(&[d, k], Activation::Identity, Head::Mse).unwrap();
        let params = random(mlp.n_params(), 6);
        let x = data.features();
        let p = mlp.n_params();
        let mut want = vec![0.0; p * p];
        // Flat layout: W [k, d] row-major (index r * d + j), then b (index k * d + r).
        let c = 2.0 / (n * k) as f64;
        for r in 0..k {
            let index = |j: usize| if j < d { r * d + j } else { k * d + r };
            for i in 0..n {
                let row: Vec<f64> = x[i * d..(i + 1) * d].iter().copied().chain([1.0]).collect();
                for a in 0..=d {
                    for b in 0..=d {
                        want[index(a) * p + index(b)] += c * row[a] * row[b];
                    }
                }
            }
        }
        for precision_f64 in [true, false] {
            for j in 0..p {
                let mut e = vec![0.0; p];
                e[j] = 1.0;
                let column = if precision_f64 {
                    let o = NetObjective::<f64>::new(&mlp, &data).unwrap();
                    NetHessian::new(&o, &params).unwrap().product(&e).unwrap()
                } else {
                    let o = NetObjective::<f32>::new(&mlp, &data).unwrap();
                    NetHessian::new(&o, &params).unwrap().product(&e).unwrap()
                };
                let tolerance = if precision_f64 { 1e-13 } else { 1e-6 };
                for i in 0..p {
                    assert!(
                        (column[i] - want[i * p + j]).abs() < tolerance,
                        "H[{i},{j}] {} vs {}",
                        column[i],
                        want[i * p + j]
                    );
                }
            }
        }
    }

    #[test]
    fn top_eigenpairs_of_a_small_network_match_the_dense_eigensolver() {
        let mlp = Mlp::new(&[2, 6, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let data = class_data(2 * CHUNK + 11, 2, 2, 3);
        let objective = NetObjective::<f64>::new(&mlp, &data).unwrap();
        let params = mlp.init_params(2);
        let dense = dense_by_differences(&objective, &params);
        let eigen = SymmetricEigen::new(&dense, params.len()).unwrap();
        let hessian = NetHessian::new(&objective, &params).unwrap();
        let pairs =
            hessian.top_eigenpairs(&LanczosOptions { k: 3, tol: 1e-9, max_steps: 100, seed: 1 }).unwrap();
        assert!(pairs.converged);
        let scale = eigen.values.last().unwrap().abs();
        for (got, want) in pairs.values.iter().zip(eigen.values.iter().rev()) {
            assert!((got - want).abs() < 1e-6 * scale, "{:?} vs {:?}", pairs.values, eigen.values);
        }
        // The curvature along an eigenvector is its eigenvalue; the trace is the dense trace.
        let along = hessian.curvature_along(&pairs.vectors[0]).unwrap();
        assert!((along - pairs.values[0]).abs() < 1e-9 * scale);
        let exact_trace: f64 = eigen.values.iter().sum();
        let trace = hessian.trace(400, 3).unwrap();
        assert!((trace.trace - exact_trace).abs() < 4.0 * trace.standard_error, "{trace:?} vs {exact_trace}");
        // The plane of the top two eigenvectors.
        let (dirs, _) = hessian.top_directions(1e-9, 100, 1).unwrap();
        assert!(dot(&dirs.d1, &dirs.d2).abs() < 1e-9);
        assert!(
            (hessian.curvature_along(&dirs.d2).unwrap() - eigen.values[eigen.values.len() - 2]).abs()
                < 1e-6 * scale
        );
    }

    #[test]
    fn recomputing_chunks_gives_the_cached_products_and_threads_do_not_matter() {
        let mlp = Mlp::new(&[3, 8, 3], Activation::Gelu, Head::CrossEntropy).unwrap();
        let data = class_data(3 * CHUNK + 5, 3, 3, 8);
        let objective = NetObjective::<f32>::new(&mlp, &data).unwrap();
        let params = mlp.init_params(2);
        let cached = NetHessian::new(&objective, &params).unwrap();
        assert!(cached.cached.is_some());
        let fresh = NetHessian { objective: &objective, weights: to_real(&params), cached: None };
        let v = random(mlp.n_params(), 9);
        assert_eq!(cached.product(&v).unwrap(), fresh.product(&v).unwrap());
        #[cfg(feature = "parallel")]
        {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| cached.product(&v).unwrap())
            };
            assert_eq!(run(1), run(3));
        }
    }

    #[test]
    fn f32_products_agree_with_f64() {
        let data = Samples::moons(600, 0.1, 1).unwrap();
        let mlp = Mlp::new(&[2, 16, 16, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let params = mlp.init_params(5);
        let (o32, o64) =
            (NetObjective::<f32>::new(&mlp, &data).unwrap(), NetObjective::<f64>::new(&mlp, &data).unwrap());
        let v = random(mlp.n_params(), 1);
        let h32 = NetHessian::new(&o32, &params).unwrap().product(&v).unwrap();
        let h64 = NetHessian::new(&o64, &params).unwrap().product(&v).unwrap();
        let scale = h64.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (a, b) in h32.iter().zip(&h64) {
            assert!((a - b).abs() < 1e-5 * scale, "{a} vs {b}");
        }
    }

    #[test]
    fn bad_vectors_are_refused() {
        let mlp = Mlp::new(&[2, 3, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f64>::new(&mlp, &class_data(10, 2, 2, 0)).unwrap();
        assert!(NetHessian::new(&objective, &[0.0; 3]).is_err());
        let hessian = NetHessian::new(&objective, &mlp.init_params(0)).unwrap();
        assert!(hessian.product(&[1.0]).is_err());
        let zero = vec![0.0; mlp.n_params()];
        assert!(hessian.curvature_along(&zero).unwrap_err().to_string().contains("nonzero"));
        let e = hessian
            .top_eigenpairs(&LanczosOptions { k: 100, tol: 1e-3, max_steps: 200, seed: 0 })
            .unwrap_err()
            .to_string();
        assert!(e.contains("only 17"), "{e}");
    }
}
