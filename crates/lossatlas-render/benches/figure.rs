//! Figure rendering, end to end from the model to PNG bytes: `cargo bench -p lossatlas-render --bench figure`.
//!
//! - `figure1`: the seed's linear neuron on a 200 x 200 grid, nine labelled levels, the minimum
//!   marked, 800 x 700 pixels (README's figure 1 command without the file write).
//! - `figure1_filled`: the same with filled bands and a colour bar.
//! - `surface`: figure 3, the same loss over k in [-2, 2], b in [-4, 4] on a 100 x 100 grid as a
//!   shaded 3D surface, 900 x 700 pixels.
//!
//! Each iteration evaluates the grid, draws at 2x, scales down and encodes the PNG.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use lossatlas::{evaluate, linear, Activation, Axis, Dataset, GridSpec, Landscape, Loss, Objective, Plane};
use lossatlas_render::{render, ContourFigure, ImageFormat, SurfaceFigure};

fn seed_landscape(k: (f64, f64), b: (f64, f64), n: usize) -> Landscape {
    let obj = Objective::new(Dataset::seed(), Arc::new(linear(Activation::Identity)), Loss::Mse);
    let plane = Plane::parameter_axes(obj.param_names()).unwrap();
    let grid = GridSpec::new(
        Axis::new("k", k.0, k.1, n).unwrap(),
        Axis::new("b", b.0, b.1, n).unwrap(),
        lossatlas::DEFAULT_GRID_BUDGET_BYTES,
    )
    .unwrap();
    evaluate(&obj, &plane, &grid).unwrap()
}

fn figure1(filled: bool) -> Vec<u8> {
    let landscape = seed_landscape((0.0, 2.0), (-2.0, 4.0), 200);
    let levels = vec![0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0];
    let figure = ContourFigure::new(&landscape, levels)
        .title("Loss Func Contour Line")
        .x_label("k")
        .y_label("b")
        .filled(filled);
    render(&figure, ImageFormat::Png, (800, 700)).unwrap()
}

fn surface() -> Vec<u8> {
    let landscape = seed_landscape((-2.0, 2.0), (-4.0, 4.0), 100);
    let figure = SurfaceFigure::new(&landscape).title("mse of y = k*x + b").x_label("k").y_label("b");
    render(&figure, ImageFormat::Png, (900, 700)).unwrap()
}

fn figures(c: &mut Criterion) {
    let mut group = c.benchmark_group("png");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("figure1", |b| b.iter(|| figure1(false)));
    group.bench_function("figure1_filled", |b| b.iter(|| figure1(true)));
    group.bench_function("surface", |b| b.iter(surface));
    group.finish();
}

criterion_group!(benches, figures);
criterion_main!(benches);
