//! The loss of a network over a grid of the plane theta(u, v) = w + u d1 + v d2, paying for the
//! first layer once per plane instead of once per grid point.
//!
//! The first layer is linear in its weights: X (W1 + u D1 + v D2)' = X W1' + u X D1' + v X D2'. The
//! three products are computed once; a grid point then forms its first-layer pre-activations with
//! two scaled additions and pays the full price only for the layers after the first. For a wide
//! input (784 pixels) the first layer is most of the work, so this is most of the speed.
//!
//! Work is split into fixed tasks (a grid row, a group of points in it) that run in parallel; each
//! point sums its chunks of samples in order, so the values do not depend on the thread count.

use super::mlp::Mlp;
use super::objective::{forward_rest, score, to_real, Buffers, Evaluation, NetObjective, CHUNK};
use super::real::{gemm, Real};
use crate::error::{Error, Result};

/// Most compute-type values of later-layer weights one task forms at once (its points' weights
/// are reused for every chunk of samples).
const TASK_WEIGHTS_BUDGET: usize = 1 << 22;

/// Loss and accuracy over a grid: `loss[j * nu + i]` at (u_i, v_j), rows along v, as the
/// crate's landscapes. Non-finite losses are NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneValues {
    /// Points along u (columns).
    pub nu: usize,
    /// Points along v (rows).
    pub nv: usize,
    /// Mean loss per grid point, row-major.
    pub loss: Vec<f64>,
    /// Accuracy per grid point (classification only), row-major.
    pub accuracy: Option<Vec<f64>>,
}

/// A plane through a network's parameter space, ready to be evaluated on any grid of (u, v).
#[derive(Debug)]
pub struct PlaneEvaluator<'a, T: Real> {
    objective: &'a NetObjective<T>,
    origin: Vec<f64>,
    d1: Vec<f64>,
    d2: Vec<f64>,
    /// X W1', X D1', X D2' (each n x first-layer width, row-major).
    products: [Vec<T>; 3],
}

impl<'a, T: Real> PlaneEvaluator<'a, T> {
    /// The plane through `origin` spanned by `d1` and `d2` (flat vectors in the network's layout);
    /// computes the three first-layer products, in parallel over fixed chunks of samples.
    pub fn new(objective: &'a NetObjective<T>, origin: &[f64], d1: &[f64], d2: &[f64]) -> Result<Self> {
        let mlp = objective.mlp();
        mlp.check_params("the plane's origin (weights)", origin)?;
        mlp.check_params("the first direction", d1)?;
        mlp.check_params("the second direction", d2)?;
        for (what, v) in [("the weights", origin), ("the first direction", d1), ("the second direction", d2)]
        {
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::Invalid(format!("{what} hold a non-finite value at flat index {k}")));
            }
        }
        let first = mlp.layers()[0];
        let (n, d) = (objective.len(), first.inputs);
        let product = |w: &[f64]| -> Vec<T> {
            let w: Vec<T> = to_real(&w[first.weight_range()]);
            let parts = super::map_ordered(0..n.div_ceil(CHUNK), |c| {
                let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                let mut out = vec![T::default(); (end - start) * first.outputs];
                gemm(
                    end - start,
                    d,
                    first.outputs,
                    &objective.x()[start * d..end * d],
                    false,
                    &w,
                    true,
                    T::default(),
                    &mut out,
                );
                out
            });
            parts.concat()
        };
        let products = [product(origin), product(d1), product(d2)];
        Ok(PlaneEvaluator { objective, origin: origin.to_vec(), d1: d1.to_vec(), d2: d2.to_vec(), products })
    }

    /// The parameters at (u, v): origin + u d1 + v d2.
    pub fn point(&self, u: f64, v: f64) -> Vec<f64> {
        self.origin.iter().zip(&self.d1).zip(&self.d2).map(|((w, a), b)| w + u * a + v * b).collect()
    }

    /// Loss and accuracy at one point of the plane (through the same path as a grid).
    pub fn at(&self, u: f64, v: f64) -> Evaluation {
        let values = self.evaluate(&[u], &[v]);
        Evaluation { loss: values.loss[0], accuracy: values.accuracy.map(|a| a[0]) }
    }

    /// Loss and accuracy at every (us[i], vs[j]). A line is a grid with one row (`vs = [0.0]`).
    pub fn evaluate(&self, us: &[f64], vs: &[f64]) -> PlaneValues {
        let mlp = self.objective.mlp();
        let (nu, nv) = (us.len(), vs.len());
        let tail_start = mlp.layers().get(1).map_or(mlp.n_params(), |l| l.weight);
        let tail_len = mlp.n_params() - tail_start;
        // Points per task: as many as the weight budget allows, and at least 3 tasks per row so a
        // short grid (a line) still keeps both cores busy.
        let most = (TASK_WEIGHTS_BUDGET / tail_len.max(1)).clamp(1, nu.div_ceil(3).max(1));
        let groups_per_row = nu.div_ceil(most).max(1);
        let per_group = nu.div_ceil(groups_per_row).max(1);
        let tasks: Vec<(usize, usize, usize)> = (0..nv)
            .flat_map(|j| (0..groups_per_row).map(move |g| (j, g * per_group, ((g + 1) * per_group).min(nu))))
            .filter(|&(_, start, end)| start < end)
            .collect();
        let results = super::map_ordered(0..tasks.len(), |t| {
            let (j, start, end) = tasks[t];
            self.task(mlp, &us[start..end], vs[j], tail_start)
        });
        let mut loss = vec![f64::NAN; nu * nv];
        let mut accuracy = vec![f64::NAN; nu * nv];
        for (&(j, start, _), (l, a)) in tasks.iter().zip(results) {
            loss[j * nu + start..][..l.len()].copy_from_slice(&l);
            accuracy[j * nu + start..][..a.len()].copy_from_slice(&a);
        }
        let is_classes = self.objective.finish(0.0, 0, 1).accuracy.is_some();
        PlaneValues { nu, nv, loss, accuracy: is_classes.then_some(accuracy) }
    }

    /// The points (us[i], v): their mean losses and accuracies.
    fn task(&self, mlp: &Mlp, us: &[f64], v: f64, tail_start: usize) -> (Vec<f64>, Vec<f64>) {
        let first = mlp.layers()[0];
        let (n, h) = (self.objective.len(), first.outputs);
        let bias = first.bias_range();
        // Per point: the first layer's bias and every later parameter, in the compute type.
        let points: Vec<(Vec<T>, Vec<T>)> = us
            .iter()
            .map(|&u| {
                let at = |k: usize| T::from_f64(self.origin[k] + u * self.d1[k] + v * self.d2[k]);
                (bias.clone().map(at).collect(), (tail_start..mlp.n_params()).map(at).collect())
            })
            .collect();
        let scale = T::from_f64(1.0);
        let (vt, [p0, p1, p2]) = (T::from_f64(v), &self.products);
        let mut sums = vec![(0.0f64, 0usize); us.len()];
        let mut base = vec![T::default(); CHUNK * h];
        let mut buffers = Buffers::new(mlp, CHUNK);
        for c in 0..n.div_ceil(CHUNK) {
            let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let m = end - start;
            if m < CHUNK {
                buffers = Buffers::new(mlp, m);
            }
            let rows = start * h..end * h;
            // The part shared by the row: X W1' + v X D2'.
            for ((b, &x0), &x2) in base.iter_mut().zip(&p0[rows.clone()]).zip(&p2[rows.clone()]) {
                *b = x0 + vt * x2;
            }
            for ((&u, (first_bias, tail)), sum) in us.iter().zip(&points).zip(&mut sums) {
                let ut = T::from_f64(u);
                for ((z_row, b_row), x1_row) in buffers.z[0]
                    .chunks_exact_mut(h)
                    .zip(base.chunks_exact(h))
                    .zip(p1[rows.clone()].chunks_exact(h))
                {
                    for (((z, &b), &x1), &c0) in z_row.iter_mut().zip(b_row).zip(x1_row).zip(first_bias) {
                        *z = b + ut * x1 + c0;
                    }
                }
                forward_rest(mlp, tail, tail_start, m, &mut buffers);
                let (loss, correct) =
                    score(mlp, buffers.logits(), m, self.objective.target_rows(start, end), None, scale);
                sum.0 += loss;
                sum.1 += correct;
            }
        }
        sums.into_iter()
            .map(|(loss, correct)| {
                let e = self.objective.finish(loss, correct, n);
                (if e.loss.is_finite() { e.loss } else { f64::NAN }, e.accuracy.unwrap_or(f64::NAN))
            })
            .unzip()
    }
}
