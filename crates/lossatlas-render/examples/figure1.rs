//! The seed's figures 1 and 2 as contour maps: plain lines, filled bands, two panels, and paths.
//!
//! Writes PNG and SVG files into `<target>/figures/` (never into the source tree):
//!
//! ```text
//! cargo run -p lossatlas-render --example figure1
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use lossatlas::analysis::SymmetricEigen;
use lossatlas::{
    evaluate, linear, run, Activation, Axis, Dataset, GridSpec, Landscape, Loss, Objective, OptimizerSpec,
    Plane, RunOptions, Transform, DEFAULT_GRID_BUDGET_BYTES,
};
use lossatlas_render::{
    render, Aspect, ContourFigure, Figure, ImageFormat, Layout, Marker, MarkerShape, Panels, PathOverlay,
    PATH_COLORS,
};

type BoxError = Box<dyn std::error::Error>;

fn landscape(objective: &Objective, k: (f64, f64), b: (f64, f64), n: usize) -> Result<Landscape, BoxError> {
    let plane = Plane::parameter_axes(objective.param_names())?;
    let grid =
        GridSpec::new(Axis::new("k", k.0, k.1, n)?, Axis::new("b", b.0, b.1, n)?, DEFAULT_GRID_BUDGET_BYTES)?;
    Ok(evaluate(objective, &plane, &grid)?)
}

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("figures")
}

fn write(figure: &impl Figure, name: &str, size: (u32, u32)) -> Result<(), BoxError> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    for format in [ImageFormat::Png, ImageFormat::Svg] {
        let start = std::time::Instant::now();
        let bytes = render(figure, format, size)?;
        let path = dir.join(format!("{name}.{}", format.extension()));
        std::fs::write(&path, &bytes)?;
        println!(
            "{} ({} kB, {:.0} ms)",
            path.display(),
            bytes.len() / 1024,
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}

fn condition(objective: &Objective) -> f64 {
    let h = objective.hessian(&[0.0, 0.0]);
    SymmetricEigen::new(&h, 2).and_then(|e| e.condition_number()).unwrap_or(f64::NAN)
}

fn main() -> Result<(), BoxError> {
    let seed = Dataset::seed();
    let objective = Objective::new(seed.clone(), Arc::new(linear(Activation::Identity)), Loss::Mse);
    let fig1 = landscape(&objective, (0.0, 2.0), (-2.0, 4.0), 200)?;
    let levels = vec![0.2, 0.5, 0.7, 1.0, 3.0, 8.0, 10.0, 15.0, 20.0];
    let size = ContourFigure::DEFAULT_SIZE;

    let lines = ContourFigure::new(&fig1, levels.clone()).title("Loss Func Contour Line");
    write(&lines, "figure1-lines", size)?;
    write(&lines.clone().filled(true), "figure1-filled", size)?;
    write(&lines, "figure1-lines-small", (480, 420))?;
    write(&lines.clone().filled(true), "figure1-filled-large", (1600, 1400))?;

    let both = Panels::new(
        vec![lines.clone().title("iso-loss lines"), lines.clone().filled(true).title("filled bands")],
        Layout::Row,
    )
    .title("Loss Func Contour Line");
    write(&both, "figure1-panels", both.default_size())?;

    // Paths: gradient descent from the note's start points, one diverging out of the frame.
    let mut paths = Vec::new();
    for (k, (spec, start)) in
        [("gd:lr=0.05", [0.2, 3.5]), ("momentum:lr=0.02", [1.8, -1.5]), ("gd:lr=0.104", [1.2, 3.0])]
            .iter()
            .enumerate()
    {
        let spec = OptimizerSpec::parse(spec)?;
        let options = RunOptions { max_steps: 60, ..RunOptions::default() };
        let t = run(&objective, &spec, start, &options)?;
        paths.push(PathOverlay {
            label: format!("{} from ({}, {})", spec.label(), start[0], start[1]),
            color: PATH_COLORS[k],
            points: t.steps().iter().map(|s| [s.params[0], s.params[1]]).collect(),
            losses: Some(t.steps().iter().map(|s| s.loss).collect()),
        });
    }
    let markers = vec![Marker {
        at: [1.5, -1.0],
        label: "a marked point".into(),
        shape: MarkerShape::Triangle,
        color: PATH_COLORS[3],
    }];
    write(
        &lines
            .clone()
            .filled(true)
            .paths(paths.clone())
            .markers(markers.clone())
            .title("Gradient descent on the seed loss"),
        "figure1-paths-filled",
        size,
    )?;
    write(
        &lines.clone().paths(paths).markers(markers).title("Gradient descent on the seed loss"),
        "figure1-paths",
        size,
    )?;

    // A model undefined for k < 0: the gap is grey and hatched, and counted in the legend.
    let sqrt_model = lossatlas::formula_with_params("sqrt(k)*x + b", Some(&["k", "b"]), 2)?;
    let sqrt_objective = Objective::new(seed.clone(), Arc::new(sqrt_model), Loss::Mse);
    let gap = landscape(&sqrt_objective, (-0.5, 1.5), (-2.0, 4.0), 200)?;
    let gap_figure = ContourFigure::new(&gap, levels.clone()).title("y = sqrt(k) x + b: no loss for k < 0");
    write(&gap_figure, "nan-lines", size)?;
    write(&gap_figure.clone().filled(true), "nan-filled", size)?;

    // Figure 2: raw x against standardized x, stacked, same levels.
    let levels2 = vec![0.2, 0.5, 0.7, 0.8, 1.0];
    let mut panels = Vec::new();
    let mut grids = Vec::new();
    for transform in [Transform::None, Transform::Zscore, Transform::MeanVar] {
        let data = transform.apply(&seed)?;
        let obj = Objective::new(data, Arc::new(linear(Activation::Identity)), Loss::Mse);
        grids.push((transform, condition(&obj), landscape(&obj, (0.0, 6.0), (-2.0, 8.0), 200)?));
    }
    for (transform, cond, grid) in &grids {
        panels.push(ContourFigure::new(grid, levels2.clone()).aspect(Aspect::Equal).title(format!(
            "x: {}  (Hessian condition number {:.3})",
            transform.name(),
            cond
        )));
    }
    let fig2 = Panels::new(panels[..2].to_vec(), Layout::Column);
    write(&fig2, "figure2-panels", fig2.default_size())?;
    let fig2f = Panels::new(panels.iter().map(|p| p.clone().filled(true)).collect(), Layout::Row)
        .title("Raw, z-scored and the note's mean-var x");
    write(&fig2f, "figure2-panels-filled", fig2f.default_size())?;
    Ok(())
}
