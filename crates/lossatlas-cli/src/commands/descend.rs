//! `lossatlas descend`: optimizers from start points, their paths on the contour map and the
//! surface, the fitted curves, the loss per step, an animation, and a table of where each run ended.

use std::path::PathBuf;

use anyhow::{bail, Result};
use lossatlas::export;
use lossatlas::{run as run_optimizer, Batch, OptimizerSpec, Plane, RunOptions, Stopped, Trajectory};
use lossatlas_render::{
    render, ContourFigure, FitFigure, ImageFormat, LossCurveFigure, PathOverlay, SurfaceFigure, PATH_COLORS,
};

use crate::args::DescendArgs;
use crate::output::write_atomic;
use crate::problem::Setup;
use crate::settings;

/// Where the extra figures go, checked before any work is done.
struct Outputs {
    contour: Vec<(PathBuf, ImageFormat)>,
    surface: Vec<(PathBuf, ImageFormat)>,
    fit: Vec<(PathBuf, ImageFormat)>,
    loss: Vec<(PathBuf, ImageFormat)>,
    gif: Option<PathBuf>,
    trajectories: Option<(PathBuf, bool)>,
}

fn outputs(args: &DescendArgs) -> Result<Outputs> {
    let gif = match &args.gif {
        Some(path) => {
            settings::output_with_extension(path, "gif", "--gif")?;
            Some(path.clone())
        }
        None => None,
    };
    let trajectories = match &args.export_trajectories {
        Some(path) => {
            settings::writable(path)?;
            match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("json") => Some((path.clone(), true)),
                Some("csv") => Some((path.clone(), false)),
                _ => bail!("--export-trajectories `{}`: use a name ending in .json or .csv", path.display()),
            }
        }
        None => None,
    };
    Ok(Outputs {
        contour: settings::outputs(&args.picture.outputs)?,
        surface: settings::outputs(&args.surface_outputs)?,
        fit: settings::outputs(&args.fit_outputs)?,
        loss: settings::outputs(&args.loss_outputs)?,
        gif,
        trajectories,
    })
}

/// A start point: one number per parameter, or (u, v) on the plane for a model with more than two
/// parameters (the start is then the plane's point there).
fn start(text: &str, names: &[String], plane: &Plane) -> Result<Vec<f64>> {
    let values = settings::numbers(text, "--start")?;
    match values.len() {
        n if n == names.len() => Ok(values),
        2 => Ok(plane.point(values[0], values[1])),
        _ => bail!(
            "--start `{text}` has {} coordinate(s); give (u, v) on the plane ({}) or one per parameter ({}), \
             e.g. --start 1,1",
            values.len(),
            plane.names().join(", "),
            names.join(", ")
        ),
    }
}

/// One optimizer run from one start.
struct Run {
    spec: OptimizerSpec,
    start: Vec<f64>,
    trajectory: Trajectory,
}

pub fn run(args: &DescendArgs) -> Result<()> {
    let outputs = outputs(args)?;
    let setup = Setup::new(&args.problem, &args.transform, &args.grid)?;
    // The landscape first: a shard's run of a store that others finish has nothing more to do.
    let default_title = super::default_title(&setup.problem, setup.transform, &setup.plane);
    let Some(landscape) = super::grid::formula_landscape(&args.store, &setup, &default_title)? else {
        return Ok(());
    };
    let Setup { problem, objective, plane, grid, .. } = setup;
    let names = objective.param_names().to_vec();
    if !outputs.fit.is_empty() && objective.data().inputs().len() != 1 {
        bail!(
            "--fit draws each run's curve over one input, but the data has the inputs {}; leave --fit out",
            objective.data().input_names().join(", ")
        );
    }
    let levels = settings::levels(&args.levels)?;
    let log_color = levels.log_color(args.picture.log_color);
    let size = settings::size(&args.picture, (800, 700))?;
    let specs = args.optimizers.iter().map(|s| Ok(OptimizerSpec::parse(s)?)).collect::<Result<Vec<_>>>()?;
    let starts = args.starts.iter().map(|s| start(s, &names, &plane)).collect::<Result<Vec<_>>>()?;
    if args.steps == 0 {
        bail!("--steps 0: take at least 1 step");
    }
    if args.steps > 1_000_000 {
        bail!("--steps {}: at most 1000000 steps per run", args.steps);
    }
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        bail!("--tolerance {} must be a finite number >= 0", args.tolerance);
    }
    let options = RunOptions {
        max_steps: args.steps,
        tolerance: args.tolerance,
        batch: args.batch_size.map(|size| Batch { size, seed: args.problem.seed }),
        ..RunOptions::default()
    };
    for s in &starts {
        let (u, v) = plane.project(s);
        if !(grid.u().contains(u) && grid.v().contains(v)) {
            eprintln!(
                "note: start ({}) lies outside the drawn range; its path is clipped at the border",
                s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
            );
        }
    }

    let mut runs = Vec::new();
    for spec in &specs {
        for s in &starts {
            let trajectory = run_optimizer(&objective, spec, s, &options)?;
            runs.push(Run { spec: spec.clone(), start: s.clone(), trajectory });
        }
    }
    print_table(&runs, &names, &plane)?;

    super::warn_non_finite(&landscape);
    super::require_finite(&landscape)?;
    let levels = levels.resolve(&landscape);
    let paths = overlays(&runs, &plane, specs.len() > 1, starts.len() > 1, args.steps);
    let title = args.picture.title.clone().unwrap_or(default_title);
    let x_label = args.picture.x_label.clone().unwrap_or_else(|| grid.u().name().to_string());
    let y_label = args.picture.y_label.clone().unwrap_or_else(|| grid.v().name().to_string());

    let contour = |paths: Vec<PathOverlay>| {
        ContourFigure::new(&landscape, levels.clone())
            .title(title.clone())
            .x_label(x_label.clone())
            .y_label(y_label.clone())
            .filled(args.levels.filled)
            .log_color_choice(log_color)
            .label_lines(!args.levels.no_labels)
            .paths(paths)
    };
    let figure = contour(paths.clone());
    for (path, format) in &outputs.contour {
        write(path, render(&figure, *format, size)?)?;
    }
    if !outputs.surface.is_empty() {
        let figure = SurfaceFigure::new(&landscape)
            .title(title.clone())
            .x_label(x_label.clone())
            .y_label(y_label.clone())
            .elevation(args.elevation)
            .azimuth(args.azimuth)
            .log_color(args.picture.log_color)
            .paths(paths.clone());
        figure.validate()?;
        for (path, format) in &outputs.surface {
            write(path, render(&figure, *format, (900, 700))?)?;
        }
    }
    if !outputs.fit.is_empty() {
        let data = objective.data();
        let mut figure =
            FitFigure::new(data.x(), data.y()).title(format!("data and fitted y = {}", problem.model.name()));
        let (lo, hi) =
            data.x().iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let xs = lossatlas::linspace(lo, hi, 300);
        for (run, path) in runs.iter().zip(&paths) {
            let mut ys = vec![0.0; xs.len()];
            problem.model.predict(&run.trajectory.last().params, &[&xs], &mut ys);
            figure = figure.curve(path.label.clone(), path.color, xs.iter().copied().zip(ys).collect());
        }
        for (path, format) in &outputs.fit {
            write(path, render(&figure, *format, (800, 600))?)?;
        }
    }
    if !outputs.loss.is_empty() {
        let mut figure = LossCurveFigure::new().title("loss per step");
        for (run, path) in runs.iter().zip(&paths) {
            let losses = run.trajectory.steps().iter().map(|s| s.loss).collect();
            figure = figure.run(path.label.clone(), path.color, losses, run.trajectory.stopped());
        }
        for (path, format) in &outputs.loss {
            write(path, render(&figure, *format, (800, 550))?)?;
        }
    }
    if let Some(path) = &outputs.gif {
        let longest = runs.iter().map(|r| r.trajectory.last().step).max().unwrap_or(0);
        let frames = lossatlas_render::frame_steps(longest, 100);
        let options = lossatlas_render::GifOptions { total_steps: Some(longest), ..Default::default() };
        let bytes = lossatlas_render::render_gif(
            |step| contour(lossatlas_render::paths_at(&paths, step)).plan_around(paths.clone()),
            &frames,
            &options,
        )?;
        write(path, bytes)?;
    }
    if let Some((path, json)) = &outputs.trajectories {
        let trajectories: Vec<Trajectory> = runs.iter().map(|r| r.trajectory.clone()).collect();
        // A two-parameter model drawn on its own plane is never off it; the plane columns are for
        // every other case.
        let drawn_on = (names.len() > 2 || plane.axis_indices().is_none()).then_some(&plane);
        let bytes = if *json {
            export::trajectories_json(&trajectories, drawn_on)
        } else {
            export::trajectories_csv(&trajectories, &names, drawn_on)
        };
        write(path, bytes)?;
    }
    Ok(())
}

fn write(path: &std::path::Path, bytes: Vec<u8>) -> Result<()> {
    write_atomic(path, &bytes)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Paths for the figures: one colour per optimizer when several are compared, else one per start.
fn overlays(
    runs: &[Run],
    plane: &Plane,
    by_optimizer: bool,
    name_start: bool,
    steps: usize,
) -> Vec<PathOverlay> {
    let mut optimizer_index: Vec<String> = Vec::new();
    runs.iter()
        .enumerate()
        .map(|(k, run)| {
            let label_spec = run.spec.label();
            let color_index = if by_optimizer {
                match optimizer_index.iter().position(|l| *l == label_spec) {
                    Some(i) => i,
                    None => {
                        optimizer_index.push(label_spec.clone());
                        optimizer_index.len() - 1
                    }
                }
            } else {
                k
            };
            let mut label = label_spec;
            if name_start {
                let start: Vec<String> = run.start.iter().map(|v| format!("{v}")).collect();
                label.push_str(&format!(" from ({})", start.join(", ")));
            }
            let t = &run.trajectory;
            match t.stopped() {
                Stopped::Diverged => label.push_str(&format!(" (diverged at step {})", t.last().step)),
                Stopped::Converged if t.last().step < steps => {
                    label.push_str(&format!(" (converged, step {})", t.last().step))
                }
                _ => {}
            }
            let finite: Vec<&lossatlas::Step> =
                t.steps().iter().take_while(|s| s.params.iter().all(|p| p.is_finite())).collect();
            PathOverlay {
                label,
                color: PATH_COLORS[color_index % PATH_COLORS.len()],
                points: finite
                    .iter()
                    .map(|s| {
                        let (u, v) = plane.project(&s.params);
                        [u, v]
                    })
                    .collect(),
                losses: Some(finite.iter().map(|s| s.loss).collect()),
            }
        })
        .collect()
}

/// Most parameters printed as columns of the table; beyond, the export has them.
const MAX_TABLE_PARAMS: usize = 6;

/// Prints where each run ended, one row per run, aligned; with more than two parameters, also how
/// far the run ended from the drawn plane (its path is drawn projected onto it).
fn print_table(runs: &[Run], names: &[String], plane: &Plane) -> Result<()> {
    let show_params = names.len() <= MAX_TABLE_PARAMS;
    let show_distance = names.len() > 2;
    let mut rows: Vec<Vec<String>> = vec![{
        let mut h =
            vec!["optimizer".to_string(), "start".to_string(), "steps".to_string(), "stopped".to_string()];
        if show_params {
            h.extend(names.iter().cloned());
        }
        h.push("loss".into());
        if show_distance {
            h.push("off plane".into());
        }
        h
    }];
    for run in runs {
        let last = run.trajectory.last();
        let start: Vec<f64> = if show_params {
            run.start.clone()
        } else {
            let (u, v) = plane.project(&run.start);
            vec![u, v]
        };
        let mut row = vec![
            run.spec.label(),
            format!("({})", start.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(", ")),
            last.step.to_string(),
            run.trajectory.stopped().name().to_string(),
        ];
        if show_params {
            row.extend(last.params.iter().map(|p| format_number(*p)));
        }
        row.push(format_number(last.loss));
        if show_distance {
            row.push(format_number(plane.distance(&last.params)));
        }
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        say!("{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.6e}")
    } else {
        format!("{v:.6}")
    }
}
