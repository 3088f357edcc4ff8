//! Network curvature: `cargo bench -p lossatlas --bench hessian`.
//!
//! The two targets: the largest Hessian eigenvalue, to relative tolerance 1e-3, of (A) a
//! trained 2-64-64-2 tanh MLP on 1000 two-moons points (4,482 weights) and (B) a 784-256-10 relu
//! MLP on 2000 random 784-dimensional points with 10 classes (203,530 weights, at its
//! initialisation as in the plane benchmark). Each measurement is the whole computation from the
//! weights: the per-weights forward and backward pass, then Lanczos to convergence. One Hessian-
//! vector product is measured alone too. Results go in BENCHMARKS.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lossatlas::net::{
    train, Activation, Head, Mlp, NetHessian, NetObjective, Real, Samples, Targets, TrainOptions,
};
use lossatlas::spectrum::LanczosOptions;
use lossatlas::OptimizerSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const TOP: LanczosOptions = LanczosOptions { k: 1, tol: 1e-3, max_steps: 200, seed: 0 };

fn trained(mlp: &Mlp, data: &Samples, epochs: usize) -> Vec<f64> {
    let mut weights = mlp.init_params(1);
    if epochs > 0 {
        let options = TrainOptions {
            optimizer: OptimizerSpec::parse("adam:lr=0.01").unwrap(),
            epochs,
            batch_size: None,
            seed: 0,
            record_every: 1,
        };
        let objective = NetObjective::<f32>::new(mlp, data).unwrap();
        train(&objective, &mut weights, &options, None, None, |_| {}).unwrap();
    }
    weights
}

fn curvature<T: Real>(c: &mut Criterion, name: &str, mlp: &Mlp, data: &Samples, epochs: usize, seconds: u64) {
    let objective = NetObjective::<T>::new(mlp, data).unwrap();
    let weights = trained(mlp, data, epochs);
    let hessian = NetHessian::new(&objective, &weights).unwrap();
    let pairs = hessian.top_eigenpairs(&TOP).unwrap();
    eprintln!(
        "{name} {}: lambda_max {:.6} after {} Lanczos steps (converged: {})",
        T::NAME,
        pairs.values[0],
        pairs.steps,
        pairs.converged
    );
    let v = pairs.vectors[0].clone();
    let mut out = vec![0.0; v.len()];
    let mut group = c.benchmark_group("net_hessian");
    group.sample_size(10).measurement_time(Duration::from_secs(seconds));
    group.bench_function(format!("{name}_top_eigenvalue_{}", T::NAME), |b| {
        b.iter(|| NetHessian::new(&objective, &weights).unwrap().top_eigenpairs(&TOP).unwrap())
    });
    group.bench_function(format!("{name}_one_product_{}", T::NAME), |b| {
        b.iter(|| hessian.apply(&v, &mut out))
    });
    group.finish();
}

fn moons(c: &mut Criterion) {
    let mlp = Mlp::new(&[2, 64, 64, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
    let data = Samples::moons(1000, 0.1, 0).unwrap();
    curvature::<f32>(c, "A_moons_2-64-64-2_tanh_1000", &mlp, &data, 300, 5);
    curvature::<f64>(c, "A_moons_2-64-64-2_tanh_1000", &mlp, &data, 300, 5);
}

fn wide(c: &mut Criterion) {
    let mlp = Mlp::new(&[784, 256, 10], Activation::Relu, Head::CrossEntropy).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let features = (0..2000 * 784).map(|_| normal.sample(&mut rng)).collect();
    let labels = (0..2000).map(|i| (i % 10) as u32).collect();
    let data = Samples::new("random", features, 784, Targets::Classes { labels, n_classes: 10 }).unwrap();
    curvature::<f32>(c, "B_random_784-256-10_relu_2000", &mlp, &data, 0, 20);
}

criterion_group!(benches, moons, wide);
criterion_main!(benches);
