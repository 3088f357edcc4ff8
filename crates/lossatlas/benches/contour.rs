//! Contouring throughput: `cargo bench -p lossatlas --bench contour`.
//!
//! Nine levels on 3000 x 3000 grids (issue "Speed", item 3): figure 1's landscape (the seed's
//! linear neuron, nine nested ellipses) and a wavy one with many closed and open lines. The grids
//! are made once; each iteration finds every line of every level. Throughput is in grid cells per
//! second (each cell is asked about all nine levels).

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lossatlas::{
    evaluate, isolines, linear, Activation, Axis, Dataset, GridSpec, Landscape, Loss, Objective, Plane,
    DEFAULT_GRID_BUDGET_BYTES,
};

const N: usize = 3000;

/// Figure 1's landscape and levels at N x N.
fn seed() -> (Landscape, Vec<f64>) {
    let obj = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
    let plane = Plane::parameter_axes(obj.param_names()).unwrap();
    let grid = GridSpec::new(
        Axis::new("k", 0.0, 2.0, N).unwrap(),
        Axis::new("b", -2.0, 4.0, N).unwrap(),
        DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    (evaluate(&obj, &plane, &grid).unwrap(), vec![0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0])
}

/// sin(3u) cos(2v) + 0.1 u v on [-4, 4]^2: dozens of loops and border-to-border lines per level.
fn wavy() -> (Landscape, Vec<f64>) {
    let grid = GridSpec::new(
        Axis::new("u", -4.0, 4.0, N).unwrap(),
        Axis::new("v", -4.0, 4.0, N).unwrap(),
        DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    let plane = Plane::parameter_axes(&["u".into(), "v".into()]).unwrap();
    let (us, vs) = (grid.u().values(), grid.v().values());
    let values: Vec<f64> = vs
        .iter()
        .flat_map(|&v| us.iter().map(move |&u| (3.0 * u).sin() * (2.0 * v).cos() + 0.1 * u * v))
        .collect();
    let landscape = Landscape::from_values(grid, plane, values).unwrap();
    (landscape, (1..=9).map(|k| -1.0 + 0.2 * k as f64).collect())
}

fn contour(c: &mut Criterion) {
    let mut group = c.benchmark_group("isolines_3000x3000_9_levels");
    group.sample_size(10).measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(((N - 1) * (N - 1)) as u64));
    for (name, (landscape, levels)) in [("figure1", seed()), ("wavy", wavy())] {
        group.bench_with_input(BenchmarkId::from_parameter(name), &landscape, |b, l| {
            b.iter(|| isolines(l, &levels))
        });
    }
    group.finish();
}

criterion_group!(benches, contour);
criterion_main!(benches);
