//! The spectrum of a symmetric matrix known only through its products with vectors: the largest
//! eigenvalues and their eigenvectors (Lanczos), the trace (Hutchinson) and the eigenvalue density
//! (stochastic Lanczos quadrature), as PyHessian reports them for networks (Yao et al. 2020).
//!
//! A network's Hessian has as many rows as the network has weights (4e10 entries for 200,000
//! weights), so it is never formed: every method here asks only for `H v`, through a closure
//! `matvec(v, out)` that writes `H v` into `out`. The network's exact product is
//! [`crate::net::NetHessian`]; a formula model's is its exact Hessian times the vector
//! ([`crate::Objective::hessian`], wrapped by [`DenseSymmetric`]).
//!
//! Every random vector comes from a ChaCha8 generator seeded by the caller, each method on its own
//! stream, so a run repeats exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{Error, Result};

/// The generator streams, one per method, so that the probes of the trace do not repeat the
/// start vector of the eigenvalues when both use the same seed.
const STREAM_EIGEN: u64 = 1;
const STREAM_TRACE: u64 = 2;
const STREAM_DENSITY: u64 = 3;

fn generator(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// What [`top_eigenpairs`] computes and how far it may go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LanczosOptions {
    /// How many of the largest eigenvalues.
    pub k: usize,
    /// The stated accuracy: every returned pair has a residual ||H v - lambda v|| at most `tol`
    /// times the largest |Ritz value| (an estimate of ||H||). A Ritz value is within its residual
    /// of an eigenvalue, so the largest eigenvalue of a minimum's Hessian (which is ||H||) comes
    /// out to relative accuracy `tol`.
    pub tol: f64,
    /// The most Lanczos steps (products with H); at most the dimension is used. The basis holds
    /// one vector of the dimension per step (203,530 weights x 200 steps: 330 MB).
    pub max_steps: usize,
    /// The seed of the start vector.
    pub seed: u64,
}

impl LanczosOptions {
    /// Checks the options against a matrix of dimension `n`: one line naming the problem and the
    /// fix.
    pub fn check(&self, n: usize) -> Result<()> {
        if self.k == 0 {
            return Err(Error::Invalid("ask for at least 1 eigenvalue".into()));
        }
        if self.k > n {
            return Err(Error::Invalid(format!(
                "{} eigenvalues asked for, but the matrix has only {n} (one per weight); ask for at most {n}",
                self.k
            )));
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(Error::Invalid(format!(
                "the tolerance {} is not a positive number; use e.g. 1e-3",
                self.tol
            )));
        }
        if self.max_steps < self.k {
            return Err(Error::Invalid(format!(
                "{} Lanczos steps cannot give {} eigenvalues (each step adds one); use at least {} steps",
                self.max_steps, self.k, self.k
            )));
        }
        Ok(())
    }
}

/// The largest eigenvalues of a symmetric matrix and their eigenvectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Eigenpairs {
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Unit eigenvectors, `vectors[i]` for `values[i]`.
    pub vectors: Vec<Vec<f64>>,
    /// Each pair's residual ||H v - lambda v|| as Lanczos bounds it (the eigenvalue is within it).
    pub residuals: Vec<f64>,
    /// Lanczos steps taken (each one product with H).
    pub steps: usize,
    /// Whether every pair met the tolerance (else the step limit ended the run).
    pub converged: bool,
}

/// A Lanczos basis with full reorthogonalization: the orthonormal vectors q_1..q_j and the
/// tridiagonal T = Q' H Q (diagonal `alpha`, off-diagonal `beta`, `beta[j-1]` coupling q_j to the
/// next vector).
struct Lanczos {
    basis: Vec<Vec<f64>>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    /// The unit vector the next step multiplies (`None` when the Krylov space is exhausted).
    next: Option<Vec<f64>>,
}

/// Below this fraction of ||T|| a new Lanczos vector is taken as zero: the Krylov space of the
/// start vector is invariant under H.
const BREAKDOWN: f64 = 1e-10;

impl Lanczos {
    fn new(start: Vec<f64>) -> Lanczos {
        let norm = dot(&start, &start).sqrt();
        let next = (norm > 0.0).then(|| start.iter().map(|v| v / norm).collect());
        Lanczos { basis: Vec::new(), alpha: Vec::new(), beta: Vec::new(), next }
    }

    /// One step: multiplies the current vector by H, orthogonalizes the product against every
    /// vector so far (twice, which keeps the basis orthogonal to rounding; plain three-term
    /// Lanczos loses orthogonality and returns copies of the converged eigenvalues) and extends T.
    /// Returns false, taking no step, when there is no next vector.
    fn step(&mut self, matvec: &mut impl FnMut(&[f64], &mut [f64])) -> bool {
        let Some(q) = self.next.take() else { return false };
        let mut w = vec![0.0; q.len()];
        matvec(&q, &mut w);
        let a = dot(&q, &w);
        self.basis.push(q);
        self.alpha.push(a);
        for _ in 0..2 {
            for b in &self.basis {
                let c = dot(b, &w);
                axpy(-c, b, &mut w);
            }
        }
        let beta = dot(&w, &w).sqrt();
        let scale = self.alpha.iter().chain(&self.beta).fold(0.0f64, |m, v| m.max(v.abs()));
        self.beta.push(beta);
        if beta > BREAKDOWN * scale && beta > 0.0 && self.basis.len() < w.len() {
            w.iter_mut().for_each(|v| *v /= beta);
            self.next = Some(w);
        } else {
            // An invariant subspace: T's eigenvalues are exact eigenvalues of H.
            *self.beta.last_mut().expect("just pushed") = 0.0;
        }
        true
    }

    /// Continues after a breakdown from a fresh random vector orthogonal to the basis (T gets a
    /// zero coupling there). Returns false when the basis already spans the whole space.
    fn restart(&mut self, rng: &mut ChaCha8Rng) -> bool {
        let n = self.basis.first().map_or(0, Vec::len);
        if self.basis.len() >= n {
            return false;
        }
        let mut w = gaussian(n, rng);
        for _ in 0..2 {
            for b in &self.basis {
                let c = dot(b, &w);
                axpy(-c, b, &mut w);
            }
        }
        let norm = dot(&w, &w).sqrt();
        if norm <= 1e-8 * (n as f64).sqrt() {
            return false;
        }
        w.iter_mut().for_each(|v| *v /= norm);
        self.next = Some(w);
        true
    }
}

/// The `k` largest eigenvalues of the symmetric `n` x `n` matrix whose product with a vector
/// `matvec` computes, with their eigenvectors, by Lanczos with full reorthogonalization from a
/// seeded Gaussian start vector, to the tolerance of [`LanczosOptions::tol`].
///
/// After each step past the k-th, the tridiagonal T is diagonalized and each Ritz pair's residual
/// is read off as |beta_j * s_j| (the last component of T's eigenvector), so no extra products are
/// needed to know when to stop. If the Krylov space closes early (a matrix with few distinct
/// eigenvalues), the run continues from a new random vector orthogonal to the basis, so
/// eigenvalues the start vector missed are still found. (As for any single-vector Krylov method,
/// an eigenvalue repeated exactly is seen once per Krylov sequence; a converged run may miss its
/// copies unless the space closes first.)
pub fn top_eigenpairs(
    n: usize,
    mut matvec: impl FnMut(&[f64], &mut [f64]),
    options: &LanczosOptions,
) -> Result<Eigenpairs> {
    options.check(n)?;
    let k = options.k;
    let max_steps = options.max_steps.min(n);
    let mut rng = generator(options.seed, STREAM_EIGEN);
    let mut lanczos = Lanczos::new(gaussian(n, &mut rng));
    loop {
        if !lanczos.step(&mut matvec) {
            if lanczos.restart(&mut rng) {
                continue;
            }
            // The basis spans the space: T is similar to H and every Ritz pair is exact.
            return Ok(ritz_pairs(&lanczos, k, 0.0, true, true));
        }
        let steps = lanczos.basis.len();
        let broke_down = lanczos.next.is_none();
        if steps < k || (broke_down && steps < max_steps) {
            // Right after a breakdown the Ritz values are exact, but copies of a repeated
            // eigenvalue may lie outside the closed Krylov space: go on from a new vector.
            continue;
        }
        // The Ritz vectors (n x steps work) only once, at the end.
        let pairs = ritz_pairs(&lanczos, k, options.tol, false, false);
        if pairs.converged || steps >= max_steps {
            return Ok(ritz_pairs(&lanczos, k, options.tol, false, true));
        }
    }
}

/// The `k` largest Ritz pairs of the basis so far; converged when each residual is within `tol`
/// of the largest |Ritz value| (`exact` when the basis spans the space); the eigenvectors only
/// `with_vectors`.
fn ritz_pairs(lanczos: &Lanczos, k: usize, tol: f64, exact: bool, with_vectors: bool) -> Eigenpairs {
    let j = lanczos.basis.len();
    let (values, vectors) = tridiagonal_eigen(&lanczos.alpha, &lanczos.beta[..j - 1])
        .expect("the implicit QL iteration converges for a finite symmetric tridiagonal matrix");
    let last_beta = lanczos.beta[j - 1];
    let norm = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let top: Vec<usize> = (0..j).rev().take(k).collect();
    let residuals: Vec<f64> =
        top.iter().map(|&i| if exact { 0.0 } else { (last_beta * vectors[i][j - 1]).abs() }).collect();
    let converged = exact || residuals.iter().all(|&r| r <= tol * norm);
    let n = lanczos.basis[0].len();
    let ritz_vectors = top
        .iter()
        .filter(|_| with_vectors)
        .map(|&i| {
            let mut v = vec![0.0; n];
            for (q, &s) in lanczos.basis.iter().zip(&vectors[i]) {
                axpy(s, q, &mut v);
            }
            let norm = dot(&v, &v).sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
        .collect();
    Eigenpairs {
        values: top.iter().map(|&i| values[i]).collect(),
        vectors: ritz_vectors,
        residuals,
        steps: j,
        converged,
    }
}

/// Hutchinson's estimate of the trace, E[z' H z] = tr H for random z with E[z z'] = I.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceEstimate {
    /// The mean of z' H z over the probes.
    pub trace: f64,
    /// Its standard error: the probes' sample standard deviation over sqrt(probes).
    pub standard_error: f64,
    /// Number of probes (products with H).
    pub probes: usize,
}

/// The trace of the symmetric `n` x `n` matrix `matvec` multiplies by, estimated from `probes`
/// Rademacher vectors (entries +-1, the lowest-variance choice: the variance is
/// 2 sum_{i != j} H_ij^2) drawn from a generator seeded with `seed`.
pub fn hutchinson_trace(
    n: usize,
    mut matvec: impl FnMut(&[f64], &mut [f64]),
    probes: usize,
    seed: u64,
) -> Result<TraceEstimate> {
    if probes < 2 {
        return Err(Error::Invalid(format!(
            "{probes} probe(s) give no standard error for the trace; use at least 2 (e.g. 100)"
        )));
    }
    let mut rng = generator(seed, STREAM_TRACE);
    let mut out = vec![0.0; n];
    let samples: Vec<f64> = (0..probes)
        .map(|_| {
            let z = rademacher(n, &mut rng);
            matvec(&z, &mut out);
            dot(&z, &out)
        })
        .collect();
    let mean = samples.iter().sum::<f64>() / probes as f64;
    let variance = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (probes - 1) as f64;
    Ok(TraceEstimate { trace: mean, standard_error: (variance / probes as f64).sqrt(), probes })
}

/// How [`spectral_density`] samples and smooths the spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DensityOptions {
    /// Random start vectors; their quadratures are averaged.
    pub probes: usize,
    /// Lanczos steps per probe (nodes of each quadrature).
    pub steps: usize,
    /// The variance of the Gaussian that broadens each node, as a fraction of the spectrum's
    /// width (at least 1): PyHessian's `sigma_squared`, 1e-5 there.
    pub sigma_squared: f64,
    /// Points of the grid the density is given on.
    pub points: usize,
    /// The seed of the probes.
    pub seed: u64,
}

impl Default for DensityOptions {
    /// PyHessian's choices: one probe, 90 steps, sigma^2 = 1e-5 of the width, 10,000 points.
    fn default() -> DensityOptions {
        DensityOptions { probes: 1, steps: 90, sigma_squared: 1e-5, points: 10_000, seed: 0 }
    }
}

/// An eigenvalue density: the fraction of eigenvalues per unit of eigenvalue, smoothed.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralDensity {
    /// Eigenvalue positions, ascending and evenly spaced.
    pub grid: Vec<f64>,
    /// The density at each grid point; it integrates to 1 over the grid.
    pub density: Vec<f64>,
    /// Each probe's quadrature nodes (Ritz values) ...
    pub nodes: Vec<Vec<f64>>,
    /// ... and weights (summing to 1 per probe).
    pub weights: Vec<Vec<f64>>,
    /// The standard deviation of the broadening Gaussian.
    pub sigma: f64,
}

impl SpectralDensity {
    /// The trapezoid integral of the density over the grid.
    pub fn integral(&self) -> f64 {
        self.grid
            .windows(2)
            .zip(self.density.windows(2))
            .map(|(x, d)| 0.5 * (x[1] - x[0]) * (d[0] + d[1]))
            .sum()
    }
}

/// The eigenvalue density of the symmetric `n` x `n` matrix `matvec` multiplies by, by stochastic
/// Lanczos quadrature (Lin, Saad and Yang 2016; Ghorbani et al. 2019): for a unit probe v,
/// v' g(H) v = sum_i tau_i g(theta_i) where theta are the Ritz values of `steps` Lanczos steps
/// from v and tau the squared first components of T's eigenvectors; with g a Gaussian bump this is
/// the smoothed density seen from v, and the average over Rademacher probes is the density of
/// the whole spectrum. The grid reaches 8 sigma beyond the outermost nodes, so the density's
/// integral over it is 1 up to rounding (nothing is renormalized).
pub fn spectral_density(
    n: usize,
    mut matvec: impl FnMut(&[f64], &mut [f64]),
    options: &DensityOptions,
) -> Result<SpectralDensity> {
    if options.probes == 0 || options.steps == 0 {
        return Err(Error::Invalid("the density needs at least 1 probe and 1 Lanczos step".into()));
    }
    if !(options.sigma_squared > 0.0 && options.sigma_squared.is_finite()) {
        return Err(Error::Invalid(format!(
            "the broadening {} is not a positive number; use e.g. 1e-5",
            options.sigma_squared
        )));
    }
    if options.points < 2 {
        return Err(Error::Invalid("the density grid needs at least 2 points".into()));
    }
    let mut rng = generator(options.seed, STREAM_DENSITY);
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    for _ in 0..options.probes {
        let mut lanczos = Lanczos::new(rademacher(n, &mut rng));
        while lanczos.basis.len() < options.steps.min(n) && lanczos.step(&mut matvec) {}
        let j = lanczos.basis.len();
        let (values, vectors) = tridiagonal_eigen(&lanczos.alpha, &lanczos.beta[..j - 1])
            .expect("the implicit QL iteration converges for a finite symmetric tridiagonal matrix");
        weights.push(vectors.iter().map(|s| s[0] * s[0]).collect());
        nodes.push(values);
    }
    let lo = nodes.iter().flatten().fold(f64::INFINITY, |m, &v| m.min(v));
    let hi = nodes.iter().flatten().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let sigma = (options.sigma_squared * (hi - lo).max(1.0)).sqrt();
    let (start, end) = (lo - 8.0 * sigma, hi + 8.0 * sigma);
    let step = (end - start) / (options.points - 1) as f64;
    let grid: Vec<f64> = (0..options.points).map(|i| start + step * i as f64).collect();
    let norm = 1.0 / (options.probes as f64 * sigma * (2.0 * std::f64::consts::PI).sqrt());
    let density = grid
        .iter()
        .map(|&t| {
            let mut sum = 0.0;
            for (theta, tau) in nodes.iter().zip(&weights) {
                for (&th, &w) in theta.iter().zip(tau) {
                    sum += w * (-0.5 * ((t - th) / sigma).powi(2)).exp();
                }
            }
            sum * norm
        })
        .collect();
    Ok(SpectralDensity { grid, density, nodes, weights, sigma })
}

/// A dense symmetric matrix as a product (a formula model's exact Hessian, for the same spectral
/// methods as a network's).
#[derive(Debug, Clone, PartialEq)]
pub struct DenseSymmetric {
    n: usize,
    entries: Vec<f64>,
}

impl DenseSymmetric {
    /// An n x n row-major matrix (only its symmetric part is used, as the eigensolvers assume).
    pub fn new(entries: Vec<f64>, n: usize) -> Result<DenseSymmetric> {
        if entries.len() != n * n {
            return Err(Error::Invalid(format!("{} entries do not make a {n} x {n} matrix", entries.len())));
        }
        let symmetric = (0..n * n).map(|k| 0.5 * (entries[k] + entries[(k % n) * n + k / n])).collect();
        Ok(DenseSymmetric { n, entries: symmetric })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// out = A v.
    pub fn apply(&self, v: &[f64], out: &mut [f64]) {
        for (row, o) in self.entries.chunks_exact(self.n).zip(out.iter_mut()) {
            *o = dot(row, v);
        }
    }
}

/// Eigenvalues (ascending) and eigenvectors (`vectors[i]` for `values[i]`, each of length n) of
/// the symmetric tridiagonal matrix with diagonal `d` and off-diagonal `e` (length n - 1), by the
/// implicit QL iteration with Wilkinson shifts (EISPACK's tql2). `None` if an eigenvalue needs
/// more than 60 iterations (only for non-finite input).
pub(crate) fn tridiagonal_eigen(d: &[f64], e: &[f64]) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let n = d.len();
    assert_eq!(e.len() + 1, n.max(1), "the off-diagonal has n - 1 entries");
    let mut d = d.to_vec();
    let mut e: Vec<f64> = e.iter().copied().chain(std::iter::once(0.0)).collect();
    // z[k][i]: row k of the eigenvector matrix, column i belongs to d[i].
    let mut z: Vec<Vec<f64>> =
        (0..n).map(|k| (0..n).map(|i| f64::from(u8::from(i == k))).collect()).collect();
    for l in 0..n {
        let mut iterations = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > 60 || !d[l].is_finite() {
                return None;
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + if g >= 0.0 { r } else { -r });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                for row in z.iter_mut() {
                    let f = row[i + 1];
                    row[i + 1] = s * row[i] + c * f;
                    row[i] = c * row[i] - s * f;
                }
            }
            if deflated {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    Some((
        order.iter().map(|&i| d[i]).collect(),
        order.iter().map(|&i| z.iter().map(|row| row[i]).collect()).collect(),
    ))
}

fn gaussian(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| rng.sample::<f64, _>(StandardNormal)).collect()
}

fn rademacher(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| if rng.gen::<bool>() { 1.0 } else { -1.0 }).collect()
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four running sums: independent additions pipeline and vectorise; the order is fixed.
    let mut acc = [0.0; 4];
    let split = a.len() - a.len() % 4;
    for (x, y) in a[..split].chunks_exact(4).zip(b[..split].chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = a[split..].iter().zip(&b[split..]).map(|(x, y)| x * y).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::SymmetricEigen;

    /// A random orthogonal matrix (rows), as the product of Householder reflections of Gaussian
    /// vectors, so A = Q' diag(lambda) Q has a spectrum known by construction.
    fn with_spectrum(lambda: &[f64], seed: u64) -> Vec<f64> {
        let n = lambda.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut q: Vec<Vec<f64>> =
            (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
        for _ in 0..3 {
            let u = gaussian(n, &mut rng);
            let uu = dot(&u, &u);
            for row in q.iter_mut() {
                let c = 2.0 * dot(row, &u) / uu;
                axpy(-c, &u, row);
            }
        }
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| q[k][i] * lambda[k] * q[k][j]).sum();
            }
        }
        a
    }

    fn options(k: usize, seed: u64) -> LanczosOptions {
        LanczosOptions { k, tol: 1e-10, max_steps: 400, seed }
    }

    #[test]
    fn tridiagonal_eigen_agrees_with_jacobi_on_the_dense_matrix() {
        let d = [2.0, -1.0, 0.5, 3.0, 3.0, 0.0];
        let e = [1.0, 0.3, -2.0, 1e-3, 0.7];
        let n = d.len();
        let mut dense = vec![0.0; n * n];
        for i in 0..n {
            dense[i * n + i] = d[i];
            if i + 1 < n {
                dense[i * n + i + 1] = e[i];
                dense[(i + 1) * n + i] = e[i];
            }
        }
        let (values, vectors) = tridiagonal_eigen(&d, &e).unwrap();
        let jacobi = SymmetricEigen::new(&dense, n).unwrap();
        for (a, b) in values.iter().zip(&jacobi.values) {
            assert!((a - b).abs() < 1e-12, "{values:?} vs {:?}", jacobi.values);
        }
        let a = DenseSymmetric::new(dense, n).unwrap();
        for (lambda, v) in values.iter().zip(&vectors) {
            let mut av = vec![0.0; n];
            a.apply(v, &mut av);
            for (x, y) in av.iter().zip(v) {
                assert!((x - lambda * y).abs() < 1e-12);
            }
            assert!((dot(v, v) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn lanczos_finds_the_top_of_a_known_diagonal_spectrum() {
        // 300 eigenvalues i / 300 below 1, and 5, 4, 3 on top: the gap makes convergence quick.
        let mut diag: Vec<f64> = (0..300).map(|i| i as f64 / 300.0).collect();
        diag.extend([5.0, 4.0, 3.0]);
        let n = diag.len();
        let matvec = |v: &[f64], out: &mut [f64]| {
            for ((o, x), d) in out.iter_mut().zip(v).zip(&diag) {
                *o = d * x;
            }
        };
        let pairs = top_eigenpairs(n, matvec, &options(3, 7)).unwrap();
        assert!(pairs.converged);
        assert!(pairs.steps < 100, "{} steps", pairs.steps);
        for (got, want) in pairs.values.iter().zip([5.0, 4.0, 3.0]) {
            assert!((got - want).abs() < 1e-8, "{:?}", pairs.values);
        }
        // The eigenvector of 5 is the unit vector at index 300 (up to sign).
        for (v, index) in pairs.vectors.iter().zip([300, 301, 302]) {
            assert!((v[index].abs() - 1.0).abs() < 1e-8);
        }
        // Repeated eigenvalues: the Krylov space of one start vector sees each distinct value
        // once, and the restarts find the copies.
        let repeated = [2.0, 2.0, 2.0, 1.0, 1.0, 0.0];
        let matvec = |v: &[f64], out: &mut [f64]| {
            for ((o, x), d) in out.iter_mut().zip(v).zip(&repeated) {
                *o = d * x;
            }
        };
        let pairs = top_eigenpairs(6, matvec, &options(4, 1)).unwrap();
        assert!(pairs.converged);
        for (got, want) in pairs.values.iter().zip([2.0, 2.0, 2.0, 1.0]) {
            assert!((got - want).abs() < 1e-10, "{:?}", pairs.values);
        }
    }

    #[test]
    fn lanczos_matches_a_random_symmetric_matrix_of_known_spectrum() {
        let n = 60;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let lambda: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal) * 3.0).collect();
        let a = DenseSymmetric::new(with_spectrum(&lambda, 11), n).unwrap();
        let pairs = top_eigenpairs(n, |v, o| a.apply(v, o), &options(5, 2)).unwrap();
        let mut sorted = lambda.clone();
        sorted.sort_by(|x, y| y.total_cmp(x));
        assert!(pairs.converged);
        for (got, want) in pairs.values.iter().zip(&sorted) {
            assert!((got - want).abs() < 1e-8, "{got} vs {want}");
        }
        for (lambda, v) in pairs.values.iter().zip(&pairs.vectors) {
            let mut av = vec![0.0; n];
            a.apply(v, &mut av);
            let residual: f64 = av.iter().zip(v).map(|(x, y)| (x - lambda * y).powi(2)).sum::<f64>().sqrt();
            assert!(residual < 1e-7, "{residual}");
        }
    }

    #[test]
    fn the_tolerance_bounds_the_eigenvalue_error() {
        // A slowly converging spectrum (no gap at the top) with a loose tolerance: the run stops
        // early, and the top eigenvalue is still within tol * ||A||, as stated.
        let n = 2000;
        let diag: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 / n as f64).collect();
        let matvec = |v: &[f64], out: &mut [f64]| {
            for ((o, x), d) in out.iter_mut().zip(v).zip(&diag) {
                *o = d * x;
            }
        };
        let tol = 1e-3;
        let pairs =
            top_eigenpairs(n, matvec, &LanczosOptions { k: 1, tol, max_steps: 500, seed: 0 }).unwrap();
        assert!(pairs.converged);
        assert!(pairs.steps < 500);
        let top = diag[n - 1];
        assert!((pairs.values[0] - top).abs() <= tol * top, "{} vs {top}", pairs.values[0]);
        assert!(pairs.values[0] <= top + 1e-12, "a Ritz value never exceeds the largest eigenvalue");
    }

    #[test]
    fn seeds_repeat_runs_exactly() {
        let a =
            DenseSymmetric::new(with_spectrum(&(0..40).map(f64::from).collect::<Vec<_>>(), 5), 40).unwrap();
        let run = |seed| top_eigenpairs(40, |v, o| a.apply(v, o), &options(2, seed)).unwrap();
        assert_eq!(run(4), run(4));
        let trace = |seed| hutchinson_trace(40, |v, o| a.apply(v, o), 10, seed).unwrap();
        assert_eq!(trace(4), trace(4));
        assert_ne!(trace(4), trace(5));
        let density = |seed| {
            spectral_density(
                40,
                |v, o| a.apply(v, o),
                &DensityOptions { probes: 3, steps: 10, seed, ..Default::default() },
            )
            .unwrap()
        };
        assert_eq!(density(4), density(4));
    }

    #[test]
    fn hutchinson_is_within_its_reported_error() {
        // A dense matrix with trace 30.
        let n = 50;
        let lambda: Vec<f64> = (0..n).map(|i| 0.6 + 0.4 * ((i as f64) * 0.7).sin()).collect();
        let exact: f64 = lambda.iter().sum();
        let a = DenseSymmetric::new(with_spectrum(&lambda, 2), n).unwrap();
        let mut within = 0;
        for seed in 0..20 {
            let t = hutchinson_trace(n, |v, o| a.apply(v, o), 200, seed).unwrap();
            assert!(t.standard_error > 0.0);
            // Three standard errors: a miss has odds of about 1 in 370 per seed.
            assert!((t.trace - exact).abs() < 3.0 * t.standard_error, "{t:?} vs {exact}");
            within += usize::from((t.trace - exact).abs() < t.standard_error);
        }
        // About 68% of runs fall within one standard error: the error is honest, not inflated.
        assert!((9..=19).contains(&within), "{within} of 20 within one standard error");
        // A diagonal matrix has z' A z = tr A for every Rademacher z: no error at all.
        let diag = [1.0, 2.0, 3.0];
        let t = hutchinson_trace(
            3,
            |v, o| {
                for i in 0..3 {
                    o[i] = diag[i] * v[i];
                }
            },
            5,
            0,
        )
        .unwrap();
        assert_eq!((t.trace, t.standard_error), (6.0, 0.0));
        assert!(hutchinson_trace(3, |_, _| {}, 1, 0).is_err());
    }

    #[test]
    fn density_integrates_to_one_and_puts_each_eigenvalue_s_share_in_its_place() {
        // 100 eigenvalues at 1 and 50 at 5 on the diagonal: for a Rademacher probe the quadrature
        // weight of each value is exactly its share, 2/3 and 1/3.
        let n = 150;
        let diag: Vec<f64> = (0..n).map(|i| if i < 100 { 1.0 } else { 5.0 }).collect();
        let matvec = |v: &[f64], out: &mut [f64]| {
            for ((o, x), d) in out.iter_mut().zip(v).zip(&diag) {
                *o = d * x;
            }
        };
        let options = DensityOptions { probes: 2, steps: 30, sigma_squared: 1e-3, points: 4000, seed: 9 };
        let density = spectral_density(n, matvec, &options).unwrap();
        assert!((density.integral() - 1.0).abs() < 1e-9, "{}", density.integral());
        let below_3: f64 = density
            .grid
            .windows(2)
            .zip(density.density.windows(2))
            .filter(|(x, _)| x[1] <= 3.0)
            .map(|(x, d)| 0.5 * (x[1] - x[0]) * (d[0] + d[1]))
            .sum();
        assert!((below_3 - 2.0 / 3.0).abs() < 1e-6, "{below_3}");
        // sigma^2 = 1e-3 * width (4): the peaks have that width.
        assert!((density.sigma - (4e-3f64).sqrt()).abs() < 1e-12);
        // A random dense matrix: still 1, with many nodes per probe.
        let a = DenseSymmetric::new(
            with_spectrum(&(0..80).map(|i| (i as f64).sqrt()).collect::<Vec<_>>(), 1),
            80,
        )
        .unwrap();
        let density = spectral_density(80, |v, o| a.apply(v, o), &DensityOptions::default()).unwrap();
        assert!((density.integral() - 1.0).abs() < 1e-9, "{}", density.integral());
        for w in &density.weights {
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn bad_options_are_refused_with_the_fix() {
        let id = |v: &[f64], o: &mut [f64]| o.copy_from_slice(v);
        let e =
            top_eigenpairs(3, id, &LanczosOptions { k: 4, tol: 1e-3, max_steps: 10, seed: 0 }).unwrap_err();
        assert!(e.to_string().contains("only 3"), "{e}");
        let e =
            top_eigenpairs(3, id, &LanczosOptions { k: 1, tol: 0.0, max_steps: 10, seed: 0 }).unwrap_err();
        assert!(e.to_string().contains("not a positive number"), "{e}");
        let e =
            top_eigenpairs(30, id, &LanczosOptions { k: 5, tol: 1e-3, max_steps: 3, seed: 0 }).unwrap_err();
        assert!(e.to_string().contains("at least 5 steps"), "{e}");
    }
}
