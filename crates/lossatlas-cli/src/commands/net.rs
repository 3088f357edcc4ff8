//! `lossatlas net`: train a multilayer perceptron, and draw its loss over a plane through its
//! trained weights along filter-normalized directions (Li et al. 2018), on the same figures and
//! exports as every other landscape.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lossatlas::export;
use lossatlas::net::{
    read_direction, read_weights, tensors_bytes, train, Activation, BiasDirections, Directions, Head, Mlp,
    NetObjective, Normalization, PlaneEvaluator, PlaneValues, Real, Samples, TensorType, TrainOptions,
};
use lossatlas::{Landscape, OptimizerSpec, Plane, PlaneKind};
use lossatlas_render::{render, ContourFigure, SurfaceFigure};

use crate::args::{NetCommand, NetDataArgs, NetPlaneArgs, NetTrainArgs};
use crate::output::write_atomic;
use crate::problem::{grid_over, ranges, resolution};
use crate::settings;

pub fn run(command: NetCommand) -> Result<()> {
    match command {
        NetCommand::Train(args) => train_command(&args),
        NetCommand::Plane(args) => plane_command(&args),
        NetCommand::Hessian(args) => super::net_hessian::run(&args),
    }
}

/// Most points of a synthetic data set (2 features each: 16 bytes a point).
const MAX_POINTS: usize = 10_000_000;

/// The training and test parts of the data the flags describe.
pub(super) fn samples(args: &NetDataArgs) -> Result<(Samples, Samples)> {
    if !(10..=MAX_POINTS).contains(&args.points) {
        bail!("--points {}: use 10 to {MAX_POINTS} points", args.points);
    }
    if !(args.test_fraction >= 0.0 && args.test_fraction < 1.0) {
        bail!("--test-fraction {} must be at least 0 and less than 1", args.test_fraction);
    }
    let (n, noise, seed) = (args.points, args.noise, args.data_seed);
    let all = match args.dataset.as_str() {
        "moons" => Samples::moons(n, noise, seed)?,
        "circles" => Samples::circles(n, noise, seed)?,
        "spirals" => Samples::spirals(n, args.classes, noise, seed)?,
        "blobs" => Samples::blobs(n, 2, args.classes, noise, seed)?,
        other => bail!("unknown --dataset `{other}`; use moons, circles, spirals or blobs"),
    };
    Ok(all.split(args.test_fraction, seed)?)
}

fn train_command(args: &NetTrainArgs) -> Result<()> {
    settings::output_with_extension(&args.output, "safetensors", "-o")?;
    let widths = args
        .layers
        .split(',')
        .map(|w| w.trim().parse::<usize>().ok().filter(|&w| w > 0))
        .collect::<Option<Vec<usize>>>()
        .with_context(|| format!("--layers `{}` should be widths like 2,64,64,2", args.layers))?;
    let activation = Activation::parse(&args.activation)?;
    let mlp = Mlp::new(&widths, activation, Head::CrossEntropy)?;
    let optimizer = OptimizerSpec::parse(&args.optimizer)?;
    if !(1..=100_000).contains(&args.epochs) {
        bail!("--epochs {}: use 1 to 100000", args.epochs);
    }
    let (train_set, test_set) = samples(&args.data)?;
    let options = TrainOptions {
        optimizer,
        epochs: args.epochs,
        batch_size: args.batch_size,
        seed: args.seed,
        record_every: 1,
    };
    let mut weights = mlp.init_params(args.seed);
    let report_every = (args.epochs / 10).max(1);
    let report = |r: &lossatlas::net::EpochReport| {
        if r.epoch % report_every == 0 || r.epoch == args.epochs {
            let test = r.test.map_or(String::new(), |t| {
                format!("   test loss {:.4} accuracy {:.3}", t.loss, t.accuracy.unwrap_or(f64::NAN))
            });
            eprintln!(
                "epoch {:>5}  steps {:>7}  loss {:.4}  accuracy {:.3}{test}",
                r.epoch,
                r.steps,
                r.train.loss,
                r.train.accuracy.unwrap_or(f64::NAN)
            );
        }
    };
    let last = if args.data.precision == "f64" {
        train_with::<f64>(&mlp, &train_set, &test_set, &mut weights, &options, report)?
    } else {
        train_with::<f32>(&mlp, &train_set, &test_set, &mut weights, &options, report)?
    };
    write_atomic(&args.output, &tensors_bytes(&mlp, &weights, TensorType::F32)?)?;
    say!(
        "trained {} on {} ({} points): loss {:.4}, accuracy {:.3}; wrote {}",
        mlp.describe(),
        train_set.name(),
        train_set.len(),
        last.train.loss,
        last.train.accuracy.unwrap_or(f64::NAN),
        args.output.display()
    )?;
    Ok(())
}

fn train_with<T: Real>(
    mlp: &Mlp,
    train_set: &Samples,
    test_set: &Samples,
    weights: &mut [f64],
    options: &TrainOptions,
    report: impl FnMut(&lossatlas::net::EpochReport),
) -> Result<lossatlas::net::EpochReport> {
    let objective = NetObjective::<T>::new(mlp, train_set)?;
    let test = if test_set.is_empty() { None } else { Some(NetObjective::<T>::new(mlp, test_set)?) };
    Ok(train(&objective, weights, options, test.as_ref(), None, report)?)
}

fn plane_command(args: &NetPlaneArgs) -> Result<()> {
    let outputs = settings::outputs(&args.outputs)?;
    let surfaces = settings::outputs(&args.surface_outputs)?;
    let landscape_format = settings::landscape_output(args.export_landscape.as_ref())?;
    let saved: Option<[PathBuf; 2]> = match &args.save_directions {
        Some(text) => {
            let parts: Vec<PathBuf> = text.split(',').map(|p| PathBuf::from(p.trim())).collect();
            let [a, b] = <[PathBuf; 2]>::try_from(parts).map_err(|_| {
                anyhow::anyhow!(
                    "--save-directions `{text}` should name two files, D1.safetensors,D2.safetensors"
                )
            })?;
            settings::output_with_extension(&a, "safetensors", "--save-directions")?;
            settings::output_with_extension(&b, "safetensors", "--save-directions")?;
            Some([a, b])
        }
        None => None,
    };
    if outputs.is_empty() && surfaces.is_empty() && landscape_format.is_none() {
        bail!("nothing to write: give -o FILE.png|.svg, --surface FILE or --export-landscape FILE");
    }
    let levels = settings::levels(&crate::args::LevelArgs {
        levels: args.levels.clone(),
        filled: true,
        no_labels: false,
    })?;
    let activation = Activation::parse(&args.activation)?;
    let loaded = read_weights(&args.weights, activation, Head::CrossEntropy)?;
    let (mlp, weights) = (loaded.mlp, loaded.params);
    let (train_set, _) = samples(&args.data)?;
    let mut hessian_plane = None;
    let (kind, d1, d2) = match &args.directions {
        Some(text) if text.trim() == "hessian" => {
            let (d1, d2, top) = super::net_hessian::hessian_directions(
                &mlp,
                &train_set,
                &weights,
                &args.data.precision,
                args.seed,
            )?;
            hessian_plane = Some(top);
            (PlaneKind::Given, d1, d2)
        }
        Some(text) => {
            let files: Vec<&str> = text.split(',').map(str::trim).collect();
            let [a, b] = files[..] else {
                bail!("--directions `{text}` should name two files, D1.safetensors,D2.safetensors");
            };
            (PlaneKind::Given, read_direction(Path::new(a), &mlp)?, read_direction(Path::new(b), &mlp)?)
        }
        None => {
            let normalization = Normalization::parse(&args.normalization)?;
            let bias = BiasDirections::parse(&args.bias)?;
            let d = Directions::random(&mlp, &weights, args.seed, normalization, bias, false)?;
            (PlaneKind::Normalized { seed: args.seed }, d.d1, d.d2)
        }
    };
    let plane =
        Plane::new(weights.clone(), d1.clone(), d2.clone(), ["direction 1".into(), "direction 2".into()])?
            .with_kind(kind);
    let grid_ranges = ranges(&args.ranges, &plane)?;
    let defaults = [grid_ranges[0].or(Some((-1.0, 1.0))), grid_ranges[1].or(Some((-1.0, 1.0)))];
    let grid = grid_over(defaults, resolution(&args.resolution)?, &plane)?;
    let (us, vs) = (grid.u().values(), grid.v().values());
    let values = if args.data.precision == "f64" {
        plane_values::<f64>(&mlp, &train_set, &weights, &d1, &d2, &us, &vs)?
    } else {
        plane_values::<f32>(&mlp, &train_set, &weights, &d1, &d2, &us, &vs)?
    };
    let centre = values.accuracy.as_ref().map(|a| a[vs.len() / 2 * us.len() + us.len() / 2]);
    let landscape = Landscape::from_values(grid, plane, values.loss)?;
    super::require_finite(&landscape)?;
    let levels = levels.resolve(&landscape);
    let how = match kind {
        _ if hessian_plane.is_some() => "plane of the top two Hessian eigenvectors".to_string(),
        PlaneKind::Normalized { seed } => {
            format!("{}-normalized random plane, seed {seed}", args.normalization)
        }
        _ => "plane of the direction files".to_string(),
    };
    let widths: Vec<String> = mlp.widths().iter().map(|w| w.to_string()).collect();
    let title = format!(
        "cross-entropy of a {} {} network on {} ({how})",
        widths.join("-"),
        mlp.activation().name(),
        args.data.dataset
    );
    let figure = ContourFigure::new(&landscape, levels.clone())
        .title(title.clone())
        .x_label("direction 1")
        .y_label("direction 2")
        .filled(true);
    for (path, format) in &outputs {
        write_atomic(path, &render(&figure, *format, (800, 700))?)?;
        eprintln!("wrote {}", path.display());
    }
    if !surfaces.is_empty() {
        let surface =
            SurfaceFigure::new(&landscape).title(title).x_label("direction 1").y_label("direction 2");
        surface.validate()?;
        for (path, format) in &surfaces {
            write_atomic(path, &render(&surface, *format, (900, 700))?)?;
            eprintln!("wrote {}", path.display());
        }
    }
    if let Some((path, format)) = landscape_format {
        write_atomic(path, &export::landscape(&landscape, format))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some([a, b]) = &saved {
        // In f64 whatever the weights' type, so that the plane recomputes exactly from the files.
        write_atomic(a, &tensors_bytes(&mlp, &d1, TensorType::F64)?)?;
        write_atomic(b, &tensors_bytes(&mlp, &d2, TensorType::F64)?)?;
        eprintln!("wrote {} and {}", a.display(), b.display());
    }
    let centre_loss = landscape.interpolate(0.0, 0.0);
    say!(
        "{}: loss at the trained weights {:.4}{}, lowest on the plane {:.4}",
        mlp.describe(),
        centre_loss,
        centre.map_or(String::new(), |a| format!(" (accuracy {a:.3})")),
        landscape.minimum().map_or(f64::NAN, |m| m.loss)
    )?;
    let [c1, c2] =
        super::net_hessian::curvature_along(&mlp, &train_set, &weights, &args.data.precision, [&d1, &d2])?;
    say!(
        "curvature v'Hv/v'v along direction 1 {c1:.6}, direction 2 {c2:.6}{}",
        hessian_plane.map_or(String::new(), |[a, b]| format!(" (Hessian eigenvalues {a:.6}, {b:.6})"))
    )?;
    Ok(())
}

fn plane_values<T: Real>(
    mlp: &Mlp,
    samples: &Samples,
    weights: &[f64],
    d1: &[f64],
    d2: &[f64],
    us: &[f64],
    vs: &[f64],
) -> Result<PlaneValues> {
    let objective = NetObjective::<T>::new(mlp, samples)?;
    let evaluator = PlaneEvaluator::new(&objective, weights, d1, d2)?;
    Ok(evaluator.evaluate(us, vs))
}
