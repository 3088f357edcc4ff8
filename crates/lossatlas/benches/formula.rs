//! Formula evaluation throughput on one core: `cargo bench -p lossatlas --bench formula`.
//!
//! Each iteration evaluates a formula (value only, then with the Jacobian) over 10,000 samples at
//! one parameter point, so throughput is in sample-evaluations per second per core. The grid
//! evaluation parallelizes over rows, so the whole machine does about this times its core count.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lossatlas::Formula;

const SAMPLES: usize = 10_000;

/// The seed's formulas, with parameter values that keep every function in its usual range.
const FORMULAS: [(&str, [f64; 2]); 3] =
    [("k*x+b", [1.2, 0.5]), ("tanh(k*x+b)", [1.2, 0.5]), ("sin(b*cos(a*x))", [2.5, 1.2])];

fn xs() -> Vec<f64> {
    (0..SAMPLES).map(|i| -3.0 + 6.0 * i as f64 / (SAMPLES - 1) as f64).collect()
}

fn eval(c: &mut Criterion) {
    let xs = xs();
    let mut out = vec![0.0; SAMPLES];
    let mut group = c.benchmark_group("formula_eval");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    for (source, params) in FORMULAS {
        let formula = Formula::parse(source).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(source), &formula, |b, f| {
            b.iter(|| f.eval(black_box(&params), black_box(&xs), &mut out))
        });
    }
    group.finish();
}

fn jacobian(c: &mut Criterion) {
    let xs = xs();
    let (mut out, mut jac) = (vec![0.0; SAMPLES], vec![0.0; 2 * SAMPLES]);
    let mut group = c.benchmark_group("formula_jacobian");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    for (source, params) in FORMULAS {
        let formula = Formula::parse(source).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(source), &formula, |b, f| {
            b.iter(|| f.eval_jacobian(black_box(&params), black_box(&xs), &mut out, &mut jac))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = eval, jacobian
}
criterion_main!(benches);
