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

use pulp::{Simd, WithSimd};

use super::lanes::{self, BLOCK};
use super::mlp::{Activation, Mlp};
use super::objective::{to_real, Evaluation, NetObjective, TargetRows, CHUNK};
use super::real::{gemm, Real};
use crate::error::{Error, Result};

/// Most compute-type values of later-layer weights one task forms at once (its points' weights
/// are reused for every chunk of samples).
const TASK_WEIGHTS_BUDGET: usize = 1 << 22;

/// Fewest tasks a grid is cut into (when it has that many points), for the load balance.
const TASKS: usize = 24;

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
    /// X W1', X D1', X D2', each in blocks of [`BLOCK`] samples, feature-major (see `lanes`).
    products: [Vec<T>; 3],
    /// The targets in the same blocks: labels as values of `T`, or regression targets.
    target_blocks: Vec<T>,
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
            lanes::to_blocks(&parts.concat(), n, first.outputs)
        };
        let products = [product(origin), product(d1), product(d2)];
        let target_blocks = match objective.target_rows(0, n) {
            TargetRows::Classes(labels) => {
                let labels: Vec<T> = labels.iter().map(|&l| T::from_f64(f64::from(l))).collect();
                lanes::to_blocks(&labels, n, 1)
            }
            TargetRows::Values(values) => lanes::to_blocks(values, n, mlp.outputs()),
        };
        Ok(PlaneEvaluator {
            objective,
            origin: origin.to_vec(),
            d1: d1.to_vec(),
            d2: d2.to_vec(),
            products,
            target_blocks,
        })
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

    /// Loss and accuracy at every `(us[i], vs[j])`. A line is a grid with one row (`vs = [0.0]`).
    pub fn evaluate(&self, us: &[f64], vs: &[f64]) -> PlaneValues {
        let mlp = self.objective.mlp();
        let (nu, nv) = (us.len(), vs.len());
        let tail_start = mlp.layers().get(1).map_or(mlp.n_params(), |l| l.weight);
        let tail_len = mlp.n_params() - tail_start;
        // Points per task: as many as the weight budget allows (a task streams the row's share of
        // the first-layer products once for all its points), but at least TASKS tasks in all so a
        // short grid (a line) still keeps every core busy.
        let most = (TASK_WEIGHTS_BUDGET / tail_len.max(1)).clamp(1, (nu * nv).div_ceil(TASKS).max(1));
        let groups_per_row = nu.div_ceil(most).max(1);
        let per_group = nu.div_ceil(groups_per_row).max(1);
        let tasks: Vec<(usize, usize, usize)> = (0..nv)
            .flat_map(|j| (0..groups_per_row).map(move |g| (j, g * per_group, ((g + 1) * per_group).min(nu))))
            .filter(|&(_, start, end)| start < end)
            .collect();
        let results = super::map_ordered(0..tasks.len(), |t| {
            let (j, start, end) = tasks[t];
            self.task(mlp, &us[start..end], vs[j])
        });
        let mut loss = vec![f64::NAN; nu * nv];
        let mut accuracy = vec![f64::NAN; nu * nv];
        for (&(j, start, _), (l, a)) in tasks.iter().zip(results) {
            loss[j * nu + start..][..l.len()].copy_from_slice(&l);
            accuracy[j * nu + start..][..a.len()].copy_from_slice(&a);
        }
        PlaneValues { nu, nv, loss, accuracy: self.objective.is_classification().then_some(accuracy) }
    }

    /// The points `(us[i], v)`: their mean losses and accuracies.
    fn task(&self, mlp: &Mlp, us: &[f64], v: f64) -> (Vec<f64>, Vec<f64>) {
        // Per point: the first layer's bias, then each later layer's weight and bias, in the
        // compute type (the weights are packed for the kernels in `PlaneTask`).
        let points: Vec<Point<T>> = us
            .iter()
            .map(|&u| {
                let at = |k: usize| T::from_f64(self.origin[k] + u * self.d1[k] + v * self.d2[k]);
                let layers = mlp.layers();
                Point {
                    first_bias: layers[0].bias_range().map(at).collect(),
                    layers: layers[1..]
                        .iter()
                        .map(|l| (l.weight_range().map(at).collect(), l.bias_range().map(at).collect()))
                        .collect(),
                }
            })
            .collect();
        let sums = T::plane_task(PlaneTask { plane: self, mlp, us, v, points: &points });
        let n = self.objective.len();
        sums.into_iter()
            .map(|(loss, correct)| {
                let e = self.objective.finish(loss, correct, n);
                (if e.loss.is_finite() { e.loss } else { f64::NAN }, e.accuracy.unwrap_or(f64::NAN))
            })
            .unzip()
    }
}

/// One task's points under the instruction set the CPU has: block by block of samples, the
/// part of the first layer shared by the row (X W1' + v X D2') once, then each point's network
/// from its first-layer activations on. Each point adds its blocks' losses in block order.
// Public only so the sealed `Lanes` trait can name it; never seen outside the crate.
#[allow(missing_debug_implementations)]
pub struct PlaneTask<'t, 'a, T: Real> {
    plane: &'t PlaneEvaluator<'a, T>,
    mlp: &'t Mlp,
    us: &'t [f64],
    v: f64,
    points: &'t [Point<T>],
}

/// One point's parameters as the block kernels read them.
struct Point<T> {
    first_bias: Vec<T>,
    /// Every later layer's weight ([outputs, inputs], row-major) and bias.
    layers: Vec<(Vec<T>, Vec<T>)>,
}

impl<T: Real> WithSimd for PlaneTask<'_, '_, T> {
    /// Per point: the sum of the per-sample losses and the number of correct samples.
    type Output = Vec<(f64, usize)>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> Self::Output {
        let PlaneTask { plane, mlp, us, v, points } = self;
        let layers = mlp.layers();
        let (n, h) = (plane.objective.len(), layers[0].outputs);
        let widest = layers.iter().map(|l| l.outputs).max().unwrap_or(h);
        let outputs = mlp.outputs();
        let [p0, p1, p2] = &plane.products;
        let mut base = vec![T::default(); h * BLOCK];
        let (mut a, mut b) = (vec![T::default(); widest * BLOCK], vec![T::default(); widest * BLOCK]);
        // The later layers' weights packed for the kernels: the second layer for
        // `first_two_layers` when it is narrow enough, the others for `dense`.
        let fuse = layers.len() > 1 && lanes::fused_width::<S>(layers[1].outputs).is_some();
        let packed: Vec<Vec<Vec<T>>> = points
            .iter()
            .map(|point| {
                layers[1..]
                    .iter()
                    .zip(&point.layers)
                    .enumerate()
                    .map(|(l, (layer, (weight, _)))| {
                        let tile = if l == 0 && fuse { layer.outputs } else { lanes::DENSE_TILE };
                        lanes::pack(weight, layer.outputs, layer.inputs, tile)
                    })
                    .collect()
            })
            .collect();
        let mut sums = vec![(0.0f64, 0usize); us.len()];
        let vt = T::v_splat(s, T::from_f64(v));
        let ut = |u: f64| T::from_f64(u);
        let classification = plane.objective.is_classification();
        for block in 0..n.div_ceil(BLOCK) {
            let real = (n - block * BLOCK).min(BLOCK);
            let rows = block * h * BLOCK..(block + 1) * h * BLOCK;
            for ((o, &x0), &x2) in T::as_mut_simd::<S>(&mut base)
                .iter_mut()
                .zip(T::as_simd::<S>(&p0[rows.clone()]))
                .zip(T::as_simd::<S>(&p2[rows.clone()]))
            {
                *o = T::v_mul_add(s, vt, x2, x0);
            }
            for (((&u, point), packed), sum) in us.iter().zip(points).zip(&packed).zip(&mut sums) {
                let x1 = &p1[rows.clone()];
                let mut later = layers[1..]
                    .iter()
                    .zip(packed.iter().zip(point.layers.iter().map(|(_, b)| b)))
                    .enumerate();
                if layers.len() == 1 {
                    // A one-layer network's first layer gives the logits.
                    lanes::first_layer::<S, T>(
                        s,
                        Activation::Identity,
                        ut(u),
                        &base,
                        x1,
                        &point.first_bias,
                        &mut a[..h * BLOCK],
                    );
                } else if fuse {
                    // The first two layers in one pass (a narrow second layer, e.g. the logits).
                    let (_, (layer, (weight, bias))) = later.next().expect("a second layer");
                    let f2 = if layers.len() > 2 { mlp.activation() } else { Activation::Identity };
                    lanes::first_two_layers::<S, T>(
                        s,
                        [mlp.activation(), f2],
                        ut(u),
                        (&base, x1, &point.first_bias),
                        (weight, bias),
                        &mut a[..layer.outputs * BLOCK],
                    );
                } else {
                    lanes::first_layer::<S, T>(
                        s,
                        mlp.activation(),
                        ut(u),
                        &base,
                        x1,
                        &point.first_bias,
                        &mut a[..h * BLOCK],
                    );
                }
                for (l, (layer, (weight, bias))) in later {
                    let f = if l + 2 < layers.len() { mlp.activation() } else { Activation::Identity };
                    lanes::dense::<S, T>(
                        s,
                        f,
                        weight,
                        bias,
                        &a[..layer.inputs * BLOCK],
                        &mut b[..layer.outputs * BLOCK],
                    );
                    std::mem::swap(&mut a, &mut b);
                }
                let logits = &a[..outputs * BLOCK];
                let (loss, correct) = if classification {
                    let labels = &plane.target_blocks[block * BLOCK..][..BLOCK];
                    lanes::cross_entropy::<S, T>(s, logits, labels, real)
                } else {
                    let targets = &plane.target_blocks[block * outputs * BLOCK..][..outputs * BLOCK];
                    (lanes::squared_error(logits, targets, real), 0)
                };
                sum.0 += loss;
                sum.1 += correct;
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Activation, Head, Samples, Targets};

    fn directions(mlp: &Mlp, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let d1 = mlp.init_params(seed);
        let d2 = mlp.init_params(seed + 1);
        (d1, d2)
    }

    fn check_against_direct<T: Real>(mlp: &Mlp, data: &Samples, tolerance: f64) {
        let objective = NetObjective::<T>::new(mlp, data).unwrap();
        let origin = mlp.init_params(1);
        let (d1, d2) = directions(mlp, 7);
        let plane = PlaneEvaluator::new(&objective, &origin, &d1, &d2).unwrap();
        let (us, vs) = ([-1.0, -0.25, 0.0, 0.6, 1.3], [-0.8, 0.0, 0.45, 1.1]);
        let grid = plane.evaluate(&us, &vs);
        assert_eq!((grid.nu, grid.nv), (5, 4));
        for (j, &v) in vs.iter().enumerate() {
            for (i, &u) in us.iter().enumerate() {
                let theta: Vec<f64> =
                    origin.iter().zip(&d1).zip(&d2).map(|((w, a), b)| w + u * a + v * b).collect();
                let direct = objective.evaluate(&theta).unwrap();
                let got = grid.loss[j * us.len() + i];
                assert!(
                    (got - direct.loss).abs() <= tolerance * direct.loss.abs().max(1e-3),
                    "{} at ({u}, {v}): plane {got} vs direct {}",
                    mlp.describe(),
                    direct.loss
                );
                if let Some(acc) = &grid.accuracy {
                    assert_eq!(Some(acc[j * us.len() + i]), direct.accuracy);
                }
            }
        }
    }

    #[test]
    fn plane_values_equal_the_direct_loss_at_each_point() {
        let moons = Samples::moons(600, 0.2, 3).unwrap();
        for activation in [Activation::Tanh, Activation::Relu, Activation::Gelu] {
            // A second layer narrow enough for the fused kernels (9 wide), and one too wide (16).
            for widths in [[2, 12, 9, 2], [2, 8, 16, 3]] {
                let mlp = Mlp::new(&widths, activation, Head::CrossEntropy).unwrap();
                check_against_direct::<f64>(&mlp, &moons, 1e-12);
                check_against_direct::<f32>(&mlp, &moons, 2e-5);
            }
        }
        // One layer only (the plane is the whole network's first layer), and regression.
        let mlp = Mlp::new(&[2, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        check_against_direct::<f64>(&mlp, &moons, 1e-12);
        let values = Samples::new(
            "waves",
            moons.features().to_vec(),
            2,
            Targets::Values { values: moons.features().iter().map(|x| x.sin()).collect(), width: 2 },
        )
        .unwrap();
        let mlp = Mlp::new(&[2, 8, 2], Activation::Sigmoid, Head::Mse).unwrap();
        check_against_direct::<f64>(&mlp, &values, 1e-12);
        check_against_direct::<f32>(&mlp, &values, 2e-5);
    }

    #[test]
    fn plane_accuracy_matches_direct_in_f32() {
        let moons = Samples::moons(300, 0.2, 3).unwrap();
        let mlp = Mlp::new(&[2, 10, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f32>::new(&mlp, &moons).unwrap();
        let origin = mlp.init_params(1);
        let (d1, d2) = directions(&mlp, 3);
        let plane = PlaneEvaluator::new(&objective, &origin, &d1, &d2).unwrap();
        let at = plane.at(0.3, -0.2);
        let direct = objective.evaluate(&plane.point(0.3, -0.2)).unwrap();
        assert!((at.loss - direct.loss).abs() < 1e-5 * direct.loss);
    }

    #[test]
    fn a_linear_regression_plane_is_the_quadratic_worked_out_by_hand() {
        // One identity layer with mse is least squares: the residual at (u, v) is
        // r0 + u r1 + v r2 with r_k = X~ w_k (X~ = [X, 1]) minus y for k = 0 only, so the loss is the
        // quadratic mean((r0 + u r1 + v r2)^2), whose level sets are ellipses.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.1, 2.2, 3.8, 4.1, 4.9, 5.2];
        let data =
            Samples::new("seed", x.to_vec(), 1, Targets::Values { values: y.to_vec(), width: 1 }).unwrap();
        let mlp = Mlp::new(&[1, 1], Activation::Identity, Head::Mse).unwrap();
        let objective = NetObjective::<f64>::new(&mlp, &data).unwrap();
        let (w, d1, d2) = ([0.8, 1.5], [1.0, 0.0], [0.3, 1.0]);
        let plane = PlaneEvaluator::new(&objective, &w, &d1, &d2).unwrap();
        let (mut a, mut b, mut c, mut d, mut e, mut f) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (&xi, &yi) in x.iter().zip(&y) {
            let r0 = w[0] * xi + w[1] - yi;
            let r1 = d1[0] * xi + d1[1];
            let r2 = d2[0] * xi + d2[1];
            // (r0 + u r1 + v r2)^2 = r0^2 + 2 u r0 r1 + 2 v r0 r2 + u^2 r1^2 + 2 u v r1 r2 + v^2 r2^2.
            a += r1 * r1 / 6.0;
            b += 2.0 * r1 * r2 / 6.0;
            c += r2 * r2 / 6.0;
            d += 2.0 * r0 * r1 / 6.0;
            e += 2.0 * r0 * r2 / 6.0;
            f += r0 * r0 / 6.0;
        }
        // An ellipse: the quadratic form is positive definite.
        assert!(a > 0.0 && 4.0 * a * c - b * b > 0.0);
        let us = [-2.0, -0.5, 0.0, 1.0];
        let vs = [-1.0, 0.25, 2.0];
        let grid = plane.evaluate(&us, &vs);
        for (j, &v) in vs.iter().enumerate() {
            for (i, &u) in us.iter().enumerate() {
                let want = a * u * u + b * u * v + c * v * v + d * u + e * v + f;
                assert!((grid.loss[j * 4 + i] - want).abs() < 1e-12 * want.max(1.0));
            }
        }
    }

    #[test]
    fn f32_and_f64_planes_agree_to_float_precision() {
        // The case (A) in small: a tanh MLP on moons, 600 samples (not a multiple of the
        // 64-sample block), on a grid whose centre is the network itself.
        let data = Samples::moons(600, 0.1, 2).unwrap();
        let mlp = Mlp::new(&[2, 24, 24, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let origin = mlp.init_params(3);
        let (d1, d2) = directions(&mlp, 4);
        let axis: Vec<f64> = (0..9).map(|i| -1.0 + 0.25 * i as f64).collect();
        let o32 = NetObjective::<f32>::new(&mlp, &data).unwrap();
        let o64 = NetObjective::<f64>::new(&mlp, &data).unwrap();
        let p32 = PlaneEvaluator::new(&o32, &origin, &d1, &d2).unwrap().evaluate(&axis, &axis);
        let p64 = PlaneEvaluator::new(&o64, &origin, &d1, &d2).unwrap().evaluate(&axis, &axis);
        for (a, b) in p32.loss.iter().zip(&p64.loss) {
            assert!((a - b).abs() < 1e-5 * b, "f32 {a} vs f64 {b}");
        }
        let (a32, a64) = (p32.accuracy.unwrap(), p64.accuracy.unwrap());
        // An accuracy may differ by a sample whose two logits tie to within f32 rounding.
        for (a, b) in a32.iter().zip(&a64) {
            assert!((a - b).abs() <= 1.0 / 600.0, "accuracy f32 {a} vs f64 {b}");
        }
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn plane_values_are_identical_for_any_thread_count() {
        let data = Samples::moons(700, 0.2, 5).unwrap();
        let mlp = Mlp::new(&[2, 20, 20, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f32>::new(&mlp, &data).unwrap();
        let origin = mlp.init_params(1);
        let (d1, d2) = directions(&mlp, 2);
        let axis: Vec<f64> = (0..7).map(|i| -1.0 + i as f64 / 3.0).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                PlaneEvaluator::new(&objective, &origin, &d1, &d2).unwrap().evaluate(&axis, &axis[..3])
            })
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn evaluator_refuses_mismatched_vectors() {
        let mlp = Mlp::new(&[2, 3, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f32>::new(&mlp, &Samples::moons(10, 0.1, 0).unwrap()).unwrap();
        let w = mlp.init_params(0);
        let e = PlaneEvaluator::new(&objective, &w, &w[1..], &w).unwrap_err().to_string();
        assert!(e.contains("the first direction has 16 values"), "{e}");
        let mut bad = w.clone();
        bad[3] = f64::NAN;
        assert!(PlaneEvaluator::new(&objective, &w, &w, &bad).is_err());
    }
}
