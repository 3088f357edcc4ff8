//! The seed note's 3D figures (3: y = k*x + b, 4: y = tanh(k*x + b); mse on the seed data,
//! k in [-2, 2], b in [-4, 4], 100 x 100) and a check of path hiding on two hills.
//!
//! Run with `cargo run -p lossatlas-render --example surface`; the pictures go to
//! `<target dir>/figures/` (never into the source tree).

use std::path::PathBuf;
use std::sync::Arc;

use lossatlas::{
    evaluate, linear, Activation, Axis, Dataset, GridSpec, Landscape, Loss, Objective, Plane,
    DEFAULT_GRID_BUDGET_BYTES,
};
use lossatlas_render::{render, ImageFormat, Marker, MarkerShape, PathOverlay, SurfaceFigure, PATH_COLORS};

const SIZE: (u32, u32) = (900, 700);

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("figures")
}

fn seed_landscape(activation: Activation) -> Result<Landscape, Box<dyn std::error::Error>> {
    let objective = Objective::new(Dataset::seed(), Arc::new(linear(activation)), Loss::Mse);
    let plane = Plane::parameter_axes(objective.param_names())?;
    let grid = GridSpec::new(
        Axis::new("k", -2.0, 2.0, 100)?,
        Axis::new("b", -4.0, 4.0, 100)?,
        DEFAULT_GRID_BUDGET_BYTES,
    )?;
    Ok(evaluate(&objective, &plane, &grid)?)
}

/// Two hills on a shallow bowl over [-2, 2] x [-2, 2].
fn hills(n: usize) -> Result<Landscape, Box<dyn std::error::Error>> {
    let f = |u: f64, v: f64| {
        3.0 * (-((u + 0.3).powi(2) + (v + 0.2).powi(2)) / 0.35).exp()
            + 2.0 * (-((u - 1.1).powi(2) + (v - 1.0).powi(2)) / 0.25).exp()
            + 0.12 * (u * u + v * v)
    };
    let grid = GridSpec::new(
        Axis::new("u", -2.0, 2.0, n)?,
        Axis::new("v", -2.0, 2.0, n)?,
        DEFAULT_GRID_BUDGET_BYTES,
    )?;
    let (us, vs) = (grid.u().values(), grid.v().values());
    let values = vs.iter().flat_map(|&v| us.iter().map(move |&u| f(u, v))).collect();
    let plane = Plane::parameter_axes(&["u".to_string(), "v".to_string()])?;
    Ok(Landscape::from_values(grid, plane, values)?)
}

fn write(name: &str, figure: &SurfaceFigure<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    for format in [ImageFormat::Png, ImageFormat::Svg] {
        let bytes = render(figure, format, SIZE)?;
        let path = dir.join(format!("{name}.{}", format.extension()));
        std::fs::write(&path, bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let linear_loss = seed_landscape(Activation::Identity)?;
    write(
        "fig3_surface_linear",
        &SurfaceFigure::new(&linear_loss).title("Loss surface of y = k*x + b (mse, seed data)"),
    )?;
    let tanh_loss = seed_landscape(Activation::Tanh)?;
    write(
        "fig4_surface_tanh",
        &SurfaceFigure::new(&tanh_loss).title("Loss surface of y = tanh(k*x + b) (mse, seed data)"),
    )?;
    write(
        "fig4_surface_tanh_view2",
        &SurfaceFigure::new(&tanh_loss)
            .title("y = tanh(k*x + b), seen from azimuth 35, elevation 40")
            .azimuth(35.0)
            .elevation(40.0),
    )?;

    let hills = hills(80)?;
    // Most of a ring around the big hill (its far half lies behind the hill) and a straight walk over
    // both hills from the near corner to the far one.
    let ring: Vec<[f64; 2]> = (0..=120)
        .map(|k| {
            // Nine tenths of a full turn, so the start and the end marks stay apart.
            let a = -1.2 + k as f64 / 120.0 * 0.9 * std::f64::consts::TAU;
            [-0.3 + 1.0 * a.cos(), -0.2 + 1.0 * a.sin()]
        })
        .collect();
    let walk: Vec<[f64; 2]> =
        (0..=60).map(|k| [1.8 - 3.4 * k as f64 / 60.0, -1.8 + 3.4 * k as f64 / 60.0]).collect();
    let paths = vec![
        PathOverlay {
            label: "ring around the big hill".into(),
            color: PATH_COLORS[0],
            points: ring,
            losses: None,
        },
        PathOverlay {
            label: "walk over the hills".into(),
            color: PATH_COLORS[5],
            points: walk,
            losses: None,
        },
    ];
    let markers = vec![Marker {
        at: [1.1, 1.0],
        label: "small hill".into(),
        shape: MarkerShape::Triangle,
        color: PATH_COLORS[6],
    }];
    write(
        "surface_hidden_paths",
        &SurfaceFigure::new(&hills)
            .title("Paths behind hills are hidden")
            .paths(paths.clone())
            .markers(markers.clone()),
    )?;
    write(
        "surface_hidden_paths_top",
        &SurfaceFigure::new(&hills)
            .title("The same paths from above")
            .paths(paths)
            .markers(markers)
            .elevation(90.0),
    )?;
    write(
        "fig3_surface_linear_clipped_log",
        &SurfaceFigure::new(&linear_loss)
            .title("y = k*x + b, clipped at loss 30, log colours")
            .z_clip(Some(30.0))
            .log_color(true),
    )?;
    Ok(())
}
