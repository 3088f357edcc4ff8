//! An ONNX network's plane: `cargo bench -p lossatlas --features onnx --bench onnx`.
//!
//! The case: a 51 x 51 plane of the small CNN of the tests
//! (crates/lossatlas-cli/tests/fixtures/onnx/cnn.onnx: two 3 x 3 convolutions with batch norm,
//! pooling and a dense head, trained in PyTorch) on 1000 images of 1 x 8 x 8, along two
//! filter-normalized directions (biases and batch norm fixed, as Li et al.). Each measurement is
//! the whole plane: the graph rewritten and optimized once, then 2601 points of 1000 images. The
//! same plane in a plain PyTorch loop is bench/onnx_torch.py; both go in BENCHMARKS.md.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lossatlas::net::{
    BiasDirections, Directions, Head, Normalization, OnnxLoss, OnnxModel, OnnxObjective, Samples, Targets,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// 1000 images as the fixture's: a bright 2 x 2 blob on noise, its place the class.
fn images(n: usize) -> Samples {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let noise = Normal::new(0.0, 0.8).unwrap();
    let corners = [(1, 1), (1, 5), (5, 1), (5, 5), (3, 3)];
    let mut x = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let class = rng.gen_range(0..5u32);
        let (r, c) = corners[class as usize];
        let mut image: Vec<f64> = (0..64).map(|_| noise.sample(&mut rng)).collect();
        for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            image[(r + dr) * 8 + c + dc] += 1.0;
        }
        x.extend(image);
        labels.push(class);
    }
    Samples::new("images", x, 64, Targets::Classes { labels, n_classes: 5 })
        .and_then(|s| s.with_sample_shape(vec![1, 8, 8]))
        .unwrap()
}

fn cnn_plane(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lossatlas-cli/tests/fixtures/onnx/cnn.onnx");
    let model = OnnxModel::load(&path).unwrap();
    let data = images(1000);
    let objective = OnnxObjective::new(&model, &data, OnnxLoss::Head(Head::CrossEntropy)).unwrap();
    let weights = model.values().to_vec();
    let dirs =
        Directions::random(&model, &weights, 1, Normalization::Filter, BiasDirections::Zero, false).unwrap();
    let axis: Vec<f64> = (0..51).map(|i| -1.0 + 2.0 * i as f64 / 50.0).collect();
    let mut group = c.benchmark_group("onnx cnn");
    group.sample_size(10).measurement_time(Duration::from_secs(60)).warm_up_time(Duration::from_secs(5));
    group.bench_function("51x51 plane, 1000 images of 1x8x8", |b| {
        b.iter(|| objective.plane(&weights, &dirs.d1, &dirs.d2).unwrap().evaluate(&axis, &axis).unwrap())
    });
    let plane = objective.plane(&weights, &dirs.d1, &dirs.d2).unwrap();
    group.bench_function("one point (1000 images)", |b| b.iter(|| plane.at(0.3, -0.2).unwrap()));
    group.finish();
}

criterion_group!(benches, cnn_plane);
criterion_main!(benches);
