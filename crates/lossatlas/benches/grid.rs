//! Grid evaluation throughput: `cargo bench -p lossatlas --bench grid`.
//!
//! Throughput is reported in sample-evaluations (grid points x data samples) per second, except
//! for the closed form, whose cost does not depend on the data size: there it is grid points per
//! second. Results go in BENCHMARKS.md.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lossatlas::{
    evaluate, evaluate_into, linear, Activation, Axis, Dataset, Formula, GridSpec, Loss, Objective, Plane,
    DEFAULT_GRID_BUDGET_BYTES,
};

fn data(samples: usize) -> Dataset {
    if samples == 6 {
        Dataset::seed()
    } else {
        Dataset::generate("bench", |x| 1.2 * x + 2.5, samples, (-1.0, 1.0), 0.1, 0).unwrap()
    }
}

fn grid(n: usize, names: &[String]) -> GridSpec {
    GridSpec::new(
        Axis::new(names[0].clone(), -2.0, 7.0, n).unwrap(),
        Axis::new(names[1].clone(), -2.0, 7.0, n).unwrap(),
        DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap()
}

fn closed_form(c: &mut Criterion) {
    let mut group = c.benchmark_group("closed_form");
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for samples in [6, 10_000] {
        let objective = Objective::new(data(samples), Arc::new(linear(Activation::Identity)), Loss::Mse);
        assert!(objective.quadratic().is_some());
        let plane = Plane::parameter_axes(objective.param_names()).unwrap();
        for n in [200, 1000, 4000] {
            let grid = grid(n, objective.param_names());
            group.throughput(Throughput::Elements((n * n) as u64));
            group.bench_with_input(BenchmarkId::new(format!("{samples}_samples"), n * n), &grid, |b, g| {
                b.iter(|| evaluate(&objective, &plane, g).unwrap())
            });
            // The same into a reused buffer: what is left once the page faults of a fresh grid
            // are taken out.
            let mut values = Vec::new();
            group.bench_with_input(
                BenchmarkId::new(format!("{samples}_samples_reused"), n * n),
                &grid,
                |b, g| b.iter(|| evaluate_into(&objective, &plane, g, &mut values).unwrap()),
            );
        }
    }
    group.finish();
}

fn formulas(c: &mut Criterion) {
    let mut group = c.benchmark_group("formula");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    // (grid side, samples): 4000^2 x 10,000 samples would be 1.6e11 evaluations per iteration (minutes),
    // so the large grids are measured with the seed's 6 samples and the large data on 300^2 (the
    // grid of `bench/formula_numpy.py 300`, issue "Speed").
    let cases = [(200, 6), (1000, 6), (4000, 6), (300, 10_000)];
    for source in ["k*x + b", "tanh(k*x + b)", "sin(b*cos(a*x))", "a*x^3 + b*x^2"] {
        let formula = Formula::parse(source).unwrap();
        for (n, samples) in cases {
            let objective =
                Objective::new(data(samples), Arc::new(formula.clone()), Loss::Mse).without_closed_form();
            let plane = Plane::parameter_axes(objective.param_names()).unwrap();
            let grid = grid(n, objective.param_names());
            group.throughput(Throughput::Elements((n * n * samples) as u64));
            let id = BenchmarkId::new(format!("{source} {samples} samples"), n * n);
            group.bench_with_input(id, &grid, |b, g| b.iter(|| evaluate(&objective, &plane, g).unwrap()));
        }
    }
    group.finish();
}

criterion_group!(benches, closed_form, formulas);
criterion_main!(benches);
