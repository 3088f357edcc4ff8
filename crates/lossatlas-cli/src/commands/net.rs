//! `lossatlas net`: train a multilayer perceptron, and draw its loss over a plane through its
//! trained weights along filter-normalized directions (Li et al. 2018), along a line, or in the
//! principal plane of its training path, on the same figures and exports as every other landscape.
//!
//! This file holds what the subcommands share: the data and its loss, the network read from its
//! weights file, the objective in the chosen precision, and random directions.

pub(crate) mod hessian;
mod line;
mod pca;
mod plane;
mod serve;
mod train;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lossatlas::net::{
    read_direction, read_weights, Activation, BiasDirections, Directions, EpochReport, Evaluation, Head,
    LoadedWeights, Mlp, NetObjective, Normalization, PathRecorder, PlaneEvaluator, PlaneValues, Real,
    Samples, TargetKind, Targets, TrainOptions,
};
use lossatlas::store::fingerprint;
use lossatlas::{Landscape, Plane, PlaneKind};

use super::grid::ChunkFn;
use crate::args::{NetCommand, NetDataArgs, NetDirectionArgs};
use crate::progress;
use crate::settings;
use crate::web::{self, LandscapeView, Mode, NetworkView, PathView};

pub fn run(command: NetCommand) -> Result<()> {
    match command {
        NetCommand::Train(args) => train::run(&args),
        NetCommand::Plane(args) => plane::run(&args),
        NetCommand::Hessian(args) => hessian::run(&args),
        NetCommand::Line(args) => line::run(&args),
        NetCommand::Pca(args) => pca::run(&args),
        NetCommand::Serve(args) => serve::run(&args),
    }
}

/// Grid points evaluated between two updates of a large plane's progress bar.
const PROGRESS_BLOCK_POINTS: usize = 65_536;

/// Most points of a synthetic data set (2 features each: 16 bytes a point).
const MAX_POINTS: usize = 10_000_000;

/// A network's data: the training part (what every landscape is computed on), the held-out test
/// part (possibly empty), and how titles name it.
struct NetData {
    train: Samples,
    test: Samples,
    name: String,
}

/// The head that scores the network, as `--loss` names it.
fn head(args: &NetDataArgs) -> Head {
    if args.loss == "mse" {
        Head::Mse
    } else {
        Head::CrossEntropy
    }
}

/// The data the flags describe, for a network with `outputs` outputs (the number of classes of a
/// CSV file's labels), split into training and test parts.
fn load_data(args: &NetDataArgs, outputs: usize) -> Result<NetData> {
    if !(args.test_fraction >= 0.0 && args.test_fraction < 1.0) {
        bail!("--test-fraction {} must be at least 0 and less than 1", args.test_fraction);
    }
    let (all, name) = match &args.data {
        Some(path) => {
            let kind = match head(args) {
                Head::CrossEntropy => TargetKind::Classes { n_classes: outputs },
                Head::Mse => TargetKind::Values,
            };
            let samples = Samples::load_csv(path, args.inputs.as_deref(), args.target.as_deref(), kind)?;
            let name = if path == Path::new("-") {
                "standard input".to_string()
            } else {
                path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into())
            };
            (samples, name)
        }
        None => {
            if !(10..=MAX_POINTS).contains(&args.points) {
                bail!("--points {}: use 10 to {MAX_POINTS} points", args.points);
            }
            let (n, noise, seed) = (args.points, args.noise, args.data_seed);
            let samples = match args.dataset.as_str() {
                "moons" => Samples::moons(n, noise, seed)?,
                "circles" => Samples::circles(n, noise, seed)?,
                "spirals" => Samples::spirals(n, args.classes, noise, seed)?,
                "blobs" => Samples::blobs(n, 2, args.classes, noise, seed)?,
                other => bail!(
                    "unknown --dataset `{other}`; use moons, circles, spirals or blobs, or --data FILE.csv"
                ),
            };
            (samples, args.dataset.clone())
        }
    };
    let (train, test) = if args.test_fraction > 0.0 {
        all.split(args.test_fraction, args.data_seed)?
    } else {
        let test = all.subset(format!("{} (test)", all.name()), &[]);
        (all, test)
    };
    Ok(NetData { train, test, name })
}

/// The network in a weights file, with the activation and loss the flags give.
fn load_network(path: &Path, activation: &str, data: &NetDataArgs) -> Result<LoadedWeights> {
    Ok(read_weights(path, Activation::parse(activation)?, head(data))?)
}

/// "cross-entropy of a 2-64-64-2 tanh network on moons": what a figure shows.
fn describe(mlp: &Mlp, data: &NetData) -> String {
    format!("{} of a {} network on {}", mlp.head().name(), widths(mlp), data.name)
}

/// "2-64-64-2 tanh".
fn widths(mlp: &Mlp) -> String {
    let widths: Vec<String> = mlp.widths().iter().map(|w| w.to_string()).collect();
    format!("{} {}", widths.join("-"), mlp.activation().name())
}

/// Two random directions through `weights`, scaled as the flags say (Li et al. 2018 by default).
fn random_directions(mlp: &Mlp, weights: &[f64], args: &NetDirectionArgs) -> Result<Directions> {
    let normalization = Normalization::parse(&args.normalization)?;
    let bias = BiasDirections::parse(&args.bias)?;
    Ok(Directions::random(mlp, weights, args.seed, normalization, bias, args.orthogonalize)?)
}

/// The plane through `weights` along two direction files (`D1,D2`) or random directions as
/// `random` says, and how the plane was chosen, for titles.
fn network_plane(
    mlp: &Mlp,
    weights: &[f64],
    files: Option<&str>,
    random: &NetDirectionArgs,
) -> Result<(Plane, String)> {
    let (kind, d1, d2, how) = match files {
        Some(text) => {
            let files: Vec<&str> = text.split(',').map(str::trim).collect();
            let [a, b] = files[..] else {
                bail!("--directions `{text}` should name two files, D1.safetensors,D2.safetensors");
            };
            let (d1, d2) = (read_direction(Path::new(a), mlp)?, read_direction(Path::new(b), mlp)?);
            (PlaneKind::Given, d1, d2, "plane of the direction files".to_string())
        }
        None => {
            let d = random_directions(mlp, weights, random)?;
            let orthogonal = if random.orthogonalize { ", orthogonalized" } else { "" };
            let how =
                format!("{}-normalized random plane, seed {}{orthogonal}", random.normalization, random.seed);
            (PlaneKind::Normalized { seed: random.seed }, d.d1, d.d2, how)
        }
    };
    let names = ["direction 1".to_string(), "direction 2".to_string()];
    Ok((Plane::new(weights.to_vec(), d1, d2, names)?.with_kind(kind), how))
}

/// What decides a network plane's numbers, for a store's definition: the network and its
/// weights, the data, the loss and the precision (the plane's vectors are added by the store).
fn network_definition(
    mlp: &Mlp,
    weights: &[f64],
    data: &NetData,
    args: &NetDataArgs,
) -> serde_json::Map<String, serde_json::Value> {
    let targets: Vec<f64> = match data.train.targets() {
        Targets::Classes { labels, .. } => labels.iter().map(|&l| f64::from(l)).collect(),
        Targets::Values { values, .. } => values.clone(),
    };
    let mut definition = serde_json::Map::new();
    definition.insert("command".into(), "net plane".into());
    definition.insert("network".into(), mlp.describe().into());
    definition.insert("weights".into(), fingerprint(weights).into());
    definition.insert("data".into(), format!("{} ({} points)", data.name, data.train.len()).into());
    definition.insert("features".into(), fingerprint(data.train.features()).into());
    definition.insert("targets".into(), fingerprint(&targets).into());
    definition.insert("precision".into(), args.precision.clone().into());
    definition
}

/// Two output files named by one flag, `A.safetensors,B.safetensors`.
fn two_safetensors(text: &str, flag: &str) -> Result<[PathBuf; 2]> {
    let parts: Vec<PathBuf> = text.split(',').map(|p| PathBuf::from(p.trim())).collect();
    let files = <[PathBuf; 2]>::try_from(parts).map_err(|_| {
        anyhow::anyhow!("{flag} `{text}` should name two files, D1.safetensors,D2.safetensors")
    })?;
    for file in &files {
        settings::output_with_extension(file, "safetensors", flag)?;
    }
    Ok(files)
}

/// The interactive page of a network's landscape and `paths` (as `lossatlas page` writes for
/// formulas): `plane` says how the plane was chosen, `centre` is the loss at its origin, and the
/// paths start at `start`.
#[allow(clippy::too_many_arguments)]
fn page_html(
    landscape: &Landscape,
    title: String,
    mlp: &Mlp,
    data: &NetData,
    plane: String,
    centre: Evaluation,
    paths: Vec<PathView>,
    start: Option<[f64; 2]>,
) -> Result<String> {
    let view = page_view(landscape, title, mlp, data, plane, centre, start);
    let page = web::page_data(
        Mode::Static,
        &[],
        serde_json::to_value(&view)?,
        serde_json::to_value(&paths)?,
        0.0,
        &[],
    );
    Ok(web::page(&page))
}

/// What the page draws of a network's landscape, with the network described in place of the
/// formula analysis.
fn page_view<'a>(
    landscape: &Landscape,
    title: String,
    mlp: &Mlp,
    data: &NetData,
    plane: String,
    centre: Evaluation,
    start: Option<[f64; 2]>,
) -> LandscapeView<'a> {
    let network = NetworkView {
        network: mlp.describe(),
        weights: mlp.n_params(),
        data: format!("{} ({} points)", data.name, data.train.len()),
        plane,
        loss: centre.loss,
        accuracy: centre.accuracy,
        lowest: landscape.minimum().map(|m| ([m.u, m.v], m.loss)),
    };
    let case_title = format!("{} network on {}", widths(mlp), data.name);
    LandscapeView::network(landscape, title, case_title, mlp.head().name().to_string(), network, start)
}

/// A network's loss on one data set, computed in the precision the user chose (`f32` as PyTorch,
/// or `f64`); the parameters are `f64` either way.
enum Objective {
    F32(NetObjective<f32>),
    F64(NetObjective<f64>),
}

impl Objective {
    fn new(mlp: &Mlp, samples: &Samples, precision: &str) -> Result<Objective> {
        Ok(if precision == "f64" {
            Objective::F64(NetObjective::new(mlp, samples)?)
        } else {
            Objective::F32(NetObjective::new(mlp, samples)?)
        })
    }

    /// The objective on the test part, or none when it is empty.
    fn for_test(mlp: &Mlp, data: &NetData, precision: &str) -> Result<Option<Objective>> {
        if data.test.is_empty() {
            Ok(None)
        } else {
            Ok(Some(Objective::new(mlp, &data.test, precision)?))
        }
    }

    /// Loss and accuracy at `params`.
    fn evaluate(&self, params: &[f64]) -> Result<Evaluation> {
        Ok(match self {
            Objective::F32(o) => o.evaluate(params)?,
            Objective::F64(o) => o.evaluate(params)?,
        })
    }

    /// Loss and accuracy at `params`, and the gradient of the loss into `grad`.
    fn gradient(&self, params: &[f64], grad: &mut [f64]) -> Result<Evaluation> {
        Ok(match self {
            Objective::F32(o) => o.gradient(params, grad)?,
            Objective::F64(o) => o.gradient(params, grad)?,
        })
    }

    /// Loss and accuracy over the grid `us` x `vs` of the plane origin + u d1 + v d2, the first
    /// layer's products paid once. A large grid goes in blocks of rows under a progress bar (each
    /// point's value is the same however the grid is cut).
    fn plane(&self, origin: &[f64], d1: &[f64], d2: &[f64], us: &[f64], vs: &[f64]) -> Result<PlaneValues> {
        fn values<T: Real>(
            o: &NetObjective<T>,
            origin: &[f64],
            d1: &[f64],
            d2: &[f64],
            us: &[f64],
            vs: &[f64],
        ) -> Result<PlaneValues> {
            let evaluator = PlaneEvaluator::new(o, origin, d1, d2)?;
            if us.len() * vs.len() <= PROGRESS_BLOCK_POINTS {
                return Ok(evaluator.evaluate(us, vs));
            }
            let rows = (PROGRESS_BLOCK_POINTS / us.len()).max(1);
            let bar = progress::bar(vs.len() as u64, "rows");
            let mut all = PlaneValues { nu: us.len(), nv: 0, loss: Vec::new(), accuracy: None };
            for block in vs.chunks(rows) {
                let part = evaluator.evaluate(us, block);
                all.nv += part.nv;
                all.loss.extend(part.loss);
                if let Some(accuracy) = part.accuracy {
                    all.accuracy.get_or_insert_with(Vec::new).extend(accuracy);
                }
                bar.inc(block.len() as u64);
            }
            Ok(all)
        }
        match self {
            Objective::F32(o) => values(o, origin, d1, d2, us, vs),
            Objective::F64(o) => values(o, origin, d1, d2, us, vs),
        }
    }

    /// The function computing a store chunk's rows of the grid `us` x `vs` on the plane
    /// origin + u d1 + v d2 (see [`super::grid::values`]): the first layer's products are paid
    /// here, once for all chunks, and a chunk then holds only its own rows.
    fn chunks<'s>(
        &'s self,
        origin: &[f64],
        d1: &[f64],
        d2: &[f64],
        us: &'s [f64],
        vs: &'s [f64],
    ) -> Result<ChunkFn<'s>> {
        fn make<'s, T: Real>(
            o: &'s NetObjective<T>,
            origin: &[f64],
            d1: &[f64],
            d2: &[f64],
            us: &'s [f64],
            vs: &'s [f64],
        ) -> Result<ChunkFn<'s>> {
            let evaluator = PlaneEvaluator::new(o, origin, d1, d2)?;
            Ok(Box::new(move |rows| Ok(evaluator.evaluate(us, &vs[rows]).loss)))
        }
        match self {
            Objective::F32(o) => make(o, origin, d1, d2, us, vs),
            Objective::F64(o) => make(o, origin, d1, d2, us, vs),
        }
    }

    /// Trains `params` in place (see [`lossatlas::net::train`]); `test` has the same precision.
    fn train(
        &self,
        params: &mut [f64],
        options: &TrainOptions,
        test: Option<&Objective>,
        recorder: Option<&mut PathRecorder>,
        report: impl FnMut(&EpochReport),
    ) -> Result<EpochReport> {
        Ok(match (self, test) {
            (Objective::F32(o), Some(Objective::F32(t))) => {
                lossatlas::net::train(o, params, options, Some(t), recorder, report)?
            }
            (Objective::F64(o), Some(Objective::F64(t))) => {
                lossatlas::net::train(o, params, options, Some(t), recorder, report)?
            }
            (Objective::F32(o), _) => lossatlas::net::train(o, params, options, None, recorder, report)?,
            (Objective::F64(o), _) => lossatlas::net::train(o, params, options, None, recorder, report)?,
        })
    }
}
