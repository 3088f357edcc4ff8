//! The seed's figure 5 done better: y = 1.2 x + 2.5 + N(0, 0.1^2) on 200 points of
//! linspace(-1, 1), the model a*x + b, several optimizers from the note's start points (and one
//! learning rate too large): the paths on a contour map, the fitted lines, the loss per step and
//! an animated GIF of the paths.
//!
//! Writes into `<target>/figures/` (never into the source tree):
//!
//! ```text
//! cargo run --release -p lossatlas-render --example figure5
//! ```
//!
//! Besides the pictures it writes three frames of the GIF as PNG (decoded back from the file), so
//! the animation can be checked without a GIF viewer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use lossatlas::{
    evaluate, Axis, Dataset, Formula, GridSpec, Loss, Objective, OptimizerSpec, Plane, RunOptions, Stopped,
    Trajectory, DEFAULT_GRID_BUDGET_BYTES,
};
use lossatlas_render::{
    frame_steps, paths_at, render, render_gif, ContourFigure, Figure, FitFigure, GifOptions, ImageFormat,
    LossCurveFigure, PathOverlay, PATH_COLORS,
};

type BoxError = Box<dyn std::error::Error>;

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
        let start = Instant::now();
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

/// One optimizer run and how it is named.
struct Run {
    label: String,
    color: plotters::style::RGBColor,
    trajectory: Trajectory,
}

fn main() -> Result<(), BoxError> {
    let data = Dataset::generate("figure5", |x| 1.2 * x + 2.5, 200, (-1.0, 1.0), 0.1, 0)?;
    let model = Formula::parse("a*x + b")?;
    let objective = Objective::new(data.clone(), Arc::new(model.clone()), Loss::Mse);
    let options = RunOptions { max_steps: 400, ..RunOptions::default() };

    let settings: [(&str, [f64; 2]); 7] = [
        ("gd:lr=0.1", [5.0, 4.0]),
        ("momentum:lr=0.1", [5.0, 4.0]),
        ("adam:lr=0.1", [5.0, 4.0]),
        ("gd:lr=0.1", [2.0, 4.5]),
        ("momentum:lr=0.1", [5.0, 1.0]),
        ("adam:lr=0.1", [5.0, 1.0]),
        ("gd:lr=1.5", [5.0, 4.0]),
    ];
    let mut runs = Vec::new();
    for (k, (spec, start)) in settings.iter().enumerate() {
        let spec = OptimizerSpec::parse(spec)?;
        let trajectory = lossatlas::run(&objective, &spec, start, &options)?;
        let mut label = format!("{} from ({}, {})", spec.label(), start[0], start[1]);
        if trajectory.stopped() == Stopped::Diverged {
            label.push_str(" (diverged)");
        }
        let last = trajectory.last();
        println!(
            "{label}: {} after {} steps, a = {:.4}, b = {:.4}, loss {:.5}",
            trajectory.stopped().name(),
            last.step,
            last.params[0],
            last.params[1],
            last.loss
        );
        runs.push(Run { label, color: PATH_COLORS[k % PATH_COLORS.len()], trajectory });
    }

    // The fitted lines after 400 steps (all runs that did not diverge agree) and after 8 (they
    // do not yet): each run's parameters at that step, or its last finite ones.
    let xs = lossatlas::linspace(-1.0, 1.0, 201);
    for (name, step) in [("figure5-fit", 400), ("figure5-fit-step8", 8)] {
        let mut fit = FitFigure::new(data.x(), data.y())
            .title(format!("y = 1.2 x + 2.5 + noise, fitted by a*x + b after {step} steps"));
        for run in &runs {
            let steps = run.trajectory.steps();
            let params = &steps[..=step.min(steps.len() - 1)]
                .iter()
                .rev()
                .find(|s| s.params.iter().all(|p| p.is_finite()))
                .expect("the start is finite")
                .params;
            let points = xs.iter().map(|&x| (x, model.eval_at(params, x))).collect();
            fit = fit.curve(&run.label, run.color, points);
        }
        write(&fit, name, FitFigure::DEFAULT_SIZE)?;
        write(&fit, &format!("{name}-small"), (480, 360))?;
    }

    let mut loss = LossCurveFigure::new().title("Loss per step, mse of a*x + b");
    for run in &runs {
        let losses = run.trajectory.steps().iter().map(|s| s.loss).collect();
        loss = loss.run(&run.label, run.color, losses, run.trajectory.stopped());
    }
    write(&loss, "figure5-loss", LossCurveFigure::DEFAULT_SIZE)?;
    write(&loss, "figure5-loss-small", (480, 360))?;

    // The contour map with all paths, and the animation of the first six.
    let plane = Plane::parameter_axes(objective.param_names())?;
    let grid = GridSpec::new(
        Axis::new("a", -2.0, 7.0, 200)?,
        Axis::new("b", -2.0, 7.0, 200)?,
        DEFAULT_GRID_BUDGET_BYTES,
    )?;
    let landscape = evaluate(&objective, &plane, &grid)?;
    let paths: Vec<PathOverlay> = runs
        .iter()
        .map(|run| PathOverlay {
            label: run.label.clone(),
            color: run.color,
            points: run.trajectory.steps().iter().map(|s| [s.params[0], s.params[1]]).collect(),
            losses: Some(run.trajectory.steps().iter().map(|s| s.loss).collect()),
        })
        .collect();
    let map = ContourFigure::new(&landscape, Vec::new())
        .filled(true)
        .title("Optimizer paths on the mse of a*x + b");
    write(&map.clone().paths(paths.clone()), "figure5-paths", ContourFigure::DEFAULT_SIZE)?;

    let animated = &paths[..6];
    let steps = frame_steps(400, 100);
    let gif_options = GifOptions::default();
    let start = Instant::now();
    let gif = render_gif(|step| map.clone().paths(paths_at(animated, step)), &steps, &gif_options)?;
    let elapsed = start.elapsed().as_secs_f64();
    let path = out_dir().join("figure5-paths.gif");
    std::fs::write(&path, &gif)?;
    println!(
        "{} ({} frames, {}x{}, {} kB, {:.2} s)",
        path.display(),
        steps.len(),
        gif_options.size.0,
        gif_options.size.1,
        gif.len() / 1024,
        elapsed
    );
    for k in [0, 20, 45, steps.len() - 1] {
        let png = out_dir().join(format!("figure5-paths-gif-frame{k}.png"));
        gif_frame(&gif, k)?.save(&png)?;
        println!("{} (frame {k}, step {})", png.display(), steps[k]);
    }
    Ok(())
}

/// Frame `k` of a GIF as it shows on screen (the frames before it composited, as GIF viewers do
/// for frames that keep what is under their transparent pixels).
fn gif_frame(gif: &[u8], k: usize) -> Result<image::RgbImage, BoxError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(gif)?;
    let (w, h) = (decoder.width() as u32, decoder.height() as u32);
    let mut canvas = image::RgbImage::new(w, h);
    let mut index = 0;
    while let Some(frame) = decoder.read_next_frame()? {
        for y in 0..frame.height as u32 {
            for x in 0..frame.width as u32 {
                let i = ((y * frame.width as u32 + x) * 4) as usize;
                let px = &frame.buffer[i..i + 4];
                if px[3] > 0 {
                    canvas.put_pixel(
                        x + frame.left as u32,
                        y + frame.top as u32,
                        image::Rgb([px[0], px[1], px[2]]),
                    );
                }
            }
        }
        if index == k {
            return Ok(canvas);
        }
        index += 1;
    }
    Err(format!("the GIF has only {index} frames").into())
}
