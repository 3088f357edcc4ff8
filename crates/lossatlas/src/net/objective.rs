//! A network on its data: the loss, the accuracy and the gradient with respect to the flat
//! parameters, computed in batches on the matrix-multiplication kernels.
//!
//! The samples are cut into fixed chunks of [`CHUNK`] rows; chunks run in parallel and their sums
//! are added in chunk order, so a result never depends on the number of threads.

use super::mlp::{Head, Mlp};
use super::real::{gemm, Real};
use super::samples::{Samples, Targets};
use crate::error::{Error, Result};

/// Rows per chunk: big enough for the matrix kernels to run at speed, small enough for a chunk's
/// activations to stay in the cache.
pub(crate) const CHUNK: usize = 256;

/// Chunks whose gradients are held at once before they are added up (bounds memory for big
/// networks on big data).
const WINDOW: usize = 32;

/// Loss and, for classes, accuracy at one parameter vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The mean loss (as the torch loss with its default mean reduction).
    pub loss: f64,
    /// The fraction of samples whose largest logit is their label; `None` for regression.
    pub accuracy: Option<f64>,
}

/// Targets in the compute type.
#[derive(Debug, Clone)]
pub(crate) enum TargetData<T> {
    Classes(Vec<u32>),
    Values(Vec<T>),
}

/// A view of the targets of some consecutive rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TargetRows<'a, T> {
    Classes(&'a [u32]),
    Values(&'a [T]),
}

impl<T> TargetData<T> {
    pub(crate) fn rows(&self, start: usize, end: usize, width: usize) -> TargetRows<'_, T> {
        match self {
            TargetData::Classes(l) => TargetRows::Classes(&l[start..end]),
            TargetData::Values(v) => TargetRows::Values(&v[start * width..end * width]),
        }
    }
}

/// A network and its data, converted once to the compute type `T` (`f32` as PyTorch by default,
/// `f64` for checks). Parameters come and go as `f64`.
#[derive(Debug, Clone)]
pub struct NetObjective<T: Real> {
    mlp: Mlp,
    n: usize,
    x: Vec<T>,
    targets: TargetData<T>,
}

impl<T: Real> NetObjective<T> {
    /// Pairs a network with data, checking that the input width, the kind of target (classes for
    /// cross-entropy, values for mse) and the output width agree.
    pub fn new(mlp: &Mlp, samples: &Samples) -> Result<NetObjective<T>> {
        if samples.n_features() != mlp.inputs() {
            return Err(Error::Invalid(format!(
                "data `{}` has {} feature(s) per sample but the network takes {} input(s); \
                 choose the feature columns or a network whose first layer has {} inputs",
                samples.name(),
                samples.n_features(),
                mlp.inputs(),
                samples.n_features()
            )));
        }
        let targets = match (samples.targets(), mlp.head()) {
            (Targets::Classes { labels, n_classes }, Head::CrossEntropy) => {
                if *n_classes > mlp.outputs() {
                    let top = labels.iter().max().copied().unwrap_or(0);
                    if top as usize >= mlp.outputs() {
                        return Err(Error::Invalid(format!(
                            "data `{}` has label {top}, out of range for a network with {} outputs; \
                             the last layer needs one output per class",
                            samples.name(),
                            mlp.outputs()
                        )));
                    }
                }
                TargetData::Classes(labels.clone())
            }
            (Targets::Values { values, width }, Head::Mse) => {
                if *width != mlp.outputs() {
                    return Err(Error::Invalid(format!(
                        "data `{}` has {width} target column(s) but the network has {} output(s); they must match",
                        samples.name(),
                        mlp.outputs()
                    )));
                }
                TargetData::Values(values.iter().map(|&v| T::from_f64(v)).collect())
            }
            (Targets::Classes { .. }, Head::Mse) => {
                return Err(Error::Invalid(format!(
                "data `{}` has class labels; score them with cross-entropy, or give numeric targets for mse",
                samples.name()
            )))
            }
            (Targets::Values { .. }, Head::CrossEntropy) => {
                return Err(Error::Invalid(format!(
                    "data `{}` has numeric targets; cross-entropy needs class labels (use mse)",
                    samples.name()
                )))
            }
        };
        Ok(NetObjective {
            mlp: mlp.clone(),
            n: samples.len(),
            x: samples.features().iter().map(|&v| T::from_f64(v)).collect(),
            targets,
        })
    }

    /// The network.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false (a data set has at least one row).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// True for class labels (cross-entropy), where there is an accuracy.
    pub fn is_classification(&self) -> bool {
        matches!(self.targets, TargetData::Classes(_))
    }

    pub(crate) fn x(&self) -> &[T] {
        &self.x
    }

    pub(crate) fn target_rows(&self, start: usize, end: usize) -> TargetRows<'_, T> {
        self.targets.rows(start, end, self.mlp.outputs())
    }

    /// Loss and accuracy over all samples at `params`.
    pub fn evaluate(&self, params: &[f64]) -> Result<Evaluation> {
        self.mlp.check_params("the weights", params)?;
        let p = to_real::<T>(params);
        let (sum, correct) = self.run(&p, &self.x, &self.targets, self.n, None);
        Ok(self.finish(sum, correct, self.n))
    }

    /// Loss, accuracy and the gradient of the loss (written to `grad`) over all samples.
    pub fn gradient(&self, params: &[f64], grad: &mut [f64]) -> Result<Evaluation> {
        self.mlp.check_params("the weights", params)?;
        self.mlp.check_params("the gradient buffer", grad)?;
        let p = to_real::<T>(params);
        let (sum, correct) = self.run(&p, &self.x, &self.targets, self.n, Some(grad));
        Ok(self.finish(sum, correct, self.n))
    }

    /// As [`NetObjective::gradient`], on the samples `rows` only (a mini-batch; the loss is the mean
    /// over the batch, as torch computes it on a batch).
    pub fn batch_gradient(&self, params: &[f64], rows: &[usize], grad: &mut [f64]) -> Result<Evaluation> {
        self.mlp.check_params("the weights", params)?;
        self.mlp.check_params("the gradient buffer", grad)?;
        if rows.is_empty() || rows.iter().any(|&r| r >= self.n) {
            return Err(Error::Invalid(format!("a mini-batch needs 1 or more rows below {}", self.n)));
        }
        let d = self.mlp.inputs();
        let x: Vec<T> = rows.iter().flat_map(|&r| self.x[r * d..(r + 1) * d].iter().copied()).collect();
        let targets = match &self.targets {
            TargetData::Classes(l) => TargetData::Classes(rows.iter().map(|&r| l[r]).collect()),
            TargetData::Values(v) => {
                let w = self.mlp.outputs();
                TargetData::Values(rows.iter().flat_map(|&r| v[r * w..(r + 1) * w].iter().copied()).collect())
            }
        };
        let p = to_real::<T>(params);
        let (sum, correct) = self.run(&p, &x, &targets, rows.len(), Some(grad));
        Ok(self.finish(sum, correct, rows.len()))
    }

    /// Mean loss and accuracy from a sum of per-sample losses and a count of correct samples.
    pub(crate) fn finish(&self, loss_sum: f64, correct: usize, n: usize) -> Evaluation {
        let divisor = match self.mlp.head() {
            Head::CrossEntropy => n,
            Head::Mse => n * self.mlp.outputs(),
        };
        Evaluation {
            loss: loss_sum / divisor as f64,
            accuracy: self.is_classification().then(|| correct as f64 / n as f64),
        }
    }

    /// Sums over all chunks of `x`: the loss, the correct count, and (into `grad`, when given) the
    /// gradient of the mean loss over the `n` rows.
    fn run(
        &self,
        p: &[T],
        x: &[T],
        targets: &TargetData<T>,
        n: usize,
        grad: Option<&mut [f64]>,
    ) -> (f64, usize) {
        let mlp = &self.mlp;
        let d = mlp.inputs();
        let n_chunks = n.div_ceil(CHUNK);
        let scale = T::from_f64(match mlp.head() {
            Head::CrossEntropy => 1.0 / n as f64,
            Head::Mse => 2.0 / (n * mlp.outputs()) as f64,
        });
        let want_grad = grad.is_some();
        let mut total = vec![0.0f64; if want_grad { mlp.n_params() } else { 0 }];
        let (mut sum, mut correct) = (0.0, 0);
        for window in (0..n_chunks).step_by(WINDOW) {
            let parts = super::map_ordered(window..(window + WINDOW).min(n_chunks), |c| {
                let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                let m = end - start;
                let mut buffers = Buffers::new(mlp, m);
                let rows = targets.rows(start, end, mlp.outputs());
                forward_first(mlp, p, &x[start * d..end * d], m, &mut buffers);
                forward_rest(mlp, p, 0, m, &mut buffers);
                let mut dlogits = want_grad.then(|| vec![T::default(); m * mlp.outputs()]);
                let (loss, ok) =
                    score(mlp.outputs(), buffers.logits(), m, rows, dlogits.as_deref_mut(), scale);
                let g = dlogits.map(|dl| {
                    let mut g = vec![T::default(); mlp.n_params()];
                    backward(mlp, p, &x[start * d..end * d], m, &mut buffers, dl, &mut g);
                    g
                });
                (loss, ok, g)
            });
            for (loss, ok, g) in parts {
                sum += loss;
                correct += ok;
                if let Some(g) = g {
                    for (t, v) in total.iter_mut().zip(&g) {
                        *t += v.to_f64();
                    }
                }
            }
        }
        if let Some(grad) = grad {
            grad.copy_from_slice(&total);
        }
        (sum, correct)
    }
}

/// Converts `f64` parameters to the compute type.
pub(crate) fn to_real<T: Real>(params: &[f64]) -> Vec<T> {
    params.iter().map(|&v| T::from_f64(v)).collect()
}

/// Per-chunk activations: `z[l]` the pre-activations of layer l (the logits for the last), `a[l]`
/// the activations f(z[l]) of the hidden layers.
#[derive(Debug)]
pub(crate) struct Buffers<T> {
    pub(crate) z: Vec<Vec<T>>,
    pub(crate) a: Vec<Vec<T>>,
}

impl<T: Real> Buffers<T> {
    pub(crate) fn new(mlp: &Mlp, m: usize) -> Buffers<T> {
        let layers = mlp.layers();
        Buffers {
            z: layers.iter().map(|l| vec![T::default(); m * l.outputs]).collect(),
            a: layers[..layers.len() - 1].iter().map(|l| vec![T::default(); m * l.outputs]).collect(),
        }
    }

    pub(crate) fn logits(&self) -> &[T] {
        self.z.last().expect("a network has a layer")
    }
}

/// z = input * W' + b for layer `l`, on m rows; `p` holds the parameters from index `offset` on.
fn dense<T: Real>(mlp: &Mlp, l: usize, p: &[T], offset: usize, input: &[T], m: usize, z: &mut [T]) {
    let layer = mlp.layers()[l];
    let bias = &p[layer.bias - offset..][..layer.outputs];
    for row in z.chunks_exact_mut(layer.outputs) {
        row.copy_from_slice(bias);
    }
    let weight = &p[layer.weight - offset..][..layer.inputs * layer.outputs];
    gemm(m, layer.inputs, layer.outputs, input, false, weight, true, T::one(), z);
}

/// The first layer's pre-activations from the inputs.
pub(crate) fn forward_first<T: Real>(mlp: &Mlp, p: &[T], x: &[T], m: usize, buffers: &mut Buffers<T>) {
    dense(mlp, 0, p, 0, x, m, &mut buffers.z[0]);
}

/// Everything after the first layer's pre-activations (which `buffers.z[0]` must hold): the
/// activations and the later layers up to the logits. Reads only the later layers' parameters,
/// which `p` holds from flat index `offset` on (so a plane can form just those per point).
pub(crate) fn forward_rest<T: Real>(mlp: &Mlp, p: &[T], offset: usize, m: usize, buffers: &mut Buffers<T>) {
    if mlp.layers().len() > 1 {
        mlp.activation().apply(&buffers.z[0], &mut buffers.a[0]);
    }
    forward_after_first(mlp, p, offset, m, buffers);
}

/// As [`forward_rest`], but from the first layer's activations (`buffers.a[0]`), for callers
/// that compute them directly.
pub(crate) fn forward_after_first<T: Real>(
    mlp: &Mlp,
    p: &[T],
    offset: usize,
    m: usize,
    buffers: &mut Buffers<T>,
) {
    for l in 1..mlp.layers().len() {
        if l > 1 {
            mlp.activation().apply(&buffers.z[l - 1], &mut buffers.a[l - 1]);
        }
        dense(mlp, l, p, offset, &buffers.a[l - 1], m, &mut buffers.z[l]);
    }
}

/// Sums the per-sample losses of m rows of `k` logits (in f64) and counts the correct ones; with
/// `dlogits`, writes d(mean loss)/d(logits), `scale` being d(mean)/d(sum) (times 2 for mse).
pub(crate) fn score<T: Real>(
    k: usize,
    logits: &[T],
    m: usize,
    targets: TargetRows<'_, T>,
    mut dlogits: Option<&mut [T]>,
    scale: T,
) -> (f64, usize) {
    let (mut sum, mut correct) = (0.0f64, 0usize);
    match targets {
        TargetRows::Classes(labels) => {
            for r in 0..m {
                let z = &logits[r * k..(r + 1) * k];
                let label = labels[r] as usize;
                // First largest logit, as torch.argmax.
                let mut best = 0;
                for j in 1..k {
                    if z[j] > z[best] {
                        best = j;
                    }
                }
                correct += usize::from(best == label);
                let top = z[best];
                let mut total = T::default();
                for &zj in z {
                    total += (zj - top).exp();
                }
                let lse = top + total.ln();
                sum += (lse - z[label]).to_f64();
                if let Some(d) = dlogits.as_deref_mut() {
                    let d = &mut d[r * k..(r + 1) * k];
                    for j in 0..k {
                        let softmax = (z[j] - lse).exp();
                        d[j] = scale * (softmax - if j == label { T::one() } else { T::default() });
                    }
                }
            }
        }
        TargetRows::Values(values) => {
            for (i, (&z, &y)) in logits[..m * k].iter().zip(&values[..m * k]).enumerate() {
                let e = z - y;
                sum += (e * e).to_f64();
                if let Some(d) = dlogits.as_deref_mut() {
                    d[i] = scale * e;
                }
            }
        }
    }
    (sum, correct)
}

/// Backpropagation through the chunk, given d(loss)/d(logits); adds the parameter gradient to `g`.
fn backward<T: Real>(
    mlp: &Mlp,
    p: &[T],
    x: &[T],
    m: usize,
    buffers: &mut Buffers<T>,
    dlogits: Vec<T>,
    g: &mut [T],
) {
    let mut delta = dlogits;
    for l in (0..mlp.layers().len()).rev() {
        let layer = mlp.layers()[l];
        let input: &[T] = if l == 0 { x } else { &buffers.a[l - 1] };
        // dW = delta' * input ([out, m] x [m, in]); db = column sums of delta.
        gemm(
            layer.outputs,
            m,
            layer.inputs,
            &delta,
            true,
            input,
            false,
            T::one(),
            &mut g[layer.weight_range()],
        );
        let db = &mut g[layer.bias_range()];
        for row in delta.chunks_exact(layer.outputs) {
            for (b, &v) in db.iter_mut().zip(row) {
                *b += v;
            }
        }
        if l > 0 {
            // d(input) = delta * W ([m, out] x [out, in]), then through the activation.
            let mut previous = vec![T::default(); m * layer.inputs];
            gemm(
                m,
                layer.outputs,
                layer.inputs,
                &delta,
                false,
                &p[layer.weight_range()],
                false,
                T::default(),
                &mut previous,
            );
            mlp.activation().backward(&buffers.z[l - 1], &buffers.a[l - 1], &mut previous);
            delta = previous;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::net::mlp::Activation;

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

    #[test]
    fn hand_computed_one_two_one_tanh_network() {
        // W1 = [[0.5], [-1]], b1 = [0.1, 0.2], W2 = [[1, 2]], b2 = [-0.3]; x = (1, -2), y = (0.5, 0).
        let mlp = Mlp::new(&[1, 2, 1], Activation::Tanh, Head::Mse).unwrap();
        let params = [0.5, -1.0, 0.1, 0.2, 1.0, 2.0, -0.3];
        let data =
            Samples::new("hand", vec![1.0, -2.0], 1, Targets::Values { values: vec![0.5, 0.0], width: 1 })
                .unwrap();
        let out1 = (0.5f64 + 0.1).tanh() + 2.0 * (-1.0f64 + 0.2).tanh() - 0.3;
        let out2 = (-1.0f64 + 0.1).tanh() + 2.0 * (2.0f64 + 0.2).tanh() - 0.3;
        let want = ((out1 - 0.5).powi(2) + out2.powi(2)) / 2.0;
        let got = NetObjective::<f64>::new(&mlp, &data).unwrap().evaluate(&params).unwrap();
        assert!((got.loss - want).abs() < 1e-14, "{} vs {want}", got.loss);
        assert_eq!(got.accuracy, None);
        // The same in f32, to float precision.
        let got32 = NetObjective::<f32>::new(&mlp, &data).unwrap().evaluate(&params).unwrap();
        assert!((got32.loss - want).abs() < 1e-6 * want);
    }

    #[test]
    fn hand_computed_softmax_cross_entropy_and_accuracy() {
        // A linear 2 -> 3 classifier: logits = W x + b.
        let mlp = Mlp::new(&[2, 3], Activation::Relu, Head::CrossEntropy).unwrap();
        let params = [1.0, 0.0, 0.0, 1.0, -1.0, -1.0, 0.0, 0.5, 0.0];
        let data = Samples::new(
            "hand",
            vec![2.0, 1.0, -1.0, 3.0],
            2,
            Targets::Classes { labels: vec![0, 2], n_classes: 3 },
        )
        .unwrap();
        // Sample 1: logits (2, 1.5, -3), label 0 (the largest: correct). Sample 2: (-1, 3.5, -2),
        // label 2 (wrong).
        let ce = |z: [f64; 3], y: usize| z.iter().map(|v| v.exp()).sum::<f64>().ln() - z[y];
        let want = (ce([2.0, 1.5, -3.0], 0) + ce([-1.0, 3.5, -2.0], 2)) / 2.0;
        let got = NetObjective::<f64>::new(&mlp, &data).unwrap().evaluate(&params).unwrap();
        assert!((got.loss - want).abs() < 1e-14);
        assert_eq!(got.accuracy, Some(0.5));
    }

    fn check_gradient(mlp: &Mlp, data: &Samples, seed: u64) {
        let objective = NetObjective::<f64>::new(mlp, data).unwrap();
        let params: Vec<f64> = random(mlp.n_params(), seed).iter().map(|v| 0.7 * v).collect();
        let mut grad = vec![0.0; mlp.n_params()];
        objective.gradient(&params, &mut grad).unwrap();
        let h = 1e-6;
        for k in 0..mlp.n_params() {
            let (mut plus, mut minus) = (params.clone(), params.clone());
            plus[k] += h;
            minus[k] -= h;
            let fd = (objective.evaluate(&plus).unwrap().loss - objective.evaluate(&minus).unwrap().loss)
                / (2.0 * h);
            assert!(
                (fd - grad[k]).abs() <= 1e-7 * (1.0 + fd.abs()),
                "{}: d/dp{k} finite difference {fd} vs backprop {}",
                mlp.describe(),
                grad[k]
            );
        }
    }

    #[test]
    fn gradient_matches_central_differences_for_every_activation_and_head() {
        for (i, activation) in
            [Activation::Relu, Activation::Tanh, Activation::Sigmoid, Activation::Gelu, Activation::Identity]
                .into_iter()
                .enumerate()
        {
            let seed = 10 + i as u64;
            let mlp = Mlp::new(&[3, 5, 4, 3], activation, Head::CrossEntropy).unwrap();
            check_gradient(&mlp, &class_data(37, 3, 3, seed), seed);
            let mlp = Mlp::new(&[3, 6, 2], activation, Head::Mse).unwrap();
            check_gradient(&mlp, &value_data(29, 3, 2, seed), seed);
        }
    }

    #[test]
    fn gradient_over_many_chunks_and_a_mini_batch() {
        // More rows than one chunk: the chunk sums must add up to the whole.
        let mlp = Mlp::new(&[2, 4, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let data = class_data(2 * CHUNK + 17, 2, 2, 3);
        check_gradient(&mlp, &data, 4);
        // A mini-batch gradient is the full gradient of the batch's own data set.
        let objective = NetObjective::<f64>::new(&mlp, &data).unwrap();
        let rows = [5, 300, 2, 511];
        let params = mlp.init_params(1);
        let mut g_batch = vec![0.0; mlp.n_params()];
        let e = objective.batch_gradient(&params, &rows, &mut g_batch).unwrap();
        let sub = NetObjective::<f64>::new(&mlp, &data.subset("batch", &rows)).unwrap();
        let mut g_sub = vec![0.0; mlp.n_params()];
        assert_eq!(sub.gradient(&params, &mut g_sub).unwrap(), e);
        assert_eq!(g_batch, g_sub);
    }

    #[test]
    fn f32_agrees_with_f64_to_float_precision() {
        let data = Samples::moons(1000, 0.1, 1).unwrap();
        let mlp = Mlp::new(&[2, 32, 32, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
        let params = mlp.init_params(5);
        let (o32, o64) =
            (NetObjective::<f32>::new(&mlp, &data).unwrap(), NetObjective::<f64>::new(&mlp, &data).unwrap());
        let (mut g32, mut g64) = (vec![0.0; mlp.n_params()], vec![0.0; mlp.n_params()]);
        let (e32, e64) = (o32.gradient(&params, &mut g32).unwrap(), o64.gradient(&params, &mut g64).unwrap());
        assert!((e32.loss - e64.loss).abs() < 1e-6 * e64.loss, "{} vs {}", e32.loss, e64.loss);
        let scale = g64.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (a, b) in g32.iter().zip(&g64) {
            assert!((a - b).abs() < 1e-5 * scale, "{a} vs {b}");
        }
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn results_are_identical_for_any_thread_count() {
        let data = class_data(3 * CHUNK + 5, 4, 3, 8);
        let mlp = Mlp::new(&[4, 16, 3], Activation::Gelu, Head::CrossEntropy).unwrap();
        let objective = NetObjective::<f32>::new(&mlp, &data).unwrap();
        let params = mlp.init_params(2);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut g = vec![0.0; mlp.n_params()];
                let e = objective.gradient(&params, &mut g).unwrap();
                (e, g)
            })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn mismatched_data_is_refused_with_the_fix() {
        let mlp = Mlp::new(&[3, 4, 2], Activation::Relu, Head::CrossEntropy).unwrap();
        let e = NetObjective::<f32>::new(&mlp, &class_data(5, 2, 2, 0)).unwrap_err().to_string();
        assert!(e.contains("2 feature(s) per sample but the network takes 3"), "{e}");
        let e = NetObjective::<f32>::new(&mlp, &class_data(9, 3, 3, 0)).unwrap_err().to_string();
        assert!(e.contains("label 2, out of range for a network with 2 outputs"), "{e}");
        assert!(NetObjective::<f32>::new(&mlp, &value_data(5, 3, 2, 0)).is_err());
        let o = NetObjective::<f32>::new(&mlp, &class_data(5, 3, 2, 0)).unwrap();
        assert!(o.evaluate(&[0.0; 3]).unwrap_err().to_string().contains("has 3 values"));
    }
}
