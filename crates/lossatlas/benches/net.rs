//! Network planes: `cargo bench -p lossatlas --bench net`.
//!
//! The two targets, a 51 x 51 plane over the full data set each: (A) a 2-64-64-2 tanh MLP
//! on 1000 two-moons points, (B) a 784-256-10 relu MLP on 2000 random 784-dimensional points with
//! 10 classes (random labels, so B's weights are left at their initialisation). Directions are
//! filter-normalized. Each measurement is the whole plane: the three first-layer products and the
//! 2601 points. Results go in BENCHMARKS.md.
//!
//! The machine is shared, so before each criterion group the bench also prints the CPU time one
//! plane takes (user + system time of this process, from `/proc/self/stat`; median and least of
//! five planes),
//! which other users' load disturbs far less than the wall clock; halved, it is the wall time on
//! two free cores.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lossatlas::net::{
    train, Activation, BiasDirections, Directions, Head, Mlp, NetObjective, Normalization, PlaneEvaluator,
    Real, Samples, Targets, TrainOptions,
};
use lossatlas::OptimizerSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Weights trained for `epochs` full-batch Adam steps (the speed does not depend on them, but the
/// issue's case is a trained network), and two filter-normalized directions.
fn setup(mlp: &Mlp, data: &Samples, epochs: usize) -> (Vec<f64>, Directions) {
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
    let directions =
        Directions::random(mlp, &weights, 7, Normalization::Filter, BiasDirections::Zero, false).unwrap();
    (weights, directions)
}

fn plane<T: Real>(c: &mut Criterion, name: &str, mlp: &Mlp, data: &Samples, epochs: usize) {
    let objective = NetObjective::<T>::new(mlp, data).unwrap();
    let (origin, Directions { d1, d2 }) = setup(mlp, data, epochs);
    let axis: Vec<f64> = (0..51).map(|i| -1.0 + 2.0 * i as f64 / 50.0).collect();
    let evaluate = || PlaneEvaluator::new(&objective, &origin, &d1, &d2).unwrap().evaluate(&axis, &axis);
    // CPU time of single planes: the median and the least of five.
    let mut cpu: Vec<f64> = (0..5)
        .filter_map(|_| {
            let before = cpu_seconds()?;
            std::hint::black_box(evaluate());
            Some(cpu_seconds()? - before)
        })
        .collect();
    if cpu.len() == 5 {
        cpu.sort_by(f64::total_cmp);
        println!("{name}_{}: CPU time per plane, median {:.3} s, least {:.3} s", T::NAME, cpu[2], cpu[0]);
    }
    let mut group = c.benchmark_group("net_plane");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.bench_function(format!("{name}_{}", T::NAME), |b| b.iter(evaluate));
    group.finish();
}

/// User + system CPU seconds of this process so far (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and
    // 13th, in clock ticks of 1/100 s.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn moons(c: &mut Criterion) {
    let mlp = Mlp::new(&[2, 64, 64, 2], Activation::Tanh, Head::CrossEntropy).unwrap();
    let data = Samples::moons(1000, 0.1, 0).unwrap();
    plane::<f32>(c, "A_moons_2-64-64-2_tanh_1000", &mlp, &data, 300);
    plane::<f64>(c, "A_moons_2-64-64-2_tanh_1000", &mlp, &data, 300);
}

fn wide(c: &mut Criterion) {
    let mlp = Mlp::new(&[784, 256, 10], Activation::Relu, Head::CrossEntropy).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let features = (0..2000 * 784).map(|_| normal.sample(&mut rng)).collect();
    let labels = (0..2000).map(|i| (i % 10) as u32).collect();
    let data = Samples::new("random", features, 784, Targets::Classes { labels, n_classes: 10 }).unwrap();
    plane::<f32>(c, "B_random_784-256-10_relu_2000", &mlp, &data, 0);
}

criterion_group!(benches, moons, wide);
criterion_main!(benches);
